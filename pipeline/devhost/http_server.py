"""The HTTP side of the local host: http.server requests in, `func.HttpRequest` to the matched
function, its `func.HttpResponse` back out.

Routing is the app's own (see routing.py). Like the Functions host, the local host answers 404
for a path no function serves and refuses a body over the size limit before reading it; unlike
it, an unmatched method on a served path gets 405 with `Allow`. Whatever a function raises
becomes a 500 in the API's error shape, without a stack trace (it is logged here).
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from pipeline.devhost.functions import HttpFunction

log = logging.getLogger("pipeline.devhost.http")


def error_body(code: str, message: str, details: list | None = None) -> bytes:
    return json.dumps({"error": code, "message": message, "details": details or []}).encode("utf-8")


class Router:
    def __init__(self, functions: list[HttpFunction], route_prefix: str):
        self.functions = functions  # already sorted by precedence
        self.prefix = route_prefix.strip("/")

    def strip_prefix(self, path: str) -> str | None:
        path = path.strip("/")
        if not self.prefix:
            return path
        if path == self.prefix:
            return ""
        if path.startswith(self.prefix + "/"):
            return path[len(self.prefix) + 1:]
        return None

    def resolve(self, method: str, path: str) -> tuple[HttpFunction | None, dict[str, str], list[str]]:
        """(function, route params, allowed methods when the path matched but the method did not)."""
        inner = self.strip_prefix(path)
        allowed: list[str] = []
        if inner is None:
            return None, {}, allowed
        for fn in self.functions:
            params = fn.template.match(inner)
            if params is None:
                continue
            if method in fn.methods:
                return fn, params, []
            allowed.extend(m for m in fn.methods if m not in allowed)
        return None, {}, allowed


def make_handler(router: Router, max_body_bytes: Callable[[], int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "PowerFillDevHost/1"

        def log_message(self, fmt: str, *args) -> None:  # route access logs through logging
            log.debug("%s " + fmt, self.address_string(), *args)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            lowered = {k.lower() for k in headers}
            for k, v in headers.items():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            if "content-type" not in lowered and body:
                self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, extra: dict[str, str] | None = None) -> None:
            self._send(status, error_body(code, message), {"Content-Type": "application/json", **(extra or {})})

        def _handle(self) -> None:
            method = self.command.upper()
            split = urlsplit(self.path)
            fn, route_params, allowed = router.resolve(method, split.path)
            if fn is None:
                # Drain a small body so the connection stays usable; close it otherwise.
                self._discard_body()
                if allowed:
                    self._error(405, "method_not_allowed", f"{method} is not allowed here", {"Allow": ", ".join(allowed)})
                else:
                    self._error(404, "not_found", "no such route")
                return
            length = self.headers.get("Content-Length")
            try:
                size = int(length) if length else 0
            except ValueError:
                self.close_connection = True
                self._error(400, "bad_request", "invalid Content-Length")
                return
            if size > max_body_bytes():
                self.close_connection = True
                self._error(413, "payload_too_large", f"request body over {max_body_bytes()} bytes")
                return
            body = self.rfile.read(size) if size else b""
            headers = {k: v for k, v in self.headers.items()}
            url = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
            req = func.HttpRequest(
                method, url, headers=headers, params=dict(parse_qsl(split.query, keep_blank_values=True)),
                route_params=route_params, body=body,
            )
            try:
                resp = fn.invoke(req)
            except Exception:  # noqa: BLE001 - the host boundary: log, answer 500 without details
                log.exception("function %s raised", fn.name)
                self._error(500, "internal_error", "the function failed; see the host log")
                return
            if resp is None:
                self._send(204, b"", {})
                return
            if not isinstance(resp, func.HttpResponse):
                self._error(500, "internal_error", f"function {fn.name} returned {type(resp).__name__}")
                return
            out_headers = dict(resp.headers.items())
            if not any(k.lower() == "content-type" for k in out_headers) and resp.mimetype:
                ctype = resp.mimetype + (f"; charset={resp.charset}" if resp.charset and resp.mimetype.startswith(("text/", "application/json")) else "")
                out_headers["Content-Type"] = ctype
            self._send(int(resp.status_code), resp.get_body() or b"", out_headers)

        def _discard_body(self) -> None:
            try:
                size = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                size = 0
            if 0 < size <= 1_000_000:
                self.rfile.read(size)
            elif size:
                self.close_connection = True

        def __getattr__(self, name: str):
            # Every method (TRACE, PROPFIND, ...) goes through routing: 404/405 in the API's
            # error shape rather than http.server's 501 HTML page.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

    return Handler


class DevHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
