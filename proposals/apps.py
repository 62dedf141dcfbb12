from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Policy proposals"
    default_auto_field = "django.db.models.BigAutoField"
