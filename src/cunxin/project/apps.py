from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "cunxin.project"
    label = "cunxin_project"
    verbose_name = "村信"
