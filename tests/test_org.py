"""Staff, roles and assignments: the actions, the pages, and Django admin (all audited).

The world (tests/world.py): branch ZHA has villages VA1 (grids GA1a, GA1b) and VA2 (grids
GA2, GA2x); branch ZHB has VB1 (grid GB1). cm_a looks after VA1 and grid GA2; bm_a manages
ZHA; cm_b looks after VB1.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cunxin.audit.chain import verify
from cunxin.audit.models import AuditEvent
from cunxin.org import actions
from cunxin.org.models import Assignment, Branch, Role, Staff, Village
from cunxin.org.scope import scope_for
from cunxin.pool.models import Segment

User = get_user_model()
PASSWORD = "another-horse-battery-7"


def fresh(user):
    """The user re-read: `scope_for` caches the scope on the user object."""
    return User.objects.get(pk=user.pk)


def household_uids(user) -> set[str]:
    return set(scope_for(fresh(user)).households().values_list("uid", flat=True))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def open_assignments(user) -> list[Assignment]:
    return list(Assignment.objects.filter(staff__user=user, valid_to__isnull=True))


def branch(code: str) -> Branch:
    return Branch.objects.get(code=code)


# --- creating staff --------------------------------------------------------------------


def test_it_creates_a_customer_manager_and_audits_it(world):
    admin = world.users["hq_admin"]

    staff = actions.do_create_staff(
        admin, username="cm_new", password=PASSWORD, role=Role.CUSTOMER_MANAGER,
        display_name="新经理", branch=branch("ZHA"),
    )  # fmt: skip

    assert staff.user.check_password(PASSWORD)
    assert not staff.user.is_staff and not staff.user.is_superuser
    [event] = events("org.staff.create")
    assert (event.actor, event.object_type, event.object_id) == (admin, "org.staff", str(staff.pk))
    assert event.before is None
    assert event.after == {
        "username": "cm_new", "role": "customer_manager", "display_name": "新经理",
        "branch": "ZHA", "village": None, "person": None, "active": True,
    }  # fmt: skip


def test_hq_admins_are_made_django_staff(world):
    staff = actions.do_create_staff(
        world.users["hq_admin"], username="admin2", password=PASSWORD, role=Role.HQ_ADMIN,
        display_name="第二管理员",
    )  # fmt: skip
    assert staff.user.is_staff and staff.user.is_superuser


@pytest.mark.parametrize(
    "fields",
    [
        {"role": Role.CUSTOMER_MANAGER},  # no branch
        {"role": Role.BRANCH_MANAGER},
        {"role": Role.EVALUATOR},  # no village
        {"role": Role.CUSTOMER},  # no person
        {"role": "chairman"},
        {"role": Role.HQ_ANALYST, "username": "cm_a"},  # taken
        {"role": Role.HQ_ANALYST, "username": "CM_A"},  # taken, in other letters' case
        {"role": Role.HQ_ANALYST, "username": "ｃｍ_ａ"},  # taken, in full-width letters
        {"role": Role.HQ_ANALYST, "username": "cm\u200b_a"},  # an invisible space
        {"role": Role.HQ_ANALYST, "username": "王 经理"},  # a space
        {"role": Role.HQ_ANALYST, "username": "cm_a\u202e"},  # a direction override
    ],
)
def test_it_refuses_incomplete_or_duplicate_staff(world, fields):
    fields = {"username": "someone", "password": PASSWORD, "display_name": "某人", **fields}
    users = User.objects.count()

    with pytest.raises(ValidationError):
        actions.do_create_staff(world.users["hq_admin"], **fields)

    assert User.objects.count() == users
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("key", ["bm_a", "hq_analyst", "cm_a", "evaluator"])
def test_only_hq_admins_create_staff(world, key):
    with pytest.raises(PermissionDenied):
        actions.do_create_staff(
            world.users[key], username="x", password=PASSWORD, role=Role.HQ_ANALYST,
            display_name="x",
        )  # fmt: skip
    assert not User.objects.filter(username="x").exists()


# --- changing staff --------------------------------------------------------------------


def test_moving_a_cm_to_another_branch_ends_their_assignments(world):
    admin, cm = world.users["hq_admin"], world.users["cm_a"]
    assert household_uids(cm) == {"Ha1", "Ha2"}

    actions.do_change_staff(admin, cm.staff, role=Role.CUSTOMER_MANAGER, branch=branch("ZHB"), active=True)  # fmt: skip

    kept = Assignment.objects.filter(staff__user=cm)
    assert kept.count() == 2  # ended, not deleted
    assert all(a.valid_to is not None and a.ended_by == admin for a in kept)
    assert open_assignments(world.users["cm_b"])  # others untouched
    assert household_uids(cm) == set()
    ends = events("org.assignment.end")
    assert {e.object_id for e in ends} == {str(a.pk) for a in kept}
    assert all(e.before == {"valid_to": None} and e.after["valid_to"] for e in ends)
    [change] = events("org.staff.change")
    assert change.pk > ends[-1].pk
    assert (change.before["branch"], change.after["branch"]) == ("ZHA", "ZHB")


def test_a_cm_who_keeps_role_and_branch_keeps_their_assignments(world):
    cm = world.users["cm_a"]
    actions.do_change_staff(world.users["hq_admin"], cm.staff, role=Role.CUSTOMER_MANAGER, branch=branch("ZHA"), active=True)  # fmt: skip
    assert len(open_assignments(cm)) == 2
    assert not events("org.assignment.end")


@pytest.mark.parametrize(
    ("role", "active"), [(Role.BRANCH_MANAGER, True), (Role.CUSTOMER_MANAGER, False)]
)
def test_a_cm_who_changes_role_or_is_deactivated_loses_their_assignments(world, role, active):
    cm = world.users["cm_a"]
    actions.do_change_staff(world.users["hq_admin"], cm.staff, role=role, branch=branch("ZHA"), active=active)  # fmt: skip
    assert open_assignments(cm) == []
    assert fresh(cm).is_active is active
    assert len(events("org.assignment.end")) == 2


def test_a_role_change_grants_and_revokes_django_admin(world):
    admin, analyst = world.users["hq_admin"], world.users["hq_analyst"]
    actions.do_change_staff(admin, analyst.staff, role=Role.HQ_ADMIN, branch=None, active=True)
    assert fresh(analyst).is_staff and fresh(analyst).is_superuser
    actions.do_change_staff(admin, analyst.staff, role=Role.HQ_ANALYST, branch=None, active=True)
    assert not fresh(analyst).is_staff and not fresh(analyst).is_superuser
    assert [(e.before["role"], e.after["role"]) for e in events("org.staff.change")] == [
        ("hq_analyst", "hq_admin"),
        ("hq_admin", "hq_analyst"),
    ]


@pytest.mark.parametrize(("role", "active"), [(Role.HQ_ANALYST, True), (Role.HQ_ADMIN, False)])
def test_an_admin_cannot_remove_their_own_admin_access(world, role, active):
    admin = world.users["hq_admin"]

    with pytest.raises(ValidationError):
        actions.do_change_staff(admin, admin.staff, role=role, branch=None, active=active)

    again = fresh(admin)
    assert again.staff.role == Role.HQ_ADMIN and again.is_active and again.is_staff
    assert not AuditEvent.objects.exists()


def test_an_admin_may_demote_another_admin(world):
    other = actions.do_create_staff(world.users["hq_admin"], username="admin2", password=PASSWORD, role=Role.HQ_ADMIN, display_name="二")  # fmt: skip
    actions.do_change_staff(world.users["hq_admin"], other, role=Role.HQ_ANALYST, branch=None, active=True)  # fmt: skip
    assert not fresh(other.user).is_staff


def test_only_hq_admins_change_staff(world):
    with pytest.raises(PermissionDenied):
        actions.do_change_staff(world.users["bm_a"], world.users["cm_a"].staff, role=Role.CUSTOMER_MANAGER, branch=branch("ZHB"), active=True)  # fmt: skip
    assert len(open_assignments(world.users["cm_a"])) == 2


# --- assignments -----------------------------------------------------------------------


def test_an_assignment_widens_a_cms_scope_until_it_ends(world):
    admin, cm = world.users["hq_admin"], world.users["cm_a"]
    assert "Ha3" not in household_uids(cm)  # grid GA2x of VA2 is not cm_a's

    assignment = actions.do_assign(admin, cm.staff, village=world.villages["VA2"])

    assert (assignment.assigned_by, assignment.valid_to) == (admin, None)
    assert household_uids(cm) == {"Ha1", "Ha2", "Ha3"}
    [opened] = events("org.assignment.open")
    assert opened.after == {"staff": "cm_a", "village": "VA2", "grid": None}

    actions.do_end_assignment(admin, assignment)

    assert household_uids(cm) == {"Ha1", "Ha2"}
    assignment.refresh_from_db()
    assert assignment.valid_to is not None and assignment.ended_by == admin
    assert Assignment.objects.filter(staff=cm.staff, village_id="VA2").count() == 1  # the history
    [ended] = events("org.assignment.end")
    assert ended.object_id == str(assignment.pk)


def test_the_scope_is_cached_on_the_user_object(world):
    cm = fresh(world.users["cm_a"])
    before = set(scope_for(cm).households().values_list("uid", flat=True))
    actions.do_assign(world.users["hq_admin"], cm.staff, village=world.villages["VA2"])
    # the same user object (one request) keeps its scope; the next request sees the change
    assert set(scope_for(cm).households().values_list("uid", flat=True)) == before
    assert "Ha3" in household_uids(cm)


def test_a_grid_assignment_gives_that_grid_only(world):
    cm = world.users["cm_a"]
    actions.do_assign(world.users["bm_a"], cm.staff, grid=world.grids["GA2x"])
    assert household_uids(cm) == {"Ha1", "Ha2", "Ha3"}
    assert events("org.assignment.open")[0].after == {"staff": "cm_a", "village": None, "grid": "GA2x"}  # fmt: skip


def test_a_branch_manager_assigns_in_their_own_branch(world):
    bm = world.users["bm_a"]
    assignment = actions.do_assign(bm, world.users["cm_a"].staff, village=world.villages["VA2"])
    assert assignment.assigned_by == bm
    assert events("org.assignment.open")[0].actor == bm


@pytest.mark.parametrize(
    ("cm", "area"),
    [
        ("cm_a", {"village": "VB1"}),  # a village of branch B
        ("cm_a", {"grid": "GB1"}),  # a grid of branch B
        ("cm_b", {"village": "VB1"}),  # a CM of branch B
    ],
)
def test_a_branch_manager_cannot_assign_outside_their_branch(world, cm, area):
    area = {k: (world.villages if k == "village" else world.grids)[v] for k, v in area.items()}
    count = Assignment.objects.count()

    with pytest.raises(PermissionDenied):
        actions.do_assign(world.users["bm_a"], world.users[cm].staff, **area)

    assert Assignment.objects.count() == count
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("actor", ["hq_admin", "bm_a"])
def test_only_customer_managers_are_assigned(world, actor):
    with pytest.raises(ValidationError):
        actions.do_assign(world.users[actor], world.users["bm_a"].staff, village=world.villages["VA1"])  # fmt: skip
    assert not Assignment.objects.filter(staff__user=world.users["bm_a"]).exists()


def test_a_village_must_be_served_by_the_cms_branch(world):
    with pytest.raises(ValidationError):
        actions.do_assign(world.users["hq_admin"], world.users["cm_a"].staff, village=world.villages["VB1"])  # fmt: skip


@pytest.mark.parametrize(
    "area",
    [{"village": "VA1"}, {"village": "VA2", "grid": "GA2x"}, {}],
    ids=["open", "both", "none"],
)
def test_it_refuses_a_duplicate_or_ambiguous_assignment(world, area):
    area = {k: (world.villages if k == "village" else world.grids)[v] for k, v in area.items()}
    with pytest.raises(ValidationError):
        actions.do_assign(world.users["hq_admin"], world.users["cm_a"].staff, **area)
    assert len(open_assignments(world.users["cm_a"])) == 2


@pytest.mark.parametrize("actor", ["cm_a", "hq_analyst", "evaluator"])
def test_others_cannot_assign_or_end(world, actor):
    with pytest.raises(PermissionDenied):
        actions.do_assign(world.users[actor], world.users["cm_a"].staff, village=world.villages["VA2"])  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.do_end_assignment(world.users[actor], open_assignments(world.users["cm_a"])[0])


def test_an_ended_assignment_cannot_end_again(world):
    assignment = open_assignments(world.users["cm_a"])[0]
    actions.do_end_assignment(world.users["bm_a"], assignment)
    with pytest.raises(ValidationError):
        actions.do_end_assignment(world.users["hq_admin"], assignment)
    assignment.refresh_from_db()
    assert assignment.ended_by == world.users["bm_a"]


def test_a_branch_manager_cannot_end_another_branchs_assignment(world):
    with pytest.raises(PermissionDenied):
        actions.do_end_assignment(world.users["bm_b"], open_assignments(world.users["cm_a"])[0])
    assert len(open_assignments(world.users["cm_a"])) == 2


def test_every_action_writes_a_chained_audit_event(world):
    admin = world.users["hq_admin"]
    zhc = actions.do_create_branch(admin, "ZHC", "丙支行")
    actions.do_set_village_branch(admin, world.villages["VA2"], zhc)
    staff = actions.do_create_staff(admin, username="cm_c", password=PASSWORD, role=Role.CUSTOMER_MANAGER, display_name="丙经理", branch=zhc)  # fmt: skip
    assignment = actions.do_assign(admin, staff, village=Village.objects.get(code="VA2"))
    actions.do_end_assignment(admin, assignment)
    actions.do_change_staff(admin, staff, role=Role.CUSTOMER_MANAGER, branch=zhc, active=False)

    trail = list(AuditEvent.objects.order_by("pk"))
    assert [e.action for e in trail] == [
        "org.branch.create",
        "org.assignment.end", "org.village.branch",  # cm_a (branch A) loses grid GA2 of VA2
        "org.staff.create", "org.assignment.open", "org.assignment.end", "org.staff.change",
    ]  # fmt: skip
    assert all(e.actor == admin for e in trail)
    assert trail[2].before == {"branch": "ZHA"} and trail[2].after == {"branch": "ZHC"}
    assert trail[6].before["active"] is True and trail[6].after["active"] is False
    assert verify().ok


# --- moving a village to another branch --------------------------------------------------


def test_moving_a_village_ends_other_branches_assignments_on_it_and_its_grids(world):
    admin, cm_a = world.users["hq_admin"], world.users["cm_a"]
    on_grid = actions.do_assign(admin, cm_a.staff, grid=world.grids["GA1a"])
    on_village = Assignment.objects.get(staff=cm_a.staff, village_id="VA1")
    # stale data a CM of the new branch may have: kept, they serve that branch
    kept = Assignment.objects.create(staff=world.users["cm_b"].staff, grid=world.grids["GA1b"],
                                     valid_from=on_grid.valid_from, assigned_by=admin)  # fmt: skip
    assert "Ha1" in household_uids(cm_a)

    actions.do_set_village_branch(admin, world.villages["VA1"], branch("ZHB"))

    assert Village.objects.get(code="VA1").branch_id == "ZHB"
    assert [a.grid_id for a in open_assignments(cm_a)] == ["GA2"]  # VA2's grid: untouched
    assert household_uids(cm_a) == {"Ha2"}
    for a in (on_grid, on_village):
        a.refresh_from_db()
        assert a.valid_to is not None and a.ended_by == admin  # ended, kept in the history
    kept.refresh_from_db()
    assert kept.valid_to is None
    assert len(open_assignments(world.users["cm_b"])) == 2
    ends = events("org.assignment.end")
    assert {e.object_id for e in ends} == {str(on_grid.pk), str(on_village.pk)}
    [moved] = events("org.village.branch")
    assert (moved.before, moved.after) == ({"branch": "ZHA"}, {"branch": "ZHB"})
    assert moved.pk > ends[-1].pk
    assert verify().ok


def test_a_village_without_a_branch_keeps_no_assignment(world):
    actions.do_set_village_branch(world.users["hq_admin"], world.villages["VB1"], None)

    assert open_assignments(world.users["cm_b"]) == []
    assert household_uids(world.users["cm_b"]) == set()
    assert events("org.village.branch")[0].after == {"branch": None}


def test_only_hq_admins_move_villages(world):
    with pytest.raises(PermissionDenied):
        actions.do_set_village_branch(world.users["bm_a"], world.villages["VA1"], branch("ZHB"))
    assert Village.objects.get(code="VA1").branch_id == "ZHA"
    assert len(open_assignments(world.users["cm_a"])) == 2


# --- a branch manager without a branch ---------------------------------------------------


def test_a_branch_manager_without_a_branch_sees_and_assigns_nothing(world):
    Village.objects.filter(code="VB1").update(branch=None)  # served by no branch
    Staff.objects.filter(user__username__in=["bm_a", "cm_b"]).update(branch=None)
    scope = scope_for(fresh(world.users["bm_a"]))

    # `branch_id=None` would be IS NULL: VB1, and every user without a branch (HQ, ...)
    assert list(scope.villages()) == []
    assert list(scope.grids()) == []
    assert list(scope.households()) == []
    assert list(scope.persons()) == []
    assert list(scope.staff_members()) == []
    assert list(scope.access_log()) == []
    with pytest.raises(PermissionDenied):
        actions.do_assign(fresh(world.users["bm_a"]), Staff.objects.get(user__username="cm_b"), village=Village.objects.get(code="VB1"))  # fmt: skip
    with pytest.raises(PermissionDenied):
        actions.do_end_assignment(fresh(world.users["bm_a"]), Assignment.objects.get(staff__user__username="cm_b"))  # fmt: skip
    assert not AuditEvent.objects.exists()


# --- the password policy and one's own password ------------------------------------------

WEAK_PASSWORDS = {
    "too-short": "short-pw-1",
    "numeric": "736459182734",
    "common": "password1234",
    "like-the-username": "cm_new_2026",
}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.mark.parametrize("password", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_it_refuses_a_password_the_policy_refuses(world, password):
    users = User.objects.count()

    with pytest.raises(ValidationError) as refused:
        actions.do_create_staff(
            world.users["hq_admin"], username="cm_new", password=password,
            role=Role.CUSTOMER_MANAGER, display_name="新经理", branch=branch("ZHA"),
        )  # fmt: skip

    assert refused.value.messages
    assert User.objects.count() == users
    assert not AuditEvent.objects.exists()


def test_the_staff_page_says_why_a_password_is_refused(as_user, world):
    response = as_user("hq_admin").post(reverse("org:staff_list"), {
        "username": "cm_new", "password": "short-pw-1", "role": "customer_manager",
        "display_name": "新经理", "branch": "ZHA",
    }, **ENGLISH)  # fmt: skip

    assert response.status_code == 400
    assert "This password is too short." in str(response.context["form"].errors["password"])
    assert "This password is too short." in response.content.decode()
    assert not User.objects.filter(username="cm_new").exists()


def test_the_staff_page_says_why_a_user_name_is_refused(as_user, world):
    response = as_user("hq_admin").post(reverse("org:staff_list"), {
        "username": "王\u200b经理", "password": PASSWORD, "role": "customer_manager",
        "display_name": "新经理", "branch": "ZHA",
    })  # fmt: skip

    assert response.status_code == 400
    assert "用户名只能包含" in str(response.context["form"].errors["username"])
    assert not User.objects.filter(username__startswith="王").exists()


def test_the_first_hq_admin_needs_a_password_the_policy_accepts(db):
    with pytest.raises(ValidationError):
        actions.bootstrap_hq_admin(username="boss", password="736459182734", display_name="王总", by="root")  # fmt: skip
    assert not User.objects.filter(username="boss").exists()


NEW_PASSWORD = "plum-river-lantern-42"


def change_password(client, old: str, new: str = NEW_PASSWORD, again: str | None = None):
    return client.post(reverse("password_change"), {
        "old_password": old, "new_password1": new, "new_password2": new if again is None else again,
    })  # fmt: skip


@pytest.mark.parametrize("key", ["cm_a", "hq_admin", "evaluator", "customer", "norole"])
def test_every_user_changes_their_own_password_and_it_is_audited(as_user, world, key):
    from world import PASSWORD as OLD

    user = world.users[key]
    client = as_user(key)

    response = change_password(client, OLD)

    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert fresh(user).check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200  # still signed in
    [event] = events("auth.password.change")
    assert (event.actor, event.object_type, event.object_id) == (user, "auth.user", str(user.pk))
    assert (event.before, event.after) == (None, None)
    stored = fresh(user).password
    assert not [e for e in AuditEvent.objects.all() if stored in str(e.__dict__) or NEW_PASSWORD in str(e.__dict__)]  # fmt: skip
    assert verify().ok


@pytest.mark.parametrize(
    ("old", "new", "again"),
    [
        ("wrong-password-1", NEW_PASSWORD, None),
        (None, "short-pw-1", None),
        (None, "password1234", None),
        (None, NEW_PASSWORD, NEW_PASSWORD + "x"),
    ],
    ids=["wrong-old", "too-short", "common", "mismatch"],
)
def test_it_refuses_a_wrong_old_or_a_weak_new_password(as_user, world, old, new, again):
    from world import PASSWORD as OLD

    response = change_password(as_user("cm_a"), old or OLD, new, again)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert fresh(world.users["cm_a"]).check_password(OLD)
    assert not AuditEvent.objects.exists()


def test_the_password_pages_are_in_chinese_and_linked_from_every_page(as_user, world):
    from world import PASSWORD as OLD

    client = as_user("evaluator")

    form = client.get(reverse("password_change")).content.decode()
    done = client.get(reverse("password_change_done")).content.decode()
    home = client.get(reverse("home")).content.decode()

    assert "修改密码" in form and "Change password" not in form
    assert "至少 12 个字符" in form  # the policy, from the validators' help texts
    assert "密码已修改" in done
    assert f'href="{reverse("password_change")}"' in home
    # the form's messages are Django's, in Chinese too
    assert "旧密码不正确" in change_password(client, "wrong-password-1").content.decode()
    assert "密码长度太短" in change_password(client, OLD, "short-pw-1").content.decode()


# --- the pages -------------------------------------------------------------------------


def test_hq_admins_create_users_on_the_staff_page(as_user, world):
    response = as_user("hq_admin").post(reverse("org:staff_list"), {
        "username": "cm_new", "password": PASSWORD, "role": "customer_manager",
        "display_name": "新经理", "branch": "ZHA",
    })  # fmt: skip

    staff = Staff.objects.get(user__username="cm_new")
    assert response.status_code == 302
    assert response.url == reverse("org:staff", args=[staff.pk])
    assert staff.branch_id == "ZHA"
    assert events("org.staff.create")[0].object_id == str(staff.pk)


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "customer_manager"},  # no branch
        {"role": "customer_manager", "branch": "NOPE"},
        {"role": "hq_analyst", "username": "cm_a"},
    ],
)
def test_the_staff_page_shows_what_is_wrong(as_user, world, fields):
    data = {"username": "cm_new", "password": PASSWORD, "display_name": "新", **fields}
    users = User.objects.count()

    response = as_user("hq_admin").post(reverse("org:staff_list"), data)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert User.objects.count() == users


def test_the_staff_list_is_for_managers(as_user, client, world):
    url = reverse("org:staff_list")
    assert as_user("bm_a").get(url).status_code == 200
    data = {"username": "x", "password": PASSWORD, "role": "hq_admin", "display_name": "x"}
    assert as_user("bm_a").post(url, data).status_code == 403
    assert as_user("cm_a").get(url).status_code == 404
    assert as_user("evaluator").get(url).status_code == 404
    assert not User.objects.filter(username="x").exists()
    client.logout()
    assert client.get(url).status_code == 302


def test_the_staff_page_moves_a_cm_to_another_branch(as_user, world):
    cm = world.users["cm_a"]
    url = reverse("org:staff", args=[cm.staff.pk])

    response = as_user("hq_admin").post(f"{url}change/", {"role": "customer_manager", "branch": "ZHB", "active": "on"})  # fmt: skip

    assert response.status_code == 302
    assert fresh(cm).staff.branch_id == "ZHB"
    assert open_assignments(cm) == []
    assert Assignment.objects.filter(staff__user=cm, ended_by=world.users["hq_admin"]).count() == 2
    assert len(events("org.staff.change")) == 1


@pytest.mark.parametrize("fields", [{"role": "hq_analyst", "active": "on"}, {"role": "hq_admin"}])
def test_the_staff_page_keeps_an_admin_from_removing_their_own_access(as_user, world, fields):
    admin = world.users["hq_admin"]
    url = reverse("org:staff_change", args=[admin.staff.pk])

    response = as_user("hq_admin").post(url, fields)

    assert response.status_code == 400
    assert response.context["change_form"].errors
    assert fresh(admin).staff.role == Role.HQ_ADMIN and fresh(admin).is_active


def test_branch_managers_assign_on_the_staff_page(as_user, world):
    url = reverse("org:staff_assign", args=[world.users["cm_a"].staff.pk])
    response = as_user("bm_a").post(url, {"village": "VA2"})
    assert response.status_code == 302
    assert Assignment.objects.get(staff__user=world.users["cm_a"], village_id="VA2").assigned_by == world.users["bm_a"]  # fmt: skip
    assert "Ha3" in household_uids(world.users["cm_a"])


@pytest.mark.parametrize("area", [{"village": "VB1"}, {"grid": "GB1"}])
def test_a_branch_manager_cannot_assign_another_branchs_area_on_the_page(as_user, world, area):
    url = reverse("org:staff_assign", args=[world.users["cm_a"].staff.pk])
    count = Assignment.objects.count()

    response = as_user("bm_a").post(url, area)

    # outside the manager's scope: not found, like any object they may not see
    assert response.status_code == 404
    assert Assignment.objects.count() == count


def test_the_staff_page_refuses_to_assign_a_non_cm(as_user, world):
    url = reverse("org:staff_assign", args=[world.users["bm_a"].staff.pk])
    response = as_user("bm_a").post(url, {"village": "VA1"})
    assert response.status_code == 400
    assert response.context["assign_form"].errors
    assert not Assignment.objects.filter(staff__user=world.users["bm_a"]).exists()


def test_the_staff_page_limits_branch_managers(as_user, world):
    client = as_user("bm_a")
    cm_a = reverse("org:staff", args=[world.users["cm_a"].staff.pk])
    assert client.get(cm_a).status_code == 200
    assert client.post(f"{cm_a}change/", {"role": "branch_manager", "branch": "ZHA", "active": "on"}).status_code == 403  # fmt: skip
    assert client.post(cm_a, {"op": "promote"}).status_code == 405  # the page itself only shows
    assert client.post(f"{cm_a}assign/", {"grid": "abc"}).status_code == 400
    cm_b = reverse("org:staff", args=[world.users["cm_b"].staff.pk])
    assert client.get(cm_b).status_code == 404
    assert client.post(f"{cm_b}assign/", {"village": "VA1"}).status_code == 404
    assert fresh(world.users["cm_a"]).staff.role == Role.CUSTOMER_MANAGER


def test_ending_an_assignment_on_the_page_keeps_it(as_user, world):
    assignment = Assignment.objects.get(staff__user=world.users["cm_a"], village_id="VA1")
    url = reverse("org:assignment_end", args=[assignment.pk])

    assert as_user("bm_b").post(url).status_code == 404
    assert as_user("bm_a").get(url).status_code == 405
    response = as_user("bm_a").post(url)

    assert response.url == reverse("org:staff", args=[assignment.staff_id])
    assignment.refresh_from_db()
    assert assignment.valid_to is not None and assignment.ended_by == world.users["bm_a"]
    assert household_uids(world.users["cm_a"]) == {"Ha2"}
    assert as_user("hq_admin").post(url).status_code == 302  # already ended: a message
    assignment.refresh_from_db()
    assert assignment.ended_by == world.users["bm_a"]
    assert len(events("org.assignment.end")) == 1


# --- Django admin ----------------------------------------------------------------------


def test_only_hq_admins_reach_django_admin(as_user, world):
    for key in ("cm_a", "bm_a", "hq_analyst", "evaluator"):
        response = as_user(key).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response.url, key
    assert as_user("hq_admin").get("/admin/").status_code == 200


def test_adding_a_branch_in_django_admin_is_audited(as_user, world):
    response = as_user("hq_admin").post("/admin/org/branch/add/", {"code": "ZHC", "name": "丙支行"})

    assert response.status_code == 302
    assert Branch.objects.get(code="ZHC").name == "丙支行"
    [event] = events("admin.branch.create")
    assert (event.actor, event.object_type, event.object_id) == (world.users["hq_admin"], "org.branch", "ZHC")  # fmt: skip
    assert (event.before, event.after) == (None, {"code": "ZHC", "name": "丙支行"})
    assert verify().ok


def test_changing_and_deleting_a_branch_in_django_admin_is_audited(as_user, world):
    client = as_user("hq_admin")
    Branch.objects.create(code="ZHC", name="丙支行")

    client.post("/admin/org/branch/ZHC/change/", {"code": "ZHX", "name": "丙支行（新）"})
    assert client.post("/admin/org/branch/ZHC/delete/", {"post": "yes"}).status_code == 302
    # a branch that serves villages cannot be deleted (they would lose their branch)
    assert client.post("/admin/org/branch/ZHA/delete/", {"post": "yes"}).status_code == 403

    assert not Branch.objects.filter(code__in=["ZHC", "ZHX"]).exists()
    [change] = events("admin.branch.change")
    assert change.before == {"code": "ZHC", "name": "丙支行"}
    assert change.after == {"code": "ZHC", "name": "丙支行（新）"}  # the code is read-only
    [delete] = events("admin.branch.delete")
    assert (delete.object_id, delete.before, delete.after) == ("ZHC", change.after, None)
    assert Village.objects.filter(branch_id="ZHA").count() == 2


def test_a_villages_branch_is_the_only_thing_admin_changes(as_user, world):
    Village.objects.filter(code="VA2").update(geometry='{"type": "Polygon"}')

    response = as_user("hq_admin").post("/admin/org/village/VA2/change/", {
        "branch": "ZHB", "name": "改名村", "geometry": "{}",
    })  # fmt: skip

    assert response.status_code == 302
    village = Village.objects.get(code="VA2")
    assert (village.branch_id, village.name, village.geometry) == ("ZHB", "西湖村", '{"type": "Polygon"}')  # fmt: skip
    # through the action: cm_a (branch A) loses grid GA2 of VA2, with history and audit
    assert [a.village_id for a in open_assignments(world.users["cm_a"])] == ["VA1"]
    [ended] = events("org.assignment.end")
    assert ended.actor == world.users["hq_admin"]
    [event] = events("org.village.branch")
    assert (event.before, event.after) == ({"branch": "ZHA"}, {"branch": "ZHB"})
    assert not events("admin.village.change")
    assert as_user("hq_admin").get("/admin/org/village/add/").status_code == 403


def test_saving_a_village_unchanged_in_django_admin_changes_nothing(as_user, world):
    response = as_user("hq_admin").post("/admin/org/village/VA2/change/", {"branch": "ZHA"})

    assert response.status_code == 302
    assert len(open_assignments(world.users["cm_a"])) == 2
    assert not AuditEvent.objects.exists()


def test_groups_and_grids_are_read_only_in_django_admin(as_user, world):
    client = as_user("hq_admin")
    assert client.get("/admin/org/grid/GA1a/change/").status_code == 200
    assert client.post("/admin/org/grid/GA1a/change/", {"village": "VB1"}).status_code == 403
    assert client.get("/admin/org/grid/add/").status_code == 403
    assert client.get("/admin/org/villagegroup/add/").status_code == 403
    assert client.post("/admin/org/villagegroup/VA1G1/delete/", {"post": "yes"}).status_code == 403


def test_creating_staff_in_django_admin_follows_the_app_rules(as_user, world):
    client = as_user("hq_admin")
    data = {"username": "admin2", "password": PASSWORD, "display_name": "第二管理员",
            "role": "hq_admin", "branch": "", "village": "", "person": ""}  # fmt: skip

    response = client.post("/admin/org/staff/add/", data)

    assert response.status_code == 302
    staff = Staff.objects.get(user__username="admin2")
    assert staff.user.is_staff and staff.user.check_password(PASSWORD)
    [event] = events("org.staff.create")
    assert (event.actor, event.object_id) == (world.users["hq_admin"], str(staff.pk))


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "customer_manager"},  # no branch
        {"role": "hq_analyst", "username": "cm_a"},  # taken
        {"role": "hq_analyst", "username": "bad name!"},
    ],
)
def test_django_admin_shows_staff_mistakes_on_the_form(as_user, world, fields):
    data = {"username": "someone", "password": PASSWORD, "display_name": "某人", "branch": "",
            "village": "", "person": "", **fields}  # fmt: skip
    users = User.objects.count()

    response = as_user("hq_admin").post("/admin/org/staff/add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert User.objects.count() == users
    assert not AuditEvent.objects.exists()


def test_changing_staff_in_django_admin_runs_the_action(as_user, world):
    cm = world.users["cm_a"]
    response = as_user("hq_admin").post(f"/admin/org/staff/{cm.staff.pk}/change/", {
        "display_name": "甲经理", "role": "customer_manager", "branch": "ZHB", "village": "",
        "person": "", "active": "on",
    })  # fmt: skip

    assert response.status_code == 302
    staff = Staff.objects.get(pk=cm.staff.pk)
    assert (staff.display_name, staff.branch_id) == ("甲经理", "ZHB")
    assert open_assignments(cm) == []  # the action's rule: leaving the branch ends them
    [renamed] = events("admin.staff.change")
    assert (renamed.before, renamed.after) == ({"display_name": "cm_a"}, {"display_name": "甲经理"})
    [changed] = events("org.staff.change")
    assert (changed.before["branch"], changed.after["branch"]) == ("ZHA", "ZHB")
    assert len(events("org.assignment.end")) == 2


def test_django_admin_keeps_an_admin_from_removing_their_own_access(as_user, world):
    admin = world.users["hq_admin"]
    response = as_user("hq_admin").post(f"/admin/org/staff/{admin.staff.pk}/change/", {
        "display_name": "总行管理员", "role": "hq_analyst", "branch": "", "village": "",
        "person": "", "active": "on",
    })  # fmt: skip

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert fresh(admin).staff.role == Role.HQ_ADMIN
    assert not AuditEvent.objects.exists()


def test_staff_and_users_are_not_deleted_in_django_admin(as_user, world):
    client = as_user("hq_admin")
    cm = world.users["cm_a"]
    assert client.post(f"/admin/org/staff/{cm.staff.pk}/delete/", {"post": "yes"}).status_code == 403  # fmt: skip
    assert client.post(f"/admin/auth/user/{cm.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/auth/user/add/").status_code == 403
    assert Staff.objects.filter(pk=cm.staff.pk).exists()


def test_a_password_set_in_django_admin_is_audited(as_user, world):
    cm = world.users["cm_a"]
    response = as_user("hq_admin").post(f"/admin/auth/user/{cm.pk}/password/", {
        "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true",
    })  # fmt: skip

    assert response.status_code == 302
    assert fresh(cm).check_password(PASSWORD)
    [event] = events("admin.user.password")
    assert (event.object_id, event.before, event.after) == (str(cm.pk), None, None)
    assert not [e for e in AuditEvent.objects.all() if "password" in str(e.after)]


def test_assigning_in_django_admin_runs_the_action(as_user, world):
    client = as_user("hq_admin")
    cm = world.users["cm_a"]

    response = client.post("/admin/org/assignment/add/", {"staff": cm.staff.pk, "village": "VA2", "grid": ""})  # fmt: skip

    assert response.status_code == 302
    assignment = Assignment.objects.get(staff=cm.staff, village_id="VA2")
    assert assignment.assigned_by == world.users["hq_admin"]
    assert events("org.assignment.open")[0].object_id == str(assignment.pk)

    refused = client.post("/admin/org/assignment/add/", {"staff": cm.staff.pk, "village": "VB1", "grid": ""})  # fmt: skip
    assert refused.status_code == 200 and refused.context["adminform"].form.errors
    assert client.post(f"/admin/org/assignment/{assignment.pk}/delete/", {"post": "yes"}).status_code == 403  # fmt: skip

    ended = client.post("/admin/org/assignment/", {"action": "end_assignments", "_selected_action": [assignment.pk]})  # fmt: skip
    assert ended.status_code == 302
    assignment.refresh_from_db()
    assert assignment.ended_by == world.users["hq_admin"]
    assert len(events("org.assignment.end")) == 1
    assert verify().ok


def test_django_admin_shows_persons_masked_only(as_user, world):
    client = as_user("hq_admin")
    person = world.persons["a11"]
    id_number, phone = world.plain["a11"]

    for url in ("/admin/pool/person/", f"/admin/pool/person/{person.uid}/change/",
                "/admin/pool/household/", f"/admin/pool/household/{person.household_id}/change/"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        for secret in (id_number, phone, person.id_number_enc, person.phone_enc,
                       person.id_number_bidx, person.phone_bidx):  # fmt: skip
            assert secret not in html, url
    html = client.get(f"/admin/pool/person/{person.uid}/change/").content.decode()
    assert person.id_masked in html and person.phone_masked in html
    assert client.post(f"/admin/pool/person/{person.uid}/change/", {"name": "x"}).status_code == 403
    assert client.get("/admin/pool/publishrun/").status_code == 200


def test_segments_in_django_admin_are_checked_and_audited(as_user, world):
    client = as_user("hq_admin")

    bad = client.post("/admin/pool/segment/add/", {"name": "灰名单", "tags": '["no-colon"]', "colors": "[]"})  # fmt: skip
    assert bad.status_code == 200 and bad.context["adminform"].form.errors
    good = client.post("/admin/pool/segment/add/", {"name": " 灰名单 ", "tags": "[]", "colors": '["grey"]'})  # fmt: skip

    assert good.status_code == 302
    segment = Segment.objects.get()
    assert (segment.name, segment.colors, segment.created_by) == ("灰名单", ["grey"], world.users["hq_admin"])  # fmt: skip
    [event] = events("admin.segment.create")
    assert event.after["colors"] == ["grey"]
    client.post("/admin/pool/segment/", {"action": "delete_selected", "_selected_action": [segment.pk], "post": "yes"})  # fmt: skip
    assert not Segment.objects.exists()
    [deleted] = events("admin.segment.delete")
    assert deleted.before["name"] == "灰名单"


def test_every_django_admin_page_renders(as_user, world):
    from django.contrib import admin

    client = as_user("hq_admin")
    cm = world.users["cm_a"]
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
    for url in (
        "/admin/org/staff/add/",
        f"/admin/org/staff/{cm.staff.pk}/change/",
        "/admin/org/assignment/add/",
        f"/admin/org/assignment/{open_assignments(cm)[0].pk}/change/",
        "/admin/org/branch/add/",
        "/admin/org/village/VA1/change/",
        "/admin/pool/segment/add/",
        f"/admin/auth/user/{cm.pk}/change/",
        f"/admin/auth/user/{cm.pk}/password/",
    ):
        assert client.get(url).status_code == 200, url
    assert "auth.group" not in {m._meta.label_lower for m in admin.site._registry}


def test_the_first_hq_admin_is_created_from_the_command_line(db):
    from click.testing import CliRunner

    from cunxin.audit.models import AuditEvent
    from cunxin.cli import main
    from cunxin.org.scope import scope_for

    out = CliRunner().invoke(
        main,
        [
            "org",
            "create-admin",
            "--username",
            "boss",
            "--name",
            "王总",
            "--password",
            "a-long-secret-1",
        ],
    )
    assert out.exit_code == 0, out.output
    user = get_user_model().objects.get(username="boss")
    assert scope_for(user).can_manage_staff
    assert AuditEvent.objects.filter(
        action="org.staff.create", actor_name__startswith="cli:"
    ).exists()
    again = CliRunner().invoke(
        main,
        [
            "org",
            "create-admin",
            "--username",
            "boss",
            "--name",
            "x",
            "--password",
            "a-long-secret-1",
        ],
    )
    assert again.exit_code != 0
