from aftersales.pii import mask_address, mask_phone, mask_text, scrub


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
