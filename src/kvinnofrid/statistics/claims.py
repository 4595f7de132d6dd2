"""Claims as data: what a sentence of the report says about the data, with its numbers.

The report's words are chosen from these objects by kvinnofrid.reporting.wording; the
objects themselves hold only numbers, read from the published tables and the
comparison rows (kvinnofrid.statistics.stats), so that a test can check every claim
against the tables. Three kinds:

* ``Share``: the share of one or more categories (summed) of a diagram table, in one
  group or the whole table: ``share_of(table, categories)``;
* ``ranking(table)``: the visible categories of a table as ``Share`` objects, largest
  first (what "vanligast", "den största gruppen" rest on);
* ``Difference``: one comparison of two groups (a share or a mean), with the difference
  and its 95 % interval, the test, and its p value adjusted by Holm's method **within
  its passage** (``p_family``): the passage is the set of comparisons one piece of text
  makes together, declared in the registry (``passages``), and that set is the family.
  ``passage_differences(stats, registry, codebook)`` builds every passage's family.

A passage's ``claims`` are made whatever the result (a missing comparison stays, with
no numbers, so the text can say it could not be made); its ``screen`` rows are looked
through and all of them are in the family, not only those the text reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import OPTION_VARIABLES, ClaimSpec, Passage, Registry
from kvinnofrid.statistics.stats import ALPHA, holm

__all__ = [
    "Difference",
    "Share",
    "differences_frame",
    "find_difference",
    "passage_differences",
    "ranking",
    "share_of",
]


@dataclass(frozen=True)
class Share:
    """The share of ``categories`` (summed) among the ``denominator`` cases of a diagram
    table (one ``group``, or the whole table). ``parts`` are the categories' own shares
    as the table (and the figure) shows them; ``share`` is None where the table has no
    shares (a histogram: then ``n / denominator``) cannot be formed either."""

    diagram: int
    categories: tuple[str, ...]
    group: str | None
    n: int
    denominator: int | None
    share: float | None
    parts: tuple[float | None, ...] = ()

    @property
    def label(self) -> str:
        return self.categories[0] if len(self.categories) == 1 else " + ".join(self.categories)


@dataclass(frozen=True)
class Difference:
    """One comparison of group a with group b in passage ``passage`` (the family)."""

    passage: str
    comparison: str
    variable: str
    category: str | None
    group_a: str | None
    group_b: str | None
    n_a: int | None = None
    denominator_a: int | None = None
    n_b: int | None = None
    denominator_b: int | None = None
    share_a: float | None = None
    share_b: float | None = None
    mean_a: float | None = None
    mean_b: float | None = None
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    test: str | None = None
    p_value: float | None = None
    p_family: float | None = None
    family_size: int = 0
    screened: bool = False

    @property
    def is_mean(self) -> bool:
        return self.category is None

    @property
    def available(self) -> bool:
        """Both groups have numbers (a share or a mean each)."""
        if self.is_mean:
            return self.mean_a is not None and self.mean_b is not None
        return self.share_a is not None and self.share_b is not None

    @property
    def significant(self) -> bool | None:
        """p_family < 0.05; None when the comparison could not be tested."""
        return None if self.p_family is None else self.p_family < ALPHA


# ---------------------------------------------------------------- shares of tables


def _visible(table: pl.DataFrame, group: str | None) -> pl.DataFrame:
    rows = table.filter(~pl.col("suppressed").fill_null(False))
    if group is not None:
        rows = rows.filter(pl.col("group") == group)
    return rows


def share_of(table: pl.DataFrame, categories: Sequence[str], group: str | None = None, diagram: int = 0) -> Share:
    """The share of ``categories`` (summed) of a diagram table; KeyError naming a
    category the table (group) does not show."""
    rows = _visible(table, group).filter(pl.col("category").is_in(list(categories)))
    found = set(rows["category"].to_list())
    missing = [c for c in categories if c not in found]
    if missing:
        where = f" i gruppen {group!r}" if group else ""
        raise KeyError(f"diagram {diagram} visar inte kategorin {missing[0]!r}{where}")
    n = int(rows["n"].sum())
    denominator = int(rows["denominator"][0])
    shares = rows["share"].to_list()
    # a histogram's table has counts only: the share is then n / N
    summed = float(sum(shares)) if all(s is not None for s in shares) else None
    share = summed if summed is not None else (n / denominator if denominator else None)
    by_category = dict(zip(rows["category"].to_list(), shares))
    return Share(diagram, tuple(categories), group, n, denominator, share, tuple(by_category[c] for c in categories))


def ranking(table: pl.DataFrame, group: str | None = None, diagram: int = 0) -> list[Share]:
    """The visible categories of a table (one group) as shares, largest first; ties
    keep the table's order."""
    rows = _visible(table, group).filter(pl.col("n").is_not_null())
    shares = [share_of(rows, [c], None, diagram) for c in rows["category"].to_list()]
    shares = [Share(s.diagram, s.categories, group, s.n, s.denominator, s.share, s.parts) for s in shares]
    return sorted(shares, key=lambda s: -(s.share if s.share is not None else s.n))


