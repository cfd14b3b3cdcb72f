from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "cunxin.pool"
    label = "pool"
    verbose_name = _("Customer pool")
