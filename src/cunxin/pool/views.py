"""Customer pool pages: villages, the pool of a village, households, the 360 profile,
segments, reveals and the access log. Every object comes through `request.scope`."""

from __future__ import annotations

import io

import xlsxwriter
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from cunxin.lib.excel import sheet_name
from cunxin.lib.graph import Node, relationship_svg
from cunxin.lib.masking import mask_name
from cunxin.lib.relations import RELATION_LABELS
from cunxin.org.fields import refuse
from cunxin.org.scope import staff_view
from cunxin.pool import actions, sections
from cunxin.pool.forms import PoolSearchForm, RevealForm, SegmentForm
from cunxin.pool.labels import member_color
from cunxin.pool.models import AccessLog, ListColor, Person, Segment
from cunxin.providers.identity import get_provider

PAGE_SIZE = 25
# How a search matched (search_persons), for the result line.
MATCH_LABELS = {
    "id": pgettext_lazy("search matched by", "full ID number"),
    "phone": pgettext_lazy("search matched by", "full phone number"),
    "masked": pgettext_lazy("search matched by", "masked value"),
    "tail": pgettext_lazy("search matched by", "last four digits"),
    "name": pgettext_lazy("search matched by", "name"),
}
# Tag filter choices (village pool, segments): a fixed, useful set, not derived from the
# data, which would cost a scan of the village.
TAG_FILTERS = (
    "risk:黑名单", "risk:灰名单", "risk:失信被执行人", "loan:在贷", "loan:曾逾期",
    "loan:有不良贷款", "deposit:存款20万以上", "deposit:存款5-20万", "real_estate:有房产",
    "payroll:代发客户", "ebank:电子银行活跃", "age:18-30岁", "age:31-45岁", "age:46-60岁",
    "age:61-65岁", "evaluation:未评议",
)  # fmt: skip
TAG_FAMILIES_SHOWN = (
    "risk", "loan", "deposit", "real_estate", "industry", "occupation", "age", "social_security",
    "ebank", "payroll", "evaluation", "related_persons", "education", "contact",
)  # fmt: skip


@require_GET
@staff_view
def villages(request: HttpRequest) -> HttpResponse:
    """Villages in scope, with the number of households the user sees in each;
    `?show=without_cm` only those no customer manager looks after."""
    scope = request.scope
    counts = dict(scope.households().values_list("village_id").annotate(n=Count("uid")).order_by())
    without_cm = request.GET.get("show") == "without_cm"  # the home page's to-do
    villages = scope.villages_without_cm() if without_cm else scope.villages()
    rows = [(v, counts.get(v.code, 0)) for v in villages.select_related("branch")]
    return render(request, "pool/villages.html", {"rows": rows, "without_cm": without_cm})


@require_http_methods(["GET", "POST"])
@staff_view
def village_pool(request: HttpRequest, code: str) -> HttpResponse:
    """客户池 of a village. Search text travels in the POST body, never in the URL (it may
    be an ID number or a phone); tag and colour filters and the page are in the query.
    A refused search (`actions.search_persons`: a full value without the reveal
    permission, or too many searches) shows why and no result, whatever the value."""
    scope = request.scope
    village = scope.village_or_404(code)
    params = request.POST if request.method == "POST" else request.GET
    form = PoolSearchForm({**params.dict(), "q": request.POST.get("q", "")})
    invalid = not form.is_valid()  # said above the results (400), and nothing is listed
    typed = {name: form.cleaned_data.get(name, "") for name in form.fields}
    q, color, tag = typed["q"], typed["color"], typed["tag"]
    show = typed["show"] or "households"
    persons = scope.persons().filter(village=village)
    refused, matched = None, ""
    if invalid:
        persons = persons.none()
    else:
        try:
            persons, matched = actions.search_persons(request.user, persons, q)
        except actions.SearchRefused as e:
            refused = e
            persons = persons.none()
    if color in ListColor.values:
        persons = persons.filter(list_color=color)
    if tag:
        persons = persons.filter(tags__contains=f" {tag} ")
    filtering = bool(q or color or tag)
    if show == "persons":
        items = persons.select_related("household").order_by("name", "uid")
    else:
        show = "households"
        households = scope.households().filter(village=village)
        if filtering:
            households = households.filter(uid__in=persons.values("household_id"))
        items = households.select_related("group").order_by("group_id", "household_no", "uid")
    page = Paginator(items.none() if invalid or refused else items, PAGE_SIZE).get_page(
        params.get("page")
    )
    if show == "households":
        _attach_members(page.object_list)
    context = {
        "village": village, "page": page, "show": show, "q": q, "color": color, "tag": tag,
        "matched": matched, "matched_label": MATCH_LABELS.get(matched, ""),
        "colors": ListColor.choices, "tag_choices": TAG_FILTERS, "form": form,
        "refused": refused.message if refused else "",
    }  # fmt: skip
    template = "pool/_pool_results.html" if request.htmx else "pool/village.html"
    status = 400 if invalid else refused.status if refused else 200
    return render(request, template, context, status=status)


