"""Policy layers as immutable versions in the table: resolve, pin, save (decision 0045).

- A new claim takes the **current** version of its platform, category and merchant layers: one
  consistent BatchGetItem of their heads (``POLICY#HEADS``), reused by the process for
  ``policy_heads_max_age_seconds``; a head carries its version's content, so nothing else is read.
- Every later decision on the claim loads **the versions it recorded** (``pinned``): a version never
  changes, so each is read once per process and kept until ``reset_process_state``.
- A save merges the caller's partial policy into the layer's newest content (a merge patch), checks
  it against the schema and, above the platform, against the platform's floors
  (``domain.policy_floors``), and writes the next version on condition it does not exist. A save that
  loses the race to a concurrent one re-reads the head and is applied on top of it, as the next
  version: both saves are kept, in order.
- A layer that has no version yet and has a shipped seed (``aftersales.policies``) gets it as
  version 1 the first time it is needed, by the same conditional write (so it is written once).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales import clock, policies
from aftersales.domain import policy_floors
from aftersales.domain.claim import Claim
from aftersales.domain.errors import PolicyError
from aftersales.domain.policy import (
    PLATFORM,
    Layer,
    LayerKind,
    LayerRef,
    LayerVersion,
    Policy,
    merge,
    merge_patch,
)
from aftersales.observability import logger
from aftersales.process import per_process
from aftersales.service_errors import Conflict, NotFound
from aftersales.store import PolicyPage, Repository, VersionConflict, default_repository

# Each lost race means another save of the layer landed, so a save fails only when this many others
# land while it is being made (decision 0046).
SAVE_ATTEMPTS = 10
SEED_AUTHOR = "seed"


class VersionConflictError(Conflict):
    code = "version_conflict"


@dataclass(frozen=True)
class Resolved:
    """A policy and the layer versions it was built from."""

    policy: Policy
    versions: tuple[LayerVersion, ...]

    @property
    def refs(self) -> tuple[LayerRef, ...]:
        return tuple(v.ref for v in self.versions)

    def set_by(self) -> dict[str, LayerRef]:
        return policies.set_by(self.versions)


# ---------------------------------------------------------------- process caches


@per_process
def _versions() -> dict[tuple[str, LayerRef], LayerVersion]:
    return {}  # immutable versions, kept for the life of the process


@per_process
def _policies() -> dict[tuple[str, tuple[LayerRef, ...]], Resolved]:
    return {}


@per_process
def _heads() -> dict[tuple[str, Layer], tuple[float, LayerVersion | None]]:
    return {}  # each layer's head as read for new claims: (monotonic time read, head or none)


def _table(repo: Repository) -> str:
    return f"{repo.settings.dynamodb_endpoint or ''}/{repo.settings.table_name}"


def _remember(repo: Repository, version: LayerVersion) -> LayerVersion:
    _versions()[(_table(repo), version.ref)] = version
    return version


# ---------------------------------------------------------------- resolving


def layers_of(merchant_id: str | None, category: str | None) -> tuple[Layer, ...]:
    layers = [PLATFORM]
    if category:
        layers.append(Layer(LayerKind.CATEGORY, category))
    if merchant_id:
        layers.append(Layer(LayerKind.MERCHANT, merchant_id))
    return tuple(layers)


def current(
    merchant_id: str | None, category: str | None, *, repo: Repository | None = None, fresh: bool = False
) -> Resolved:
    """The policy a claim opened now is governed by: the newest version of each of its layers.
    ``fresh``: read the heads now, not the copy this process read within the max age."""
    repo = repo or default_repository()
    layers = layers_of(merchant_id, category)
    heads = _current_heads(layers, repo, fresh=fresh)
    return _resolve(repo, tuple(heads[layer] for layer in layers if layer in heads))


def platform_policy(*, repo: Repository | None = None) -> Policy:
    """The platform layer's newest version: what platform-only rules (``merchant_standing``) read."""
    return current(None, None, repo=repo).policy


