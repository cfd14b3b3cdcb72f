"""Demo organisation: a branch per township, and a user for every role.

The demo's users get random passwords once per demo folder: they are kept in a file there
(`demo-passwords.json`, readable by its owner only) and set again on every run, so a
second `cunxin demo` over the same folder signs in with the same passwords. Nothing here
is meant for a real bank, which creates its branches and users in the app.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from cunxin.org import actions
from cunxin.org.models import Assignment, Branch, Grid, Role, Staff, Village
from cunxin.pool.models import Person

SYSTEM_ADMIN = "demo-admin"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    scope: str


PASSWORDS_FILE = "demo-passwords.json"


def kept_passwords(path: Path | None, usernames: list[str]) -> dict[str, str]:
    """A password per user: those kept in `path` (a JSON object), new random ones for the
    others, written back (mode 0600, replaced whole) when anything was added."""
    kept: dict[str, str] = {}
    if path is not None and path.exists():
        try:
            kept = {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items()
                    if isinstance(v, str) and v}  # fmt: skip
        except (ValueError, AttributeError):
            kept = {}  # unreadable: new passwords, and the file rewritten
    passwords = {u: kept.get(u) or secrets.token_urlsafe(9) for u in usernames}
    if path is not None and any(kept.get(u) != p for u, p in passwords.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({**kept, **passwords}, f, ensure_ascii=False, indent=1)
        os.chmod(tmp, 0o600)  # an older file of that name kept its mode
        os.replace(tmp, path)
    return passwords


def _set_password(username: str, password: str) -> str:
    user = get_user_model().objects.get(username=username)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


@transaction.atomic
def setup_demo_org(passwords_file: Path | None = None) -> list[DemoUser]:
    """Idempotent: re-running keeps users and assignments. Passwords are those kept in
    `passwords_file` (made on the first run); without one, new ones every run."""
    User = get_user_model()
    admin = User.objects.filter(username=SYSTEM_ADMIN).first()
    if admin is None:
        admin = User.objects.create_user(SYSTEM_ADMIN, is_staff=True, is_superuser=True)
        Staff.objects.create(user=admin, role=Role.HQ_ADMIN, display_name="总行管理员")
    for v in Village.objects.filter(branch__isnull=True, retired_at__isnull=True):
        code = f"ZH{v.township_code or '000'}"
        branch = Branch.objects.filter(code=code).first() or actions.do_create_branch(
            admin, code, f"{v.township_name or '县城'}支行"
        )
        actions.do_set_village_branch(admin, v, branch)

    villages = list(Village.objects.filter(retired_at__isnull=True).order_by("code"))
    first = villages[0]
    branch = first.branch
    cm_grid = Grid.objects.filter(village__branch=branch).exclude(village=first).order_by("code").first()  # fmt: skip
    evaluator_person = (
        Person.objects.filter(village=first, retired_at__isnull=True, phone_enc__isnull=False)
        .order_by("uid")
        .first()
    )
    customer_person = (
        Person.objects.filter(village=first, relation_to_head="户主", retired_at__isnull=True)
        .order_by("-uid")
        .first()
    )
    wanted = [
        ("hq-admin", Role.HQ_ADMIN, "王总", {}, "全行"),
        ("hq-analyst", Role.HQ_ANALYST, "李分析", {}, "全行（只读）"),
        ("bm", Role.BRANCH_MANAGER, "赵行长", {"branch": branch}, f"{branch.name}"),
        ("cm", Role.CUSTOMER_MANAGER, "陈经理", {"branch": branch},
         f"{first}" + (f" + 网格 {cm_grid.code}" if cm_grid else "")),
        ("evaluator", Role.EVALUATOR, "村评议员", {"village": first, "person": evaluator_person},
         f"{first}; or /code-login/ with phone {evaluator_person.phone()} (synthetic)"),
        ("customer", Role.CUSTOMER, customer_person.name if customer_person else "客户",
         {"person": customer_person}, "本户"),
    ]  # fmt: skip
    passwords = kept_passwords(passwords_file, [username for username, *_ in wanted])
    users = []
    for username, role, name, home, scope in wanted:
        if not User.objects.filter(username=username).exists():
            staff = actions.do_create_staff(
                admin, username=username, password=secrets.token_urlsafe(9), role=role,
                display_name=name, **home,
            )  # fmt: skip
            if role == Role.CUSTOMER_MANAGER:
                actions.do_assign(admin, staff, village=first)
                if cm_grid:
                    actions.do_assign(admin, staff, grid=cm_grid)
        password = _set_password(username, passwords[username])
        users.append(DemoUser(username, password, str(Role(role).label), scope))
    assert Assignment.objects.filter(staff__user__username="cm", valid_to__isnull=True).exists()
    return users
