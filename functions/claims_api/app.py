"""HTTP API for reading and acting on claims (every route but ``POST /claims``), the API's OpenAPI
document, and the ``$default`` route (404 / 405 in the API's error shape)."""

from __future__ import annotations

from typing import Any

from aftersales.api import (
    OPENAPI_PATH,
    routes_buyer,
    routes_clock,
    routes_merchant,
    routes_messages,
    routes_ops,
    routes_policy,
)
from aftersales.api.errors import register_error_handlers
from aftersales.api.http import handle
from aftersales.api.resolver import InvocationHttpResolver
from aftersales.observability import logger, tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

app = InvocationHttpResolver(enable_validation=True)
app.include_router(routes_buyer.router)
app.include_router(routes_merchant.router)
app.include_router(routes_ops.router)
app.include_router(routes_policy.router)
app.include_router(routes_messages.router)
app.include_router(routes_clock.router)
register_error_handlers(app)


@app.get(OPENAPI_PATH, include_in_schema=False)
def openapi() -> Response[str]:
    """The description of the whole API (both functions), generated from the routes and models."""
    from aftersales.api import openapi as description  # its response models serve only this route

    return Response(200, "application/json", description.document_json())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # views hold the buyer's phone and address
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
