"""The Excel files of a batch pre-credit run (cunxin.decisions.sheets): the white list and
a village's batch approval sheet say who each row is — name in full, village group and
household number (issue 11: 户号 was empty and names masked to "蒋*", so a branch could
not sign off) — with ID numbers masked and no phone, hold only persons in the user's
scope, are formula-safe, and every download is access-logged."""

from __future__ import annotations

import dataclasses
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import gettext

from cunxin.decisions.actions import do_start_batch_run
from cunxin.decisions.models import BatchRun, PreCredit
from cunxin.decisions.sheets import safe
from cunxin.jobs.worker import drain
from cunxin.pool.models import AccessLog


def _run(w, by="hq_admin", kind="county", code=""):
    run = do_start_batch_run(w.users[by], BatchRun.Purpose.PRECREDIT, kind, code)
    drain()
    run.refresh_from_db()
    assert run.status == BatchRun.Status.SUCCEEDED, run.error
    return run


def _download(client, name, *args):
    response = client.get(reverse(f"decisions:{name}", args=args))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [[c for c in row] for ws in book.worksheets for row in ws.iter_rows(values_only=True)]


def _texts(rows) -> list[str]:
    return [str(c) for row in rows for c in row if c is not None]


def _assert_masked(w, rows) -> None:
    """No full ID number or phone of anyone in the world appears in any cell."""
    joined = "\n".join(_texts(rows))
    for key in w.persons:
        number, phone = w.plain[key]
        assert number not in joined, key
        assert not phone or phone not in joined, key


def _data_rows(rows, first_header: str):
    """The rows after the header row whose first cell is `first_header`, up to a blank."""
    start = next(n for n, row in enumerate(rows) if row and row[0] == first_header)
    out = []
    for row in rows[start + 1 :]:
        if not any(c is not None for c in row):
            break
        out.append(row)
    return rows[start], out


# --- the white list ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_white_list_holds_everyone_granted_by_name_and_household_and_logs_the_export(scored, client):  # fmt: skip
    w = scored
    from cunxin.pool.models import Household

    Household.objects.filter(village_id="VA1").update(group_id="VA1G1")  # 第一组
    run = _run(w, by="bm_a", kind="village", code="VA1")
    client.force_login(w.users["bm_a"])

    rows = _download(client, "batch_whitelist", run.pk)

    header, data = _data_rows(rows, gettext("Village"))
    granted = PreCredit.objects.filter(run=run, final_yuan__gt=0)
    assert len(data) == granted.count() == 4
    final = header.index(gettext("Final amount"))
    ids = header.index(gettext("ID number"))
    names = header.index(gettext("Name"))
    assert sorted(r[final] for r in data) == sorted(granted.values_list("final_yuan", flat=True))
    assert {r[ids] for r in data} == {w.persons[k].id_masked for k in ("a11", "a12", "a41", "a51")}
    assert {r[names] for r in data} == {w.persons[k].name for k in ("a11", "a12", "a41", "a51")}
    numbers = header.index(gettext("Household number"))
    assert {r[names]: r[numbers] for r in data} == {"张伟": "NOa1", "李芳": "NOa1", "周强": "a4", "张军": "a5"}  # fmt: skip
    assert {r[header.index(gettext("Group"))] for r in data} == {"第一组"}
    _assert_masked(w, rows)
    log = AccessLog.objects.get()
    assert (log.user, log.kind, log.field) == (w.users["bm_a"], AccessLog.Kind.EXPORT, "masked")
    assert (log.export_kind, log.row_count, log.object_type, log.object_id, log.person) == (
        "whitelist", 4, "decisions.batchrun", str(run.pk), None,
    )  # fmt: skip
    assert log.reason == gettext("Batch pre-credit white list")


@pytest.mark.django_db
def test_the_white_list_of_a_county_run_holds_only_the_users_persons(scored, client):
    w = scored
    run = _run(w)
    PreCredit.objects.filter(run=run, person_id="Pb11").update(final_yuan=20_000)
    client.force_login(w.users["bm_b"])
    rows = _download(client, "batch_whitelist", run.pk)
    header, data = _data_rows(rows, gettext("Village"))
    assert [r[header.index(gettext("ID number"))] for r in data] == [w.persons["b11"].id_masked]
    log = AccessLog.objects.get()
    assert (log.export_kind, log.row_count, log.object_id) == ("whitelist", 1, str(run.pk))
    client.force_login(w.users["hq_analyst"])
    _header, data = _data_rows(_download(client, "batch_whitelist", run.pk), gettext("Village"))
    assert len(data) == 5


