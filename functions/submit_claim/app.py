"""``POST /claims``: open a claim, exactly once per Idempotency-Key and buyer.

The idempotency record is keyed on the header and the buyer (``sub``) and remembers a hash of the
body: a retry with the same body gets the first answer, with another body ``422
idempotency_key_reused``. A refused claim (ineligible, unknown order) leaves no record, so it can be
corrected and sent again with the same key.
"""

from __future__ import annotations

from typing import Annotated, Any

from aftersales import claims, clock
from aftersales.api.errors import register_error_handlers
from aftersales.api.http import current_actor, handle
from aftersales.api.idempotency import once_per_key
from aftersales.api.resolver import InvocationHttpResolver
from aftersales.api.schemas import SubmitClaim
from aftersales.api.views import claim_view
from aftersales.observability import logger, tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.typing import LambdaContext

app = InvocationHttpResolver(enable_validation=True)
register_error_handlers(app)

IdempotencyKey = Annotated[str, Header(alias="idempotency-key", min_length=8, max_length=128)]


@app.post("/claims")
def submit_claim(body: SubmitClaim, idempotency_key: IdempotencyKey) -> Response[dict[str, Any]]:
    actor = current_actor(app)

    def open_claim() -> dict[str, Any]:
        return claim_view(claims.open_claim(body.to_request(), actor, clock.now()), actor)

    view = once_per_key(
        open_claim,
        key=idempotency_key,
        caller=actor.id,
        body=body.model_dump(mode="json"),
        lambda_context=app.lambda_context,
    )
    return Response(201, "application/json", body=view, headers={"Location": f"/claims/{view['claim_id']}"})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
