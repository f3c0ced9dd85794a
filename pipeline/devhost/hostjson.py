"""host.json settings the local host honours, read the way the Functions host reads them.

Only what the local host uses: the HTTP `routePrefix` and the queue extension's `batchSize`,
`newBatchThreshold`, `maxPollingInterval`, `visibilityTimeout` and `maxDequeueCount`. As in the
Functions host, an app setting `AzureFunctionsJobHost__extensions__queues__visibilityTimeout`
(path segments joined by `__`) overrides the file, which is how tests shorten timeouts.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

OVERRIDE_PREFIX = "AzureFunctionsJobHost__"

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


def parse_timespan(value: str | int | float) -> float:
    """Seconds in a .NET TimeSpan string ('00:00:30', '1.00:00:00', '00:00:00.250')."""
    if isinstance(value, (int, float)):
        return float(value)
    m = _TIMESPAN.match(value.strip())
    if not m:
        raise ValueError(f"not a TimeSpan: {value!r}")
    days, hours, minutes, seconds, frac = m.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{frac}") if frac else 0.0)


@dataclass(frozen=True)
class QueueSettings:
    """Defaults are the Functions host's own (queues extension 5.x)."""

    batch_size: int = 16
    new_batch_threshold: int | None = None  # None: batch_size // 2, as the host does
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5

    @property
    def fetch_threshold(self) -> int:
        return self.new_batch_threshold if self.new_batch_threshold is not None else self.batch_size // 2


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueSettings = QueueSettings()


def _apply_overrides(doc: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for key, value in environ.items():
        if not key.startswith(OVERRIDE_PREFIX):
            continue
        path = key[len(OVERRIDE_PREFIX):].split("__")
        node = doc
        for part in path[:-1]:
            # host.json keys are case-insensitive for the host; keep the file's spelling if present.
            match = next((k for k in node if k.lower() == part.lower()), part)
            node = node.setdefault(match, {})
        leaf = next((k for k in node if k.lower() == path[-1].lower()), path[-1])
        node[leaf] = value
    return doc


def _get(node: Mapping[str, Any], name: str, default: Any = None) -> Any:
    for k, v in node.items():
        if k.lower() == name.lower():
            return v
    return default


def load_host_config(path: Path | None, environ: Mapping[str, str] | None = None) -> HostConfig:
    """host.json at `path` (missing file: the host's defaults), with app-setting overrides."""
    doc: dict[str, Any] = {}
    if path is not None and path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8"))
    doc = _apply_overrides(doc, os.environ if environ is None else environ)
    ext = _get(doc, "extensions", {}) or {}
    http = _get(ext, "http", {}) or {}
    q = _get(ext, "queues", {}) or {}
    defaults = QueueSettings()
    threshold = _get(q, "newBatchThreshold")
    queues = QueueSettings(
        batch_size=max(1, min(32, int(_get(q, "batchSize", defaults.batch_size)))),
        new_batch_threshold=int(threshold) if threshold is not None else None,
        max_polling_interval=parse_timespan(_get(q, "maxPollingInterval", "00:01:00")),
        visibility_timeout=parse_timespan(_get(q, "visibilityTimeout", "00:00:00")),
        max_dequeue_count=max(1, int(_get(q, "maxDequeueCount", defaults.max_dequeue_count))),
    )
    prefix = _get(http, "routePrefix", "api")
    return HostConfig(route_prefix=str(prefix).strip("/"), queues=queues)
