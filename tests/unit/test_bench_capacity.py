"""The cost benchmarks' DynamoDB sizing (bench/aws_meter.py) against the rules DynamoDB documents:
an item is the sum of its attribute names and values; numbers take one byte per two significant
digits plus one; lists and maps three bytes plus one per element; a write unit per started KB, a read
unit per started 4 KB (half when eventually consistent)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.aws_meter import item_size, read_units, value_size, write_units


def test_strings_and_names_count_their_utf8_bytes() -> None:
    assert item_size({"pk": {"S": "CLAIM#1"}}) == 2 + 7
    assert item_size({"地址": {"S": "上海"}}) == 6 + 6


def test_numbers_count_significant_digits() -> None:
    assert value_size({"N": "7"}) == 2
    assert value_size({"N": "1200"}) == 2  # trailing zeros trimmed: "12"
    assert value_size({"N": "-0.00123"}) == 3  # "123"
    assert value_size({"N": "12345678901"}) == 7


def test_containers_add_three_bytes_and_one_per_element() -> None:
    assert value_size({"L": [{"S": "ab"}, {"BOOL": True}]}) == 3 + (1 + 2) + (1 + 1)
    assert value_size({"M": {"k": {"NULL": True}}}) == 3 + 1 + 1 + 1
    assert value_size({"SS": ["a", "bc"]}) == 3


def test_units_are_rounded_up_per_started_kilobyte() -> None:
    assert [write_units(s) for s in (0, 1, 1024, 1025, 4096)] == [1, 1, 1, 2, 4]
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(0, consistent=False) == 0.5


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=40), max_size=12))
def test_a_string_item_is_the_sum_of_its_names_and_values(attrs: dict[str, str]) -> None:
    item = {name: {"S": value} for name, value in attrs.items()}
    expected = sum(len(n.encode()) + len(v.encode()) for n, v in attrs.items())
    assert item_size(item) == expected
