"""The report's charts (plotly figures), each built from report rows; None when there is no data."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import plotly.graph_objects as go

LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=60, r=20, t=50, b=80),
              legend=dict(orientation="h", y=-0.2))


def _f(v) -> float:  # noqa: ANN001
    return float(v) if v is not None else 0.0


def fill_vs_window(recap: list[dict]) -> go.Figure | None:
    """Each trade's fill (locked + allocated, stacked) against its min/max window."""
    if not recap:
        return None
    ids = [r["trade_id"] for r in recap]
    fig = go.Figure()
    fig.add_bar(name="locked", x=ids, y=[_f(r["locked_amount"]) for r in recap], marker_color="#8c8c8c")
    fig.add_bar(name="allocated", x=ids, y=[_f(r["allocated_amount"]) for r in recap],
                marker_color=["#d62728" if r["fill_status"] != "Filled" else "#1f77b4" for r in recap],
                customdata=[[r["fill_status"], _f(r["fill_pct"])] for r in recap],
                hovertemplate="%{x}: %{y:,.2f}<br>%{customdata[0]} (%{customdata[1]:.2f}%)<extra>allocated</extra>")
    fig.add_scatter(name="min", x=ids, y=[_f(r["min_amount"]) for r in recap], mode="markers",
                    marker=dict(symbol="triangle-up", size=11, color="#2ca02c"))
    fig.add_scatter(name="max", x=ids, y=[_f(r["max_amount"]) for r in recap], mode="markers",
                    marker=dict(symbol="triangle-down", size=11, color="#ff7f0e"))
    fig.update_layout(title="Trade fill against the min/max window", barmode="stack",
                      yaxis_title="dollars", **LAYOUT)
    return fig


def value_by_instrument(guide: list[dict]) -> go.Figure | None:
    """Objective value (dollars) of the allocation by instrument, one bar per coupon."""
    if not guide:
        return None
    value: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    amount: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for g in guide:
        coupon = "cash" if g.get("coupon") is None else f"{Decimal(str(g['coupon'])).normalize():f}"
        k = (g.get("investor_instrument_name") or "?", coupon)
        value[k] += Decimal(str(g["objective_value"]))
        amount[k] += Decimal(str(g["loan_amount"]))
    instruments = sorted({k[0] for k in value})
    fig = go.Figure()
    for coupon in sorted({k[1] for k in value}):
        fig.add_bar(name=f"coupon {coupon}", x=instruments, y=[_f(value.get((i, coupon))) for i in instruments],
                    customdata=[_f(amount.get((i, coupon))) for i in instruments],
                    hovertemplate="%{x}: value %{y:,.2f}<br>allocated %{customdata:,.2f}<extra>%{fullData.name}</extra>")
    fig.update_layout(title="Value by instrument and coupon", barmode="group", yaxis_title="objective value ($)", **LAYOUT)
    return fig


def kickouts_by_reason(kickouts: list[dict]) -> go.Figure | None:
    if not kickouts:
        return None
    counts = Counter(k["reason"] for k in kickouts)
    reasons = sorted(counts, key=lambda r: (-counts[r], r))
    fig = go.Figure(go.Bar(x=reasons, y=[counts[r] for r in reasons], marker_color="#9467bd"))
    fig.update_layout(title="Kickouts by reason", yaxis_title="loans", **LAYOUT)
    return fig


def top_syn_trades(syn: list[dict], n: int = 15) -> list[dict]:
    return sorted(syn, key=lambda s: (-_f(s["tradable_amount"]), -_f(s["total_amount"]), s["syn_trade_id"]))[:n]


def synthetic_recommendations(syn: list[dict]) -> go.Figure | None:
    top = [s for s in top_syn_trades(syn) if _f(s["total_amount"]) > 0]
    if not top:
        return None
    labels = [s["syn_trade_id"] for s in reversed(top)]
    fig = go.Figure()
    # The eligible total behind, the tradable (lot-rounded) amount in front of it.
    fig.add_bar(name="eligible total", y=labels, x=[_f(s["total_amount"]) for s in reversed(top)], orientation="h",
                marker_color="#c7e9f0")
    fig.add_bar(name="tradable", y=labels, x=[_f(s["tradable_amount"]) for s in reversed(top)], orientation="h",
                marker_color="#17becf", width=0.5)
    fig.update_layout(title="Synthetic trade recommendations (what to sell next)", barmode="overlay",
                      xaxis_title="dollars", **{**LAYOUT, "height": max(300, 40 * len(top) + 150),
                                                "margin": dict(l=260, r=20, t=50, b=80)})
    return fig
