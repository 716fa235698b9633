// The Node.js sample of jbuild: a tiny HTTP app on $PORT (default 8080) that
// answers 200 on / (with $APP_GREETING) and on /health. Nothing in it knows
// about the agent: jbuild adds it to the image (NODE_OPTIONS=--require).
'use strict';
const http = require('http');

const port = parseInt(process.env.PORT || '8080', 10);
const greeting = process.env.APP_GREETING || 'Hello from the jbuild Node.js sample';

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  const [status, body] = path === '/' ? [200, greeting] : path === '/health' ? [200, 'ok'] : [404, 'not found'];
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body + '\n');
});
server.listen(port, () => console.log(`nodejs-sample: listening on :${port}`));

// As PID 1 of a container, node has no default SIGTERM handler: stop
// cleanly when Kubernetes asks.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
