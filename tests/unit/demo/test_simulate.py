"""The demo population generator: determinism, contracts, dates, rounds."""

from __future__ import annotations

import csv
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.paths import REFERENCE

from kvinnofrid.demo.simulate import (
    BEST_UNIT,
    RoundSnapshot,
    SimulationSettings,
    load_municipalities,
    simulate_rounds,
)
from kvinnofrid.spec import codebook

KEY = ["unit", "client", "opened"]
PARTICIPANTS = REFERENCE / "participants-2021-2023.csv"
SETTINGS = SimulationSettings()


@pytest.fixture(scope="module")
def rounds() -> list[RoundSnapshot]:
    return simulate_rounds(SETTINGS)


@pytest.fixture(scope="module")
def interim(rounds) -> RoundSnapshot:
    return rounds[0]


@pytest.fixture(scope="module")
def final(rounds) -> RoundSnapshot:
    return rounds[-1]


def test_same_seed_gives_identical_frames(rounds):
    again = simulate_rounds(SimulationSettings())
    assert [r.round for r in again] == [r.round for r in rounds]
    for first, second in zip(rounds, again):
        assert_frame_equal(first.units, second.units)
        assert_frame_equal(first.cases, second.cases)
        assert_frame_equal(first.risk, second.risk)


def test_another_seed_gives_other_cases(final):
    other = simulate_rounds(SimulationSettings(seed=7))[-1]
    assert other.cases.height == final.cases.height
    assert not other.cases.equals(final.cases)


def test_rounds_and_units(rounds, interim, final):
    assert [r.round for r in rounds] == [d for d, _ in SETTINGS.rounds]
    assert interim.units.height == 32 and final.units.height == 34
    assert set(interim.units["unit"]) < set(final.units["unit"])
    assert set(final.units.columns) == {"unit", "kommun", "lan", "enhet", "municipality", "service_type"}
    assert final.units["service_type"].dtype == pl.Int8
    assert final.units["unit"].is_unique().all()
    sigtuna = final.units.filter(pl.col("kommun") == "Sigtuna").sort("service_type")
    assert sigtuna["municipality"].to_list() == ["Sigtuna", "Sigtuna"]
    assert sigtuna["service_type"].to_list() == [1, 2]
    assert "sigtuna-myndighet" in sigtuna["unit"].to_list()
    stockholm = final.units.filter(pl.col("kommun") == "Stockholm")
    assert stockholm.height == 2
    assert "Enskede-Årsta-Vantör" in stockholm["municipality"].to_list()


def test_units_write_their_municipality_and_service_type(rounds):
    for r in rounds:
        per_unit = r.cases.select("unit", "municipality", "service_type").unique()
        assert per_unit.height == r.units.height
        assert_frame_equal(per_unit.sort("unit"), r.units.select(per_unit.columns).sort("unit"))


def test_unit_sizes_vary(final):
    sizes = final.cases.group_by("unit").len()
    assert sizes["len"].min() < 30 and sizes["len"].max() > 300
    assert sizes.filter(pl.col("unit") == BEST_UNIT)["len"].item() < 30


def test_case_schema(rounds):
    expected = {
        "unit": pl.String,
        "client": pl.String,
        "handler": pl.String,
        **dict(codebook.case_schema()),
        "survey_suggestions": pl.String,
    }
    risk_expected = {"unit": pl.String, "client": pl.String, "opened": pl.Date, **dict(codebook.risk_schema())}
    for r in rounds:
        assert dict(r.cases.schema) == expected
        assert list(r.cases.columns) == list(expected)
        assert dict(r.risk.schema) == risk_expected


def test_case_keys_unique_and_risk_keys_known(rounds):
    for r in rounds:
        assert r.cases.select(KEY).is_unique().all()
        assert r.risk.join(r.cases, on=KEY, how="anti").height == 0
        assert r.risk.select(*KEY, "position").is_unique().all()


def test_final_round_size_and_period(final):
    cases = final.cases
    assert cases.height == SETTINGS.n_cases == 3070
    assert cases["opened"].min() >= SETTINGS.period_start
    assert cases["opened"].max() <= SETTINGS.period_end
    assert (
        cases.null_count()[["unit", "client", "handler", "opened", "municipality", "service_type"]]
        .sum_horizontal()
        .item()
        == 0
    )


def test_codes_are_codebook_options(final):
    cb = codebook.load()
    for var in cb.national:
        if var.kind == "single":
            values = set(final.cases[var.name].drop_nulls())
            assert values <= set(var.codes), var.name
        elif var.kind == "multi":
            lists = final.cases[var.name].drop_nulls()
            assert (lists.list.len() > 0).all(), f"{var.name}: empty list instead of null"
            assert set(lists.explode()) <= set(var.codes), var.name
            assert (lists.list.sort() == lists).all(), f"{var.name}: codes not sorted"
            assert (lists.list.n_unique() == lists.list.len()).all(), var.name