def _current_heads(layers: tuple[Layer, ...], repo: Repository, *, fresh: bool) -> dict[Layer, LayerVersion]:
    """The heads of ``layers``: those this process read within the max age as they were, the others
    (a layer without a version too) in one read."""
    table, now, cache = _table(repo), time.monotonic(), _heads()
    max_age = repo.settings.policy_heads_max_age_seconds
    known = {layer: cache[(table, layer)] for layer in layers if (table, layer) in cache}
    stale = [layer for layer in layers if fresh or layer not in known or now - known[layer][0] >= max_age]
    heads = {layer: head for layer, (_, head) in known.items() if head is not None and layer not in stale}
    if stale:
        found = repo.policy_heads(stale)
        for layer in stale:
            head = found.get(layer) or _seed(layer, repo)
            cache[(table, layer)] = (now, head)
            if head is not None:
                heads[layer] = _remember(repo, head)
    if PLATFORM not in heads:
        raise PolicyError("the platform policy layer has no version and no seed")
    return heads


def pinned(refs: Sequence[LayerRef], *, repo: Repository | None = None) -> Resolved:
    """The policy of exactly these layer versions (cached for the life of the process)."""
    repo = repo or default_repository()
    return _resolve(repo, tuple(version(ref, repo=repo) for ref in refs))


def for_claim(claim: Claim, *, repo: Repository | None = None) -> Policy:
    """The policy that governs ``claim``: the layer versions it opened under, never today's."""
    refs = claim.policy_layers or policies.legacy_layers(
        claim.policy_version, claim.merchant_id, claim.category
    )
    return pinned(refs, repo=repo).policy


def version(ref: LayerRef, *, repo: Repository | None = None) -> LayerVersion:
    """One saved layer version; ``NotFound`` if the layer never had it."""
    repo = repo or default_repository()
    known = _versions().get((_table(repo), ref))
    if known is not None:
        return known
    found = repo.policy_version(ref)
    if found is None and ref.version == 1:
        found = _seed(ref.layer, repo)
    if found is None:
        raise NotFound("no such policy version", details={"layer": ref.layer.key, "version": ref.version})
    return _remember(repo, found)


def _resolve(repo: Repository, versions: tuple[LayerVersion, ...]) -> Resolved:
    key = (_table(repo), tuple(v.ref for v in versions))
    known = _policies().get(key)
    if known is None:
        known = Resolved(policies.effective(versions), tuple(policies.ordered(versions)))
        _policies()[key] = known
    return known


def _seed(layer: Layer, repo: Repository) -> LayerVersion | None:
    """Version 1 of ``layer`` from its shipped file, written once (a concurrent seeder wins the same
    conditional write; its version is read back)."""
    seed = policies.seed_content(layer)
    if seed is None:
        return None
    content, note = seed
    saved = LayerVersion(LayerRef(layer, 1), content, SEED_AUTHOR, clock.now(), note)
    try:
        repo.save_policy_version(saved)
        logger.info("policy layer seeded", extra={"layer": layer.key})
        return saved
    except VersionConflict:
        return repo.policy_version(LayerRef(layer, 1))


# ---------------------------------------------------------------- reading for people


def head(layer: Layer, *, repo: Repository | None = None) -> LayerVersion | None:
    """The newest version of ``layer`` (read now), seeding it if it has a shipped seed."""
    repo = repo or default_repository()
    found = repo.policy_heads([layer]).get(layer)
    return found if found is not None else _seed(layer, repo)


def versions(layer: Layer, *, cursor: str | None, limit: int, repo: Repository | None = None) -> PolicyPage:
    """A layer's versions, newest first (a seeded layer shows its seed)."""
    repo = repo or default_repository()
    if cursor is None:
        head(layer, repo=repo)
    return repo.policy_versions(layer, cursor=cursor, limit=limit)


def layer_list(
    kind: LayerKind | None, *, cursor: str | None, limit: int, repo: Repository | None = None
) -> PolicyPage:
    repo = repo or default_repository()
    if cursor is None and kind in (None, LayerKind.PLATFORM):
        head(PLATFORM, repo=repo)
    return repo.policy_layers(kind, cursor=cursor, limit=limit)


