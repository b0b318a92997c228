"""Read the SAM template: functions, HTTP API routes, event sources, and a plain CloudFormation translation.

The local stack is built from the same template.yaml as AWS. This module only reads it: which handler
each function runs, which routes the HTTP API serves (and which need the JWT authorizer), and which
functions are fed by queues or schedules. ``translate`` turns the SAM template into CloudFormation with
``aws-sam-translator`` and no AWS call, for moto's CloudFormation.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template
from samtranslator.yaml_helper import intrinsics_multi_constructor

from infra.local.moto_env import LOCAL_ACCOUNT_ID, LOCAL_REGION, function_arn

FUNCTION_TYPE = "AWS::Serverless::Function"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"
# SAM's name for the HTTP API it creates when a function's HttpApi event names no ApiId.
IMPLICIT_HTTP_API = "ServerlessHttpApi"
DEFAULT_ROUTE = "$default"
DEFAULT_IDENTITY_SOURCE = "$request.header.Authorization"
# Event types the local stack wires itself (queues deliver, schedules tick, rules match).
WIRED_EVENT_TYPES = frozenset({"SQS", "Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"})

LOCAL_ARTIFACT_BUCKET = "aftersales-local-artifacts"


class TemplateError(ValueError):
    """The template cannot be read as a SAM application."""


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands !Ref, !GetAtt, !Sub... without touching yaml.SafeLoader itself."""


# samtranslator's own constructor turns short tags into their long form ({"Fn::GetAtt": [a, b]}).
_CfnLoader.add_multi_constructor("!", intrinsics_multi_constructor)


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    code_uri: Any
    code_dir: Path | None
    runtime: str | None
    timeout: int | None
    memory_size: int | None
    environment: Mapping[str, Any]
    properties: Mapping[str, Any] = field(repr=False)

    @property
    def module(self) -> str:
        """``claims_api.app`` for the handler ``claims_api.app.lambda_handler``."""
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        """``lambda_handler`` for the handler ``claims_api.app.lambda_handler``."""
        return self.handler.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Route:
    method: str  # upper case; "ANY" matches every method
    path: str  # "/claims/{id}/cancel", or "$default"
    function: str  # logical id of the function behind the route
    auth_required: bool
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()
    identity_source: str = DEFAULT_IDENTITY_SOURCE
    api: str = IMPLICIT_HTTP_API
    event: str = ""
    payload_format_version: str = "2.0"

    @property
    def route_key(self) -> str:
        """The routeKey API Gateway puts in the event: ``POST /claims/{id}/cancel`` or ``$default``."""
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventSource:
    function: str
    name: str
    type: str
    properties: Mapping[str, Any] = field(repr=False)

    @property
    def target(self) -> str | None:
        """The logical id the event reads from (the queue of an SQS event, the bus of a rule), if any."""
        for key in ("Queue", "EventBusName"):
            if key in self.properties:
                return ref_target(self.properties[key])
        return None

    @property
    def schedule(self) -> str | None:
        """``rate(1 minute)`` / ``cron(...)`` for Schedule and ScheduleV2 events."""
        value = self.properties.get("Schedule", self.properties.get("ScheduleExpression"))
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class SamApp:
    path: Path | None
    template: Mapping[str, Any] = field(repr=False)
    functions: Mapping[str, Function]
    routes: tuple[Route, ...]
    event_sources: tuple[EventSource, ...]
    authorizers: Mapping[str, Mapping[str, Any]]

    def events_of(self, *types: str) -> tuple[EventSource, ...]:
        return tuple(e for e in self.event_sources if e.type in types)