# ---------------------------------------------------------------- differences in passages


def _category_labels(spec: ClaimSpec, cb: Codebook) -> list[str | None]:
    if spec.codes:
        var = cb[OPTION_VARIABLES.get(spec.variable, spec.variable)]
        return [var.label_of(c) for c in spec.codes]
    return list(spec.labels)


def _rows_for(stats: pl.DataFrame, spec: ClaimSpec, cb: Codebook) -> list[dict]:
    rows = stats.filter((pl.col("comparison") == spec.comparison) & (pl.col("variable") == spec.variable))
    labels = _category_labels(spec, cb)
    if labels:
        rows = rows.filter(pl.col("category").is_in(labels))
        order = {label: i for i, label in enumerate(labels)}
        return sorted(rows.iter_rows(named=True), key=lambda r: order[r["category"]])
    return list(rows.iter_rows(named=True))


def _missing(passage: str, spec: ClaimSpec, cb: Codebook) -> list[dict]:
    """Stand-ins for claims the comparison rows lack (no data for a group)."""
    labels = _category_labels(spec, cb) or [None]
    return [
        {"comparison": spec.comparison, "variable": spec.variable, "category": c, "group_a": None, "group_b": None}
        for c in labels
    ]


def _family(stats: pl.DataFrame, passage: Passage, cb: Codebook) -> list[tuple[dict, bool]]:
    """The passage's rows: its claims in the registry's order, then the screened rows
    (in the comparison table's order) that are not claims too."""
    chosen: list[tuple[dict, bool]] = []
    seen: set[tuple] = set()
    for spec, screened in [(c, False) for c in passage.claims] + [(c, True) for c in passage.screen]:
        rows = _rows_for(stats, spec, cb)
        if not rows and not screened:
            rows = _missing(passage.id, spec, cb)
        for r in rows:
            key = (r["comparison"], r["variable"], r["category"], r.get("group_a"), r.get("group_b"))
            if key not in seen:
                seen.add(key)
                chosen.append((r, screened))
    return chosen


def _difference(passage: str, row: dict, screened: bool, p_family: float | None, size: int) -> Difference:
    def number(key: str) -> float | None:
        value = row.get(key)
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    return Difference(
        passage=passage,
        comparison=row["comparison"],
        variable=row["variable"],
        category=row["category"],
        group_a=row.get("group_a"),
        group_b=row.get("group_b"),
        n_a=number("n_a"),
        denominator_a=number("denominator_a"),
        n_b=number("n_b"),
        denominator_b=number("denominator_b"),
        share_a=number("share_a"),
        share_b=number("share_b"),
        mean_a=number("mean_a"),
        mean_b=number("mean_b"),
        difference=number("difference"),
        low=number("difference_low"),
        high=number("difference_high"),
        test=row.get("test"),
        p_value=number("p_value"),
        p_family=p_family,
        family_size=size,
        screened=screened,
    )


def passage_differences(stats: pl.DataFrame | None, registry: Registry, cb: Codebook) -> dict[str, list[Difference]]:
    """Every passage's comparisons, Holm-adjusted within the passage (its family)."""
    empty = pl.DataFrame(schema={"comparison": pl.String, "variable": pl.String, "category": pl.String})
    frame = stats if stats is not None and stats.height else empty
    out: dict[str, list[Difference]] = {}
    for key, passage in registry.passages.items():
        rows = _family(frame, passage, cb)
        p_values = [r.get("p_value") for r, _ in rows]
        adjusted = holm(p_values)
        size = sum(p is not None and not math.isnan(p) for p in p_values)
        out[key] = [_difference(key, r, screened, p, size) for (r, screened), p in zip(rows, adjusted)]
    return out


def find_difference(
    passages: dict[str, list[Difference]], comparison: str, variable: str, category: str | None
) -> Difference | None:
    """The first passage's claim on (comparison, variable, category), or None."""
    for differences in passages.values():
        for d in differences:
            if (d.comparison, d.variable, d.category) == (comparison, variable, category) and d.available:
                return d
    return None


def differences_frame(passages: dict[str, list[Difference]]) -> pl.DataFrame:
    """All passages' comparisons as one frame (the families, for the method appendix)."""
    rows = [{**d.__dict__, "significant": d.significant} for ds in passages.values() for d in ds]
    schema = {
        "passage": pl.String,
        "comparison": pl.String,
        "variable": pl.String,
        "category": pl.String,
        "group_a": pl.String,
        "group_b": pl.String,
        "difference": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
        "p_value": pl.Float64,
        "p_family": pl.Float64,
        "family_size": pl.Int64,
        "screened": pl.Boolean,
        "significant": pl.Boolean,
    }
    return pl.DataFrame([{k: r[k] for k in schema} for r in rows], schema=schema)
