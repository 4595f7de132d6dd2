"""Facts: named numbers read from the tables and stats, written byte-identically."""

import datetime as dt
import json

import polars as pl
import pytest
from test_derive import NO_RISK, make_cases
from test_tables import synthetic

from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.stages.derive import derive_cases, risk_change
from kvinnofrid.statistics.facts import build_facts, facts_json, write_facts
from kvinnofrid.statistics.stats import build_stats
from kvinnofrid.statistics.tables import build_all_tables

D = dt.date
CLOSED = D(2022, 6, 1)


def hand_derived():
    return derive_cases(
        make_cases(
            [
                {
                    "sex": 1,
                    "honour_violence": 1,
                    "interventions": [4, 10],
                    "perpetrator": [2],
                    "closed": CLOSED,
                    "closing_reason": 1,
                    "goal_followup": 1,
                    "survey_change": 1,
                },
                {
                    "sex": 1,
                    "honour_violence": 2,
                    "interventions": [4],
                    "perpetrator": [3],
                    "closed": CLOSED,
                    "closing_reason": 3,
                    "goal_followup": 2,
                    "survey_change": 2,
                },
                {"sex": 2, "honour_violence": 2, "perpetrator": [1, 3]},
                {"sex": 1, "honour_violence": 3, "interventions": [1, 2, 3]},
                {"sex": None},
            ]
        ),
        NO_RISK,
    )


def test_facts_by_hand():
    derived = hand_derived()
    tables = build_all_tables(derived)
    facts = build_facts(tables, build_stats(derived), derived)
    assert facts["cases_total"] == 5
    assert facts["cases_with_intervention"] == 3
    assert facts["share_with_intervention"] == pytest.approx(3 / 5)
    assert facts["cases_closed"] == 2
    assert facts["n_women"] == 3 and facts["n_men"] == 1
    assert facts["share_women"] == pytest.approx(3 / 4)
    assert facts["share_hrv"] == pytest.approx(1 / 4)
    assert facts["mean_interventions"] == pytest.approx((2 + 1 + 3) / 3)
    assert facts["mean_interventions_hrv"] == pytest.approx(2)
    assert facts["share_goal_positive"] == pytest.approx(1.0)  # both closed: 1 and 2
    assert facts["top_group_n"] == 1
    assert facts["top_group_share_closed"] == pytest.approx(1 / 2)
    assert facts["share_partner_perpetrator"] == pytest.approx(2 / 3)  # current or former partner
    assert facts["share_housing_intervention"] == pytest.approx(1 / 5)
    assert facts["diagram_02_n"] == 4
    assert facts["diagram_24_n_kvinna"] == 0  # no ages given
    assert facts["men_hrv_share_a"] == 0.0 and facts["men_hrv_share_b"] == pytest.approx(1 / 3)


def test_facts_are_read_from_the_tables():
    derived = hand_derived()
    tables = build_all_tables(derived)
    tables[2] = tables[2].with_columns(
        share=pl.when(pl.col("category") == "Kvinna").then(0.123).otherwise(pl.col("share"))
    )
    facts = build_facts(tables, None, derived)
    assert facts["share_women"] == 0.123


def test_what_the_size_classes_rest_on_is_a_fact():
    derived = hand_derived()
    tables = build_all_tables(derived)
    assert "size_class_population" not in build_facts(tables, None, derived)
    facts = build_facts(tables, None, derived, size_class_population={"source": "scb", "year": 2023, "fallback": 1})
    assert (
        facts["size_class_population"],
        facts["size_class_population_year"],
        facts["size_class_population_fallback"],
    ) == ("scb", 2023, 1)


def test_every_registered_fact_is_built():
    cases, risk = synthetic(11, 300)
    derived = derive_cases(cases, risk)
    tables = build_all_tables(derived, risk)
    facts = build_facts(tables, build_stats(derived, risk_change(risk)), derived)
    for name in load_registry().facts:
        assert name in facts, name
        assert facts[name] is not None, name
    assert "risk_change_unchanged_share_a" in facts


def test_json_sorted_fixed_precision_byte_identical(tmp_path):
    facts = {"b": 1 / 3, "a": 3070, "c": None, "d": True, "e": float("nan")}
    text = facts_json(facts)
    assert list(json.loads(text)) == ["a", "b", "c", "d", "e"]
    assert '"b": 0.333333' in text and json.loads(text)["e"] is None
    derived = hand_derived()
    tables = build_all_tables(derived)
    first = write_facts(build_facts(tables, build_stats(derived), derived), tmp_path / "1" / "facts.json")
    second = write_facts(
        build_facts(build_all_tables(hand_derived()), build_stats(hand_derived()), hand_derived()),
        tmp_path / "2" / "facts.json",
    )
    assert first.read_bytes() == second.read_bytes()


def test_hrv_by_sex_and_age_and_best_unit():
    rows = (
        [
            {"sex": 2, "honour_violence": 1, "age": 20},
            {"sex": 2, "honour_violence": 1, "age": 50},
            {"sex": 1, "honour_violence": 1, "age": 30},
            {"sex": 1, "honour_violence": 1, "age": None},
            {"sex": 1, "honour_violence": 2, "age": 47},
            {"sex": 1, "honour_violence": 1, "age": 50},
            {"sex": 1, "honour_violence": None, "age": 52},
        ]
        # unit "big": 10 closed cases, 3 in the top group; unit "tiny": 1 closed, top group
        + [{"unit": "big", "closed": CLOSED, "goal_followup": 1, "survey_change": 1}] * 3
        + [{"unit": "big", "closed": CLOSED}] * 7
        + [{"unit": "tiny", "closed": CLOSED, "goal_followup": 1, "survey_change": 1}]
    )
    derived = derive_cases(make_cases(rows), NO_RISK)
    facts = build_facts(build_all_tables(derived), None, derived)
    assert facts["hrv_men_share_young"] == pytest.approx(1 / 2)  # men with HRV: 20, 50
    assert facts["hrv_women_share_young"] == pytest.approx(1 / 2)  # women with HRV and age: 30, 50
    assert facts["women_age_group_share_hrv"] == pytest.approx(1 / 2)  # women 45–54 with HRV answered: 47, 50
    assert facts["best_unit_top_group_share"] == pytest.approx(3 / 10)  # "tiny" is below the minimum
    assert facts["best_unit_closed_n"] == 10
    assert facts["hrv_share_age_18_34"] == pytest.approx(2 / 4)  # from table 21


def test_impairment_shares_among_cases_with_an_answer():
    derived = derive_cases(
        make_cases([{"impairment": [2]}, {"impairment": [2, 3]}, {"impairment": [4]}, {"impairment": None}]), NO_RISK
    )
    facts = build_facts(build_all_tables(derived), None, derived)
    assert facts["share_impairment_psykisk_funktionsnedsattning"] == pytest.approx(2 / 3)
    assert facts["share_impairment_intellektuell_funktionsnedsattning"] == pytest.approx(1 / 3)
    assert facts["share_impairment_nej"] == pytest.approx(1 / 3)
