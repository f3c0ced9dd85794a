"""The poison queue: a run message that failed every delivery fails its run (DESIGN.md §4, Poison).

The host moves a message to `<runs_queue>-poison` after `maxDequeueCount` failed deliveries
(host.json; `MAX_DEQUEUE_COUNT` mirrors it and a test pins the two together). The run becomes
Failed "gave up after N deliveries" through `finalize_run` (BR-9 included) — unless a live worker
holds its lease (a later, healthy delivery is serving it), which is then left alone.
"""

from __future__ import annotations

import logging

from pipeline import telemetry
from pipeline.db.engine import READ_ONLY
from pipeline.runs.config import LifecycleConfig, get_config
from pipeline.runs.finalize import Fence, finalize_run
from pipeline.runs.queue import BadMessage, parse_message
from pipeline.runs.store import load_run, tenant_engine
from pipeline.statuses import RunStatus

log = logging.getLogger("pipeline.runs.poison")

MAX_DEQUEUE_COUNT = 5  # host.json extensions.queues.maxDequeueCount


def handle_poison(body: bytes | str, *, dequeue_count: int = 1, config: LifecycleConfig | None = None) -> bool:
    """Fail the message's run; True when this call failed it."""
    config = config or get_config()
    try:
        message = parse_message(body)
    except BadMessage as err:
        log.warning("dropping a malformed poison message (no run to fail): %s", err)
        return False
    with telemetry.log_context(run_id=message.run_id, tenant_id=message.tenant_id):
        telemetry.event(telemetry.POISON_MESSAGE, "run %s: message gave up after %d deliveries", message.run_id,
                        MAX_DEQUEUE_COUNT, level=logging.WARNING, dequeue_count=dequeue_count)
        engine = tenant_engine(message.tenant_id)
        if engine is None:
            log.warning("poison message for unknown tenant %r; nothing to fail", message.tenant_id)
            return False
        with engine.connect().execution_options(**READ_ONLY) as conn:
            run = load_run(conn, message.tenant_id, message.run_id)
        if run is None:
            log.warning("poison message for run %s, which does not exist in this tenant; nothing changed", message.run_id)
            return False
        now = config.clock()
        done = finalize_run(engine, message.tenant_id, message.run_id, RunStatus.FAILED, now=now,
                            failure_step=run.current_step,
                            failure_message=f"gave up after {MAX_DEQUEUE_COUNT} deliveries",
                            fence=Fence.unleased(now))
        if done is None:
            log.info("run %s is terminal or served by a live worker; the poison message changes nothing", message.run_id)
        return done is not None
