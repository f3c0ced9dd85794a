"""Timer adapter: the reconcile sweep (DESIGN.md §4, Timer).

`use_monitor=False`: the schedule is every minute and every sweep is stateless and catches up on
its own, so a missed tick needs no storage-backed schedule monitor.
"""

from __future__ import annotations

import logging

import azure.functions as func

from pipeline.runs.reconcile import sweep

bp = func.Blueprint()
log = logging.getLogger("pipeline.functions.timer")


@bp.timer_trigger(arg_name="timer", schedule="%POWERFILL_TIMER_SCHEDULE%", run_on_startup=False, use_monitor=False)
def reconcile_timer(timer: func.TimerRequest) -> None:
    if timer.past_due:
        log.info("reconcile timer is past due; sweeping now (the sweep is idempotent)")
    report = sweep()
    log.info("reconcile sweep: %d requeued, %d abandoned, %d cancelled, %d scheduled runs started, %d output rows purged",
             len(report.requeued), len(report.abandoned), len(report.cancelled), report.schedules_started, report.purged_rows)
