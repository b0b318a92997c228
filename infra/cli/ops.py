"""``aftersales ops``: inspect claims, overdue deadlines and workflow runs; redrive dead letters.

Every command works against the local stack (its ``.local-stack/stack.json``) or a deployed one
(``--stack NAME``, standard AWS credentials and region; ``--endpoint-url`` for another endpoint).
``resolve`` finds the stack's resources once; the ``gather_*`` / ``redrive_dlqs`` functions read
through boto3 and the repository and return plain data; the commands only print it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlparse

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from rich.console import Console
from rich.table import Column, Table

from infra.cli.calendar import calendar_app
from infra.local.stack import DEFAULT_STACK_NAME, LOCAL_CREDENTIALS, StackError, StackInfo, read_instant

CLAIM_TABLE = "ClaimsTable"
CLAIM_STATE_MACHINE = "ClaimStateMachine"
DEFAULT_DUE_SHARDS = 16
QUEUE_TYPE = "AWS::SQS::Queue"
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")

ops_app = typer.Typer(
    help="Inspect claims, overdue deadlines and workflow runs; redrive dead letters.", no_args_is_help=True
)
dlq_app = typer.Typer(help="Dead-letter queues of the stack.", no_args_is_help=True)
ops_app.add_typer(dlq_app, name="dlq")
ops_app.add_typer(calendar_app, name="calendar")

err = Console(stderr=True)


class OpsError(RuntimeError):
    """The command cannot do its job; the message says what to do."""


# --- where is the stack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One stack's resources and how to reach them."""

    stack_name: str
    region: str
    endpoint_url: str | None  # None: AWS itself
    table_name: str
    state_machine_arn: str
    due_shards: int = DEFAULT_DUE_SHARDS
    queues: dict[str, str] = field(default_factory=dict)  # logical id → queue URL
    clock_file: str | None = None  # the local stack's manual clock

    @property
    def local(self) -> bool:
        """An endpoint on this machine is moto: it gets dummy credentials, never real ones."""
        return _is_local(self.endpoint_url)

    def client(self, service: str) -> Any:
        return _client(service, self.endpoint_url, self.region)

    def now(self) -> datetime:
        """The stack's time: the local manual clock when it has one."""
        if self.clock_file and Path(self.clock_file).exists():
            return read_instant(Path(self.clock_file))
        return datetime.now(UTC)

    def describe(self) -> dict[str, Any]:
        return {"stack": self.stack_name, "region": self.region, "endpoint_url": self.endpoint_url}


def _is_local(endpoint_url: str | None) -> bool:
    host = urlparse(endpoint_url).hostname if endpoint_url else None
    return host in {"127.0.0.1", "localhost", "::1"}


def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    credentials: dict[str, str] = {}
    if _is_local(endpoint_url):
        credentials = {
            "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **credentials)  # type: ignore[call-overload]


NO_STACK_HINT = (
    "start one here with `make local` (or `aftersales local up`), "
    "or point at a deployed one with `--stack NAME` (and `--region`)"
)


def resolve(
    *,
    state_dir: Path | None = None,
    endpoint_url: str | None = None,
    stack: str | None = None,
    region: str | None = None,
) -> Target:
    """The local stack of ``state_dir`` by default; ``--stack``/``--endpoint-url``: that stack in
    CloudFormation (resources by logical id, so any stack name and any generated names work)."""
    clock_file: str | None = None
    state_machine: str | None = None
    if stack is None and endpoint_url is None:
        try:
            info = StackInfo.read(state_dir)
        except StackError as exc:
            raise OpsError(f"{exc}; or point at a deployed stack with `--stack NAME`") from None
        endpoint_url, stack, region = info.endpoint_url, info.stack_name, info.region
        clock_file = info.clock_file
        # The local stack runs its own copy of the machine (moto cannot execute CloudFormation's).
        state_machine = info.state_machines.get(CLAIM_STATE_MACHINE)
    stack = stack or DEFAULT_STACK_NAME
    region = (
        region or boto3.session.Session().region_name or ("us-east-1" if _is_local(endpoint_url) else None)
    )
    if not region:
        raise OpsError("no AWS region: give --region or set AWS_REGION")
    where = endpoint_url or f"AWS {region}"
    cfn = _client("cloudformation", endpoint_url, region)
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":
            raise OpsError(f"no stack {stack!r} at {where}: {NO_STACK_HINT}") from None
        raise OpsError(f"cannot read stack {stack!r} at {where}: {exc}") from None
    except NoCredentialsError:
        raise OpsError("no AWS credentials: configure them (aws configure, AWS_PROFILE)") from None
    except (BotoCoreError, NoRegionError) as exc:
        raise OpsError(f"cannot reach {where}: {exc}; {NO_STACK_HINT}") from None
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    missing = [name for name in (CLAIM_TABLE, CLAIM_STATE_MACHINE) if name not in physical]
    if missing:
        raise OpsError(f"stack {stack!r} at {where} is not an aftersales stack: no {', '.join(missing)}")
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in described.get("Parameters") or []}
    queues = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("ResourceType") == QUEUE_TYPE and r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    return Target(
        stack_name=stack,
        region=region,
        endpoint_url=endpoint_url,
        table_name=physical[CLAIM_TABLE],
        state_machine_arn=state_machine or physical[CLAIM_STATE_MACHINE],
        due_shards=int(parameters.get("DueShards") or DEFAULT_DUE_SHARDS),
        queues=queues,
        clock_file=clock_file,
    )


