"""Who pays for return shipping and for a repair (POLICY §3; 002 §6.1-6.3, 001 §三(续)(2)).

Pure decisions over the claim's facts; the amounts themselves are settled outside the claim.
"""

from __future__ import annotations

from .model import ClaimType, Payer, Reason
from .policy import Policy


def shipping_payer(claim_type: ClaimType, reason: Reason, category: str, policy: Policy) -> Payer:
    """Who pays to ship the goods back (and out again for exchanges and repairs).

    Order of precedence: nothing travels (refund only, complaint) → nobody; a special category
    (fragile, customised, large appliance…) → negotiated, whatever the reason (002 §6.3.1); a
    merchant-fault reason → merchant (002 §6.1.1(1)); anything else, i.e. a no-reason return or a
    paid repair, → buyer (002 §6.1.1(2), §6.2.1(2)).
    """
    if not claim_type.ships_goods_back:
        return Payer.NONE
    if category in policy.special_categories:
        return Payer.NEGOTIATED
    if reason.is_merchant_fault:
        return Payer.MERCHANT
    return Payer.BUYER


def repair_payer(reason: Reason, in_warranty: bool, *, special_category: bool = False) -> Payer:
    """Who pays for the repair itself: free (merchant) for a defect in warranty, else the buyer.

    A paid repair (buyer-caused damage) is the buyer's even in warranty (001 §二.2(2)); out of
    warranty everything is the buyer's, parts at cost plus labour, quote accepted first (002 §6.2).
    Special categories are negotiated (002 §6.3.1).
    """
    if special_category:
        return Payer.NEGOTIATED
    if in_warranty and reason.is_merchant_fault:
        return Payer.MERCHANT
    return Payer.BUYER
