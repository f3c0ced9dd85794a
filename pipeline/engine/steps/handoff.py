"""What a step hands the next one in the same process, so it need not read back rows it just wrote.

A step keeps a value when it writes its rows (inside the checkpoint transaction); a later step
peeks at it, and its last user takes it, if it runs in the same process for the same run, and otherwise (a run resumed
in a fresh process, or on another worker) reads the same thing from the database through
`outputs`. Steps are deterministic functions of the run's frozen inputs, so both paths give the
same arrays and the same output rows (tests/engine/test_runs.py compares them). Only the latest
run's values are held: a long-lived worker never accumulates them.
"""

from __future__ import annotations

from typing import Any

_held: dict[tuple[str, str], Any] = {}


def keep(run_id: str, name: str, value: Any) -> None:
    for key in [k for k in _held if k[0] != run_id]:
        del _held[key]
    _held[(run_id, name)] = value


def take(run_id: str, name: str) -> Any | None:
    """The value, removed (its last user takes it)."""
    return _held.pop((run_id, name), None)


def peek(run_id: str, name: str) -> Any | None:
    """The value, left for a later step."""
    return _held.get((run_id, name))


def clear() -> None:
    _held.clear()
