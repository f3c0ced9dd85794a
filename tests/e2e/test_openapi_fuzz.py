"""Schemathesis against the local host, driven by the served OpenAPI document: no 5xx, every
status code documented, every content type and body as documented (DESIGN.md §5).

The host gets its own database (fuzzing replaces inputs and submits runs). The counts are printed
(`pytest -s` shows them); POWERFILL_FUZZ_EXAMPLES raises the examples per operation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.tenants import DEMO_API_KEY
from tests.e2e.conftest import local_host

pytestmark = [pytest.mark.azurite, pytest.mark.slow]

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def schemathesis_cli() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path, azurite_connection):
    examples = os.environ.get("POWERFILL_FUZZ_EXAMPLES", "5")
    with local_host(tmp_path, azurite_connection) as host:
        proc = subprocess.run(
            [*schemathesis_cli(), "run", f"{host.base_url}/api/powerfill/openapi.json",
             "-H", f"x-api-key: {DEMO_API_KEY}", "--checks", CHECKS, "--max-examples", examples,
             "--workers", "1", "--suppress-health-check", "all", "--seed", "20261127", "--request-timeout", "60"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
    out = proc.stdout + proc.stderr
    counts = re.search(r"(\d+) generated, (.*)", out)
    print("schemathesis:", counts.group(0) if counts else out[-2000:])
    assert proc.returncode == 0, out[-6000:]
    assert counts and "passed" in counts.group(2) and "fail" not in counts.group(2)
