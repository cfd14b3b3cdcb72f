"""The evaluator's screens: the households of the open round, and one household's review.

Back to back: these pages read reviews only through `actions.my_reviews`; nothing else
about other evaluators' reviews exists in them. Every page checks that the user holds an
active seat on the round's panel and that the round is open (404 otherwise).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cunxin.evaluation import actions
from cunxin.evaluation.fetch import open_round_for as _open_round_for
from cunxin.evaluation.forms import GRADES, ReviewHouseholdForm
from cunxin.evaluation.models import PanelMember, Review, ReviewStatus, Round
from cunxin.evaluation.versions import evaluation_policy
from cunxin.lib.masking import mask_id_for_evaluator
from cunxin.org.models import VillageGroup
from cunxin.pool.models import Household, Person
from cunxin.pool.views import photo_response
from cunxin.providers.identity import get_provider

PAGE_SIZE = 20


def _round_or_404(request: HttpRequest, round_id: int) -> tuple[Round, PanelMember]:
    if not request.user.is_authenticated:
        raise Http404
    found = _open_round_for(request.user, round_id)
    if found is None:
        raise Http404
    return found


@require_GET
def evaluator_home(request: HttpRequest) -> HttpResponse:
    """The households to review in the open round, with the evaluator's own progress."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    found = _open_round_for(request.user)
    if found is None:
        raise Http404
    rnd, seat = found
    households = (
        Household.objects.filter(village_id=rnd.project.village_id, retired_at__isnull=True)
        .select_related("group")
        .order_by("group_id", "household_no", "uid")
    )
    groups = VillageGroup.objects.filter(
        village_id=rnd.project.village_id, retired_at__isnull=True
    ).order_by("code")
    group = request.GET.get("group", "")
    if group in {g.code for g in groups}:
        households = households.filter(group_id=group)
    else:
        group = ""
    left = request.GET.get("left") == "1"
    if left:  # a household with a living member the evaluator has not submitted yet
        submitted = actions.my_reviews(request.user, rnd).filter(status=ReviewStatus.SUBMITTED)
        households = households.filter(Exists(
            Person.objects.filter(household=OuterRef("pk"), retired_at__isnull=True)
            .exclude(uid__in=submitted.values("person_id"))
        ))  # fmt: skip
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    mine: dict[str, set[str]] = {}
    for household, status in (
        actions.my_reviews(request.user, rnd)
        .filter(person__household__in=[h.uid for h in page])
        .values_list("person__household_id", "status")
    ):
        mine.setdefault(household, set()).add(status)
    # never assigned: their own and close relatives' households are marked, not linked
    conflicts = actions.conflicting_households(
        seat, rnd.project.village_id, evaluation_policy(rnd.project.policy)
    )
    rows = [(h, _progress(mine.get(h.uid, set())), conflicts.get(h.uid)) for h in page]
    return render(request, "evaluation/home.html", {
        "round": rnd, "seat": seat, "page": page, "rows": rows, "groups": groups,
        "group": group, "left": left,
    })  # fmt: skip


def _progress(statuses: set[str]) -> str:
    if not statuses:
        return "todo"
    return "done" if statuses == {ReviewStatus.SUBMITTED} else "draft"


