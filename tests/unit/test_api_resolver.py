"""One API resolver serves overlapping invocations: each sees its own event, Lambda context and routing
context (the local stack runs every handler on its threads; Powertools keeps them on the resolver)."""

from __future__ import annotations

import threading
from typing import Any

from aftersales.api.resolver import InvocationHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from infra.local.gateway import Request, build_event
from infra.local.template import Route

ROUTE = Route("GET", "/items/{item}", "Api", auth_required=False)


def _event(item: str) -> dict[str, Any]:
    return build_event(Request("GET", f"/items/{item}", []), ROUTE, {"item": item}, request_id=item, now=0.0)


def test_overlapping_invocations_each_see_their_own_event_and_context() -> None:
    router = Router()
    app = InvocationHttpResolver()
    first_inside, second_done = threading.Event(), threading.Event()

    @router.get("/items/<item>")
    def read(item: str) -> dict[str, Any]:
        if item == "first":
            first_inside.set()
            assert second_done.wait(10)  # the second invocation runs from start to end meanwhile
        return {
            "item": item,
            "path": router.current_event.path,
            "who": router.context.get("who"),
            "request": router.lambda_context,
        }

    app.include_router(router)
    answers: dict[str, Any] = {}

    def invoke(item: str) -> None:
        app.append_context(who=f"caller-{item}")
        answers[item] = app.resolve(_event(item), f"ctx-{item}")

    first = threading.Thread(target=invoke, args=("first",))
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=invoke, args=("second",))
    second.start()
    second.join(10)
    second_done.set()
    first.join(10)

    import json

    bodies = {item: json.loads(answer["body"]) for item, answer in answers.items()}
    assert bodies == {
        "first": {"item": "first", "path": "/items/first", "who": "caller-first", "request": "ctx-first"},
        "second": {
            "item": "second",
            "path": "/items/second",
            "who": "caller-second",
            "request": "ctx-second",
        },
    }
    assert app.context == {}  # cleared after each invocation, as Powertools does
