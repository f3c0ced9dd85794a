"""Logs, traces and metrics of the run service (DESIGN.md §8).

- **Log context.** `log_context(run_id=..., tenant_id=..., step=..., attempt=...)` sets fields that
  every log record created inside it carries as attributes (a log-record factory adds them), so
  Azure Monitor shows them as `customDimensions` on every line of a run, whichever logger wrote it.
  Threads started with `run_in_context` inherit the fields. (Pass such fields through the
  context, never as `extra=`: logging refuses an `extra` key the record already carries.)
- **Lifecycle events.** `event(name, message, **dims)` writes one INFO line with `event=<name>` and
  the dimensions; docs/monitoring.md queries exactly these names:
  run_submitted, run_claimed, step_finished, run_finalized, run_requeued, run_abandoned,
  poison_message, schedule_fired, schedule_skipped.
- **Metrics.** Histograms `powerfill_run_duration_s`, `powerfill_step_duration_s` (dim `step`),
  `powerfill_queue_wait_s`, `powerfill_allocation_gap`, `powerfill_value_gap_bps` through the
  OpenTelemetry API (no-ops until a meter provider is configured).
- **Export.** `configure()` sends all of it to Azure Monitor when
  APPLICATIONINSIGHTS_CONNECTION_STRING is set; otherwise nothing leaves the process.
- **Trace propagation.** `current_traceparent()` at submit goes into the queue message;
  `span_from_traceparent(tp)` in the worker continues the same trace.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("pipeline.lifecycle")

CONTEXT_FIELDS = ("run_id", "tenant_id", "step", "attempt", "trigger", "operation")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("powerfill_log_context", default={})

# Event names (customDimensions.event); docs/monitoring.md is written against these.
RUN_SUBMITTED = "run_submitted"
RUN_CLAIMED = "run_claimed"
STEP_FINISHED = "step_finished"
RUN_FINALIZED = "run_finalized"
RUN_REQUEUED = "run_requeued"
RUN_ABANDONED = "run_abandoned"
POISON_MESSAGE = "poison_message"
SCHEDULE_FIRED = "schedule_fired"
SCHEDULE_SKIPPED = "schedule_skipped"


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add `fields` (None values ignored) to every log record created inside the block."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_context.get())


def run_in_context(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread running `target` with the caller's log context (heartbeats)."""
    ctx = contextvars.copy_context()
    return threading.Thread(target=lambda: ctx.run(target), name=name, daemon=True)


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_powerfill", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return record

    factory._powerfill = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


def event(name: str, message: str, *args: Any, level: int = logging.INFO, **dims: Any) -> None:
    """One lifecycle log line: `event=name` plus `dims` as customDimensions."""
    # Through the context, not `extra`: logging refuses an `extra` key the record already has.
    with log_context(event=name, **dims):
        log.log(level, message, *args)


# --- metrics ----------------------------------------------------------------------------------

_meter = metrics.get_meter("powerfill")
_histograms: dict[str, Any] = {}
_HISTOGRAMS = {
    "powerfill_run_duration_s": ("s", "Wall time from submit to terminal status"),
    "powerfill_step_duration_s": ("s", "Wall time of one step execution"),
    "powerfill_queue_wait_s": ("s", "Time a run message waited before a worker picked it up"),
    "powerfill_allocation_gap": ("1", "Relative gap (bound - objective) / max(|bound|, 1) of a completed run"),
    "powerfill_value_gap_bps": ("bps", "Value gap per allocated face of a completed run"),
}


def record(metric: str, value: float | None, **attributes: Any) -> None:
    """Record one histogram sample (ignored when value is None)."""
    if value is None:
        return
    hist = _histograms.get(metric)
    if hist is None:
        unit, description = _HISTOGRAMS[metric]
        hist = _histograms[metric] = _meter.create_histogram(metric, unit=unit, description=description)
    hist.record(float(value), attributes={k: str(v) for k, v in attributes.items() if v is not None})


# --- traces -----------------------------------------------------------------------------------

_tracer = trace.get_tracer("powerfill")
_propagator = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def span_from_traceparent(name: str, traceparent: str | None, **attributes: Any) -> Iterator[None]:
    """A span continuing the trace of `traceparent` (the submit's), or a new one."""
    parent = _propagator.extract({"traceparent": traceparent}) if traceparent else None
    with _tracer.start_as_current_span(name, context=parent, attributes={k: str(v) for k, v in attributes.items() if v is not None}):
        yield


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[None]:
    with _tracer.start_as_current_span(name, attributes={k: str(v) for k, v in attributes.items() if v is not None}):
        yield


# --- export -----------------------------------------------------------------------------------

_configured = False


def configure(connection_string: str | None = None, level: str | None = None) -> bool:
    """Set log levels, and export to Azure Monitor when a connection string is configured.

    Called once by function_app.py (and the dev host); returns True when exporting. Safe to call
    twice."""
    global _configured
    from pipeline.settings import get_settings

    settings = get_settings()
    logging.getLogger("pipeline").setLevel((level or settings.log_level).upper())
    # The SDK logs every HTTP request at INFO; keep its warnings only.
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
    logging.getLogger("azure.storage").setLevel(logging.WARNING)
    connection_string = connection_string if connection_string is not None else settings.appinsights_connection
    if not connection_string or _configured:
        return _configured
    from azure.monitor.opentelemetry import configure_azure_monitor

    # logger_name scopes export to our loggers: the host already ships its own logs.
    configure_azure_monitor(connection_string=connection_string, logger_name="pipeline")
    _configured = True
    return True
