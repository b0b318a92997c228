"""Each handler invocation logs with its own function name and claim id, also when invocations
overlap in one process (the local stack runs every handler on its threads)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aftersales.observability import logger
from moto.awslambda.exceptions import UnknownFunctionException

from infra.local.lambda_dispatch import InProcessLambdas, LocalLambdaContext


class Lines:
    """The JSON lines the shared logger wrote."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter([json.loads(line) for line in self.buffer.getvalue().splitlines()])

    def __getitem__(self, index: int) -> dict[str, Any]:
        return list(self)[index]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = Lines()
    previous, level = handler.setStream(captured.buffer), logger.log_level
    logger.setLevel("INFO")
    try:
        yield captured
    finally:
        handler.setStream(previous)
        logger.setLevel(level)


class _NoFunctions:
    """A Lambda backend in which no function exists: the dispatcher then uses Lambda's defaults."""

    partition, region_name, account_id = "aws", "us-east-1", "123456789012"

    def get_function(self, name: str, qualifier: str | None) -> None:
        raise UnknownFunctionException(name)


def _context(name: str) -> LocalLambdaContext:
    return LocalLambdaContext(name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}", f"req-{name}")


def _handler(steps: list[threading.Event]) -> Any:
    @logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
    def handle(event: dict[str, Any], context: Any) -> None:
        logger.append_keys(stage=event["stage"])
        logger.info("started")
        steps[0].set()
        assert steps[1].wait(10)
        logger.info("finished")

    return handle


def test_overlapping_invocations_keep_their_own_keys(lines: Lines) -> None:
    a_started, b_started, never = threading.Event(), threading.Event(), threading.Event()
    never.set()
    # A starts and waits; B starts (its keys set while A is mid-invocation) and ends; then A logs.
    a = threading.Thread(
        target=_handler([a_started, b_started]),
        args=({"claim_id": "clm_a", "stage": "review"}, _context("review-fn")),
    )
    a.start()
    assert a_started.wait(10)
    _handler([b_started, never])({"claim_id": "clm_b", "stage": "refund"}, _context("refund-fn"))
    a.join(10)

    by_invocation = {
        (line["function_name"], line["correlation_id"], line["stage"], line["message"]) for line in lines
    }
    assert by_invocation == {
        ("review-fn", "clm_a", "review", "started"),
        ("refund-fn", "clm_b", "refund", "started"),
        ("refund-fn", "clm_b", "refund", "finished"),
        ("review-fn", "clm_a", "review", "finished"),
    }


def test_an_invocation_inside_another_leaves_the_outer_keys_alone(lines: Lines) -> None:
    """moto runs an SQS consumer inside the send (same thread under ``mock_aws``): the dispatcher runs
    each invocation in a context of its own, as a Lambda execution environment is."""

    @logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
    def inner(event: dict[str, Any], context: Any) -> None:
        logger.info("inner")

    lambdas = InProcessLambdas({"inner-fn": inner})

    @logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
    def outer(event: dict[str, Any], context: Any) -> None:
        lambdas.invoke(_NoFunctions(), "inner-fn", None, b'{"claim_id": "clm_inner"}', {}, {})  # type: ignore[arg-type]
        logger.info("outer")

    outer({"claim_id": "clm_outer"}, _context("outer-fn"))
    assert [(x["message"], x["function_name"], x["correlation_id"]) for x in lines] == [
        ("inner", "inner-fn", "clm_inner"),
        ("outer", "outer-fn", "clm_outer"),
    ]


def test_keys_of_one_invocation_do_not_outlive_it(lines: Lines) -> None:
    @logger.inject_lambda_context(correlation_id_path="claim_id", clear_state=True)
    def first(event: dict[str, Any], context: Any) -> None:
        logger.append_keys(order_id="ord-1")
        logger.info("first")

    @logger.inject_lambda_context(clear_state=True)
    def second(event: dict[str, Any], context: Any) -> None:
        assert logger.get_correlation_id() is None
        logger.info("second")

    first({"claim_id": "clm_1"}, _context("first-fn"))
    second({}, _context("second-fn"))
    assert "order_id" not in lines[1] and "correlation_id" not in lines[1]
    assert lines[1]["service"] == "aftersales" and lines[1]["function_name"] == "second-fn"
