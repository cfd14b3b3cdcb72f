"""The pool search as an oracle (issue 11 §5): the 360 page shows a masked ID number
(first 6 + last 4) and the age, so about 33 dates of the birth year fit the check digit;
a search that says which of them hits recovers the whole number. These tests run that
attack, and the one on a phone's hidden digits, as each staff role would, and fail if a
value is recovered without an access-log row (pool/actions.py `search_persons`)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from cunxin.lib.idnumber import check_char
from cunxin.pool import actions
from cunxin.pool.models import AccessLog, SearchCount

STAFF = ("hq_admin", "hq_analyst", "bm_a", "cm_a")
VICTIM = "a12"  # 李芳 of VA1, in every one of STAFF's scope


def village_url(code: str = "VA1") -> str:
    return reverse("pool:village", args=[code])


def id_candidates(masked: str, birth_year: int) -> list[str]:
    """What an attacker derives from the masked ID and the year of birth: every date of
    the year whose number has the visible check character."""
    head, seq, check = masked[:6], masked[-4:-1], masked[-1]
    day, candidates = dt.date(birth_year, 1, 1), []
    while day.year == birth_year:
        body = f"{head}{day:%Y%m%d}{seq}"
        if check_char(body) == check:
            candidates.append(body + check)
        day += dt.timedelta(days=1)
    return candidates


def phone_candidates(masked: str, n: int) -> list[str]:
    """The first `n` fillings of a masked phone's hidden digits (138****0012)."""
    hidden = masked.count("*")
    head, tail = masked.split("*")[0], masked.split("*")[-1]
    return [f"{head}{i:0{hidden}d}{tail}" for i in range(min(n, 10**hidden))]


def what_the_360_shows(client: Client, uid: str) -> tuple[str, str, int]:
    page = client.get(reverse("pool:person", args=[uid]))
    assert page.status_code == 200
    person = page.context["person"]
    return person.id_masked, person.phone_masked, dt.date.today().year - page.context["age"]


