"""A loopback HTTP server for collector tests: counts requests per path and hands each GET to ``route``."""

from __future__ import annotations

import http.server
import threading
from collections import Counter


class LoopbackServer:
    """Serves on 127.0.0.1 (``base``) from a daemon thread; subclasses answer in ``route(handler, path)``
    with ``send``. ``hits[path]`` counts requests (the query string dropped). Set a subclass's own state
    before calling ``super().__init__``: requests may arrive as soon as it returns."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.hits = files, Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                server.hits[path] += 1
                server.route(self, path)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, h, path: str):
        raise NotImplementedError

    @staticmethod
    def send(h, status: int, body: bytes, headers=None):
        try:
            h.send_response(status)
            for k, v in {"Content-Length": str(len(body)), **(headers or {})}.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
