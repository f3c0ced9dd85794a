"""One trace from the caller through the submit, the queue message and the worker (DESIGN.md §8)."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.lifecycle.test_run_routes import submit

pytestmark = pytest.mark.azurite

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    # What configure_azure_monitor would install, with an in-memory exporter instead of the network.
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_traceparent_travels_from_the_request_through_the_message_to_the_worker(functions, tenants, queue, config, spans):
    spans.clear()
    status, sub, _ = submit(functions, tenants.key(tenants.a),
                            headers={"traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01"})
    assert status == 202
    [message] = queue.peek_bodies()
    assert message["traceparent"].split("-")[1] == CALLER_TRACE
    queue.deliver_all(functions["run_worker"])
    by_name = {s.name: s for s in spans.get_finished_spans()}
    assert format(by_name["submit_run_http"].context.trace_id, "032x") == CALLER_TRACE
    assert format(by_name["powerfill.run"].context.trace_id, "032x") == CALLER_TRACE
    assert by_name["powerfill.run"].attributes["run_id"] == sub["run_id"]
