"""``POST /claims``: open a claim, exactly once per Idempotency-Key and buyer (served by its own
function, ``submit_claim``; a router here so that the API's one OpenAPI document describes it too).

The idempotency record is keyed on the header and the buyer (``sub``) and remembers a hash of the
body: a retry with the same body gets the first answer, with another body ``422
idempotency_key_reused``. A refused claim (ineligible, unknown order) leaves no record, so it can be
corrected and sent again with the same key. A missing or malformed key is ``400``.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from aftersales import claims, clock

from .http import current_actor
from .idempotency import once_per_key
from .schemas import SubmitClaim
from .views import claim_view

router = Router()  # type: ignore[no-untyped-call]

IDEMPOTENCY_HEADER = "idempotency-key"
IdempotencyKey = Annotated[
    str,
    Header(alias=IDEMPOTENCY_HEADER, min_length=8, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post("/claims", status_code=201)
def submit_claim(body: SubmitClaim, idempotency_key: IdempotencyKey) -> Response[dict[str, Any]]:
    actor = current_actor(router)

    def open_claim() -> dict[str, Any]:
        return claim_view(claims.open_claim(body.to_request(), actor, clock.now()), actor)

    view = once_per_key(
        open_claim,
        key=idempotency_key,
        caller=actor.id,
        body=body.model_dump(mode="json"),
        lambda_context=router.lambda_context,
    )
    return Response(201, "application/json", body=view, headers={"Location": f"/claims/{view['claim_id']}"})
