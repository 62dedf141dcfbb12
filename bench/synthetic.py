"""Synthetic data for load tests and benchmarks: ``manage.py generate_synthetic``.

Creates a realistic spread of sources (with generated texts), actors, venues,
topics and proposals ON TOP of whatever the database already holds, without
touching existing rows. Every proposal gets 1-3 proponents (exactly one
primary), 1-4 evidence quotes that are real substrings of their sources at
the stored offsets, 1-5 status events with ``Proposal.status`` equal to the
latest event's status (by ``occurred_on``, ``recorded_at``, ``id``), 1-3
topics, 0-3 parties, sometimes a relation to an earlier proposal, and dates
spread over 2001-2025.

Deterministic: the same ``seed`` and ``proposals`` give the same records
(slugs, titles, texts, quotes, offsets, dates) whatever the batch size and
database. Row ids are whatever the database hands out. Every slug starts with
``syn-<seed>-`` (proposals are ``syn-<seed>-<n>``), so synthetic rows are easy
to tell apart, and a seed that is already loaded is refused.

Fast, and memory-bounded for a million proposals:

* Rows are written in batches of ``batch_size`` proposals (with everything
  hanging off them), one transaction per batch; a failed run leaves the
  batches already committed (load again with another seed, or delete the
  ``syn-<seed>-`` rows). Only a sliding window of source texts and a few
  ints per proposal are kept in memory; the next batch is generated in a
  second thread while the database writes the current one. Measured on 2
  cores: 100k proposals in ~30 s, 1M in ~11 min at 155 MB peak RSS (see
  docs/PERFORMANCE.md).
* No history rows. django-simple-history records saves and deletes through
  model signals; these bulk inserts bypass them on purpose, so synthetic
  records have no "created" entry in their change history. Nothing in the
  app requires one.
* On PostgreSQL, rows go in with ``COPY`` (psycopg's ``cursor.copy``) with
  ids reserved up front from the tables' identity sequences. The
  search-vector triggers are NOT disabled: each batch's evidence rows are
  copied before its proposal rows (the foreign keys are
  ``DEFERRABLE INITIALLY DEFERRED``, so this is legal inside the
  transaction), so the proposal trigger computes
  ``proposals_search_document(id, title, summary)`` with the quotes already
  in place: the stored ``search_vector`` is by construction exactly what the
  triggers produce, with no second UPDATE pass and no dead tuples. (The
  evidence trigger still fires and finds no proposal row to update.) The
  tables are ANALYZEd at the end.
* Elsewhere (SQLite: tests, small N) rows go in with ``executemany``, ids
  taken as ``max(id) + 1`` onwards inside the batch's transaction, which is
  safe on SQLite because it has one writer at a time.

The generated rows bypass ``full_clean()``; ``tests/test_synthetic.py``
checks the invariants (quotes at their offsets, status = latest event, one
primary proponent) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sys
import threading
import time
from array import array
from collections import deque
from dataclasses import dataclass, field
from queue import Empty, Queue

from django.db import connection as default_connection
from django.db import transaction

from proposals.models import (
    Actor,
    ActorKind,
    DatePrecision,
    Evidence,
    Proponent,
    ProponentRole,
    Proposal,
    ProposalRelation,
    RelationType,
    Source,
    Status,
    StatusEvent,
    Topic,
    Venue,
    VenueKind,
)

UTC = dt.UTC
DATE_MIN = dt.date(2001, 6, 15)
DATE_MAX = dt.date(2025, 12, 31)
#: Fixed "now" so timestamps do not depend on when the generator runs.
NOW = dt.datetime(2026, 1, 1, tzinfo=UTC)

DEFAULT_BATCH_SIZE = 2000


def slug_prefix(seed: int) -> str:
    """Every slug of a seed's records starts with this."""
    return f"syn-{seed}-"


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

# (name, ISO 3166-1 alpha-2, adjective)
COUNTRIES = [
    ("China", "CN", "Chinese"),
    ("Russia", "RU", "Russian"),
    ("Kazakhstan", "KZ", "Kazakh"),
    ("Kyrgyzstan", "KG", "Kyrgyz"),
    ("Tajikistan", "TJ", "Tajik"),
    ("Uzbekistan", "UZ", "Uzbek"),
    ("India", "IN", "Indian"),
    ("Pakistan", "PK", "Pakistani"),
    ("Iran", "IR", "Iranian"),
    ("Afghanistan", "AF", "Afghan"),
    ("Mongolia", "MN", "Mongolian"),
    ("Belarus", "BY", "Belarusian"),
    ("Turkey", "TR", "Turkish"),
    ("Azerbaijan", "AZ", "Azerbaijani"),
    ("Armenia", "AM", "Armenian"),
    ("Cambodia", "KH", "Cambodian"),
    ("Nepal", "NP", "Nepali"),
    ("Sri Lanka", "LK", "Sri Lankan"),
    ("Turkmenistan", "TM", "Turkmen"),
    ("United States", "US", "American"),
    ("France", "FR", "French"),
    ("Germany", "DE", "German"),
    ("United Kingdom", "GB", "British"),
    ("Indonesia", "ID", "Indonesian"),
    ("Malaysia", "MY", "Malaysian"),
    ("Egypt", "EG", "Egyptian"),
    ("Saudi Arabia", "SA", "Saudi"),
    ("Qatar", "QA", "Qatari"),
    ("Iraq", "IQ", "Iraqi"),
    ("Syria", "SY", "Syrian"),
    ("Nigeria", "NG", "Nigerian"),
    ("Kenya", "KE", "Kenyan"),
]

PLACES = [
    "Astana",
    "Almaty",
    "Bishkek",
    "Dushanbe",
    "Tashkent",
    "Samarkand",
    "Beijing",
    "Shanghai",
    "Zhengzhou",
    "Qingdao",
    "Ürümqi",
    "Moscow",
    "Ufa",
    "Yekaterinburg",
    "Novosibirsk",
    "New Delhi",
    "Islamabad",
    "Tehran",
    "Kabul",
    "Ulaanbaatar",
    "Minsk",
    "Baku",
    "Ashgabat",
    "Geneva",
    "Vienna",
    "New York",
    "Jakarta",
    "Kuala Lumpur",
    "Cairo",
    "Riyadh",
    "Doha",
    "Baghdad",
    "Nairobi",
    "Abuja",
    "São Paulo",
    "Kraków",
]

