"""Number the history rows written before the change feed existed.

A migration of its own, after 0009_changes, because on PostgreSQL the
indexes that 0009_changes adds are created when its operations end: had
these updates run in the same migration, ``CREATE INDEX`` would meet the
updated tables' pending foreign-key trigger events and fail ("cannot
CREATE INDEX ... because it has pending trigger events") on any database
with history rows.
"""

from django.db import migrations

HISTORY_MODELS = [
    "historicaltopic",
    "historicalsource",
    "historicalactor",
    "historicalvenue",
    "historicalproposal",
    "historicalevidence",
    "historicalproponent",
    "historicalstatusevent",
    "historicalproposalrelation",
]


def number_existing_history(apps, schema_editor):
    """Give every history row written before the change feed existed its
    place in the feed: by time, then by table, then by row. Their write
    batches are unknown, so each row ends its own (``batch_end_seq``). The
    latest row of each live proposal records its current topics and
    parties, so its current version can be rebuilt."""
    using = schema_editor.connection.alias
    rows = []
    for rank, name in enumerate(HISTORY_MODELS):
        model = apps.get_model("proposals", name)
        for history_id, date in model.objects.using(using).values_list("history_id", "history_date"):
            rows.append((date, rank, history_id))
    rows.sort()
    by_model = {}
    for seq, (_date, rank, history_id) in enumerate(rows, start=1):
        by_model.setdefault(rank, []).append((history_id, seq))
    for rank, pairs in by_model.items():
        model = apps.get_model("proposals", HISTORY_MODELS[rank])
        objs = [model(history_id=history_id, change_seq=seq, batch_end_seq=seq) for history_id, seq in pairs]
        model.objects.using(using).bulk_update(objs, ["change_seq", "batch_end_seq"], batch_size=1000)
    apps.get_model("proposals", "ChangeCounter").objects.using(using).create(id=1, value=len(rows))

    proposal = apps.get_model("proposals", "Proposal")
    history = apps.get_model("proposals", "historicalproposal")
    links = {pk: {"topics": [], "parties": []} for pk in proposal.objects.using(using).values_list("pk", flat=True)}
    for name, column in (("topics", "topic_id"), ("parties", "actor_id")):
        through = proposal._meta.get_field(name).remote_field.through
        for proposal_id, target in through.objects.using(using).values_list("proposal_id", column):
            links[proposal_id][name].append(target)
    latest = {}
    for history_id, pk in (
        history.objects.using(using).filter(id__in=list(links)).order_by("change_seq").values_list("history_id", "id")
    ):
        latest[pk] = history_id
    objs = [
        history(history_id=history_id, links={k: sorted(v) for k, v in links[pk].items()})
        for pk, history_id in latest.items()
    ]
    history.objects.using(using).bulk_update(objs, ["links"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0009_changes"),
    ]

    operations = [
        migrations.RunPython(number_existing_history, migrations.RunPython.noop),
    ]
