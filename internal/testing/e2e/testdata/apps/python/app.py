# The Python sample app of jbuild's end-to-end tests.
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'ok\n')


port = int(os.environ.get('APP_PORT', '8080'))
srv = http.server.HTTPServer(('127.0.0.1', port), Handler)
sys.stderr.write('app: listening on 127.0.0.1:%d\n' % port)
sys.stderr.flush()
srv.serve_forever()
