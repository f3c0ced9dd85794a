"""Small stand-in steps for lifecycle tests: what the worker does around steps, not what steps compute.

They write real output tables (one user-facing, one kept by BR-9) so finalize, BR-9 and
duplicate-delivery comparisons have rows to look at. `Gate` lets a test hold a step mid-compute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pipeline.db.errors import TransientDatabaseError
from pipeline.db.schema import kickout_guide, powerfill_log, trade_cblock_base
from pipeline.engine.runner import RunContext, Step, StepOutput
from pipeline.statuses import RunStatus


class LogStep(Step):
    """Writes N log rows (pfill_powerfill_log: kept for forensics by BR-9)."""

    name = "log_step"
    run_status = RunStatus.PRE_PROCESSING
    tables = (powerfill_log,)

    def compute(self, ctx: RunContext) -> StepOutput:
        rows = [{"seq": i, "step_name": self.name, "severity": "INFO", "event": "FAKE", "message": f"row {i}"} for i in range(5)]
        return StepOutput(rows={powerfill_log: rows}, metrics={"constraint_count": 3, "candidate_count": 7})


class KickoutStep(Step):
    """Writes kickout rows (user-facing: deleted by BR-9 on Failed/Cancelled)."""

    name = "kickout_step"
    run_status = RunStatus.ALLOCATING
    tables = (kickout_guide,)

    def compute(self, ctx: RunContext) -> StepOutput:
        rows = [{"loan_id": f"L{i:03d}", "reason": "CAPACITY", "detail": "fake", "best_trade_id": "T1", "post_ue_action": None}
                for i in range(4)]
        return StepOutput(rows={kickout_guide: rows}, metrics={"kicked_out_count": 4, "gap": 0.001, "value_gap_bps": 0.2})


class Gate:
    """A point a step waits at (checking cancellation) until the test opens it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.open = threading.Event()


class GatedStep(Step):
    """Waits at `gate` in short slices, calling ctx.check_cancelled() like a real long step."""

    name = "gated_step"
    run_status = RunStatus.POST_PROCESSING
    tables = (trade_cblock_base,)

    def __init__(self, gate: Gate | None = None, slice_s: float = 0.01, limit_s: float = 30.0):
        self.gate = gate
        self.slice_s = slice_s
        self.limit_s = limit_s

    def compute(self, ctx: RunContext) -> StepOutput:
        if self.gate is not None:
            self.gate.reached.set()
            deadline = time.monotonic() + self.limit_s
            while not self.gate.open.is_set():
                ctx.check_cancelled()
                if time.monotonic() > deadline:
                    raise RuntimeError("gate never opened")
                time.sleep(self.slice_s)
        rows = [{"trade_id": f"T{i}", "level": 1, "allocated_amount": 1000 * i, "allocated_count": i} for i in range(3)]
        return StepOutput(rows={trade_cblock_base: rows}, metrics={"cblock_count": 3})


class RaisingStep(Step):
    """Raises what `make_error()` returns for the first `times` executions (None: every time)."""

    name = "gated_step"
    run_status = RunStatus.POST_PROCESSING
    tables = (trade_cblock_base,)

    def __init__(self, make_error: Callable[[], BaseException], times: int | None = None):
        self.make_error = make_error
        self.times = times
        self.calls = 0

    def compute(self, ctx: RunContext) -> StepOutput:
        self.calls += 1
        if self.times is None or self.calls <= self.times:
            raise self.make_error()
        return GatedStep().compute(ctx)


def transient() -> BaseException:
    return TransientDatabaseError("OperationalError: connection reset by peer")


def steps(third: Step | None = None) -> Callable[[], tuple[Step, ...]]:
    chosen = (LogStep(), KickoutStep(), third or GatedStep())
    return lambda: chosen