def effective_for(layer: Layer, category: str | None = None, *, repo: Repository | None = None) -> Resolved:
    """What a layer's owner sees as its policy now: the platform's for the platform, with the category
    layer for a category, with ``category``'s (if given) and the merchant's for a merchant."""
    if layer.kind is LayerKind.PLATFORM:
        return current(None, None, repo=repo, fresh=True)
    if layer.kind is LayerKind.CATEGORY:
        return current(None, layer.owner, repo=repo, fresh=True)
    return current(layer.owner, category, repo=repo, fresh=True)


# ---------------------------------------------------------------- saving


def save(
    layer: Layer,
    patch: Mapping[str, Any],
    *,
    saved_by: str,
    now: datetime,
    note: str = "",
    repo: Repository | None = None,
) -> LayerVersion:
    """Save a new version of ``layer``: its newest content with ``patch`` merged in (``null`` removes
    a value, so the layer below applies again). ``PolicyError`` (schema), ``BelowPlatformFloor`` /
    ``platform_only`` (floors); after repeated lost races, ``version_conflict``."""
    repo = repo or default_repository()
    if "version" in patch:
        raise PolicyError("a layer's version is given by the store", details={"field": "version"})
    for _ in range(SAVE_ATTEMPTS):
        before = head(layer, repo=repo)
        number = before.ref.version + 1 if before else 1
        content = merge_patch(before.content if before else {}, patch)
        content = _checked(layer, _fresh_sources(content, patch), number, repo)
        saved = LayerVersion(LayerRef(layer, number), content, saved_by, now, note)
        try:
            repo.save_policy_version(saved)
        except VersionConflict:
            logger.info(
                "policy save lost a race; applying it to the newer version", extra={"layer": layer.key}
            )
            continue
        _heads().clear()  # this process's new claims use the new version at once
        logger.info("policy layer saved", extra={"layer": layer.key, "version": number})
        return _remember(repo, saved)
    raise VersionConflictError(
        "the policy layer kept changing while it was being saved; read it again and retry",
        details={"layer": layer.key},
    )


def _checked(layer: Layer, content: dict[str, Any], number: int, repo: Repository) -> dict[str, Any]:
    """``content`` if the schema and the platform's floors accept it, with a source on every
    deadline the layer sets (each number names where it comes from)."""
    if layer.kind is LayerKind.PLATFORM:
        policies.validated({**content, "version": f"platform@{number}"})
        return content
    platform_version = head(PLATFORM, repo=repo)
    if platform_version is None:
        raise PolicyError("the platform policy layer has no version and no seed")
    platform_data = dict(platform_version.content)
    platform = policies.validated({**platform_data, "version": platform_version.ref.label})
    content = _with_sources(layer, content, number, platform)
    layered = policies.validated({**merge(platform_data, content), "version": f"{layer.key}@{number}"})
    policy_floors.check_layer(platform, layered, content)
    return content


def _fresh_sources(content: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A deadline the patch changes without saying why loses the reason given for its old value."""
    changed = patch.get("deadlines")
    deadlines = content.get("deadlines")
    if not isinstance(changed, Mapping) or not isinstance(deadlines, Mapping):
        return content
    kept = {
        kind: {k: v for k, v in rule.items() if k != "source"}
        if kind in changed and isinstance(changed[kind], Mapping) and "source" not in changed[kind]
        else rule
        for kind, rule in deadlines.items()
    }
    return {**content, "deadlines": kept}


def _with_sources(layer: Layer, content: dict[str, Any], number: int, platform: Policy) -> dict[str, Any]:
    deadlines = content.get("deadlines")
    if not isinstance(deadlines, Mapping):
        return content
    sourced = {}
    for kind, rule in deadlines.items():
        if isinstance(rule, Mapping) and "source" not in rule and kind in platform.deadlines:
            base = platform.deadlines[kind].source
            rule = {**rule, "source": f"{layer.key} policy v{number} (platform: {base})"}
        sourced[kind] = rule
    return {**content, "deadlines": sourced}
