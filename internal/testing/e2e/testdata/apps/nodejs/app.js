// The Node.js sample app of jbuild's end-to-end tests.
'use strict';
const http = require('http');
const port = parseInt(process.env.APP_PORT || '8080', 10);
// The V8 heap limit in MiB: a --max-old-space-size in the image's own
// NODE_OPTIONS shows in it.
const heapMB = Math.round(require('v8').getHeapStatistics().heap_size_limit / 1048576);
http.createServer((req, res) => { res.writeHead(200); res.end(`ok heapMB=${heapMB}\n`); })
  .listen(port, '127.0.0.1', () => process.stderr.write(`app: listening on 127.0.0.1:${port}\n`));
