// The Node.js sample app of jbuild's end-to-end tests.
'use strict';
const http = require('http');
const port = parseInt(process.env.APP_PORT || '8080', 10);
http.createServer((req, res) => { res.writeHead(200); res.end('ok\n'); })
  .listen(port, '127.0.0.1', () => process.stderr.write(`app: listening on 127.0.0.1:${port}\n`));
