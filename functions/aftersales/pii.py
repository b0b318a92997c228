"""Personal data (phone numbers, e-mail addresses, ID-card numbers, street addresses): masked in views
for every role but the person it belongs to, and in logs.

Free text is masked by rule, not by field: whoever wrote a text sees it as written, everyone else sees
it through ``mask_text``. The patterns cover the forms people type in China: mobiles with any of
`` .-/`` between the groups and a ``+86``/``0086``/``(+86)`` prefix, landlines with an area code,
18- and 15-digit ID-card numbers, e-mail addresses, and street addresses that end in a house number.
Masking errs on the side of hiding: an order number written in a note may come out masked too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SEP = r"[\s.\-/·]{0,3}"
_MOBILE = re.compile(
    rf"(?<!\d)(?:(?:\+|＋|00)?86{_SEP}|[(（]\s*(?:\+|00)?86\s*[)）]{_SEP})?1[3-9](?:{_SEP}\d){{9}}(?!\d)"
)
_LANDLINE = re.compile(rf"(?<!\d)(?:[(（]0\d{{2,3}}[)）]|0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}(?!\d)")
# Digits run into letters (a waybill such as SF1234567890) are not taken for a phone number.
_DIGIT_RUN = re.compile(r"(?<![\dA-Za-z])\d{7,}(?![\dA-Za-z])")
_ID_CARD = re.compile(
    r"(?<![\dA-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])"
    r"|(?<![\dA-Za-z])\d{6}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![\dA-Za-z])"
)
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_CJK = r"[\u4e00-\u9fff]"
_STREET_ADDRESS = re.compile(
    rf"(?P<province>{_CJK}{{2,8}}?(?:省|自治区|特别行政区))?"
    rf"(?P<city>{_CJK}{{2,8}}?(?:市|自治州|地区|盟))?"
    rf"(?:{_CJK}{{1,8}}?(?:区|县|旗))?"
    rf"[{_CJK[1:-1]}A-Za-z0-9]{{1,15}}?(?:大道|路|街|巷|弄|胡同|里|村)"
    r"\s*\d+\s*(?:号|弄|栋|幢)(?:\s*[\dA-Za-z\-]+\s*(?:号|栋|幢|楼|单元|室|层))*"
)
# Administrative levels of a mainland address, in order; a view keeps the province and the city.
_ADDRESS_LEVELS = re.compile(r"^(.*?(?:省|自治区|特别行政区|市))?(.*?(?:市|自治州|地区|盟))?")

SENSITIVE_KEYS = frozenset(
    {"buyer_phone", "phone", "shipping_address", "address", "task_token", "authorization", "email"}
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


def mask_email(email: str) -> str:
    """``zhang.san@example.com`` → ``z***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_id_number(number: str) -> str:
    """An ID-card number keeps its first digit and last two: ``1*************34``-style."""
    return f"{number[:1]}{'*' * (len(number) - 3)}{number[-2:]}"


def _street(match: re.Match[str]) -> str:
    head = (match.group("province") or "") + (match.group("city") or "")
    return f"{head}****"


def mask_text(text: str) -> str:
    """Free text (a description, a reason, a comment) with contact data and ID numbers masked."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = _ID_CARD.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _STREET_ADDRESS.sub(_street, text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    text = _LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)
    return _DIGIT_RUN.sub(lambda m: mask_phone(m.group(0)), text)


def mask_strings(value: Any) -> Any:
    """A copy of ``value`` with every string in it passed through ``mask_text``."""
    if isinstance(value, Mapping):
        return {key: mask_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_strings(item) for item in value]
    return mask_text(value) if isinstance(value, str) else value


def scrub(value: Any) -> Any:
    """A copy of a log payload with sensitive keys masked and contact data removed from strings."""
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
