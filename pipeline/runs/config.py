"""The knobs of the run lifecycle in one value: timings, clock, step set and queue.

Services take a `LifecycleConfig`; the Functions adapters use `get_config()` (built from the
settings), and tests or the local host install their own with `override_config(...)` to pass a
short lease, a fast heartbeat, a fixed clock or fake steps in — never to sleep them out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pipeline.engine.runner import Step, default_steps, utcnow
from pipeline.runs.queue import RunQueue, get_run_queue
from pipeline.settings import Settings, get_settings

# How long before the budget ends the worker stops starting new steps (a step must fit in it).
BUDGET_MARGIN_FRACTION = 0.25


@dataclass(frozen=True)
class LifecycleConfig:
    lease_seconds: float = 120
    heartbeat_seconds: float = 5.0
    # Between lease renewals the heartbeat thread still reads the cancel flag this often (one
    # indexed SELECT), so a cancel lands within about a second whatever the renewal period.
    cancel_poll_seconds: float = 1.0
    max_attempts: int = 3
    run_budget_seconds: float = 480
    pending_requeue_seconds: float = 120
    retention_days: int = 30
    # A run whose message was never sent is requeued only after this long: its submit may still be
    # between commit and send (three send attempts with 5 s timeouts fit well inside it).
    enqueue_grace_seconds: float = 30
    business_timezone: str = "America/New_York"
    clock: Callable[[], datetime] = utcnow
    steps: Callable[[], tuple[Step, ...]] = default_steps
    queue: Callable[[], RunQueue] = get_run_queue
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s: Settings | None = None) -> "LifecycleConfig":
        s = s or get_settings()
        return cls(
            lease_seconds=s.lease_seconds, heartbeat_seconds=s.heartbeat_seconds, max_attempts=s.max_attempts,
            run_budget_seconds=s.run_budget_seconds, pending_requeue_seconds=s.pending_requeue_seconds,
            retention_days=s.retention_days, business_timezone=s.business_timezone,
        )

    def with_(self, **changes: Any) -> "LifecycleConfig":
        return replace(self, **changes)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def yield_after_s(self) -> float:
        """Seconds into an invocation after which no new step starts (continuation instead)."""
        return self.run_budget_seconds * (1 - BUDGET_MARGIN_FRACTION)


_override: LifecycleConfig | None = None


def get_config() -> LifecycleConfig:
    return _override if _override is not None else LifecycleConfig.from_settings()


@contextlib.contextmanager
def override_config(config: LifecycleConfig) -> Iterator[LifecycleConfig]:
    """Make `get_config()` return `config` inside the block (process-wide: tests, local host)."""
    global _override
    previous, _override = _override, config
    try:
        yield config
    finally:
        _override = previous


def set_config(config: LifecycleConfig | None) -> None:
    global _override
    _override = config
