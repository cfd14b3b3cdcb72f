"""Field encryption, blind indexes, key rings and masking (cunxin.lib, DESIGN.md §6)."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from cunxin.lib import crypto
from cunxin.lib.crypto import KeyRing, KeyRingError
from cunxin.lib.masking import (
    mask_card,
    mask_id_for_evaluator,
    mask_id_for_staff,
    mask_name,
    mask_phone,
)

ID_NUMBER = "32072319800101011X"
PHONE = "13812345678"


def key(byte: int, length: int = 32) -> str:
    return base64.b64encode(bytes([byte]) * length).decode()


OLD = f"k1:{key(1)}"
NEW = f"k2:{key(2)}"
OLD_BIDX = f"k1:{key(11)}"
NEW_BIDX = f"k2:{key(12)}"


@pytest.fixture
def rings(monkeypatch):
    """Sets both key rings (`rings(field, blind_index)`) and forgets the cached ones;
    afterwards the environment and the caches are restored."""

    def use(field: str, blind_index: str) -> None:
        monkeypatch.setenv("CUNXIN_FIELD_KEYS", field)
        monkeypatch.setenv("CUNXIN_BLIND_INDEX_KEYS", blind_index)
        crypto.reload_keys()

    use(OLD, OLD_BIDX)
    yield use
    monkeypatch.undo()
    crypto.reload_keys()


# --- encryption ------------------------------------------------------------------------


def test_it_round_trips_values(rings):
    for purpose, value in (("id_number", ID_NUMBER), ("phone", PHONE), ("card", "6222021234567890123")):  # fmt: skip
        token = crypto.encrypt(value, purpose=purpose)
        assert value not in token
        assert crypto.decrypt(token, purpose=purpose) == value


def test_it_keeps_empty_values_empty(rings):
    assert crypto.encrypt(None, purpose="phone") is None
    assert crypto.encrypt("", purpose="phone") is None
    assert crypto.decrypt(None, purpose="phone") is None
    assert crypto.blind_index(None, purpose="phone") is None
    assert crypto.blind_index("", purpose="phone") is None


def test_it_encrypts_the_same_value_differently_each_time(rings):
    tokens = {crypto.encrypt(PHONE, purpose="phone") for _ in range(5)}
    assert len(tokens) == 5
    assert {crypto.decrypt(t, purpose="phone") for t in tokens} == {PHONE}


def test_it_names_the_key_in_the_token(rings):
    token = crypto.encrypt(PHONE, purpose="phone")
    assert token.startswith("k1$")
    assert crypto.key_id(token) == "k1"
    assert crypto.key_id(None) is None


def test_it_binds_the_purpose(rings):
    token = crypto.encrypt(ID_NUMBER, purpose="id_number")
    with pytest.raises(InvalidTag):
        crypto.decrypt(token, purpose="phone")


def test_it_detects_an_altered_ciphertext(rings):
    token = crypto.encrypt(PHONE, purpose="phone")
    kid, _, b64 = token.partition("$")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        crypto.decrypt(f"{kid}${base64.b64encode(bytes(raw)).decode()}", purpose="phone")


def test_it_refuses_a_value_under_an_unknown_key(rings):
    token = crypto.encrypt(PHONE, purpose="phone")
    rings(NEW, NEW_BIDX)
    with pytest.raises(KeyRingError, match="'k1', which is not in CUNXIN_FIELD_KEYS"):
        crypto.decrypt(token, purpose="phone")


# --- key rings -------------------------------------------------------------------------


def test_it_parses_a_ring_with_the_first_key_current():
    ring = KeyRing.parse(f" {NEW} , {OLD} ,", "TEST")
    assert ring.current == "k2"
    assert list(ring.keys) == ["k2", "k1"]
    assert ring.keys["k1"] == bytes([1]) * 32
    assert not ring.is_demo
    assert KeyRing.parse(crypto._demo_ring("field"), "TEST").is_demo


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k1:not*base64!", "TEST: key 'k1' is not valid base64"),
        (f"k1:{key(1, 16)}", "TEST: key 'k1' must be 32 bytes, got 16"),
        (f"k1:{key(1)},k1:{key(2)}", "TEST: key id 'k1' appears twice"),
        ("", "TEST: no keys"),
        (" , ,", "TEST: no keys"),
        (key(1), "TEST: each key must be 'id:base64'"),
        (f"k-1:{key(1)}", "TEST: each key must be 'id:base64'"),
    ],
)
def test_it_explains_a_malformed_ring(text, message):
    with pytest.raises(KeyRingError) as caught:
        KeyRing.parse(text, "TEST")
    assert str(caught.value).startswith(message)


def test_a_ring_error_does_not_print_key_material():
    secret = key(7)
    for text in (secret, f"k1:{secret[:20]}", f"bad id:{secret}"):
        with pytest.raises(KeyRingError) as caught:
            KeyRing.parse(text, "TEST")
        assert secret[:6] not in str(caught.value)


def test_it_names_the_variable_of_a_bad_ring(rings, monkeypatch):
    monkeypatch.setenv("CUNXIN_BLIND_INDEX_KEYS", "k1:tooshort")
    crypto.reload_keys()
    with pytest.raises(KeyRingError, match="CUNXIN_BLIND_INDEX_KEYS"):
        crypto.blind_index(PHONE, purpose="phone")


def test_it_reads_a_ring_from_a_file(rings, monkeypatch, tmp_path):
    path = tmp_path / "field-keys"
    path.write_text(NEW + "\n", encoding="utf-8")
    monkeypatch.delenv("CUNXIN_FIELD_KEYS")
    monkeypatch.setenv("CUNXIN_FIELD_KEYS_FILE", str(path))
    crypto.reload_keys()
    assert crypto.field_keys().current == "k2"


def test_it_falls_back_to_the_demo_keys(rings, monkeypatch):
    monkeypatch.delenv("CUNXIN_FIELD_KEYS")
    monkeypatch.delenv("CUNXIN_FIELD_KEYS_FILE", raising=False)
    crypto.reload_keys()
    assert crypto.field_keys().current == "demo1"
    assert crypto.field_keys().is_demo


def test_new_keys_parse_and_differ():
    a, b = crypto.new_key(), crypto.new_key()
    assert a != b
    assert len(KeyRing.parse(f"k9:{a},k8:{b}", "TEST").keys["k9"]) == 32


# --- blind index -----------------------------------------------------------------------


def test_the_blind_index_is_deterministic_and_keyed(rings):
    first = crypto.blind_index(PHONE, purpose="phone")
    assert first == crypto.blind_index(PHONE, purpose="phone")
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != crypto.blind_index("13812345679", purpose="phone")
    # the purpose is part of the hash: a phone's index never matches an ID's
    assert first != crypto.blind_index(PHONE, purpose="id_number")
    rings(OLD, NEW_BIDX)
    assert first != crypto.blind_index(PHONE, purpose="phone")


def test_the_blind_index_normalises_spaces_dashes_and_a_lower_case_x(rings):
    phone = crypto.blind_index(PHONE, purpose="phone")
    assert crypto.blind_index("138 1234 5678", purpose="phone") == phone
    assert crypto.blind_index("138-1234-5678", purpose="phone") == phone
    assert crypto.blind_index(" 138\t1234-5678 ", purpose="phone") == phone
    id_number = crypto.blind_index(ID_NUMBER, purpose="id_number")
    assert crypto.blind_index(ID_NUMBER.lower(), purpose="id_number") == id_number
    assert crypto.blind_index("320723 19800101 011x", purpose="id_number") == id_number
    assert crypto.normalise("320723-19800101-011x") == ID_NUMBER


# --- rotation --------------------------------------------------------------------------


def test_old_values_stay_readable_and_findable_during_a_rotation(rings):
    token = crypto.encrypt(ID_NUMBER, purpose="id_number")
    old_index = crypto.blind_index(ID_NUMBER, purpose="id_number")

    rings(f"{NEW},{OLD}", f"{NEW_BIDX},{OLD_BIDX}")

    assert crypto.decrypt(token, purpose="id_number") == ID_NUMBER
    assert crypto.key_id(crypto.encrypt(ID_NUMBER, purpose="id_number")) == "k2"
    new_index = crypto.blind_index(ID_NUMBER, purpose="id_number")
    assert new_index != old_index
    candidates = crypto.blind_index_candidates(ID_NUMBER.lower(), purpose="id_number")
    assert candidates == [new_index, old_index]
    assert crypto.blind_index(ID_NUMBER, purpose="id_number", kid="k1") == old_index

    rings(NEW, NEW_BIDX)  # the old keys removed
    assert crypto.blind_index_candidates(ID_NUMBER, purpose="id_number") == [new_index]
    with pytest.raises(KeyRingError):
        crypto.decrypt(token, purpose="id_number")


# --- masking ---------------------------------------------------------------------------


def test_it_masks_a_phone_as_first_3_and_last_4():
    assert mask_phone(PHONE) == "138****5678"
    assert mask_phone(None) == mask_phone("") == ""
    assert mask_phone("1234567") == "*******"  # too short to show anything


def test_it_masks_an_id_for_staff_as_first_6_and_last_4():
    assert mask_id_for_staff(ID_NUMBER) == "320723********011X"
    assert mask_id_for_staff("320723800101011") == "320723*****1011"  # 15-digit legacy ID
    assert len(mask_id_for_staff(ID_NUMBER)) == 18


def test_it_masks_an_id_for_evaluators_as_first_1_and_last_1():
    assert mask_id_for_evaluator(ID_NUMBER) == "3" + "*" * 16 + "X"


def test_it_masks_a_card_to_its_last_4():
    assert mask_card("6222021234567890123") == "*" * 15 + "0123"
    assert mask_card("0123") == "****"


def test_it_masks_names():
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("张") == "张*"
    assert mask_name(None) == mask_name("") == ""


def test_it_refuses_to_run_without_keys_outside_the_demo(monkeypatch):
    monkeypatch.delenv("CUNXIN_DEMO", raising=False)
    monkeypatch.delenv("CUNXIN_FIELD_KEYS", raising=False)
    monkeypatch.delenv("CUNXIN_FIELD_KEYS_FILE", raising=False)
    crypto.reload_keys()
    try:
        with pytest.raises(crypto.KeyRingError, match="CUNXIN_FIELD_KEYS"):
            crypto.encrypt("13800000011", purpose="phone")
    finally:
        monkeypatch.setenv("CUNXIN_DEMO", "1")
        crypto.reload_keys()
