"""The depth scan agrees with the parsed structure (a plain recursive reference), strings included."""

import json
from typing import Any

from aftersales.api.http import json_depth
from hypothesis import given, settings
from hypothesis import strategies as st

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:', max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(deadline=None)
@given(_JSON, st.booleans())
def test_the_scan_counts_what_the_parser_would_nest(value: Any, ascii_only: bool) -> None:
    assert json_depth(json.dumps(value, ensure_ascii=ascii_only)) == _depth(value)


def test_a_thousand_levels_are_counted_without_recursion() -> None:
    assert json_depth("[" * 1000 + "]" * 1000) == 1000
