"""Kolada key figures on a tiny hand-made case set (expected rows worked out by hand),
the population reader on BE0101N1-style files, the demo population file."""

import datetime as dt

import polars as pl
import pytest
from support.cases import NO_RISK, make_cases

from kvinnofrid.disclosure import kolada
from kvinnofrid.stages.derive import derive_cases

D = dt.date

# unit a = Arboga (1984); units b1 and b2 are two units of Sigtuna (0191)
CASES = [
    # 1: woman 30, intervention, closed 2022 with goal reached and reason "goal reached"
    dict(
        unit="a",
        sex=1,
        age=30,
        opened=D(2022, 2, 1),
        interventions=[1],
        closed=D(2022, 6, 1),
        goal_followup=1,
        closing_reason=1,
    ),
    # 2: man 40, opened 2022, closed 2023 (goal partly reached) → key figure 3 in 2023
    dict(
        unit="a",
        sex=2,
        age=40,
        opened=D(2022, 5, 1),
        interventions=[2],
        closed=D(2023, 1, 15),
        goal_followup=2,
        closing_reason=1,
    ),
    # 3: under 18: in no key figure
    dict(unit="a", sex=1, age=16, opened=D(2022, 3, 1), interventions=[1]),
    # 4: no intervention: figure 1 only, although goal and reason would qualify
    dict(unit="a", sex=1, age=50, opened=D(2023, 2, 1), closed=D(2023, 3, 1), goal_followup=1, closing_reason=1),
    # 5: age missing (counted), closed because the client did not return → not figure 3
    dict(
        unit="a",
        sex=1,
        age=None,
        opened=D(2023, 4, 1),
        interventions=[3],
        closed=D(2023, 5, 1),
        goal_followup=1,
        closing_reason=4,
    ),
    # 6: sex missing → only in T; goal not reached (Ingen förändring) → not figure 3
    dict(
        unit="a",
        sex=None,
        age=25,
        opened=D(2023, 6, 1),
        interventions=[1],
        closed=D(2023, 7, 1),
        goal_followup=3,
        closing_reason=1,
    ),
    # 7: Sigtuna unit b1, woman, open case with an intervention
    dict(unit="b1", sex=1, age=22, opened=D(2023, 1, 10), interventions=[1]),
    # 8: Sigtuna unit b2, man, opened 2022, closed 2023 with goal reached
    dict(
        unit="b2",
        sex=2,
        age=60,
        opened=D(2022, 11, 1),
        interventions=[1, 2],
        closed=D(2023, 3, 1),
        goal_followup=1,
        closing_reason=1,
    ),
]
UNITS = pl.DataFrame({"unit": ["a", "b1", "b2"], "kommunkod": ["1984", "0191", "0191"]})
POPULATION = pl.DataFrame(
    [
        ("1984", "Arboga", 2022, "T", 10000),
        ("1984", "Arboga", 2022, "K", 5000),
        ("1984", "Arboga", 2022, "M", 5000),
        ("1984", "Arboga", 2023, "T", 10000),
        ("1984", "Arboga", 2023, "K", 4000),
        ("1984", "Arboga", 2023, "M", 6000),
        ("0191", "Sigtuna", 2022, "T", 40000),
        ("0191", "Sigtuna", 2022, "K", 20000),
        ("0191", "Sigtuna", 2022, "M", 20000),
        ("0191", "Sigtuna", 2023, "T", 40000),
        ("0191", "Sigtuna", 2023, "K", 20000),
        ("0191", "Sigtuna", 2023, "M", 20000),
    ],
    schema=kolada.POPULATION_SCHEMA,
    orient="row",
)

