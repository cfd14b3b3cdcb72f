"""What the audit trail's codes mean, in words: a label per action code the code records
(`record(actor, "<app>.<object>.<verb>", …)`), and the kind of each object.

tests/test_audit_trail.py reads every `record(` call under src/ and fails when an action
code has no label here: a new action joins this table with its first `record`.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import pgettext_lazy

ACTION_LABELS = {
    # sign-in and accounts
    "auth.password.change": pgettext_lazy("audit action", "Own password changed"),
    "auth.code_login": pgettext_lazy("audit action", "Signed in with a one-time code"),
    "admin.user.password": pgettext_lazy("audit action", "Password set in admin"),
    "keys.rotate": pgettext_lazy("audit action", "Personal-data keys rotated"),
    # background work (the task worker)
    "jobs.run.interrupt": pgettext_lazy(
        "audit action", "Run marked interrupted (its worker stopped)"
    ),
    # the bank's organisation
    "org.branch.create": pgettext_lazy("audit action", "Branch created"),
    "org.village.branch": pgettext_lazy("audit action", "Village moved to a branch"),
    "org.staff.create": pgettext_lazy("audit action", "Staff member created"),
    "org.staff.change": pgettext_lazy("audit action", "Staff member changed"),
    "org.assignment.open": pgettext_lazy("audit action", "Village or grid assigned"),
    "org.assignment.end": pgettext_lazy("audit action", "Assignment ended"),
    # the customer pool
    "pool.publish": pgettext_lazy("audit action", "Data pool published"),
    "pool.publish.queue": pgettext_lazy("audit action", "Data pool publish queued"),
    "pool.publish.rerun": pgettext_lazy("audit action", "Data pool publish run again"),
    "pool.segment.create": pgettext_lazy("audit action", "Segment created"),
    "pool.segment.delete": pgettext_lazy("audit action", "Segment deleted"),
    # evaluation
    "evaluation.policy.create": pgettext_lazy("audit action", "Evaluation policy version created"),
    "evaluation.project.start": pgettext_lazy("audit action", "Village project started"),
    "evaluation.project.policy": pgettext_lazy(
        "audit action", "Project's evaluation policy changed"
    ),
    "evaluation.panel.add": pgettext_lazy("audit action", "Panel member added"),
    "evaluation.panel.remove": pgettext_lazy("audit action", "Panel member removed"),
    "evaluation.round.open": pgettext_lazy("audit action", "Round opened"),
    "evaluation.round.close": pgettext_lazy("audit action", "Round closed"),
    "evaluation.review.submit": pgettext_lazy("audit action", "Reviews submitted"),
    "evaluation.sheet.import": pgettext_lazy("audit action", "Paper sheet entered"),
    "evaluation.verdict.change": pgettext_lazy("audit action", "Verdict changed in the re-review"),
    "evaluation.qa.check": pgettext_lazy("audit action", "QA check recorded"),
    # visits
    "visits.visit.record": pgettext_lazy("audit action", "Visit recorded"),
    "visits.task.reassign": pgettext_lazy(
        "audit action", "Visit task moved to who holds the household"
    ),
    "visits.task.late": pgettext_lazy(
        "audit action", "Visit tasks made for households published later"
    ),
    # credit
    "decisions.decision.propose": pgettext_lazy("audit action", "Credit decision proposed"),
    "decisions.decision.approve": pgettext_lazy("audit action", "Credit decision approved"),
    "decisions.decision.reject": pgettext_lazy("audit action", "Credit decision rejected"),
    "decisions.decision.refer_back": pgettext_lazy("audit action", "Credit decision referred back"),
    "decisions.decision.undo": pgettext_lazy("audit action", "Credit approval undone"),
    "decisions.batch.precredit": pgettext_lazy("audit action", "Batch pre-credit run started"),
    "decisions.batch.whatif": pgettext_lazy("audit action", "What-if run started"),
    "decisions.batch.rerun": pgettext_lazy("audit action", "Batch run run again"),
    "decisions.policy.create": pgettext_lazy("audit action", "Credit policy version created"),
    "decisions.policy.publish": pgettext_lazy("audit action", "Credit policy version published"),
    "decisions.model.publish": pgettext_lazy("audit action", "Scorecard model published"),
    "decisions.model.activate": pgettext_lazy("audit action", "Scorecard model activated"),
}
# `admin.<model>.<op>`, written by AuditedAdmin for any model.
ADMIN_ACTION_LABELS = {
    "create": pgettext_lazy("audit action", "%(model)s created in admin"),
    "change": pgettext_lazy("audit action", "%(model)s changed in admin"),
    "delete": pgettext_lazy("audit action", "%(model)s deleted in admin"),
}
# The kinds of object whose model has no verbose name of its own, or is no model.
OBJECT_LABELS = {
    "keys": pgettext_lazy("audit object", "key"),
    "auth.user": pgettext_lazy("audit object", "user"),
    "axes.accessattempt": pgettext_lazy("audit object", "sign-in attempt"),
    "axes.accessfailurelog": pgettext_lazy("audit object", "failed sign-in"),
    "audit.chainhead": pgettext_lazy("audit object", "chain head"),
    "org.logincode": pgettext_lazy("audit object", "sign-in code"),
    "evaluation.verdict": pgettext_lazy("audit object", "verdict"),
    "evaluation.verdictchange": pgettext_lazy("audit object", "re-review change"),
    "evaluation.photo": pgettext_lazy("audit object", "photo"),
    "evaluation.qacheck": pgettext_lazy("audit object", "QA check"),
    "visits.visittask": pgettext_lazy("audit object", "visit task"),
    "visits.visit": pgettext_lazy("audit object", "visit"),
    "visits.visitmember": pgettext_lazy("audit object", "visited member"),
    "decisions.decision": pgettext_lazy("audit object", "credit decision"),
    "decisions.batchrun": pgettext_lazy("audit object", "batch run"),
    "decisions.precredit": pgettext_lazy("audit object", "pre-credit"),
    "decisions.creditpolicyversion": pgettext_lazy("audit object", "credit policy version"),
    "decisions.modelversion": pgettext_lazy("audit object", "scorecard model"),
    "decisions.modelscore": pgettext_lazy("audit object", "model score"),
}


def model_label(object_type: str) -> str:
    """ "org.staff" → the kind of object ("员工"); the code if there is no such kind."""
    if object_type in OBJECT_LABELS:
        return str(OBJECT_LABELS[object_type])
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def action_label(action: str, object_type: str = "") -> str:
    """A readable name for an audit action code; an unknown code as it is."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "admin" and parts[2] in ADMIN_ACTION_LABELS:
        model = model_label(object_type) if object_type else parts[1]
        return capfirst(str(ADMIN_ACTION_LABELS[parts[2]]) % {"model": model})
    return action
