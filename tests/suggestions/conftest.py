"""A small treaty world for the suggestion tests: the SCO anti-extremism
treaty called for in December 2015, China and Kazakhstan as states."""

import datetime as dt

import pytest

from proposals import services
from proposals.models import Actor, ActorKind, Source
from proposals.tracking import services as tracking

LATER_NEWS = (
    "Astana, 9 June 2017. The leaders of the Shanghai Cooperation Organisation signed the SCO Convention on "
    "Countering Extremism at their summit in Astana in June 2017.\n\n"
    "Kazakhstan ratified the convention on 12 March 2018, the foreign ministry said.\n\n"
    "Kazakh officials urged the other members to ratify it quickly."
)


@pytest.fixture
def treaty_world(db):
    china = services.record_save(instance=Actor(), slug="china", name="China", kind=ActorKind.STATE, country_code="CN")
    kazakhstan = services.record_save(
        instance=Actor(), slug="kazakhstan", name="Kazakhstan", kind=ActorKind.STATE, country_code="KZ"
    )
    li = services.record_save(instance=Actor(), slug="li-keqiang", name="Li Keqiang", kind=ActorKind.PERSON)
    treaty = services.proposal_create(
        slug="sco-anti-extremism-treaty",
        title="SCO anti-extremism treaty",
        proposed_on=dt.date(2015, 12, 15),
        proponents=[{"actor": li, "role": "called_for", "is_primary": True}],
    )
    tracking.alias_add(owner=li, name="李克强", language="zh")
    return {"china": china, "kazakhstan": kazakhstan, "li": li, "treaty": treaty}


@pytest.fixture
def later_news(treaty_world):
    return services.record_save(
        instance=Source(),
        slug="astana-2017",
        title="SCO leaders sign convention on extremism",
        published_on=dt.date(2018, 3, 14),
        text=LATER_NEWS,
    )
