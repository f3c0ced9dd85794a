"""Timer triggers on their NCRONTAB schedules (six fields, seconds first, UTC), or a TimeSpan
interval ('00:05:00'), as the Functions host reads them.

One thread per timer; a firing that overruns the next occurrence makes that one `past_due`
(the host's behaviour: occurrences are never run in parallel or queued up).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from azure.functions.timer import TimerRequest
from croniter import croniter

from pipeline.devhost.functions import TimerFunction
from pipeline.devhost.hostjson import parse_timespan

log = logging.getLogger("pipeline.devhost.timers")

PAST_DUE_AFTER = timedelta(seconds=1)


class Schedule:
    def __init__(self, expression: str):
        self.expression = expression.strip()
        fields = self.expression.split()
        self.interval: timedelta | None = None
        if len(fields) == 1 and ":" in self.expression:
            self.interval = timedelta(seconds=parse_timespan(self.expression))
        elif len(fields) not in (5, 6):
            raise ValueError(f"not an NCRONTAB expression: {expression!r}")
        self.seconds_first = len(fields) == 6
        if self.interval is None and not croniter.is_valid(self.expression, second_at_beginning=self.seconds_first):
            raise ValueError(f"not an NCRONTAB expression: {expression!r}")

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        return croniter(self.expression, moment, second_at_beginning=self.seconds_first).get_next(datetime)


class TimerRunner:
    def __init__(self, fn: TimerFunction, clock=lambda: datetime.now(timezone.utc)):
        self.fn = fn
        self.schedule = Schedule(fn.schedule)
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"timer:{self.fn.name}", daemon=True)
        self._thread.start()
        log.info("timer %s on schedule %r", self.fn.name, self.fn.schedule)

    def stop(self, grace: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(grace)

    def fire(self, past_due: bool = False) -> None:
        schedule = {"AdjustForDST": True}
        try:
            self.fn.invoke(TimerRequest(past_due=past_due, schedule=schedule))
        except Exception:  # noqa: BLE001 - a failed firing is logged; the next occurrence still fires
            log.exception("timer %s failed", self.fn.name)
        finally:
            self.fired += 1

    def _loop(self) -> None:
        if self.fn.run_on_startup:
            self.fire()
        due = self.schedule.next_after(self.clock())
        while not self._stop.is_set():
            wait = (due - self.clock()).total_seconds()
            if wait > 0:
                self._stop.wait(min(wait, 1.0))
                continue
            late = self.clock() - due
            self.fire(past_due=late > PAST_DUE_AFTER)
            due = self.schedule.next_after(max(due, self.clock() - PAST_DUE_AFTER))