def _attach_members(households) -> None:
    """One query for the members of a page of households (colour swatches in the list)."""
    households = list(households)
    by_household: dict[str, list] = {}
    for p in Person.objects.filter(
        household__in=[h.uid for h in households], retired_at__isnull=True
    ).only("uid", "name", "member_index", "household_id", "list_color", "relation_to_head"):
        by_household.setdefault(p.household_id, []).append(p)
    for h in households:
        h.member_list = sorted(by_household.get(h.uid, []), key=lambda p: p.member_index)


@require_GET
@staff_view
def household(request: HttpRequest, uid: str) -> HttpResponse:
    """按户显示: every member together, in the member's colour."""
    scope = request.scope
    h = scope.household_or_404(uid)
    members = list(
        Person.objects.filter(household=h, retired_at__isnull=True).order_by("member_index")
    )
    provider = get_provider(settings.CUNXIN_IDENTITY_PHOTOS)
    return render(request, "pool/household.html", {
        "household": h, "members": members, "provider": provider, "can_reveal": scope.can_reveal,
    })  # fmt: skip


@require_GET
@staff_view
def person_360(request: HttpRequest, uid: str) -> HttpResponse:
    """客户360画像."""
    scope = request.scope
    person = scope.person_or_404(uid)
    profile = person.profile or {}
    relations = person.relations or []
    related_uids = [uid for uid, _relation, _source in relations]
    visible = set(scope.persons().filter(uid__in=related_uids).values_list("uid", flat=True))
    related = {p.uid: p for p in Person.objects.filter(uid__in=related_uids).only("uid", "name", "member_index", "household_id")}  # fmt: skip
    others = []
    for uid, relation, _source in relations:
        p = related.get(uid)
        if p is None:
            continue
        same_household = p.household_id == person.household_id
        label = p.name if p.uid in visible else mask_name(p.name)
        href = reverse("pool:person", args=[p.uid]) if p.uid in visible else None
        color = member_color(p.member_index) if same_household else "#9aa5b1"
        others.append((Node(p.uid, label, color, href), RELATION_LABELS.get(relation, relation)))  # fmt: skip
    graph = relationship_svg(
        Node(person.uid, person.name, member_color(person.member_index)), others
    )
    tags_by_family: dict[str, list[str]] = {}
    for family, tag in person.tag_list():
        tags_by_family.setdefault(family, []).append(tag)
    tags = [(f, tags_by_family[f]) for f in TAG_FAMILIES_SHOWN if f in tags_by_family]
    section_context, section_list = sections.for_person(scope, person)
    return render(request, "pool/person.html", {
        "person": person, "basic": profile.get("basic", {}), "assets": profile.get("assets") or {},
        "income": profile.get("income") or {}, "credit": profile.get("credit") or {},
        "tags": tags, "graph": graph, "flags": person.risk_flags.filter(retired_at__isnull=True),
        "provenance": person.provenance or {}, "can_reveal": scope.can_reveal,
        "age": person.age(), "sections": section_list, **section_context,
    })  # fmt: skip


@require_GET
@staff_view
def person_photo(request: HttpRequest, uid: str) -> HttpResponse:
    """The identity-verification photo (the demo's is a labelled simulator drawing)."""
    return photo_response(request.scope.person_or_404(uid))


def photo_response(person: Person) -> HttpResponse:
    """A person's identity photo from the configured provider, as an image that may run
    no script (the caller has checked the person is visible to the user)."""
    photo = get_provider(settings.CUNXIN_IDENTITY_PHOTOS).photo(
        person.uid, gender=person.gender or None, age=person.age()
    )
    response = HttpResponse(photo.content, content_type=photo.content_type)
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@require_http_methods(["GET", "POST"])
@staff_view
def reveal(request: HttpRequest, uid: str, field: str) -> HttpResponse:
    """GET: the reason form (a fragment). POST: log the access and show the full value."""
    scope = request.scope
    person = scope.person_or_404(uid)
    if field not in actions.REVEALABLE:
        raise Http404
    scope.require(scope.can_reveal)
    form = RevealForm(request.POST if request.method == "POST" else None)
    context = {"person": person, "field": field, "reasons": actions.REVEAL_REASONS.items(),
               "form": form}  # fmt: skip
    if request.method == "POST":
        if form.is_valid():
            try:
                context["value"] = actions.do_reveal(
                    request.user, person, field, form.cleaned_data["reason"],
                    form.cleaned_data["note"],
                )  # fmt: skip
            except ValidationError as e:
                refuse(form, e)
            else:
                return render(request, "pool/_revealed.html", context)
        return render(request, "pool/_reveal_form.html", context, status=400)
    return render(request, "pool/_reveal_form.html", context)


