"""The participants of the project and which of them sent data.

``match_participants`` marks, in the participants list (``report/deltagare-2021-2023.csv``:
kommun, lan, enhet), the rows whose unit sent data; ``participant_facts`` counts them
for facts.json (kvinnofrid.statistics.facts), so that the report text quotes the counts
and the table per län without computing them. The facts stage writes the marked list
too (``results/participants.csv``) for the report's appendix.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import polars as pl

from kvinnofrid.spec.codebook import normalise

log = logging.getLogger(__name__)

PARTICIPANTS_SCHEMA = pl.Schema({"kommun": pl.String, "lan": pl.String, "enhet": pl.String, "sent_data": pl.Boolean})


def match_participants(participants: pl.DataFrame, units: pl.DataFrame | None) -> pl.DataFrame:
    """The participants list (kommun, lan, enhet) with ``sent_data`` (bool).

    ``units``: the units that sent data. With columns ``kommun`` and ``enhet`` (the
    simulator's units frame) a unit marks the participant row with the same kommun and
    enhet, else a not yet marked row of its kommun. With only ``municipality`` (the
    Kommun/stadsdel text the unit writes, as in compile.assign_units) or ``unit``, a
    unit whose text begins a row's enhet (a city district: "Enskede-Årsta-Vantör")
    marks that row, else a not yet marked row whose kommun equals the text. Kommun
    names are compared with codebook.normalise (case, å/ä/ö).
    """
    rows = participants.select("kommun", "lan", "enhet").to_dicts()
    sent = [False] * len(rows)
    if units is not None and units.height:
        # one entry per unit (units.csv of compile lists a unit once per round)
        if "unit" in units.columns:
            units = units.unique(subset=["unit"], keep="first", maintain_order=True)
        keys = [{k: (normalise(v) if isinstance(v, str) else v) for k, v in r.items()} for r in units.to_dicts()]
        has_enhet = "kommun" in units.columns and "enhet" in units.columns
        pending = []
        for u in keys:
            if has_enhet:
                hit = [
                    i
                    for i, r in enumerate(rows)
                    if normalise(r["kommun"]) == u["kommun"] and normalise(r["enhet"] or "") == (u.get("enhet") or "")
                ]
                if hit:
                    sent[hit[0]] = True
                    continue
                pending.append(u["kommun"])
                continue
            text = u.get("kommun") or u.get("municipality") or u.get("unit") or ""
            text = re.sub(r"\s*\(.*\)$", "", text)  # "Sigtuna (Utförare)" → "Sigtuna"
            hit = [
                i
                for i, r in enumerate(rows)
                if not sent[i]
                and text
                and normalise(r["enhet"] or "").startswith(text)
                and normalise(r["kommun"]) != text
            ]
            if hit:
                sent[hit[0]] = True
            else:
                pending.append(text)
        for text in pending:
            hit = [i for i, r in enumerate(rows) if normalise(r["kommun"]) == text]
            free = [i for i in hit if not sent[i]]
            if free:
                sent[free[0]] = True
    return pl.DataFrame(rows, schema={"kommun": pl.String, "lan": pl.String, "enhet": pl.String}).with_columns(
        pl.Series("sent_data", sent, dtype=pl.Boolean)
    )


def sent_municipalities(unit_kommuner: pl.DataFrame) -> int:
    """The municipalities with a unit in the data, from ``unit``, ``kommun``
    (``municipalities.unit_municipalities``). Counted from the data, not from the
    participants list: a list left from an earlier round would otherwise say "296
    verksamheter i 45 kommuner" of 290 municipalities' exports. A unit whose
    Kommun/stadsdel text names no known municipality counts as one of its own."""
    return unit_kommuner.select(pl.coalesce("kommun", "unit")).n_unique()


def unlisted_municipalities(participants: pl.DataFrame, unit_kommuner: pl.DataFrame) -> list[str]:
    """The municipalities of units in the data (``unit``, ``kommun``) that the
    participants list does not name, in name order."""
    listed = {normalise(k) for k in participants["kommun"].to_list()}
    found = unit_kommuner["kommun"].drop_nulls().unique().sort().to_list()
    return [k for k in found if normalise(k) not in listed]


def warn_unlisted(participants: pl.DataFrame, unit_kommuner: pl.DataFrame) -> None:
    """Say when units of municipalities missing from the participants list sent data:
    the introduction and appendix 1 count the participants from the list, so a list
    left from an earlier round contradicts the count of those who sent data."""
    missing = unlisted_municipalities(participants, unit_kommuner)
    if missing:
        named = ", ".join(missing[:5]) + (f" och {len(missing) - 5} till" if len(missing) > 5 else "")
        log.warning(
            "%d kommuner har lämnat uppgifter men finns inte i deltagarlistan (participants i "
            "config.yaml): %s. Rapportens inledning och Bilaga 1 räknar deltagarna ur listan; "
            "byt till omgångens lista.",
            len(missing),
            named,
        )


def participant_facts(matched: pl.DataFrame, unit_kommuner: pl.DataFrame) -> dict[str, Any]:
    """Counts of the marked participants list (``match_participants``):
    ``n_participants`` (kommuner), ``n_participant_units`` (rows = verksamheter),
    ``n_lan`` and ``participants_by_lan``: per län in name order ``lan``,
    ``participants`` and ``sent`` (units that sent data); and from the data
    (``unit_kommuner``: unit → kommun), ``n_sent_municipalities``
    (``sent_municipalities``). The number of units that sent data is the fact
    ``units_total`` (the units in the cases), not counted again here."""
    by_lan = (
        matched.group_by("lan")
        .agg(pl.len().alias("participants"), pl.col("sent_data").sum().cast(pl.Int64).alias("sent"))
        .sort("lan")
    )
    return {
        "n_participants": matched["kommun"].n_unique(),
        "n_participant_units": matched.height,
        "n_lan": matched["lan"].n_unique(),
        "n_sent_municipalities": sent_municipalities(unit_kommuner),
        "participants_by_lan": by_lan.to_dicts(),
    }


def read_participants(path) -> pl.DataFrame:
    """The marked list as the facts stage wrote it (``results/participants.csv``)."""
    return pl.read_csv(path, schema=PARTICIPANTS_SCHEMA)


def write_participants(matched: pl.DataFrame, path) -> None:
    matched.select(PARTICIPANTS_SCHEMA.names()).write_csv(path)
