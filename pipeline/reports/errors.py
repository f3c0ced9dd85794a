"""Why a report cannot be served; the HTTP adapter maps each to its status code."""

from __future__ import annotations


class ReportError(Exception):
    def __init__(self, message: str, **fields):
        super().__init__(message)
        self.message = message
        self.fields = fields


class RunNotFound(ReportError):
    """Unknown run, or another tenant's (404, never 403)."""


class RunActive(ReportError):
    """The run has not finished; its outputs are not final (409, with its status)."""


class OutputsRemoved(ReportError):
    """Retention deleted the run's output rows (410)."""


class UnknownReport(ReportError):
    """No report of that name (404)."""


class BadReportRequest(ReportError):
    """A bad limit, cursor or format (400)."""
