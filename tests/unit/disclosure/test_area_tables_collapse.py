"""Pooling rare categories before suppression (registry ``collapse``,
area_tables.collapse_rows / collapsed_table): on tiny hand-made frames, the registry's
checks, and the recovery attack of test_suppression against pooled, protected tables."""

from __future__ import annotations

from importlib import resources

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.disclosure.suppression import suppress_complements
from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import RegistryError, from_mapping, load_registry
from kvinnofrid.statistics import tables
from kvinnofrid.statistics.tables import finish_table

CB = codebook.load()
REG = load_registry()


def single(rows) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows, schema={"group": pl.String, "category": pl.String, "n": pl.Int64, "denominator": pl.Int64}, orient="row"
    )
    return finish_table(frame)


def test_single_choice_pool_sums_its_rows_at_the_last_member_s_place():
    t = single([(None, "a", 10, 20), (None, "b", 2, 20), (None, "c", 5, 20), (None, "d", 3, 20)])
    out = at.collapse_rows(t, [("Övriga", ["b", "d"])])
    assert out["category"].to_list() == ["a", "c", "Övriga"]
    assert out["n"].to_list() == [10, 5, 5] and out["denominator"].to_list() == [20, 20, 20]
    assert out["share"].to_list() == [0.5, 0.25, 0.25]
    assert out.schema == tables.TABLE_SCHEMA and not out["suppressed"].any()


def test_pool_works_per_group_and_keeps_counts_only_tables_without_shares():
    t = single([("G1", "a", 1, 4), ("G1", "b", 3, 4), ("G2", "a", 2, 2), ("G2", "b", 0, 2)])
    out = at.collapse_rows(t, [("ab", ["a", "b"])], with_share=False)
    assert out.select("group", "category", "n").rows() == [("G1", "ab", 4), ("G2", "ab", 2)]
    assert out["share"].null_count() == 2


def test_multi_choice_pool_counts_a_case_once_however_many_pooled_options_it_chose():
    # diagram 8 pools codes 4, 5, 6 (Annan släkting, Barn, Annan) into "Övriga"
    cases = pl.DataFrame(
        {"perpetrator": [[1, 4, 5], [2, 6], [4], [1], [2, 3]]}, schema={"perpetrator": pl.List(pl.Int64)}
    )
    out = at.collapsed_table(8, cases, None, REG, CB)
    counts = dict(zip(out["category"], out["n"], strict=True))
    assert counts == {"Före detta partner": 2, "Nuvarande partner": 2, "Förälder/föräldrar": 1, "Övriga": 3}
    assert out["denominator"].unique().to_list() == [5]
    # the national table of the same cases is not pooled
    national = tables.build_table(8, cases, registry=REG, codebook=CB)
    assert "Övriga" not in national["category"].to_list() and national.height == 6


def test_single_choice_diagram_pool_from_the_registry():
    cases = pl.DataFrame({"closing_reason": [1, 1, 5, 6, 7, 2], "is_closed": [True] * 6})
    out = at.collapsed_table(14, cases, None, REG, CB)
    assert out.filter(pl.col("category") == "Övriga")["n"].to_list() == [3]
    assert out["category"].to_list()[-1] == "Övriga" and out["n"].sum() == 6


def _raw():
    text = resources.files("kvinnofrid.spec").joinpath("diagrams.yaml").read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.mark.parametrize(
    "number, pool, message",
    [
        (4, {"codes": [2, 99], "label": "Övriga"}, "not have"),
        (4, {"codes": [2], "label": "Övriga"}, "at least two"),
        (4, {"codes": [2, 3], "label": "Född utanför Europa"}, "overlaps"),
        (3, {"codes": [1, 2], "label": "x"}, "needs codes"),
        (1, {"labels": ["Avslutade", "Fått insats"], "label": "x"}, "only for tables"),
    ],
)
def test_a_bad_pool_is_named_when_the_registry_loads(number, pool, message):
    raw = _raw()
    entry = next(d for d in raw["diagrams"] if d["number"] == number)
    entry["collapse"] = [pool]
    with pytest.raises(RegistryError, match=message):
        from_mapping(raw)


def test_no_pool_splits_a_trend_measure_or_a_fact():
    """A trend measure reads its categories from the pooled tables: none may be pooled.
    A fact's categories lie outside every pool or are exactly one (65–: 65–74 + 75–)."""
    from kvinnofrid.statistics import trend

    pools = [(d.number, set(p.codes) | set(p.labels)) for d in REG.diagrams for p in d.collapse]
    for m in trend.DEFAULT_MEASURES:
        assert all(n != int(m["diagram"]) or not members & set(m.get("codes", [])) for n, members in pools), m
    for name, fact in REG.facts.items():
        named = {c for c in [fact.get("code"), *fact.get("codes", []), *fact.get("labels", [])] if c is not None}
        for n, members in pools:
            if n == fact["diagram"]:
                assert not named & members or named == members, name


