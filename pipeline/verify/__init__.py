"""`powerfill verify`: an independent check of a finished run (ENGINE.md §6 invariants 1-4 and 7).

Deliberately a second code path: it re-reads the inputs and recomputes scope, eligibility and
value from ENGINE.md §4 in plain Decimal arithmetic, sharing nothing with pipeline.engine but the
table definitions. It is slow on purpose-built clarity, not speed.
"""
