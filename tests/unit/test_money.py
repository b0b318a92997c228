"""Money at the edge: yuan strings in, integer fen inside, exact half-up percentages."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from aftersales.domain.errors import DomainError, InvalidMoney
from aftersales.domain.money import MAX_FEN, format_fen, parse_yuan, percent_of
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("129.90", 12990),
        ("129.9", 12990),
        ("129", 12900),
        ("0.05", 5),
        ("0", 0),
        ("0.00", 0),
        ("1.01", 101),
        ("100000000.00", MAX_FEN),
    ],
)
def test_parse_accepts_plain_yuan_amounts(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "-1.00",  # negative
        "+1.00",
        "1.001",  # more than two decimals
        "0.123",
        "abc",
        "12a",
        "1,000.00",
        "1e3",  # exponent
        "1E3",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "",
        " ",
        "\t\n",
        " 1.00",
        "1.00\n",
        ".5",
        "5.",
        "1..0",
        "01.00",
        "١٢٣",  # non-ASCII digits
        "100000000.01",  # just above the limit
        "999999999999",
        "9" * 5000,
    ],
)
def test_parse_rejects_anything_else(text: str) -> None:
    with pytest.raises(InvalidMoney) as caught:
        parse_yuan(text)
    assert caught.value.code == "invalid_amount"
    assert caught.value.message


@pytest.mark.parametrize("value", [129.9, 12990, None, Decimal("1.00"), b"1.00", True])
def test_parse_rejects_non_strings(value: Any) -> None:
    with pytest.raises(InvalidMoney):
        parse_yuan(value)


def test_invalid_money_is_a_domain_error() -> None:
    with pytest.raises(DomainError):
        parse_yuan("-5")


@pytest.mark.parametrize(
    ("fen", "text"),
    [(12990, "129.90"), (0, "0.00"), (5, "0.05"), (100, "1.00"), (-5, "-0.05"), (-12990, "-129.90")],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


def test_format_fen_refuses_non_integers() -> None:
    with pytest.raises(TypeError):
        format_fen(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "bp", "expected"),
    [
        (12990, 50, 65),  # 64.95 rounds up
        (10100, 50, 51),  # 50.5: half rounds up
        (10099, 50, 50),  # 50.495
        (10000, 50, 50),
        (12990, 10_000, 12990),
        (0, 50, 0),
        (1, 50, 0),
        (100, 5_000, 50),
        (-10100, 50, -51),  # half away from zero, symmetric
    ],
)
def test_percent_of_rounds_half_up(base: int, bp: int, expected: int) -> None:
    assert percent_of(base, bp) == expected


@settings(max_examples=200, deadline=None)
@given(fen=st.integers(min_value=0, max_value=MAX_FEN))
def test_format_then_parse_round_trips(fen: int) -> None:
    assert parse_yuan(format_fen(fen)) == fen


@settings(max_examples=200, deadline=None)
@given(
    base=st.integers(min_value=-(10**12), max_value=10**12), bp=st.integers(min_value=0, max_value=100_000)
)
def test_percent_of_matches_decimal_half_up(base: int, bp: int) -> None:
    expected = (Decimal(base) * bp / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert percent_of(base, bp) == int(expected)
