"""infra/ deploys what the app reads, without secrets, and passes checkov (issue 6).

- Every setting the app reads (the aliases of pipeline.settings.Settings, and every name in
  local.settings.sample.json) is either set by main.bicep's `appSettings` or documented in
  docs/deploy.md (local-only settings are documented there as such).
- Every name main.bicep sets is one the app or the Functions host reads: a typo fails here.
- Identity-based connections only: no account keys, passwords or connection strings with keys.
- checkov (from PyPI, in .venv-tools) scans infra/ with no failed check, except ones suppressed in
  the template with a written reason.

No Bicep compiler is installable from the registries this project uses (the Bicep CLI ships as a
.NET binary), so Bicep syntax is checked by checkov's own parser (pycep): a parse error fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
SAMPLE = ROOT / "local.settings.sample.json"

# Settings the Functions host (not pipeline/settings.py) reads in Azure.
HOST_SETTINGS = {"AzureWebJobsStorage__credential", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"}


def _block(text: str, opener: str) -> str:
    """The text between the brace that ends `opener` and its matching closing brace."""
    start = text.index(opener) + len(opener)
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    raise AssertionError(f"unbalanced braces after {opener!r}")


def bicep_app_settings() -> dict[str, str]:
    """main.bicep's `var appSettings = { NAME: value ... }`, as name -> value expression."""
    body = _block(MAIN.read_text(encoding="utf-8"), "var appSettings = {")
    settings = {}
    for line in body.splitlines():
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$", line)
        if m:
            settings[m.group(1)] = m.group(2)
    return settings


def settings_aliases() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        if field.alias:
            names.add(field.alias)
        choices = getattr(field.validation_alias, "choices", None)
        if choices:
            names.update(c for c in choices if isinstance(c, str))
        elif isinstance(field.validation_alias, str):
            names.add(field.validation_alias)
    return names


def sample_settings() -> set[str]:
    if not SAMPLE.exists():
        pytest.skip("local.settings.sample.json not written yet")
    return set(json.loads(SAMPLE.read_text(encoding="utf-8"))["Values"])


def documented(name: str) -> bool:
    return f"`{name}`" in DEPLOY_DOC.read_text(encoding="utf-8")


def test_every_setting_the_app_reads_is_deployed_or_documented():
    provided = set(bicep_app_settings())
    missing = sorted(n for n in settings_aliases() if n not in provided and not documented(n))
    assert not missing, f"read by pipeline/settings.py but neither in main.bicep nor docs/deploy.md: {missing}"


def test_every_sample_setting_is_deployed_or_documented():
    provided = set(bicep_app_settings())
    missing = sorted(n for n in sample_settings() if n not in provided and not documented(n))
    assert not missing, f"in local.settings.sample.json but neither in main.bicep nor docs/deploy.md: {missing}"


def test_bicep_sets_only_settings_someone_reads():
    unknown = sorted(set(bicep_app_settings()) - settings_aliases() - HOST_SETTINGS)
    assert not unknown, f"main.bicep sets settings nothing reads (typo?): {unknown}"


