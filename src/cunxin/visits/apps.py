from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "cunxin.visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        from cunxin.evaluation.signals import signed_off
        from cunxin.org.signals import assignments_changed
        from cunxin.pool.signals import published
        from cunxin.visits import actions

        signed_off.connect(actions.on_signed_off, dispatch_uid="visits.tasks_at_sign_off")
        assignments_changed.connect(actions.on_assignments_changed, dispatch_uid="visits.tasks")
        published.connect(actions.on_publish, dispatch_uid="visits.late_tasks")
