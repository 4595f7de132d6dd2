"""Comparison reports per unit and län (kvinnofrid.disclosure.area_tables, kvinnofrid.reporting.unit_report, rules unit_tables,
unit_report, kommuner): definitions on tiny frames, then the real pipeline — a
recovery attack on everything the reports publish, the reports' own tables, a unit
report in the real browser and its PDF."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.reporting import unit_report as ur
from kvinnofrid.statistics.tables import finish_table

T = 5


# ------------------------------------------------------------------ definitions


def test_areas_country_classes_in_config_order_units_and_lan_with_three_units():
    units = ["B", "A", "C", "D", "E"]
    meta = pl.DataFrame(
        {"unit": units, "unit_slug": [u.lower() for u in units], "lan": ["Y län", "X län", "X län", "X län", "Y län"]}
    )
    classes = {"A": "Liten", "B": "Stor", "C": "Stor", "D": "Stor", "E": "Liten"}
    areas = at.areas_of(meta, classes, ["Stor", "Liten"], groups=dict.fromkeys("ABCDE", "Grupp 1"))
    assert [(a.kind, a.name, a.units) for a in areas] == [
        ("riket", "Riket", ("A", "B", "C", "D", "E")),
        ("storleksklass", "Stor", ("B", "C", "D")),
        ("grupp", "Grupp 1", ("A", "B", "C", "D", "E")),
        ("enhet", "A", ("A",)),
        ("enhet", "B", ("B",)),
        ("enhet", "C", ("C",)),
        ("enhet", "D", ("D",)),
        ("enhet", "E", ("E",)),
        ("lan", "X län", ("A", "C", "D")),
    ]  # "Liten" and Y län pool two units: each would read the other's numbers off the sum
    assert areas[-1].slug == "x-lan"


def test_top_group_share_of_closed_cases_by_hand():
    derived = pl.DataFrame(
        {"is_closed": [True, True, True, True, False], "top_group": [True, False, None, True, False]}
    )
    table = at.top_group_table(derived)
    assert table["category"].to_list() == ["Toppgrupp", "Övriga avslutade ärenden"]
    assert table["n"].to_list() == [2, 2] and table["denominator"].to_list() == [4, 4]
    assert table["share"].to_list() == [0.5, 0.5]


def _long(table_id, area, rows):
    frame = pl.DataFrame(rows, schema=["category", "n", "denominator", "share", "suppressed"], orient="row")
    return (
        frame.with_columns(
            pl.lit(table_id).alias("table"),
            pl.lit("enhet").alias("area_kind"),
            pl.lit(area).alias("area"),
            pl.lit(None, pl.String).alias("group"),
            pl.lit(None, pl.Float64).alias("ci_low"),
            pl.lit(None, pl.Float64).alias("ci_high"),
            pl.lit(None, pl.Float64).alias("mean"),
            pl.when(pl.col("suppressed")).then(pl.lit("under_troskel")).alias("hidden_reason"),
            pl.lit(None, pl.String).alias("denominator_reason"),
        )
        .select(at.LONG_SCHEMA.names())
        .cast(dict(at.LONG_SCHEMA))
    )


def test_histogram_counts_become_shares_so_areas_of_different_size_compare():
    long = pl.concat(
        [
            _long("16", "A", [("1–90", 3, 4, None, False), ("91–", 1, 4, None, False)]),
            _long("16", "Riket", [("1–90", 30, 60, None, False), ("91–", 30, 60, None, False)]),
        ]
    )
    areas = [at.Area("enhet", "A", "a", ("A",)), at.Area("riket", "Riket", "riket", ("A",))]
    table = at.comparison_table(long, "16", areas)
    assert table["group"].to_list() == ["A", "A", "Riket", "Riket"]
    assert table["share"].to_list() == [0.75, 0.25, 0.5, 0.5]


def test_sentence_names_the_largest_visible_category_and_the_others():
    table = pl.DataFrame(
        {
            "group": ["A", "A", "Riket", "Riket"],
            "category": ["x", "y", "x", "y"],
            "share": [0.2, 0.8, 0.4, 0.6],
            "suppressed": [False, False, False, False],
        }
    )
    assert (
        ur.summary_sentence(table, "A", ["A", "Riket"])
        == "Störst andel i A har kategorin ”y” med 80\u00a0% (Riket: 60\u00a0%)."
    )
    hidden = table.with_columns(pl.when(pl.col("group") == "A").then(True).otherwise(False).alias("suppressed"))
    assert ur.summary_sentence(hidden, "A", ["A", "Riket"]).startswith("Andelarna för A visas inte eftersom")


def test_a_measure_of_a_round_is_hidden_when_one_of_its_categories_is():
    measures = [{"id": "improved", "label": "Förbättrats", "diagram": 18, "categories": ["mycket", "lite"]}]
    import datetime as dt

    r1, r2 = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
    by_round = {
        r1: _long(
            "18",
            "A",
            [("mycket", None, 12, None, True), ("lite", 8, 12, 8 / 12, False), ("inte", None, 12, None, True)],
        ),
        r2: _long("18", "A", [("mycket", 6, 20, 0.3, False), ("lite", 8, 20, 0.4, False), ("inte", 6, 20, 0.3, False)]),
    }
    out = at.area_trend(by_round, "A", measures, {"interim": "Prel", "final": "Slut"})
    assert out["source"].to_list() == ["Prel", "Slut"]
    assert out["share"].to_list() == [None, 0.7] and out["n"].to_list() == [None, 14]


def test_every_areas_trend_in_one_pass_equals_each_area_alone_in_the_order_asked():
    """areas_trend (rule unit_tables) gives each area's rows as area_trend does, in the
    order of the areas asked for, not the frame's: a shown share with its own interval
    per area, a measure hidden below the threshold (its base is) and one hidden to
    protect another count, and an area without the table left out."""
    import datetime as dt

    measures = [{"id": "improved", "label": "Förbättrats", "diagram": 18, "categories": ["mycket", "lite"]}]
    r1, r2 = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
    rows = {
        "A": [("mycket", 6, 20, 0.3, False), ("lite", 8, 20, 0.4, False), ("inte", 6, 20, 0.3, False)],
        "B": [("mycket", 1, 9, 0.1, False), ("lite", 7, 9, 0.8, False), ("inte", 1, 9, 0.1, False)],
        "C": [("mycket", None, 3, None, True), ("lite", None, 3, None, True), ("inte", 3, 3, 1.0, False)],
    }
    late = pl.concat([_long("18", a, r) for a, r in rows.items()])
    late = late.with_columns(
        pl.when(pl.col("area") == "C").then(pl.lit("under_troskel")).alias("denominator_reason"),
        pl.when((pl.col("area") == "B") & (pl.col("category") == "mycket"))
        .then(pl.lit("skyddar_annat"))
        .otherwise(pl.col("hidden_reason"))
        .alias("hidden_reason"),
        (pl.col("suppressed") | ((pl.col("area") == "B") & (pl.col("category") == "mycket"))).alias("suppressed"),
    )
    by_round = {r1: pl.concat([_long("18", "B", rows["B"]), _long("7", "A", rows["A"])]), r2: late}
    sources = {"interim": "Prel", "final": "Slut"}
    out = at.areas_trend(by_round, ["C", "A", "B", "D"], measures, sources)
    assert out["area"].to_list() == ["C", "A", "B", "B"]
    assert out["round"].to_list() == [r2, r2, r1, r2]
    assert out["hidden_reason"].to_list() == ["under_troskel", None, None, "skyddar_annat"]
    assert out["n"].to_list() == [None, 14, 8, None] and out["share"].to_list()[1:3] == [14 / 20, 8 / 9]
    assert out["ci_low"][1] != out["ci_low"][2]  # each area's own interval
    for area in "CAB":
        alone = at.area_trend(by_round, area, measures, sources)
        assert_frame_equal(out.filter(pl.col("area") == area).drop("area"), alone)


def test_a_measure_whose_category_is_missing_in_an_areas_table_stops_with_the_area_named():
    measures = [{"id": "improved", "label": "Förbättrats", "diagram": 18, "categories": ["mycket", "lite"]}]
    import datetime as dt

    long = pl.concat(
        [
            _long("18", "A", [("mycket", 6, 20, 0.3, False), ("lite", 8, 20, 0.4, False)]),
            _long("18", "B", [("mycket", 6, 20, 0.3, False), ("inte", 14, 20, 0.7, False)]),
        ]
    )
    with pytest.raises(ValueError, match="B, improved: kategorierna"):
        at.areas_trend({dt.date(2023, 10, 10): long}, ["A", "B"], measures, {"interim": "P", "final": "S"})


def test_internal_tables_hold_the_units_own_counts_beside_the_published_country_and_classes():
    meta = pl.DataFrame({"unit": ["A", "B", "C"], "unit_slug": ["a", "b", "c"], "lan": ["X län"] * 3})
    areas = at.areas_of(meta, dict.fromkeys("ABC", "Stor"), ["Stor"])
    counts = {"A": (2, 30), "B": (10, 40), "C": (12, 3)}

    def table(a, b):
        return finish_table(
            pl.DataFrame(
                {"group": [None, None], "category": ["ja", "nej"], "n": [a, b], "denominator": [a + b] * 2},
                schema_overrides={"group": pl.String},
            )
        )

    by_area = {"Riket": table(24, 73), "Stor": table(24, 73), "X län": table(24, 73)}
    by_area |= {u: table(*c) for u, c in counts.items()}
    tables = {"2": by_area}
    published = at.protect({"2023-10-10": tables}, areas, T)["2023-10-10"]
    internal = at.internal_tables(tables, published, areas)

    def rows(frame, area):
        return frame.filter(pl.col("area") == area).sort("category")

    assert set(internal["area_kind"]) == {"riket", "storleksklass", "enhet"}  # no län
    for area in ("Riket", "Stor"):
        assert_frame_equal(rows(internal, area), rows(published, area))
    for unit, (a, b) in counts.items():
        assert rows(internal, unit)["n"].to_list() == [a, b]
        assert not rows(internal, unit)["suppressed"].any()
    assert rows(published, "A")["n"].null_count() and rows(published, "C")["n"].null_count()


def test_every_area_has_a_published_report_every_unit_an_internal_one_and_batches_split_them():
    every = [
        {"kind": "riket", "slug": "riket"},
        {"kind": "storleksklass", "slug": "stor"},
        *({"kind": "enhet", "slug": f"u{k}"} for k in range(7)),
        {"kind": "lan", "slug": "x-lan"},
    ]
    jobs = ur.report_jobs(every)
    assert sorted(s for s, e in jobs if e == ur.PUBLISHED) == sorted([f"u{k}" for k in range(7)] + ["x-lan"])
    assert sorted(s for s, e in jobs if e == ur.INTERNAL) == [f"u{k}" for k in range(7)]
    batches = [ur.batch_jobs(every, b, 3) for b in range(3)]
    assert sorted(j for b in batches for j in b) == sorted(jobs) and all(batches)
    for b in batches:  # both editions of a unit in one batch
        assert {s for s, e in b if e == ur.INTERNAL} <= {s for s, e in b if e == ur.PUBLISHED}
    assert ur.report_paths("res", "build", "u1", ur.INTERNAL) == (Path("res/intern"), Path("build/intern/u1"))
    assert ur.report_paths("res", "build", "u1", ur.PUBLISHED) == (Path("res"), Path("build/u1"))


def test_the_published_edition_refuses_a_visible_count_below_the_threshold():
    shown = pl.DataFrame({"n": [7, 0, 3]})
    with pytest.raises(ValueError, match="publicerade"):
        ur._check_published(shown, T, "arboga, tabell 2")
    with pytest.raises(ValueError, match="publicerade"):  # a zero is a small count too
        ur._check_published(shown.head(2), T, "arboga, tabell 2")
    ur._check_published(shown.head(1), T, "arboga, tabell 2")


# ------------------------------------------------------------------ the pipeline


def _index_markdown(quality: list[dict]) -> str:
    """report/kommun/index.qmd.j2 rendered for a unit with no shown diagram."""
    from kvinnofrid.reporting import text

    src = Path(__file__).resolve().parents[3] / "report" / "kommun"
    context = {
        "area": {"kind": "enhet", "name": "Ankeby", "units": ["Ankeby"], "cases": 40, "closed": 30},
        "differences": "",
        "units_shown": [],
        "compared": ["Ankeby", "Riket"],
        "sections": [],
        "trend_block": None,
        "quality": quality,
        "quality_links": [("Ankeby", "ankeby")],
        "quality_prefix": "../",
        "units_in_class": [],
        "period": ("2024-01-01", "2024-12-31"),
        "threshold": T,
        "demo": False,
        "edition": ur.PUBLISHED,
    }
    return text.render_template(text.make_environment(src), "index.qmd.j2", context)


@pytest.mark.parametrize(
    "issues", [[], [{"text": "Ärendet saknar datum", "count": 2}, {"text": "Fel kod", "count": 1}]]
)
def test_the_data_quality_item_is_a_finished_sentence_and_the_paragraph_after_it_stands_alone(issues):
    quality = [{"unit": "Ankeby", "round": "2024-12-31", "read": 41, "used": 40, "excluded": 1, "quarantined": 0}]
    body = _index_markdown([{**quality[0], "issues": issues}])
    section = body.split("## Datakvalitet", 1)[1].split("\n# ", 1)[0]
    item, rest = section.strip().split("\n\n", 1)
    assert item.startswith("- **Ankeby**") and item.endswith(".")
    if issues:
        assert "ärendet saknar datum (2); fel kod (1)." in " ".join(item.split())
    assert rest.startswith("Varje verksamhet har en egen sida")


def test_the_long_frame_keeps_each_tables_rows_with_its_own_keys_and_empty_reasons_where_none():
    protected = _long("7", "A", [("ja", None, 4, None, True), ("nej", 3, 4, 0.75, False)])
    protected = protected.drop("table", "area_kind", "area")
    plain = protected.drop(*at.REASONS).with_columns(pl.lit(False).alias("suppressed"))
    tables = {"7": {"A": protected, "B": plain, "Riket": plain.clear()}, "9": {"B": plain.head(1)}}
    kinds = {"A": "enhet", "B": "lan", "Riket": "riket"}
    out = at.long_frame(tables, kinds)
    assert out.schema == at.LONG_SCHEMA
    assert out.select("table", "area", "area_kind").rows() == [
        ("7", "A", "enhet"),
        ("7", "A", "enhet"),
        ("7", "B", "lan"),
        ("7", "B", "lan"),
        ("9", "B", "lan"),
    ]
    assert out["hidden_reason"].to_list() == ["under_troskel", None, None, None, None]
    assert out["n"].to_list() == [None, 3, None, 3, None]
    assert at.long_frame(tables, kinds, kinds=("grupp",)).schema == at.LONG_SCHEMA
    assert at.long_frame(tables, kinds, kinds=("enhet",)).height == 2