def test_identity_based_connections():
    s = bicep_app_settings()
    assert s["AzureWebJobsStorage__accountName"] == "storage.outputs.name"
    assert s["AzureWebJobsStorage__credential"] == "'managedidentity'"
    assert s["AzureWebJobsStorage__clientId"] == "identity.outputs.clientId"
    assert s["AZURE_CLIENT_ID"] == "identity.outputs.clientId"
    assert s["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "monitoring.outputs.connectionString"
    assert s["POWERFILL_TENANTS"].startswith("'@Microsoft.KeyVault(SecretUri=")
    # A connection string would win over nothing but would carry a key: never deployed.
    assert "AzureWebJobsStorage" not in s
    # Flex Consumption rejects these as app settings: functionAppConfig.runtime carries them.
    assert "FUNCTIONS_WORKER_RUNTIME" not in s and "FUNCTIONS_EXTENSION_VERSION" not in s


def test_production_tunables_are_valid_settings():
    """The POWERFILL_* values main.bicep deploys pass the Settings model's own validation."""
    values = {}
    for name, expr in bicep_app_settings().items():
        m = re.fullmatch(r"'([^'$]*)'", expr)
        if name.startswith("POWERFILL_") and m:
            values[name] = m.group(1)
    assert {"POWERFILL_LEASE_SECONDS", "POWERFILL_HEARTBEAT_SECONDS", "POWERFILL_RUN_BUDGET_SECONDS"} <= set(values)
    settings = Settings(**values)
    assert settings.heartbeat_seconds < settings.lease_seconds
    assert settings.runs_queue == "powerfill-runs"


def test_no_keys_or_passwords_in_templates():
    text = "\n".join(p.read_text(encoding="utf-8") for p in INFRA.rglob("*.bicep"))
    for forbidden in ("listKeys(", "AccountKey=", "administratorLoginPassword", "Password="):
        assert forbidden not in text, forbidden
    assert "azureADOnlyAuthentication: true" in text
    assert "passwordAuth: 'Disabled'" in text
    assert "allowSharedKeyAccess: false" in text


def test_flex_consumption_shape():
    app = (INFRA / "modules" / "functionapp.bicep").read_text(encoding="utf-8")
    assert "tier: 'FlexConsumption'" in app and "name: 'FC1'" in app
    runtime = _block(app, "runtime: {")
    assert "name: 'python'" in runtime and "version: '3.11'" in runtime
    scale = _block(app, "scaleAndConcurrency: {")
    assert "instanceMemoryMB: instanceMemoryMB" in scale and "maximumInstanceCount: maximumInstanceCount" in scale
    assert "type: 'UserAssignedIdentity'" in app
    assert "category: 'FunctionAppLogs'" in app


def test_roles_and_queues():
    text = "\n".join(p.read_text(encoding="utf-8") for p in INFRA.rglob("*.bicep"))
    for role_id in (
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",  # Storage Blob Data Owner
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # Storage Queue Data Contributor
        "3913510d-42f4-4e42-8a64-420c390055eb",  # Monitoring Metrics Publisher
        "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User
    ):
        assert role_id in text
    assert "var runsQueueName = 'powerfill-runs'" in MAIN.read_text(encoding="utf-8")
    assert "name: '${runsQueueName}-poison'" in (INFRA / "modules" / "storage.bicep").read_text(encoding="utf-8")


def test_parameters_file_matches_main_parameters():
    declared = set(re.findall(r"^param\s+(\w+)", MAIN.read_text(encoding="utf-8"), flags=re.M))
    given = set(json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"])
    assert given <= declared, given - declared
    assert {"databaseKind", "instanceMemoryMB", "maximumInstanceCount"} <= given


def test_outputs():
    outputs = set(re.findall(r"^output\s+(\w+)", MAIN.read_text(encoding="utf-8"), flags=re.M))
    assert {"functionAppUrl", "identityClientId", "databaseServerName"} <= outputs


# --- checkov ----------------------------------------------------------------------------------


def _checkov() -> str:
    for candidate in (os.environ.get("POWERFILL_CHECKOV"), str(ROOT / ".venv-tools" / "bin" / "checkov"), shutil.which("checkov")):
        if candidate and Path(candidate).exists():
            return candidate
    if os.environ.get("POWERFILL_REQUIRE_SERVICES") == "1":
        pytest.fail("checkov is not installed (make tools installs it into .venv-tools)")
    pytest.skip("checkov not installed; `make tools` installs it into .venv-tools")


@pytest.fixture(scope="module")
def checkov_reports() -> list[dict]:
    proc = subprocess.run(
        [_checkov(), "-d", str(INFRA), "--framework", "bicep", "arm", "json", "--compact", "--quiet",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    # checkov exits 1 when a check fails; the JSON report says which, so parse it either way.
    assert proc.stdout.strip(), f"checkov printed nothing (rc={proc.returncode}): {proc.stderr[-2000:]}"
    data = json.loads(proc.stdout)
    return data if isinstance(data, list) else [data]


def _reasoned_skips(path: Path, start: int, end: int) -> dict[str, str]:
    """`#checkov:skip=ID: reason` comments inside lines start..end (1-based) of a template."""
    lines = path.read_text(encoding="utf-8").splitlines()[start - 1 : end]
    skips = {}
    for line in lines:
        m = re.search(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):\s*(.*)", line)
        if m:
            skips[m.group(1)] = m.group(2).strip()
    return skips


def test_checkov_parses_every_template(checkov_reports):
    bicep = [r for r in checkov_reports if r.get("check_type") == "bicep"]
    assert bicep, "checkov produced no bicep report"
    for report in checkov_reports:
        assert report["summary"]["parsing_errors"] == 0, report["check_type"]
    assert bicep[0]["summary"]["resource_count"] >= 20


def test_checkov_finds_no_unsuppressed_failure(checkov_reports):
    """No failed check, except ones suppressed in the template with a written reason.

    checkov's Bicep runner applies inline suppressions to its Python checks but not to its graph
    checks (CKV_AZURE_23/24/25 on SQL servers), so a graph failure counts as suppressed when the
    failing resource carries the same `#checkov:skip=ID: reason` comment."""
    unsuppressed = []
    for report in checkov_reports:
        for failed in report["results"]["failed_checks"]:
            path = INFRA / failed["file_path"].lstrip("/")
            skips = _reasoned_skips(path, *failed["file_line_range"])
            if not skips.get(failed["check_id"]):
                unsuppressed.append(f"{failed['check_id']} {failed['resource']} {failed['file_path']}: {failed['check_name']}")
    assert not unsuppressed, "\n".join(unsuppressed)


def test_every_suppression_gives_a_reason():
    for path in INFRA.rglob("*.bicep"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "checkov:skip" in line:
                m = re.search(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):\s*(.{30,})", line)
                assert m, f"{path.name}:{n}: a suppression needs an ID and a written reason"
