"""Storage: the single table as pynamodb models and the repository that reads and writes it."""

from . import parcels
from .repository import (
    ClaimRecord,
    ClaimWrite,
    OrderRecord,
    Page,
    PolicyPage,
    Repository,
    VersionConflict,
    WaybillInUse,
    default_repository,
)

__all__ = [
    "ClaimRecord",
    "ClaimWrite",
    "OrderRecord",
    "Page",
    "PolicyPage",
    "Repository",
    "VersionConflict",
    "WaybillInUse",
    "default_repository",
    "parcels",
]
