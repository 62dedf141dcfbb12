from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Policy proposals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .changes.models import changes_sealed
        from .webhooks.delivery import changes_sealed_receiver

        changes_sealed.connect(changes_sealed_receiver, dispatch_uid="webhooks_dispatch")

        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from .tracking.search import forget_rum_index

        # Whether the search's RUM index exists is cached per connection.
        connection_created.connect(forget_rum_index, dispatch_uid="proposals_rum_connection")
        post_migrate.connect(forget_rum_index, dispatch_uid="proposals_rum_migrate")
