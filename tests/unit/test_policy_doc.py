"""docs/policy.md shows the transition, deadline and reason-code tables the code enforces."""

from aftersales.domain.eligibility import REASON_CODES
from aftersales.domain.transitions import TRANSITIONS

from infra.policy_doc import DOC, main, render


def test_the_generated_tables_of_docs_policy_md_match_the_code():
    current = DOC.read_text(encoding="utf-8")
    assert render(current) == current, "docs/policy.md is out of date: run python -m infra.policy_doc"
    assert main(["--check"]) == 0


def test_every_transition_row_and_reason_code_is_in_the_doc():
    text = DOC.read_text(encoding="utf-8")
    for status, action in TRANSITIONS:
        assert f"| `{status.value}` | `{action.value}` |" in text
    for code in REASON_CODES:
        assert f"| `{code}` |" in text


def test_a_stale_table_is_detected():
    current = DOC.read_text(encoding="utf-8")
    stale = current.replace("| `pending_review` | `approve` |", "| `pending_review` | `approve_maybe` |")
    assert render(stale) == current