def test_dates_consistent(rounds):
    for r in rounds:
        c = r.cases
        closed = c.filter(pl.col("closed").is_not_null())
        assert (closed["closed"] >= closed["opened"]).all()
        assert (c["closed"].drop_nulls() <= r.round).all()
        assert (c["opened"] <= r.round).all()
        started = c.filter(pl.col("support_started").is_not_null())
        assert (started["support_started"] >= started["opened"]).all()
        assert (started["support_started"] <= r.round).all()
        both = started.filter(pl.col("closed").is_not_null())
        assert (both["support_started"] <= both["closed"]).all()
        assert (c["age"].drop_nulls() >= 18).all()


def test_risk_assessments_consistent(rounds):
    low, high = codebook.load()["risk_assessments"].extra["rating_range"]
    for r in rounds:
        risk = r.risk.join(r.cases.select(*KEY, "closed"), on=KEY)
        assert (risk["date"] >= risk["opened"]).all()
        assert (risk["date"] <= r.round).all()
        assert risk.filter(pl.col("closed").is_not_null()).select((pl.col("date") <= pl.col("closed")).all()).item()
        assert risk["rating"].drop_nulls().is_between(low, high).all()
        assert set(risk["instrument"]) <= set(range(1, 7))
        positions = risk.group_by(KEY).agg(pl.col("position").sort(), pl.len())
        assert all(list(p) == list(range(1, n + 1)) for p, n in positions.select("position", "len").iter_rows())
        ordered = risk.sort(*KEY, "position")
        assert ordered.select((pl.col("date").diff().over(KEY).dt.total_days().fill_null(0) >= 0).all()).item()


def test_closing_phase_only_on_closed_cases_in_interim(interim):
    open_cases = interim.cases.filter(pl.col("closed").is_null())
    for column in (
        "closing_reason",
        "implementation",
        "goal_followup",
        "survey_change",
        "survey_importance",
        "survey_positive",
        "survey_influence",
        "survey_suggestions",
    ):
        assert open_cases[column].null_count() == open_cases.height, column


def test_interim_cases_are_in_the_final_round(interim, final):
    missing = interim.cases.join(final.cases, on=KEY, how="anti")
    assert missing.height == SETTINGS.n_deleted_cases
    assert 2 <= missing.height <= 3
    assert set(missing["unit"]) <= set(final.units["unit"])
    # same client in the same unit: the case keeps its opening date
    kept = interim.cases.join(final.cases.select(KEY), on=KEY, how="semi")
    assert kept.height == interim.cases.height - missing.height
    final_only = set(SETTINGS.final_only_units)
    assert not set(interim.cases["unit"]) & final_only
    registered = final.cases.filter((pl.col("opened") <= interim.round) & ~pl.col("unit").is_in(list(final_only)))
    assert registered.height == kept.height


def test_interim_round_size(interim):
    c = interim.cases
    assert 1950 <= c.height <= 2250
    closed = c.filter(pl.col("closed").is_not_null())
    assert 1430 <= closed.height <= 1630
    assert 500 <= closed["survey_change"].is_not_null().sum() + 0 <= 650


def test_survey_suggestions_are_invented_short_text(final):
    text = final.cases["survey_suggestions"].drop_nulls()
    assert text.len() > 50
    assert (text.str.len_chars() < 60).all()
    answered = final.cases.filter(pl.col("survey_suggestions").is_not_null())
    assert answered["survey_change"].null_count() + answered["survey_importance"].null_count() < answered.height * 2


def test_municipalities_table():
    munis = load_municipalities()
    assert munis.columns == ["kommun", "kommunkod", "lan", "invanare_ungefar"]
    assert munis["kommun"].is_unique().all() and munis["kommunkod"].is_unique().all()
    assert munis["kommunkod"].str.contains(r"^\d{4}$").all()
    with PARTICIPANTS.open(encoding="utf-8") as f:
        participants = {(row["kommun"], row["lan"]) for row in csv.DictReader(f)}
    # the register holds every municipality; each participant with its own län
    assert len(participants) == 45
    assert participants <= set(munis.select("kommun", "lan").iter_rows())


def test_open_cases_carry_a_few_warnings(final):
    open_cases = final.cases.filter(pl.col("closed").is_null())
    assert open_cases["survey_change"].is_not_null().sum() == SETTINGS.n_open_with_survey
    assert open_cases["goal_followup"].is_not_null().sum() == SETTINGS.n_open_with_goal


def test_interim_dates_are_dates(interim):
    assert isinstance(interim.round, dt.date)


def test_every_round_holds_only_cases_opened_within_the_period():
    """A generated case outside the period would be excluded by the pipeline, and the
    compiled round would no longer equal the generator's frame."""
    settings = SimulationSettings()
    for snapshot in simulate_rounds(settings):
        opened = snapshot.cases["opened"]
        assert opened.min() >= settings.period_start, snapshot.round
        assert opened.max() <= min(settings.period_end, snapshot.round), snapshot.round
