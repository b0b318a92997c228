"""Reading the SAM template: functions, routes, event sources, and the offline CloudFormation translation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.local import template as tpl
from infra.local.template import TemplateError

REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
  UserPoolId:
    Type: String
    Default: ap-east-1_Example
Globals:
  Function:
    Runtime: python3.13
    Architectures: [arm64]
    CodeUri: functions/
    Timeout: 10
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        LOG_LEVEL: INFO
  HttpApi:
    Auth:
      DefaultAuthorizer: Cognito
      Authorizers:
        Cognito:
          IdentitySource: $request.header.Authorization
          JwtConfiguration:
            issuer: !Sub https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPoolId}
            audience: [app-client]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  CarrierQueue:
    Type: AWS::SQS::Queue
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared/
  OpsApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: OpsJwt
        Authorizers:
          OpsJwt:
            IdentitySource: $request.header.X-Ops-Token
            AuthorizationScopes: [aftersales/ops]
            JwtConfiguration:
              issuer: https://issuer.example
              audience: [ops-console]
  ClaimsApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: claims_api.app.lambda_handler
      Timeout: 15
      Layers: [arn:aws:lambda:ap-east-1:123456789012:layer:extra:1]
      Environment:
        Variables:
          LOG_LEVEL: DEBUG
      Events:
        GetClaim:
          Type: HttpApi
          Properties: {Path: "/claims/{id}", Method: get}
        Cancel:
          Type: HttpApi
          Properties: {Path: "/claims/{id}/cancel", Method: POST}
        Catchall:
          Type: HttpApi
  WebhookFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: logistics_webhook.app.lambda_handler
      CodeUri: webhook/
      Events:
        Carrier:
          Type: HttpApi
          Properties:
            Path: /webhooks/logistics/{carrier}
            Method: post
            Auth: {Authorizer: NONE}
  OpsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: ops.app.handler
      Events:
        Scorecard:
          Type: HttpApi
          Properties:
            ApiId: !Ref OpsApi
            Path: /ops/merchants/{merchant_id}/scorecard
            Method: GET
        Redrive:
          Type: HttpApi
          Properties:
            ApiId: !Ref OpsApi
            Path: /ops/redrive
            Method: POST
            Auth: {AuthorizationScopes: [aftersales/admin]}
  LogisticsEventsFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: logistics_events.app.lambda_handler
      Events:
        CarrierEvents:
          Type: SQS
          Properties:
            Queue: !GetAtt CarrierQueue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
  SlaTickFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: sla_tick.app.lambda_handler
      Events:
        EveryMinute:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 minute)
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 16 * * ? *)
        OrderEvents:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref AWS::NoValue
            Pattern: {source: [orders]}
  ClaimStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/claim.asl.json
      DefinitionSubstitutions:
        ReviewFunctionArn: !GetAtt ClaimsApiFunction.Arn
      Policies:
        - LambdaInvokePolicy: {FunctionName: !Ref ClaimsApiFunction}
"""

ASL = {
    "StartAt": "Review",
    "States": {"Review": {"Type": "Task", "Resource": "${ReviewFunctionArn}", "End": True}},
}


@pytest.fixture
def template_path(tmp_path):
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine" / "claim.asl.json").write_text(json.dumps(ASL))
    path = tmp_path / "template.yaml"
    path.write_text(SAM)
    return path


@pytest.fixture
def app(template_path):
    return tpl.load(template_path)


def routes_by_key(app):
    return {(r.api, r.route_key): r for r in app.routes}


# --- loading ------------------------------------------------------------------------------------------


