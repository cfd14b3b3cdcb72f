"""A closed round's results, the re-review and the paper sheets as staff read them: only
what the viewer's scope holds (issue 11: a CM holding one grid saw 842 persons outside it,
and 15 of 20 sampled person links were 404 for them), verdicts in words with their
reasons, filters by POST and pages.

Village VA1 (tests/conftest.py): Ha1 = 张伟 (Pa11) and 李芳 (Pa12), Ha4 = 周强 (Pa41,
grey), Ha5 = 张军 (Pa51). `grid_cm` moves Ha4 and Ha5 to grid GA1b and leaves cm_a with
grid GA1a only (Ha1)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from conftest import run_first_round
from cunxin.evaluation import actions, results, sheets
from cunxin.evaluation.models import PanelMember, RoundKind, Verdict, VerdictChange
from cunxin.evaluation.policy import EvaluationPolicy
from cunxin.org.models import Assignment, VillageGroup
from cunxin.pool.models import Household, Person

pytestmark = pytest.mark.django_db

PERSON_LINK = re.compile(r'href="(/pool/persons/[^"/]+/)"')


def narrow_to_grid(w) -> None:
    """cm_a keeps grid GA1a of VA1 (household Ha1), not the village."""
    Household.objects.filter(uid__in=["Ha4", "Ha5"]).update(grid=w.grids["GA1b"])
    Assignment.objects.filter(staff=w.users["cm_a"].staff, village=w.villages["VA1"]).update(
        valid_to=timezone.now()
    )
    Assignment.objects.create(staff=w.users["cm_a"].staff, grid=w.grids["GA1a"],
                              valid_from=timezone.now(), assigned_by=w.users["hq_admin"])  # fmt: skip


@pytest.fixture
def first(village, project):
    return run_first_round(village, project)


def results_url(rnd) -> str:
    return reverse("evaluation:round_results", args=[rnd.pk])


def verdict_rows(body: str) -> list[str]:
    return body.split('data-testid="verdict-row"')[1:]


def names_on(body: str) -> set[str]:
    return set(re.findall(r'data-testid="verdict-person">([^<]+)<', body))


def test_a_grid_manager_sees_only_their_grid_and_every_link_opens(client, village, first):
    w = village
    narrow_to_grid(w)
    client.force_login(w.users["cm_a"])
    body = client.get(results_url(first)).content.decode()
    assert names_on(body) == {"张伟", "李芳"}
    assert "周强" not in body and "张军" not in body
    assert 'data-testid="part-of-village"' in body  # the counts are of part of the village
    assert re.search(r'data-testid="count-white">2<', body)
    assert re.search(r'data-testid="count-grey">0<', body)  # 周强 is on the other grid
    links = PERSON_LINK.findall(body)
    assert links and all(client.get(link).status_code == 200 for link in links)


def test_the_branch_manager_sees_the_whole_village(client, village, first):
    client.force_login(village.users["bm_a"])
    body = client.get(results_url(first)).content.decode()
    assert names_on(body) == {"张伟", "李芳", "周强", "张军"}
    assert 'data-testid="part-of-village"' not in body
    assert all(client.get(link).status_code == 200 for link in PERSON_LINK.findall(body))


def test_verdicts_are_in_words_with_their_reasons(client, village, first):
    client.force_login(village.users["bm_a"])
    body = client.get(results_url(first)).content.decode()
    rows = verdict_rows(body)
    grey = next(r for r in rows if "周强" in r)
    assert grey.startswith(' data-color="grey"') and ">灰名单<" in grey
    # the negative item ticked, by how many of how many valid reviewers
    assert "赌博、吸毒等不良嗜好" in grey and "1" in grey and "3" in grey
    white = next(r for r in rows if "张伟" in r)
    assert ">白名单<" in white and "125,000" in white and "中位数" in white
    # no raw colour codes or machine reasons reach the page
    assert not re.search(r">\s*(black|grey|white|insufficient)\s*<", body)
    assert "valid reviews" not in body and "negative items from" not in body


def test_the_reasons_of_too_few_reviews_and_reviews_not_counted():
    verdict = Verdict(color="insufficient", amount_yuan=None, valid_reviews=1, inputs={
        "policy": "default-1", "reviews": [
            {"reviewer": "1", "knows": False, "items": [], "amount": None, "excluded": "does_not_know"},
            {"reviewer": "2", "knows": True, "items": [], "amount": 3000, "excluded": None},
            {"reviewer": "3", "knows": True, "items": ["vice"], "amount": None, "excluded": "conflict:spouse"},
        ]})  # fmt: skip
    reasons = results.first_round_reasons(verdict, EvaluationPolicy())
    assert any("1" in r and "2" in r and "有效评议" in r for r in reasons), reasons
    assert any("不了解该户 ×1" in r and "配偶" in r for r in reasons), reasons
    # a ticked item of an excluded review does not count
    assert not any("赌博" in r for r in reasons)


def test_a_re_review_and_sign_off_verdict_keeps_the_first_rounds_reasons(client, village, project, first):  # fmt: skip
    w = village
    rereview = actions.do_open_round(w.users["cm_a"], project, RoundKind.RE_REVIEW)
    actions.do_change_verdict(w.users["cm_a"], rereview, w.persons["a41"], color="white",
                              amount_yuan=20_000, reason="已还清民间借款")  # fmt: skip
    actions.do_close_round(w.users["cm_a"], rereview)
    sign = actions.do_open_round(w.users["bm_a"], project, RoundKind.SIGN_OFF)
    actions.do_close_round(w.users["bm_a"], sign)
    client.force_login(w.users["bm_a"])
    body = client.get(results_url(sign)).content.decode()
    row = next(r for r in verdict_rows(body) if "周强" in r)
    assert ">白名单<" in row and "赌博、吸毒等不良嗜好" in row and "已还清民间借款" in row
    # the panel's agreement is the first round's (a sign-off has no reviews of its own)
    assert 'data-testid="alpha">α =' in body


@pytest.fixture
def many(village, first):
    """40 more white verdicts in VA1, 10 of them in a second group, 第二组."""
    w = village
    second = VillageGroup.objects.create(code="VA1G2", name="第二组", village=w.villages["VA1"], content_hash="x")  # fmt: skip
    household = w.persons["a11"].household
    persons = Person.objects.bulk_create(
        Person(uid=f"Pm{n:02d}", household=household, village=w.villages["VA1"],
               group=second if n < 10 else None, name=f"村民{n:02d}", member_index=2 + n,
               content_hash="x", publish_run=w.run)
        for n in range(40)
    )  # fmt: skip
    Verdict.objects.bulk_create(
        Verdict(round=first, person=p, color="white", amount_yuan=10_000, valid_reviews=2,
                inputs={"policy": "default-1", "reviews": []})
        for p in persons
    )  # fmt: skip
    return first


def test_results_are_paged_and_filtered_by_post(client, village, many):
    client.force_login(village.users["bm_a"])
    url = results_url(many)
    page = client.get(url).content.decode()
    assert page.count('data-testid="verdict-row"') == 30  # of 44
    assert 'data-testid="results-pager"' in page and 'method="post"' in page
    second = client.post(url, {"page": "2"}, headers={"HX-Request": "true"})
    body = second.content.decode()
    assert second.status_code == 200 and "<html" not in body  # the fragment
    assert body.count('data-testid="verdict-row"') == 14
    by_name = client.post(url, {"name": "周强"}, headers={"HX-Request": "true"}).content.decode()
    assert names_on(by_name) == {"周强"}
    grey = client.post(url, {"color": "grey"}, headers={"HX-Request": "true"}).content.decode()
    assert names_on(grey) == {"周强"}
    group = client.post(url, {"group": "VA1G2"}, headers={"HX-Request": "true"}).content.decode()
    assert names_on(group) == {f"村民{n:02d}" for n in range(10)}
    # the filters and the page stay on the pager (in the body, not the URL)
    white = client.post(url, {"color": "white", "page": "2"}, headers={"HX-Request": "true"}).content.decode()  # fmt: skip
    assert white.count('data-color="white"') == 13 and 'name="color" value="white"' in white
    # a name in the URL filters nothing: names travel in POST bodies only
    assert client.get(url, {"name": "周强"}).content.decode().count('data-testid="verdict-row"') == 30  # fmt: skip
    # a filter that does not validate says why and filters nothing
    bad = client.post(url, {"group": "NOPE", "name": "x" * 500}).content.decode()
    assert 'data-testid="filter-error"' in bad and bad.count('data-testid="verdict-row"') == 30


def test_the_re_review_shows_and_changes_only_persons_in_scope(client, village, project, first):
    w = village
    rereview = actions.do_open_round(w.users["bm_a"], project, RoundKind.RE_REVIEW)
    narrow_to_grid(w)
    client.force_login(w.users["cm_a"])
    url = reverse("evaluation:rereview", args=[rereview.pk])
    body = client.get(url).content.decode()
    assert "张伟" in body and "周强" not in body and 'data-testid="part-of-village"' in body
    assert all(client.get(link).status_code == 200 for link in PERSON_LINK.findall(body))
    assert "valid reviews" not in body  # the reasons in words
    refused = client.post(url, {"person": "Pa41", "color": "white", "amount": "10000", "reason": "x"})  # fmt: skip
    assert refused.status_code == 400
    assert not VerdictChange.objects.exists()
    assert client.post(url, {"person": "Pa11", "color": "grey", "amount": "10000", "reason": "在外"}).status_code == 302  # fmt: skip


def _sheet_uids(content: bytes) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True) if row[0]]


def test_a_grid_managers_paper_sheet_holds_their_grid_and_imports_only_it(client, village, project):  # fmt: skip
    w = village
    rnd = actions.do_open_round(w.users["bm_a"], project, RoundKind.FIRST)
    member = PanelMember.objects.get(project=project, staff__user=w.users["ev4"])
    url = reverse("evaluation:sheet_export", args=[project.pk, member.pk])
    client.force_login(w.users["bm_a"])
    whole = client.get(url).content
    assert set(_sheet_uids(whole)) == {"Pa11", "Pa12", "Pa41", "Pa51"}
    narrow_to_grid(w)
    client.force_login(w.users["cm_a"])
    page = client.get(reverse("evaluation:sheets", args=[project.pk])).content.decode()
    assert 'data-testid="part-of-village"' in page
    assert set(_sheet_uids(client.get(url).content)) == {"Pa11", "Pa12"}
    # the whole village's sheet, filled in for 周强 (another grid), uploaded by the grid CM
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(whole))
    sheet = book.worksheets[0]
    for r in range(2, sheet.max_row + 1):
        if sheet.cell(row=r, column=1).value == "Pa41":
            sheet.cell(row=r, column=9, value="是")
    out = io.BytesIO()
    book.save(out)
    cm = type(w.users["cm_a"]).objects.get(pk=w.users["cm_a"].pk)  # its scope as of now
    result = sheets.import_sheet(cm, rnd, member, SimpleUploadedFile("s.xlsx", out.getvalue()))
    assert not result.ok and [e.code for e in result.errors] == ["unknown_key"]
