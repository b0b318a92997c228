"""Carrier adapters: one module per wire format, each with ``verify(raw, headers, secret)`` and
``parse(raw, headers) -> list[ParcelEvent]``. Nothing else in the service knows a carrier's format.

``kuaidi100`` and ``aftership`` are the aggregators' pushes; every other carrier uses the service's
own signed JSON format (``standard``, docs/webhooks.md).
"""

from __future__ import annotations

from types import ModuleType

from . import aftership, kuaidi100, standard
from .model import BadPayload, BadSignature, ParcelEvent, headers_of

ADAPTERS: dict[str, ModuleType] = {"kuaidi100": kuaidi100, "aftership": aftership}


def adapter_for(carrier: str) -> ModuleType:
    """The wire format a carrier's webhook speaks."""
    return ADAPTERS.get(carrier, standard)


__all__ = ["ADAPTERS", "BadPayload", "BadSignature", "ParcelEvent", "adapter_for", "headers_of"]
