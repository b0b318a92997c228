"""The whole service on one machine: moto as AWS, the real template, the real ASL, the real handlers.

``LocalStack`` builds and runs it in this process:

1. a moto server on 127.0.0.1 (the ``AWS_ENDPOINT_URL`` of every client, handlers included);
2. ``template.yaml`` translated offline and created in moto's CloudFormation;
3. each state machine of the template created again through the Step Functions API, with its
   definition substitutions resolved from the stack (moto cannot execute CloudFormation's copy);
4. every Lambda invoke (API, Step Functions tasks, SQS and EventBridge deliveries) run in-process by
   the handler the template names (``lambda_dispatch``);
5. the HTTP gateway for exactly the template's routes, verifying local JWTs like the authorizer;
6. the functions with a schedule (``sla_tick``) run every period on the real clock, or on ``advance``
   on the manual clock.

All handlers share this process, so their environment is one: the union of the template's
variables, resolved against the created stack. Two functions giving one variable different values
would be a conflict; the stack refuses to start rather than pick one.

A running stack writes ``<state_dir>/stack.json`` so that other commands (``aftersales local
advance|seed``, ``demo``, ``ops``) find its endpoints; ``RemoteStack`` is that view.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import re
import socket
import sys
import threading
import time
import urllib.request
import uuid
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from infra.local import tokens
from infra.local.gateway import LocalGateway
from infra.local.lambda_dispatch import Handler, InProcessLambdas, LocalLambdaContext, inprocess_lambdas
from infra.local.moto_server import MotoServer
from infra.local.template import (
    FUNCTION_TYPE,
    LOCAL_ACCOUNT_ID,
    LOCAL_REGION,
    STATE_MACHINE_TYPE,
    SamApp,
    TemplateError,
    artifacts,
    load,
    translate,
)
from infra.local.workflow import load_definition

LOG = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_STATE_DIR = REPO_ROOT / ".local-stack"
DEFAULT_STACK_NAME = "aftersales"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_API_PORT = 3000
DEFAULT_MOTO_PORT = 5000
STATE_FILE = "stack.json"
CLOCK_FILE = "clock"
CLOCK_ENV = "AFTERSALES_CLOCK_FILE"
SCHEDULE_TYPES = ("Schedule", "ScheduleV2")
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# Dummy credentials: moto accepts anything, and real ones must never reach the local endpoint.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class StackError(RuntimeError):
    """The local stack cannot start (or is not running); the message says what to do."""


class PortInUse(StackError):
    pass


# --- small helpers -----------------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """``3d``, ``12h``, ``90m``, ``30s``, ``1d12h`` → a timedelta."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([dhms])", text.strip().lower())
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text.strip().lower()):
        raise ValueError(f"not a duration: {text!r} (use e.g. 3d, 12h, 90m, 1d12h)")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    total = timedelta()
    for number, suffix in parts:
        total += timedelta(**{unit[suffix]: float(number)})
    return total


def schedule_seconds(expression: str | None, default: float = 60.0) -> float:
    """The period of ``rate(1 minute)`` / ``rate(5 minutes)``; cron expressions tick every minute."""
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", (expression or "").strip())
    if not match:
        return default
    per = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return float(int(match.group(1)) * per)


def ensure_port_free(host: str, port: int, what: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: a port with only closed (TIME_WAIT) connections is free; a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"{what} port {host}:{port} is already in use"
                " (is another `aftersales local up` running?). Stop it, or pick another port."
            ) from exc


def write_instant(path: Path, at: datetime) -> None:
    # Write-then-rename: a handler reading the clock never sees half a timestamp.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(at.astimezone(UTC).isoformat().replace("+00:00", "Z"), encoding="utf-8")
    tmp.replace(path)


def read_instant(path: Path) -> datetime:
    from aftersales.clock import parse_instant

    return parse_instant(path.read_text(encoding="utf-8"))


def clear_handler_caches() -> None:
    """Forget the settings and clients handlers built on first use (their cold start).

    They were possibly built before this stack set the environment (tests in the same process).
    """
    for name, module in list(sys.modules.items()):
        if not name.startswith("aftersales") or module is None:
            continue
        for value in list(vars(module).values()):
            if callable(value) and hasattr(value, "cache_clear") and hasattr(value, "cache_info"):
                value.cache_clear()


