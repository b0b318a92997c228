import pytest
from aftersales.store.cursor import InvalidCursor, decode_cursor, encode_cursor

KEY = {
    "gsi_buyer_pk": {"S": "BUYER#b1"},
    "created_at": {"S": "2026-11-20T02:00:00Z"},
    "pk": {"S": "p"},
    "sk": {"S": "s"},
}


def test_round_trip() -> None:
    cursor = encode_cursor(KEY)
    assert cursor is not None and "=" not in cursor
    assert decode_cursor(cursor, partition_attr="gsi_buyer_pk", partition_value="BUYER#b1") == KEY
    assert (
        encode_cursor(None) is None and decode_cursor(None, partition_attr="a", partition_value="b") is None
    )


@pytest.mark.parametrize(
    "cursor",
    ["%%%", "bm90IGpzb24", encode_cursor({"gsi_buyer_pk": {"N": "1"}}), encode_cursor(KEY) + "x" * 3000],
    ids=["not-base64", "not-json", "wrong-shape", "too-long"],
)
def test_garbage_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, partition_attr="gsi_buyer_pk", partition_value="BUYER#b1")


def test_a_cursor_of_another_listing_is_refused() -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor(KEY), partition_attr="gsi_buyer_pk", partition_value="BUYER#b2")
