"""The local stack's state file, as other processes read it."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from infra.local.stack_info import STATE_FILE, StackError, StackInfo, scheduled_event, unpublish


def _info(pid: int) -> StackInfo:
    return StackInfo(
        api_url="http://127.0.0.1:3000",
        endpoint_url="http://127.0.0.1:5000",
        stack_name="aftersales",
        region="us-east-1",
        clock="manual",
        clock_file=None,
        state_machines={"ClaimStateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:m"},
        functions={"SlaTickFunction": "aftersales-SlaTick"},
        scheduled=["SlaTickFunction"],
        routes=["GET /claims"],
        pid=pid,
    )


def test_a_published_stack_reads_back_whole(tmp_path):
    info = _info(os.getpid())
    info.publish(tmp_path)
    assert StackInfo.read(tmp_path) == info
    assert not [p for p in tmp_path.iterdir() if p.name != STATE_FILE]  # no temporary file left


def test_reading_without_a_stack_or_with_a_gone_one_says_how_to_start_one(tmp_path):
    with pytest.raises(StackError, match="make local"):
        StackInfo.read(tmp_path)
    replace(_info(os.getpid()), pid=2**22 + 12345).publish(tmp_path)  # above Linux's pid_max default
    with pytest.raises(StackError, match="is gone"):
        StackInfo.read(tmp_path)


def test_a_stack_removes_only_the_file_it_wrote(tmp_path):
    _info(os.getpid()).publish(tmp_path)
    unpublish(tmp_path, os.getpid() + 1)  # an older stack stopping after this one started
    assert (tmp_path / STATE_FILE).exists()
    unpublish(tmp_path, os.getpid())
    assert not (tmp_path / STATE_FILE).exists()
    unpublish(tmp_path, os.getpid())  # nothing left to remove: no error


def test_a_scheduled_event_is_in_the_rules_account_and_region():
    at = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
    event = scheduled_event(at, "arn:aws:events:eu-west-1:111122223333:rule/tick")
    assert (event["account"], event["region"], event["time"]) == (
        "111122223333",
        "eu-west-1",
        "2026-11-16T02:00:00Z",
    )
    assert event["resources"] == ["arn:aws:events:eu-west-1:111122223333:rule/tick"]
    assert (event["source"], event["detail-type"]) == ("aws.events", "Scheduled Event")
