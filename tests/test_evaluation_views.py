"""The evaluator's screens, attacked as an evaluator would: only one's own reviews, only
the open round, never one's own or a relative's household."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cunxin.evaluation import actions
from cunxin.evaluation.models import Review, ReviewStatus, RoundKind


@pytest.fixture
def open_round(project, village):
    return actions.do_open_round(village.users["cm_a"], project, RoundKind.FIRST)


def review_url(rnd, household="Ha1"):
    return reverse("evaluation:review", args=[rnd.pk, household])


@pytest.mark.django_db
def test_the_evaluator_sees_the_villages_households(client, village, open_round):
    client.force_login(village.users["ev2"])
    page = client.get(reverse("evaluation:home")).content.decode()
    assert page.count('data-testid="household-row"') == 3  # Ha1, Ha4, Ha5 of VA1
    assert "王强" not in page  # VA2's household


@pytest.mark.django_db
def test_own_and_close_relatives_households_are_marked_and_not_linked(client, village, open_round):  # fmt: skip
    # ev3 is 张军 (Ha5), a sibling of 张伟 (Ha1); 周强's household (Ha4) is theirs to review
    client.force_login(village.users["ev3"])
    page = client.get(reverse("evaluation:home")).content.decode()
    rows = re.findall(r'<tr data-testid="household-row"[^>]*>(.*?)</tr>', page, re.S)
    excluded = {("张伟" in r, "张军" in r) for r in rows if 'data-testid="excluded"' in r}
    assert excluded == {(True, False), (False, True)}
    assert review_url(open_round, "Ha1") not in page and review_url(open_round, "Ha5") not in page
    assert review_url(open_round, "Ha4") in page
    assert "兄弟姐妹" in page  # the reason, from the relationship graph


@pytest.mark.django_db
def test_a_household_shows_every_member_with_photo_and_an_evaluators_mask(
    client, village, open_round
):
    client.force_login(village.users["ev2"])
    page = client.get(review_url(open_round)).content.decode()
    assert page.count('data-testid="review-member"') == 2
    number = village.plain["a11"][0]
    assert number not in page and number[:6] not in page  # evaluators see first 1 + last 1
    assert f"{number[0]}{'*' * 16}{number[-1]}" in page
    photo = client.get(reverse("evaluation:photo", args=[open_round.pk, "Pa11"]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/svg+xml"


@pytest.mark.django_db
def test_a_review_is_saved_resumed_and_submitted_from_the_phone(client, village, open_round):
    client.force_login(village.users["ev2"])
    draft = {"action": "draft", "knows-Pa11": "yes", "amount-Pa11": "30000", "neg-Pa12": ["vice"], "knows-Pa12": "yes"}  # fmt: skip
    assert client.post(review_url(open_round), draft).status_code == 302
    page = client.get(review_url(open_round)).content.decode()
    assert 'value="30000"' in page and 'value="vice" checked' in page
    submit = {**draft, "action": "submit", "amount-Pa11": "35000"}
    assert client.post(review_url(open_round), submit).status_code == 302
    mine = Review.objects.get(person_id="Pa11", reviewer__staff__user=village.users["ev2"])
    assert (mine.status, mine.amount_yuan) == (ReviewStatus.SUBMITTED, 35_000)
    assert "Submitted" in client.get(reverse("evaluation:home")).content.decode() or "已提交" in client.get(reverse("evaluation:home")).content.decode()  # fmt: skip


@pytest.mark.django_db
def test_a_bad_amount_is_refused_with_a_message(client, village, open_round):
    client.force_login(village.users["ev2"])
    response = client.post(review_url(open_round), {"action": "submit", "knows-Pa11": "yes", "amount-Pa11": "lots"})  # fmt: skip
    assert response.status_code == 400
    assert "张伟" in response.content.decode()


@pytest.mark.django_db
def test_a_household_is_saved_whole_or_not_at_all_and_keeps_what_was_typed(client, village, open_round):  # fmt: skip
    client.force_login(village.users["ev2"])
    # 张伟's review is fine, 李芳's amount is over the cap: neither is stored
    post = {"action": "submit", "knows-Pa11": "yes", "amount-Pa11": "31000",
            "grade-Pa11-health": "4", "neg-Pa11": ["vice"],
            "knows-Pa12": "yes", "amount-Pa12": "999999"}  # fmt: skip
    response = client.post(review_url(open_round), post)
    body = response.content.decode()
    assert response.status_code == 400 and "李芳" in body
    assert not Review.objects.filter(reviewer__staff__user=village.users["ev2"]).exists()
    # what was typed is on the page again, for both members
    assert 'value="31000"' in body and 'value="999999"' in body
    assert 'name="grade-Pa11-health" value="4" checked' in body
    assert 'value="vice" checked' in body


@pytest.mark.django_db
def test_another_evaluators_review_is_nowhere_on_my_pages(client, village, open_round):
    actions.do_save_review(village.users["ev2"], open_round, village.persons["a11"], knows_household=True,
                           negative_items=["vice"], graded={}, amount_yuan=43_210, submit=True)  # fmt: skip
    client.force_login(village.users["ev4"])
    for url in (reverse("evaluation:home"), review_url(open_round)):
        page = client.get(url).content.decode()
        assert "43210" not in page and "43,210" not in page and "checked" not in page


@pytest.mark.django_db
def test_an_evaluator_cannot_review_their_own_or_a_relatives_household(client, village, open_round):
    client.force_login(village.users["ev1"])  # 李芳, of household Ha1
    page = client.get(review_url(open_round)).content.decode()
    assert 'data-testid="conflict"' in page and 'data-testid="review-form"' not in page
    assert (
        client.post(review_url(open_round), {"action": "submit", "knows-Pa11": "yes"}).status_code
        == 403
    )
    client.force_login(village.users["ev3"])  # sibling of 张伟
    assert 'data-testid="conflict"' in client.get(review_url(open_round)).content.decode()
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_outsiders_other_villages_and_closed_rounds_get_404(client, village, open_round):
    client.force_login(village.users["cm_a"])
    assert client.get(reverse("evaluation:home")).status_code == 404
    assert client.get(review_url(open_round)).status_code == 404
    client.force_login(village.users["ev2"])
    assert client.get(review_url(open_round, "Hb1")).status_code == 404  # another village
    assert client.get(reverse("evaluation:photo", args=[open_round.pk, "Pb11"])).status_code == 404
    actions.do_close_round(village.users["cm_a"], open_round)
    assert client.get(review_url(open_round)).status_code == 404
    assert client.get(reverse("evaluation:home")).status_code == 404


@pytest.mark.django_db
def test_the_evaluators_list_says_where_a_household_is_and_filters_what_is_left(
    client, village, open_round
):
    """Two households of the same name were told apart by nothing: the list shows the
    group and the household number, filters by group and by what is left to review, and
    a save or a submit says so."""
    from cunxin.pool.models import Household

    Household.objects.filter(uid="Ha1").update(group_id="VA1G1")
    client.force_login(village.users["ev2"])
    home = reverse("evaluation:home")
    page = client.get(home).content.decode()
    rows = re.findall(r'<tr data-testid="household-row"[^>]*>(.*?)</tr>', page, re.S)
    [row] = [r for r in rows if "张伟" in r]
    assert "第一组" in row and "户号 NOa1" in row
    submit = {"action": "submit", "knows-Pa11": "yes", "amount-Pa11": "30000",
              "knows-Pa12": "no"}  # fmt: skip
    answer = client.post(review_url(open_round), submit, follow=True).content.decode()
    assert "已提交" in answer and "谢谢" in answer  # the confirmation
    left = client.get(home, {"left": "1"}).content.decode()
    assert left.count('data-testid="household-row"') == 2 and "NOa1" not in left
    assert client.get(home, {"group": "VA1G1"}).content.decode().count('data-testid="household-row"') == 1  # fmt: skip
    assert client.get(home, {"group": "nope"}).content.decode().count('data-testid="household-row"') == 3  # fmt: skip