# --- the batch approval sheet ------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_approval_sheet_lists_the_declined_with_reasons_totals_and_signatures(scored, client):
    w = scored
    run = _run(w, by="bm_a", kind="branch", code="ZHA")
    client.force_login(w.users["bm_a"])

    rows = _download(client, "batch_sheet", run.pk, "VA2")

    header, data = _data_rows(rows, gettext("No."))
    assert len(data) == 2  # 王强 and 赵敏: neither evaluated
    reason = header.index(gettext("Reason for no amount"))
    label = {r["id"]: r["label"] for r in run.policy.data["hard_stops"]}["not_evaluated"]
    assert [r[reason] for r in data] == [label, label]
    assert [r[header.index(gettext("Final amount"))] for r in data] == [0, 0]
    texts = _texts(rows)
    for line in ("Customer manager (signature)", "Branch manager (signature)", "Date"):
        assert gettext(line) in texts
    total = next(r for r in rows if r and r[0] == gettext("Persons"))
    assert total[4] == 2
    _assert_masked(w, rows)
    log = AccessLog.objects.get()
    assert (log.export_kind, log.row_count, log.object_id) == ("approval_sheet", 2, str(run.pk))
    assert log.subject.endswith("西湖村")

    rows = _download(client, "batch_sheet", run.pk, "VA1")
    _header, data = _data_rows(rows, gettext("No."))
    assert len(data) == 4
    amount = next(r for r in rows if r and r[0] == gettext("Total final amount (yuan)"))
    assert amount[4] == run.summary["villages"]["VA1"]["amount_yuan"] == 230_000
    _assert_masked(w, rows)


@pytest.mark.django_db
def test_a_customer_manager_gets_only_the_persons_of_their_grids(scored, client):
    """cm_a sees VA2 only through grid GA2: 王强 (Ha2) yes, 赵敏 (Ha3, grid GA2x) no."""
    w = scored
    run = _run(w, by="bm_a", kind="branch", code="ZHA")
    client.force_login(w.users["cm_a"])
    header, data = _data_rows(_download(client, "batch_sheet", run.pk, "VA2"), gettext("No."))
    assert [r[header.index(gettext("ID number"))] for r in data] == [w.persons["a21"].id_masked]


@pytest.mark.django_db
def test_another_branch_cannot_download_a_branchs_files(scored, client):
    w = scored
    branch_run = _run(w, by="bm_a", kind="branch", code="ZHA")
    county = _run(w)
    client.force_login(w.users["bm_b"])
    assert client.get(reverse("decisions:batch_sheet", args=[branch_run.pk, "VA1"])).status_code == 404  # fmt: skip
    assert client.get(reverse("decisions:batch_whitelist", args=[branch_run.pk])).status_code == 404
    assert client.get(reverse("decisions:batch_sheet", args=[county.pk, "VA1"])).status_code == 404
    assert client.get(reverse("decisions:batch_sheet", args=[county.pk, "VB1"])).status_code == 200
    # a village the run did not decide
    client.force_login(w.users["bm_a"])
    assert client.get(reverse("decisions:batch_sheet", args=[branch_run.pk, "VB1"])).status_code == 404  # fmt: skip
    assert AccessLog.objects.count() == 1  # only the download that happened


@pytest.mark.django_db
def test_unfinished_runs_and_whatifs_have_no_files(scored, client):
    from cunxin.credit.policy import CreditPolicy

    w = scored
    whatif = do_start_batch_run(w.users["hq_admin"], BatchRun.Purpose.WHATIF, "county", "", draft=CreditPolicy())  # fmt: skip
    drain()
    failed = _run(w, by="bm_a", kind="village", code="VA1")
    BatchRun.objects.filter(pk=failed.pk).update(status=BatchRun.Status.FAILED)
    client.force_login(w.users["hq_admin"])
    for run in (whatif, failed):
        assert client.get(reverse("decisions:batch_whitelist", args=[run.pk])).status_code == 404
        assert client.get(reverse("decisions:batch_sheet", args=[run.pk, "VA1"])).status_code == 404
    assert not AccessLog.objects.exists()


