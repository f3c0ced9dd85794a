"""The test harness starts real services: PostgreSQL answers SQL, Azurite stores queue messages."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool


@pytest.mark.postgres
def test_postgres_server_answers(pg_admin_url):
    engine = create_engine(pg_admin_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version()")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL 15")


@pytest.mark.postgres
def test_each_test_gets_its_own_database(pg_database_url):
    engine = create_engine(pg_database_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (n integer)"))
            conn.execute(text("INSERT INTO probe VALUES (42)"))
        with engine.connect() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            value = conn.execute(text("SELECT n FROM probe")).scalar_one()
    finally:
        engine.dispose()
    assert name.startswith("pf_test_")
    assert value == 42


@pytest.mark.azurite
def test_azurite_queue_round_trip(azurite_connection, queue_name):
    from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient, TextBase64EncodePolicy

    # The Functions queue trigger expects base64 text, so the app sends with this policy.
    sender = QueueClient.from_connection_string(
        azurite_connection, queue_name, message_encode_policy=TextBase64EncodePolicy()
    )
    # Read back the raw base64-decoded bytes to prove what went over the wire was base64.
    receiver = QueueClient.from_connection_string(
        azurite_connection, queue_name, message_decode_policy=BinaryBase64DecodePolicy()
    )
    try:
        sender.create_queue()
        sender.send_message('{"run_id": "r-1"}')
        messages = list(receiver.receive_messages(max_messages=1, visibility_timeout=30))
        assert [m.content for m in messages] == [b'{"run_id": "r-1"}']
        receiver.delete_message(messages[0])
        assert sender.get_queue_properties().approximate_message_count == 0
    finally:
        sender.close()
        receiver.close()
