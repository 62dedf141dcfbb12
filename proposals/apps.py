from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Policy proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .changes.models import changes_sealed
        from .webhooks.delivery import changes_sealed_receiver

        changes_sealed.connect(changes_sealed_receiver, dispatch_uid="webhooks_dispatch")
