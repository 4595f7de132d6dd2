"""Results by municipality size for the national report, from the protected tables.

A size class (or a comparison group from a grouping file) is an area below national
level: its numbers are the ones the comparison reports publish, protected together
with every unit's and län's (rule unit_tables, ``area_tables.group_tables``), so that
the national report shows a class with exactly the cells hidden that every other output
hides. Nothing here reads the cases.

* ``measure_rows``: the registry's ``size_measures`` (key shares) for the country and
  every published class and group, hidden cells kept hidden with their reasons;
* ``comparison_rows``: each class or group against the rest of the country on each
  share (the country minus the class: both published), as comparison rows of
  kvinnofrid.statistics.stats (``STATS_SCHEMA``: chi-square or Fisher's exact test,
  Newcombe's interval of the difference). The national report's passage ``storlek``
  corrects them together by Holm's method. A hidden share is never compared.
"""

from __future__ import annotations

import polars as pl

from kvinnofrid.spec.diagrams import SIZE_COMPARISONS, Registry
from kvinnofrid.statistics import stats as stats_module

__all__ = ["MEASURE_SCHEMA", "comparison_rows", "measure_rows"]

MEASURE_SCHEMA = pl.Schema(
    {
        "area_kind": pl.String,
        "area": pl.String,
        "measure": pl.String,
        "diagram": pl.String,
        "variable": pl.String,
        "category": pl.String,
        "n": pl.Int64,
        "denominator": pl.Int64,
        "share": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "suppressed": pl.Boolean,
        "hidden_reason": pl.String,
        "denominator_reason": pl.String,
    }
)


def measure_rows(published: pl.DataFrame | None, registry: Registry) -> pl.DataFrame:
    """One row per area and key share, the areas in the order of ``published`` (the
    country, the size classes in config order, the groups), the shares in the
    registry's order. ``published``: the protected long frame (area_tables.LONG_SCHEMA)
    of the country, classes and groups; a share whose diagram it lacks is left out."""
    if published is None or published.is_empty():
        return pl.DataFrame(schema=MEASURE_SCHEMA)
    areas = published.select("area_kind", "area").unique(maintain_order=True).rows()
    frames = []
    for m in registry.size_measures:
        table = str(registry.by_id(m.diagram).number)
        rows = published.filter((pl.col("table") == table) & (pl.col("category") == m.category))
        if rows.select("area").n_unique() < len(areas):
            continue  # not among the comparison reports' tables (config unit_reports.diagrams)
        frames.append(
            rows.select(
                "area_kind",
                "area",
                pl.lit(m.heading).alias("measure"),
                pl.lit(m.diagram).alias("diagram"),
                pl.lit(m.variable).alias("variable"),
                "category",
                "n",
                "denominator",
                "share",
                "ci_low",
                "ci_high",
                pl.col("suppressed").fill_null(False),
                "hidden_reason",
                "denominator_reason",
            )
        )
    if not frames:
        return pl.DataFrame(schema=MEASURE_SCHEMA)
    order = {area: i for i, (_, area) in enumerate(areas)}
    out = pl.concat(frames).cast(dict(MEASURE_SCHEMA))
    return out.with_columns(pl.col("area").replace_strict(order).alias("_o")).sort("_o", maintain_order=True).drop("_o")


def _visible(row: dict) -> bool:
    return not row["suppressed"] and row["n"] is not None and row["denominator"] is not None


def comparison_rows(measures: pl.DataFrame, rest: str) -> pl.DataFrame:
    """Each published class or group against the rest of the country (``rest``: the
    comparison group label "Övriga") on every key share both show (STATS_SCHEMA)."""
    country = {r["measure"]: r for r in measures.filter(pl.col("area_kind") == "riket").iter_rows(named=True)}
    rows = []
    for r in measures.filter(pl.col("area_kind").is_in(list(SIZE_COMPARISONS))).iter_rows(named=True):
        whole = country.get(r["measure"])
        if whole is None or not _visible(r) or not _visible(whole):
            continue
        other_n, other_d = whole["n"] - r["n"], whole["denominator"] - r["denominator"]
        if r["denominator"] <= 0 or other_d <= 0:
            continue
        test, p_value = stats_module.two_by_two_test(r["n"], r["denominator"], other_n, other_d)
        interval = stats_module.share_difference_interval(r["n"], r["denominator"], other_n, other_d)
        rows.append(
            {
                "comparison": SIZE_COMPARISONS[r["area_kind"]],
                "variable": r["variable"],
                "category": r["category"],
                "group_a": r["area"],
                "n_a": r["n"],
                "denominator_a": r["denominator"],
                "share_a": r["n"] / r["denominator"],
                "group_b": rest,
                "n_b": other_n,
                "denominator_b": other_d,
                "share_b": other_n / other_d,
                "difference": None if interval is None else interval[0],
                "difference_low": None if interval is None else interval[1],
                "difference_high": None if interval is None else interval[2],
                "test": test,
                "p_value": p_value,
            }
        )
    adjusted = stats_module.holm([r["p_value"] for r in rows])
    for r, p in zip(rows, adjusted):
        r["p_holm"] = p
        r["significant"] = None if p is None else p < stats_module.ALPHA
    return pl.DataFrame(rows, schema=stats_module.STATS_SCHEMA, strict=False)
