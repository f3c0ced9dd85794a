"""The read side of a run (ENGINE.md §7): the reports a trader opens, as JSON pages, CSV and HTML.

    catalog.py   which reports exist, their columns, their key, where their rows come from
    recap.py     the per-trade recap and the existing-pool disposition (computed reports)
    runs.py      may this run be read? (404 unknown / 409 active / 410 retention / note on failure)
    paging.py    opaque keyset cursors
    columns.py   cell formatting for JSON and CSV, spreadsheet-formula neutralisation
    service.py   one page of a report, or all of it as CSV
    html.py      the self-contained report.html (plotly charts, inline)

Nothing here knows HTTP: errors are `ReportError`s, which the HTTP adapter maps to its answers.
"""

from pipeline.reports.catalog import REPORT_NAMES
from pipeline.reports.errors import BadReportRequest, OutputsRemoved, ReportError, RunActive, RunNotFound, UnknownReport
from pipeline.reports.service import ReportPage, report_csv, report_page

__all__ = [
    "REPORT_NAMES", "ReportPage", "report_page", "report_csv", "ReportError", "RunNotFound", "RunActive",
    "OutputsRemoved", "UnknownReport", "BadReportRequest",
]