# (unit, kpi, period) → (T, K, M), by hand from the comments above
EXPECTED_COUNTS = {
    ("a", "SUKF01", 2022): (2, 1, 1),  # cases 1, 2
    ("a", "SUKF02", 2022): (2, 1, 1),
    ("a", "SUKF03", 2022): (1, 1, 0),  # case 1 (closed 2022)
    ("a", "SUKF01", 2023): (3, 2, 0),  # cases 4, 5 (women), 6 (sex missing)
    ("a", "SUKF02", 2023): (2, 1, 0),  # cases 5, 6
    ("a", "SUKF03", 2023): (1, 0, 1),  # case 2 (closed 2023)
    ("b1", "SUKF01", 2022): (0, 0, 0),
    ("b1", "SUKF02", 2022): (0, 0, 0),
    ("b1", "SUKF03", 2022): (0, 0, 0),
    ("b1", "SUKF01", 2023): (1, 1, 0),  # case 7
    ("b1", "SUKF02", 2023): (1, 1, 0),
    ("b1", "SUKF03", 2023): (0, 0, 0),
    ("b2", "SUKF01", 2022): (1, 0, 1),  # case 8
    ("b2", "SUKF02", 2022): (1, 0, 1),
    ("b2", "SUKF03", 2022): (0, 0, 0),
    ("b2", "SUKF01", 2023): (0, 0, 0),
    ("b2", "SUKF02", 2023): (0, 0, 0),
    ("b2", "SUKF03", 2023): (1, 0, 1),  # case 8 closed 2023
}


@pytest.fixture(scope="module")
def figures() -> pl.DataFrame:
    derived = derive_cases(make_cases(CASES), NO_RISK)
    return kolada.key_figures(derived, POPULATION, UNITS)


def test_columns_and_one_row_per_unit_period_kpi_gender(figures):
    assert figures.schema == kolada.UNIT_SCHEMA
    assert figures.columns[1:] == ["kpi", "municipality", "period", "gender", "count", "adults", "value"]
    assert figures.height == 3 * 2 * 3 * 3
    assert not figures.select("unit", "kpi", "period", "gender").is_duplicated().any()
    assert figures.filter(pl.col("unit") == "a").head(3)["gender"].to_list() == ["T", "K", "M"]


def test_counts_by_hand(figures):
    got = {}
    for unit, kpi, period, gender, count in figures.select("unit", "kpi", "period", "gender", "count").iter_rows():
        got.setdefault((unit, kpi, period), {})[gender] = count
    assert {k: (v["T"], v["K"], v["M"]) for k, v in got.items()} == EXPECTED_COUNTS


def test_adults_and_values_by_hand(figures):
    def row(unit, kpi, period, gender):
        return figures.filter(
            (pl.col("unit") == unit)
            & (pl.col("kpi") == kpi)
            & (pl.col("period") == period)
            & (pl.col("gender") == gender)
        ).row(0, named=True)

    r = row("a", "SUKF01", 2023, "K")
    assert (r["municipality"], r["count"], r["adults"], r["value"]) == ("1984", 2, 4000, 5.0)  # 2·10 000/4 000
    assert row("a", "SUKF01", 2023, "T")["value"] == 3.0  # 3·10 000/10 000
    assert row("a", "SUKF03", 2023, "M")["value"] == 1.67  # 10 000/6 000
    assert row("a", "SUKF01", 2023, "M")["value"] == 0.0
    # a unit of a municipality with several units: the whole municipality's adults
    r = row("b1", "SUKF01", 2023, "K")
    assert (r["municipality"], r["adults"], r["value"]) == ("0191", 20000, 0.5)


def test_closing_reasons_from_config():
    derived = derive_cases(make_cases(CASES), NO_RISK)
    figures = kolada.key_figures(derived, POPULATION, UNITS, config={"goal_closing_reasons": [1, 4]})
    # case 5 (reason 4, goal 1, intervention, closed 2023) now counts too
    kf3 = figures.filter((pl.col("unit") == "a") & (pl.col("kpi") == "SUKF03") & (pl.col("period") == 2023))
    assert kf3["count"].to_list() == [2, 1, 1]