def scheduled_event(at: datetime, rule_arn: str) -> dict[str, Any]:
    """What EventBridge's schedule hands the function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [rule_arn],
        "detail": {},
    }


# --- what a running stack publishes -------------------------------------------------------------------


@dataclass(frozen=True)
class StackInfo:
    api_url: str
    endpoint_url: str
    stack_name: str
    region: str
    clock: str
    clock_file: str | None
    state_machines: dict[str, str]  # logical id → executable ARN
    functions: dict[str, str]  # logical id → function name in moto
    scheduled: list[str]  # logical ids of the functions with a schedule
    routes: list[str]
    pid: int = field(default_factory=os.getpid)

    @classmethod
    def read(cls, state_dir: Path | None = None) -> StackInfo:
        path = (state_dir or DEFAULT_STATE_DIR) / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StackError("no local stack is running here: start one with `make local`") from None
        info = cls(**data)
        if not _pid_alive(info.pid):
            raise StackError(
                f"the local stack recorded in {path} (pid {info.pid}) is gone: start one with `make local`"
            )
        return info


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the stack ----------------------------------------------------------------------------------------


@dataclass
class TickResult:
    function: str
    at: datetime
    result: Any


class LocalStack:
    """The service running in this process. ``with LocalStack(...) as stack:`` or ``start``/``stop``."""

    def __init__(
        self,
        template: str | Path = DEFAULT_TEMPLATE,
        *,
        moto_port: int = 0,
        api_port: int = 0,
        host: str = DEFAULT_HOST,
        clock: str = "manual",
        state_dir: str | Path | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
        start_at: datetime | None = None,
        tick_every: float | None = None,
        handler_log_level: str = "WARNING",
        publish: bool = True,
    ) -> None:
        if clock not in ("manual", "real"):
            raise ValueError("clock must be 'manual' or 'real'")
        self.template = Path(template)
        self.moto_port = moto_port
        self.api_port = api_port
        self.host = host
        self.clock = clock
        self.state_dir = Path(state_dir) if state_dir else DEFAULT_STATE_DIR
        self.stack_name = stack_name
        self.start_at = start_at
        self.tick_every = tick_every
        self.handler_log_level = handler_log_level
        self.publish = publish  # write stack.json for the other commands

        self.app: SamApp | None = None
        self.physical: dict[str, str] = {}
        self.handlers: dict[str, Handler] = {}  # by logical id
        self.state_machines: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.lambdas: InProcessLambdas | None = None
        self.gateway: LocalGateway | None = None
        self._moto: MotoServer | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_path: list[str] | None = None
        self._exit = contextlib.ExitStack()
        self._stop_ticking = threading.Event()
        self._ticker: threading.Thread | None = None
        self._tick_lock = threading.Lock()
        self._moto_filter = _UnmodelledResources()

    # -- lifecycle --

    def start(self) -> LocalStack:
        ensure_port_free(self.host, self.api_port, "The HTTP API")
        ensure_port_free(self.host, self.moto_port, "The moto (AWS endpoint)")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        app = self.app = load(self.template)
        self._saved_path = list(sys.path)
        for function in app.functions.values():
            if function.code_dir and str(function.code_dir) not in sys.path:
                sys.path.insert(0, str(function.code_dir))

        # Request lines and "not modelled" notes from moto would drown what the stack prints.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto_log = logging.getLogger("moto")
        moto_log.addFilter(self._moto_filter)
        self._exit.callback(moto_log.removeFilter, self._moto_filter)
        warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation.*")
        try:
            self._moto = MotoServer(self.host, self.moto_port)
        except OSError as exc:
            raise PortInUse(f"the moto port {self.host}:{self.moto_port} is already in use") from exc
        self._moto.start()
        endpoint = f"http://{self.host}:{self._moto.port}"
        # moto's Step Functions interpreter calls Lambda at localhost:$MOTO_PORT (docs/moto.md).
        self._set_env(
            {
                "MOTO_PORT": str(self._moto.port),
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_REGION": LOCAL_REGION,
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                **LOCAL_CREDENTIALS,
                "AWS_SESSION_TOKEN": None,
                "AWS_PROFILE": None,
            }
        )
        _post_json(f"{endpoint}/moto-api/config", MOTO_CONFIG)

        self._create_stack(endpoint)
        self._create_state_machines()
        self._set_env(self._function_environment())
        self._set_clock()
        clear_handler_caches()

        self.handlers = self._import_handlers()
        by_name = {self.physical[k]: h for k, h in self.handlers.items() if k in self.physical}
        self.lambdas = self._exit.enter_context(inprocess_lambdas({**self.handlers, **by_name}))

        self.gateway = LocalGateway(app.routes, self.handlers, host=self.host, port=self.api_port)
        try:
            self.gateway.start()
        except OSError as exc:
            raise PortInUse(f"the HTTP API port {self.host}:{self.api_port} is already in use") from exc

        if self.clock == "real" and self.scheduled:
            self._ticker = threading.Thread(target=self._tick_forever, name="schedules", daemon=True)
            self._ticker.start()
        if self.publish:
            self._write_state()

    def stop(self) -> None:
        self._stop_ticking.set()
        if self._ticker is not None:
            self._ticker.join(timeout=30)
            self._ticker = None
        if self.gateway is not None:
            with contextlib.suppress(RuntimeError):
                self.gateway.stop()
            self.gateway = None
        self._exit.close()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self.publish:
            with contextlib.suppress(FileNotFoundError):
                state = self.state_dir / STATE_FILE
                if json.loads(state.read_text()).get("pid") == os.getpid():
                    state.unlink()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        if self._saved_path is not None:
            sys.path[:] = self._saved_path
            self._saved_path = None
        clear_handler_caches()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what it serves --

    @property
    def api_url(self) -> str:
        assert self.gateway is not None, "the stack is not running"
        return self.gateway.url

    @property
    def endpoint_url(self) -> str:
        assert self._moto is not None, "the stack is not running"
        return f"http://{self.host}:{self._moto.port}"

    @property
    def clock_file(self) -> Path:
        return self.state_dir / CLOCK_FILE

    @property
    def scheduled(self) -> list[str]:
        assert self.app is not None
        return sorted({e.function for e in self.app.events_of(*SCHEDULE_TYPES)})

    def info(self) -> StackInfo:
        assert self.app is not None
        return StackInfo(
            api_url=self.api_url,
            endpoint_url=self.endpoint_url,
            stack_name=self.stack_name,
            region=LOCAL_REGION,
            clock=self.clock,
            clock_file=str(self.clock_file) if self.clock == "manual" else None,
            state_machines=dict(self.state_machines),
            functions={k: v for k, v in self.physical.items() if k in self.app.functions},
            scheduled=self.scheduled,
            routes=[r.route_key for r in self.app.routes],
        )

    def client(self, service: Any) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=LOCAL_REGION)

    # -- time --

    def now(self) -> datetime:
        from aftersales import clock

        return clock.now()

    def advance(self, delta: timedelta) -> list[TickResult]:
        """Move the manual clock forward by ``delta``, then run every scheduled function once."""
        if self.clock != "manual":
            raise StackError("the clock is real: start the stack with --clock manual to move time")
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._tick_lock:
            write_instant(self.clock_file, read_instant(self.clock_file) + delta)
        return self.tick()

    def tick(self) -> list[TickResult]:
        """Run each scheduled function once, in-process, as its schedule would."""
        results: list[TickResult] = []
        with self._tick_lock:
            for logical in self.scheduled:
                at = self.now()
                name = self.physical.get(logical, logical)
                context = LocalLambdaContext(
                    function_name=name,
                    invoked_function_arn=f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{name}",
                    aws_request_id=str(uuid.uuid4()),
                    timeout_seconds=int(self._function_props(logical).get("Timeout") or 30),
                )
                event = scheduled_event(at, f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:rule/{name}")
                results.append(TickResult(logical, at, self.handlers[logical](event, context)))
        return results

    def _tick_forever(self) -> None:
        assert self.app is not None
        periods = [schedule_seconds(e.schedule) for e in self.app.events_of(*SCHEDULE_TYPES)]
        period = self.tick_every or min(periods, default=60.0)
        while not self._stop_ticking.wait(period):
            try:
                self.tick()
            except Exception:
                LOG.exception("a scheduled run failed")

    # -- building it --

    def _set_env(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _set_clock(self) -> None:
        if self.clock == "manual":
            start = self.start_at or datetime.now(UTC).replace(microsecond=0)
            write_instant(self.clock_file, start)
            self._set_env({CLOCK_ENV: str(self.clock_file)})
        else:
            self._set_env({CLOCK_ENV: None})

    def _create_stack(self, endpoint: str) -> None:
        cfn_template = translate(
            self.template,
            {"JwtIssuer": tokens.LOCAL_ISSUER, "JwtAudience": tokens.LOCAL_AUDIENCE},
        )
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=LOCAL_REGION)
        # moto's CloudFormation reads each function's code from S3: an empty zip does (code runs here).
        empty_zip = io.BytesIO()
        with zipfile.ZipFile(empty_zip, "w"):
            pass
        for bucket in sorted({b for b, _ in artifacts(cfn_template)}):
            s3.create_bucket(Bucket=bucket)
        for bucket, key in artifacts(cfn_template):
            s3.put_object(Bucket=bucket, Key=key, Body=empty_zip.getvalue())

        cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name=LOCAL_REGION)
        cfn.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(cfn_template),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        status = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise StackError(f"moto could not create the stack from {self.template}: {status}")
        for resource in cfn.describe_stack_resources(StackName=self.stack_name)["StackResources"]:
            logical = resource.get("LogicalResourceId")
            if logical is None:
                continue  # moto lists some resources it does not model without their ids
            if resource.get("PhysicalResourceId"):
                self.physical[logical] = resource["PhysicalResourceId"]
            elif resource.get("ResourceType") == "AWS::Events::EventBus":
                # moto creates the bus but reports no physical id; its Ref is the bus name.
                props = cfn_template["Resources"][logical].get("Properties") or {}
                self.physical[logical] = str(self._resolve(props.get("Name", logical), logical))

    def _create_state_machines(self) -> None:
        assert self.app is not None
        sfn = self.client("stepfunctions")
        for logical, resource in self.app.template["Resources"].items():
            if resource.get("Type") != STATE_MACHINE_TYPE:
                continue
            props = resource.get("Properties") or {}
            uri = props.get("DefinitionUri")
            if not isinstance(uri, str):
                raise TemplateError(f"{logical}: the local stack needs DefinitionUri (an ASL file)")
            substitutions = {
                key: str(self._resolve(value, f"{logical}.DefinitionSubstitutions.{key}"))
                for key, value in (props.get("DefinitionSubstitutions") or {}).items()
            }
            definition = load_definition(substitutions, path=self.template.parent / uri)
            name = self._resolve(props.get("Name") or f"{self.stack_name}-{logical}", f"{logical}.Name")
            arn = sfn.create_state_machine(
                name=str(name),
                definition=json.dumps(definition),
                roleArn=f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{self.stack_name}-{logical}",
                type=str(props.get("Type") or "STANDARD"),
            )["stateMachineArn"]
            # Refs to the machine now name the copy that executes.
            self.state_machines[logical] = self.physical[logical] = str(arn)

    def _function_props(self, logical: str) -> dict[str, Any]:
        assert self.app is not None
        return dict(self.app.functions[logical].properties)

    def _function_environment(self) -> dict[str, str | None]:
        assert self.app is not None
        merged: dict[str, str] = {}
        owner: dict[str, str] = {}
        for logical, function in self.app.functions.items():
            for name, value in function.environment.items():
                resolved = str(self._resolve(value, f"{logical}.Environment.{name}"))
                if name in merged and merged[name] != resolved:
                    raise StackError(
                        f"{owner[name]} and {logical} set {name} to different values; the local stack "
                        "runs every handler in one process with one environment"
                    )
                merged[name] = resolved
                owner.setdefault(name, logical)
        self.env = dict(merged)
        env: dict[str, str | None] = dict(merged)
        # X-Ray has no local daemon; logs are quiet unless asked for.
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
        env["POWERTOOLS_LOG_LEVEL"] = self.handler_log_level
        env["POWERTOOLS_METRICS_DISABLED"] = "true"
        return env

    def _import_handlers(self) -> dict[str, Handler]:
        assert self.app is not None
        found: dict[str, Handler] = {}
        for logical, function in self.app.functions.items():
            module = importlib.import_module(function.module)
            handler = getattr(module, function.attribute, None)
            if not callable(handler):
                raise TemplateError(f"{logical}: {function.handler} is not a function")
            found[logical] = handler
        return found

    def _resolve(self, value: Any, where: str) -> Any:
        """Ref / GetAtt / Sub / Join against the created stack, the parameters and pseudo parameters."""
        assert self.app is not None
        if isinstance(value, str | int | float | bool):
            return value
        if isinstance(value, list):
            return [self._resolve(v, where) for v in value]
        if isinstance(value, Mapping) and len(value) == 1:
            ((kind, arg),) = value.items()
            if kind == "Ref":
                return self._ref(str(arg), where)
            if kind == "Fn::GetAtt":
                target, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self._getatt(str(target), str(attribute), where)
            if kind == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def sub(match: re.Match[str]) -> str:
                    key = match.group(1)
                    if key in extra:
                        return str(self._resolve(extra[key], where))
                    if "." in key:
                        target, attribute = key.split(".", 1)
                        return str(self._getatt(target, attribute, where))
                    return str(self._ref(key, where))

                return re.sub(r"\$\{([^}!]+)\}", sub, str(text))
            if kind == "Fn::Join":
                separator, items = arg
                return str(separator).join(str(self._resolve(i, where)) for i in items)
        raise TemplateError(f"{where}: the local stack cannot resolve {value!r}")

    def _ref(self, name: str, where: str) -> Any:
        assert self.app is not None
        pseudo = {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        parameters = self.app.template.get("Parameters") or {}
        if name in parameters:
            default = parameters[name].get("Default", "")
            return ",".join(map(str, default)) if isinstance(default, list) else default
        if name in self.physical:
            return self.physical[name]
        raise TemplateError(f"{where}: Ref {name} names nothing the local stack created")

    def _getatt(self, target: str, attribute: str, where: str) -> Any:
        assert self.app is not None
        kind = (self.app.template["Resources"].get(target) or {}).get("Type")
        physical = self._ref(target, where)
        if kind == FUNCTION_TYPE and attribute == "Arn":
            return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{physical}"
        if kind == STATE_MACHINE_TYPE and attribute == "Name":
            return str(physical).rsplit(":", 1)[-1]
        if attribute == "Arn" and str(physical).startswith("arn:"):
            return physical
        raise TemplateError(f"{where}: the local stack cannot resolve {target}.{attribute}")

    def _write_state(self) -> None:
        state = self.state_dir / STATE_FILE
        tmp = state.with_name(f".{state.name}.tmp")
        tmp.write_text(json.dumps(asdict(self.info()), indent=2), encoding="utf-8")
        tmp.replace(state)


class _UnmodelledResources(logging.Filter):
    """moto warns for each resource type its CloudFormation does not model (the HTTP API, the bucket
    policy), on every stack read. The gateway serves the API from the template itself: drop them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No Moto CloudFormation support")


