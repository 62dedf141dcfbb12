"""Participation rows and aliases (proposals.tracking), and the Editors'
permissions to write them."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import proposals.tracking.models

EDITOR_MODELS = ["participation", "actoralias", "venuealias", "topicalias", "proposalalias"]


def grant_editors(apps, schema_editor):
    # As 0003_editors_group: permissions are normally created after migrations.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    codenames = [f"{action}_{model}" for model in EDITOR_MODELS for action in ("add", "change", "delete", "view")]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="proposals", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0008_lowercase_slugs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalActorAlias",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.actor",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical actor alias",
                "verbose_name_plural": "historical actor aliases",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalParticipation",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("signed", "Signature"),
                            ("ratified", "Ratification"),
                            ("accepted", "Acceptance"),
                            ("approved", "Approval"),
                            ("acceded", "Accession"),
                            ("entered_into_force", "Entry into force"),
                            ("supported", "Supported"),
                            ("opposed", "Opposed"),
                            ("reservation", "Reservation"),
                            ("withdrew", "Withdrawal"),
                        ],
                        max_length=24,
                    ),
                ),
                (
                    "occurred_on",
                    models.DateField(blank=True, help_text="When the party acted, if the text says.", null=True),
                ),
                (
                    "precision",
                    models.CharField(
                        choices=[("day", "Day"), ("month", "Month"), ("year", "Year")], default="day", max_length=5
                    ),
                ),
                (
                    "note",
                    models.TextField(blank=True, help_text="How the row was inferred from the text, where it was."),
                ),
                ("recorded_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "evidence",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.evidence",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "party",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.actor",
                    ),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.proposal",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical participation",
                "verbose_name_plural": "historical participation",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalProposalAlias",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.proposal",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical proposal alias",
                "verbose_name_plural": "historical proposal aliases",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalTopicAlias",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "topic",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.topic",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical topic alias",
                "verbose_name_plural": "historical topic aliases",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalVenueAlias",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "venue",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="proposals.venue",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical venue alias",
                "verbose_name_plural": "historical venue aliases",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="ActorAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="proposals.actor"
                    ),
                ),
            ],
            options={
                "verbose_name": "actor alias",
                "verbose_name_plural": "actor aliases",
                "ordering": ["name", "id"],
                "abstract": False,
                "constraints": [
                    models.UniqueConstraint(fields=("actor", "name", "language"), name="actoralias_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="Participation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("signed", "Signature"),
                            ("ratified", "Ratification"),
                            ("accepted", "Acceptance"),
                            ("approved", "Approval"),
                            ("acceded", "Accession"),
                            ("entered_into_force", "Entry into force"),
                            ("supported", "Supported"),
                            ("opposed", "Opposed"),
                            ("reservation", "Reservation"),
                            ("withdrew", "Withdrawal"),
                        ],
                        max_length=24,
                    ),
                ),
                (
                    "occurred_on",
                    models.DateField(blank=True, help_text="When the party acted, if the text says.", null=True),
                ),
                (
                    "precision",
                    models.CharField(
                        choices=[("day", "Day"), ("month", "Month"), ("year", "Year")], default="day", max_length=5
                    ),
                ),
                (
                    "note",
                    models.TextField(blank=True, help_text="How the row was inferred from the text, where it was."),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "evidence",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="participation",
                        to="proposals.evidence",
                    ),
                ),
                (
                    "party",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="participation", to="proposals.actor"
                    ),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="participation",
                        to="proposals.proposal",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="participation",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "participation",
                "ordering": ["proposal_id", "party_id", "occurred_on", "id"],
                "indexes": [models.Index(fields=["party", "action"], name="participation_party_action_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("proposal", "party", "action", "occurred_on"), name="participation_unique_action"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ProposalAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="proposals.proposal"
                    ),
                ),
            ],
            options={
                "verbose_name": "proposal alias",
                "verbose_name_plural": "proposal aliases",
                "ordering": ["name", "id"],
                "abstract": False,
                "constraints": [
                    models.UniqueConstraint(fields=("proposal", "name", "language"), name="proposalalias_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="TopicAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                (
                    "topic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="proposals.topic"
                    ),
                ),
            ],
            options={
                "verbose_name": "topic alias",
                "verbose_name_plural": "topic aliases",
                "ordering": ["name", "id"],
                "abstract": False,
                "constraints": [
                    models.UniqueConstraint(fields=("topic", "name", "language"), name="topicalias_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="VenueAlias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=300)),
                (
                    "language",
                    models.CharField(
                        blank=True,
                        help_text="BCP 47 language tag (RFC 5646), e.g. en, zh, zh-Hans; empty when unspecified.",
                        max_length=35,
                        validators=[proposals.tracking.models.validate_language_tag],
                    ),
                ),
                (
                    "venue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="proposals.venue"
                    ),
                ),
            ],
            options={
                "verbose_name": "venue alias",
                "verbose_name_plural": "venue aliases",
                "ordering": ["name", "id"],
                "abstract": False,
                "constraints": [
                    models.UniqueConstraint(fields=("venue", "name", "language"), name="venuealias_unique")
                ],
            },
        ),
        migrations.RunPython(grant_editors, migrations.RunPython.noop),
    ]