# --- formula safety ------------------------------------------------------------------------------
def test_text_that_starts_like_a_formula_is_written_as_text():
    assert safe("=1+1") == "'=1+1"
    assert [safe(v) for v in ("+1", "-1", "@SUM(A1)", "\t=1")] == ["'+1", "'-1", "'@SUM(A1)", "'\t=1"]  # fmt: skip
    assert safe("张*") == "张*" and safe(5) == 5 and safe(None) is None


@pytest.mark.django_db
def test_a_name_like_a_formula_stays_text_in_the_files(scored, client):
    w = scored
    person = w.persons["a12"]
    person.name = "=HYPERLINK(1)"
    person.save(update_fields=["name"])
    run = _run(w, by="bm_a", kind="village", code="VA1")
    client.force_login(w.users["bm_a"])
    for name, args in (("batch_whitelist", (run.pk,)), ("batch_sheet", (run.pk, "VA1"))):
        response = client.get(reverse(f"decisions:{name}", args=args))
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        assert not any(c.data_type == "f" for c in cells)
        assert "'=HYPERLINK(1)" in [c.value for c in cells]


@pytest.mark.django_db
def test_the_access_log_says_which_run_and_village_was_exported(scored, client):
    from django.urls import reverse

    w = scored
    run = _run(w)
    client.force_login(w.users["bm_a"])
    _download(client, "batch_whitelist", run.pk)
    client.get(reverse("decisions:batch_sheet", args=[run.pk, "VA1"]))
    page = client.get(reverse("access_log")).content.decode()
    link = reverse("decisions:batch", args=[run.pk])
    assert page.count(f'href="{link}"') == 2
    assert f"batch-whitelist run={run.pk}" not in page  # a sentence, not the machine text
    assert w.villages["VA1"].name in page


@pytest.mark.django_db
def test_a_person_without_a_household_is_not_counted_as_a_household(scored, client):
    """ratings/batch said 914 households where the pool had 913: the persons without a
    household (household_id "") were counted as one more household."""
    from cunxin.pool.models import Household
    from world import make_person

    w = scored
    make_person(w, "x1", None, name="流动人员", birth="19900101", seq=91, phone=None,
                relation="", index=0, village=w.villages["VA1"])  # fmt: skip
    PreCredit.objects.all().delete()
    run = _run(w, by="bm_a", kind="village", code="VA1")
    pool = Household.objects.filter(village_id="VA1", retired_at__isnull=True).count()
    assert run.counts["households"] == run.summary["villages"]["VA1"]["households"] == pool == 3
    assert run.counts["persons_without_household"] == 1
    assert PreCredit.objects.filter(run=run, household_id="").count() == 1
    client.force_login(w.users["bm_a"])
    page = client.get(reverse("decisions:batch", args=[run.pk])).content.decode()
    assert 'data-testid="count-households" data-value="3"' in page
    assert 'data-testid="count-persons_without_household" data-value="1"' in page
    ratings = client.get(reverse("decisions:ratings")).content.decode()
    assert 'data-village="VA1"' in ratings and 'data-households="3"' in ratings
    # on the approval sheet the person comes after the households, marked as having none
    header, data = _data_rows(_download(client, "batch_sheet", run.pk, "VA1"), gettext("No."))
    last = data[-1]
    assert last[header.index(gettext("Name"))] == "流动人员"
    assert last[header.index(gettext("Household number"))] == gettext("no household")


def test_a_declined_row_says_which_amount_was_nothing():
    """刘春梅 was 较好 with a model amount of 0 (no repayment capacity) and the sheet said
    only "按政策无授信额度": it now names the amount that was 0."""
    from django.utils import translation

    from cunxin.decisions.sheets import Row, _reason

    row = Row("V1", "H1", "NO1", "第一组", "刘春梅", "3207**********0011", "较好", 560,
              30_000, 0, 30_000, 0, (), "", False)  # fmt: skip
    with translation.override("zh-hans"):
        reason = _reason(row, {})
        assert "模型额度" in reason and "评议额度" not in reason and "较好" in reason
        stopped = _reason(dataclasses.replace(row, hard_stops=("age",)), {"age": "年龄不符"})
        assert stopped == "年龄不符"