# ------------------------------------------------------------------ the recovery attack


def _pooled_multi(rng, units: int, k: int, pool: list[int]) -> dict[str, pl.DataFrame]:
    """Random multi-choice cases per unit, tabled as the reports table them: the
    options outside ``pool``, then one row of the cases with any pooled option."""
    truth = {}
    for u in range(units):
        cases = int(rng.integers(3, 40))
        chosen = rng.random((cases, k)) < rng.uniform(0.03, 0.8, size=k)
        chosen[np.arange(cases), rng.integers(0, k, size=cases)] = True
        keep = [i for i in range(k) if i not in pool]
        rows = [(None, f"c{i}", int(chosen[:, i].sum()), cases) for i in keep]
        rows.append((None, "Övriga", int(chosen[:, pool].any(axis=1).sum()), cases))
        truth[f"U{u}"] = single(rows)
    return truth


def _pooled_single(rng, units: int, k: int, pool: list[int]) -> dict[str, pl.DataFrame]:
    truth = {}
    for u in range(units):
        counts = rng.poisson(rng.uniform(0.3, 8), size=k)
        d = int(counts.sum())
        t = single([(None, f"c{i}", int(c), d) for i, c in enumerate(counts)])
        truth[f"U{u}"] = at.collapse_rows(t, [("Övriga", [f"c{i}" for i in pool])])
    return truth


def _national(parts: dict[str, pl.DataFrame]) -> pl.DataFrame:
    frames = list(parts.values())
    n = sum(f["n"] for f in frames)
    d = sum(f["denominator"] for f in frames)
    return finish_table(frames[0].select("group", "category").with_columns(n=n, denominator=d))


@pytest.mark.parametrize("kind", ["single", "multi"])
@pytest.mark.parametrize("seed", range(12))
def test_no_hidden_count_can_be_recovered_from_pooled_protected_tables(seed, kind):
    from support.attack import T, check_marked, check_secure

    rng = np.random.default_rng(1000 + seed)
    k, units = int(rng.integers(4, 7)), int(rng.integers(2, 5))
    pool = sorted(rng.choice(k, size=int(rng.integers(2, k - 1)), replace=False).tolist())
    truth = (_pooled_single if kind == "single" else _pooled_multi)(rng, units, k, pool)
    truth = {"Riket": _national(truth), **truth}
    out = suppress_complements(
        truth, T, totals={"Riket": [u for u in truth if u != "Riket"]}, exempt={"Riket"}, kinds=kind
    )
    check_marked(out, truth, {"Riket"}, kind)
    check_secure(out, truth, {"Riket": [u for u in truth if u != "Riket"]}, kind)


# ---------------------------------------------------------------- every area's table in one pass


def test_area_tables_equal_each_area_built_from_its_own_cases():
    """area_tables builds every unit's table in one pass and sums units into län and
    classes; each must equal the definition: the area's own cases through
    collapsed_table (every optional row), on the national table's rows."""
    from support.cases import synthetic

    from kvinnofrid.stages.derive import derive_cases

    cases, risk = synthetic()
    derived = derive_cases(cases, risk)
    units = sorted(derived["unit"].unique().to_list())
    areas = [
        at.Area("riket", at.NATIONAL, "riket", (*units, "u_tom")),
        at.Area("storleksklass", "Klass", "klass", (units[0], units[2], "u_tom")),
        *[at.Area("enhet", u, u, (u,)) for u in [*units, "u_tom"]],
        at.Area("lan", "Län", "lan", tuple(units[1:])),
    ]
    diagrams = [2, 5, 7, 8, 9, 10, 13, 16]  # single, multi, pooled, conditional, means, histogram
    settings = {"honour_interventions_min": 10}
    built = at.area_tables(derived, areas, diagrams, settings)
    assert list(built) == [*map(str, diagrams), at.TOP_GROUP]
    for table_id, per_area in built.items():
        assert list(per_area) == [a.name for a in areas]
        national = per_area[at.NATIONAL]
        for area in areas[1:]:
            own = derived.filter(pl.col("unit").is_in(area.units))
            if table_id == at.TOP_GROUP:
                expected = at.top_group_table(own, REG)
            else:
                expected = at.collapsed_table(int(table_id), own, at.EVERY_OPTION, REG, CB)
            expected = at._aligned(expected, national)
            assert_frame_equal(per_area[area.name], expected, check_exact=True)
    assert built["2"]["u_tom"]["n"].sum() == 0 and built["2"]["u_tom"].height == built["2"][at.NATIONAL].height