def load_template(path: str | Path) -> dict[str, Any]:
    """The template as plain data, short-form intrinsics turned into their long form."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_CfnLoader)
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: no Resources section")
    return data


def load(path: str | Path) -> SamApp:
    path = Path(path)
    return parse(load_template(path), base_dir=path.parent, path=path)


def parse(template: Mapping[str, Any], *, base_dir: Path | None = None, path: Path | None = None) -> SamApp:
    resources: Mapping[str, Any] = template.get("Resources") or {}
    globals_: Mapping[str, Any] = template.get("Globals") or {}
    function_globals = globals_.get("Function") or {}
    api_globals = globals_.get("HttpApi") or {}

    apis: dict[str, Mapping[str, Any]] = {IMPLICIT_HTTP_API: api_globals}
    functions: dict[str, Function] = {}
    for logical_id, resource in resources.items():
        kind = resource.get("Type") if isinstance(resource, Mapping) else None
        if kind == HTTP_API_TYPE:
            apis[logical_id] = merge_globals(api_globals, resource.get("Properties") or {})
        elif kind == FUNCTION_TYPE:
            props = merge_globals(function_globals, resource.get("Properties") or {})
            functions[logical_id] = _function(logical_id, props, base_dir)

    authorizers: dict[str, Mapping[str, Any]] = {}
    for api in apis.values():
        authorizers.update(((api.get("Auth") or {}).get("Authorizers")) or {})

    routes: list[Route] = []
    sources: list[EventSource] = []
    for function in functions.values():
        for name, event in (function.properties.get("Events") or {}).items():
            kind = event.get("Type")
            props = event.get("Properties") or {}
            if kind == "HttpApi":
                routes.append(_route(function.logical_id, name, props, apis))
            elif kind in WIRED_EVENT_TYPES:
                sources.append(EventSource(function.logical_id, name, kind, props))
    return SamApp(
        path=path,
        template=template,
        functions=functions,
        routes=tuple(routes),
        event_sources=tuple(sources),
        authorizers=authorizers,
    )


def merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge, lists add up (globals first), anything else the resource wins."""
    merged = copy.deepcopy(dict(global_props))
    for key, value in props.items():
        current = merged.get(key)
        if (
            isinstance(current, dict)
            and isinstance(value, dict)
            and not (_is_intrinsic(current) or _is_intrinsic(value))
        ):
            merged[key] = merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = current + copy.deepcopy(value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def ref_target(value: Any) -> str | None:
    """The logical id behind ``{"Ref": X}`` or ``{"Fn::GetAtt": [X, attr]}``; None for anything else."""
    if isinstance(value, Mapping) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            return str(getatt[0])
        if isinstance(getatt, str):
            return getatt.split(".", 1)[0]
    return None


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    if len(value) != 1:
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _function(logical_id: str, props: Mapping[str, Any], base_dir: Path | None) -> Function:
    handler = props.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{logical_id}: Handler must be 'module.function', got {handler!r}")
    code_uri = props.get("CodeUri")
    code_dir = None
    if isinstance(code_uri, str) and "://" not in code_uri:
        code_dir = ((base_dir or Path.cwd()) / code_uri).resolve()
    environment = (props.get("Environment") or {}).get("Variables") or {}
    return Function(
        logical_id=logical_id,
        handler=handler,
        code_uri=code_uri,
        code_dir=code_dir,
        runtime=props.get("Runtime"),
        timeout=props.get("Timeout"),
        memory_size=props.get("MemorySize"),
        environment=environment,
        properties=props,
    )


def _route(
    function: str, event: str, props: Mapping[str, Any], apis: Mapping[str, Mapping[str, Any]]
) -> Route:
    api_id = ref_target(props.get("ApiId")) if props.get("ApiId") is not None else IMPLICIT_HTTP_API
    if api_id is None or api_id not in apis:
        raise TemplateError(f"{function}.{event}: ApiId {props.get('ApiId')!r} is not an HttpApi here")
    api_auth = apis[api_id].get("Auth") or {}
    path = props.get("Path")
    method = props.get("Method")
    if path is None and method is None:
        path, method = DEFAULT_ROUTE, "ANY"
    if not isinstance(path, str) or not isinstance(method, str):
        raise TemplateError(f"{function}.{event}: an HttpApi event needs both Path and Method")
    method = method.upper()
    if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
        method = "ANY"

    route_auth = props.get("Auth") or {}
    authorizer = route_auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
    if authorizer == "NONE" or authorizer is None:
        return Route(method, path, function, auth_required=False, api=api_id, event=event)
    definition = (api_auth.get("Authorizers") or {}).get(authorizer)
    if definition is None:
        raise TemplateError(f"{function}.{event}: authorizer {authorizer!r} is not defined on {api_id}")
    scopes = route_auth.get("AuthorizationScopes", definition.get("AuthorizationScopes")) or ()
    return Route(
        method=method,
        path=path,
        function=function,
        auth_required=True,
        authorizer=authorizer,
        scopes=tuple(scopes),
        identity_source=str(definition.get("IdentitySource", DEFAULT_IDENTITY_SOURCE)),
        api=api_id,
        event=event,
        payload_format_version=str(props.get("PayloadFormatVersion", "2.0")),
    )


# --- translation to CloudFormation -------------------------------------------------------------------


def _no_managed_policies() -> dict[str, str]:
    """Managed policy names resolve from SAM's bundled map; never ask IAM."""
    return {}


def translate(
    template_path: str | Path,
    parameter_values: Mapping[str, Any] | None = None,
    *,
    region: str = LOCAL_REGION,
    account_id: str = LOCAL_ACCOUNT_ID,
) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, translated offline.

    Local paths are packaged the way ``sam package`` would: code URIs point at a placeholder S3
    object (the handlers run in-process, not from the bucket), state machine and API definition
    files are inlined. Parameters without a value or default get a fake local value.
    """
    template_path = Path(template_path)
    sam = _package_locally(load_template(template_path), template_path.parent)
    params = _fake_parameters(sam, parameter_values or {})
    params.setdefault("AWS::Region", region)
    params.setdefault("AWS::AccountId", account_id)
    params.setdefault("AWS::Partition", "aws")

    # transform() would build a boto3 Session from the environment and fail without a region;
    # an explicit, credential-less Session only supplies the region name, it makes no call.
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    to_py27_compatible_template(sam, params)
    cfn = translator.translate(sam, parameter_values=params, get_managed_policy_map=_no_managed_policies)
    plain: dict[str, Any] = undo_mark_unicode_str_in_template(cfn)
    return plain


def _fake_parameters(sam: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(given)
    for name, spec in (sam.get("Parameters") or {}).items():
        if name in params or "Default" in spec:
            continue
        kind = str(spec.get("Type", "String"))
        params[name] = "0" if kind == "Number" else f"local-{name}".lower()
    return params


def _package_locally(sam: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    sam = copy.deepcopy(sam)

    def placeholder(uri: Any) -> Any:
        if isinstance(uri, str) and not uri.startswith("s3://"):
            return f"s3://{LOCAL_ARTIFACT_BUCKET}/{uri.strip('/') or 'code'}.zip"
        return uri

    function_globals = (sam.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = placeholder(function_globals["CodeUri"])
    for resource in sam["Resources"].values():
        props = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(props, dict):
            continue
        kind = resource.get("Type")
        if kind == FUNCTION_TYPE and "CodeUri" in props:
            props["CodeUri"] = placeholder(props["CodeUri"])
        elif kind == "AWS::Serverless::LayerVersion" and "ContentUri" in props:
            props["ContentUri"] = placeholder(props["ContentUri"])
        elif kind == STATE_MACHINE_TYPE and isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = _read_document(base_dir / props.pop("DefinitionUri"))
        elif kind in (HTTP_API_TYPE, "AWS::Serverless::Api") and isinstance(props.get("DefinitionUri"), str):
            props["DefinitionBody"] = _read_document(base_dir / props.pop("DefinitionUri"))
    return sam


def _read_document(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_CfnLoader)


def artifacts(cfn: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every code package a translated template points at.

    moto's CloudFormation fetches Lambda code from S3 when it creates a function, so the stack
    builder puts a small zip at each of these before creating the stack.
    """
    found: set[tuple[str, str]] = set()
    for resource in (cfn.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        location = props.get("Code") or props.get("Content")
        if resource.get("Type") in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion") and isinstance(
            location, Mapping
        ):
            bucket, key = location.get("S3Bucket"), location.get("S3Key")
            if isinstance(bucket, str) and isinstance(key, str):
                found.add((bucket, key))
    return sorted(found)


# --- intrinsic functions against a created stack ----------------------------------------------------


@dataclass(frozen=True)
class Intrinsics:
    """Ref / GetAtt / Sub / Join resolved as CloudFormation would once the stack exists: against its
    physical ids, the template's parameter defaults and the pseudo parameters (local account and
    region). ``physical`` may still grow while the stack is built: it is read on every call."""

    template: Mapping[str, Any]
    physical: Mapping[str, str]  # logical id → physical id (a Ref's value)
    stack_name: str

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, str | int | float | bool):
            return value
        if isinstance(value, list):
            return [self.resolve(v, where) for v in value]
        if isinstance(value, Mapping) and len(value) == 1:
            ((kind, arg),) = value.items()
            if kind == "Ref":
                return self.ref(str(arg), where)
            if kind == "Fn::GetAtt":
                target, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.getatt(str(target), str(attribute), where)
            if kind == "Fn::Sub":
                return self._sub(arg, where)
            if kind == "Fn::Join":
                separator, items = arg
                return str(separator).join(str(self.resolve(i, where)) for i in items)
        raise TemplateError(f"{where}: the local stack cannot resolve {value!r}")

    def _sub(self, arg: Any, where: str) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def sub(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in extra:
                return str(self.resolve(extra[key], where))
            if "." in key:
                target, attribute = key.split(".", 1)
                return str(self.getatt(target, attribute, where))
            return str(self.ref(key, where))

        return re.sub(r"\$\{([^}!]+)\}", sub, str(text))

    def ref(self, name: str, where: str) -> Any:
        pseudo = {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        parameters = self.template.get("Parameters") or {}
        if name in parameters:
            default = parameters[name].get("Default", "")
            return ",".join(map(str, default)) if isinstance(default, list) else default
        if name in self.physical:
            return self.physical[name]
        raise TemplateError(f"{where}: Ref {name} names nothing the local stack created")

    def getatt(self, target: str, attribute: str, where: str) -> Any:
        kind = (self.template["Resources"].get(target) or {}).get("Type")
        physical = self.ref(target, where)
        if kind == FUNCTION_TYPE and attribute == "Arn":
            return function_arn(physical)
        if kind == STATE_MACHINE_TYPE and attribute == "Name":
            return str(physical).rsplit(":", 1)[-1]
        if attribute == "Arn" and str(physical).startswith("arn:"):
            return physical
        raise TemplateError(f"{where}: the local stack cannot resolve {target}.{attribute}")
