// A stand-in for a JENNIFER Node.js agent, for jbuild's end-to-end tests:
// loaded with NODE_OPTIONS=--require, it reads the ARIES_* variables and
// connects to the data server. The socket is unref'd so it never keeps a
// short-lived node process alive.
'use strict';
const net = require('net');
const addr = process.env.ARIES_SERVER_ADDRESS || '';
const port = parseInt(process.env.ARIES_SERVER_PORT || '5000', 10);
const domain = process.env.ARIES_DOMAIN_ID || '1000';
process.stderr.write(`jbuild-test-agent: server ${addr}:${port} domain ${domain}\n`);
const s = net.connect({ host: addr, port: port }, () => {
  s.end(`JENNIFER domain_id=${domain} agent=nodejs\n`);
  process.stderr.write(`jbuild-test-agent: connected to ${addr}:${port}\n`);
});
s.on('error', (e) => process.stderr.write(`jbuild-test-agent: cannot connect to ${addr}:${port}: ${e}\n`));
s.unref();
