"""The Python sample of jbuild: a tiny HTTP app on $PORT (default 8080) that
answers 200 on / (with $APP_GREETING) and on /health. Nothing in it knows
about the agent: jbuild adds it to the image (PYTHONPATH sitecustomize)."""
import http.server
import os
import signal
import sys

PORT = int(os.environ.get("PORT", "8080"))
GREETING = os.environ.get("APP_GREETING", "Hello from the jbuild Python sample")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        status, body = {"/": (200, GREETING), "/health": (200, "ok")}.get(path, (404, "not found"))
        data = (body + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass  # no access log


def main():
    # As PID 1 of a container, Python keeps the default SIGTERM disposition,
    # which the kernel ignores for PID 1: stop cleanly when Kubernetes asks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = http.server.ThreadingHTTPServer(("", PORT), Handler)
    print("python-sample: listening on :%d" % PORT, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