@contextlib.contextmanager
def repository(target: Target) -> Iterator[Any]:
    """The service's repository bound to the target's table, unbound again afterwards: the models'
    binding is process-wide, and the local stack's handlers may share this process (tests)."""
    from aftersales.config import Settings
    from aftersales.store import Repository
    from aftersales.store.models import ALL_ITEM_CLASSES, TableItem

    keys = ("table_name", "region", "host", "aws_access_key_id", "aws_secret_access_key")
    saved = {key: getattr(TableItem.Meta, key, None) for key in keys}
    settings = Settings(
        table_name=target.table_name,
        idempotency_table_name="-",  # not read by ops
        state_machine_arn=target.state_machine_arn,
        region=target.region,
        dynamodb_endpoint=target.endpoint_url,
        due_shards=target.due_shards,
    )
    try:
        repo = Repository(settings)
        if target.local:
            TableItem.Meta.aws_access_key_id = LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"]  # type: ignore[attr-defined]
            TableItem.Meta.aws_secret_access_key = LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]  # type: ignore[attr-defined]
        yield repo
    finally:
        for key, value in saved.items():
            setattr(TableItem.Meta, key, value)
        for model in ALL_ITEM_CLASSES:
            model._connection = None


# --- what the commands gather ----------------------------------------------------------------------