FIRST_NAMES = [
    "Li",
    "Wang",
    "Zhang",
    "Chen",
    "Sergei",
    "Dmitry",
    "Olga",
    "Nursultan",
    "Aigerim",
    "Rustam",
    "Dilnoza",
    "Emomali",
    "Farhod",
    "Anand",
    "Priya",
    "Imran",
    "Ayesha",
    "Hassan",
    "Mariam",
    "Bat-Erdene",
    "Aleksandr",
    "Mehmet",
    "Leyla",
    "Sophal",
    "Ram",
    "John",
    "Claire",
    "Jürgen",
    "Fatima",
    "Ahmed",
    "Chidi",
    "Wanjiru",
    "Siti",
    "Hiroshi",
    "Jean-Luc",
    "Ana",
]

LAST_NAMES = [
    "Keqiang",
    "Yi",
    "Wei",
    "Lifan",
    "Lavrov",
    "Ivanov",
    "Petrova",
    "Tokayev",
    "Abenova",
    "Mirziyoyev",
    "Karimova",
    "Rahmon",
    "Nazarov",
    "Sharma",
    "Menon",
    "Qureshi",
    "Siddiqui",
    "Rouhani",
    "Ahmadi",
    "Tsogt",
    "Lukashenko",
    "Yılmaz",
    "Aliyeva",
    "Chan",
    "Thapa",
    "Smith",
    "Dubois",
    "Müller",
    "Haddad",
    "El-Sayed",
    "Okafor",
    "Mwangi",
    "Rahman",
    "Tanaka",
    "Moreau",
    "Kowalska",
]

TITLES = [
    "Foreign Minister",
    "Deputy Foreign Minister",
    "Minister of Interior",
    "Prime Minister",
    "President",
    "Secretary-General",
    "Ambassador",
    "Director of the counter-terrorism department",
    "Senior researcher",
    "Professor of international relations",
    "Chief of the general staff",
    "Head of the financial intelligence unit",
]

ORG_PATTERNS = [
    "Institute for {x} Studies",
    "Centre for {x} Research",
    "{place} Academy of Social Sciences",
    "{place} Institute of International Affairs",
    "Council on {x}",
    "{adj} Ministry of Foreign Affairs",
    "{adj} Ministry of Public Security",
    "{adj} Financial Monitoring Service",
    "{x} Foundation",
    "{place} Forum on {x}",
]

ORG_SUBJECTS = [
    "Regional Security",
    "Strategic",
    "Eurasian",
    "Counter-Terrorism",
    "Conflict",
    "Central Asian",
    "Border",
    "Peace and Development",
    "Global Governance",
    "Cyber Policy",
]

IGOS = [
    "Shanghai Cooperation Organisation",
    "SCO Regional Anti-Terrorist Structure",
    "Collective Security Treaty Organisation",
    "Conference on Interaction and Confidence-Building Measures in Asia",
    "United Nations Security Council",
    "UN Office of Counter-Terrorism",
    "Financial Action Task Force",
    "Eurasian Group on Combating Money Laundering",
    "Interpol",
    "Commonwealth of Independent States Anti-Terrorism Centre",
    "ASEAN Regional Forum",
    "Organisation of Islamic Cooperation",
    "BRICS",
    "African Union",
]

UNNAMED = [
    "one {adj} scholar",
    "a senior {adj} diplomat",
    "an unnamed {adj} official",
    "a {adj} security expert",
    "a spokesperson for the {adj} government",
    "{adj} analysts",
]

# (base topic name, subjects that belong to it)
TOPICS = [
    ("Border control", ["border control", "border security", "cross-border movement of fighters"]),
    ("Terror financing", ["terror financing", "money laundering", "hawala networks"]),
    ("Extradition", ["extradition", "mutual legal assistance", "the surrender of suspects"]),
    ("Online propaganda", ["online propaganda", "extremist content online", "encrypted messaging"]),
    ("Cybersecurity", ["cybersecurity", "attacks on critical infrastructure", "cybercrime"]),
    ("Counter-extremism", ["counter-extremism", "deradicalisation", "religious extremism"]),
    ("Intelligence sharing", ["intelligence sharing", "a shared watch list", "joint threat assessments"]),
    ("Law-enforcement cooperation", ["police cooperation", "joint investigations", "law-enforcement training"]),
    ("Military cooperation", ["joint military exercises", "defence cooperation", "peacekeeping"]),
    ("Legal instruments", ["a common definition of terrorism", "harmonised criminal law", "treaty obligations"]),
    ("Drug trafficking", ["drug trafficking", "narcotics smuggling", "precursor chemicals"]),
    ("Foreign fighters", ["foreign fighters", "returning fighters", "travel bans"]),
    ("Human rights", ["human rights safeguards", "due process", "the protection of minorities"]),
    ("Humanitarian assistance", ["humanitarian assistance", "refugee protection", "reconstruction aid"]),
    ("Transport security", ["aviation security", "rail security", "passenger data"]),
    ("Weapons control", ["small arms trafficking", "explosives control", "chemical weapons"]),
    ("Recruitment", ["recruitment", "prison radicalisation", "youth outreach"]),
    ("Critical infrastructure", ["pipeline protection", "energy security", "port security"]),
    ("Capacity building", ["capacity building", "forensic laboratories", "training academies"]),
    ("Strategic coordination", ["strategic coordination", "a regional security architecture", "summit diplomacy"]),
    ("Terrorist designation", ["terrorist designation", "a common list of terrorist groups", "asset freezes"]),
    ("Maritime security", ["maritime security", "piracy", "coastal patrols"]),
    ("Biosecurity", ["biosecurity", "pandemic preparedness", "laboratory safety"]),
    ("Victims of terrorism", ["support for victims", "compensation schemes", "victim testimony"]),
    ("Economic development", ["economic development", "youth employment", "regional trade corridors"]),
    ("Education", ["education", "school curricula", "university exchanges"]),
    ("Media cooperation", ["media cooperation", "public diplomacy", "disinformation"]),
    ("Sanctions", ["sanctions", "export controls", "travel restrictions"]),
    ("Migration", ["migration", "visa regimes", "labour migration"]),
    ("Prisons", ["prison management", "rehabilitation programmes", "reintegration"]),
]

