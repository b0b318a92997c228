"""Powertools idempotency on the DynamoDB idempotency table, built on first use (not at import)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from aftersales.config import Settings, get_settings
from aftersales.process import per_process


@per_process
def _persistence(settings: Settings) -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)
    config = IdempotencyConfig(
        event_key_jmespath="[key, caller]",
        payload_validation_jmespath="body",
        expires_after_seconds=settings.idempotency_ttl_seconds,
        raise_on_no_idempotency_key=True,
    )
    return store, config


def once_per_key(
    operation: Callable[[], dict[str, Any]],
    *,
    key: str,
    caller: str,
    body: dict[str, Any],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run ``operation`` once per (key, caller); later calls with the same body return its result.

    Raises ``IdempotencyValidationError`` for the same key with another body, and
    ``IdempotencyAlreadyInProgressError`` while the first call is still running.
    """
    store, config = _persistence(get_settings())
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)  # an in-flight record expires with the invocation

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=config)  # type: ignore[untyped-decorator]
    def run(request: dict[str, Any]) -> dict[str, Any]:
        return operation()

    return run(request={"key": key, "caller": caller, "body": body})  # type: ignore[no-any-return]
