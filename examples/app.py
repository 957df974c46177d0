# A tiny HTTP app in Python to run under usher (examples/Dockerfile.python): `usher -- python3 app.py`.
# SIGTERM (usher's stop signal after the drain) stops it cleanly: exit 0.
import http.server
import os
import signal
import sys
import threading

port = int(os.environ.get("PORT", "8080"))
host = os.environ.get("HOST", "0.0.0.0")


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from pid {os.getpid()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer((host, port), Hello)


def stop(signum, frame):
    print(f"[app.py] {signal.Signals(signum).name} received: stopping", file=sys.stderr, flush=True)
    # shutdown() waits for serve_forever() to return: call it from another thread.
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGHUP, lambda signum, frame: print("[app.py] SIGHUP received", file=sys.stderr, flush=True))
print(f"[app.py] listening on {host}:{port}", file=sys.stderr, flush=True)
server.serve_forever()
server.server_close()
print("[app.py] stopped, exiting 0", file=sys.stderr, flush=True)
