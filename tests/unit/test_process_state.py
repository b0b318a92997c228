"""``reset_process_state`` forgets every client a handler built, so a handler started again after the
environment changed (a new local stack in the same process, a test) talks to the new endpoint."""

from __future__ import annotations

import pytest
from aftersales.logistics import intake
from aftersales.process import reset_process_state


def test_the_carrier_queue_client_is_built_again_after_a_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4001")
    assert intake._sqs("us-east-1").meta.endpoint_url == "http://127.0.0.1:4001"
    reset_process_state()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4002")
    assert intake._sqs("us-east-1").meta.endpoint_url == "http://127.0.0.1:4002"


def test_the_carrier_secrets_client_is_built_again_after_a_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4001")
    assert intake._secrets().client.meta.endpoint_url == "http://127.0.0.1:4001"
    reset_process_state()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4002")
    assert intake._secrets().client.meta.endpoint_url == "http://127.0.0.1:4002"
