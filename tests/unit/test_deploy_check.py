"""``make deploy-check`` passes on the template as it is, and fails on each defect when it comes back.

Each test puts one defect back into a copy of template.yaml (or of the ASL) and runs the check that
must catch it, on the SAM transform of that copy."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import check
from infra.deploy.check import Rehearsal

Sam = dict[str, Any]


@pytest.fixture(scope="module")
def current() -> Rehearsal:
    return Rehearsal.load()


def _changed(current: Rehearsal, change: Callable[[Sam], None]) -> Rehearsal:
    sam = copy.deepcopy(current.sam)
    change(sam)
    return Rehearsal.of(sam)


def _asl_changed(current: Rehearsal, change: Callable[[dict[str, Any]], None]) -> Rehearsal:
    definition = copy.deepcopy(current.asl["ClaimStateMachine"][1])
    change(definition)
    return Rehearsal(current.root, current.sam, current.cfn, {"ClaimStateMachine": ("", definition)})


def _props(sam: Sam, logical: str) -> dict[str, Any]:
    return sam["Resources"][logical]["Properties"]


def test_the_template_passes_every_check(current: Rehearsal) -> None:
    assert {name: run(current) for name, run in check.CHECKS.items()} == {name: [] for name in check.CHECKS}


def test_a_fixed_reserved_concurrency_fails(current: Rehearsal) -> None:
    def reserve(sam: Sam) -> None:
        _props(sam, "SlaTickFunction")["ReservedConcurrentExecutions"] = 1

    (problem,) = check.check_account_limits(_changed(current, reserve))
    assert problem.startswith("SlaTickFunction: ReservedConcurrentExecutions 1 is fixed")


def test_a_schedule_without_a_name_from_the_stack_fails(current: Rehearsal) -> None:
    def unnamed(sam: Sam) -> None:
        del _props(sam, "SlaTickFunction")["Events"]["EveryMinute"]["Properties"]["Name"]

    (problem,) = check.check_account_limits(_changed(current, unnamed))
    assert problem == (
        "SlaTickFunctionEveryMinute: Name 'SlaTickFunctionEveryMinute' is the same in every stack:"
        " derive it from the stack name"
    )


def test_a_stack_name_too_long_for_the_schedule_name_fails(current: Rehearsal) -> None:
    long = Rehearsal(current.root, current.sam, current.cfn, current.asl, stack_name="s" * 60)
    assert "SlaTickFunctionEveryMinute: Name is over 64 characters for stack" in " ".join(
        check.check_account_limits(long)
    )


def test_two_resources_with_one_name_fail(current: Rehearsal) -> None:
    def same(sam: Sam) -> None:
        name = _props(sam, "ReviewLogGroup")["LogGroupName"]
        _props(sam, "RefundLogGroup")["LogGroupName"] = name

    assert check.check_account_limits(_changed(current, same)) == [
        "RefundLogGroup: LogGroupName '/aws/lambda/aftersales/review' is also ReviewLogGroup's"
    ]


def test_a_wait_without_timeout_or_timeout_catch_fails(current: Rehearsal) -> None:
    def no_timeout(asl: dict[str, Any]) -> None:
        del asl["States"]["AwaitInspection"]["TimeoutSeconds"]
        asl["States"]["ParkForOps"]["Catch"] = []

    assert check.check_waits(_asl_changed(current, no_timeout)) == [
        "ClaimStateMachine.AwaitInspection: a callback wait without TimeoutSeconds waits up to a year",
        "ClaimStateMachine.ParkForOps: no Catch on States.Timeout to re-read the claim",
    ]


def test_a_retry_without_client_execution_timeout_fails(current: Rehearsal) -> None:
    def narrower(asl: dict[str, Any]) -> None:
        asl["States"]["Refund"]["Retry"][0]["ErrorEquals"].remove("Lambda.ClientExecutionTimeoutException")

    assert check.check_waits(_asl_changed(current, narrower)) == [
        "ClaimStateMachine.Refund: Retry does not cover Lambda.ClientExecutionTimeoutException"
    ]


def test_a_transition_to_no_state_fails(current: Rehearsal) -> None:
    def dangling(asl: dict[str, Any]) -> None:
        asl["States"]["Resync"]["Next"] = "NextStep"

    assert check.check_waits(_asl_changed(current, dangling)) == [
        "ClaimStateMachine.Resync: goes to NextStep, which is no state"
    ]


def test_placeholders_and_substitutions_must_match(current: Rehearsal) -> None:
    def drift(sam: Sam) -> None:
        subs = _props(sam, "ClaimStateMachine")["DefinitionSubstitutions"]
        subs["RefundFnArn"] = subs.pop("RefundFunctionArn")

    assert check.check_substitutions(_changed(current, drift)) == [
        "ClaimStateMachine: ${RefundFunctionArn} in the ASL has no DefinitionSubstitutions entry",
        "ClaimStateMachine: DefinitionSubstitutions RefundFnArn is not used by the ASL",
    ]


def test_the_asl_is_checked_against_the_step_functions_schema(current: Rehearsal) -> None:
    def invalid(asl: dict[str, Any]) -> None:
        asl["States"]["AwaitOps"]["TimeoutSeconds"] = "one day"

    problems = check.check_lint(_asl_changed(current, invalid))
    assert problems == [
        "cfn-lint E3601: 'one day' is not of type 'number' "
        "(Resources/ClaimStateMachine/Properties/Definition/States/AwaitOps/TimeoutSeconds)"
    ]


def test_full_table_crud_fails_least_privilege(current: Rehearsal) -> None:
    def crud(sam: Sam) -> None:
        _props(sam, "RefundFunction")["Policies"] = [
            {"DynamoDBCrudPolicy": {"TableName": {"Ref": "ClaimsTable"}}}
        ]

    problems = check.check_permissions(_changed(current, crud))
    assert "RefundFunction: grants dynamodb:Scan on ClaimsTable, never called" in problems
    assert "RefundFunction: grants dynamodb:DeleteItem on ClaimsTable, never called" in problems
    assert all(p.startswith("RefundFunction: grants") for p in problems)


def test_a_bucket_wide_write_and_a_missing_action_fail(current: Rehearsal) -> None:
    def broad(sam: Sam) -> None:
        statements = _props(sam, "ClaimsApiFunction")["Policies"][0]["Statement"]
        presign = next(s for s in statements if s["Sid"] == "PresignEvidenceUploads")
        presign["Resource"] = {"Fn::Sub": "${EvidenceBucket.Arn}/*"}
        resume = next(s for s in statements if s["Sid"] == "ResumeClaimRun")
        statements.remove(resume)

    assert check.check_permissions(_changed(current, broad)) == [
        "ClaimsApiFunction: needs s3:PutObject on EvidenceBucket/evidence/, not granted",
        "ClaimsApiFunction: needs states:SendTaskSuccess on ClaimStateMachine, not granted",
        "ClaimsApiFunction: grants s3:PutObject on EvidenceBucket/, never called",
    ]


def test_a_scheduled_function_with_lambda_retries_fails(current: Rehearsal) -> None:
    def retries(sam: Sam) -> None:
        del _props(sam, "SlaTickFunction")["EventInvokeConfig"]

    assert check.check_operability(_changed(current, retries)) == [
        "SlaTickFunction: scheduled, so EventInvokeConfig MaximumRetryAttempts must be 0",
        "SlaTickFunction: scheduled, so EventInvokeConfig MaximumEventAgeInSeconds ≤ 300",
    ]


def test_a_function_without_its_log_group_fails(current: Rehearsal) -> None:
    def undeclared(sam: Sam) -> None:
        del _props(sam, "RefundFunction")["LoggingConfig"]

    assert check.check_operability(_changed(current, undeclared)) == [
        "RefundFunction: LoggingConfig.LogGroup must name a template log group with RetentionInDays"
    ]


def test_an_unfiltered_rule_without_dead_letters_fails(current: Rehearsal) -> None:
    def unfiltered(sam: Sam) -> None:
        rule = _props(sam, "OrderEventsFunction")["Events"]["OrderDelivered"]["Properties"]
        del rule["Pattern"]["source"], rule["DeadLetterConfig"]

    assert check.check_operability(_changed(current, unfiltered)) == [
        "OrderEventsFunction.OrderDelivered: a rule on the default bus must filter on source",
        "OrderEventsFunction.OrderDelivered: the rule has no DeadLetterConfig; undeliverable events are lost",
    ]


def test_code_without_requirements_or_tzdata_fails(current: Rehearsal, tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    bare = Rehearsal(tmp_path, current.sam, current.cfn, current.asl)
    assert check.check_operability(bare) == [
        "functions/: no requirements.txt: sam build would ship the code without its dependencies"
    ]
    shutil.copy(current.root / "functions" / "requirements.txt", tmp_path / "functions")
    text = (tmp_path / "functions" / "requirements.txt").read_text()
    (tmp_path / "functions" / "requirements.txt").write_text(text.replace("tzdata==", "tz-data=="))
    assert check.check_operability(bare) == [
        "functions/requirements.txt: no tzdata; zoneinfo must not rely on the runtime"
    ]


def test_an_invalid_sam_template_fails_translation(current: Rehearsal) -> None:
    def broken(sam: Sam) -> None:
        _props(sam, "ClaimsApiFunction")["Events"]["ListClaims"]["Properties"]["ApiId"] = {"Ref": "NoSuchApi"}

    with pytest.raises(Exception, match="ApiId must be a valid reference"):
        _changed(current, broken)


def test_cors_is_on_only_with_origins_and_then_for_the_api_and_the_evidence_uploads() -> None:
    from infra.local.template import translate

    template = check.ROOT / "template.yaml"
    none = translate(template)["Resources"]
    api_cors = none["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]
    assert api_cors["Fn::If"][0] == "HasCors" and api_cors["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    origins = ["https://shop.example.com", "https://m.shop.example.com"]
    allowed = translate(template, {"AllowedOrigins": origins})["Resources"]
    api = allowed["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]["Fn::If"][1]
    assert api["allowOrigins"] == origins and "idempotency-key" in api["allowHeaders"]
    bucket = allowed["EvidenceBucket"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert bucket[0] == "HasCors" and bucket[1]["CorsRules"][0]["AllowedMethods"] == ["PUT"]
    assert bucket[1]["CorsRules"][0]["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
