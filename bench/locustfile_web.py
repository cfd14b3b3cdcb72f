"""Locust load for bench/web_load.py: customer managers on phones in their village.

Each virtual user takes its own bench CM (`bench-cm-NN`, in the order of the users file
that web_load.py writes), signs in, opens its village, then keeps opening household pages
(weight 3) and searching the village pool (weight 1), 0.5–1.5 s apart.

Run through bench/web_load.py, which prepares the users file and the server; by hand:

    CUNXIN_BENCH_USERS=bench-out/web_load_users.json \
        uv run --group bench locust -f bench/locustfile_web.py --headless -u 50 -r 10 -t 60s \
        --host http://127.0.0.1:8123
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

USERS_FILE = Path(os.environ.get("CUNXIN_BENCH_USERS", "bench-out/web_load_users.json"))
CMS: list[dict] = json.loads(USERS_FILE.read_text(encoding="utf-8"))
_next_cm = itertools.count()  # locust runs users as greenlets in one process: no lock needed

# CSRF_USE_SESSIONS=True: the token comes from the page, never from a cookie.
_TOKEN_RE = (
    re.compile(r'"X-CSRFToken":\s*"([^"]+)"'),
    re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"'),
)
FORM = "application/x-www-form-urlencoded; charset=utf-8"


# Every request as (name, start epoch s, response ms, error or None), saved when locust
# quits: exact percentiles for web_load.py (locust's own are bucketed, and its CSV is
# written on a timer, so it can miss the last second).
SAMPLES_FILE = os.environ.get("CUNXIN_BENCH_SAMPLES")
_samples: list[tuple[str, float, float, str | None]] = []


@events.request.add_listener
def _record(name, start_time, response_time, exception=None, **_kwargs) -> None:
    error = None if exception is None else f"{type(exception).__name__}: {exception}"[:200]
    _samples.append((name, start_time, response_time, error))


@events.quit.add_listener
def _save_samples(**_kwargs) -> None:
    if SAMPLES_FILE:
        Path(SAMPLES_FILE).write_text(json.dumps(_samples, ensure_ascii=False), encoding="utf-8")


def stamped(headers: dict | None = None) -> dict:
    """X-Bench-T0: when the request left (epoch s). gunicorn logs it, so web_load.py can
    cut the server's figures to the same window as the client's."""
    return {**(headers or {}), "X-Bench-T0": f"{time.time():.3f}"}


def csrf_token(html: str | None) -> str | None:
    for pattern in _TOKEN_RE:
        m = pattern.search(html or "")
        if m:
            return m.group(1)
    return None


class CustomerManager(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        n = next(_next_cm)
        self.cm = CMS[n % len(CMS)]  # web_load.py makes at least as many CMs as users
        self.rng = random.Random(n)
        self.village = self.cm["village"]
        with self.client.get(
            "/login/", name="login page", headers=stamped(), catch_response=True
        ) as r:
            token = csrf_token(r.text)
            if r.status_code != 200 or not token:
                r.failure(
                    f"login page: status {r.status_code}, token {'found' if token else 'missing'}"
                )
                raise StopUser
        body = urlencode({
            "username": self.cm["username"], "password": self.cm["password"],
            "csrfmiddlewaretoken": token, "next": "",
        })  # fmt: skip
        with self.client.post(
            "/login/", data=body, name="login", allow_redirects=False, catch_response=True,
            headers=stamped({"Content-Type": FORM, "X-CSRFToken": token}),
        ) as r:  # fmt: skip
            if r.status_code != 302 or "/login/" in (r.headers.get("Location") or ""):
                r.failure(f"login of {self.cm['username']} failed: status {r.status_code}")
                raise StopUser
            r.success()
        # Signing in rotates the CSRF token: take the new one from the first page.
        with self.client.get(
            f"/pool/villages/{self.village}/",
            name="village page",
            headers=stamped(),
            catch_response=True,
        ) as r:
            self.token = csrf_token(r.text)
            if r.status_code != 200 or not self.token:
                r.failure(f"village page: status {r.status_code}")
                raise StopUser

    @task(3)
    def household(self) -> None:
        uid, head = self.rng.choice(self.cm["households"])
        with self.client.get(
            f"/pool/households/{uid}/",
            name="household page",
            headers=stamped(),
            catch_response=True,
        ) as r:
            text = r.text or ""
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            elif (head and head in text) or 'data-testid="member"' in text:
                r.success()
            else:
                r.failure("neither the head's name nor a member on the page")

    @task(1)
    def search(self) -> None:
        q = self.rng.choice(self.cm["searches"])
        show = self.rng.choice(("households", "persons"))
        body = urlencode({"q": q, "show": show, "csrfmiddlewaretoken": self.token})
        with self.client.post(
            f"/pool/villages/{self.village}/", data=body, name="pool search", catch_response=True,
            # as the page's htmx form sends it: the results fragment, not the whole page
            headers=stamped(
                {"Content-Type": FORM, "X-CSRFToken": self.token, "HX-Request": "true"}
            ),
        ) as r:  # fmt: skip
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            elif 'data-testid="result-count"' not in (r.text or ""):
                r.failure("no result count in the response")
            else:
                r.success()
