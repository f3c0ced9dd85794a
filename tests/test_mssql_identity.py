"""Azure SQL without passwords: a mssql URL asking for a managed identity gets an Entra token.

Only token acquisition is faked, at the credential boundary (azure.identity's credential class,
or `fetch_sql_token` when the test is about the connect hook); the ODBC token attribute, the URL
rewrite and the engine's `do_connect` hook run for real with the pyodbc dialect (needs libodbc).
No SQL Server is contacted: the DBAPI `connect` call itself is replaced to capture its arguments.
"""

from __future__ import annotations

import struct
import uuid

import pytest

pytest.importorskip("pyodbc", reason="the pyodbc dialect needs libodbc (make test installs unixodbc)")

from pipeline.db import engine as engine_mod  # noqa: E402
from pipeline.db.engine import (  # noqa: E402
    AZURE_POSTGRES_SCOPE,
    AZURE_SQL_SCOPE,
    SQL_COPT_SS_ACCESS_TOKEN,
    access_token_struct,
    dispose_all,
    fetch_sql_token,
    get_engine,
)


class _Calls(list):
    """Client ids the fake token source was asked for, in order; `.scopes` beside them."""

    def __init__(self):
        super().__init__()
        self.scopes: list[str] = []


class _Captured(Exception):
    """Raised by the fake DBAPI connect once it has recorded what it was given."""


def _msi_url(client_id: str | None = "11111111-2222-3333-4444-555555555555") -> str:
    # A unique database name per call: get_engine caches one engine per URL.
    url = (
        f"mssql+pyodbc://@pf-{uuid.uuid4().hex[:8]}.database.windows.net/powerfill"
        "?driver=ODBC+Driver+18+for+SQL+Server&Encrypt=yes&Authentication=ActiveDirectoryMsi"
    )
    return url + (f"&ClientId={client_id}" if client_id else "")


def _connect_args(engine) -> tuple[list, dict]:
    """Open one pool connection with a fake DBAPI connect; return the (cargs, cparams) it got.

    The do_connect event handlers run before `dialect.connect`, so whatever they put in cparams
    is exactly what pyodbc.connect would receive."""
    seen: dict = {}

    def fake_connect(*cargs, **cparams):
        seen["cargs"], seen["cparams"] = list(cargs), dict(cparams)
        raise _Captured

    engine.dialect.connect = fake_connect
    with pytest.raises(_Captured):
        engine.raw_connection()
    return seen["cargs"], seen["cparams"]


@pytest.fixture(autouse=True)
def _dispose():
    yield
    dispose_all()


@pytest.fixture
def tokens(monkeypatch):
    """Fake token source: records the client id asked for and hands out a new token each time."""
    calls: _Calls = _Calls()
    scopes: list[str] = calls.scopes

    def fake_fetch(client_id, scope=AZURE_SQL_SCOPE):
        calls.append(client_id)
        scopes.append(scope)
        return f"eyJ.token-{len(calls)}"


    monkeypatch.setattr(engine_mod, "fetch_sql_token", fake_fetch)
    return calls


def test_token_struct_is_length_prefixed_utf16le():
    token = "eyJ0eXAiOiJKV1Qi.payload.sig"
    raw = access_token_struct(token)
    (length,) = struct.unpack_from("<I", raw)
    assert length == len(token) * 2 == len(raw) - 4
    assert raw[4:].decode("utf-16-le") == token
    # The driver reads the bytes as-is: no terminator, no BOM.
    assert raw[4:6] == b"e\x00"


def test_identity_url_puts_the_token_in_attrs_before(tokens):
    engine = get_engine(_msi_url("11111111-2222-3333-4444-555555555555"))
    cargs, cparams = _connect_args(engine)

    assert tokens == ["11111111-2222-3333-4444-555555555555"]
    assert tokens.scopes == [AZURE_SQL_SCOPE]
    assert cparams["attrs_before"] == {SQL_COPT_SS_ACCESS_TOKEN: access_token_struct("eyJ.token-1")}
    # The ODBC connection string keeps the driver options but neither the Authentication keyword
    # (the driver refuses it together with a token) nor our ClientId, and has no credentials.
    odbc = cargs[0]
    assert "DRIVER={ODBC Driver 18 for SQL Server}" in odbc
    assert "Encrypt=yes" in odbc
    assert "Authentication" not in odbc and "ClientId" not in odbc
    assert "PWD" not in odbc.upper()
    # Integrated auth would make the driver refuse the token (SQLAlchemy adds it when no user is given).
    assert "trusted_connection" not in odbc.lower()


