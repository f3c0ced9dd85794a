"""The allocators of PowerFill (ENGINE.md §5 step 4): `optimal` (HiGHS LP per level, rounding,
repair, MILP on small components) and `greedy` (the legacy baseline), both ending with the sweep,
plus the quality figures (conditional level LP bounds). Pure computation: no database.
See docs/allocation.md.
"""

from pipeline.engine.allocate.api import METHODS, allocate
from pipeline.engine.allocate.problem import AllocationProblem, AllocationResult

__all__ = ["METHODS", "AllocationProblem", "AllocationResult", "allocate"]