def test_configured_ids_and_unknown_municipality():
    derived = derive_cases(make_cases(CASES), NO_RISK)
    config = {"key_figures": [{"id": "N00001", "measure": "opened", "label": "x"}]}
    figures = kolada.key_figures(derived, POPULATION, UNITS.filter(pl.col("unit") != "b2"), config=config)
    assert figures["kpi"].unique().to_list() == ["N00001"]
    b2 = figures.filter(pl.col("unit") == "b2")
    assert b2["municipality"].null_count() == b2.height and b2["value"].null_count() == b2.height
    assert b2.filter((pl.col("period") == 2022) & (pl.col("gender") == "T"))["count"].item() == 1


def test_suppression_of_key_figures(figures):
    out = kolada.suppress_key_figures(figures, threshold=5)
    assert out.columns == figures.columns
    # every count here is 0 or below 5: all are hidden, zeros too (the zero policy)
    small = figures["count"] < 5
    assert out.filter(small)["count"].null_count() == int(small.sum())
    assert (out["count"].is_null() == out["value"].is_null()).all()
    assert out["adults"].equals(figures["adults"])
    big = figures.with_columns(pl.col("count") * 10)
    out = kolada.suppress_key_figures(big, threshold=5)
    zero = big["count"] == 0
    assert out.filter(zero)["count"].null_count() == int(zero.sum())
    assert (out["count"].drop_nulls() >= 5).all() and out.filter(~zero)["count"].null_count() < int((~zero).sum())


# ---------------------------------------------------------------- population

BE0101N1_ROWS = [
    ("00 Riket", "ogifta", "18 år", "män", "100", "100"),  # the country: ignored
    ("1984 Arboga", "ogifta", "17 år", "män", "50", "51"),  # under 18: ignored
    ("1984 Arboga", "ogifta", "18 år", "män", "40", "41"),
    ("1984 Arboga", "gifta", "18 år", "män", "2", "3"),  # summed over civilstånd
    ("1984 Arboga", "ogifta", "100+ år", "kvinnor", "1", "2"),
    ("1984 Arboga", "ogifta", "18 år", "kvinnor", "30", "31"),
    ("0191 Sigtuna", "ogifta", "45 år", "kvinnor", "..", "7"),  # missing value
]
EXPECTED_POPULATION = {
    ("1984", 2022, "T"): 73,
    ("1984", 2022, "K"): 31,
    ("1984", 2022, "M"): 42,
    ("1984", 2023, "T"): 77,
    ("1984", 2023, "K"): 33,
    ("1984", 2023, "M"): 44,
    ("0191", 2022, "T"): 0,
    ("0191", 2022, "K"): 0,
    ("0191", 2023, "T"): 7,
    ("0191", 2023, "K"): 7,
}


def as_dict(pop: pl.DataFrame) -> dict:
    return {(m, p, g): a for m, _, p, g, a in pop.iter_rows()}


def test_read_population_windows_1252_semicolon_with_title(tmp_path):
    lines = [
        "Folkmängden efter region, civilstånd, ålder och kön. År 1968 - 2023",
        "",
        '"region";"civilstånd";"ålder";"kön";"2022";"2023"',
    ]
    lines += [";".join(f'"{v}"' if i < 4 else v for i, v in enumerate(r)) for r in BE0101N1_ROWS]
    path = tmp_path / "be0101n1.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    pop = kolada.read_population(path)
    assert pop.schema == kolada.POPULATION_SCHEMA
    assert as_dict(pop) == EXPECTED_POPULATION
    assert pop.filter(pl.col("municipality") == "1984")["kommun"].unique().to_list() == ["Arboga"]


