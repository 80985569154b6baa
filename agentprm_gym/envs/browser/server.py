"""An in-process HTTP server on 127.0.0.1 (free port) that serves the browser envs' pages.

Routes are prefixes mapped to handlers: a directory (static files, path
traversal refused) or a callable ``(path, query) -> (status, content_type, body)``
for generated pages. The server runs in a daemon thread and is shared by every
env in the process (one per process, started on first use).
"""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["LocalServer", "PageHandler", "shared_server"]

#: A generated-page handler: (path below the prefix, query dict) -> (status, type, body).
PageHandler = Callable[[str, dict[str, list[str]]], tuple[int, str, bytes]]


class LocalServer:
    """A threaded HTTP server bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self._routes: dict[str, str | PageHandler] = {}
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes; with Nagle's algorithm on, the
            # body would wait for the client's delayed ACK (about 40 ms a response).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                status, ctype, body = server.handle(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=3600")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def mount(self, prefix: str, target: str | PageHandler) -> None:
        """Serve ``prefix`` (e.g. ``/miniwob/``) from a directory or a page handler."""
        if not prefix.startswith("/") or not prefix.endswith("/"):
            raise ValueError("prefix must start and end with '/'")
        with self._lock:
            self._routes[prefix] = target

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.origin + path

    def handle(self, raw_path: str) -> tuple[int, str, bytes]:
        """Answer one GET (also callable directly, without HTTP, by the static backend)."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        with self._lock:
            routes = sorted(self._routes.items(), key=lambda kv: -len(kv[0]))
        for prefix, target in routes:
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if callable(target):
                return target(rest, parse_qs(parts.query, keep_blank_values=True))
            return _static(target, rest)
        return 404, "text/plain; charset=utf-8", b"not found"

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()


def _static(root: str, rest: str) -> tuple[int, str, bytes]:
    full = os.path.realpath(os.path.join(root, rest))
    if not full.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(full):
        return 404, "text/plain; charset=utf-8", b"not found"
    ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith("javascript"):
        ctype += "; charset=utf-8"
    with open(full, "rb") as f:
        return 200, ctype, f.read()


_SHARED: LocalServer | None = None
_SHARED_LOCK = threading.Lock()


def shared_server() -> LocalServer:
    """The process-wide server (started on first call)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = LocalServer()
        return _SHARED