@require_http_methods(["GET", "POST"])
def review_household(request: HttpRequest, round_id: int, uid: str) -> HttpResponse:
    """One household: every member in their colour, with photo; one review per member."""
    rnd, seat = _round_or_404(request, round_id)
    policy = evaluation_policy(rnd.project.policy)
    try:
        household = Household.objects.get(
            uid=uid, village_id=rnd.project.village_id, retired_at__isnull=True
        )
    except Household.DoesNotExist:
        raise Http404 from None
    members = list(
        Person.objects.filter(household=household, retired_at__isnull=True).order_by("member_index")
    )
    # on POST the action checks the conflict (and refuses); the page shows it on GET
    conflict = (
        actions.conflict_for(seat, members[0], policy)
        if members and request.method == "GET" else None
    )  # fmt: skip
    errors: list[str] = []
    by_member: dict[str, list[str]] = {}
    posted: dict[str, Review] = {}
    form = None
    if request.method == "POST":
        form = ReviewHouseholdForm(request.POST, members=members, policy=policy)
        posted = {p.uid: _posted_review(request.POST, p, policy) for p in members}
        if form.is_valid():
            answers = {p: actions.ReviewInput(**form.answer(p)) for p in members}
            try:
                actions.do_save_reviews(request.user, rnd, answers, submit=form.submit)
            except ValidationError as e:
                if hasattr(e, "error_dict"):
                    by_member = {uid: [m for err in errs for m in err.messages]
                                 for uid, errs in e.error_dict.items()}  # fmt: skip
                else:
                    errors = list(e.messages)
            else:
                messages.success(request, _(
                    "Submitted: thank you. The household is locked for you now."
                ) if form.submit else _("Saved as a draft: you can come back to it."))  # fmt: skip
                return redirect("evaluation:home")
        if actions.conflict_for(seat, members[0], policy):
            raise PermissionDenied  # the household is not theirs to review at all
        errors += [str(m) for m in form.non_field_errors()]
        if "action" in form.errors:
            errors += [str(m) for m in form.errors["action"]]
    mine = {
        r.person_id: r for r in actions.my_reviews(request.user, rnd).filter(person__in=members)
    }
    provider = get_provider(settings.CUNXIN_IDENTITY_PHOTOS)
    for r in mine.values():
        r.amount_text = "" if r.amount_yuan is None else str(r.amount_yuan)
    # after a refused save the form shows what was typed, not what is stored
    shown = {**mine, **{uid: r for uid, r in posted.items() if mine.get(uid) is None
                        or mine[uid].status == ReviewStatus.DRAFT}}  # fmt: skip
    labels = policy.graded_labels()
    rows = [
        (p, shown.get(p.uid), mask_id_for_evaluator(p.id_masked),
         _graded_rows(labels, shown.get(p.uid)),
         _member_errors(form, p, by_member.get(p.uid, [])))
        for p in members
    ]  # fmt: skip
    refused = bool(errors or by_member or (form is not None and form.errors))
    return render(request, "evaluation/review.html", {
        "round": rnd, "household": household, "rows": rows, "conflict": conflict,
        "policy": policy, "grades": GRADES, "errors": errors, "provider": provider,
        "refused": refused,
        "locked": all(r and r.status == ReviewStatus.SUBMITTED for _p, r, _m, _g, _e in rows),
    }, status=400 if refused else 200)  # fmt: skip


def _member_errors(form, person: Person, refused: list[str]) -> dict[str, list[str]]:
    """The member's messages: the form's ("amount", "other") and the action's (other)."""
    errors = form.member_errors(person) if form is not None else {"amount": [], "other": []}
    errors["other"] += refused
    return errors


def _graded_rows(labels, review) -> list[tuple[str, str, str]]:
    """(item, label, the grade given as text or "") per graded item: the template only
    compares strings (it renders 11 × 5 radio buttons per member)."""
    given = review.graded if review is not None else {}
    return [(item, label, str(given.get(item, ""))) for item, label in labels]


def _posted_review(post, person: Person, policy) -> Review:
    """The member's part of the posted form as an unsaved Review (amount kept as typed)."""
    knows = {"yes": True, "no": False}.get(post.get(f"knows-{person.uid}", ""))
    graded = {
        item: int(v)
        for item in policy.graded_items
        if (v := post.get(f"grade-{person.uid}-{item}", "")) in GRADES
    }
    review = Review(person=person, knows_household=knows, graded=graded,
                    negative_items=post.getlist(f"neg-{person.uid}"))  # fmt: skip
    review.amount_text = post.get(f"amount-{person.uid}", "").strip()
    return review


@require_GET
def evaluator_photo(request: HttpRequest, round_id: int, uid: str) -> HttpResponse:
    rnd, _seat = _round_or_404(request, round_id)
    try:
        person = Person.objects.get(
            uid=uid, village_id=rnd.project.village_id, retired_at__isnull=True
        )
    except Person.DoesNotExist:
        raise Http404 from None
    return photo_response(person)
