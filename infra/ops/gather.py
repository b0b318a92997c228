"""What the ops commands show, gathered as plain data: a claim with its run, overdue deadlines,
workflow runs. Read through boto3 and the service's repository; printing is the CLI's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

from infra.ops.target import Target, repository

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


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
    from aftersales import claims
    from aftersales.api.views import detail_view
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Role
    from aftersales.service_errors import NotFound

    viewer = Actor(Role.OPS, "ops-cli")
    with repository(target) as repo:
        try:
            detail = detail_view(claims.detail(claim_id, viewer, repo=repo), viewer, target.now())
        except NotFound:
            return None
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


def _layer_of(name: str) -> Any:
    """``platform``, ``category:<c>`` or ``merchant:<m>`` as a policy layer."""
    from aftersales.domain.policy import PLATFORM, Layer, LayerKind

    if name == "platform":
        return PLATFORM
    kind, _, owner = name.partition(":")
    if kind not in ("category", "merchant") or not owner:
        raise ValueError(f"not a layer: {name!r} (platform, category:<category>, merchant:<merchant id>)")
    return Layer(LayerKind(kind), owner)


def gather_policy(
    target: Target,
    *,
    layer: str | None = None,
    merchant: str | None = None,
    category: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """The policy layers and their newest versions; with ``layer``, that layer's versions newest
    first; with ``merchant``, the policy its new claims get (with ``category``: for such a line) and
    who set each value. Read only: a layer never saved is shown as its seed would be, not written."""
    from aftersales import policy_layers
    from aftersales.api.views import effective_policy_view, layer_version_view
    from aftersales.domain.claim import Actor
    from aftersales.domain.model import Role

    viewer = Actor(Role.OPS, "ops-cli")
    with repository(target) as repo:
        if merchant:
            seeded = bool(repo.policy_layers(None, cursor=None, limit=1).versions)
            effective = (
                effective_policy_view(
                    policy_layers.current(merchant, category, repo=repo, fresh=True), viewer
                )
                if seeded
                else None
            )
            return {"merchant_id": merchant, "category": category, "effective": effective}
        versions: list[Any] = []
        cursor: str | None = None
        while len(versions) < limit:
            page = (
                repo.policy_versions(_layer_of(layer), cursor=cursor, limit=limit)
                if layer
                else repo.policy_layers(None, cursor=cursor, limit=limit)
            )
            versions.extend(page.versions)
            cursor = page.cursor
            if cursor is None:
                break
    key = "versions" if layer else "layers"
    return {"layer": layer, key: [layer_version_view(v, viewer) for v in versions[:limit]]}


def gather_scorecard(
    target: Target, merchant_id: str, first: date | None, last: date | None, *, products: int = 10
) -> dict[str, Any]:
    """A merchant's scorecard and badge, as ``GET /ops/merchants/{id}/scorecard`` answers it."""
    from aftersales import scorecards
    from aftersales.api.scorecard_views import scorecard_view

    with repository(target) as repo:
        card = scorecards.merchant_scorecard(
            merchant_id, first, last, target.now(), product_limit=products, repo=repo
        )
    return scorecard_view(card)