def _post_json(url: str, body: Mapping[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


# --- a stack running in another process ---------------------------------------------------------------


class RemoteStack:
    """The stack ``aftersales local up`` runs, seen from another process through its stack.json."""

    def __init__(self, info: StackInfo) -> None:
        self._info = info

    @classmethod
    def find(cls, state_dir: Path | None = None) -> RemoteStack:
        return cls(StackInfo.read(state_dir))

    def info(self) -> StackInfo:
        return self._info

    @property
    def api_url(self) -> str:
        return self._info.api_url

    def now(self) -> datetime:
        if self._info.clock_file:
            return read_instant(Path(self._info.clock_file))
        return datetime.now(UTC)

    def advance(self, delta: timedelta) -> list[TickResult]:
        """Move the stack's manual clock, then run its scheduled functions through moto's Lambda API
        (they run in the stack's process, like any invoke)."""
        if not self._info.clock_file:
            raise StackError("the running stack uses the real clock: restart it with --clock manual")
        clock_file = Path(self._info.clock_file)
        write_instant(clock_file, read_instant(clock_file) + delta)
        return self.tick()

    def tick(self) -> list[TickResult]:
        lam = boto3.client(
            "lambda",
            endpoint_url=self._info.endpoint_url,
            region_name=self._info.region,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        results = []
        for logical in self._info.scheduled:
            at = self.now()
            name = self._info.functions.get(logical, logical)
            event = scheduled_event(at, f"arn:aws:events:{self._info.region}:{LOCAL_ACCOUNT_ID}:rule/{name}")
            response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"null")
            if response.get("FunctionError"):
                error = f"{payload.get('errorType')}: {payload.get('errorMessage')}"
                raise StackError(f"{logical} failed: {error}")
            results.append(TickResult(logical, at, payload))
        return results


Stack = LocalStack | RemoteStack


def wait_until(probe: Callable[[], Any], *, timeout: float = 15.0, what: str = "it") -> Any:
    """Poll ``probe`` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
