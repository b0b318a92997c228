"""Policy data: the shipped seeds of the policy layers, and a policy built from layer versions.

The layers themselves live in the table as immutable versions (``aftersales.policy_layers``). What is
shipped here seeds them: ``default.yaml`` is version 1 of the platform layer, and a
``merchant-<id>.yaml`` or ``category-<category>.yaml`` beside it is version 1 of that layer, written
the first time the layer is needed and found empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aftersales.domain import policy_floors
from aftersales.domain.errors import PolicyError
from aftersales.domain.policy import (
    LAYER_ORDER,
    Layer,
    LayerKind,
    LayerRef,
    LayerVersion,
    Policy,
    leaf_paths,
    merge,
    version_string,
)

POLICY_DIR = Path(__file__).parent
DEFAULT_POLICY_FILE = POLICY_DIR / "default.yaml"


def _read(path: Path) -> dict[str, Any]:
    import yaml  # imported by the first read (once per process), not by every handler at import

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PolicyError(f"{path.name}: a policy file must be a mapping")
    return data


def validated(data: Mapping[str, Any]) -> Policy:
    """``data`` as a ``Policy``, or ``PolicyError`` (``invalid_policy``) listing what is wrong."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        errors = [
            {
                "loc": [str(part) for part in item.get("loc", ())],
                "type": item.get("type"),
                "msg": item.get("msg"),
            }
            for item in exc.errors()
        ]
        raise PolicyError(
            f"invalid policy: {exc.error_count()} error(s)", details={"errors": errors}
        ) from exc


def load_policy(*layers: Path | Mapping[str, Any], base: Path = DEFAULT_POLICY_FILE) -> Policy:
    """The base policy file with each layer (a file or a mapping) merged on top, validated; each
    layer carries its own ``version`` and the result names them all (``platform-2026.11+m@1``)."""
    data = _read(base)
    versions = [str(data.get("version", ""))]
    for layer in layers:
        override = _read(layer) if isinstance(layer, Path) else dict(layer)
        if "version" not in override:
            raise PolicyError("an override must carry its own version")
        versions.append(str(override.pop("version")))
        data = merge(data, override)
    data["version"] = "+".join(versions)
    return validated(data)


@cache
def default_policy() -> Policy:
    """The shipped platform defaults (``default.yaml``), as the platform layer's seed."""
    return load_policy()


def seed_file(layer: Layer) -> Path | None:
    """The shipped file that seeds ``layer``, if any."""
    path = DEFAULT_POLICY_FILE if layer.kind is LayerKind.PLATFORM else POLICY_DIR / f"{layer.key}.yaml"
    return path if path.exists() else None


def seed_content(layer: Layer) -> tuple[dict[str, Any], str] | None:
    """Version 1 of ``layer`` as shipped: its content (without the file's ``version``) and a note
    naming the file and its version."""
    path = seed_file(layer)
    if path is None:
        return None
    data = _read(path)
    label = str(data.pop("version", ""))
    return data, f"seeded from {path.name} ({label})"


def legacy_layers(policy_version: str, merchant_id: str, category: str | None) -> tuple[LayerRef, ...]:
    """The layers of a claim stored before layers were recorded: its ``policy_version`` named the
    shipped files it was decided under (``platform-2026.11+merchant-example@1``), which are now the
    seeds, version 1, of those layers."""
    refs = [LayerRef(Layer(LayerKind.PLATFORM), 1)]
    parts = policy_version.split("+")[1:]
    if category and any(part.startswith(f"category-{category}@") for part in parts):
        refs.append(LayerRef(Layer(LayerKind.CATEGORY, category), 1))
    if any(part.startswith(f"merchant-{merchant_id}@") for part in parts):
        refs.append(LayerRef(Layer(LayerKind.MERCHANT, merchant_id), 1))
    return tuple(refs)


def ordered(versions: Sequence[LayerVersion]) -> list[LayerVersion]:
    return sorted(versions, key=lambda v: LAYER_ORDER.index(v.ref.layer.kind))


def effective(versions: Sequence[LayerVersion]) -> Policy:
    """The policy of these layer versions (one platform version, then at most one category and one
    merchant version), named by them all (``platform@3+category-phones@1+merchant-m1@2``)."""
    return validated(_effective_data(versions))


def _effective_data(versions: Sequence[LayerVersion]) -> dict[str, Any]:
    layers = ordered(versions)
    if not layers or layers[0].ref.layer.kind is not LayerKind.PLATFORM:
        raise PolicyError("a policy needs its platform layer")
    platform_data = dict(layers[0].content)
    data = dict(platform_data)
    for above in layers[1:]:
        data = merge(data, within_floors(platform_data, above.content))
    data["version"] = version_string([v.ref for v in layers])
    return data


def within_floors(platform_data: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """A stored category or merchant layer as it applies under this platform version: a value the
    platform's floors now refuse (the platform raised a floor after the layer was saved) gives way to
    the platform's, so no claim is ever decided below the floor of its own platform version."""
    platform = validated({**platform_data, "version": "platform"})
    layered = validated({**merge(platform_data, layer), "version": "layered"})
    refused = [v.field for v in policy_floors.violations(platform, layered, layer)]
    return policy_floors.without(layer, refused) if refused else dict(layer)


def set_by(versions: Sequence[LayerVersion]) -> dict[str, LayerRef]:
    """Which layer version set each value of the effective policy (dotted path → the last layer
    that set it and that the floors let stand)."""
    layers = ordered(versions)
    platform_data = dict(layers[0].content)
    found: dict[str, LayerRef] = {path: layers[0].ref for path in leaf_paths(platform_data)}
    for above in layers[1:]:
        for path in leaf_paths(within_floors(platform_data, above.content)):
            found[path] = above.ref
    return dict(sorted(found.items()))