def test_total_population_counts_every_age_and_both_sexes(tmp_path):
    # for the size classes: the 17-year-olds count too, the country row does not
    lines = ['"region","civilstånd","ålder","kön","2022","2023"']
    lines += [",".join(f'"{v}"' if i < 4 else v for i, v in enumerate(r)) for r in BE0101N1_ROWS]
    path = tmp_path / "be0101n1.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    total = kolada.total_population(path)
    assert total.columns == ["municipality", "period", "people"]
    assert {(m, p): n for m, p, n in total.iter_rows()} == {
        ("1984", 2022): 123,
        ("1984", 2023): 128,
        ("0191", 2022): 0,
        ("0191", 2023): 7,
    }


def test_read_population_utf8_comma_without_civilstand(tmp_path):
    lines = ['"region","ålder","kön","Folkmängd 2022","Folkmängd 2023"']
    lines += [",".join(f'"{v}"' if i < 3 else v for i, v in enumerate(r[:1] + r[2:])) for r in BE0101N1_ROWS]
    path = tmp_path / "be0101n1.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert as_dict(kolada.read_population(path)) == EXPECTED_POPULATION


def test_read_population_names_what_is_missing(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("region,age,sex,2023\n0180 Stockholm,18 år,män,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="region och ålder"):
        kolada.read_population(path)


def test_demo_population_is_reproducible_and_readable(tmp_path):
    path = kolada.write_demo_population(tmp_path / "befolkning_demo.csv")
    assert path.read_bytes() == kolada.demo_population_path().read_bytes()
    pop = kolada.read_population(path)
    from kvinnofrid.spec.municipalities import load_register

    register = load_register()
    assert set(pop["municipality"]) == set(register["kommunkod"])
    assert set(pop["period"]) == {2022, 2023}
    t = pop.filter((pl.col("gender") == "T") & (pl.col("period") == 2023))
    k_m = pop.filter(pl.col("gender") != "T").group_by("municipality", "period").agg(pl.col("adults").sum())
    merged = pop.filter(pl.col("gender") == "T").join(k_m, on=["municipality", "period"])
    assert (merged["adults"] == merged["adults_right"]).all()
    # adults are a plausible share (about 79 %) of the approximate inhabitants
    share = t.join(register.select(pl.col("kommunkod").alias("municipality"), "invanare"), on="municipality")
    ratio = share["adults"] / share["invanare"]
    assert ratio.min() > 0.75 and ratio.max() < 0.83


# ---------------------------------------------------------------- settings


def test_key_figures_as_in_config_yaml_keyed_by_measure():
    config = {"key_figures": {"goal_reached": {"id": "N3", "label": "c"}, "opened": {"id": "N1", "label": "a"}}}
    s = kolada.settings_of(config)
    assert s["key_figures"] == [
        {"measure": "goal_reached", "id": "N3", "label": "c"},
        {"measure": "opened", "id": "N1", "label": "a"},
    ]
    derived = derive_cases(make_cases(CASES), NO_RISK)
    figures = kolada.key_figures(derived, POPULATION, UNITS, config=config)
    assert figures.filter(pl.col("unit") == "a")["kpi"].head(6).to_list() == ["N3"] * 3 + ["N1"] * 3


def test_check_settings_names_a_duplicate_id_and_an_unknown_closing_reason():
    assert kolada.check_settings({}) == []
    config = {
        "key_figures": {"opened": {"id": "N1", "label": "a"}, "intervention": {"id": "N1", "label": "b"}},
        "goal_closing_reasons": [1, 9],
    }
    problems = kolada.check_settings(config)
    assert len(problems) == 2
    assert problems[0].startswith("kolada.key_figures:") and "N1" in problems[0]
    assert problems[1].startswith("kolada.goal_closing_reasons:") and "[9]" in problems[1]


def test_write_key_figures_puts_the_contract_columns_first(figures, tmp_path):
    path = kolada.write_key_figures(figures, tmp_path / "kolada" / "nyckeltal.csv")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "kpi,municipality,period,gender,count,adults,value,unit"
    assert "SUKF01,1984,2023,K,2,4000,5.00,a" in text.splitlines()