def test_short_form_intrinsics_load_in_their_long_form(template_path):
    data = tpl.load_template(template_path)
    queue = data["Resources"]["LogisticsEventsFunction"]["Properties"]["Events"]["CarrierEvents"]
    assert queue["Properties"]["Queue"] == {"Fn::GetAtt": ["CarrierQueue", "Arn"]}
    assert data["Globals"]["Function"]["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "Table"}
    issuer = data["Globals"]["HttpApi"]["Auth"]["Authorizers"]["Cognito"]["JwtConfiguration"]["issuer"]
    assert issuer == {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPoolId}"}


def test_loading_leaves_yaml_safe_loader_untouched(template_path):
    before = dict(yaml.SafeLoader.yaml_multi_constructors)
    tpl.load_template(template_path)
    assert yaml.SafeLoader.yaml_multi_constructors == before


@pytest.mark.parametrize("text", ["Resources: [", "just: a mapping"])
def test_a_file_that_is_no_template_is_refused(tmp_path, text):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    with pytest.raises(TemplateError):
        tpl.load(path)


# --- functions ----------------------------------------------------------------------------------------


def test_every_function_with_its_handler_and_code(app, template_path):
    assert {f.logical_id: f.handler for f in app.functions.values()} == {
        "ClaimsApiFunction": "claims_api.app.lambda_handler",
        "WebhookFunction": "logistics_webhook.app.lambda_handler",
        "OpsFunction": "ops.app.handler",
        "LogisticsEventsFunction": "logistics_events.app.lambda_handler",
        "SlaTickFunction": "sla_tick.app.lambda_handler",
    }
    claims = app.functions["ClaimsApiFunction"]
    assert (claims.module, claims.attribute) == ("claims_api.app", "lambda_handler")
    assert claims.code_uri == "functions/"
    assert claims.code_dir == (template_path.parent / "functions").resolve()
    assert app.functions["WebhookFunction"].code_dir == (template_path.parent / "webhook").resolve()


def test_globals_merge_into_each_function(app):
    claims = app.functions["ClaimsApiFunction"]
    assert claims.runtime == "python3.13"
    assert claims.timeout == 15  # the function's own value wins
    assert app.functions["WebhookFunction"].timeout == 10
    assert claims.environment == {"TABLE_NAME": {"Ref": "Table"}, "LOG_LEVEL": "DEBUG"}
    assert app.functions["WebhookFunction"].environment["LOG_LEVEL"] == "INFO"
    # Lists add up, globals first.
    assert claims.properties["Layers"] == [
        {"Ref": "SharedLayer"},
        "arn:aws:lambda:ap-east-1:123456789012:layer:extra:1",
    ]


def test_an_intrinsic_is_replaced_whole_never_merged():
    merged = tpl.merge_globals({"Role": {"Fn::GetAtt": ["A", "Arn"]}}, {"Role": {"Ref": "B"}})
    assert merged == {"Role": {"Ref": "B"}}


def test_a_function_without_a_usable_handler_is_refused(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: x/}\n")
    with pytest.raises(TemplateError, match="Handler"):
        tpl.load(path)


# --- routes -------------------------------------------------------------------------------------------


def test_http_api_routes_with_methods_paths_and_functions(app):
    assert sorted(routes_by_key(app)) == [
        ("OpsApi", "GET /ops/merchants/{merchant_id}/scorecard"),
        ("OpsApi", "POST /ops/redrive"),
        ("ServerlessHttpApi", "$default"),
        ("ServerlessHttpApi", "GET /claims/{id}"),
        ("ServerlessHttpApi", "POST /claims/{id}/cancel"),
        ("ServerlessHttpApi", "POST /webhooks/logistics/{carrier}"),
    ]
    cancel = routes_by_key(app)[("ServerlessHttpApi", "POST /claims/{id}/cancel")]
    assert (cancel.method, cancel.path, cancel.function, cancel.event) == (
        "POST",
        "/claims/{id}/cancel",
        "ClaimsApiFunction",
        "Cancel",
    )


def test_the_default_authorizer_applies_unless_the_route_says_none(app):
    routes = routes_by_key(app)
    get_claim = routes[("ServerlessHttpApi", "GET /claims/{id}")]
    assert get_claim.auth_required and get_claim.authorizer == "Cognito"
    assert routes[("ServerlessHttpApi", "$default")].auth_required
    webhook = routes[("ServerlessHttpApi", "POST /webhooks/logistics/{carrier}")]
    assert not webhook.auth_required and webhook.authorizer is None


def test_an_explicit_api_uses_its_own_authorizer_scopes_and_identity_source(app):
    routes = routes_by_key(app)
    scorecard = routes[("OpsApi", "GET /ops/merchants/{merchant_id}/scorecard")]
    assert scorecard.authorizer == "OpsJwt"
    assert scorecard.scopes == ("aftersales/ops",)
    assert scorecard.identity_source == "$request.header.X-Ops-Token"
    assert routes[("OpsApi", "POST /ops/redrive")].scopes == ("aftersales/admin",)
    assert set(app.authorizers) == {"Cognito", "OpsJwt"}


def test_a_route_naming_an_undefined_authorizer_is_refused(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: a.b\n      Events:\n        E:\n          Type: HttpApi\n"
        "          Properties: {Path: /x, Method: GET, Auth: {Authorizer: Nope}}\n"
    )
    with pytest.raises(TemplateError, match="Nope"):
        tpl.load(path)


# --- event sources ------------------------------------------------------------------------------------


def test_queue_schedule_and_rule_events_are_listed_for_wiring(app):
    by_name = {e.name: e for e in app.event_sources}
    assert set(by_name) == {"CarrierEvents", "EveryMinute", "Nightly", "OrderEvents"}

    sqs = by_name["CarrierEvents"]
    assert (sqs.function, sqs.type, sqs.target) == ("LogisticsEventsFunction", "SQS", "CarrierQueue")
    assert sqs.properties["BatchSize"] == 10
    assert by_name["EveryMinute"].schedule == "rate(1 minute)"
    assert by_name["Nightly"].schedule == "cron(0 16 * * ? *)"
    assert by_name["OrderEvents"].type == "EventBridgeRule"
    assert [e.name for e in app.events_of("Schedule", "ScheduleV2")] == ["EveryMinute", "Nightly"]


# --- translation --------------------------------------------------------------------------------------


def test_translate_gives_plain_cloudformation_without_aws(template_path, monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

    cfn = tpl.translate(template_path)

    kinds = {r["Type"] for r in cfn["Resources"].values()}
    assert not any(k.startswith("AWS::Serverless::") for k in kinds)
    assert {"AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::ApiGatewayV2::Api"} <= kinds
    assert "Transform" not in cfn
    function = cfn["Resources"]["ClaimsApiFunction"]["Properties"]
    assert function["Handler"] == "claims_api.app.lambda_handler"
    assert function["Environment"]["Variables"]["LOG_LEVEL"] == "DEBUG"


def test_translate_inlines_the_state_machine_definition(template_path):
    machine = tpl.translate(template_path)["Resources"]["ClaimStateMachine"]["Properties"]
    definition = machine["DefinitionString"]
    text = "\n".join(definition["Fn::Join"][1]) if isinstance(definition, dict) else definition
    assert json.loads(text) == ASL
    assert machine["DefinitionSubstitutions"] == {
        "ReviewFunctionArn": {"Fn::GetAtt": ["ClaimsApiFunction", "Arn"]}
    }


def test_translate_points_code_at_placeholder_artifacts(template_path):
    cfn = tpl.translate(template_path)
    assert tpl.artifacts(cfn) == [
        (tpl.LOCAL_ARTIFACT_BUCKET, "functions.zip"),
        (tpl.LOCAL_ARTIFACT_BUCKET, "layers/shared.zip"),
        (tpl.LOCAL_ARTIFACT_BUCKET, "webhook.zip"),
    ]


# --- the real template --------------------------------------------------------------------------------


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml is not written yet")
def test_the_real_template_lists_routes_and_handlers():
    app = tpl.load(REAL_TEMPLATE)
    assert app.routes
    assert all(route.function in app.functions for route in app.routes)


# --- intrinsics against a created stack ---------------------------------------------------------------

CREATED = {
    "Parameters": {"Stage": {"Type": "String", "Default": "dev"}, "Zones": {"Default": ["a", "b"]}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Fn": {"Type": tpl.FUNCTION_TYPE},
        "Machine": {"Type": tpl.STATE_MACHINE_TYPE},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Bus": {"Type": "AWS::Events::EventBus"},
    },
}
PHYSICAL = {
    "Table": "aftersales-Table-1",
    "Fn": "aftersales-Fn-1",
    "Machine": "arn:aws:states:us-east-1:123456789012:stateMachine:claims",
    "Queue": "arn:aws:sqs:us-east-1:123456789012:q",
    "Bus": "service-bus",
}


@pytest.fixture
def intrinsics():
    return tpl.Intrinsics(CREATED, PHYSICAL, "aftersales")


def test_refs_name_physical_ids_parameter_defaults_and_pseudo_parameters(intrinsics):
    assert intrinsics.resolve({"Ref": "Table"}, "x") == "aftersales-Table-1"
    assert intrinsics.resolve({"Ref": "Stage"}, "x") == "dev"
    assert intrinsics.resolve({"Ref": "Zones"}, "x") == "a,b"
    assert intrinsics.resolve({"Ref": "AWS::StackName"}, "x") == "aftersales"
    assert intrinsics.resolve({"Ref": "AWS::AccountId"}, "x") == tpl.LOCAL_ACCOUNT_ID


def test_getatt_gives_function_arns_state_machine_names_and_arns(intrinsics):
    assert intrinsics.resolve({"Fn::GetAtt": "Fn.Arn"}, "x") == (
        f"arn:aws:lambda:{tpl.LOCAL_REGION}:{tpl.LOCAL_ACCOUNT_ID}:function:aftersales-Fn-1"
    )
    assert intrinsics.resolve({"Fn::GetAtt": ["Machine", "Name"]}, "x") == "claims"
    assert intrinsics.resolve({"Fn::GetAtt": ["Queue", "Arn"]}, "x") == PHYSICAL["Queue"]


def test_sub_and_join_resolve_what_they_contain(intrinsics):
    assert intrinsics.resolve({"Fn::Sub": "${AWS::StackName}-${Stage}-${Fn.Arn}"}, "x").startswith(
        "aftersales-dev-arn:aws:lambda:"
    )
    assert intrinsics.resolve({"Fn::Sub": ["${T}/${Bus}", {"T": {"Ref": "Table"}}]}, "x") == (
        "aftersales-Table-1/service-bus"
    )
    assert intrinsics.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "x") == "a-dev"
    assert intrinsics.resolve([{"Ref": "Stage"}, 3, True], "x") == ["dev", 3, True]


@pytest.mark.parametrize(
    "value",
    [
        {"Ref": "Nothing"},
        {"Fn::GetAtt": ["Table", "StreamArn"]},
        {"Fn::If": ["c", "a", "b"]},
        {"Ref": "Table", "Other": 1},
    ],
)
def test_what_cannot_be_resolved_is_refused_with_where_it_is(intrinsics, value):
    with pytest.raises(TemplateError, match=r"^Fn\.Environment\.X: "):
        intrinsics.resolve(value, "Fn.Environment.X")


def test_ids_created_after_the_resolver_are_seen():
    physical: dict[str, str] = {}
    intrinsics = tpl.Intrinsics(CREATED, physical, "aftersales")
    physical["Table"] = "made-later"
    assert intrinsics.resolve({"Ref": "Table"}, "x") == "made-later"
