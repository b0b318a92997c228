"""The HTTP API resolver, with its per-request state kept per invocation.

Powertools' resolver keeps the current event and Lambda context on the ``BaseRouter`` class and the
routing context (the actor, the matched route, validated arguments) in one dict on the resolver.
One invocation per process at a time, as on Lambda, that is harmless; two invocations at once in one
process (the local stack serves every handler from its threads) read each other's event and actor.
Here all three live in ``ContextVar``s, so each invocation (each thread, or each copied context) has
its own; on Lambda the behaviour is Powertools' own.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext


class InvocationHttpResolver(APIGatewayHttpResolver):
    """``APIGatewayHttpResolver`` whose ``current_event``, ``lambda_context`` and ``context`` belong to
    the invocation being resolved (routers included in it read them through it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._event: ContextVar[BaseProxyEvent] = ContextVar(f"api-event-{id(self)}")
        self._lambda_context: ContextVar[LambdaContext] = ContextVar(f"api-lambda-context-{id(self)}")
        self._routing: ContextVar[dict[str, Any]] = ContextVar(f"api-context-{id(self)}")
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def current_event(self) -> BaseProxyEvent:
        return self._event.get()

    @current_event.setter
    def current_event(self, value: BaseProxyEvent) -> None:
        self._event.set(value)

    @property
    def lambda_context(self) -> LambdaContext:
        return self._lambda_context.get()

    @lambda_context.setter
    def lambda_context(self, value: LambdaContext) -> None:
        self._lambda_context.set(value)

    @property
    def context(self) -> dict[str, Any]:
        routing = self._routing.get(None)
        if routing is None:
            routing = {}
            self._routing.set(routing)
        return routing

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._routing.set(value)

    def append_context(self, **additional_context: Any) -> None:
        # A new dict, never an update in place: a dict inherited from the context this one was
        # copied from stays that context's.
        self.context = {**self.context, **additional_context}

    def clear_context(self) -> None:
        self.context = {}

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        self.current_event = self._to_proxy_event(event)
        self.lambda_context = context
        self.context = dict(self.context)  # this invocation's own, with what was appended before
        return super().resolve(event, context)
