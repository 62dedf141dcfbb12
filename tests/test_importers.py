"""The seed loader: idempotent, all-or-nothing, staff edits survive."""

import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from proposals import services
from proposals.importers import SEEDS_DIR, SeedError, load_seeds
from proposals.models import Actor, Evidence, Proposal, Source, StatusEvent, Topic

DATA = SEEDS_DIR / "data" / "corpus.yaml"


def _counts():
    return [m.objects.count() for m in (Topic, Source, Actor, Proposal, Evidence, StatusEvent)]


def _copy_with(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "corpus.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_loading_twice_changes_nothing_the_second_time(db):
    first = load_seeds()
    assert first.counts["proposals"]["created"] >= 20
    snapshot = (_counts(), list(Proposal.objects.values_list("slug", "version", "updated_at")))
    second = load_seeds()
    assert second.changed == 0
    assert second.counts["proposals"]["unchanged"] == first.counts["proposals"]["created"]
    assert (_counts(), list(Proposal.objects.values_list("slug", "version", "updated_at"))) == snapshot


def test_every_quote_in_the_data_equals_its_source_text(db):
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    files = {s["slug"]: SEEDS_DIR / "sources" / s["file"] for s in data["sources"]}
    texts = {slug: path.read_text(encoding="utf-8") for slug, path in files.items()}
    quotes = [item for p in data["proposals"] for item in p["evidence"]]
    assert len(quotes) >= len(data["proposals"])
    for item in quotes:
        assert texts[item["source"]][item["start"] : item["end"]] == item["quote"], item["key"]
    load_seeds()
    for evidence in Evidence.objects.select_related("source"):
        assert evidence.source.text[evidence.start : evidence.end] == evidence.quote


def test_every_proposal_has_a_proponent_quote_and_status_as_loaded(db):
    load_seeds()
    for proposal in Proposal.objects.prefetch_related("proponents", "evidence", "events"):
        assert proposal.evidence.exists(), proposal.slug
        assert sum(link.is_primary for link in proposal.proponents.all()) == 1, proposal.slug
        latest = proposal.events.latest_first().first()
        assert latest is not None and proposal.status == latest.status, proposal.slug


def test_owner_examples_are_in_the_corpus(db):
    load_seeds()
    treaty = Proposal.objects.get(slug="sco-anti-extremism-treaty")
    assert treaty.primary_proponent.actor.name == "Li Keqiang"
    assert treaty.venue.kind == "meeting"  # a meeting of heads of government (issue #12)
    six_n = Proposal.objects.get(slug="sco-6-plus-n-anti-terrorism-partnership-mechanism")
    assert six_n.primary_proponent.actor.named is False
    assert Proposal.objects.filter(slug="china-us-cooperation-to-halt-terror-financing").exists()


def test_sources_are_byte_for_byte_copies():
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    ours = sorted(p.read_bytes() for p in (SEEDS_DIR / "sources").glob("*.txt"))
    theirs = sorted(p.read_bytes() for p in shared.glob("*.txt"))
    assert ours == theirs


def test_a_corrupted_quote_fails_clearly_and_writes_nothing(db, tmp_path):
    def corrupt(data):
        data["proposals"][3]["evidence"][0]["quote"] += " (invented)"

    path = _copy_with(tmp_path, corrupt)
    before = _counts()
    with pytest.raises(SeedError) as exc:
        load_seeds(path)
    slug = yaml.safe_load(path.read_text())["proposals"][3]["slug"]
    assert str(path) in str(exc.value) and f"proposals[{slug}].evidence[" in str(exc.value)
    assert exc.value.field == "start"
    assert _counts() == before == [0, 0, 0, 0, 0, 0]


def test_a_dangling_reference_fails_clearly_and_writes_nothing(db, tmp_path):
    def dangle(data):
        data["proposals"][0]["venue"] = "no-such-venue"

    path = _copy_with(tmp_path, dangle)
    with pytest.raises(SeedError) as exc:
        load_seeds(path)
    assert exc.value.field == "venue" and "no-such-venue" in exc.value.message
    assert _counts() == [0, 0, 0, 0, 0, 0]


def test_a_malformed_file_fails_clearly_and_writes_nothing(db, tmp_path):
    path = tmp_path / "corpus.yaml"
    path.write_text("proposals: [\n  - slug: x\n", encoding="utf-8")
    with pytest.raises(SeedError) as exc:
        load_seeds(path)
    assert "not valid YAML" in str(exc.value)
    assert _counts() == [0, 0, 0, 0, 0, 0]


def test_bad_data_after_a_good_load_leaves_the_database_as_it_was(db, tmp_path):
    load_seeds()
    before = (_counts(), list(Proposal.objects.values_list("slug", "title", "version")))

    def break_late(data):
        data["proposals"][0]["title"] = "Changed title"  # would be written first...
        data["proposals"][-1]["events"][0]["status"] = "no-such-status"  # ...but this is bad

    with pytest.raises(SeedError):
        load_seeds(_copy_with(tmp_path, break_late))
    assert (_counts(), list(Proposal.objects.values_list("slug", "title", "version"))) == before


def test_a_staff_edit_survives_a_rerun(db, staff):
    load_seeds()
    proposal = Proposal.objects.get(slug="sco-anti-extremism-treaty")
    services.proposal_update(proposal=proposal, title="Edited by staff", user=staff)
    report = load_seeds()
    proposal.refresh_from_db()
    assert proposal.title == "Edited by staff"
    assert report.counts["proposals"]["skipped"] == 1
    assert any("sco-anti-extremism-treaty" in line for line in report.skipped)


def test_overwrite_flag_restores_the_seeded_values(db, staff):
    load_seeds()
    proposal = Proposal.objects.get(slug="sco-anti-extremism-treaty")
    seeded_title = proposal.title
    services.proposal_update(proposal=proposal, title="Edited by staff", user=staff)
    load_seeds(overwrite_staff_edits=True)
    proposal.refresh_from_db()
    assert proposal.title == seeded_title


def test_changed_data_updates_only_what_changed(db, tmp_path):
    load_seeds()

    def retitle(data):
        data["proposals"][0]["title"] = "A clearer title"

    report = load_seeds(_copy_with(tmp_path, retitle))
    assert report.counts["proposals"]["updated"] == 1
    assert report.changed == 1


def test_command_prints_counts_per_kind(db, capsys):
    call_command("load_seeds")
    call_command("load_seeds")
    out = capsys.readouterr().out
    assert "kind" in out and "created" in out and "unchanged" in out
    assert "nothing to change" in out


def test_command_reports_bad_data_without_a_traceback(db, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "corpus.yaml"
    shutil.copy(DATA, bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("kind: meeting", "kind: picnic", 1), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("load_seeds", "--file", str(bad))
