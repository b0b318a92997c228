"""``POST /claims``: open a claim (the route is ``aftersales.api.submit``)."""

from __future__ import annotations

from typing import Any

from aftersales.api import submit
from aftersales.api.errors import register_error_handlers
from aftersales.api.http import handle
from aftersales.api.resolver import InvocationHttpResolver
from aftersales.observability import logger, tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

app = InvocationHttpResolver(enable_validation=True)
app.include_router(submit.router)
register_error_handlers(app)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the claim view holds the buyer's text
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
