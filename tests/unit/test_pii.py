import re

import pytest
from aftersales.pii import mask_address, mask_phone, mask_strings, mask_text, scrub
from hypothesis import given, settings
from hypothesis import strategies as st


def test_phone_keeps_prefix_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("") == ""


def test_address_keeps_province_and_city() -> None:
    assert mask_address("浙江省杭州市西湖区文三路 100 号") == "浙江省杭州市****"
    assert mask_address("北京市朝阳区建国路 1 号") == "北京市****"
    assert mask_address("221B Baker Street") == "221B B****"


def test_free_text_and_log_payloads_lose_phone_numbers() -> None:
    assert mask_text("call 13812345678 after 6") == "call 138****5678 after 6"
    cleaned = scrub({"buyer_phone": "13812345678", "task_token": "secret", "note": ["ring 13900001111"]})
    assert cleaned == {"buyer_phone": "138****5678", "task_token": "****", "note": ["ring 139****1111"]}


@pytest.mark.parametrize(
    "written",
    [
        "138.1234.5678",
        "138/1234/5678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "+8613812345678",
        "0086 13812345678",
        "86 138 1234 5678",
        "(+86) 138 1234 5678",
        "（+86）13812345678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_in_any_common_form_are_masked(written: str) -> None:
    masked = mask_text(f"请联系我 {written} 谢谢")
    assert masked in ("请联系我 138****5678 谢谢", "请联系我 １３８****５６７８ 谢谢")


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("座机 0571-8888 1234", "88881234"),
        ("(010) 1234 5678", "12345678"),
        ("身份证 11010519491231002X", "19491231"),
        ("身份证 110105491231002", "491231"),
        ("mail me: zhang.san@example.com", "zhang.san"),
        ("寄到浙江省杭州市西湖区文三路 100 号 3 单元", "文三路"),
        ("送到文三路100号", "文三路"),
        ("my number 88886666", "88886666"),
    ],
)
def test_landlines_ids_emails_and_street_addresses_are_masked(text: str, hidden: str) -> None:
    assert hidden not in mask_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "delivered 2026-11-20, refund 129.90",
        "waybill SF1234567890",
        "at 2026-11-20T02:00:00Z, size 42, 3 items",
        "the seam tore after 2 days",
    ],
)
def test_dates_amounts_and_waybills_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_nested_values_are_masked_everywhere() -> None:
    assert mask_strings({"a": ["13812345678", {"b": "x@y.cn"}], "n": 3}) == {
        "a": ["138****5678", {"b": "x***@y.cn"}],
        "n": 3,
    }


# Text around the number: letters, CJK, punctuation, no digits (a digit next to it would make it
# another number).
_AROUND = st.text(alphabet=st.sampled_from(list("abc XYZ,.:;!?请联系我电话微信手机谢谢")), max_size=12)
_SEPARATORS = st.sampled_from(["", " ", "-", ".", "/", " - ", "  "])
_PREFIXES = st.sampled_from(["", "+86", "+86 ", "0086 ", "86-", "(+86) ", "（86）"])


@settings(deadline=None)
@given(
    number=st.from_regex(re.compile(r"1[3-9]\d{9}"), fullmatch=True),
    prefix=_PREFIXES,
    sep=_SEPARATORS,
    before=_AROUND,
    after=_AROUND,
)
def test_a_mobile_number_is_masked_whatever_its_separators(
    number: str, prefix: str, sep: str, before: str, after: str
) -> None:
    if prefix and before[-1:].isalnum():
        before += " "
    written = f"{prefix}{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    assert mask_text(f"{before}{written}{after}") == f"{before}{number[:3]}****{number[7:]}{after}"


@settings(deadline=None)
@given(st.text(max_size=60))
def test_masking_never_adds_digits_and_is_idempotent(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once
    assert len(re.findall(r"\d", once)) <= len(re.findall(r"\d", text))