INSTRUMENTS = [
    "a joint anti-terrorism centre",
    "a regional treaty",
    "a standing working group",
    "a joint database",
    "a rapid-response mechanism",
    "a common convention",
    "an expert council",
    "a hotline between security services",
    "a joint task force",
    "a multilateral fund",
    "an early-warning system",
    "a code of conduct",
    "a memorandum of understanding",
    "annual joint exercises",
    "a training programme",
    "a monitoring mission",
    "a coordination committee",
    "an information-exchange protocol",
    "a regional action plan",
    "a cooperative mechanism",
]

PROPOSE_VERBS = [
    ("called for", ProponentRole.CALLED_FOR),
    ("proposed", ProponentRole.PROPOSED),
    ("urged the creation of", ProponentRole.CALLED_FOR),
    ("put forward", ProponentRole.PROPOSED),
    ("suggested", ProponentRole.PROPOSED),
    ("recommended", ProponentRole.PROPOSED),
]

GOALS = [
    "close the gaps that militants exploit",
    "respond faster to attacks",
    "stop the flow of money to armed groups",
    "build trust between the security services",
    "bring national laws into line",
    "share evidence across borders",
    "prevent attacks before they happen",
    "reduce duplication between existing bodies",
    "protect civilians",
    "give smaller member states a voice",
]

FILLER = [
    "The meeting took place against a backdrop of rising concern about militant groups in the region.",
    "Officials said the talks had been frank and constructive.",
    "Critics argued that earlier commitments had not been carried out.",
    "The declaration did not set a timetable.",
    "Several delegations asked for more detail on funding.",
    "Analysts noted that similar ideas had been raised before without result.",
    "Trade and energy dominated much of the agenda.",
    "The statement was published on the ministry's website the following day.",
    "Diplomats described the atmosphere as cautious but businesslike.",
    "Security in the host city was tight throughout the summit.",
    "No vote was taken.",
    "Observers pointed to the lack of a permanent secretariat.",
    "The final communiqué ran to twelve pages.",
    "Human rights groups urged the governments to respect due process.",
    "Funding remains the main obstacle, according to people familiar with the talks.",
]

OUTLETS = [
    "South China Morning Post",
    "Xinhua",
    "TASS",
    "The Diplomat",
    "Eurasianet",
    "Journal of Eurasian Studies",
    "Asia Times",
    "Dawn",
    "The Hindu",
    "Reuters",
    "Carnegie Endowment",
    "RUSI Newsbrief",
    "Central Asia Policy Review",
]

SOURCE_KINDS = ["report", "article", "speech", "communiqué", "op-ed", "briefing", "interview", "declaration"]

# Plausible next statuses; any status can still follow any other rarely.
NEXT_STATUS = {
    Status.PROPOSED: [Status.UNDER_DISCUSSION] * 5 + [Status.STALLED, Status.REJECTED, Status.WITHDRAWN],
    Status.UNDER_DISCUSSION: [Status.AGREED_IN_PRINCIPLE] * 3
    + [Status.STALLED, Status.REJECTED, Status.ADOPTED, Status.SUPERSEDED],
    Status.AGREED_IN_PRINCIPLE: [Status.ADOPTED] * 3 + [Status.STALLED, Status.UNDER_DISCUSSION],
    Status.ADOPTED: [Status.IN_FORCE] * 4 + [Status.SUPERSEDED, Status.STALLED],
    Status.IN_FORCE: [Status.SUPERSEDED, Status.STALLED, Status.IN_FORCE],
    Status.STALLED: [Status.UNDER_DISCUSSION, Status.WITHDRAWN, Status.REJECTED, Status.STALLED],
    Status.REJECTED: [Status.PROPOSED, Status.UNDER_DISCUSSION, Status.REJECTED],
    Status.WITHDRAWN: [Status.PROPOSED, Status.WITHDRAWN],
    Status.SUPERSEDED: [Status.SUPERSEDED, Status.STALLED],
}

FIRST_STATUS = [Status.PROPOSED] * 8 + [Status.UNDER_DISCUSSION, Status.ADOPTED, Status.IN_FORCE]

EVENT_NOTES = ["", "", "", "Reported in the press.", "Mentioned in the final declaration.", "Date inferred."]


def _slugify(text: str) -> str:
    out = []
    for ch in text.lower():
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


# --------------------------------------------------------------------------
# Specs: plain data, generated by a pure function of the seed
# --------------------------------------------------------------------------


@dataclass(slots=True)
class SourceSpec:
    seq: int
    row: dict
    # (start, end, core index, topic index) of every quotable sentence; generator memory only.
    sentences: list
    cores: deque = field(default_factory=deque)


@dataclass(slots=True)
class ProposalSpec:
    ordinal: int
    row: dict
    new_sources: list  # SourceSpec rows to insert before this proposal
    topics: list  # topic indexes
    parties: list  # actor indexes
    evidence: list  # (source seq, row dict)
    proponents: list  # (actor index, row dict, evidence local index or None)
    events: list  # (row dict, evidence local index or None)
    relations: list  # (target ordinal, row dict)


@dataclass
class Reference:
    topics: list  # row dicts
    actors: list  # row dicts; "affiliation" holds an actor index or None
    venues: list  # row dicts; "organisation" holds an actor index or None
    actor_names: list
    state_actors: list  # indexes
    igo_actors: list  # indexes
    venue_names: list


