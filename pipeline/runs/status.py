"""What GET /status reports: the app version, the tenant database's schema revision against the
code's head, and whether the database and the runs queue answer right now."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pipeline.api.contracts import ServiceStatus
from pipeline.db.migrate import current_revision, head_revision
from pipeline.runs.config import get_config
from pipeline.runs.failures import describe


def app_version() -> str:
    try:
        return version("powerfill")
    except PackageNotFoundError:
        return "unknown"


def service_status(tenant_id: str) -> ServiceStatus:
    from pipeline.tenants import get_registry

    revision, database = None, {"reachable": True}
    try:
        revision = current_revision(get_registry().get(tenant_id).database_url)
    except Exception as err:  # noqa: BLE001 - reported, not raised: this route exists to say what is down
        database = {"reachable": False, "error": describe(err)[:300]}
    head = head_revision()
    database["schema_current"] = revision == head
    queue = {"reachable": True}
    try:
        get_config().queue().ping()
    except Exception as err:  # noqa: BLE001
        queue = {"reachable": False, "error": describe(err)[:300]}
    return ServiceStatus(version=app_version(), schema_revision=revision, schema_head=head, database=database, queue=queue)