def test_each_new_connection_gets_a_fresh_token(tokens):
    engine = get_engine(_msi_url())
    _, first = _connect_args(engine)
    _, second = _connect_args(engine)
    assert len(tokens) == 2
    assert first["attrs_before"][SQL_COPT_SS_ACCESS_TOKEN] != second["attrs_before"][SQL_COPT_SS_ACCESS_TOKEN]


def test_client_id_falls_back_to_azure_client_id(tokens, monkeypatch):
    from pipeline.settings import get_settings

    monkeypatch.setenv("AZURE_CLIENT_ID", "99999999-8888-7777-6666-555555555555")
    get_settings.cache_clear()
    _connect_args(get_engine(_msi_url(client_id=None)))
    assert tokens == ["99999999-8888-7777-6666-555555555555"]


def test_sql_login_url_gets_no_token(tokens):
    url = f"mssql+pyodbc://pfuser:secret@pf-{uuid.uuid4().hex[:8]}.database.windows.net/powerfill?driver=ODBC+Driver+18+for+SQL+Server"
    cargs, cparams = _connect_args(get_engine(url))
    assert tokens == []
    assert "attrs_before" not in cparams
    assert "PWD=secret" in cargs[0]


def test_fetch_sql_token_asks_the_credential_for_the_sql_scope(monkeypatch):
    """The credential boundary: azure.identity's class is replaced, our call to it is real."""
    import azure.identity

    made: list[dict] = []
    scopes: list[tuple] = []

    class FakeCredential:
        def __init__(self, **kwargs):
            made.append(kwargs)

        def get_token(self, *requested):
            scopes.append(requested)
            from azure.core.credentials import AccessToken

            return AccessToken("tok-from-identity", 4102444800)

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    assert fetch_sql_token("abc-client") == "tok-from-identity"
    assert made == [{"managed_identity_client_id": "abc-client"}]
    assert scopes == [(AZURE_SQL_SCOPE,)]
    assert AZURE_SQL_SCOPE == "https://database.windows.net/.default"


def test_connect_hook_uses_the_credential_end_to_end(monkeypatch):
    """Engine -> do_connect -> fetch_sql_token -> credential, with only the credential faked."""
    import azure.identity
    from azure.core.credentials import AccessToken

    class FakeCredential:
        def __init__(self, **kwargs):
            self.client_id = kwargs.get("managed_identity_client_id")

        def get_token(self, *scopes):
            return AccessToken(f"tok-for-{self.client_id}", 4102444800)

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    _, cparams = _connect_args(get_engine(_msi_url("cid-42")))
    assert cparams["attrs_before"][SQL_COPT_SS_ACCESS_TOKEN] == access_token_struct("tok-for-cid-42")


# --- PostgreSQL flexible server: the same URL convention, the token goes in as the password ------


def test_postgresql_identity_url_sends_the_token_as_password(tokens):
    url = (
        f"postgresql+psycopg://id-powerfill@pf-{uuid.uuid4().hex[:8]}.postgres.database.azure.com/powerfill"
        "?sslmode=require&Authentication=ActiveDirectoryMsi&ClientId=cid-pg"
    )
    engine = get_engine(url)
    # libpq would reject the two keywords; they never reach the driver.
    assert "Authentication" not in engine.url.query and "ClientId" not in engine.url.query
    assert engine.url.query["sslmode"] == "require"

    _, cparams = _connect_args(engine)
    assert tokens == ["cid-pg"]
    assert tokens.scopes == [AZURE_POSTGRES_SCOPE]
    assert cparams["password"] == "eyJ.token-1"
    assert cparams["user"] == "id-powerfill"


def test_postgresql_password_url_is_left_alone(tokens):
    url = f"postgresql://pf:secret@pf-{uuid.uuid4().hex[:8]}.postgres.database.azure.com/powerfill"
    _, cparams = _connect_args(get_engine(url))
    assert tokens == []
    assert cparams["password"] == "secret"