def execution_arn(state_machine_arn: str, claim_id: str) -> str:
    """The claim's run: executions are named after the claim."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{claim_id}"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _event_row(event: dict[str, Any]) -> dict[str, Any]:
    details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
    return {
        "id": event.get("id"),
        "at": _iso(event.get("timestamp")),
        "type": event.get("type"),
        "state": details.get("name"),
        "error": details.get("error"),
        "cause": details.get("cause"),
    }


def gather_execution(target: Target, claim_id: str) -> dict[str, Any] | None:
    """The claim's run and its whole history (paged as on AWS), or None if it never started."""
    sfn = target.client("stepfunctions")
    arn = execution_arn(target.state_machine_arn, claim_id)
    try:
        described = sfn.describe_execution(executionArn=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return None
        raise
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = sfn.get_execution_history(
            executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events.extend(_event_row(e) for e in page.get("events", []))
        token = page.get("nextToken")
        if not token:
            break
    return {
        "arn": arn,
        "status": described.get("status"),
        "started_at": _iso(described.get("startDate")),
        "stopped_at": _iso(described.get("stopDate")),
        "error": described.get("error"),
        "states": [e["state"] for e in events if e["type"] and e["type"].endswith("StateEntered")],
        "events": events,
    }


def gather_claim(target: Target, claim_id: str) -> dict[str, Any] | None:
    """What ops staff see of the claim over the API (personal data masked), plus its workflow run."""
    from aftersales.api.views import detail_view
    from aftersales.claims import Actor
    from aftersales.domain.model import Role

    with repository(target) as repo:
        record = repo.get_claim_record(claim_id)
        if record is None:
            return None
        order = repo.get_order(record.claim.order_id)
        detail = detail_view(record, order.order if order else None, Actor(Role.OPS, "ops-cli"), target.now())
    return {**detail, "execution": gather_execution(target, claim_id)}


def gather_overdue(target: Target, *, limit: int = 50, now: datetime | None = None) -> dict[str, Any]:
    """Open deadlines past due at the stack's time, earliest first, read from the due index."""
    from aftersales.api.views import calendar_view
    from aftersales.store.mapping import item_to_deadline

    at = now or target.now()
    with repository(target) as repo:
        due = repo.overdue_deadlines(at, limit=limit)
        claims = {c.claim_id: c for c in repo.get_claims(d.claim_id for d in due)}
    rows = []
    for item in due:
        claim = claims.get(item.claim_id)
        due_at = datetime.fromisoformat(str(item.deadline_at).replace("Z", "+00:00"))
        rows.append(
            {
                "claim_id": item.claim_id,
                "deadline": item.kind,
                "owner": item.owner,
                "due_at": item.deadline_at,
                "overdue_hours": round((at - due_at).total_seconds() / 3600, 1),
                "on_expiry": item.on_expiry,
                "penalty": bool(item.penalty),
                "calendar": calendar_view(item_to_deadline(item).calendar_layer),
                "status": claim.status if claim else None,
                "merchant_id": claim.merchant_id if claim else None,
            }
        )
    return {"now": _iso(at), "overdue": rows}


def gather_executions(target: Target, *, status: str | None = None, limit: int = 50) -> dict[str, Any]:
    """Runs of the claim workflow, newest first as Step Functions lists them."""
    sfn = target.client("stepfunctions")
    rows: list[dict[str, Any]] = []
    token: str | None = None
    while len(rows) < limit:
        page = sfn.list_executions(
            stateMachineArn=target.state_machine_arn,
            maxResults=min(100, limit - len(rows)),
            **({"statusFilter": status} if status else {}),
            **({"nextToken": token} if token else {}),
        )
        for e in page.get("executions", []):
            rows.append(
                {
                    "claim_id": e.get("name"),
                    "status": e.get("status"),
                    "started_at": _iso(e.get("startDate")),
                    "stopped_at": _iso(e.get("stopDate")),
                    "arn": e.get("executionArn"),
                }
            )
        token = page.get("nextToken")
        if not token:
            break
    return {"state_machine": target.state_machine_arn, "status": status, "executions": rows[:limit]}


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def find_dlqs(target: Target) -> list[dict[str, Any]]:
    """The stack's queues that other queues send their dead letters to, with those source queues."""
    sqs = target.client("sqs")
    found = []
    for logical, url in sorted(target.queues.items()):
        sources = sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", [])
        if sources:
            found.append({"queue": logical, "url": url, "sources": list(sources)})
    return found


def _message_count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessages", 0))


def redrive_dlqs(target: Target, *, move_task: bool | None = None, batch: int = 10) -> dict[str, Any]:
    """Move every dead letter back to the queue it came from.

    On AWS one ``StartMessageMoveTask`` per DLQ (it moves asynchronously, to each message's source).
    moto has no move task (it answers 500): there, messages are received, sent to their source queue
    and deleted. ``move_task`` defaults to "not the local stack".
    """
    move_task = (not target.local) if move_task is None else move_task
    sqs = target.client("sqs")
    results = []
    for dlq in find_dlqs(target):
        waiting = _message_count(sqs, dlq["url"])
        row: dict[str, Any] = {**dlq, "messages": waiting, "moved": 0, "left": waiting, "task": None}
        if waiting and move_task:
            task = sqs.start_message_move_task(SourceArn=_queue_arn(sqs, dlq["url"]))
            row.update(task=task.get("TaskHandle"), left=None, moved=None)
        elif waiting:
            row.update(_move_by_hand(sqs, dlq["url"], dlq["sources"], batch))
        results.append(row)
    return {"dlqs": results}


def _move_by_hand(sqs: Any, dlq_url: str, sources: list[str], batch: int) -> dict[str, int]:
    by_arn = {_queue_arn(sqs, url): url for url in sources}
    moved = skipped = 0
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=batch,
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            attributes = message.get("Attributes", {})
            # SQS records where a dead letter came from; with one source queue there is no doubt.
            source = by_arn.get(attributes.get("DeadLetterQueueSourceArn", "")) or (
                sources[0] if len(sources) == 1 else None
            )
            if source is None:
                skipped += 1
                continue
            send: dict[str, Any] = {"QueueUrl": source, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                send["MessageAttributes"] = message["MessageAttributes"]
            if source.endswith(".fifo"):
                send["MessageGroupId"] = attributes.get("MessageGroupId", "redrive")
                send["MessageDeduplicationId"] = attributes.get(
                    "MessageDeduplicationId", message["MessageId"]
                )
            sqs.send_message(**send)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return {"moved": moved, "left": _message_count(sqs, dlq_url) if skipped else 0}


# --- the commands --------------------------------------------------------------------------------------

StateDir = Annotated[
    Path | None, typer.Option("--state-dir", help="The local stack's directory (default: .local-stack).")
]
EndpointUrl = Annotated[
    str | None, typer.Option("--endpoint-url", help="AWS endpoint (e.g. a moto server); default: AWS.")
]
StackName = Annotated[
    str | None, typer.Option("--stack", help="CloudFormation stack name (default: the local stack).")
]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION / profile).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")]


def _target(
    state_dir: Path | None, endpoint_url: str | None, stack: str | None, region: str | None
) -> Target:
    try:
        return resolve(state_dir=state_dir, endpoint_url=endpoint_url, stack=stack, region=region)
    except OpsError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _table(title: str, *columns: str) -> Table:
    # Ids and instants wrap rather than lose characters: ops copy them into the next command.
    return Table(
        *(Column(c, overflow="fold") for c in columns),
        title=title,
        title_justify="left",
        header_style="bold",
        box=None,
    )


def _short(instant: str | None) -> str:
    """``2026-11-22T23:20:43.661000Z`` → ``2026-11-22 23:20:43`` (tables only; JSON keeps it all)."""
    return (instant or "").replace("T", " ").replace("Z", "").split(".")[0]


@contextlib.contextmanager
def _aws_errors() -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        _fail(f"AWS refused: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith("pynamodb"):
            _fail(f"reading the claims table failed: {exc}")
        raise


@ops_app.command("claim")
def claim_command(
    claim_id: Annotated[str, typer.Argument(help="The claim id (also its workflow run's name).")],
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Show a claim: status, timeline, deadlines, penalties and its Step Functions run."""
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        detail = gather_claim(target, claim_id)
    if detail is None:
        _fail(f"no claim {claim_id} in stack {target.stack_name}")
    if as_json:
        _print_json({"target": target.describe(), **detail})
        return
    out = Console()
    claim = detail["claim"]
    out.print(
        f"[bold]{claim['claim_id']}[/bold]  {claim['type']} · {claim['reason']}  "
        f"[bold]{claim['status']}[/bold]" + (f" / {claim['outcome']}" if claim["outcome"] else ""),
        highlight=False,
    )
    out.print(
        f"order {claim['order_id']} line {claim['line_id']} × {claim['quantity']} "
        f"· buyer {claim['buyer_id']} "
        f"· merchant {claim['merchant_id']} · ¥{claim['amount']} · escalation {claim['escalation_level']} "
        f"· v{claim['version']} · policy {claim['policy_version']}",
        highlight=False,
    )
    timeline = _table("Timeline", "at", "who", "action", "from → to", "note")
    for entry in detail["timeline"]:
        who = f"{entry['actor']['role']} {entry['actor']['id']}"
        timeline.add_row(
            _short(entry["at"]),
            who,
            entry["action"],
            f"{entry['from'] or '-'} → {entry['to']}",
            entry["note"] or "",
        )
    out.print(timeline)
    deadlines = _table("Deadlines", "deadline", "owner", "due", "on expiry", "penalty", "calendar", "state")
    for d in detail["deadlines"]:
        state = "open" if d["open"] else f"met {_short(d['met_at'])}"
        deadlines.add_row(
            d["kind"],
            d["owner"],
            _short(d["due_at"]),
            d["on_expiry"],
            "yes" if d["penalty"] else "",
            _calendar_cell(d["calendar"]),
            state,
        )
    out.print(deadlines if detail["deadlines"] else "[dim]no deadlines[/dim]")
    penalties = detail["penalties"]
    if penalties["days"]:
        table = _table(f"Penalties: ¥{penalties['total']}", "deadline", "day", "amount (¥)", "accrued")
        for day in penalties["days"]:
            table.add_row(day["deadline"], str(day["day"]), day["amount"], _short(day["at"]))
        out.print(table)
    else:
        out.print("penalties: none")
    run = detail["execution"]
    if run is None:
        out.print("[yellow]no workflow run for this claim[/yellow]")
        return
    history = _table(
        f"Workflow run: {run['status']} (started {_short(run['started_at'])})",
        "#",
        "at",
        "event",
        "state",
        "error",
    )
    for event in run["events"]:
        history.add_row(
            str(event["id"]),
            _short(event["at"]),
            event["type"] or "",
            event["state"] or "",
            event["error"] or "",
        )
    out.print(history)


def _calendar_cell(calendar: dict[str, Any] | None) -> str:
    """``library`` / ``file`` as is; a provisional or Monday-Friday count stands out."""
    if calendar is None:
        return "clock"
    return calendar["layer"] if calendar["official"] else f"[yellow]{calendar['layer']}[/yellow]"


@ops_app.command("overdue")
def overdue_command(
    limit: Annotated[int, typer.Option(help="At most this many deadlines.", min=1, max=1000)] = 50,
    at: Annotated[
        str | None, typer.Option("--at", help="Overdue at this ISO instant (default: the stack's now).")
    ] = None,
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Open deadlines past due, earliest first (read from the due index, never a scan)."""
    from aftersales.clock import parse_instant

    try:
        now = parse_instant(at) if at else None
    except ValueError:
        _fail(f"--at: not an ISO instant: {at!r} (e.g. 2026-11-20T10:00:00Z)", 2)
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        result = gather_overdue(target, limit=limit, now=now)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    rows = result["overdue"]
    table = _table(
        f"Overdue at {_short(result['now'])}: {len(rows)} (* accrues a penalty)",
        "claim",
        "deadline",
        "owner",
        "overdue",
        "on expiry",
        "calendar",
        "status",
    )
    table.columns[0].no_wrap = True
    for r in rows:
        table.add_row(
            r["claim_id"],
            r["deadline"] + (" *" if r["penalty"] else ""),
            r["owner"],
            f"{r['overdue_hours']} h",
            r["on_expiry"],
            _calendar_cell(r["calendar"]),
            r["status"] or "?",
        )
    Console().print(table if rows else f"nothing overdue at {result['now']}", highlight=False)


@ops_app.command("executions")
def executions_command(
    status: Annotated[
        str | None, typer.Option(help=f"Only runs in this status: {', '.join(EXECUTION_STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs.", min=1, max=1000)] = 50,
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Runs of the claim workflow (one per claim, named after it), newest first."""
    if status is not None and status.upper() not in EXECUTION_STATUSES:
        _fail(f"--status must be one of {', '.join(EXECUTION_STATUSES)}", 2)
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        result = gather_executions(target, status=status.upper() if status else None, limit=limit)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    rows = result["executions"]
    which = f"{status.upper()} " if status else ""
    title = f"{len(rows)} {which}runs of {target.state_machine_arn.rsplit(':', 1)[-1]}"
    table = _table(title, "claim", "status", "started", "stopped")
    for r in rows:
        table.add_row(r["claim_id"], r["status"], _short(r["started_at"]), _short(r["stopped_at"]))
    Console().print(table, highlight=False)


@dlq_app.command("redrive")
def dlq_redrive_command(
    state_dir: StateDir = None,
    endpoint_url: EndpointUrl = None,
    stack: StackName = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Move the messages of every dead-letter queue of the stack back to their source queue."""
    target = _target(state_dir, endpoint_url, stack, region)
    with _aws_errors():
        result = redrive_dlqs(target)
    if as_json:
        _print_json({"target": target.describe(), **result})
        return
    out = Console()
    if not result["dlqs"]:
        out.print(f"stack {target.stack_name} has no dead-letter queues: nothing to redrive")
        return
    table = _table("Dead letters", "queue", "messages", "moved", "left", "back to")
    for r in result["dlqs"]:
        moved = "move task " + str(r["task"]) if r["task"] else str(r["moved"])
        left = "" if r["left"] is None else str(r["left"])
        table.add_row(
            r["queue"], str(r["messages"]), moved, left, ", ".join(u.rsplit("/", 1)[-1] for u in r["sources"])
        )
    out.print(table, highlight=False)
