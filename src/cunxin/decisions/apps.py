from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DecisionsConfig(AppConfig):
    name = "cunxin.decisions"
    verbose_name = _("Credit decisions")

    def ready(self) -> None:
        from cunxin.decisions.views import credit_context
        from cunxin.pool import sections

        # the 授信 section of the customer 360 page (and the app's own evaluation, which
        # replaces the pool's evaluation tags there)
        sections.register("credit_decision", "decisions/_credit.html", credit_context)
