"""The participants' counts (statistics/participants.py): the municipalities that sent
data are counted from the data, whatever the participants list says."""

from __future__ import annotations

import polars as pl

from kvinnofrid.statistics.participants import (
    match_participants,
    participant_facts,
    sent_municipalities,
    unlisted_municipalities,
    warn_unlisted,
)

LIST = pl.DataFrame(
    {
        "kommun": ["Arboga", "Stockholm"],
        "lan": ["Västmanlands län", "Stockholms län"],
        "enhet": ["IFO", "Enskede-Årsta-Vantör, Relationsvåldsteamet"],
    }
)


def test_two_units_of_one_municipality_count_once_and_an_unknown_text_counts_as_its_own():
    units = pl.DataFrame(
        {
            "unit": ["Stockholm", "Enskede-Årsta-Vantör", "Arboga", "Okänd 1", "Okänd 2"],
            "kommun": ["Stockholm", "Stockholm", "Arboga", None, None],
        }
    )
    assert sent_municipalities(units) == 4


def test_municipalities_missing_from_an_old_participants_list_are_counted_all_the_same():
    """The list of an earlier round names 2 municipalities; 3 sent data (one not on it)."""
    data = pl.DataFrame({"unit": ["Arboga", "Stockholm", "Kiruna"], "municipality": ["Arboga", "Stockholm", "Kiruna"]})
    facts = participant_facts(match_participants(LIST, data), data.select("unit", kommun=pl.col("municipality")))
    assert facts["n_participants"] == 2  # the list's own count, as the introduction says
    assert facts["n_sent_municipalities"] == 3
    assert [row["sent"] for row in facts["participants_by_lan"]] == [1, 1]


def test_municipalities_missing_from_the_list_are_named_in_a_warning(caplog):
    data = pl.DataFrame({"unit": ["Arboga", "Kiruna", "Åre"], "kommun": ["Arboga", "Kiruna", "Åre"]})
    assert unlisted_municipalities(LIST, data) == ["Kiruna", "Åre"]
    with caplog.at_level("WARNING"):
        warn_unlisted(LIST, data)
    assert "2 kommuner har lämnat uppgifter men finns inte i deltagarlistan" in caplog.text
    assert "Kiruna, Åre." in caplog.text
    caplog.clear()
    warn_unlisted(LIST, data.head(1))
    assert not caplog.text
