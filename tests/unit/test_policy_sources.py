"""Every number of the default policy names its source document or is a documented platform default."""

from aftersales.policies import DEFAULT_POLICY_FILE

from infra.policy_doc import DOC, platform_defaults, unsourced_numbers

POLICY_TEXT = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
DOC_TEXT = DOC.read_text(encoding="utf-8")
TABLE = """### Platform defaults

| key | value | why |
|---|---|---|
| `quality_window_days` | 15 | no source gives a number |

## 9. Next
"""


def test_every_number_of_default_yaml_is_sourced_or_a_documented_platform_default() -> None:
    assert unsourced_numbers(POLICY_TEXT, DOC_TEXT) == []


def test_the_documented_defaults_are_read_from_the_table() -> None:
    defaults = platform_defaults(DOC_TEXT)
    assert defaults["penalty.cap_basis_points"][0] == "10000"
    assert "max_return_shipping_fen" not in defaults  # no cap at all by default (002 §6.1.2)


def test_an_unmarked_number_fails() -> None:
    text = "version: x\nquality_window_days: 15   # platform default\nmystery_limit_fen: 2000\n"
    assert unsourced_numbers(text, TABLE) == [
        "mystery_limit_fen = 2000: name its source (00x §…) or document it as a platform default"
    ]


def test_a_platform_default_needs_its_row_with_the_same_value() -> None:
    text = "version: x\nquality_window_days: 20   # platform default\n"
    assert unsourced_numbers(text, TABLE) == [
        "quality_window_days: docs/policy.md says '15' without a reason or with another value"
    ]


def test_a_seed_reference_on_the_line_is_a_source() -> None:
    text = "version: x\nno_reason_return_days: 7  # 001 §二.1\nquality_window_days: 15 # platform default\n"
    assert unsourced_numbers(text, TABLE) == []


def test_a_platform_default_marker_wins_over_a_reference_it_cites() -> None:
    text = "version: x\nquality_window_days: 15\nwait_days: 7   # platform default, as 002 §4.4\n"
    assert unsourced_numbers(text, TABLE) == [
        "wait_days = 7: name its source (00x §…) or document it as a platform default"
    ]


def test_a_deadline_amount_is_covered_by_its_source_its_other_numbers_are_not() -> None:
    text = (
        "version: x\nquality_window_days: 15 # platform default\ndeadlines:\n"
        '  inspection: {amount: 3, act_after_overdue_days: 3, source: "002 §5.1.3"}\n'
        '  appeal: {amount: 7, source: "WeChat mini-store"}\n'
    )
    assert unsourced_numbers(text, TABLE) == [
        "deadlines.inspection.act_after_overdue_days = 3: name its source (00x §…) or document it as a "
        "platform default",
        "deadlines.appeal.amount = 7: name its source (00x §…) or document it as a platform default",
    ]


def test_a_documented_default_the_policy_no_longer_has_fails() -> None:
    assert unsourced_numbers("version: x\n", TABLE) == [
        "quality_window_days: documented as a platform default but not in the policy"
    ]
