"""The Azure Functions entry point: builds the app and registers the blueprints. Nothing else.

Blueprints (pipeline/functions/, adapters only), registered in this order:
  runs_http       POST /powerfill/run, GET /powerfill/runs, GET /powerfill/runs/{id}, POST .../cancel
  runs_queue      the run worker (queue %POWERFILL_RUNS_QUEUE%) and its poison queue
  timer           the reconcile sweep (%POWERFILL_TIMER_SCHEDULE%)
  schedules_http  GET|PUT /powerfill/schedules
  status_http     GET /powerfill/status
  reports_http    GET /powerfill/runs/{id}/{report}, GET /powerfill/runs/{id}/report.html
  inputs_http     GET|PUT /powerfill/inputs/{kind}
  openapi_http    GET /powerfill/openapi.json
"""

from __future__ import annotations

import importlib

import azure.functions as func

from pipeline import telemetry

BLUEPRINTS = ("runs_http", "runs_queue", "timer", "schedules_http", "status_http", "reports_http", "inputs_http",
              "openapi_http")

telemetry.configure()


class PowerFillApp(func.FunctionApp):
    """FunctionApp whose metadata can be read more than once.

    The library's name-uniqueness check remembers names across calls, so a second
    `get_functions()` (the local host, tests, after the worker's indexing) would fail on the
    app's own functions; the check belongs to one indexing pass."""

    def get_functions(self):  # noqa: ANN201 - the library's signature
        self.functions_bindings = {}
        return super().get_functions()


# HTTP auth is the tenant API key, checked by pipeline.api.http_endpoint, so no function keys.
app = PowerFillApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for _name in BLUEPRINTS:
    app.register_functions(importlib.import_module(f"pipeline.functions.{_name}").bp)
