"""report.html: one self-contained page per run (no network at view time).

Summary, the charts of charts.py (plotly.js inlined once, with the first chart), then tables:
the recap, kickouts by reason, the top synthetic trades, the first guide rows and the log. Every
text cell is HTML-escaped. A Failed or Cancelled run shows its note and whatever BR-9 preserved.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from pipeline.reports import charts
from pipeline.reports.catalog import REPORTS
from pipeline.reports.columns import Col, csv_cell
from pipeline.reports.runs import RunInfo
from pipeline.reports.service import report_rows

GUIDE_ROWS_SHOWN = 200
LOG_ROWS_SHOWN = 200

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{margin-bottom:4px} .sub{color:#666;margin-top:0} h2{margin-top:36px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0} th,td{padding:3px 8px;border:1px solid #e2e2e2}
th{background:#f4f6f8;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#fff4e5;border:1px solid #f0b429;padding:10px;border-radius:4px}
.kpi{display:inline-block;min-width:170px;margin:6px 10px 6px 0;padding:10px;border:1px solid #e2e2e2;border-radius:6px}
.kpi b{display:block;font-size:20px} .chart{margin:12px 0} .wide{overflow-x:auto;max-width:100%}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _num(v: Any, scale: int = 2) -> str:
    if v is None or v == "":
        return ""
    try:
        return f"{Decimal(str(v)):,.{scale}f}"
    except ArithmeticError:
        return _e(v)


def table(columns: list[Col], rows: list[dict]) -> str:
    if not rows:
        return "<p><i>no rows</i></p>"
    numeric = {"money", "value", "rate", "pct", "int"}
    head = "".join(f"<th>{_e(c.name)}</th>" for c in columns)
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="n">{_e(csv_cell(r.get(c.name), c.kind))}</td>' if c.kind in numeric
            else f"<td>{_e(csv_cell(r.get(c.name), c.kind))}</td>" for c in columns)
        body.append(f"<tr>{cells}</tr>")
    return f"<div class='wide'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def summary_figures(run: RunInfo, recap: list[dict], guide: list[dict], kickouts: list[dict]) -> list[tuple[str, str]]:
    s = (run.response or {}).get("summary") or {}
    alloc_amount = s.get("allocated_amount")
    if alloc_amount is None and guide:
        alloc_amount = sum(Decimal(str(g["loan_amount"])) for g in guide)
    return [
        ("status", _e(run.status)),
        ("trades in scope", _e(s.get("trades_in_scope", len(recap)))),
        ("trades filled", _e(s.get("trades_filled", sum(1 for r in recap if r["fill_status"] == "Filled")))),
        ("loans allocated", _e(s.get("allocated_count", len(guide)))),
        ("dollars allocated", _num(alloc_amount)),
        ("kickouts", _e(s.get("kicked_out_count", len(kickouts)))),
        ("objective", _num(s.get("objective"))),
        ("gap", _e(s.get("gap")) if s.get("gap") is not None else ""),
        ("value gap (bps)", _e(s.get("value_gap_bps")) if s.get("value_gap_bps") is not None else ""),
        ("allocator", _e(s.get("allocator") or (run.options or {}).get("allocator") or "")),
    ]


def render_report(run: RunInfo, data: dict[str, list[dict]]) -> str:
    recap, guide, kickouts, syn, log = (data.get(k, []) for k in ("recap", "guide", "kickouts", "syn-trades", "log"))
    figures = [
        charts.fill_vs_window(recap), charts.value_by_instrument(guide),
        charts.kickouts_by_reason(kickouts), charts.synthetic_recommendations(syn),
    ]
    chart_html, plotly_included = [], False
    for fig in figures:
        if fig is None:
            continue
        chart_html.append('<div class="chart">' + fig.to_html(
            full_html=False, include_plotlyjs=not plotly_included, include_mathjax=False,
            config={"displaylogo": False, "responsive": True}) + "</div>")
        plotly_included = True

    reasons = Counter(k["reason"] for k in kickouts)
    reason_rows = [{"reason": r, "loans": n} for r, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))]
    note = run.note
    started = run.started_at_utc.isoformat(sep=" ", timespec="seconds") if run.started_at_utc else ""
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>PowerFill run {_e(run.run_id)}</title><style>{CSS}</style></head><body>",
        "<h1>PowerFill run report</h1>",
        f"<p class='sub'>run {_e(run.run_id)} · as of {_e((run.options or {}).get('as_of_date'))} · "
        f"submitted {_e(started)} UTC · generated {generated}</p>",
    ]
    if note:
        parts.append(f"<p class='note'><b>{_e(note['message'])}</b><br>failure step: {_e(note['failure_step'])}"
                     f" — {_e(note['failure_message'])}</p>")
    parts.append("<h2>Summary</h2>" + "".join(f"<div class='kpi'>{_e(k)}<b>{v}</b></div>"
                                               for k, v in summary_figures(run, recap, guide, kickouts)))
    parts.append("<h2>Charts</h2>" + ("".join(chart_html) or "<p><i>no data to chart</i></p>"))
    parts.append("<h2>Trade recap</h2>" + table(list(REPORTS["recap"].columns), recap))
    parts.append("<h2>Kickouts by reason</h2>" + table([Col("reason"), Col("loans", "int")], reason_rows))
    top = charts.top_syn_trades(syn, 20)
    parts.append("<h2>Synthetic trade recommendations</h2>" + table(list(REPORTS["syn-trades"].columns), top))
    shown = guide[:GUIDE_ROWS_SHOWN]
    parts.append(f"<h2>Guide (first {len(shown)} of {len(guide)} allocations)</h2>"
                 + table(list(REPORTS["guide"].columns), shown))
    parts.append("<h2>Run log</h2>" + table(list(REPORTS["log"].columns), log[:LOG_ROWS_SHOWN]))
    parts.append("</body></html>")
    return "\n".join(parts)


HTML_REPORTS = ("recap", "guide", "kickouts", "syn-trades", "log")


def report_html(engine: Engine, tenant_id: str, run_id: str) -> str:
    data: dict[str, list[dict]] = {}
    run = None
    for name in HTML_REPORTS:
        run, _spec, rows = report_rows(engine, tenant_id, run_id, name)
        data[name] = rows
    return render_report(run, data)
