"""Run and step statuses: each named once, the sets derived from them (BR-8 uses ACTIVE_STATUSES)."""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    PENDING = "Pending"                # inserted, waiting for a worker
    PRE_PROCESSING = "PreProcessing"   # steps 1-3
    ALLOCATING = "Allocating"          # step 4
    POST_PROCESSING = "PostProcessing" # steps 5-6
    COMPLETE = "Complete"              # all six steps succeeded
    FAILED = "Failed"                  # permanent error, poison, enqueue failure or out of attempts
    CANCELLED = "Cancelled"            # cancelled by the caller


class StepStatus(str, Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    CANCELLED = "Cancelled"


# BR-8: at most one run per tenant in these statuses; the partial unique index is built from this tuple.
ACTIVE_STATUSES: tuple[RunStatus, ...] = (
    RunStatus.PENDING,
    RunStatus.PRE_PROCESSING,
    RunStatus.ALLOCATING,
    RunStatus.POST_PROCESSING,
)
TERMINAL_STATUSES: tuple[RunStatus, ...] = (RunStatus.COMPLETE, RunStatus.FAILED, RunStatus.CANCELLED)

# A step in one of these is finished for good; a resumed run skips it.
DONE_STEP_STATUSES: tuple[StepStatus, ...] = (StepStatus.SUCCEEDED, StepStatus.SKIPPED)


class Trigger(str, Enum):
    HTTP = "http"
    SCHEDULE = "schedule"
    CLI = "cli"