class Generator:
    """Produces the records for ``n`` proposals from ``seed``; no database
    access, so the same seed always gives the same specs."""

    SOURCE_WINDOW = 40  # recent sources kept for cross-quoting
    POPULAR_SOURCES = 12  # early sources every later proposal may quote

    def __init__(self, seed: int, n: int):
        if seed < 0:
            raise ValueError("The seed must be a non-negative integer (it is part of the slugs).")
        self.seed = seed
        self.n = n
        self.prefix = slug_prefix(seed)
        self.rng = random.Random(seed)
        self.source_seq = 0
        self.window: deque[SourceSpec] = deque(maxlen=self.SOURCE_WINDOW)
        self.popular: list[SourceSpec] = []
        self.current: SourceSpec | None = None
        self.ref = self._reference()

    # -- reference data ----------------------------------------------------

    def _reference(self) -> Reference:
        rng, p, n = self.rng, self.prefix, self.n
        topics = [
            {"slug": f"{p}topic-{_slugify(name)}", "name": f"{name} [syn-{self.seed}]", "description": ", ".join(subj)}
            for name, subj in TOPICS
        ]
        actors: list[dict] = []
        states, igos, orgs = [], [], []
        for name, code, _adj in COUNTRIES:
            states.append(len(actors))
            actors.append(self._actor(name, ActorKind.STATE, country_code=code, description=f"The state of {name}."))
        for name in IGOS:
            igos.append(len(actors))
            actors.append(self._actor(name, ActorKind.INTERGOVERNMENTAL, description="Intergovernmental body."))
        n_orgs = 20 + n // 200
        for _ in range(n_orgs):
            country, code, adj = rng.choice(COUNTRIES)
            name = rng.choice(ORG_PATTERNS).format(x=rng.choice(ORG_SUBJECTS), place=rng.choice(PLACES), adj=adj)
            orgs.append(len(actors))
            actors.append(
                self._actor(name, ActorKind.ORGANISATION, country_code=code, description=f"Based in {country}.")
            )
        n_people = 40 + n // 25
        for _ in range(n_people):
            country, code, adj = rng.choice(COUNTRIES)
            if rng.random() < 0.06:
                actors.append(
                    self._actor(
                        rng.choice(UNNAMED).format(adj=adj),
                        ActorKind.PERSON,
                        named=False,
                        description="Not named in the text.",
                    )
                )
                continue
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            affiliation = rng.choice(orgs) if rng.random() < 0.6 else None
            actors.append(
                self._actor(
                    name,
                    ActorKind.PERSON,
                    country_code=code if rng.random() < 0.8 else "",
                    description=f"{rng.choice(TITLES)}, {country}.",
                    affiliation=affiliation,
                )
            )
        for k, actor in enumerate(actors, start=1):
            actor["slug"] = f"{p}actor-{k}"
        venues = []
        venue_names = []
        kinds = [k for k, _ in VenueKind.choices]
        for i in range(20 + n // 250):
            kind = rng.choice(kinds)
            org = rng.choice(igos) if rng.random() < 0.7 else None
            place = rng.choice(PLACES)
            year = rng.randint(DATE_MIN.year, DATE_MAX.year)
            owner = actors[org]["name"] if org is not None else rng.choice(COUNTRIES)[0]
            name = {
                VenueKind.SUMMIT: f"{owner} summit, {place} {year}",
                VenueKind.MEETING: f"{owner} ministerial meeting, {place} {year}",
                VenueKind.STANDING_BODY: f"{owner} council of experts",
                VenueKind.BILATERAL_CHANNEL: f"{rng.choice(COUNTRIES)[0]}–{rng.choice(COUNTRIES)[0]} security dialogue",
                VenueKind.FRAMEWORK: f"{owner} cooperation framework",
                VenueKind.PUBLICATION: f"{rng.choice(OUTLETS)} op-ed series",
            }[kind]
            starts = ends = None
            if kind in (VenueKind.SUMMIT, VenueKind.MEETING):
                starts = self._date_in_year(year)
                ends = min(starts + dt.timedelta(days=rng.randint(0, 3)), DATE_MAX)
            venues.append(
                {
                    "slug": f"{p}venue-{i}",
                    "name": name,
                    "kind": kind,
                    "organisation": org,
                    "place": place if kind != VenueKind.PUBLICATION else "",
                    "starts_on": starts,
                    "ends_on": ends,
                    "note": "",
                    "updated_at": NOW,
                }
            )
            venue_names.append(name)
        return Reference(
            topics=topics,
            actors=actors,
            venues=venues,
            actor_names=[a["name"] for a in actors],
            state_actors=states,
            igo_actors=igos,
            venue_names=venue_names,
        )

    def _actor(self, name, kind, *, named=True, country_code="", description="", affiliation=None) -> dict:
        return {
            "name": name,
            "named": named,
            "kind": kind,
            "description": description,
            "affiliation": affiliation,
            "country_code": country_code,
            "updated_at": NOW,
        }

    # -- helpers -----------------------------------------------------------

    def _skewed(self, size: int, power: float = 2.0) -> int:
        """An index in range(size), small ones far more likely (a few prolific actors, busy venues)."""
        return min(size - 1, int(size * self.rng.random() ** power))

    def _date_in_year(self, year: int) -> dt.date:
        start = max(dt.date(year, 1, 1), DATE_MIN)
        end = min(dt.date(year, 12, 31), DATE_MAX)
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def _random_date(self) -> dt.date:
        return DATE_MIN + dt.timedelta(days=self.rng.randint(0, (DATE_MAX - DATE_MIN).days))

    def _precise(self, day: dt.date) -> tuple[dt.date, str]:
        r = self.rng.random()
        if r < 0.8:
            return day, DatePrecision.DAY
        if r < 0.95:
            return day.replace(day=1), DatePrecision.MONTH
        return day.replace(month=1, day=1), DatePrecision.YEAR

    def _moment(self, day: dt.date, max_days: int = 30) -> dt.datetime:
        base = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = base + dt.timedelta(seconds=self.rng.randint(0, max_days * 86400))
        return min(moment, NOW)

    # -- sources -----------------------------------------------------------

    def _core(self) -> dict:
        """What a proposal is about: who proposed what, on which subject, where."""
        rng = self.rng
        topic_index = self._skewed(len(TOPICS), 1.5)
        verb, role = rng.choice(PROPOSE_VERBS)
        return {
            "actor": self._skewed(len(self.ref.actors), 2.5),
            "verb": verb,
            "role": role,
            "instrument": rng.choice(INSTRUMENTS),
            "subject": rng.choice(TOPICS[topic_index][1]),
            "topic": topic_index,
            "place": rng.choice(PLACES),
            "goal": rng.choice(GOALS),
        }

    def _core_sentences(self, core: dict) -> list[str]:
        rng = self.rng
        actor = self.ref.actor_names[core["actor"]]
        actor = actor[0].upper() + actor[1:]
        instrument, subject, place, goal = core["instrument"], core["subject"], core["place"], core["goal"]
        templates = [
            f"{actor} {core['verb']} {instrument} on {subject}, saying it would {goal}.",
            f"In {place}, {actor} {core['verb']} {instrument} to deal with {subject}.",
            f"According to {actor}, {instrument} on {subject} is needed to {goal}.",
            f"The idea of {instrument} on {subject} was raised again at talks in {place}.",
            f"{actor} said that {instrument} could help members {goal}.",
            f"Delegates discussed {instrument} on {subject}, first put forward by {actor}.",
        ]
        first = templates[0] if rng.random() < 0.5 else templates[1]
        rest = rng.sample(templates[2:], rng.randint(0, 2))
        return [first, *rest]

    def _new_source(self) -> SourceSpec:
        rng = self.rng
        self.source_seq += 1
        seq = self.source_seq
        n_cores = rng.randint(4, 36)
        cores = [self._core() for _ in range(n_cores)]
        published = self._random_date()
        place = rng.choice(PLACES)
        kind = rng.choice(SOURCE_KINDS)
        title = f"{kind.capitalize()}: {cores[0]['subject']} and regional security after {place}"
        # Build the text sentence by sentence, remembering where each quotable one sits.
        parts: list[str] = []
        pos = 0
        sentences: list[tuple[int, int, int]] = []
        head = f"{title}\n\n"
        parts.append(head)
        pos += len(head)
        pending = []
        for ci, core in enumerate(cores):
            for sentence in self._core_sentences(core):
                pending.append((sentence, ci))
            for _ in range(rng.randint(0, 2)):
                pending.append((rng.choice(FILLER), -1))
        paragraph_len = 0
        for sentence, ci in pending:
            if paragraph_len and rng.random() < 0.25:
                parts.append("\n\n")
                pos += 2
                paragraph_len = 0
            elif paragraph_len:
                parts.append(" ")
                pos += 1
            parts.append(sentence)
            if ci >= 0:
                sentences.append((pos, pos + len(sentence), ci, cores[ci]["topic"]))
            pos += len(sentence)
            paragraph_len += 1
        parts.append("\n")
        text = "".join(parts)
        authors = ", ".join(
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.choice([0, 1, 1, 1, 2]))
        )
        day, precision = self._precise(published)
        outlet = rng.choice(OUTLETS)
        created = self._moment(published, 400)
        row = {
            "slug": f"{self.prefix}source-{seq}",
            "title": title,
            "authors": authors,
            "outlet": outlet,
            "published_on": day,
            "published_precision": precision,
            "published_note": "" if precision == DatePrecision.DAY else "Only the month or year is given.",
            "url": f"https://example.org/{_slugify(outlet)}/{self.seed}/{seq}",
            "language": "en",
            "text": text,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "created_at": created,
            "updated_at": created,
        }
        spec = SourceSpec(seq=seq, row=row, sentences=sentences)
        spec.cores = deque((ci, core) for ci, core in enumerate(cores))
        if len(self.popular) < self.POPULAR_SOURCES:
            self.popular.append(spec)
        self.window.append(spec)
        return spec

    # -- proposals ---------------------------------------------------------

    def proposals(self):
        """Yield one ``ProposalSpec`` per proposal, in order."""
        for ordinal in range(1, self.n + 1):
            yield self._proposal(ordinal)

    def _proposal(self, ordinal: int) -> ProposalSpec:
        rng, ref = self.rng, self.ref
        new_sources = []
        if self.current is None or not self.current.cores:
            self.current = self._new_source()
            new_sources.append(self.current)
        home = self.current
        core_index, core = home.cores.popleft()

        # Evidence: 1-3 sentences about this core in its home source, sometimes one from elsewhere.
        own = [s for s in home.sentences if s[2] == core_index]
        picks = [(home, s) for s in rng.sample(own, rng.randint(1, len(own)))]
        if len(picks) < 4 and rng.random() < 0.35:
            # A second source on the same topic (a report, a follow-up), when it has such a sentence.
            other = rng.choice(self.popular if rng.random() < 0.3 else self.window)
            related = [s for s in other.sentences if s[3] == core["topic"] and s[2] != core_index]
            if related:
                start, end, _, _ = rng.choice(related)
                if not any(src is other and s[0] == start for src, s in picks):
                    picks.append((other, (start, end, -1, -1)))
        evidence = []
        for source, (start, end, _, _) in picks:
            # Sometimes quote just the first clause: still a verbatim substring at exact offsets.
            text = source.row["text"]
            quote_end = end
            comma = text.find(", ", start, end)
            if comma > start + 20 and rng.random() < 0.3:
                quote_end = comma
            evidence.append(
                (
                    source.seq,
                    {
                        "quote": text[start:quote_end],
                        "start": start,
                        "end": quote_end,
                        "note": "" if rng.random() < 0.8 else "Quoted in the summary.",
                    },
                )
            )

        # Dates.
        if rng.random() < 0.03:
            proposed_on, precision = None, DatePrecision.DAY
            base = self._random_date()
        else:
            base = self._random_date()
            proposed_on, precision = self._precise(base)
        note = "" if precision == DatePrecision.DAY else "Inferred from the publication date."

        # Status timeline: strictly later dates, recorded in order.
        events = []
        status = rng.choice(FIRST_STATUS)
        day = base
        recorded = self._moment(day)
        for i in range(rng.choices([1, 2, 3, 4, 5], weights=[30, 30, 20, 12, 8])[0]):
            if i:
                status = rng.choice(NEXT_STATUS[status])
                day = min(day + dt.timedelta(days=rng.randint(20, 700)), DATE_MAX)
            occurred, ev_precision = self._precise(day)
            recorded = max(self._moment(day), recorded + dt.timedelta(seconds=1))
            events.append(
                (
                    {
                        "status": status,
                        "occurred_on": occurred,
                        "precision": ev_precision,
                        "note": rng.choice(EVENT_NOTES),
                        "recorded_at": recorded,
                    },
                    rng.randrange(len(evidence)) if rng.random() < 0.5 else None,
                )
            )
        # The current status is the latest event's by (occurred_on, recorded_at, insertion order).
        latest = max(range(len(events)), key=lambda k: (events[k][0]["occurred_on"], events[k][0]["recorded_at"], k))
        current_status = events[latest][0]["status"]
        created = self._moment(base, 200)
        updated = min(max(created, recorded) + dt.timedelta(seconds=rng.randint(0, 90 * 86400)), NOW)

        # Proponents: the core's actor is primary; 0-2 others with other roles.
        proponents = [(core["actor"], {"role": core["role"], "is_primary": True, "note": ""}, 0)]
        seen = {core["actor"]}
        for _ in range(rng.choices([0, 1, 2], weights=[50, 35, 15])[0]):
            actor = self._skewed(len(ref.actors), 2.0)
            if actor in seen:
                continue
            seen.add(actor)
            role = rng.choice(
                [ProponentRole.ENDORSED, ProponentRole.ENDORSED, ProponentRole.OPPOSED, ProponentRole.REPORTED]
            )
            proponents.append(
                (
                    actor,
                    {"role": role, "is_primary": False, "note": ""},
                    rng.randrange(len(evidence)) if rng.random() < 0.5 else None,
                )
            )

        topics = [core["topic"]]
        for _ in range(rng.choices([0, 1, 2], weights=[45, 40, 15])[0]):
            t = self._skewed(len(TOPICS), 1.5)
            if t not in topics:
                topics.append(t)
        parties = sorted({rng.choice(ref.state_actors) for _ in range(rng.choice([0, 0, 1, 2, 3]))})

        relations = []
        if ordinal > 1 and rng.random() < 0.1:
            target = max(1, ordinal - rng.randint(1, 5000))
            relation_type = rng.choice([t for t, _ in RelationType.choices])
            relations.append((target, {"relation_type": relation_type, "note": ""}))

        instrument = core["instrument"]
        for article in ("a ", "an "):
            if instrument.startswith(article):
                instrument = instrument[len(article) :]
        title = f"{instrument[0].upper()}{instrument[1:]} on {core['subject']}"
        if rng.random() < 0.4:
            title += f" ({core['place']})"
        venue = self._skewed(len(ref.venues), 1.8) if rng.random() < 0.85 else None
        actor_name = ref.actor_names[core["actor"]]
        summary = (
            f"{actor_name[0].upper()}{actor_name[1:]} {core['verb']} {core['instrument']} on {core['subject']}"
            + (f" at the {ref.venue_names[venue]}" if venue is not None else "")
            + f", to {core['goal']}. "
            + rng.choice(
                [
                    "The record follows the proposal through later meetings.",
                    "Later sources report on its progress.",
                    "One record: a single instrument with one set of proponents.",
                    "",
                ]
            )
        ).strip()
        row = {
            "slug": f"{self.prefix}{ordinal}",
            "title": title,
            "summary": summary,
            "status": current_status,
            "venue": venue,
            "proposed_on": proposed_on,
            "proposed_precision": precision,
            "proposed_note": note,
            "created_at": created,
            "updated_at": updated,
        }
        return ProposalSpec(
            ordinal=ordinal,
            row=row,
            new_sources=new_sources,
            topics=topics,
            parties=parties,
            evidence=evidence,
            proponents=proponents,
            events=events,
            relations=relations,
        )


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def _columns(model, names):
    return [model._meta.get_field(name) for name in names]


