"""National tables: every denominator rule on hand-made cases, the column contract on
a seeded synthetic frame, the invariants, and byte-identical output."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.cases import NO_RISK, make_cases, make_risk, synthetic

from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.stages.derive import derive_cases
from kvinnofrid.statistics.tables import (
    TABLE_SCHEMA,
    TableInvariantError,
    build_all_tables,
    build_table,
    check_consistency,
    check_table,
    t_interval,
    table_csv,
    wilson_interval,
    write_tables,
)

D = dt.date
CB = codebook.load()
REG = load_registry()


@pytest.fixture(scope="module")
def synthetic_tables():
    cases, risk = synthetic()
    derived = derive_cases(cases, risk)
    return derived, build_all_tables(derived, risk)


def rows(table: pl.DataFrame, *cols: str) -> list[tuple]:
    return list(table.select(cols).iter_rows())


# ---------------------------------------------------------------- intervals


def test_wilson_against_known_values():
    # 5/10 with z = 1.96: centre 0.5, half = 1.96·√(0.025 + 0.009604)/1.38416 = 0.263411
    low, high = wilson_interval([5], [10], z=1.96)
    assert low[0] == pytest.approx(0.236589, abs=1e-6)
    assert high[0] == pytest.approx(0.763411, abs=1e-6)
    low, high = wilson_interval([5, 0, 10], [10, 10, 0])  # exact z = 1.959964
    assert low[0] == pytest.approx(0.2366, abs=1e-4)
    assert low[1] == 0.0
    assert high[1] == pytest.approx(0.277533, abs=1e-6)  # 0/10: z²/(n+z²)
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_t_interval_by_hand():
    mean, low, high = t_interval(np.array([3.0, 1.0]))
    # sd = √2, se = 1, t(0.975, 1) = 12.7062
    assert mean == 2.0
    assert low == pytest.approx(2 - 12.706205, abs=1e-5)
    assert high == pytest.approx(2 + 12.706205, abs=1e-5)


# ---------------------------------------------------------------- hand-made rules


def six_cases():
    closed = D(2022, 6, 1)
    return derive_cases(
        make_cases(
            [
                {"interventions": [4], "closed": closed, "closing_reason": 1, "goal_followup": 1, "survey_change": 1},
                {"closed": closed, "closing_reason": 3},
                {"interventions": [1, 2]},
                {"interventions": [10], "closed": closed, "goal_followup": 5, "survey_importance": 6},
                {"goal_followup": 2},  # open: value not counted
                {"interventions": [3], "opened": closed, "closed": closed, "closing_reason": 4},
            ]
        ),
        NO_RISK,
    )


def test_diagram_1_rows_and_denominators():
    table = build_table(1, six_cases())
    assert rows(table, "category", "n", "denominator") == [
        ("Aktualiserade", 6, 6),
        ("Fått insats", 4, 6),
        ("Avslutade", 4, 6),
        ("Angiven avslutsorsak", 3, 4),
        ("Måluppföljning", 2, 4),
        ("Genomfört brukarenkät", 2, 4),
    ]
    assert table["share"].to_list() == pytest.approx([1, 4 / 6, 4 / 6, 3 / 4, 2 / 4, 2 / 4])
    assert table["group"].null_count() == 6


def test_diagram_1_consistent_with_the_other_tables():
    tables = build_all_tables(six_cases())
    assert tables[9]["denominator"][0] == 4
    assert tables[14]["denominator"][0] == 3
    assert tables[15]["denominator"][0] == 2  # the open case's goal follow-up is not counted


def test_single_choice_valid_values_every_option_a_row():
    derived = derive_cases(make_cases([{"sex": 1}, {"sex": 1}, {"sex": 2}, {"sex": None}]), NO_RISK)
    table = build_table(2, derived)
    assert rows(table, "category", "n", "denominator") == [("Kvinna", 2, 3), ("Man", 1, 3)]
    table = build_table(4, derived)  # no origin at all: every option, n = 0
    assert table["category"].to_list() == CB["origin"].labels
    assert table["n"].to_list() == [0] * 5 and table["share"].null_count() == 5


def test_age_groups_denominator_valid_age():
    derived = derive_cases(make_cases([{"age": 18}, {"age": 30}, {"age": 33}, {"age": None}, {"age": 80}]), NO_RISK)
    table = build_table(3, derived)
    assert table["category"].to_list() == CB.age_group_labels()
    assert table["n"].to_list() == [1, 2, 0, 0, 0, 0, 1]
    assert set(table["denominator"]) == {4}


def test_closed_only_diagrams_ignore_open_cases():
    closed = D(2022, 6, 1)
    derived = derive_cases(
        make_cases(
            [
                {
                    "implementation": 1,
                    "closed": closed,
                    "survey_change": 2,
                    "survey_importance": 5,
                    "survey_influence": 1,
                    "closing_reason": 2,
                    "goal_followup": 3,
                },
                {
                    "implementation": 3,
                    "survey_change": 2,
                    "survey_importance": 5,
                    "survey_influence": 1,
                    "closing_reason": 2,
                    "goal_followup": 3,
                },  # open
            ]
        ),
        NO_RISK,
    )
    for number in (11, 14, 15, 18, 19, 20):
        table = build_table(number, derived)
        assert set(table["denominator"]) == {1}, number
        assert table["n"].sum() == 1


def test_report_order_of_diagrams_19_and_14():
    t19 = build_table(19, six_cases())
    var = CB["survey_importance"]
    assert t19["category"].to_list() == [var.label_of(c) for c in (5, 4, 3, 2, 1, 6)]
    t14 = build_table(14, six_cases())
    assert t14["category"][0] == CB["closing_reason"].label_of(1)
    assert t14["category"][1] == CB["closing_reason"].label_of(3)


def test_multi_choice_denominator_is_cases_with_any_option():
    derived = derive_cases(
        make_cases(
            [
                {"perpetrator": [1, 2]},
                {"perpetrator": [2]},
                {"perpetrator": None},
                {"perpetrator": []},
                {"perpetrator": [6]},
            ]
        ),
        NO_RISK,
    )
    table = build_table(8, derived)
    var = CB["perpetrator"]
    assert table["category"].to_list() == [var.label_of(c) for c in (2, 1, 3, 4, 5, 6)]
    assert table["n"].to_list() == [2, 1, 0, 0, 0, 1]
    assert set(table["denominator"]) == {3}
    assert table["share"].sum() == pytest.approx(4 / 3)  # per case: more than 1


def test_diagram_6_initiative_groups():
    derived = derive_cases(make_cases([{"initiative": [3, 4]}, {"initiative": [1, 12]}, {}]), NO_RISK)
    table = build_table(6, derived)
    assert table["category"].to_list() == [g["label"] for g in CB.derived["initiative_groups"]]
    got = dict(rows(table, "category", "n"))
    assert got["Socialtjänsten"] == 1 and got["Klienten själv"] == 1 and got["Annat"] == 1
    assert set(table["denominator"]) == {2}


def test_diagram_9_honour_options_only_above_minimum():
    derived = derive_cases(make_cases([{"interventions": [15]}, {"interventions": [4]}]), NO_RISK)
    hidden = build_table(9, derived)  # default minimum 10
    assert hidden.height == 15
    assert CB["interventions"].label_of(15) not in hidden["category"].to_list()
    assert set(hidden["denominator"]) == {2}  # still counted in N
    shown = build_table(9, derived, settings={"honour_interventions_min": 1})
    assert shown.height == 16
    assert shown["category"][-1] == CB["interventions"].label_of(15)
    assert shown["n"][-1] == 1


def test_diagram_10_means_among_cases_with_an_intervention():
    derived = derive_cases(
        make_cases(
            [
                {"honour_violence": 1, "interventions": [1, 2, 3]},
                {"honour_violence": 1, "interventions": [4]},
                {"honour_violence": 2, "interventions": [1, 2]},
                {"honour_violence": 1},  # no intervention: not counted
            ]
        ),
        NO_RISK,
    )
    table = build_table(10, derived)
    by = {r["category"]: r for r in table.iter_rows(named=True)}
    assert by["Genomsnitt"]["mean"] == 2.0 and by["Genomsnitt"]["n"] == 3
    assert by["HRV"]["mean"] == 2.0 and by["HRV"]["n"] == by["HRV"]["denominator"] == 2
    assert by["HRV"]["ci_low"] == pytest.approx(2 - 12.706205, abs=1e-5)
    assert by["Ej HRV"]["mean"] == 2.0 and by["Ej HRV"]["ci_low"] is None
    assert by["65–74 år"]["n"] == 0 and by["65–74 år"]["mean"] is None
    assert table["share"].null_count() == table.height


def test_diagrams_12_and_13_partners():
    derived = derive_cases(
        make_cases(
            [
                {"collaboration": [11]},
                {"collaboration": [1, 5]},
                {"collaboration": [7]},
                {"collaboration": None},
                {"collaboration": [1, 2, 3, 4, 5, 6]},
            ]
        ),
        NO_RISK,
    )
    t12 = build_table(12, derived)
    assert set(t12["denominator"]) == {3}  # "Ingen samverkan" is not a partner
    assert CB["collaboration"].label_of(11) not in t12["category"].to_list()
    assert t12.height == 9
    t13 = build_table(13, derived)
    assert rows(t13, "category", "n") == [("0", 1), ("1", 1), ("2", 1), ("3", 0), ("4", 0), ("5+", 1)]
    assert set(t13["denominator"]) == {4}


def test_diagram_16_histogram_counts_only():
    opened = D(2022, 1, 1)
    derived = derive_cases(
        make_cases(
            [
                {"opened": opened, "closed": opened},  # 1 day
                {"opened": opened, "closed": opened + dt.timedelta(days=89)},  # 90
                {"opened": opened, "closed": opened + dt.timedelta(days=90)},  # 91
                {"opened": opened, "closed": opened + dt.timedelta(days=720)},  # 721
                {"opened": opened, "closed": opened - dt.timedelta(days=1)},  # invalid
                {"opened": opened},  # open
            ]
        ),
        NO_RISK,
    )
    table = build_table(16, derived)
    assert table["category"].to_list() == CB.duration_bin_labels()
    assert table["n"].to_list() == [2, 1, 0, 0, 0, 0, 0, 0, 1]
    assert set(table["denominator"]) == {4}
    assert table["share"].null_count() == table["ci_low"].null_count() == table.height


def test_diagram_17_duration_by_closing_reason():
    opened = D(2022, 1, 1)

    def case(days, reason, closed=True):
        return {
            "opened": opened,
            "closing_reason": reason,
            "closed": opened + dt.timedelta(days=days - 1) if closed else None,
        }

    derived = derive_cases(
        make_cases(
            [
                case(10, 1),
                case(10, 3),
                case(100, 4),
                case(400, 1),
                case(50, 2),
                case(10, 1, closed=False),
            ]
        ),
        NO_RISK,
    )
    table = build_table(17, derived)
    assert table.height == 12
    assert table["group"].unique(maintain_order=True).to_list() == CB.duration_bin_labels()[:4]
    first = table.filter(pl.col("group") == "1–90")
    assert first["n"].to_list() == [1, 1, 0] and set(first["denominator"]) == {2}
    second = table.filter(pl.col("group") == "91–180")
    assert second["n"].to_list() == [0, 0, 1]
    assert table.filter(pl.col("group") == "181–270")["share"].null_count() == 3


def test_diagrams_21_and_24_groups():
    derived = derive_cases(
        make_cases(
            [
                {"honour_violence": 1, "age": 20, "sex": 2},
                {"honour_violence": 2, "age": 30, "sex": 1},
                {"honour_violence": 3, "age": 30, "sex": 1},
                {"honour_violence": 1, "age": None, "sex": 2},
            ]
        ),
        NO_RISK,
    )
    t21 = build_table(21, derived)
    assert t21["group"].unique(maintain_order=True).to_list() == ["HRV", "Ej HRV"]
    assert rows(t21.filter(pl.col("n") > 0), "group", "category", "n", "denominator") == [
        ("HRV", "18–24", 1, 1),
        ("Ej HRV", "25–34", 1, 1),
    ]
    t24 = build_table(24, derived)
    assert t24["group"].unique(maintain_order=True).to_list() == ["Kvinna", "Man"]
    assert t24.filter(pl.col("group") == "Kvinna")["denominator"][0] == 2


def test_diagrams_23_and_25_cases_with_an_intervention_by_group():
    derived = derive_cases(
        make_cases(
            [
                {"honour_violence": 1, "sex": 1, "interventions": [10]},
                {"honour_violence": 1, "sex": 2},  # no intervention
                {"honour_violence": 2, "sex": 2, "interventions": [4, 10]},
            ]
        ),
        NO_RISK,
    )
    t23 = build_table(23, derived)
    assert t23.filter(pl.col("group") == "HRV")["denominator"][0] == 1
    t25 = build_table(25, derived)
    assert t25.filter(pl.col("group") == "Man")["denominator"][0] == 1


def test_diagrams_26_and_27_risk():
    risk = make_risk([("c1", 1, D(2022, 3, 1), 1, 5), ("c1", 2, D(2022, 4, 1), 6, 4), ("c2", 1, None, 6, None)])
    derived = derive_cases(make_cases([{}, {}, {}, {}, {}]), risk)
    t26 = build_table(26, derived)
    assert rows(t26, "category", "n", "denominator") == [("Ja", 2, 5), ("Nej", 3, 5)]
    t27 = build_table(27, derived)
    assert t27["category"].to_list() == CB["risk_assessments"].labels
    assert t27["n"].to_list() == [1, 0, 0, 0, 0, 2]
    assert set(t27["denominator"]) == {2}


# ---------------------------------------------------------------- invariants


def test_invariant_n_above_denominator_raises():
    table = build_table(2, six_cases()).with_columns(n=pl.lit(99, pl.Int64))
    with pytest.raises(TableInvariantError, match="Diagram 2"):
        check_table(REG[2], table)


def test_invariant_single_shares_must_sum_to_one():
    derived = derive_cases(make_cases([{"sex": 1}, {"sex": 2}]), NO_RISK)
    table = build_table(2, derived)
    broken = table.with_columns(n=pl.when(pl.col("category") == "Man").then(0).otherwise(pl.col("n")))
    with pytest.raises(TableInvariantError, match=r"Diagram 2.*sum"):
        check_table(REG[2], broken)


def test_invariant_columns_are_the_contract():
    table = build_table(2, six_cases()).drop("mean")
    with pytest.raises(TableInvariantError, match="Diagram 2"):
        check_table(REG[2], table)


def test_invariant_diagram_1_against_diagram_9():
    derived = six_cases()
    tables = build_all_tables(derived)
    tables[9] = tables[9].with_columns(denominator=pl.lit(5, pl.Int64))
    with pytest.raises(TableInvariantError, match="Diagram 1: Fått insats"):
        check_consistency(tables, derived)


def test_invariant_multi_denominator_against_cases():
    derived = six_cases()
    tables = build_all_tables(derived)
    tables[8] = tables[8].with_columns(denominator=pl.lit(1, pl.Int64))
    with pytest.raises(TableInvariantError, match="Diagram 8"):
        check_consistency(tables, derived)


# ---------------------------------------------------------------- contract, determinism


def test_every_registry_table_follows_the_contract(synthetic_tables):
    _derived, tables = synthetic_tables
    assert sorted(tables) == REG.numbers
    for number, table in tables.items():
        d = REG[number]
        assert table.schema == TABLE_SCHEMA, number
        assert table["suppressed"].sum() == 0
        if "variable" in d.category and d.table in ("single", "multi"):
            var = CB[d.category["variable"]]
            codes = d.category.get("codes", var.codes)
            expected = [var.label_of(c) for c in codes]
            groups = table["group"].unique(maintain_order=True).to_list()
            for g in groups:
                got = table.filter(pl.col("group").eq_missing(g))["category"].to_list()
                assert got[: len(expected)] == expected, (number, g)
        if d.groups is None:
            assert table["group"].null_count() == table.height, number


def test_build_is_deterministic_and_csv_is_byte_identical(tmp_path, synthetic_tables):
    _derived, tables = synthetic_tables
    again = build_all_tables(derive_cases(*synthetic()), None)
    for number in tables:
        assert_frame_equal(tables[number], again[number])
        assert table_csv(tables[number]) == table_csv(again[number])
    first = write_tables(tables, tmp_path / "a")
    second = write_tables(again, tmp_path / "b")
    for p, q in zip(first, second):
        assert p.name == q.name
        assert p.read_bytes() == q.read_bytes(), p.name
    text = (tmp_path / "a" / "diagram_02.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "group,category,n,denominator,share,ci_low,ci_high,mean,suppressed"
    assert ",false" in text.splitlines()[1]
    assert_frame_equal(pl.read_parquet(tmp_path / "a" / "diagram_02.parquet"), tables[2])


# ---------------------------------------------------------------- the registry


def test_registry_declares_the_diagrams_in_order_with_ids_and_sections():
    assert REG.numbers == list(range(1, len(REG.diagrams) + 1))
    section_ids = [s.id for s in REG.sections]
    for d in REG.diagrams:
        assert d.title and d.n_label and d.section in section_ids
    assert len(set(REG.text_ids)) == len(REG.text_ids)
    assert [d.number for d in REG.diagrams if d.multi] == [6, 8, 9, 12, 23, 25, 27]
    assert REG.notes_for(9)[0] == "Flera svarsalternativ kunde anges"
    assert REG.notes_for(2) == []
    assert REG[16].figure == "histogram" and REG[10].figure == "mean_bar"


def _raw_registry():
    import copy
    from importlib import resources

    import yaml

    text = resources.files("kvinnofrid.spec").joinpath("diagrams.yaml").read_text(encoding="utf-8")
    return copy.deepcopy(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r["diagrams"][1].update(table="pie"), "diagram 2"),
        (lambda r: r["diagrams"][7]["category"].update(codes=[1, 2, 99]), "diagram 8.*99"),
        (lambda r: r["diagrams"][3].update(section="Okänd"), "diagram 4"),
        (lambda r: r["diagrams"].pop(4), "numbers"),
        (lambda r: r["facts"].update(bad={"diagram": 2, "code": 7}), "fact 'bad'"),
        (lambda r: r["size_measures"].append({"diagram": "alder", "code": 1, "heading": "x"}), "size_measures 'alder'"),
        (lambda r: r["size_measures"].append({"diagram": "ursprung", "code": 2, "heading": "x"}), "pooled"),
    ],
)
def test_registry_errors_name_the_entry(edit, message):
    from kvinnofrid.spec.diagrams import RegistryError, from_mapping

    raw = _raw_registry()
    edit(raw)
    with pytest.raises(RegistryError, match=message):
        from_mapping(raw)


def test_adding_a_diagram_is_one_entry():
    from kvinnofrid.spec.diagrams import from_mapping

    raw = _raw_registry()
    number = len(raw["diagrams"]) + 1
    raw["diagrams"].append(
        {
            "number": number,
            "id": "typ-av-insats",
            "title": "Typ av insats",
            "section": "insatserna",
            "table": "single",
            "figure": "bar",
            "variables": ["decision_type"],
            "multi": False,
            "n_label": "N = {n}",
            "category": {"variable": "decision_type"},
        }
    )
    reg = from_mapping(raw)
    table = build_table(number, six_cases(), registry=reg)
    assert table["category"].to_list() == CB["decision_type"].labels


# ---------------------------------------------------------------- a table per unit in one pass


def test_tables_by_unit_are_each_unit_s_own_table(synthetic_tables):
    derived, _ = synthetic_tables
    units = sorted(derived["unit"].unique().to_list())
    # a unit without cases (its rows are zeros) and a reversed order (the Series' order is kept)
    by = pl.Series("unit", ["u_utan_ärenden", *reversed(units)])
    every_option = {"honour_interventions_min": 0}
    additive = [d for d in REG.diagrams if d.table in ("single", "multi", "histogram", "flag")]
    assert {d.table for d in additive} == {"single", "multi", "histogram", "flag"}
    for d in additive:
        stacked = build_table(d.number, derived, settings=every_option, by=by)
        assert stacked.columns == ["unit", *TABLE_SCHEMA.names()]
        assert stacked["unit"].unique(maintain_order=True).to_list() == by.to_list()
        for unit in units:
            own = build_table(d.number, derived.filter(pl.col("unit") == unit), settings=every_option)
            block = stacked.filter(pl.col("unit") == unit).drop("unit")
            assert_frame_equal(block, own, check_exact=True)
        empty = stacked.filter(pl.col("unit") == "u_utan_ärenden")
        assert empty.height == block.height and empty["n"].sum() == 0 and empty["denominator"].sum() == 0


def test_tables_by_unit_refuse_the_kinds_that_do_not_add_up(synthetic_tables):
    derived, _ = synthetic_tables
    for d in REG.diagrams:
        if d.table in ("phases", "means"):
            with pytest.raises(ValueError, match=f"Diagram {d.number}"):
                build_table(d.number, derived, by=pl.Series("unit", ["u0"]))
