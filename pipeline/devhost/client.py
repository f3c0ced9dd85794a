"""A small HTTP client of the PowerFill API for the demo (and tests): the tenant's key on every
request, errors raised with the API's error body, and run polling with a deadline."""

from __future__ import annotations

import time
from typing import Any, Callable

import requests


class ApiCallFailed(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any):
        msg = body.get("message") if isinstance(body, dict) else str(body)[:300]
        super().__init__(f"{method} {path} answered {status}: {msg}")
        self.status = status
        self.body = body


class PowerFillClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 120.0):
        self.base = base_url.rstrip("/") + "/api/powerfill"
        self.session = requests.Session()
        self.session.headers["x-api-key"] = api_key
        self.timeout = timeout

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kw) -> requests.Response:
        resp = self.session.request(method, self.base + path, timeout=self.timeout, **kw)
        if resp.status_code not in expect:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
            raise ApiCallFailed(method, path, resp.status_code, body)
        return resp

    def put_input_csv(self, kind: str, data: bytes) -> dict:
        return self.request("PUT", f"/inputs/{kind}", data=data, headers={"Content-Type": "text/csv"}).json()

    def submit(self, options: dict) -> dict:
        return self.request("POST", "/run", json=options, expect=(202,)).json()

    def run(self, run_id: str) -> dict:
        return self.request("GET", f"/runs/{run_id}").json()

    def wait(self, run_id: str, *, timeout: float, on_progress: Callable[[dict], None] | None = None,
             interval: float = 0.25) -> dict:
        """Poll until the run is terminal (or raise TimeoutError at the deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if on_progress:
                on_progress(run)
            if run["status"] in ("Complete", "Failed", "Cancelled"):
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['status']} after {timeout:.0f}s")
            time.sleep(interval)

    def report_csv(self, run_id: str, report: str) -> bytes:
        return self.request("GET", f"/runs/{run_id}/{report}", params={"format": "csv"}).content

    def report_html(self, run_id: str) -> bytes:
        return self.request("GET", f"/runs/{run_id}/report.html").content