def _complete(model, names, rows):
    """Add every concrete field the rows leave out that has a default (a
    ``version`` counter, a flag added later...), so a new model field with a
    default does not break the generator. Nullable fields without a default
    (``search_vector``) are left to the database."""
    given = set(names)
    extra_fields = [
        f
        for f in model._meta.concrete_fields
        if f.name not in given
        and not f.primary_key
        and (f.has_default() or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
    ]
    if not extra_fields:
        return names, rows
    extra = tuple(NOW if not f.has_default() else f.get_default() for f in extra_fields)
    return [*names, *(f.name for f in extra_fields)], [row + extra for row in rows]


class _Writer:
    """Inserts plain rows with explicit ids where given."""

    def __init__(self, connection):
        self.connection = connection

    def allocate(self, model, count: int) -> list[int]:
        raise NotImplementedError

    def insert(self, model, names: list[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    def finish(self, models) -> None:
        pass


class _PostgresWriter(_Writer):
    evidence_first = True

    def allocate(self, model, count):
        if not count:
            return []
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]

    def insert(self, model, names, rows):
        if not rows:
            return
        names, rows = _complete(model, names, rows)
        fields = _columns(model, names)
        columns = ", ".join(self.connection.ops.quote_name(f.column) for f in fields)
        sql = f"COPY {self.connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        self.connection.ensure_connection()
        with self.connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)

    def finish(self, models):
        tables = ", ".join(self.connection.ops.quote_name(m._meta.db_table) for m in models)
        with self.connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")


class _GenericWriter(_Writer):
    evidence_first = False

    def allocate(self, model, count):
        if not count:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {self.connection.ops.quote_name(model._meta.db_table)}")
            first = (cursor.fetchone()[0] or 0) + 1
        # Leave the reserved ids taken: the next allocate() sees them once inserted, and
        # every batch inserts what it allocated before allocating again.
        return list(range(first, first + count))

    def insert(self, model, names, rows):
        if not rows:
            return
        names, rows = _complete(model, names, rows)
        fields = _columns(model, names)
        quote = self.connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        conn = self.connection
        prepared = [
            tuple(f.get_db_prep_save(value, conn) for f, value in zip(fields, row, strict=True)) for row in rows
        ]
        with conn.cursor() as cursor:
            cursor.executemany(sql, prepared)


def _writer(connection) -> _Writer:
    return _PostgresWriter(connection) if connection.vendor == "postgresql" else _GenericWriter(connection)


# --------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------


class SyntheticDataExists(Exception):
    """The seed's records are already in the database."""


@dataclass
class Summary:
    seed: int
    proposals: int = 0
    sources: int = 0
    actors: int = 0
    venues: int = 0
    topics: int = 0
    evidence: int = 0
    proponents: int = 0
    events: int = 0
    topic_links: int = 0
    party_links: int = 0
    relations: int = 0
    seconds: float = 0.0
    vendor: str = ""

    def rows(self) -> int:
        return (
            self.proposals
            + self.sources
            + self.actors
            + self.venues
            + self.topics
            + self.evidence
            + self.proponents
            + self.events
            + self.topic_links
            + self.party_links
            + self.relations
        )

    def __str__(self) -> str:
        rate = self.proposals / self.seconds if self.seconds else 0.0
        return (
            f"Synthetic data, seed {self.seed} ({self.vendor}): {self.proposals} proposals, {self.sources} sources, "
            f"{self.actors} actors, {self.venues} venues, {self.topics} topics, {self.evidence} evidence quotes, "
            f"{self.proponents} proponents, {self.events} status events, {self.topic_links} topic links, "
            f"{self.party_links} party links, {self.relations} relations "
            f"({self.rows()} rows) in {self.seconds:.1f} s ({rate:,.0f} proposals/s)."
        )


PROPOSAL_COLUMNS = [
    "id",
    "slug",
    "title",
    "summary",
    "status",
    "venue",
    "proposed_on",
    "proposed_precision",
    "proposed_note",
    "created_at",
    "updated_at",
]
SOURCE_COLUMNS = [
    "id",
    "slug",
    "title",
    "authors",
    "outlet",
    "published_on",
    "published_precision",
    "published_note",
    "url",
    "language",
    "text",
    "sha256",
    "created_at",
    "updated_at",
]
EVIDENCE_COLUMNS = ["id", "proposal", "source", "quote", "start", "end", "note", "created_at"]
PROPONENT_COLUMNS = ["proposal", "actor", "role", "is_primary", "evidence", "note"]
EVENT_COLUMNS = [
    "proposal",
    "status",
    "occurred_on",
    "precision",
    "note",
    "evidence",
    "recorded_by_role",
    "recorded_at",
]
RELATION_COLUMNS = ["from_proposal", "to_proposal", "relation_type", "note"]
ACTOR_COLUMNS = [
    "id",
    "slug",
    "name",
    "named",
    "kind",
    "description",
    "affiliation",
    "country_code",
    "updated_at",
]
VENUE_COLUMNS = [
    "id",
    "slug",
    "name",
    "kind",
    "organisation",
    "place",
    "starts_on",
    "ends_on",
    "note",
    "updated_at",
]
TOPIC_COLUMNS = ["id", "slug", "name", "description", "updated_at"]


def generate(
    *,
    proposals: int,
    seed: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    stream=None,
    connection=None,
) -> Summary:
    """Create ``proposals`` synthetic proposals with their sources, actors,
    venues and topics; return what was made and how long it took."""
    if proposals < 1:
        raise ValueError("proposals must be at least 1")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    connection = connection or default_connection
    prefix = slug_prefix(seed)
    existing = Proposal.objects.using(connection.alias).filter(slug__startswith=prefix).count()
    taken = Topic.objects.using(connection.alias).filter(slug__startswith=prefix).exists()
    if existing or taken:
        raise SyntheticDataExists(
            f"Seed {seed} is already loaded ({existing} proposals with slugs {prefix}*); use another seed."
        )

    started = time.perf_counter()
    generator = Generator(seed, proposals)
    writer = _writer(connection)
    summary = Summary(seed=seed, vendor=connection.vendor)
    ref = generator.ref

    with transaction.atomic(using=connection.alias):
        topic_ids = writer.allocate(Topic, len(ref.topics))
        actor_ids = writer.allocate(Actor, len(ref.actors))
        venue_ids = writer.allocate(Venue, len(ref.venues))
        writer.insert(
            Topic,
            TOPIC_COLUMNS,
            [(i, t["slug"], t["name"], t["description"], NOW) for i, t in zip(topic_ids, ref.topics, strict=True)],
        )
        writer.insert(
            Actor,
            ACTOR_COLUMNS,
            [
                (
                    actor_ids[k],
                    a["slug"],
                    a["name"],
                    a["named"],
                    a["kind"],
                    a["description"],
                    actor_ids[a["affiliation"]] if a["affiliation"] is not None else None,
                    a["country_code"],
                    a["updated_at"],
                )
                for k, a in enumerate(ref.actors)
            ],
        )
        writer.insert(
            Venue,
            VENUE_COLUMNS,
            [
                (
                    venue_ids[k],
                    v["slug"],
                    v["name"],
                    v["kind"],
                    actor_ids[v["organisation"]] if v["organisation"] is not None else None,
                    v["place"],
                    v["starts_on"],
                    v["ends_on"],
                    v["note"],
                    v["updated_at"],
                )
                for k, v in enumerate(ref.venues)
            ],
        )
    summary.topics, summary.actors, summary.venues = len(topic_ids), len(actor_ids), len(venue_ids)

    source_ids: dict[int, int] = {}
    proposal_ids = array("q", [0]) * (proposals + 1)
    bar = _progress(proposals, progress, stream)
    try:
        for batch in _batches_in_background(generator, batch_size):
            _write_batch(writer, connection, batch, summary, source_ids, proposal_ids, topic_ids, actor_ids, venue_ids)
            bar.update(len(batch))
    finally:
        bar.close()
    writer.finish(
        [
            Topic,
            Actor,
            Venue,
            Source,
            Proposal,
            Evidence,
            Proponent,
            StatusEvent,
            ProposalRelation,
            Proposal.topics.through,
            Proposal.parties.through,
        ]
    )
    summary.seconds = time.perf_counter() - started
    return summary


def _batches_in_background(generator: Generator, batch_size: int):
    """Yield lists of ``batch_size`` specs, generated in a second thread so
    that building the next batch overlaps the database writing this one
    (the driver releases the GIL while PostgreSQL works). At most two
    batches wait in the queue, so memory stays bounded. The specs come from
    one thread in order, so the output does not depend on the timing."""
    queue: Queue = Queue(maxsize=2)
    stop = threading.Event()

    def produce():
        batch = []
        try:
            for spec in generator.proposals():
                if stop.is_set():
                    return
                batch.append(spec)
                if len(batch) >= batch_size:
                    queue.put(batch)
                    batch = []
            if batch:
                queue.put(batch)
            queue.put(None)
        except BaseException as exc:  # re-raised in the consuming thread
            queue.put(exc)

    thread = threading.Thread(target=produce, name="synthetic-generator", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass
        thread.join()


def _progress(total, enabled, stream):
    stream = stream or sys.stderr
    if not enabled:
        return _NoBar()
    if not getattr(stream, "isatty", lambda: False)():
        return _LineProgress(total, stream)
    from tqdm import tqdm

    return tqdm(total=total, unit="proposal", unit_scale=True, file=stream, mininterval=0.5)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


class _LineProgress(_NoBar):
    """For logs and pipes: one plain line per tenth instead of a redrawn bar."""

    def __init__(self, total, stream):
        self.total, self.stream, self.done, self.shown = total, stream, 0, 0
        self.started = time.perf_counter()

    def update(self, n):
        self.done += n
        tenth = self.done * 10 // self.total
        if tenth > self.shown:
            self.shown = tenth
            elapsed = time.perf_counter() - self.started
            print(f"  {self.done:,}/{self.total:,} proposals ({tenth * 10}%) {elapsed:.1f} s", file=self.stream)
            self.stream.flush()


def _write_batch(writer, connection, batch, summary, source_ids, proposal_ids, topic_ids, actor_ids, venue_ids):
    new_sources = [s for spec in batch for s in spec.new_sources]
    n_evidence = sum(len(spec.evidence) for spec in batch)
    with transaction.atomic(using=connection.alias):
        for source, sid in zip(new_sources, writer.allocate(Source, len(new_sources)), strict=True):
            source_ids[source.seq] = sid
        pids = writer.allocate(Proposal, len(batch))
        eids = iter(writer.allocate(Evidence, n_evidence))

        source_rows = [(source_ids[s.seq], *(s.row[c] for c in SOURCE_COLUMNS[1:])) for s in new_sources]
        proposal_rows, evidence_rows, proponent_rows, event_rows = [], [], [], []
        topic_rows, party_rows, relation_rows = [], [], []
        for spec, pid in zip(batch, pids, strict=True):
            proposal_ids[spec.ordinal] = pid
            r = spec.row
            proposal_rows.append(
                (
                    pid,
                    r["slug"],
                    r["title"],
                    r["summary"],
                    r["status"],
                    venue_ids[r["venue"]] if r["venue"] is not None else None,
                    r["proposed_on"],
                    r["proposed_precision"],
                    r["proposed_note"],
                    r["created_at"],
                    r["updated_at"],
                )
            )
            local = []
            for source_seq, e in spec.evidence:
                eid = next(eids)
                local.append(eid)
                evidence_rows.append(
                    (eid, pid, source_ids[source_seq], e["quote"], e["start"], e["end"], e["note"], r["created_at"])
                )
            for actor, p, ev in spec.proponents:
                proponent_rows.append(
                    (
                        pid,
                        actor_ids[actor],
                        p["role"],
                        p["is_primary"],
                        local[ev] if ev is not None else None,
                        p["note"],
                    )
                )
            for e, ev in spec.events:
                event_rows.append(
                    (
                        pid,
                        e["status"],
                        e["occurred_on"],
                        e["precision"],
                        e["note"],
                        local[ev] if ev is not None else None,
                        "system",  # made by a program, not a person
                        e["recorded_at"],
                    )
                )
            topic_rows.extend((pid, topic_ids[t]) for t in spec.topics)
            party_rows.extend((pid, actor_ids[a]) for a in spec.parties)
            for target, rel in spec.relations:
                relation_rows.append((pid, proposal_ids[target], rel["relation_type"], rel["note"]))

        writer.insert(Source, SOURCE_COLUMNS, source_rows)
        if writer.evidence_first:
            # PostgreSQL: quotes first, so the proposal insert trigger indexes them (see the module docstring).
            writer.insert(Evidence, EVIDENCE_COLUMNS, evidence_rows)
            writer.insert(Proposal, PROPOSAL_COLUMNS, proposal_rows)
        else:
            writer.insert(Proposal, PROPOSAL_COLUMNS, proposal_rows)
            writer.insert(Evidence, EVIDENCE_COLUMNS, evidence_rows)
        writer.insert(Proposal.topics.through, ["proposal", "topic"], topic_rows)
        writer.insert(Proposal.parties.through, ["proposal", "actor"], party_rows)
        writer.insert(Proponent, PROPONENT_COLUMNS, proponent_rows)
        writer.insert(StatusEvent, EVENT_COLUMNS, event_rows)
        writer.insert(ProposalRelation, RELATION_COLUMNS, relation_rows)

    summary.proposals += len(proposal_rows)
    summary.sources += len(source_rows)
    summary.evidence += len(evidence_rows)
    summary.proponents += len(proponent_rows)
    summary.events += len(event_rows)
    summary.topic_links += len(topic_rows)
    summary.party_links += len(party_rows)
    summary.relations += len(relation_rows)
