"""Retry or fail: decided here, once, by the type of the error (STYLE.md §5).

- **Transient** — the database or the queue could not be reached, timed out, was throttled or
  deadlocked (`TransientDatabaseError`, a driver error `classify` calls transient,
  `QueueUnavailable`, a socket `ConnectionError`/`TimeoutError`): the worker gives its lease back
  and re-raises, the queue redelivers after its visibility timeout, and the run resumes from its
  last checkpoint. Five failed deliveries reach the poison queue, which fails the run.
- **Permanent** — everything else, *including any exception nobody classified*: the run is
  finalized Failed now with `failure_step` and a one-line `failure_message`. Retrying an unknown
  failure five times would only delay the same answer by the queue's backoff.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from pipeline.db.errors import DatabaseError, TransientDatabaseError, classify
from pipeline.runs.queue import QueueUnavailable

MAX_MESSAGE_CHARS = 2000


def is_transient(err: BaseException) -> bool:
    if isinstance(err, (TransientDatabaseError, QueueUnavailable, ConnectionError, TimeoutError)):
        return True
    if isinstance(err, (sa_exc.SQLAlchemyError, DatabaseError)):
        return isinstance(classify(err), TransientDatabaseError)
    return False


def describe(err: BaseException) -> str:
    """One line for `failure_message`: the error's type and first line, never a stack trace."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    message = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return message[:MAX_MESSAGE_CHARS]
