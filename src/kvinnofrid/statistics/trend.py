"""Key shares per submission round beside the previous report's values.

The compilation is made in rounds (an interim one, then the final one, see
docs/table-definitions.md, the scope of the data); the report compares a few key shares
across the rounds and with the previous round of the project, 2019–2020 (91 % women,
15 % HRV, a risk assessment in 75 % of cases, 78 % of survey respondents improved).

A measure is declared, not coded: a diagram number and the option codes of the
diagram's category variable (``codes``, named through the codebook) whose ``n`` add up
to the measure; a flag diagram's measure is its yes row; a derived category without
codes is named by its label (``categories``). ``DEFAULT_MEASURES``, overridden by config
``trend.measures``; ``measure_categories`` turns codes into the table's labels. Every share is read from ``tables.build_table`` — the same
function and the same rows as the national tables — so no number is computed twice;
a measure of several categories adds their ``n`` over the table's common denominator
and takes the Wilson interval of ``tables.wilson_interval``.

The previous report's values come from config (``trend.previous``), keyed by measure
id, and are shown as one row per measure with ``source`` = the previous report's label
(config ``trend.previous_label``, "Tidigare rapport 2019–2020"); their n and interval
are unknown (empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Registry, load_registry
from kvinnofrid.statistics import tables as tables_module

# Fallback for config ``trend.measures`` (the config wins): id, Swedish label, the
# diagram whose national table holds it, and the codes of its category variable (the
# risk-assessment diagram 26 is a flag: its yes row).
DEFAULT_MEASURES: tuple[dict[str, Any], ...] = (
    {"id": "share_women", "label": "Andel kvinnor", "diagram": 2, "codes": [1]},
    {"id": "share_hrv", "label": "Andel ärenden med hedersrelaterat våld", "diagram": 5, "codes": [1]},
    {"id": "share_risk_assessed", "label": "Andel ärenden med riskbedömning", "diagram": 26},
    {
        "id": "share_survey_improved",
        "label": "Andel av de svarande vars situation förbättrats",
        "diagram": 18,
        "codes": [1, 2],
    },
)
DEFAULT_SOURCES = {"interim": "Preliminär sammanställning", "final": "Slutlig sammanställning"}

TREND_SCHEMA = pl.Schema(
    {
        "measure": pl.String,
        "label": pl.String,
        "source": pl.String,
        "round": pl.Date,
        "n": pl.Int64,
        "denominator": pl.Int64,
        "share": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
    }
)


def measure_from_table(table: pl.DataFrame, categories: Sequence[str], where: str = "") -> dict[str, Any]:
    """n (sum over ``categories``), denominator, share and Wilson interval from one
    national table (ungrouped, one denominator)."""
    known = table["category"].to_list()
    missing = [c for c in categories if c not in known]
    if missing:
        raise ValueError(f"{where}: kategorierna {missing} finns inte i tabellen (finns: {known})")
    rows = table.filter(pl.col("category").is_in(list(categories)))
    denominators = rows["denominator"].unique().to_list()
    if len(denominators) != 1:
        raise ValueError(f"{where}: kategorierna har olika nämnare {denominators}")
    sums = pl.DataFrame({"n": [int(rows["n"].sum())], "denominator": [int(denominators[0])]})
    if len(categories) == 1:  # the table's own numbers, as published
        sums = pl.concat([sums, rows.select("share", "ci_low", "ci_high").head(1)], how="horizontal")
    return measure_values(sums, single=len(categories) == 1).row(0, named=True)


def measure_values(sums: pl.DataFrame, single: bool) -> pl.DataFrame:
    """A measure's share and interval from its categories' summed ``n`` and their one
    ``denominator`` (a row per area, round or table): one category keeps the table's own
    ``share``, ``ci_low`` and ``ci_high`` as published (columns of ``sums``); several get
    n / denominator and the Wilson interval of the sum (none where the denominator is 0)."""
    if single:
        return sums.select("n", "denominator", "share", "ci_low", "ci_high")
    low, high = tables_module.wilson_interval(sums["n"].fill_null(0), sums["denominator"].fill_null(0))
    return sums.select(
        "n",
        "denominator",
        share=pl.when(pl.col("denominator") > 0).then(pl.col("n") / pl.col("denominator")),
        ci_low=pl.Series(low).fill_nan(None),
        ci_high=pl.Series(high).fill_nan(None),
    )


def measure_categories(
    measure: Mapping[str, Any], registry: Registry | None = None, codebook: Codebook | None = None
) -> list[str]:
    """The category labels of the measure's national table whose ``n`` add up to it:
    ``codes`` of the diagram's category variable through the codebook, a flag
    diagram's yes label, or ``categories`` as given (derived labels)."""
    if "categories" in measure:
        return list(measure["categories"])
    reg = registry or load_registry()
    d = reg[int(measure["diagram"])]
    if "codes" in measure:
        variable = (d.category or {}).get("variable")
        if variable is None:
            raise ValueError(
                f"trend.measures {measure['id']}: diagram {d.number} har ingen kodad variabel; ange categories"
            )
        var = (codebook or codebook_module.load())[variable]
        return [var.label_of(int(c)) for c in measure["codes"]]
    if d.table == "flag":
        return [reg.labels["yes"]]
    raise ValueError(f"trend.measures {measure['id']}: ange codes eller categories")


