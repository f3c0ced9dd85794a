"""A worker process that dies on purpose: `python -m tests.lifecycle.killer URL TENANT RUN_ID STEP WHEN`.

It executes the run through the real `execute_run` (lease, heartbeat, real steps) and calls
`os._exit(KILLED)` — no cleanup, no lease release, like a host killing the instance — at:
  after_commit  right after STEP's checkpoint transaction committed;
  mid_compute   after STEP computed its outputs, before its transaction began;
  mid_write     after STEP inserted its rows, before its transaction committed.
The lease is short (LEASE_S) so the test's timer sees it expire without sleeping it out.
"""

from __future__ import annotations

import os
import sys
import threading

from sqlalchemy import event

KILLED = 17
LEASE_S = 0.3


def main(url: str, tenant_id: str, run_id: str, step_name: str, when: str) -> int:
    from pipeline.db.engine import get_engine
    from pipeline.engine.runner import Step, default_steps
    from pipeline.runs.config import LifecycleConfig
    from pipeline.runs.worker import execute_run, new_owner

    engine = get_engine(url)

    class Dying(Step):
        def __init__(self, inner: Step):
            self.inner, self.name, self.run_status, self.tables = inner, inner.name, inner.run_status, inner.tables

        def compute(self, ctx):
            output = self.inner.compute(ctx)
            if when == "mid_compute":
                os._exit(KILLED)
            return output

        def write(self, conn, ctx, output):
            self.inner.write(conn, ctx, output)
            if when == "mid_write":
                os._exit(KILLED)
            if when == "after_commit":
                writer = threading.get_ident()

                def on_checkin(_dbapi_conn, _record):  # the pool gets the connection back after COMMIT
                    if threading.get_ident() == writer:
                        os._exit(KILLED)

                event.listen(engine, "checkin", on_checkin)

    steps = tuple(Dying(s) if s.name == step_name else s for s in default_steps())
    config = LifecycleConfig(lease_seconds=LEASE_S, heartbeat_seconds=0.1, steps=lambda: steps)
    execute_run(engine, tenant_id, run_id, config=config, owner=new_owner("doomed"), use_budget=False)
    return 0  # never reached the kill point


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
