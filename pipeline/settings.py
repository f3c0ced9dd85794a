"""Every setting the app reads, in one pydantic model, from the environment.

Each field's environment name is its alias; `local.settings.sample.json` lists them all with local
defaults and the README's configuration table explains each in one line. A test keeps the three in
step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

AZURITE_QUEUE_CONNECTION = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    # --- storage queue -------------------------------------------------------------------------
    storage_connection: str = Field(
        AZURITE_QUEUE_CONNECTION, alias="AzureWebJobsStorage",
        description="Storage connection string (Azurite locally); empty when using an identity.",
    )
    storage_account_name: str = Field(
        "", alias="AzureWebJobsStorage__accountName",
        description="Storage account for identity-based connections (Azure); wins over the connection string.",
    )
    storage_client_id: str = Field(
        "", alias="AzureWebJobsStorage__clientId",
        description="Client id of the user-assigned managed identity for storage.",
    )
    runs_queue: str = Field("powerfill-runs", alias="POWERFILL_RUNS_QUEUE", description="Queue of run wake-up messages.")

    # --- tenants and auth ----------------------------------------------------------------------
    tenants_json: str = Field(
        "", alias="POWERFILL_TENANTS",
        description="Tenant registry as JSON (tenant -> database_url, api_key_sha256 list); wins over the file.",
    )
    tenants_file: str = Field(
        "", alias="POWERFILL_TENANTS_FILE",
        description="Path of a JSON tenant registry file; empty = the local demo tenant on SQLite.",
    )
    data_dir: Path = Field(
        Path(".powerfill"), alias="POWERFILL_DATA_DIR",
        description="Local working directory: the demo tenant's SQLite file and the dev host's state.",
    )
    auth_mode: str = Field(
        "api_key", alias="POWERFILL_AUTH_MODE",
        description="api_key, or easy_auth to also accept App Service Authentication's principal tenant_id claim.",
    )
    sql_client_id: str = Field(
        "", alias="AZURE_CLIENT_ID",
        description="Managed identity client id used for Azure SQL tokens (mssql URLs with Authentication=ActiveDirectoryMsi).",
    )

    # --- run lifecycle -------------------------------------------------------------------------
    lease_seconds: int = Field(120, alias="POWERFILL_LEASE_SECONDS", ge=5, description="Worker lease length; renewed by the heartbeat.")
    heartbeat_seconds: float = Field(5.0, alias="POWERFILL_HEARTBEAT_SECONDS", gt=0, description="Heartbeat period: lease renewal and cancel check.")
    max_attempts: int = Field(3, alias="POWERFILL_MAX_ATTEMPTS", ge=1, description="Lease claims a run may use before the timer fails it.")
    run_budget_seconds: int = Field(
        480, alias="POWERFILL_RUN_BUDGET_SECONDS", ge=10,
        description="Worker time budget per invocation; past it the run checkpoints and re-enqueues itself.",
    )
    pending_requeue_seconds: int = Field(
        120, alias="POWERFILL_PENDING_REQUEUE_SECONDS", ge=10,
        description="A Pending run not picked up for this long is re-enqueued by the timer.",
    )
    retention_days: int = Field(30, alias="POWERFILL_RETENTION_DAYS", ge=1, description="Output rows of runs older than this are deleted (run rows kept).")
    max_body_bytes: int = Field(50_000_000, alias="POWERFILL_MAX_BODY_BYTES", ge=1024, description="Largest accepted request body (413 beyond).")
    business_timezone: str = Field(
        "America/New_York", alias="POWERFILL_BUSINESS_TIMEZONE",
        description="Time zone of the tenant's business date (default as_of_date).",
    )
    timer_schedule: str = Field("0 */1 * * * *", alias="POWERFILL_TIMER_SCHEDULE", description="NCRONTAB of the reconcile timer (UTC).")

    # --- observability and local host ----------------------------------------------------------
    appinsights_connection: str = Field(
        "", alias="APPLICATIONINSIGHTS_CONNECTION_STRING",
        description="When set, logs, traces and metrics go to Azure Monitor through OpenTelemetry.",
    )
    log_level: str = Field("INFO", alias="POWERFILL_LOG_LEVEL", description="Python log level of the pipeline loggers.")
    devhost_port: int = Field(7071, alias="POWERFILL_DEVHOST_PORT", description="Port of the local host (powerfill serve).")

    @property
    def sqlite_default_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'demo.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the environment."""
    return Settings()
