"""The local host's queue semantics, as the Functions host applies host.json: a failing function
is retried after `visibilityTimeout`, moved to `<queue>-poison` after `maxDequeueCount`, and the
app's real poison function then fails the run; a timer fires on its NCRONTAB schedule."""

from __future__ import annotations

import threading
from pathlib import Path

import azure.functions as func
import pytest
from azure.storage.queue import QueueClient

from pipeline.functions import runs_queue
from pipeline.runs.store import get_run_view
from pipeline.runs.submit import submit_run
from pipeline.statuses import Trigger
from tests.e2e.conftest import local_host
from tests.polling import wait_for

pytestmark = pytest.mark.azurite

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"
MAX_DEQUEUE = 3


def flaky_app(deliveries: list[int]) -> func.FunctionApp:
    """A worker that always crashes, beside the app's real poison-queue function."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.queue_trigger(arg_name="msg", queue_name="%POWERFILL_RUNS_QUEUE%", connection="AzureWebJobsStorage")
    def crashing_worker(msg: func.QueueMessage) -> None:
        deliveries.append(msg.dequeue_count)
        raise RuntimeError("worker crashed")

    app.queue_trigger(arg_name="msg", queue_name="%POWERFILL_RUNS_QUEUE%-poison", connection="AzureWebJobsStorage")(
        runs_queue.run_poison._function.get_user_function())
    return app


def test_failing_worker_is_retried_then_poisoned_and_the_run_fails(tmp_path, azurite_connection):
    deliveries: list[int] = []
    env = {"AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
           "AzureFunctionsJobHost__extensions__queues__maxDequeueCount": str(MAX_DEQUEUE)}
    with local_host(tmp_path, azurite_connection, app=flaky_app(deliveries), env=env, host_json=HOST_JSON) as host:
        assert host.host.config.queues.visibility_timeout == 1 and host.host.config.queues.max_dequeue_count == MAX_DEQUEUE
        run_id = submit_run(host.engine, "demo", {}, trigger=Trigger.HTTP, requested_by="test").run.run_id
        run = wait_for(lambda: (r := get_run_view(host.engine, "demo", run_id)).status.value == "Failed" and r,
                       timeout=60, what="the poison function to fail the run")
        assert deliveries == [1, 2, 3]  # each redelivery after the visibility timeout, then no more
        assert run.failure_message.startswith("gave up after")
        main = QueueClient.from_connection_string(host.connection, host.queue)
        poison = QueueClient.from_connection_string(host.connection, host.queue + "-poison")
        wait_for(lambda: not list(main.peek_messages(max_messages=32)) and not list(poison.peek_messages(max_messages=32)),
                 timeout=60,
                 what="both queues to drain (the poison message is deleted once handled)")


def test_timer_fires_on_its_ncrontab_schedule(tmp_path, azurite_connection):
    fired: list[bool] = []
    seen = threading.Event()
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.timer_trigger(arg_name="timer", schedule="%E2E_TIMER%")
    def tick(timer: func.TimerRequest) -> None:
        fired.append(timer.past_due)
        if len(fired) >= 2:
            seen.set()

    with local_host(tmp_path, azurite_connection, app=app, env={"E2E_TIMER": "*/1 * * * * *"}, timers=True):
        assert seen.wait(30), "the every-second timer fired fewer than twice"
    assert fired[:2] == [False, False]
