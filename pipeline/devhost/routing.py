"""Route templates of HTTP triggers ('powerfill/runs/{run_id}/cancel') matched like ASP.NET routing.

Precedence follows the Functions host: segment by segment, a literal beats a constrained parameter,
which beats a plain parameter, which beats a catch-all; so `runs/{run_id}/cancel` and
`runs/{run_id}/report.html` win over `runs/{run_id}/{report}`. Supported parameter forms:
`{name}`, `{name?}`, `{name:constraint}` (alpha, int, guid, ...), `{*name}`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote

_PARAM = re.compile(r"^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?\}$")


def _check(constraint: str | None, value: str) -> bool:
    if constraint is None:
        return True
    c = constraint.lower()
    if c == "int" or c == "long":
        return re.fullmatch(r"-?\d+", value) is not None
    if c == "alpha":
        return value.isalpha()
    if c == "bool":
        return value.lower() in ("true", "false")
    if c == "guid":
        try:
            uuid.UUID(value)
            return True
        except ValueError:
            return False
    return True  # constraints we do not model accept (the function validates anyway)


@dataclass(frozen=True)
class Segment:
    literal: str | None = None
    name: str | None = None
    constraint: str | None = None
    optional: bool = False
    catch_all: bool = False

    @property
    def rank(self) -> int:
        """Lower is more specific."""
        if self.literal is not None:
            return 0
        if self.catch_all:
            return 3
        return 1 if self.constraint else 2


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    segments: tuple[Segment, ...] = field(default=())

    @classmethod
    def parse(cls, template: str) -> "RouteTemplate":
        segments = []
        for part in template.strip("/").split("/") if template.strip("/") else []:
            m = _PARAM.match(part)
            if m:
                star, name, constraint, optional = m.groups()
                segments.append(Segment(name=name, constraint=constraint, optional=bool(optional), catch_all=bool(star)))
            else:
                segments.append(Segment(literal=part))
        return cls(template, tuple(segments))

    @property
    def sort_key(self) -> tuple:
        return tuple(s.rank for s in self.segments) + (len(self.segments),)

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters when `path` (without the route prefix) matches, else None."""
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        params: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            if seg.catch_all:
                params[seg.name] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                if seg.optional and all(s.optional or s.catch_all for s in self.segments[i:]):
                    return params
                return None
            value = parts[i]
            if seg.literal is not None:
                if value.lower() != seg.literal.lower():
                    return None
            elif not value or not _check(seg.constraint, value):
                return None
            else:
                params[seg.name] = value
        return params if len(parts) == len(self.segments) else None
