"""A product's risk warning (001 §四(三)2), evaluated when a return of it is opened (decision 0052):
its return rate over the policy's window against its baseline, from the product's day counters."""

from __future__ import annotations

from datetime import datetime

from aftersales import events, policy_layers
from aftersales.domain import scorecard, standing
from aftersales.domain.claim import Claim
from aftersales.domain.standing import EpisodeStep
from aftersales.observability import logger
from aftersales.store import Repository, default_repository
from aftersales.store.mapping import RiskWarning

RISK_EVENT = "product.risk_warning"


def watch_returns(
    claim: Claim, now: datetime, *, repo: Repository | None = None, publisher: events.Publisher | None = None
) -> RiskWarning | None:
    """After a return of ``claim``'s product is committed: raise the product's warning once per
    episode (a conditional write), publish it, or end the episode once the rate is back within its
    baseline. The return is committed either way: a failure here is logged, and the next return of
    the product evaluates again. Returns the warning raised now, if any."""
    if claim.claim_type not in scorecard.RETURN_TYPES or not claim.product:
        return None
    try:
        return _evaluate(claim.merchant_id, claim.product, now, repo or default_repository(), publisher)
    except Exception:
        logger.exception("product risk not evaluated", extra={"claim_id": claim.claim_id})
        return None


def _evaluate(
    merchant_id: str, product: str, now: datetime, repo: Repository, publisher: events.Publisher | None
) -> RiskWarning | None:
    rule = policy_layers.platform_policy(repo=repo).merchant_standing.risk  # platform-only
    periods = standing.risk_periods(scorecard.stat_day(now), rule)
    days = repo.product_stat_days(merchant_id, product, periods.baseline.first, periods.window.last)
    window = scorecard.total(d.counters for d in days if d.day >= periods.window.first)
    baseline = scorecard.total(d.counters for d in days if d.day < periods.window.first)
    verdict = standing.risk(window, baseline, rule)
    state = repo.risk_state(merchant_id, product)
    active = bool(state is not None and state.active)
    step = standing.episode_step(active, verdict)
    if step is EpisodeStep.RAISE:
        raised = repo.raise_risk(merchant_id, product, state, verdict, periods, now)
        if raised is not None:
            logger.warning("product risk warning", extra={"merchant_id": merchant_id, "product": product})
            _publish(raised, now, repo, publisher)
        return raised
    if step is EpisodeStep.END and state is not None:
        repo.end_risk(state, now)
    elif state is not None and active and not state.notified and state.listing_sk:
        # raised, but its event was not confirmed sent (a crash between): send it again, same key
        listed = repo.risk_warning(state.listing_sk)
        if listed is not None:
            _publish(listed, now, repo, publisher)
    return None


def _publish(
    warning: RiskWarning, now: datetime, repo: Repository, publisher: events.Publisher | None
) -> None:
    (publisher or events.default_publisher()).publish([risk_event(warning, now)])
    repo.mark_risk_notified(warning.merchant_id, warning.product, warning.episode)


def risk_event(warning: RiskWarning, now: datetime) -> events.Event:
    """``product.risk_warning``: the same ``event_key`` on a re-send (listeners dedupe on it)."""
    return events.event(
        RISK_EVENT,
        now,
        event_key=f"risk:{warning.merchant_id}:{warning.product}:{warning.episode}",
        merchant_id=warning.merchant_id,
        product=warning.product,
        episode=warning.episode,
        window={"from": warning.window_first.isoformat(), "to": warning.window_last.isoformat()},
        window_returns=warning.window_returns,
        window_lines_sold=warning.window_lines_sold,
        baseline_returns=warning.baseline_returns,
        baseline_lines_sold=warning.baseline_lines_sold,
    )
