"""Run options (ENGINE.md §3): defaults, validation, and resolution of `as_of_date`."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Scope(str, Enum):
    CLOSED_ONLY = "ClosedOnly"
    CLOSED_AND_LOCKED = "ClosedAndLocked"


class PriceMode(str, Enum):
    PRICE_ONLY = "PriceOnly"
    PRICE_PLUS_CARRY = "PricePlusCarry"


class ValueBasis(str, Enum):
    PAR = "par"
    ABSOLUTE = "absolute"


class Allocator(str, Enum):
    OPTIMAL = "optimal"
    GREEDY = "greedy"


class RunOptions(BaseModel):
    """What a caller may set; unknown fields are rejected (400 with the field named)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    scope: Scope = Scope.CLOSED_AND_LOCKED
    price_mode: PriceMode = PriceMode.PRICE_PLUS_CARRY
    value_basis: ValueBasis = ValueBasis.PAR
    min_status: str = Field("Closed", min_length=1, max_length=128)
    max_eligible_days: int = Field(0, ge=0, le=3650)
    max_trade_settle_days: int = Field(60, ge=0, le=3650)
    eligible_settle_buffer_days: int = Field(0, ge=0, le=365)
    bx_price_floor: Decimal | None = Field(None, ge=0, le=200)
    switch_cost_bps: Decimal = Field(Decimal("0.1"), ge=0, le=10000)
    shortfall_penalty: Decimal = Field(Decimal("1.0"), ge=0, le=1000)
    loan_ids: list[str] | None = Field(None, max_length=500_000)
    as_of_date: date | None = None
    allocator: Allocator = Allocator.OPTIMAL
    solver_time_limit_s: float = Field(60, gt=0, le=3600)

    @field_validator("as_of_date", mode="before")
    @classmethod
    def _iso_date_only(cls, v: object) -> object:
        # pydantic would read a number as a Unix timestamp (0 -> 1970-01-01): a date is YYYY-MM-DD.
        if v is None or isinstance(v, date):
            return v
        if not isinstance(v, str) or len(v) != 10:
            raise ValueError("as_of_date must be a date as YYYY-MM-DD")
        return date.fromisoformat(v)

    @field_validator("loan_ids")
    @classmethod
    def _unique_ids(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if len(set(v)) != len(v):
            raise ValueError("loan_ids contains duplicates")
        return sorted(v)

    def resolved(self, business_timezone: str, now_utc: datetime | None = None) -> "RunOptions":
        """These options with `as_of_date` fixed to the tenant's business date when not given."""
        if self.as_of_date is not None:
            return self
        now = now_utc or datetime.now(timezone.utc)
        return self.model_copy(update={"as_of_date": now.astimezone(ZoneInfo(business_timezone)).date()})

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json")
