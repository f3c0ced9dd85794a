"""The run queue: the versioned wake-up message and the client that sends it (DESIGN.md §1, §4).

The message carries ids, never data (the database row is the truth): `run_id`, `tenant_id`, the
submit's `traceparent`, and when it was sent (queue-wait metric). Unknown fields or another version
are refused: a bad message is logged and dropped by the worker, never retried.

The client sends base64 text (the trigger's `messageEncoding`), retries a connectivity failure a
few times quickly, and turns every azure-core error into `QueueUnavailable` (transient: the caller
answers 503 or lets the queue redeliver). With `AzureWebJobsStorage__accountName` set it
authenticates with the managed identity instead of a connection string.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Literal, Protocol

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger("pipeline.runs.queue")

MESSAGE_VERSION = 1
SEND_ATTEMPTS = 3
SEND_BACKOFF_S = (0.1, 0.3)  # waits between the attempts


class RunMessage(BaseModel):
    """Version 1 of the wake-up message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = MESSAGE_VERSION
    run_id: str = Field(min_length=1, max_length=36)
    tenant_id: str = Field(min_length=1, max_length=64)
    traceparent: str | None = Field(None, max_length=128)
    sent_at_utc: datetime | None = None
    reason: Literal["submit", "continuation", "requeue"] = "submit"


class BadMessage(ValueError):
    """The body is not a RunMessage; it is dropped."""


def parse_message(body: bytes | str) -> RunMessage:
    try:
        return RunMessage.model_validate_json(body)
    except ValidationError as err:
        first = err.errors(include_url=False, include_input=False)[0]
        raise BadMessage(f"{'.'.join(map(str, first['loc'])) or 'message'}: {first['msg']}") from None


class QueueUnavailable(Exception):
    """The queue could not be reached or refused the message; retrying later may work."""


class RunQueue(Protocol):
    def send(self, message: RunMessage) -> None: ...

    def ping(self) -> None: ...


class StorageRunQueue:
    """Azure Storage Queue (or Azurite) client for one queue."""

    def __init__(self, queue_name: str, *, connection_string: str = "", account_name: str = "",
                 client_id: str = "", timeout_s: float = 5.0):
        from azure.storage.queue import QueueClient, TextBase64EncodePolicy

        common = dict(message_encode_policy=TextBase64EncodePolicy(), retry_total=0,
                      connection_timeout=timeout_s, read_timeout=timeout_s)
        if account_name:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=client_id or None)
            self._client = QueueClient(f"https://{account_name}.queue.core.windows.net", queue_name,
                                       credential=credential, **common)
        else:
            self._client = QueueClient.from_connection_string(connection_string, queue_name, **common)
        self.queue_name = queue_name
        self._created = False
        self._lock = threading.Lock()

    def _ensure_queue(self) -> None:
        # The host creates trigger queues, but a submit may come first (fresh Azurite, new name).
        with self._lock:
            if not self._created:
                try:
                    self._client.create_queue()
                except ResourceExistsError:
                    pass
                self._created = True

    def send(self, message: RunMessage) -> None:
        payload = message.model_dump_json(exclude_none=True)
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                self._ensure_queue()
                self._client.send_message(payload)
                return
            except ResourceNotFoundError:
                self._created = False  # deleted under us: create again on the next attempt
                err: Exception = QueueUnavailable(f"queue {self.queue_name} does not exist")
            except AzureError as exc:
                err = QueueUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                err.__cause__ = exc
            if attempt < SEND_ATTEMPTS:
                log.warning("enqueue attempt %d of %d failed, retrying: %s", attempt, SEND_ATTEMPTS, err)
                time.sleep(SEND_BACKOFF_S[attempt - 1])
            else:
                raise err

    def ping(self) -> None:
        try:
            self._ensure_queue()
            self._client.get_queue_properties()
        except AzureError as exc:
            raise QueueUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc


_clients: dict[tuple[str, str, str, str], StorageRunQueue] = {}
_clients_lock = threading.Lock()


def get_run_queue() -> StorageRunQueue:
    """The client for the configured runs queue (cached per connection and name)."""
    from pipeline.settings import get_settings

    s = get_settings()
    key = (s.runs_queue, s.storage_connection if not s.storage_account_name else "", s.storage_account_name, s.storage_client_id)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = StorageRunQueue(
                s.runs_queue, connection_string=_expand(s.storage_connection), account_name=s.storage_account_name,
                client_id=s.storage_client_id,
            )
        return client


def _expand(connection: str) -> str:
    from pipeline.settings import AZURITE_QUEUE_CONNECTION

    # Core Tools' shorthand for the local emulator.
    return AZURITE_QUEUE_CONNECTION if connection.strip() == "UseDevelopmentStorage=true" else connection
