"""A small bank for view, action and browser tests: two branches, three villages, a few
households with persons (encrypted like a publish writes them), and a user per role.

    branch A (ZHA): village VA1 (grids GA1a, GA1b), village VA2 (grid GA2)
    branch B (ZHB): village VB1 (grid GB1)

cm_a is assigned village VA1 and grid GA2 (not the rest of VA2); bm_a manages branch A.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils import timezone

from cunxin.lib import crypto
from cunxin.lib.idnumber import check_char
from cunxin.lib.masking import mask_id_for_staff, mask_phone
from cunxin.org.models import Assignment, Branch, Grid, Role, Staff, Village, VillageGroup
from cunxin.pool.models import Household, Person, PublishRun

PASSWORD = "correct-horse-battery-9"


def id_number(birth: str, seq: int) -> str:
    body = f"320723{birth}{seq:03d}"
    return body + check_char(body)


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role key → User
    villages: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)  # key → Household
    persons: dict = field(default_factory=dict)  # key → Person
    plain: dict = field(default_factory=dict)  # person key → (id_number, phone)


def make_person(world: World, key: str, household: Household | None, *, name: str,
                birth: str, seq: int, phone: str | None, relation: str, index: int,
                village: Village, color: str = "white", tags: str = "") -> Person:  # fmt: skip
    number = id_number(birth, seq)
    person = Person.objects.create(
        uid=f"P{key}", household=household, village=village, name=name,
        gender="M" if seq % 2 else "F", birth_year=int(birth[:4]),
        id_number_enc=crypto.encrypt(number, purpose="id_number", owner=f"P{key}"),
        id_number_bidx=crypto.blind_index(number, purpose="id_number"),
        id_masked=mask_id_for_staff(number),
        phone_enc=crypto.encrypt(phone, purpose="phone", owner=f"P{key}"),
        phone_bidx=crypto.blind_index(phone, purpose="phone"), phone_masked=mask_phone(phone),
        relation_to_head=relation, member_index=index, occupation="种植户", list_color=color,
        tags=tags or " age:31-45岁 loan:无贷款 ",
        profile={"basic": {"education": "初中", "occupation": "种植户", "address": f"{village.name}1号"},
                 "assets": {"deposit_balance_fen": 1234567}, "income": {}, "credit": {"loans": 0}},
        provenance={"name": ["grid", "2026-07-10"], "phone": ["customer", "2026-05-01"]},
        relations=[], content_hash="x", publish_run=world.run,
    )  # fmt: skip
    world.persons[key] = person
    world.plain[key] = (number, phone)
    return person


def make_world() -> World:
    w = World()
    w.run = PublishRun.objects.create(
        pool_run_id="test", pool_dir="/tmp", started_at=timezone.now(), status="succeeded",
        published_by="test",
    )  # fmt: skip
    a = Branch.objects.create(code="ZHA", name="甲支行")
    b = Branch.objects.create(code="ZHB", name="乙支行")
    for code, name, branch in (("VA1", "东湖村", a), ("VA2", "西湖村", a), ("VB1", "南山村", b)):
        w.villages[code] = Village.objects.create(
            code=code, name=name, township_name="伊山镇", branch=branch, content_hash="x"
        )
        VillageGroup.objects.create(code=f"{code}G1", name="第一组", village=w.villages[code], content_hash="x")  # fmt: skip
    for code, village in (
        ("GA1a", "VA1"),
        ("GA1b", "VA1"),
        ("GA2", "VA2"),
        ("GA2x", "VA2"),
        ("GB1", "VB1"),
    ):
        w.grids[code] = Grid.objects.create(
            code=code, village=w.villages[village], content_hash="x"
        )

    def household(key, village, grid, head):
        h = Household.objects.create(
            uid=f"H{key}", household_no=f"NO{key}", head_uid=f"P{key}1", head_name=head,
            village=w.villages[village], grid=w.grids[grid], member_count=2,
            address=f"{w.villages[village].name}{key}号", content_hash="x", publish_run=w.run,
        )  # fmt: skip
        w.households[key] = h
        return h

    h = household("a1", "VA1", "GA1a", "张伟")
    make_person(w, "a11", h, name="张伟", birth="19800101", seq=11, phone="13800000011", relation="户主", index=0, village=w.villages["VA1"])  # fmt: skip
    make_person(w, "a12", h, name="李芳", birth="19820202", seq=12, phone="13800000012", relation="配偶", index=1, village=w.villages["VA1"], color="grey", tags=" age:31-45岁 risk:灰名单 ")  # fmt: skip
    w.persons["a11"].relations = [["Pa12", "spouse", "grid"], ["Pb11", "sibling", "grid"]]  # fmt: skip
    w.persons["a11"].save(update_fields=["relations"])
    h = household("a2", "VA2", "GA2", "王强")
    make_person(w, "a21", h, name="王强", birth="19700303", seq=21, phone="13800000021", relation="户主", index=0, village=w.villages["VA2"])  # fmt: skip
    h = household("a3", "VA2", "GA2x", "赵敏")
    make_person(w, "a31", h, name="赵敏", birth="19750404", seq=32, phone="13800000031", relation="户主", index=0, village=w.villages["VA2"])  # fmt: skip
    h = household("b1", "VB1", "GB1", "张伟")  # a homonym in the other branch
    make_person(w, "b11", h, name="张伟", birth="19850505", seq=41, phone="13800000041", relation="户主", index=0, village=w.villages["VB1"], color="black", tags=" age:31-45岁 risk:黑名单 ")  # fmt: skip

    User = get_user_model()
    admin = User.objects.create_user(
        "hq_admin", password=PASSWORD, is_staff=True, is_superuser=True
    )
    Staff.objects.create(user=admin, role=Role.HQ_ADMIN, display_name="总行管理员")
    w.users["hq_admin"] = admin

    def user(key, role, **home):
        u = User.objects.create_user(key, password=PASSWORD)
        Staff.objects.create(user=u, role=role, display_name=key, **home)
        w.users[key] = u
        return u

    user("hq_analyst", Role.HQ_ANALYST)
    user("bm_a", Role.BRANCH_MANAGER, branch=a)
    user("bm_b", Role.BRANCH_MANAGER, branch=b)
    cm = user("cm_a", Role.CUSTOMER_MANAGER, branch=a)
    user("cm_b", Role.CUSTOMER_MANAGER, branch=b)
    user("evaluator", Role.EVALUATOR, village=w.villages["VA1"], person=w.persons["a12"])
    user("customer", Role.CUSTOMER, person=w.persons["a21"])
    User.objects.create_user("norole", password=PASSWORD)
    w.users["norole"] = User.objects.get(username="norole")
    now = timezone.now()
    Assignment.objects.create(
        staff=cm.staff, village=w.villages["VA1"], valid_from=now, assigned_by=admin
    )
    Assignment.objects.create(
        staff=cm.staff, grid=w.grids["GA2"], valid_from=now, assigned_by=admin
    )
    Assignment.objects.create(staff=w.users["cm_b"].staff, village=w.villages["VB1"], valid_from=now, assigned_by=admin)  # fmt: skip
    return w
