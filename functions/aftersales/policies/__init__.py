"""Policy data: the platform defaults, and merchant or category overrides layered on top."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aftersales.domain.errors import PolicyError
from aftersales.domain.policy import Policy

POLICY_DIR = Path(__file__).parent
DEFAULT_POLICY_FILE = POLICY_DIR / "default.yaml"


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else in the override replaces the base."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict[str, Any]:
    import yaml  # imported by the first read (once per process), not by every handler at import

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PolicyError(f"{path.name}: a policy file must be a mapping")
    return data


def load_policy(*layers: Path | Mapping[str, Any], base: Path = DEFAULT_POLICY_FILE) -> Policy:
    """The base policy with each layer (a file or a mapping) merged on top, validated.

    The resulting version names every layer, e.g. ``platform-2026.11+merchant-m1@3``, so a claim that
    records it can be explained by exactly these files.
    """
    data = _read(base)
    versions = [str(data.get("version", ""))]
    for layer in layers:
        override = _read(layer) if isinstance(layer, Path) else dict(layer)
        if "version" not in override:
            raise PolicyError("an override must carry its own version")
        versions.append(str(override.pop("version")))
        data = _merge(data, override)
    data["version"] = "+".join(versions)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(
            f"invalid policy: {exc.error_count()} error(s)", details={"errors": exc.errors()}
        ) from exc


@cache
def default_policy() -> Policy:
    return load_policy()


@cache
def policy_for(merchant_id: str | None = None, category: str | None = None) -> Policy:
    """The platform defaults with the category's override, then the merchant's (the most specific
    wins), for whichever of ``category-<category>.yaml`` and ``merchant-<merchant_id>.yaml`` exist."""
    names = [f"category-{category}" if category else "", f"merchant-{merchant_id}" if merchant_id else ""]
    layers = override_files(name for name in names if name)
    return load_policy(*layers) if layers else default_policy()


def override_files(names: Iterable[str]) -> list[Path]:
    """Override files shipped beside the defaults, e.g. ``merchant-m1.yaml``, in the given order."""
    return [POLICY_DIR / f"{name}.yaml" for name in names if (POLICY_DIR / f"{name}.yaml").exists()]