@require_http_methods(["GET", "POST"])
@staff_view
def segments(request: HttpRequest) -> HttpResponse:
    """分层分群: saved tag filters; POST saves a new one."""
    scope = request.scope
    form = SegmentForm()
    if request.method == "POST":
        scope.require(actions.may_create_segment(scope))
        form = SegmentForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                segment = actions.do_create_segment(request.user, d["name"], d["tags"], d["colors"])  # fmt: skip
            except ValidationError as e:
                refuse(form, e)
            else:
                url = reverse("pool:segment", args=[segment.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(request, "pool/segments.html", {
        "segments": Segment.objects.select_related("created_by"), "form": form,
        "tag_choices": TAG_FILTERS, "colors": ListColor.choices,
        "can_create": actions.may_create_segment(scope),
    }, status=400 if form.errors else 200)  # fmt: skip


def _segment_or_404(pk: int) -> Segment:
    try:
        return Segment.objects.get(pk=pk)
    except Segment.DoesNotExist:
        raise Http404 from None


@require_GET
@staff_view
def segment(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment's size per village, within the viewer's scope (one GROUP BY query)."""
    scope = request.scope
    seg = _segment_or_404(pk)
    members = actions.segment_filter(scope.persons(), seg)
    sizes = dict(members.values_list("village_id").annotate(n=Count("uid")).order_by())
    rows = [(v, sizes.get(v.code, 0)) for v in scope.villages()]
    return render(request, "pool/segment.html", {
        "segment": seg, "rows": rows, "total": sum(sizes.values()),
        "can_delete": actions.may_delete_segment(scope, seg),
    })  # fmt: skip


@require_POST
@staff_view
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    seg = _segment_or_404(pk)
    request.scope.require(actions.may_delete_segment(request.scope, seg))
    actions.do_delete_segment(request.user, seg)
    messages.success(request, _("Segment deleted."))
    return redirect("pool:segments")


EXPORT_COLUMNS = (
    ("village", "村"), ("household_no", "户号"), ("name", "姓名"), ("relation", "与户主关系"),
    ("gender", "性别"), ("age", "年龄"), ("id_masked", "身份证号（脱敏）"),
    ("phone_masked", "手机号（脱敏）"), ("list_color", "名单"), ("tags", "标签"),
)  # fmt: skip


@require_GET
@staff_view
def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment's members in scope as Excel, masked; the export is access-logged."""
    scope = request.scope
    seg = _segment_or_404(pk)
    members = (
        actions.segment_filter(scope.persons(), seg)
        .select_related("village", "household")
        .order_by("village_id", "household_id", "member_index")
    )
    buffer = io.BytesIO()
    # Cells hold data, never formulas or links: a name such as "=HYPERLINK(...)" stays text.
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "constant_memory": True, "strings_to_formulas": False,
        "strings_to_urls": False,
    })  # fmt: skip
    sheet = book.add_worksheet(sheet_name(seg.name))
    bold = book.add_format({"bold": True})
    for col, (_key, title) in enumerate(EXPORT_COLUMNS):
        sheet.write(0, col, title, bold)
    colors = dict(ListColor.choices)
    n = 0
    for n, p in enumerate(members.iterator(chunk_size=2000), start=1):
        row = (
            p.village.name if p.village else "", p.household.household_no if p.household else "",
            p.name, p.relation_to_head, {"M": "男", "F": "女"}.get(p.gender, ""), p.age(),
            p.id_masked, p.phone_masked, str(colors.get(p.list_color, "")),
            " ".join(t for _f, t in p.tag_list()),
        )  # fmt: skip
        for col, value in enumerate(row):
            sheet.write(n, col, value)
    book.close()
    actions.do_log_export(request.user, actions.Export(
        kind=AccessLog.ExportKind.SEGMENT, rows=n, subject=seg.name, obj=seg,
    ))  # fmt: skip
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("Segment %(segment)s") % {"segment": seg.pk} + ".xlsx"
    )
    return response
