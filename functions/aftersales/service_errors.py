"""Errors of the application service (not rules of the domain). Each has a stable ``code``; the API maps
every ``DomainError`` subclass to an HTTP status in one place (``aftersales.api.errors``)."""

from __future__ import annotations

from aftersales.domain.errors import DomainError


class NotFound(DomainError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    code = "not_found"


class Conflict(DomainError):
    """A concurrent change won and this one could not be re-applied, or a unique thing is taken."""

    code = "conflict"


class UnknownOrder(DomainError):
    """No such order, or not the caller's: indistinguishable on purpose."""

    code = "order_not_found"


class BadRequest(DomainError):
    code = "bad_request"
