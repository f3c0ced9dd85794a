"""Every setting the app reads is in local.settings.sample.json (with its default) and the README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.settings import Settings, get_settings
from pipeline.tenants import DEMO_API_KEY, DEMO_TENANT, get_registry, hash_api_key, load_registry

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_sample_with_its_default():
    values = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
    for field in Settings.model_fields.values():
        assert field.alias in values, field.alias
        assert str(values[field.alias]) == str(field.default), field.alias


def test_every_setting_has_a_line_in_the_readme_configuration_table():
    readme = (ROOT / "README.md").read_text()
    for field in Settings.model_fields.values():
        assert f"| `{field.alias}` |" in readme, f"README configuration table lacks {field.alias}"


def test_settings_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("POWERFILL_LEASE_SECONDS", "33")
    get_settings.cache_clear()
    assert get_settings().lease_seconds == 33


def test_default_registry_is_the_demo_tenant_on_sqlite():
    registry = get_registry()
    assert list(registry.tenants) == [DEMO_TENANT]
    assert registry.get(DEMO_TENANT).database_url.startswith("sqlite:///")
    assert registry.tenant_for_key(DEMO_API_KEY) == DEMO_TENANT
    assert registry.tenant_for_key("wrong") is None


def test_registry_from_json_setting_and_file(monkeypatch, tmp_path):
    doc = {"tenants": {"acme": {"database_url": "postgresql://x/y", "api_key_sha256": [hash_api_key("k1")]}}}
    monkeypatch.setenv("POWERFILL_TENANTS", json.dumps(doc))
    assert load_registry(Settings()).tenant_for_key("k1") == "acme"
    monkeypatch.delenv("POWERFILL_TENANTS")
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps(doc))
    monkeypatch.setenv("POWERFILL_TENANTS_FILE", str(path))
    assert load_registry(Settings()).get("acme").database_url == "postgresql://x/y"


def test_registry_errors_name_the_source(monkeypatch):
    monkeypatch.setenv("POWERFILL_TENANTS", '{"tenants": {"a": {"database_url": "x", "api_key_sha256": ["nothex"]}}}')
    with pytest.raises(ValueError, match="(?s)POWERFILL_TENANTS.*api_key_sha256"):
        load_registry(Settings())
