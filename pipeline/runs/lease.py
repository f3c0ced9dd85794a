"""The worker's lease on a run: claim, fenced checkpoints, heartbeat, release (DESIGN.md §4).

- `claim_lease` is one conditional UPDATE: owner, expiry and attempt+1, only while the run is
  active and no live lease exists. Zero rows: someone else holds it (or the run ended) — drop.
- `Lease` is the runner's `RunGuard`. `verify(conn)` runs inside every checkpoint transaction and
  renews the lease with `WHERE lease_owner = me AND status IN active`; zero rows means the lease
  was taken over (or the run was finalized) and raises `LeaseLost`, so a worker that lost its run
  can never commit a step.
- The heartbeat thread renews the same way every `heartbeat_seconds` and reads
  `cancel_requested_at_utc` (also every `cancel_poll_seconds` in between); steps see both through `cancel_requested()` (no I/O), which raises
  `LeaseLost` once the heartbeat found the lease gone.
- `release` gives the lease back (transient error: the redelivered message can claim at once;
  time budget: the continuation can). A planned hand-over does not use up an attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from pipeline import telemetry
from pipeline.db.engine import READ_ONLY
from pipeline.db.errors import with_retry
from pipeline.db.schema import run_history
from pipeline.engine.runner import LeaseLost
from pipeline.runs.config import LifecycleConfig
from pipeline.runs.store import ACTIVE

log = logging.getLogger("pipeline.runs.lease")


class Lease:
    """A claimed lease on one run; the step runner's guard."""

    def __init__(self, engine: Engine, tenant_id: str, run_id: str, owner: str, attempt: int, config: LifecycleConfig):
        self.engine = engine
        self.tenant_id = tenant_id
        self.run_id = run_id
        self.owner = owner
        self.attempt = attempt
        self.config = config
        self._lost = threading.Event()
        self._cancel = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- RunGuard ---------------------------------------------------------------------------
    def verify(self, conn: Connection) -> None:
        if self._renew(conn) != 1:
            self._lost.set()
            raise LeaseLost(f"run {self.run_id}: lease of {self.owner} was taken over or the run was finalized")

    def cancel_requested(self) -> bool:
        if self._lost.is_set():
            raise LeaseLost(f"run {self.run_id}: lease of {self.owner} lost (heartbeat)")
        return self._cancel.is_set()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    # --- heartbeat --------------------------------------------------------------------------
    def beat(self) -> None:
        """One heartbeat: renew the lease and read the cancel flag."""
        with self.engine.begin() as conn:
            renewed = self._renew(conn)
            cancel_at = conn.execute(
                select(run_history.c.cancel_requested_at_utc).where(run_history.c.run_id == self.run_id)
            ).scalar()
        if renewed != 1:
            log.warning("heartbeat: lease on run %s is no longer ours; the worker stops without writing", self.run_id)
            self._lost.set()
        if cancel_at is not None and not self._cancel.is_set():
            log.info("heartbeat: cancel requested for run %s; the running step stops at its next check", self.run_id)
            self._cancel.set()

    def read_cancel_flag(self) -> None:
        """Between renewals: only look at the cancel flag (a read; no write lock on SQLite)."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            cancel_at = conn.execute(
                select(run_history.c.cancel_requested_at_utc).where(run_history.c.run_id == self.run_id)
            ).scalar()
        if cancel_at is not None and not self._cancel.is_set():
            log.info("cancel requested for run %s; the running step stops at its next check", self.run_id)
            self._cancel.set()

    def _loop(self) -> None:
        period = self.config.heartbeat_seconds
        poll = min(period, self.config.cancel_poll_seconds)
        next_renewal = time.monotonic() + period
        while not self._stop.wait(poll):
            try:
                if time.monotonic() >= next_renewal:
                    next_renewal = time.monotonic() + period
                    self.beat()
                else:
                    self.read_cancel_flag()
            except Exception as err:  # noqa: BLE001 - database/driver errors: the next beat retries
                log.warning("heartbeat failed, will try again in %.1fs: %s", poll, err)
            if self._lost.is_set():
                return

    def __enter__(self) -> "Lease":
        self._thread = telemetry.run_in_context(self._loop, name=f"heartbeat-{self.run_id[:8]}")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, self.config.heartbeat_seconds * 2))

    # --- release ----------------------------------------------------------------------------
    def release(self, *, planned: bool) -> bool:
        """Give the lease back; True if it was still ours. `planned` (continuation) refunds the attempt."""
        values: dict = {"lease_owner": None, "lease_expires_at_utc": None}
        if planned:
            values["attempt_count"] = run_history.c.attempt_count - 1

        def work() -> int:
            with self.engine.begin() as conn:
                return conn.execute(
                    update(run_history)
                    .where(run_history.c.run_id == self.run_id, run_history.c.lease_owner == self.owner)
                    .values(**values)
                ).rowcount

        return with_retry(work) == 1

    def _renew(self, conn: Connection) -> int:
        now = self.config.clock()
        return conn.execute(
            update(run_history)
            .where(run_history.c.run_id == self.run_id, run_history.c.lease_owner == self.owner,
                   run_history.c.status.in_(ACTIVE))
            .values(lease_expires_at_utc=now + self.config.lease)
        ).rowcount


def claim_lease(engine: Engine, tenant_id: str, run_id: str, owner: str, config: LifecycleConfig,
                now: datetime | None = None) -> Lease | None:
    """Claim the run for `owner`; None when it is held by a live owner or no longer active."""
    now = now or config.clock()
    h = run_history.c

    def work() -> int | None:
        with engine.begin() as conn:
            claimed = conn.execute(
                update(run_history)
                .where(h.run_id == run_id, h.tenant_id == tenant_id, h.status.in_(ACTIVE),
                       (h.lease_owner.is_(None)) | (h.lease_expires_at_utc < now))
                .values(lease_owner=owner, lease_expires_at_utc=now + config.lease, attempt_count=h.attempt_count + 1)
            ).rowcount
            if claimed != 1:
                return None
            return conn.execute(select(h.attempt_count).where(h.run_id == run_id)).scalar_one()

    attempt = with_retry(work)
    return None if attempt is None else Lease(engine, tenant_id, run_id, owner, attempt, config)
