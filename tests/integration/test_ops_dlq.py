"""``ops dlq redrive``: dead letters go back to the queue they came from, counted (moto, no stack)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra.ops.dlq import find_dlqs, redrive_dlqs
from infra.ops.target import Target


@pytest.fixture
def sqs(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _queue(sqs, name: str, dlq_arn: str | None = None) -> tuple[str, str]:
    attributes = {}
    if dlq_arn:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _target(queues: dict[str, str]) -> Target:
    return Target("aftersales", "us-east-1", None, "table", "arn:sm", queues=queues)


def _bodies(sqs, url: str) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return sorted(m["Body"] for m in got)


def test_dead_letters_go_back_to_their_source_queue(sqs):
    dlq_url, dlq_arn = _queue(sqs, "carrier-events-dlq")
    source_url, _ = _queue(sqs, "carrier-events", dlq_arn)
    for n in range(12):  # more than one receive batch
        sqs.send_message(QueueUrl=dlq_url, MessageBody=f"event-{n:02d}")

    report = redrive_dlqs(_target({"EventsDLQ": dlq_url, "Events": source_url}), move_task=False)

    [row] = report["dlqs"]
    assert (row["queue"], row["messages"], row["moved"], row["left"]) == ("EventsDLQ", 12, 12, 0)
    assert row["sources"] == [source_url]
    moved = _bodies(sqs, source_url) + _bodies(sqs, source_url)
    assert sorted(moved) == [f"event-{n:02d}" for n in range(12)]
    assert _bodies(sqs, dlq_url) == []


def test_a_stack_without_dead_letter_queues_has_nothing_to_redrive(sqs):
    plain_url, _ = _queue(sqs, "plain")
    target = _target({"Plain": plain_url})
    assert find_dlqs(target) == []
    assert redrive_dlqs(target, move_task=False) == {"dlqs": []}


def test_an_empty_dlq_is_reported_with_nothing_moved(sqs):
    dlq_url, dlq_arn = _queue(sqs, "dlq")
    source_url, _ = _queue(sqs, "source", dlq_arn)
    [row] = redrive_dlqs(_target({"Dlq": dlq_url, "Source": source_url}), move_task=False)["dlqs"]
    assert (row["messages"], row["moved"], row["left"]) == (0, 0, 0)
