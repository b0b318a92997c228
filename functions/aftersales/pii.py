"""Personal data (phone numbers, addresses): masked in views for roles that do not need them, and in logs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A run of 7+ digits (with optional +86 / separators) is treated as a phone number wherever it appears.
_PHONE_RUN = re.compile(r"\+?\d[\d\- ]{5,}\d")
# Administrative levels of a mainland address, in order; a view keeps the province and the city.
_ADDRESS_LEVELS = re.compile(r"^(.*?(?:省|自治区|特别行政区|市))?(.*?(?:市|自治州|地区|盟))?")

SENSITIVE_KEYS = frozenset(
    {"buyer_phone", "phone", "shipping_address", "address", "task_token", "authorization"}
)


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``; shorter numbers keep only their last two digits."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) >= 11:
        digits = digits[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_address(address: str) -> str:
    """Keep the province and city only: ``浙江省杭州市西湖区文三路 1 号`` → ``浙江省杭州市****``.

    An address in another form keeps its first six characters.
    """
    address = (address or "").strip()
    if not address:
        return ""
    match = _ADDRESS_LEVELS.match(address)
    head = (match.group(1) or "") + (match.group(2) or "") if match else ""
    if not head or head == address:
        head = address[:6]
    return f"{head}****"


def mask_text(text: str) -> str:
    """Free text (a description, a note) with every phone-like digit run masked."""
    return _PHONE_RUN.sub(lambda m: mask_phone(m.group(0)), text)


def scrub(value: Any) -> Any:
    """A copy of a log payload with sensitive keys masked and phone numbers removed from strings."""
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).lower()
            if name in ("buyer_phone", "phone"):
                cleaned[key] = mask_phone(str(item))
            elif name in ("shipping_address", "address"):
                cleaned[key] = mask_address(str(item))
            elif name in SENSITIVE_KEYS:
                cleaned[key] = "****"
            else:
                cleaned[key] = scrub(item)
        return cleaned
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