def resolved_measures(measures: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The measures with ``categories`` filled in (``measure_categories``)."""
    reg, cb = load_registry(), codebook_module.load()
    return [{**m, "categories": measure_categories(m, reg, cb)} for m in measures]


def round_trend(
    derived_by_round: Mapping[dt.date, pl.DataFrame],
    previous: Mapping[str, float],
    *,
    measures: Sequence[Mapping[str, Any]] | None = None,
    previous_label: str | None = None,
    sources: Mapping[str, str] | None = None,
    settings: Any = None,
    tables_by_round: Mapping[dt.date, Mapping[int, pl.DataFrame]] | None = None,
) -> pl.DataFrame:
    """One row per (measure, source): the previous report's value (``previous``,
    measure id → share; measures without a value get no such row), then one row per
    round in date order (the last round is ``final``, earlier ones ``interim``).

    ``derived_by_round``: round date → the derived case table compiled at that round.
    ``tables_by_round`` (optional): the national tables already built per round
    (diagram number → table); used instead of building them again."""
    measures = resolved_measures(measures or DEFAULT_MEASURES)
    sources = {**DEFAULT_SOURCES, **(sources or {})}
    rounds = sorted(derived_by_round)
    unknown = sorted(set(previous) - {m["id"] for m in measures})
    if unknown:
        raise ValueError(f"trend.previous: okända mått {unknown}")
    if previous and not previous_label:
        raise ValueError("trend.previous_label saknas: ange namnet på den tidigare rapporten")
    rows = []
    for m in measures:
        if m["id"] in previous:
            rows.append(
                {
                    "measure": m["id"],
                    "label": m["label"],
                    "source": previous_label,
                    "round": None,
                    "n": None,
                    "denominator": None,
                    "share": float(previous[m["id"]]),
                    "ci_low": None,
                    "ci_high": None,
                }
            )
    built: dict[tuple[dt.date, int], pl.DataFrame] = {}
    for r in rounds:
        for m in measures:
            number = int(m["diagram"])
            key = (r, number)
            if key not in built:
                given = (tables_by_round or {}).get(r, {})
                built[key] = (
                    given[number]
                    if number in given
                    else tables_module.build_table(number, derived_by_round[r], settings=settings)
                )
            values = measure_from_table(built[key], m["categories"], f"Mått {m['id']} (diagram {number}), {r}")
            rows.append(
                {
                    "measure": m["id"],
                    "label": m["label"],
                    "source": sources["final" if r == rounds[-1] else "interim"],
                    "round": r,
                    **values,
                }
            )
    order = {m["id"]: i for i, m in enumerate(measures)}
    frame = pl.DataFrame(rows, schema=TREND_SCHEMA)
    return (
        frame.with_columns(pl.col("measure").replace_strict(order, return_dtype=pl.Int32).alias("_m"))
        .sort("_m", "round", nulls_last=False, maintain_order=True)
        .drop("_m")
    )


ROUNDS_SCHEMA = pl.Schema({"round": pl.Date, "source": pl.String, "units": pl.Int64, "cases": pl.Int64})


def round_cases(
    derived_by_round: Mapping[dt.date, pl.DataFrame], sources: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """One row per round in date order: ``round``, ``source`` (as in ``round_trend``),
    ``units`` (units with at least one case) and ``cases`` in the table compiled at it."""
    sources = {**DEFAULT_SOURCES, **(sources or {})}
    rounds = sorted(derived_by_round)
    rows = [
        {
            "round": r,
            "source": sources["final" if r == rounds[-1] else "interim"],
            "units": derived_by_round[r]["unit"].n_unique(),
            "cases": derived_by_round[r].height,
        }
        for r in rounds
    ]
    return pl.DataFrame(rows, schema=ROUNDS_SCHEMA)


def trend_settings(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """``measures`` (with ``categories`` resolved, ``resolved_measures``), ``previous``
    and ``previous_label`` from config ``trend`` (absent keys: ``DEFAULT_MEASURES``, no
    previous values; the label is config's, required with previous values).

    Checks what the schema cannot: measure ids are unique and every previous value
    names a measure. Raises ValueError with a Swedish message naming the key."""
    section = dict(section or {})
    measures = resolved_measures(section.get("measures") or DEFAULT_MEASURES)
    ids = [m["id"] for m in measures]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise ValueError(f"trend.measures: id {', '.join(doubled)} förekommer mer än en gång")
    previous = {str(k): float(v) for k, v in (section.get("previous") or {}).items()}
    unknown = sorted(set(previous) - set(ids))
    if unknown:
        raise ValueError(
            f"trend.previous: {', '.join(unknown)} är inget mått; tillåtna mått är {', '.join(ids)} (trend.measures)"
        )
    label = section.get("previous_label")
    if previous and not label:
        raise ValueError("trend.previous_label saknas: ange namnet på den tidigare rapporten")
    return {"measures": measures, "previous": previous, "previous_label": str(label) if label else None}
