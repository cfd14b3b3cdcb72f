"""Locust load for bench/review_load.py: evaluators on phones in the first review round.

Each virtual user takes its own bench evaluator (`bench-ev-<village>-N`, in the order of the
users file that review_load.py writes), signs in with its password, opens the list of
households, then keeps reviewing: a household's review page, 0.5–1.5 s to fill it in, then
a save (a draft) or a submit, and the list of households the redirect leads to. A new
household is saved as a draft or submitted at once, half and half; a draft is resumed and
submitted later. A user never submits a household twice (a 400), so every failure is real.

Every request carries X-Bench-Name (its name here), which gunicorn logs: save and submit
post to the same URL. The samples file and X-Bench-T0 are bench/locustfile_web.py's
(importing it registers its recorder).

Run through bench/review_load.py, which prepares the users file and the server; by hand:

    CUNXIN_BENCH_USERS=bench-out/review_load_users.json \
        uv run --group bench locust -f bench/locustfile_review.py --headless -u 50 -r 10 \
        -t 60s --host http://127.0.0.1:8124
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, task
from locust.exception import StopUser

from locustfile_web import FORM, csrf_token, stamped

USERS_FILE = Path(os.environ.get("CUNXIN_BENCH_USERS", "bench-out/review_load_users.json"))
EVALUATORS: list[dict] = json.loads(USERS_FILE.read_text(encoding="utf-8"))
_next_evaluator = itertools.count()  # users are greenlets of one process: no lock needed
_ERRORS_RE = re.compile(r'<ul class="errors">(.*?)</ul>', re.S)
# how often an evaluator knows the household, and ticks a negative item for a member
KNOWS_SHARE, NEGATIVE_SHARE = 0.9, 0.05


def named(name: str, headers: dict | None = None) -> dict:
    return stamped({**(headers or {}), "X-Bench-Name": name})


class Evaluator(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        n = next(_next_evaluator)
        self.me = EVALUATORS[n % len(EVALUATORS)]
        self.rng = random.Random(n)
        self.base = f"/evaluation/rounds/{self.me['round']}/households/"
        self.todo = list(self.me["households"])  # [household uid, [member uids]], not started
        self.drafts: list[list] = []  # saved, not yet submitted
        self.submitted = 0
        with self.client.get(
            "/login/", name="login page", headers=named("login page"), catch_response=True
        ) as r:
            token = csrf_token(r.text)
            if r.status_code != 200 or not token:
                r.failure(f"status {r.status_code}, token {'found' if token else 'missing'}")
                raise StopUser
        body = urlencode({
            "username": self.me["username"], "password": self.me["password"],
            "csrfmiddlewaretoken": token, "next": "",
        })  # fmt: skip
        with self.client.post(
            "/login/", data=body, name="login", allow_redirects=False, catch_response=True,
            headers=named("login", {"Content-Type": FORM, "X-CSRFToken": token}),
        ) as r:  # fmt: skip
            if r.status_code != 302 or "/login/" in (r.headers.get("Location") or ""):
                r.failure(f"sign-in of {self.me['username']} refused: status {r.status_code}")
                raise StopUser
            r.success()
        if not self.home():
            raise StopUser

    def home(self) -> bool:
        """The list of households (where a save or a submit leads)."""
        with self.client.get(
            "/evaluation/", name="home page", headers=named("home page"), catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            elif 'data-testid="household-row"' not in (r.text or ""):
                r.failure("no household on the list")
            else:
                return True
        return False

    @task
    def review(self) -> None:
        # resume a draft half the time (always, once every household is started)
        if self.drafts and (not self.todo or self.rng.random() < 0.5):
            household = self.drafts.pop(self.rng.randrange(len(self.drafts)))
            submit = True
        elif self.todo:
            household = self.todo.pop()
            submit = self.rng.random() < 0.5
        else:
            raise StopUser  # nothing left to review (review_load.py gives 300 households)
        uid, members = household
        url = f"{self.base}{uid}/"
        with self.client.get(
            url, name="review page", headers=named("review page"), catch_response=True
        ) as r:
            token = csrf_token(r.text)
            shown = (r.text or "").count('data-testid="review-member"')
            ok = r.status_code == 200 and token is not None and shown == len(members)
            if not ok:
                r.failure(f"status {r.status_code}, {shown} of {len(members)} members, "
                          f"token {'found' if token else 'missing'}")  # fmt: skip
        if not ok:
            return
        self.wait()  # filling it in
        name = "submit" if submit else "save"
        with self.client.post(
            url, data=self.form(members, token, submit), name=name, allow_redirects=False,
            catch_response=True,
            headers=named(name, {"Content-Type": FORM, "X-CSRFToken": token}),
        ) as r:  # fmt: skip
            if r.status_code == 302 and (r.headers.get("Location") or "").endswith("/evaluation/"):
                r.success()
            else:
                errors = _ERRORS_RE.search(r.text or "")
                r.failure(
                    f"status {r.status_code}"
                    + (f": {re.sub(r'<[^>]+>', ' ', errors.group(1)).strip()[:150]}" if errors else "")
                )  # fmt: skip
                return
        if submit:
            self.submitted += 1
        else:
            self.drafts.append(household)
        self.home()

    def form(self, members: list[str], token: str, submit: bool) -> str:
        """The review form as a phone posts it: every member's part."""
        fields = [("csrfmiddlewaretoken", token), ("action", "submit" if submit else "draft")]
        for uid in members:
            if self.rng.random() >= KNOWS_SHARE:
                fields.append((f"knows-{uid}", "no"))
                continue
            fields.append((f"knows-{uid}", "yes"))
            if self.rng.random() < NEGATIVE_SHARE:
                fields.append((f"neg-{uid}", self.rng.choice(self.me["negative_items"])))
            fields += [
                (f"grade-{uid}-{item}", str(self.rng.randint(1, 5)))
                for item in self.me["graded_items"]
            ]
            amount = self.rng.randrange(10_000, self.me["amount_cap"] + 1, 1_000)
            fields.append((f"amount-{uid}", str(amount)))
        return urlencode(fields)