def without_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def attack(client: Client, uid: str, candidates: list[str]) -> tuple[list[str], list]:
    """Search each candidate in the victim's village; the candidates whose answer lists the
    victim, and every response."""
    hits, responses = [], []
    for candidate in candidates:
        response = client.post(
            village_url(), {"q": candidate, "show": "persons"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code < 500
        responses.append(response)
        if f"/pool/persons/{uid}/" in response.content.decode():
            hits.append(candidate)
    return hits, responses


@pytest.mark.parametrize("key", STAFF)
def test_the_id_attack_recovers_no_number_without_an_access_log_row(client, world, key, settings):
    # a generous limit, so that what the search confirms shows, not the throttle
    settings.CUNXIN_EXACT_SEARCHES_PER_HOUR = settings.CUNXIN_SEARCHES_PER_HOUR = 1000
    client.force_login(world.users[key])
    victim = world.persons[VICTIM]
    masked, _phone, birth_year = what_the_360_shows(client, victim.uid)
    candidates = id_candidates(masked, birth_year)
    assert 20 <= len(candidates) <= 45
    assert world.plain[VICTIM][0] in candidates  # the attack is sound

    hits, responses = attack(client, victim.uid, candidates)

    for hit in hits:
        assert hit == world.plain[VICTIM][0]
        assert AccessLog.objects.filter(
            user=world.users[key], person=victim, kind=AccessLog.Kind.SEARCH, field="id_number"
        ).exists(), f"{key} recovered {victim.name}'s ID number with no access-log row"
    if key == "hq_analyst":  # may not reveal: no answer depends on the number
        assert hits == []
        assert len({without_token(r.content.decode()) for r in responses}) == 1
        assert {r.status_code for r in responses} == {403}
        assert not AccessLog.objects.filter(user=world.users[key]).exists()
    else:  # may reveal: the search is a logged reveal, misses included
        assert hits == [world.plain[VICTIM][0]]
        rows = AccessLog.objects.filter(user=world.users[key], kind=AccessLog.Kind.SEARCH)
        assert rows.count() == len(candidates)
        assert rows.filter(person__isnull=True).count() == len(candidates) - 1


@pytest.mark.parametrize("key", STAFF)
def test_the_phone_attack_recovers_no_number_without_an_access_log_row(client, world, key):
    client.force_login(world.users[key])
    victim = world.persons[VICTIM]
    _id, masked, _year = what_the_360_shows(client, victim.uid)
    candidates = phone_candidates(masked, 40)  # 13800000012: the first filling is right
    assert world.plain[VICTIM][1] in candidates

    hits, responses = attack(client, victim.uid, candidates)

    for hit in hits:
        assert hit == world.plain[VICTIM][1]
        assert AccessLog.objects.filter(
            user=world.users[key], person=victim, kind=AccessLog.Kind.SEARCH, field="phone"
        ).exists(), f"{key} recovered {victim.name}'s phone with no access-log row"
    if key == "hq_analyst":
        assert hits == []
        assert len({without_token(r.content.decode()) for r in responses}) == 1
    else:  # the default limit stops the enumeration after 30 numbers in the hour
        assert hits == [world.plain[VICTIM][1]]
        assert [r.status_code for r in responses].count(429) == 40 - 30


def test_a_full_id_search_is_refused_to_the_analyst_in_chinese(as_user, world):
    response = as_user("hq_analyst").post(
        village_url(), {"q": world.plain[VICTIM][0], "show": "persons"}
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert "不能按完整身份证号或手机号检索" in html
    assert 'data-testid="result-count"' not in html
    assert response.context["page"].paginator.count == 0


def test_the_analyst_still_searches_by_name_masked_value_and_last_four(as_user, world):
    client = as_user("hq_analyst")
    victim = world.persons[VICTIM]
    for q in ("李芳", victim.id_masked, victim.phone_masked, victim.phone_masked[-4:]):
        response = client.post(village_url(), {"q": q, "show": "persons"})
        assert response.status_code == 200, q
        assert [p.uid for p in response.context["page"]] == [victim.uid], q


def test_a_masked_search_confirms_no_hidden_digit(as_user, world):
    # a masked value is matched exactly as masked: filling in hidden digits, right or
    # wrong, finds nobody, so the masked search cannot test a guess
    client = as_user("hq_analyst")
    victim = world.persons[VICTIM]
    right, wrong = world.plain[VICTIM][0], id_candidates(victim.id_masked, 1982)[0]
    assert right != wrong
    for guess in (right, wrong):
        partly = guess[:10] + "****" + guess[-4:]  # the year and the last four shown
        response = client.post(village_url(), {"q": partly, "show": "persons"})
        assert response.context["matched"] == "masked"
        assert response.context["page"].paginator.count == 0


def test_a_full_id_search_by_a_customer_manager_is_logged_as_a_search(as_user, world):
    client = as_user("cm_a")
    response = client.post(village_url(), {"q": world.plain[VICTIM][0], "show": "persons"})

    assert [p.uid for p in response.context["page"]] == ["Pa12"]
    row = AccessLog.objects.get(user=world.users["cm_a"])
    assert (row.kind, row.person_id, row.field) == ("search", "Pa12", "id_number")
    assert row.reason == "按完整号码检索"
    log = client.get(reverse("access_log")).content.decode()
    assert "按完整号码检索" in log and "李芳" in log


def test_an_exact_search_outside_the_scope_is_logged_without_a_person(as_user, world):
    # Pa31 is in VA2's grid GA2x, not cm_a's: the search finds nobody, and says so in the log
    response = as_user("cm_a").post(
        village_url("VA2"), {"q": world.plain["a31"][0], "show": "persons"}
    )

    assert response.context["page"].paginator.count == 0
    row = AccessLog.objects.get(user=world.users["cm_a"])
    assert (row.kind, row.person_id, row.field) == ("search", None, "id_number")
    assert row.reason == "按完整号码检索：未找到"


def test_the_search_limit_holds_across_sessions_and_resets_next_hour(world, monkeypatch):
    # two browsers of the same user share one count, kept in the database
    first, second = Client(), Client()
    for c in (first, second):
        c.force_login(world.users["cm_a"])
    right = world.plain[VICTIM][0]
    statuses = []
    for i in range(31):
        c = first if i % 2 else second
        statuses.append(c.post(village_url(), {"q": right, "show": "persons"}).status_code)

    assert statuses == [200] * 30 + [429]
    refused = first.post(village_url(), {"q": right, "show": "persons"})
    assert refused.status_code == 429
    assert "本小时按完整身份证号或手机号检索次数过多" in refused.content.decode()
    assert refused.context["page"].paginator.count == 0
    assert SearchCount.objects.get(user=world.users["cm_a"], exact=True).count == 32
    # the name search has its own, larger allowance
    assert first.post(village_url(), {"q": "李芳"}).status_code == 200

    later = actions.timezone.now() + dt.timedelta(hours=1)
    monkeypatch.setattr(actions.timezone, "now", lambda: later)
    again = first.post(village_url(), {"q": right, "show": "persons"})
    assert again.status_code == 200
    assert [p.uid for p in again.context["page"]] == ["Pa12"]
    # the past hour's counts are gone
    assert set(SearchCount.objects.values_list("window_start", flat=True)) == {
        later.replace(minute=0, second=0, microsecond=0)
    }


def test_every_search_counts_against_the_hourly_limit(as_user, world, settings):
    settings.CUNXIN_SEARCHES_PER_HOUR = 3
    client = as_user("hq_analyst")
    statuses = [client.post(village_url(), {"q": "李"}).status_code for _ in range(4)]
    # paging or filtering without search text is not a search
    assert statuses == [200, 200, 200, 429]
    assert client.post(village_url(), {"q": "", "color": "grey"}).status_code == 200
