"""Rotating the personal-data keys over the operational database (docs/operations.md,
"Key rotation"): new key first, `rotate()`, old key removed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cunxin.cli import main
from cunxin.lib import crypto
from cunxin.lib.crypto import KeyRing, KeyRingError
from cunxin.pool.actions import search_persons as search_as
from cunxin.pool.models import Person
from cunxin.pool.rotation import rotate

NEW_FIELD = "k9:" + crypto.new_key()
NEW_BIDX = "k9:" + crypto.new_key()
DEMO_FIELD = crypto._demo_ring("field")
DEMO_BIDX = crypto._demo_ring("blind-index")


@pytest.fixture
def rings(monkeypatch):
    """`rings(field, blind_index)` switches the key rings; the world is written under the
    demo rings. Afterwards the environment and the cached rings are restored."""

    def use(field: str, blind_index: str) -> None:
        monkeypatch.setenv("CUNXIN_FIELD_KEYS", field)
        monkeypatch.setenv("CUNXIN_BLIND_INDEX_KEYS", blind_index)
        crypto.reload_keys()

    use(DEMO_FIELD, DEMO_BIDX)
    yield use
    monkeypatch.undo()
    crypto.reload_keys()


@pytest.fixture
def people(rings, world):
    """The world's persons plus one without a phone, all under the demo keys."""
    from world import make_person

    make_person(world, "a13", world.households["a1"], name="张小宝", birth="20100606", seq=13,
                phone=None, relation="子", index=2, village=world.villages["VA1"])  # fmt: skip
    return world


def search_persons(qs, q: str):
    """The pool search as HQ runs it (a search by a full number is access-logged)."""
    from django.contrib.auth import get_user_model

    return search_as(get_user_model().objects.get(username="hq_admin"), qs, q)


def stored(key: str) -> Person:
    return Person.objects.get(uid=f"P{key}")


def test_it_moves_every_value_to_the_new_keys(rings, people):
    assert {crypto.key_id(p.id_number_enc) for p in Person.objects.all()} == {"demo1"}
    rings(f"{NEW_FIELD},{DEMO_FIELD}", f"{NEW_BIDX},{DEMO_BIDX}")

    result = rotate()

    assert result == {"checked": 6, "rewritten": 6, "field_key": "k9", "blind_index_key": "k9"}
    from cunxin.audit.models import AuditEvent

    assert AuditEvent.objects.get(action="keys.rotate").after == result
    for key, (id_number, phone) in people.plain.items():
        person = stored(key)
        assert crypto.key_id(person.id_number_enc) == "k9"
        assert person.id_number() == id_number
        assert person.id_number_bidx == crypto.blind_index(id_number, purpose="id_number")
        if phone is None:
            assert person.phone_enc is None and person.phone_bidx is None
        else:
            assert crypto.key_id(person.phone_enc) == "k9"
            assert person.phone() == phone
            assert person.phone_bidx == crypto.blind_index(phone, purpose="phone")
        assert person.phone_masked == people.persons[key].phone_masked  # display unchanged


def test_searches_work_after_the_old_keys_are_removed(rings, people):
    rings(f"{NEW_FIELD},{DEMO_FIELD}", f"{NEW_BIDX},{DEMO_BIDX}")
    rotate()
    rings(NEW_FIELD, NEW_BIDX)

    found, how = search_persons(Person.objects.all(), "138 0000 0021")
    assert how == "phone"
    assert [p.uid for p in found] == ["Pa21"]
    found, how = search_persons(Person.objects.all(), people.plain["b11"][0])
    assert how == "id"
    assert [p.uid for p in found] == ["Pb11"]
    assert stored("a11").phone() == "13800000011"


def test_during_a_rotation_searches_find_rows_under_either_key(rings, people):
    rings(f"{NEW_FIELD},{DEMO_FIELD}", f"{NEW_BIDX},{DEMO_BIDX}")
    # a value written after the restart, before `rotate()` reached the old rows
    stored_new = Person.objects.get(uid="Pa11")
    stored_new.phone_bidx = crypto.blind_index("13800000011", purpose="phone")
    stored_new.save(update_fields=["phone_bidx"])

    for phone, uid in (("13800000011", "Pa11"), ("13800000021", "Pa21")):
        found, _ = search_persons(Person.objects.all(), phone)
        assert [p.uid for p in found] == [uid]


def test_a_second_rotation_rewrites_nothing(rings, people):
    rings(f"{NEW_FIELD},{DEMO_FIELD}", f"{NEW_BIDX},{DEMO_BIDX}")
    rotate()
    tokens = dict(Person.objects.values_list("uid", "id_number_enc"))

    again = rotate(batch=2)

    assert again["checked"] == 6
    assert again["rewritten"] == 0
    assert dict(Person.objects.values_list("uid", "id_number_enc")) == tokens


def test_a_blind_index_key_alone_can_be_rotated(rings, people):
    rings(DEMO_FIELD, f"{NEW_BIDX},{DEMO_BIDX}")

    assert rotate(batch=4)["rewritten"] == 6
    rings(DEMO_FIELD, NEW_BIDX)

    found, _ = search_persons(Person.objects.all(), "13800000041")
    assert [p.uid for p in found] == ["Pb11"]
    assert crypto.key_id(stored("b11").phone_enc) == "demo1"


def test_removing_the_old_key_before_rotating_fails_clearly(rings, people):
    rings(NEW_FIELD, DEMO_BIDX)

    with pytest.raises(KeyRingError, match="'demo1', which is not in CUNXIN_FIELD_KEYS"):
        stored("a11").id_number()
    with pytest.raises(KeyRingError, match="demo1"):
        rotate()

    rings(DEMO_FIELD, DEMO_BIDX)  # nothing was half-written
    assert {crypto.key_id(p.phone_enc) for p in Person.objects.exclude(phone_enc=None)} == {"demo1"}  # fmt: skip
    assert stored("a11").phone() == "13800000011"


def test_the_cli_prints_a_new_key_as_a_ring():
    result = CliRunner().invoke(main, ["keys", "new", "--id", "k9"])

    assert result.exit_code == 0, result.output
    ring = KeyRing.parse(result.output.strip(), "output")
    assert ring.current == "k9"
    assert len(ring.keys["k9"]) == 32
    assert result.output != CliRunner().invoke(main, ["keys", "new", "--id", "k9"]).output


def test_the_cli_refuses_a_key_id_with_punctuation():
    result = CliRunner().invoke(main, ["keys", "new", "--id", "k$9"])
    assert result.exit_code == 2
    assert "letters and digits" in result.output


def test_the_cli_rotates(rings, people):
    rings(f"{NEW_FIELD},{DEMO_FIELD}", f"{NEW_BIDX},{DEMO_BIDX}")

    result = CliRunner().invoke(main, ["keys", "rotate", "--batch", "100"])

    assert result.exit_code == 0, result.output
    assert "rotated 6 of 6 persons to field key k9 and blind-index key k9" in result.output
    assert crypto.key_id(stored("a31").id_number_enc) == "k9"
