"""Number the tracking tables' history rows written before they joined
the change feed; a migration of its own for the reason given in
0010_number_existing_history."""

from django.db import migrations

TRACKING_HISTORY = [
    "historicalparticipation",
    "historicalactoralias",
    "historicalvenuealias",
    "historicaltopicalias",
    "historicalproposalalias",
]


def number_tracking_history(apps, schema_editor):
    """Number the tracking tables' history rows written before they joined
    the change feed (0009_tracking ran first on some databases): after every
    number already handed out, by time, then table, then row; each row ends
    its own batch, as 0009_changes did for the older tables."""
    using = schema_editor.connection.alias
    rows = []
    for rank, name in enumerate(TRACKING_HISTORY):
        model = apps.get_model("proposals", name)
        for history_id, date in model.objects.using(using).values_list("history_id", "history_date"):
            rows.append((date, rank, history_id))
    if not rows:
        return
    rows.sort()
    counter_model = apps.get_model("proposals", "ChangeCounter")
    counter, _ = counter_model.objects.using(using).get_or_create(id=1, defaults={"value": 0})
    by_model = {}
    for seq, (_date, rank, history_id) in enumerate(rows, start=counter.value + 1):
        by_model.setdefault(rank, []).append((history_id, seq))
    for rank, pairs in by_model.items():
        model = apps.get_model("proposals", TRACKING_HISTORY[rank])
        objs = [model(history_id=history_id, change_seq=seq, batch_end_seq=seq) for history_id, seq in pairs]
        model.objects.using(using).bulk_update(objs, ["change_seq", "batch_end_seq"], batch_size=1000)
    counter.value += len(rows)
    counter.save(update_fields=["value"])


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0012_tracking_change_feed"),
    ]

    operations = [
        migrations.RunPython(number_tracking_history, migrations.RunPython.noop),
    ]
