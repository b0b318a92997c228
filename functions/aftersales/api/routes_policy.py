"""Policy layer routes: a merchant reads and saves its own layer (``/merchant/policy``), ops every
layer (``/ops/policy/platform``, ``/ops/policy/categories/{category}``,
``/ops/policy/merchants/{merchant_id}``). Each layer has the same four operations: the effective
policy with who set each value, a save (a partial policy, once per Idempotency-Key), its versions
newest first, one version."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from aftersales import clock, policy_layers
from aftersales.domain.claim import Actor
from aftersales.domain.model import Role
from aftersales.domain.policy import PLATFORM, Layer, LayerKind, LayerRef

from .idempotency import once_per_key
from .routes_common import require_role
from .schemas import Id, PolicySave
from .submit import IdempotencyKey
from .views import effective_policy_view, layer_version_view, policy_page_view

router = Router()  # type: ignore[no-untyped-call]

Cursor = Annotated[str | None, Query(max_length=2048)]
Limit = Annotated[int, Query(ge=1, le=100)]
Version = Annotated[int, Path(ge=1, le=999_999)]
CategoryFilter = Annotated[Id | None, Query()]


def _merchant(actor: Actor) -> Layer:
    return Layer(LayerKind.MERCHANT, actor.merchant_id or "")


def _category(category: str) -> Layer:
    return Layer(LayerKind.CATEGORY, category)


def _merchant_of(merchant_id: str) -> Layer:
    return Layer(LayerKind.MERCHANT, merchant_id)


def _effective(layer: Layer, actor: Actor, category: str | None = None) -> dict[str, Any]:
    return effective_policy_view(policy_layers.effective_for(layer, category), actor)


def _save(layer: Layer, body: PolicySave, key: str, actor: Actor) -> dict[str, Any]:
    def save() -> dict[str, Any]:
        saved = policy_layers.save(layer, body.policy, saved_by=actor.id, now=clock.now(), note=body.note)
        return layer_version_view(saved, actor)

    return once_per_key(
        save,
        key=key,
        caller=f"{actor.id}#{layer.key}",
        body=body.model_dump(mode="json"),
        lambda_context=router.lambda_context,
    )


def _versions(layer: Layer, actor: Actor, cursor: str | None, limit: int) -> dict[str, Any]:
    return policy_page_view(policy_layers.versions(layer, cursor=cursor, limit=limit), actor)


def _version(layer: Layer, actor: Actor, number: int) -> dict[str, Any]:
    return layer_version_view(policy_layers.version(LayerRef(layer, number)), actor)


# ---------------------------------------------------------------- the merchant's own layer


@router.get("/merchant/policy")
def merchant_policy(category: CategoryFilter = None) -> dict[str, Any]:
    """The policy the merchant's new claims get (``category``: for a line of that category)."""
    actor = require_role(router, Role.MERCHANT)
    return _effective(_merchant(actor), actor, category)


@router.put("/merchant/policy")
def save_merchant_policy(body: PolicySave, idempotency_key: IdempotencyKey) -> dict[str, Any]:
    actor = require_role(router, Role.MERCHANT)
    return _save(_merchant(actor), body, idempotency_key, actor)


@router.get("/merchant/policy/versions")
def merchant_policy_versions(cursor: Cursor = None, limit: Limit = 20) -> dict[str, Any]:
    actor = require_role(router, Role.MERCHANT)
    return _versions(_merchant(actor), actor, cursor, limit)


@router.get("/merchant/policy/versions/<version>")
def merchant_policy_version(version: Version) -> dict[str, Any]:
    actor = require_role(router, Role.MERCHANT)
    return _version(_merchant(actor), actor, version)


# ---------------------------------------------------------------- ops: every layer


@router.get("/ops/policy/layers")
def policy_layer_list(
    kind: Annotated[LayerKind | None, Query()] = None, cursor: Cursor = None, limit: Limit = 20
) -> dict[str, Any]:
    """Every layer that has a version, with its newest version."""
    actor = require_role(router, Role.OPS)
    return policy_page_view(policy_layers.layer_list(kind, cursor=cursor, limit=limit), actor)


@router.get("/ops/policy/platform")
def platform_policy() -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _effective(PLATFORM, actor)


@router.put("/ops/policy/platform")
def save_platform_policy(body: PolicySave, idempotency_key: IdempotencyKey) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _save(PLATFORM, body, idempotency_key, actor)


@router.get("/ops/policy/platform/versions")
def platform_policy_versions(cursor: Cursor = None, limit: Limit = 20) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _versions(PLATFORM, actor, cursor, limit)


@router.get("/ops/policy/platform/versions/<version>")
def platform_policy_version(version: Version) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _version(PLATFORM, actor, version)


@router.get("/ops/policy/categories/<category>")
def category_policy(category: str) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _effective(_category(category), actor)


@router.put("/ops/policy/categories/<category>")
def save_category_policy(category: str, body: PolicySave, idempotency_key: IdempotencyKey) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _save(_category(category), body, idempotency_key, actor)


@router.get("/ops/policy/categories/<category>/versions")
def category_policy_versions(category: str, cursor: Cursor = None, limit: Limit = 20) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _versions(_category(category), actor, cursor, limit)


@router.get("/ops/policy/categories/<category>/versions/<version>")
def category_policy_version(category: str, version: Version) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _version(_category(category), actor, version)


@router.get("/ops/policy/merchants/<merchant_id>")
def any_merchant_policy(merchant_id: str, category: CategoryFilter = None) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _effective(_merchant_of(merchant_id), actor, category)


@router.put("/ops/policy/merchants/<merchant_id>")
def save_any_merchant_policy(
    merchant_id: str, body: PolicySave, idempotency_key: IdempotencyKey
) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _save(_merchant_of(merchant_id), body, idempotency_key, actor)


@router.get("/ops/policy/merchants/<merchant_id>/versions")
def any_merchant_policy_versions(
    merchant_id: str, cursor: Cursor = None, limit: Limit = 20
) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _versions(_merchant_of(merchant_id), actor, cursor, limit)


@router.get("/ops/policy/merchants/<merchant_id>/versions/<version>")
def any_merchant_policy_version(merchant_id: str, version: Version) -> dict[str, Any]:
    actor = require_role(router, Role.OPS)
    return _version(_merchant_of(merchant_id), actor, version)
