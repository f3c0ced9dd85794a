"""Tenant registry: tenant -> database URL and the SHA-256 hashes of its API keys (DESIGN.md §7).

Read from `POWERFILL_TENANTS` (JSON) or the file `POWERFILL_TENANTS_FILE` names:

    {"tenants": {"demo": {"database_url": "sqlite:///.powerfill/demo.db",
                          "api_key_sha256": ["<hex>"], "business_timezone": "America/New_York"}}}

With neither set, the local default is one tenant, `demo`, on an SQLite file under the data
directory, with the well-known local key `DEMO_API_KEY` (local development only).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.settings import Settings, get_settings

DEMO_TENANT = "demo"
DEMO_API_KEY = "pf-demo-local-key"  # only ever valid in the built-in local registry


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class TenantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(min_length=1)
    api_key_sha256: list[str] = Field(default_factory=list)
    business_timezone: str | None = None

    @field_validator("api_key_sha256")
    @classmethod
    def _hex_digests(cls, v: list[str]) -> list[str]:
        for h in v:
            if len(h) != 64 or any(c not in "0123456789abcdef" for c in h.lower()):
                raise ValueError("api_key_sha256 entries must be 64-character hex SHA-256 digests")
        return [h.lower() for h in v]


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: dict[str, TenantConfig]


class UnknownTenant(KeyError):
    pass


class TenantRegistry:
    def __init__(self, tenants: dict[str, TenantConfig]):
        self.tenants = tenants

    def get(self, tenant_id: str) -> TenantConfig:
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise UnknownTenant(tenant_id) from None

    def tenant_for_key(self, api_key: str) -> str | None:
        """The tenant owning `api_key`, compared in constant time; None when no tenant has it."""
        digest = hash_api_key(api_key)
        found = None
        for tenant_id in sorted(self.tenants):
            for known in self.tenants[tenant_id].api_key_sha256:
                if hmac.compare_digest(known, digest):
                    found = tenant_id
        return found

    def database_urls(self) -> dict[str, list[str]]:
        """Database URL -> tenants on it (the timer visits each database once)."""
        by_url: dict[str, list[str]] = {}
        for tenant_id in sorted(self.tenants):
            by_url.setdefault(self.tenants[tenant_id].database_url, []).append(tenant_id)
        return by_url


def load_registry(settings: Settings) -> TenantRegistry:
    if settings.tenants_json:
        raw, source = settings.tenants_json, "POWERFILL_TENANTS"
    elif settings.tenants_file:
        raw, source = Path(settings.tenants_file).read_text(encoding="utf-8"), settings.tenants_file
    else:
        return TenantRegistry(
            {DEMO_TENANT: TenantConfig(database_url=settings.sqlite_default_url, api_key_sha256=[hash_api_key(DEMO_API_KEY)])}
        )
    try:
        return TenantRegistry(RegistryFile.model_validate(json.loads(raw)).tenants)
    except (json.JSONDecodeError, ValidationError) as err:
        raise ValueError(f"invalid tenant registry in {source}: {err}") from None


@lru_cache(maxsize=1)
def get_registry() -> TenantRegistry:
    return load_registry(get_settings())
