"""The six steps of a PowerFill run (ENGINE.md §5), in the order the runner executes them."""

from __future__ import annotations

from pipeline.engine.runner import Step
from pipeline.engine.steps.allocation import Allocation
from pipeline.engine.steps.bx_cash_grids import BxCashGrids
from pipeline.engine.steps.bx_settle_and_price import BxSettleAndPrice
from pipeline.engine.steps.candidate_builder import CandidateBuilder
from pipeline.engine.steps.pool_guide import PoolGuide
from pipeline.engine.steps.ue import UnallocatedEligible

STEPS: tuple[Step, ...] = (
    BxCashGrids(),
    BxSettleAndPrice(),
    CandidateBuilder(),
    Allocation(),
    PoolGuide(),
    UnallocatedEligible(),
)
