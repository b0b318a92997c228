"""Step Functions under moto with Lambda tasks running in-process handlers.

These tests pin what the local stack relies on, and moto's departures from AWS (docs/moto.md): when
moto changes, a test here fails and the doc needs the same change.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import queue
import socket
import time
import zipfile
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from infra.local.lambda_dispatch import LocalLambdaContext, inprocess_lambdas
from infra.local.moto_env import MOTO_CONFIG, poll

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/aftersales-statemachine"
POLL_TIMEOUT = 5.0


# --- fixtures (the integrator may move these to a conftest) -------------------------------------


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_PORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mocked_aws(aws_env: None) -> Iterator[None]:
    with mock_aws(config=MOTO_CONFIG):
        yield


@pytest.fixture
def moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto as an HTTP server in this process, configured the way the local stack runs it."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # The Step Functions interpreter calls Lambda at localhost:$MOTO_PORT (default 5000), not at
    # the endpoint the execution was started through.
    monkeypatch.setenv("MOTO_PORT", str(port))
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    with mock.patch.dict(default_user_config):
        requests.post(f"{url}/moto-api/config", json=MOTO_CONFIG, timeout=5).raise_for_status()
        try:
            yield url
        finally:
            requests.post(f"{url}/moto-api/reset", timeout=5)
            server.stop()


@pytest.fixture(params=["mock_aws", "server"])
def any_moto(request: pytest.FixtureRequest) -> str:
    """Both ways the product runs moto: decorator in tests, server for the local stack."""
    return request.getfixturevalue("mocked_aws" if request.param == "mock_aws" else "moto_server") or ""


@pytest.fixture
def sfn(aws_env: None) -> Any:
    return boto3.client("stepfunctions")


# --- helpers ---------------------------------------------------------------------------------------


def create_machine(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    response = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)
    return str(response["stateMachineArn"])


def start(sfn: Any, machine_arn: str, name: str, payload: dict[str, Any] | None = None) -> str:
    response = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload or {}))
    return str(response["executionArn"])


def finished(sfn: Any, execution_arn: str, timeout: float = POLL_TIMEOUT) -> dict[str, Any]:
    def closed() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        return None if described["status"] == "RUNNING" else described

    return dict(poll(closed, what=f"{execution_arn} to finish", timeout=timeout, interval=0.01))


def entered_states(sfn: Any, execution_arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


class TokenInbox:
    """A callback-task handler that parks the token for another caller, as the claim store does."""

    def __init__(self) -> None:
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()

    def __call__(self, event: dict[str, Any], context: object) -> None:
        self.received.put(event)

    def next(self, timeout: float = POLL_TIMEOUT) -> dict[str, Any]:
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no task token within {timeout}s") from None


def lambda_task(function: str, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload": payload},
        **fields,
    }


def callback_task(function: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": function,
            "Payload": {"claim_id.$": "$.claim_id", "token.$": "$$.Task.Token"},
        },
        **fields,
    }


AWAIT_SHIPMENT = {
    "StartAt": "AwaitReturnShipment",
    "States": {
        "AwaitReturnShipment": callback_task(
            "await_stage",
            ResultPath="$.shipment",
            Catch=[
                {"ErrorEquals": ["Deadline.return_shipment"], "ResultPath": "$.expired", "Next": "Expired"}
            ],
            Next="Received",
        ),
        "Received": {"Type": "Succeed"},
        "Expired": {"Type": "Pass", "Result": "closed", "ResultPath": "$.outcome", "End": True},
    },
}


class CarrierUnavailableError(Exception):
    pass


class ClaimNotFoundError(Exception):
    pass


# --- (a) Lambda task -------------------------------------------------------------------------------


def test_lambda_task_runs_the_inprocess_handler_and_its_output_flows_on(any_moto: str, sfn: Any) -> None:
    contexts: list[LocalLambdaContext] = []

    def quote_refund(event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
        contexts.append(context)
        return {"refund_fen": event["paid_fen"] - 500, "claim_id": event["claim_id"]}

    definition = {
        "StartAt": "Quote",
        "States": {
            "Quote": lambda_task(
                "quote_refund",
                {"claim_id.$": "$.claim_id", "paid_fen.$": "$.paid_fen"},
                ResultSelector={"refund_fen.$": "$.Payload.refund_fen"},
                ResultPath="$.quote",
                Next="HasRefund",
            ),
            "HasRefund": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.quote.refund_fen", "NumericGreaterThan": 0, "Next": "Refund"}],
                "Default": "Nothing",
            },
            "Refund": {"Type": "Pass", "Result": "refund", "ResultPath": "$.outcome", "End": True},
            "Nothing": {"Type": "Fail", "Error": "NothingToRefund"},
        },
    }
    with inprocess_lambdas({"quote_refund": quote_refund}) as lambdas:
        machine = create_machine(sfn, "quote", definition)
        run = finished(sfn, start(sfn, machine, "C-1", {"claim_id": "C-1", "paid_fen": 12990}))

    assert run["status"] == "SUCCEEDED"
    assert json.loads(run["output"]) == {
        "claim_id": "C-1",
        "paid_fen": 12990,
        "quote": {"refund_fen": 12490},
        "outcome": "refund",
    }
    [call] = lambdas.calls_to("quote_refund")
    assert call.event == {"claim_id": "C-1", "paid_fen": 12990}
    [context] = contexts
    assert context.function_name == "quote_refund"
    assert context.invoked_function_arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:quote_refund"
    assert context.memory_limit_in_mb == 128
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    # The raw task result has the {"StatusCode", "Payload"} shape ResultSelector reads.
    history = sfn.get_execution_history(executionArn=run["executionArn"])["events"]
    [succeeded] = [e for e in history if e["type"] == "TaskSucceeded"]
    raw = json.loads(succeeded["taskSucceededEventDetails"]["output"])
    assert raw == {"StatusCode": 200, "Payload": {"refund_fen": 12490, "claim_id": "C-1"}}


def test_handler_exception_class_name_is_the_error_catch_routes_on(mocked_aws: None, sfn: Any) -> None:
    def load_claim(event: dict[str, Any], context: object) -> None:
        raise ClaimNotFoundError(event["claim_id"])

    definition = {
        "StartAt": "Load",
        "States": {
            "Load": lambda_task(
                "load_claim",
                {"claim_id.$": "$.claim_id"},
                Retry=[{"ErrorEquals": ["CarrierUnavailableError"], "MaxAttempts": 3}],
                Catch=[{"ErrorEquals": ["ClaimNotFoundError"], "ResultPath": "$.error", "Next": "Rejected"}],
                End=True,
            ),
            "Rejected": {"Type": "Pass", "End": True},
        },
    }
    with inprocess_lambdas({"load_claim": load_claim}) as lambdas:
        run = finished(sfn, start(sfn, create_machine(sfn, "load", definition), "C-2", {"claim_id": "C-2"}))

    assert run["status"] == "SUCCEEDED"
    error = json.loads(run["output"])["error"]
    assert error["Error"] == "ClaimNotFoundError"
    assert json.loads(error["Cause"])["errorMessage"] == "C-2"
    assert len(lambdas.calls_to("load_claim")) == 1  # a Retry on another error name does not apply


def test_unregistered_function_fails_the_task_as_lambda_resource_not_found(
    mocked_aws: None, sfn: Any
) -> None:
    definition = {"StartAt": "Ghost", "States": {"Ghost": lambda_task("ghost", {}, End=True)}}
    with inprocess_lambdas({}):
        run = finished(sfn, start(sfn, create_machine(sfn, "ghost", definition), "C-3"))

    assert run["status"] == "FAILED"
    assert run["error"] == "Lambda.ResourceNotFoundException"


# --- (b) + (f) callback tasks ----------------------------------------------------------------------


def test_callback_task_gets_a_token_and_send_task_success_moves_the_run_on(any_moto: str, sfn: Any) -> None:
    inbox = TokenInbox()
    with inprocess_lambdas({"await_stage": inbox}):
        machine = create_machine(sfn, "await-shipment", AWAIT_SHIPMENT)
        started = time.monotonic()
        execution = start(sfn, machine, "C-4", {"claim_id": "C-4"})
        event = inbox.next()
        to_waiting = time.monotonic() - started
        assert event["claim_id"] == "C-4"
        assert event["token"]
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"

        sfn.send_task_success(taskToken=event["token"], output=json.dumps({"waybill": "SF123"}))
        run = finished(sfn, execution)

    assert to_waiting < 2.0, f"reaching the callback took {to_waiting:.2f}s"
    assert run["status"] == "SUCCEEDED"
    assert json.loads(run["output"])["shipment"] == {"waybill": "SF123"}
    assert entered_states(sfn, execution) == ["AwaitReturnShipment", "Received"]


def test_send_task_failure_is_routed_by_catch_on_the_deadline_error_name(mocked_aws: None, sfn: Any) -> None:
    inbox = TokenInbox()
    with inprocess_lambdas({"await_stage": inbox}):
        execution = start(sfn, create_machine(sfn, "await", AWAIT_SHIPMENT), "C-5", {"claim_id": "C-5"})
        token = inbox.next()["token"]
        sfn.send_task_failure(taskToken=token, error="Deadline.return_shipment", cause="not shipped in 7d")
        run = finished(sfn, execution)

        # A late callback (webhook racing sla_tick): moto says InvalidToken, AWS says TaskTimedOut.
        with pytest.raises(ClientError) as late:
            sfn.send_task_success(taskToken=token, output="{}")

    assert run["status"] == "SUCCEEDED"
    output = json.loads(run["output"])
    assert output["outcome"] == "closed"
    # moto drops the cause of SendTaskFailure; AWS would pass "not shipped in 7d" through.
    assert output["expired"] == {"Error": "Deadline.return_shipment", "Cause": None}
    assert entered_states(sfn, execution) == ["AwaitReturnShipment", "Expired"]
    assert late.value.response["Error"]["Code"] == "InvalidToken"


def test_handler_may_complete_its_own_task_token_before_returning(any_moto: str, sfn: Any) -> None:
    # An automatic review decides at once and completes the callback from inside the invoke.
    def decide_now(event: dict[str, Any], context: object) -> dict[str, Any]:
        client = boto3.client("stepfunctions")
        client.send_task_success(taskToken=event["token"], output=json.dumps({"decision": "approve"}))
        return {"decided": True}

    with inprocess_lambdas({"await_stage": decide_now}):
        execution = start(sfn, create_machine(sfn, "auto", AWAIT_SHIPMENT), "C-6", {"claim_id": "C-6"})
        run = finished(sfn, execution)

    assert run["status"] == "SUCCEEDED"
    assert json.loads(run["output"])["shipment"] == {"decision": "approve"}


# --- (c) Retry --------------------------------------------------------------------------------------


def test_retry_on_a_handler_error_sleeps_in_real_time_and_counts_attempts(mocked_aws: None, sfn: Any) -> None:
    attempts: list[float] = []

    def refund(event: dict[str, Any], context: object) -> dict[str, Any]:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise CarrierUnavailableError("gateway busy")
        return {"refunded_fen": 100}

    retry = {"ErrorEquals": ["CarrierUnavailableError"], "IntervalSeconds": 1, "MaxAttempts": 2}
    definition = {
        "StartAt": "Refund",
        "States": {
            "Refund": lambda_task(
                "refund", {}, Retry=[{**retry, "BackoffRate": 1.0}], OutputPath="$.Payload", End=True
            )
        },
    }
    with inprocess_lambdas({"refund": refund}):
        run = finished(sfn, start(sfn, create_machine(sfn, "refund", definition), "C-7"), timeout=10)

    assert run["status"] == "SUCCEEDED"
    assert json.loads(run["output"]) == {"refunded_fen": 100}
    assert len(attempts) == 3  # first try + MaxAttempts retries
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert all(0.9 <= gap < 2.0 for gap in gaps), gaps


# --- (d) execution names ----------------------------------------------------------------------------


def test_start_execution_with_a_reused_name(mocked_aws: None, sfn: Any) -> None:
    inbox = TokenInbox()
    with inprocess_lambdas({"await_stage": inbox}):
        machine = create_machine(sfn, "names", AWAIT_SHIPMENT)
        first = start(sfn, machine, "C-8", {"claim_id": "C-8"})
        token = inbox.next()["token"]

        # Same name and input while running: the same execution back, as on AWS (Standard).
        assert start(sfn, machine, "C-8", {"claim_id": "C-8"}) == first
        assert inbox.received.empty()
        # Same name, other input: refused, as on AWS.
        with pytest.raises(ClientError) as other_input:
            start(sfn, machine, "C-8", {"claim_id": "C-9"})
        assert other_input.value.response["Error"]["Code"] == "ExecutionAlreadyExists"

        sfn.send_task_success(taskToken=token, output="{}")
        finished(sfn, first)
        # Same name after the run closed: refused, as on AWS.
        with pytest.raises(ClientError) as closed:
            start(sfn, machine, "C-8", {"claim_id": "C-8"})
        assert closed.value.response["Error"]["Code"] == "ExecutionAlreadyExists"

        # No name: moto names every execution "None" (AWS draws a UUID), so the second one collides.
        unnamed = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"claim_id": "X"}))
        assert unnamed["executionArn"].endswith(":None")
        inbox.next()
        with pytest.raises(ClientError) as collided:
            sfn.start_execution(stateMachineArn=machine, input=json.dumps({"claim_id": "Y"}))
        assert collided.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
        sfn.stop_execution(executionArn=unnamed["executionArn"])


# --- (e) history -----------------------------------------------------------------------------------


def test_execution_history_lists_state_names_and_ignores_paging(mocked_aws: None, sfn: Any) -> None:
    definition = {
        "StartAt": "Review",
        "States": {
            "Review": lambda_task("review", {"claim_id.$": "$.claim_id"}, ResultPath=None, Next="Close"),
            "Close": {"Type": "Pass", "End": True},
        },
    }
    with inprocess_lambdas({"review": lambda event, context: {"decision": "approve"}}):
        execution = start(sfn, create_machine(sfn, "history", definition), "C-10", {"claim_id": "C-10"})
        finished(sfn, execution)

    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert entered_states(sfn, execution) == ["Review", "Close"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    # moto ignores maxResults and reverseOrder and never returns a nextToken.
    page = sfn.get_execution_history(executionArn=execution, maxResults=2, reverseOrder=True)
    assert [e["id"] for e in page["events"]] == [e["id"] for e in events]
    assert "nextToken" not in page


# --- boto3 lambda.invoke from ordinary code ---------------------------------------------------------


def test_boto3_lambda_invoke_dispatches_in_process(any_moto: str) -> None:
    def echo(event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
        if event.get("fail"):
            raise CarrierUnavailableError("down")
        return {"got": event, "memory": context.memory_limit_in_mb, "arn": context.invoked_function_arn}

    client = boto3.client("lambda")
    with inprocess_lambdas({f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:echo": echo}) as lambdas:
        ok = client.invoke(FunctionName="echo", Payload=json.dumps({"n": 1}))
        failed = client.invoke(FunctionName="echo", Payload=json.dumps({"fail": True}))
        queued = client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
        with pytest.raises(ClientError) as missing:
            client.invoke(FunctionName="nobody", Payload=b"{}")

    assert ok["StatusCode"] == 200
    assert "FunctionError" not in ok
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:echo"
    assert json.loads(ok["Payload"].read()) == {"got": {"n": 1}, "memory": 128, "arn": arn}
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "CarrierUnavailableError"
    assert queued["StatusCode"] == 202
    assert len(lambdas.calls_to("echo")) == 3  # an Event invoke runs before invoke() returns
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


# --- DESIGN §5 facts --------------------------------------------------------------------------------


def test_server_mode_without_moto_port_cannot_reach_lambda(moto_server: str, sfn: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    definition = {"StartAt": "Quote", "States": {"Quote": lambda_task("quote", {}, End=True)}}
    with (
        mock.patch.dict("os.environ", {"MOTO_PORT": str(closed_port)}),
        inprocess_lambdas({"quote": lambda event, context: {}}) as lambdas,
    ):
        run = finished(sfn, start(sfn, create_machine(sfn, "unreachable", definition), "C-11"))

    assert run["status"] == "FAILED"
    assert run["error"] == "States.Runtime"  # not a Lambda.* error, so no Retry would catch it
    assert "Could not connect" in run["cause"]
    assert lambdas.calls == []


PASS_ONLY = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def test_state_machines_created_by_cloudformation_cannot_be_executed(mocked_aws: None, sfn: Any) -> None:
    template = {
        "Resources": {
            "ClaimStateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineName": "claim",
                    "DefinitionString": json.dumps(PASS_ONLY),
                    "RoleArn": ROLE_ARN,
                },
            }
        }
    }
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="aftersales", TemplateBody=json.dumps(template))
    [resource] = cloudformation.describe_stack_resources(StackName="aftersales")["StackResources"]

    assert sfn.list_state_machines()["stateMachines"] == []
    with pytest.raises(ClientError) as missing:
        start(sfn, resource["PhysicalResourceId"], "C-12")
    assert missing.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


def test_sqs_event_source_mapping_invokes_synchronously_one_record_at_a_time(
    mocked_aws: None,
) -> None:
    batches: list[list[str]] = []

    def logistics_events(event: dict[str, Any], context: object) -> None:
        batches.append([record["body"] for record in event["Records"]])

    iam, lam, sqs = boto3.client("iam"), boto3.client("lambda"), boto3.client("sqs")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context): pass\n")
    with inprocess_lambdas({"logistics_events": logistics_events}):
        lam.create_function(
            FunctionName="logistics_events",
            Runtime="python3.13",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
        )
        queue_url = sqs.create_queue(QueueName="logistics")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        lam.create_event_source_mapping(
            EventSourceArn=queue_arn["Attributes"]["QueueArn"], FunctionName="logistics_events", BatchSize=10
        )
        sqs.send_message(QueueUrl=queue_url, MessageBody="picked-up")
        assert batches == [["picked-up"]]  # delivered before send_message returned
        entries = [{"Id": str(i), "MessageBody": f"scan-{i}"} for i in range(2)]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)

    assert batches == [["picked-up"], ["scan-0"], ["scan-1"]]  # BatchSize is not honoured


def test_jsonata_fails_at_once_and_wait_timestamps_need_z(mocked_aws: None, sfn: Any) -> None:
    jsonata = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "End": True}},
    }
    run = finished(sfn, start(sfn, create_machine(sfn, "jsonata", jsonata), "J", {"a": 1}))
    assert (run["status"], run["error"]) == ("FAILED", "States.Runtime")

    wait_until = {"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.due_at", "End": True}}}
    machine = create_machine(sfn, "wait-until", wait_until)
    utc_z = finished(sfn, start(sfn, machine, "Z", {"due_at": "2024-01-01T00:00:00Z"}))
    offset = finished(sfn, start(sfn, machine, "O", {"due_at": "2024-01-01T00:00:00+00:00"}))
    assert utc_z["status"] == "SUCCEEDED"
    assert (offset["status"], offset["error"]) == ("FAILED", "States.Runtime")  # AWS accepts offsets
