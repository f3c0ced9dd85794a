"""A fabricated finished run written straight into the output tables: the read side's test data.

The reports only read rows; building them by hand keeps these tests independent of the engine and
lets them hold exactly the awkward values a report must handle (formula-like text, nulls, ties).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Boolean, Integer, Numeric, insert

from pipeline.db import schema as s
from pipeline.statuses import RunStatus

AS_OF = date(2026, 3, 2)


def complete(table, row: dict) -> dict:
    """The row with keys the table lacks dropped and required columns it lacks zero-filled, so the
    fabricated data keeps up with output columns added by the engine steps."""
    out = {k: v for k, v in row.items() if k in table.c}
    for c in table.columns:
        if c.name not in out and not c.nullable and c.server_default is None:
            t = c.type
            out[c.name] = False if isinstance(t, Boolean) else 0 if isinstance(t, (Integer, Numeric)) else ""
    return out


def insert_run(engine, tenant_id: str, *, status: RunStatus = RunStatus.COMPLETE, ended_days_ago: float = 0,
               failure_step: str | None = None, failure_message: str | None = None) -> str:
    run_id = str(uuid.uuid4())
    now = datetime.utcnow()
    with engine.begin() as conn:
        conn.execute(insert(s.run_history).values(
            run_id=run_id, tenant_id=tenant_id, status=status.value, trigger="cli",
            options_json=json.dumps({"as_of_date": AS_OF.isoformat(), "allocator": "optimal"}),
            started_at_utc=now - timedelta(days=ended_days_ago, minutes=1),
            ended_at_utc=None if status.value in ("Pending", "PreProcessing", "Allocating", "PostProcessing")
            else now - timedelta(days=ended_days_ago),
            failure_step=failure_step, failure_message=failure_message, attempt_count=1,
            response_json=json.dumps({"summary": {"trades_in_scope": 3, "objective": "1234.56", "gap": "0.0001"}}),
        ))
    return run_id


def fill_outputs(engine, tenant_id: str, run_id: str, *, n_loans: int = 30, user_facing: bool = True) -> None:
    """Three trades (one CASH), n_loans loans split between guide and kickouts, pools, synthetic trades."""
    rows: dict = {t: [] for t in (s.loans, s.loan_scope, s.trade_base, s.powerfill_guide, s.kickout_guide, s.candidates,
                                  s.pool_guide, s.cash_market_map, s.syn_guide, s.syn_trade_base, s.powerfill_log)}
    base = dict(run_id=run_id, tenant_id=tenant_id)
    trades = [("T1", "FNMA30", Decimal("5.5"), "TBA"), ("T2", "FNMA30", Decimal("6.0"), "TBA"), ("T3", "CASHW", None, "CASH")]
    for tid, instr, coupon, itype in trades:
        rows[s.trade_base].append({**base, "trade_id": tid, "investor_id": "INV", "investor_instrument_name": instr,
                                   "instrument_type": itype, "coupon": coupon, "settlement_date": AS_OF + timedelta(days=20),
                                   "trade_amount": Decimal("1000000.00"), "tolerance_pct": Decimal("5"),
                                   "tolerance_amount": Decimal("50000.00"), "min_amount": Decimal("950000.00"),
                                   "max_amount": Decimal("1050000.00"), "locked_amount": Decimal("100000.00"),
                                   "open_capacity": Decimal("950000.00"), "price": Decimal("101.5"), "flags": "",
                                   "allocated_amount": None, "fill_status": None})
    for i in range(n_loans):
        lid = f"L{i:04d}"
        amount = Decimal("200000.00") + i
        rows[s.loans].append({"tenant_id": tenant_id, "loan_id": lid, "loan_amount": amount, "original_loan_amount": amount,
                              "note_rate": Decimal("6.125"), "product": "CONV30", "stage_name": "Closed"})
        rows[s.loan_scope].append({**base, "loan_id": lid, "scope": "Closed", "loan_amount": amount,
                                   "note_rate": Decimal("6.125"), "pool_locked": False, "candidate_count": 2})
        tid = trades[i % 3][0]
        for t in trades[:2]:
            rows[s.candidates].append({**base, "loan_id": lid, "trade_id": t[0], "constraint_name": "C1", "level": 1,
                                       "loan_amount": amount, "price": Decimal("101.5"), "servicing_value": Decimal("0.25"),
                                       "carry": Decimal("0.1"), "carry_matched": True, "value": Decimal("101.85"),
                                       "objective_value": Decimal("3700.00"), "candidate_rank": 1 if t[0] == "T1" else 2})
        if i % 4 == 3:
            rows[s.kickout_guide].append({**base, "loan_id": lid, "reason": "CAPACITY" if i % 8 == 3 else "SERVICING",
                                          "detail": "=HYPERLINK(\"http://x\")" if i == 3 else "no room",
                                          "best_trade_id": "T1", "post_ue_action": None})
            if i % 8 == 3:
                rows[s.syn_guide].append({**base, "loan_id": lid, "syn_trade_id": "INV|FNMA30|5.5|2026-03-22",
                                          "loan_amount": amount, "value": Decimal("100.75"), "in_tradable_fill": True,
                                          "post_ue_action": "Synthetic"})
            continue
        rows[s.powerfill_guide].append({**base, "loan_id": lid, "trade_id": tid, "constraint_name": "C1", "level": 1,
                                        "loan_amount": amount, "price": Decimal("101.5"), "servicing_value": Decimal("0.25"),
                                        "carry": Decimal("-0.12345678"), "value": Decimal("101.62654322"),
                                        "objective_value": Decimal("3253.09"), "runner_up_trade_id": None,
                                        "runner_up_value_diff": None})
        rows[s.pool_guide].append({**base, "loan_id": lid, "pool_action": ("Joining", "Switching", "Remaining")[i % 3],
                                   "from_pool": None if i % 3 == 0 else f"P{i % 2}", "from_trade": None if i % 3 == 0 else "T9",
                                   "to_pool": f"{tid}-N1", "to_trade": tid, "settlement_date": AS_OF + timedelta(days=20),
                                   "loan_amount": amount, "reason": None, "flags": ""})
        if tid == "T3":
            rows[s.cash_market_map].append({**base, "loan_id": lid, "trade_id": "T3", "note_rate": Decimal("6.125"),
                                            "grid_note_rate": Decimal("6.0"), "grid_price": Decimal("101.0"),
                                            "loan_amount": amount})
    rows[s.pool_guide].append({**base, "loan_id": "L0003", "pool_action": "Leaving", "from_pool": "P1", "from_trade": "T9",
                               "to_pool": None, "to_trade": None, "settlement_date": None,
                               "loan_amount": Decimal("200003.00"), "reason": "OUT_OF_SCOPE", "flags": "BELOW_MIN_POOL"})
    for j, (cpn, amt) in enumerate([("5.5", "3200000.00"), ("6.0", "800000.00")]):
        rows[s.syn_trade_base].append({**base, "syn_trade_id": f"INV|FNMA30|{cpn}|2026-03-22", "investor_id": "INV",
                                       "investor_instrument_name": "FNMA30", "coupon": Decimal(cpn),
                                       "settlement_date": AS_OF + timedelta(days=20), "market_price": Decimal("100.5"),
                                       "payup": Decimal("0.125"), "lot_size": Decimal("1000000.00"), "loan_count": 10 - j,
                                       "total_amount": Decimal(amt), "tradable_amount": Decimal(amt[0] + "000000.00"),
                                       "tradable_count": 5, "weighted_price": Decimal("100.625")})
    for seq, (step, event, msg) in enumerate([("bx_cash_grids", "SKIPPED", "no cash"), ("allocation", "COUNTS", "+SUM(A1)"),
                                              ("ue", "COUNTS", "@cmd"), ("ue", "DONE", "ok")]):
        rows[s.powerfill_log].append({**base, "seq": seq + 1, "step_name": step, "severity": "INFO", "event": event,
                                      "message": msg})
    preserved = (s.cash_market_map, s.syn_guide, s.syn_trade_base, s.powerfill_log)
    with engine.begin() as conn:
        for table, data in rows.items():
            if table is s.loans:
                conn.execute(s.loans.delete().where(s.loans.c.tenant_id == tenant_id))
            elif not user_facing and table not in preserved:
                continue
            if data:
                conn.execute(insert(table), [complete(table, r) for r in data])
