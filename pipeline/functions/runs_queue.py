"""Queue adapters: the run worker and the poison-queue handler (DESIGN.md §4).

The worker raises only transient errors (the host redelivers after `visibilityTimeout`); a bad
message is dropped inside `handle_message`, never retried.
"""

from __future__ import annotations

import azure.functions as func

from pipeline.runs.poison import handle_poison
from pipeline.runs.worker import handle_message

bp = func.Blueprint()
CONNECTION = "AzureWebJobsStorage"  # the setting name; identity-based with AzureWebJobsStorage__accountName


@bp.queue_trigger(arg_name="msg", queue_name="%POWERFILL_RUNS_QUEUE%", connection=CONNECTION)
def run_worker(msg: func.QueueMessage) -> None:
    handle_message(msg.get_body(), dequeue_count=msg.dequeue_count or 1)


@bp.queue_trigger(arg_name="msg", queue_name="%POWERFILL_RUNS_QUEUE%-poison", connection=CONNECTION)
def run_poison(msg: func.QueueMessage) -> None:
    handle_poison(msg.get_body(), dequeue_count=msg.dequeue_count or 1)
