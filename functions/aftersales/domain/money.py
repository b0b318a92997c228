"""Money: integer fen inside, decimal yuan strings ("129.90") at the edges. No floats anywhere."""

from __future__ import annotations

import re

from .errors import InvalidMoney

MAX_FEN = 100_000_000_00  # 100,000,000.00 yuan: far above any order, low enough to stop nonsense

# ASCII digits only (``\d`` would accept other scripts); no sign, no exponent, at most two decimals.
_YUAN = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?")
_MAX_TEXT = 16  # longer than any valid amount; checked before the regex so huge inputs stay cheap


def parse_yuan(text: str) -> int:
    """``"129.90"`` → ``12990``. Refuses anything that is not a plain, non-negative, sane amount."""
    if not isinstance(text, str):
        raise InvalidMoney(f"an amount must be a decimal string such as '129.90', not {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        raise InvalidMoney("amount is too long to be a valid amount", details={"max": format_fen(MAX_FEN)})
    match = _YUAN.fullmatch(text)
    if match is None:
        raise InvalidMoney(
            "amount must be a non-negative decimal in yuan with at most two decimals, such as '129.90'",
            details={"value": text},
        )
    whole, decimals = match.group(1), match.group(2) or ""
    fen = int(whole) * 100 + int(decimals.ljust(2, "0"))
    if fen > MAX_FEN:
        raise InvalidMoney("amount is too large", details={"max": format_fen(MAX_FEN)})
    return fen


def format_fen(fen: int) -> str:
    """``12990`` → ``"129.90"``; ``-5`` → ``"-0.05"``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("fen must be an int")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def percent_of(base_fen: int, basis_points: int) -> int:
    """``base_fen × basis_points / 10000``, rounded half-up (half away from zero), exactly."""
    product = base_fen * basis_points
    sign = -1 if product < 0 else 1
    return sign * ((abs(product) + 5_000) // 10_000)
