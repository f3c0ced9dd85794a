"""Queue triggers on Azurite, with host.json's semantics as the Functions host applies them.

Per queue function: fetch up to `batchSize` messages whenever no more than `newBatchThreshold` are
in flight; poll from 100 ms doubling to `maxPollingInterval` while the queue is empty (capped at
MAX_LOCAL_POLL so the local loop stays snappy); hide each message while its function runs and
renew that as the host does; on success delete it; on failure make it visible again after
`visibilityTimeout`, or, once it has been dequeued `maxDequeueCount` times, copy it unchanged to
`<queue>-poison` and delete it. A message already past the count on arrival goes straight to the
poison queue. Message text is base64 (the trigger's default encoding); text that does not decode
fails its delivery, as it does in Azure.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from dataclasses import dataclass

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from pipeline.devhost.functions import QueueFunction
from pipeline.devhost.hostjson import QueueSettings

log = logging.getLogger("pipeline.devhost.queues")

MIN_POLL = 0.1             # the host's minimum polling interval
MAX_LOCAL_POLL = 2.0       # local deviation: never wait longer than this between empty polls
PROCESSING_VISIBILITY = 600  # seconds a message stays hidden while its function runs (renewed at half)


def poison_queue_name(queue: str) -> str:
    return f"{queue}-poison"


def ensure_queue(client: QueueClient) -> None:
    try:
        client.create_queue()
    except ResourceExistsError:
        pass


@dataclass
class _Lease:
    message_id: str
    pop_receipt: str
    lock: threading.Lock


class QueueListener:
    def __init__(self, fn: QueueFunction, connection: str, settings: QueueSettings, *,
                 processing_visibility: int = PROCESSING_VISIBILITY):
        self.fn = fn
        self.settings = settings
        self.processing_visibility = processing_visibility
        # Raw clients (no encode/decode policy): we decode ourselves so one bad message cannot
        # break a page, and a poisoned message is copied byte for byte.
        self.client = QueueClient.from_connection_string(connection, fn.queue_name)
        self.poison = QueueClient.from_connection_string(connection, poison_queue_name(fn.queue_name))
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._workers: set[threading.Thread] = set()
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        ensure_queue(self.client)
        self._thread = threading.Thread(target=self._poll_loop, name=f"queue:{self.fn.name}", daemon=True)
        self._thread.start()
        log.info("listening on queue %s for %s", self.fn.queue_name, self.fn.name)

    def stop(self, grace: float = 10.0) -> int:
        """Stop fetching; wait up to `grace` s for in-flight messages. Returns how many were abandoned
        (they reappear when their visibility lapses and are delivered again)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread:
            self._thread.join(5)
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight == 0, timeout=grace)
            return self._in_flight

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    # --- polling -----------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        delay = MIN_POLL
        max_delay = max(MIN_POLL, min(self.settings.max_polling_interval, MAX_LOCAL_POLL))
        while not self._stop.is_set():
            with self._cond:
                if self._in_flight > self.settings.fetch_threshold:
                    self._cond.wait(0.5)
                    continue
            try:
                messages = list(self.client.receive_messages(
                    max_messages=self.settings.batch_size, messages_per_page=self.settings.batch_size,
                    visibility_timeout=self.processing_visibility,
                ))
            except (AzureError, OSError) as err:
                log.warning("receiving from %s failed (%s); retrying in %.1fs", self.fn.queue_name, err, max_delay)
                if isinstance(err, ResourceNotFoundError):
                    ensure_queue(self.client)
                self._stop.wait(max_delay)
                continue
            if not messages:
                self._stop.wait(delay)
                delay = min(delay * 2, max_delay)
                continue
            delay = MIN_POLL
            for m in messages:
                with self._cond:
                    self._in_flight += 1
                t = threading.Thread(target=self._process, args=(m,), name=f"msg:{m.id}", daemon=True)
                self._workers.add(t)
                t.start()

    # --- one message -------------------------------------------------------------------------

    def _process(self, m) -> None:  # noqa: ANN001 - azure.storage.queue.QueueMessage
        lease = _Lease(m.id, m.pop_receipt, threading.Lock())
        try:
            if m.dequeue_count > self.settings.max_dequeue_count:
                self._poison(m, lease, "arrived past maxDequeueCount")
                return
            ok = self._invoke(m, lease)
            if ok:
                with lease.lock:
                    self.client.delete_message(lease.message_id, lease.pop_receipt)
            elif m.dequeue_count >= self.settings.max_dequeue_count:
                self._poison(m, lease, f"failed {m.dequeue_count} deliveries")
            else:
                with lease.lock:
                    self.client.update_message(lease.message_id, lease.pop_receipt,
                                               visibility_timeout=int(self.settings.visibility_timeout))
                log.info("message %s on %s failed (delivery %d of %d); visible again in %ss",
                         m.id, self.fn.queue_name, m.dequeue_count, self.settings.max_dequeue_count,
                         int(self.settings.visibility_timeout))
        except (AzureError, OSError) as err:
            log.warning("settling message %s on %s failed (%s); it reappears when its visibility lapses",
                        m.id, self.fn.queue_name, err)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._workers.discard(threading.current_thread())
                self._cond.notify_all()

    def _invoke(self, m, lease: _Lease) -> bool:  # noqa: ANN001
        try:
            body = base64.b64decode(m.content or "", validate=True)
        except (binascii.Error, ValueError):
            log.error("message %s on %s is not base64 text; failing this delivery", m.id, self.fn.queue_name)
            return False
        msg = QueueMessage(
            id=m.id, body=body, dequeue_count=m.dequeue_count, pop_receipt=m.pop_receipt,
            insertion_time=m.inserted_on, expiration_time=m.expires_on, time_next_visible=m.next_visible_on,
        )
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(lease, done), daemon=True)
        renewer.start()
        try:
            self.fn.invoke(msg)
            return True
        except Exception:  # noqa: BLE001 - any failure is a failed delivery, as in the host
            log.exception("function %s failed on message %s (delivery %d)", self.fn.name, m.id, m.dequeue_count)
            return False
        finally:
            done.set()
            renewer.join(5)

    def _renew(self, lease: _Lease, done: threading.Event) -> None:
        """Keep the message hidden while its function runs (the host renews at half the timeout)."""
        while not done.wait(self.processing_visibility / 2):
            try:
                with lease.lock:
                    receipt = self.client.update_message(lease.message_id, lease.pop_receipt,
                                                         visibility_timeout=self.processing_visibility)
                    lease.pop_receipt = receipt.pop_receipt
            except (AzureError, OSError) as err:
                log.warning("renewing message %s failed: %s", lease.message_id, err)

    def _poison(self, m, lease: _Lease, why: str) -> None:  # noqa: ANN001
        ensure_queue(self.poison)
        self.poison.send_message(m.content)
        with lease.lock:
            self.client.delete_message(lease.message_id, lease.pop_receipt)
        log.warning("message %s on %s moved to %s: %s", m.id, self.fn.queue_name, self.poison.queue_name, why)
