"""HTTP API for reading and acting on claims (every route but ``POST /claims``)."""

from __future__ import annotations

from typing import Any

from aftersales.api import routes_buyer, routes_clock, routes_merchant, routes_messages, routes_ops
from aftersales.api.errors import register_error_handlers
from aftersales.api.http import handle
from aftersales.observability import logger, tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(routes_buyer.router)
app.include_router(routes_merchant.router)
app.include_router(routes_ops.router)
app.include_router(routes_messages.router)
app.include_router(routes_clock.router)
register_error_handlers(app)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    """The API description, generated from the routes and their request models."""
    return Response(
        200, "application/json", app.get_openapi_json_schema(title="After-sales claims API", version="1.0")
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
