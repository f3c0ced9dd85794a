"""What a rejected upload reports: one `InputError` per problem, gathered in `InputValidationError`.

Errors are data, not printed text: the CLI prints them one per line, the HTTP layer returns them
as JSON (`to_dict`). A CSV problem names its 1-based physical line (the header is line 1); a JSON
problem names the array index as `row`; a problem with the upload as a whole (a kind removed while
the database still references it) names neither.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MAX_ERRORS = 100
VALUE_DISPLAY_LIMIT = 80


@dataclass(frozen=True)
class InputError:
    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        elif self.row is not None:
            where += f"[{self.row}]"
        if self.column:
            where += f":{self.column}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


def display_value(raw: object) -> str | None:
    """The offending value, cut to a length fit for a message."""
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) > VALUE_DISPLAY_LIMIT:
        return text[:VALUE_DISPLAY_LIMIT] + f"… ({len(text):,} characters)"
    return text


class ErrorList:
    """Collects errors, keeping the first `MAX_ERRORS` and counting the rest."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.limit = limit
        self.errors: list[InputError] = []
        self.total = 0

    def add(self, error: InputError) -> None:
        self.total += 1
        if len(self.errors) < self.limit:
            self.errors.append(error)

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def full(self) -> bool:
        return self.total >= self.limit

    def raise_if_any(self) -> None:
        if self.total:
            raise InputValidationError(self.errors, self.total)


class InputValidationError(Exception):
    """The upload was rejected and nothing changed; `errors` holds the first problems, `total`
    how many there were."""

    def __init__(self, errors: list[InputError], total: int | None = None) -> None:
        self.errors = list(errors)
        self.total = len(self.errors) if total is None else total
        more = self.total - len(self.errors)
        lines = [str(e) for e in self.errors[:5]]
        if self.total > 5:
            lines.append(f"... {self.total - 5} more")
        super().__init__(f"{self.total} input error(s): " + "; ".join(lines) + (f" (+{more} not listed)" if more else ""))

    @property
    def omitted(self) -> int:
        return self.total - len(self.errors)

    def to_dict(self) -> dict:
        return {"errors": [e.to_dict() for e in self.errors], "total": self.total, "omitted": self.omitted}
