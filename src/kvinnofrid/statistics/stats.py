"""Comparison tables behind every difference the report's text claims
(docs/table-definitions.md, the statements in the text that need their own numbers).

Each comparison is a family of rows, one per (variable, category), comparing two
groups of cases:

* shares (single-choice: one row per option among cases with a valid value;
  multi-choice: one row per option among cases with any option; flags: the share
  true): a 2×2 table, Pearson chi-square without continuity correction, or Fisher's
  exact test (two-sided) when an expected cell is below 5;
* counts and days (number of interventions among cases with ≥ 1 intervention, as in
  diagram 10; partners where collaboration is recorded; duration of closed cases with
  valid dates): means, and the Mann–Whitney U test (two-sided).

Every row has the difference a − b with its 95 % interval (``difference_low``/``_high``:
Newcombe's hybrid score interval for shares, Welch's t interval for means).

``p_holm`` is Holm-corrected over **every row of the same ``comparison``** (all tests of
one pair of groups), ``significant`` = p_holm < 0.05: a screening view for the analyst.
The report's words do not use it: a passage of the text corrects over the comparisons it
makes together (its family, declared in the registry's ``passages``;
kvinnofrid.statistics.claims). Variables registered after support
(the closed-only diagrams of the registry) are compared on closed cases only.
The top group is compared with the *rest* of the closed cases (not with all closed
cases, which contain it), survey respondents with closed non-respondents.

Families (``comparison``), each answering statements of the text:

* ``hrv``: HRV (59 = Ja) vs Ej HRV (59 = Nej): sex, age, origin, perpetrator,
  violence grade, risk assessed, number of interventions, interventions, duration,
  goal follow-up, survey change;
* ``men``: Man vs Kvinna: age, HRV, perpetrator, violence grade, risk assessed,
  instruments (FREDA), number of interventions, interventions, implementation, goal;
* ``top_group``: top group vs the other closed cases;
* ``survey_dropout``: closed cases with a survey answer vs closed cases without;
* ``youngest``: the first age group (18–24) vs the other age groups (violence grade);
* ``duration_closing_reason``: duration of cases closed with goal reached vs
  declined and vs did not return (Mann–Whitney);
* ``risk_change`` / ``risk_change_instrument``: the distribution of minskad /
  oförändrad / ökad (descriptive, no test), overall and per instrument where the
  first and last assessment share it; ``risk_change_top_group``: the top group vs the
  other cases with repeated ratings (tested).

Output columns: ``STATS_SCHEMA`` (``denominator_a``/``_b`` = the cases compared in
each group; ``n_a``/``n_b`` = those in the category, or the cases with a value for
means). Rows are in a fixed order: deterministic.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Registry, load_registry
from kvinnofrid.statistics.tables import CONFIDENCE, Z, table_csv

ALPHA = 0.05
MIN_EXPECTED = 5

STATS_SCHEMA = pl.Schema(
    {
        "comparison": pl.String,
        "variable": pl.String,
        "category": pl.String,
        "group_a": pl.String,
        "n_a": pl.Int64,
        "denominator_a": pl.Int64,
        "share_a": pl.Float64,
        "mean_a": pl.Float64,
        "group_b": pl.String,
        "n_b": pl.Int64,
        "denominator_b": pl.Int64,
        "share_b": pl.Float64,
        "mean_b": pl.Float64,
        "difference": pl.Float64,
        "difference_low": pl.Float64,
        "difference_high": pl.Float64,
        "test": pl.String,
        "p_value": pl.Float64,
        "p_holm": pl.Float64,
        "significant": pl.Boolean,
    }
)

# what each variable is compared as
COUNT_VARIABLES = ("n_interventions", "n_partners", "duration_days")
FLAG_VARIABLES = (
    "risk_assessed",
    "has_intervention",
    "housing_intervention",
    "goal_reached",
    "single_intervention",
    "any_partner",
)


# ---------------------------------------------------------------- tests


def two_by_two_test(a_yes: int, a_total: int, b_yes: int, b_total: int) -> tuple[str | None, float | None]:
    """Chi-square (no continuity correction) on the 2×2 table, Fisher's exact test when
    an expected cell is below 5; (None, None) when a margin is zero."""
    from scipy import stats as sps  # here: about 1 s to import, and the report jobs need none of it

    table = np.array([[a_yes, a_total - a_yes], [b_yes, b_total - b_yes]], dtype=float)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return None, None
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if (expected < MIN_EXPECTED).any():
        return "fisher", float(sps.fisher_exact(table.astype(int), alternative="two-sided").pvalue)
    chi = sps.chi2_contingency(table, correction=False)
    return "chi2", float(chi.pvalue)


def count_test(a: np.ndarray, b: np.ndarray) -> tuple[str | None, float | None]:
    """Two-sided Mann–Whitney U test; (None, None) when a group is empty."""
    from scipy import stats as sps  # here: about 1 s to import, and the report jobs need none of it

    if len(a) == 0 or len(b) == 0:
        return None, None
    if np.all(np.concatenate([a, b]) == a[0]):
        return "mannwhitney", 1.0
    return "mannwhitney", float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p values (missing values stay missing, m = the
    number of present values)."""
    present = [(p, i) for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


@functools.cache
def _normal_quantile(level: float) -> float:
    """The standard normal quantile of a two-sided ``level``: ``tables.Z`` (the same
    number, written out) for 95 %. Cached: a comparison report takes hundreds of
    intervals, and scipy's ``ppf`` costs about 0.3 ms a call (its import a second)."""
    if level == CONFIDENCE:
        return Z
    from scipy import stats as sps

    return float(sps.norm.ppf(0.5 + level / 2))


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval for the share k/n (None when n is 0). Unlike the normal
    approximation it stays inside 0–1 and is sound for small n and shares near 0 or 1."""
    if n <= 0:
        return None
    z = _normal_quantile(level)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def share_difference_interval(
    a_yes: int, a_n: int, b_yes: int, b_n: int, level: float = 0.95
) -> tuple[float, float, float] | None:
    """The difference of two shares a − b with Newcombe's hybrid score interval
    (method 10, from the two Wilson intervals): (difference, low, high), or None when
    a group is empty. Sound for small groups, where the Wald interval is too narrow."""
    wa, wb = wilson_interval(a_yes, a_n, level), wilson_interval(b_yes, b_n, level)
    if wa is None or wb is None:
        return None
    pa, pb = a_yes / a_n, b_yes / b_n
    diff = pa - pb
    low = diff - math.sqrt((pa - wa[0]) ** 2 + (wb[1] - pb) ** 2)
    high = diff + math.sqrt((wa[1] - pa) ** 2 + (pb - wb[0]) ** 2)
    return diff, max(-1.0, low), min(1.0, high)


def mean_difference_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float] | None:
    """The difference of two means a − b with Welch's t interval (unequal variances):
    (difference, low, high), or None when a group has fewer than two values."""
    from scipy import stats as sps  # here: about 1 s to import, and the report jobs need none of it

    if len(a) < 2 or len(b) < 2:
        return None
    diff = float(a.mean() - b.mean())
    va, vb = float(a.var(ddof=1)) / len(a), float(b.var(ddof=1)) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    return diff, diff - half, diff + half


def _interval_columns(interval: tuple[float, float, float] | None) -> dict[str, float | None]:
    if interval is None:
        return {"difference_low": None, "difference_high": None}
    return {"difference_low": interval[1], "difference_high": interval[2]}


# ---------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Comparison:
    name: str
    group_a: str
    group_b: str
    mask_a: pl.Expr
    mask_b: pl.Expr
    variables: tuple[str, ...]
    closed_only: bool = False


def _closed_only_variables(reg: Registry) -> set[str]:
    return {d.category["variable"] for d in reg.diagrams if "closed" in d.population and "variable" in d.category}


def _categories(variable: str, cb: Codebook, reg: Registry) -> tuple[str, list, list[str]]:
    """(kind, values, labels) of a variable: kind single | multi | flag | count."""
    if variable in COUNT_VARIABLES:
        return "count", [], []
    if variable in FLAG_VARIABLES:
        return "flag", [True], [reg.labels["yes"]]
    if variable == "age_group":
        labels = cb.age_group_labels()
        return "single", labels, labels
    if variable == "initiative_groups":
        labels = reg.label_list("initiative_groups", cb)
        return "multi", labels, labels
    if variable == "risk_instruments":
        var = cb["risk_assessments"]
        return "multi", var.codes, var.labels
    var = cb[variable]
    return ("multi" if var.kind == "multi" else "single"), var.codes, var.labels


def _mean_row(common: dict, variable: str, a: pl.DataFrame, b: pl.DataFrame) -> dict:
    """A count variable: both groups' means, Welch's interval of the difference, Mann–Whitney."""
    if variable == "n_interventions":  # as diagram 10: cases with ≥ 1 intervention
        a, b = a.filter(pl.col("has_intervention")), b.filter(pl.col("has_intervention"))
    va = a[variable].drop_nulls().to_numpy().astype(float)
    vb = b[variable].drop_nulls().to_numpy().astype(float)
    test, p = count_test(va, vb)
    mean_a = float(va.mean()) if va.size else None
    mean_b = float(vb.mean()) if vb.size else None
    return {
        **common,
        "category": None,
        "n_a": va.size,
        "denominator_a": va.size,
        "mean_a": mean_a,
        "n_b": vb.size,
        "denominator_b": vb.size,
        "mean_b": mean_b,
        "difference": None if mean_a is None or mean_b is None else mean_a - mean_b,
        **_interval_columns(mean_difference_interval(va, vb)),
        "test": test,
        "p_value": p,
    }


def _share_row(common: dict, label: str, ya: int, da: int, yb: int, db: int) -> dict:
    """One category: both groups' shares, Newcombe's interval of the difference, the 2×2 test."""
    sa = ya / da if da else None
    sb = yb / db if db else None
    test, p = two_by_two_test(ya, da, yb, db)
    return {
        **common,
        "category": label,
        "n_a": ya,
        "denominator_a": da,
        "share_a": sa,
        "n_b": yb,
        "denominator_b": db,
        "share_b": sb,
        "difference": None if sa is None or sb is None else sa - sb,
        **_interval_columns(share_difference_interval(ya, da, yb, db)),
        "test": test,
        "p_value": p,
    }


def _with_holm(rows: list[dict]) -> list[dict]:
    """``p_holm`` over the rows given (one comparison) and ``significant``."""
    for r, ph in zip(rows, holm([r["p_value"] for r in rows])):
        r["p_holm"] = ph
        r["significant"] = None if ph is None else ph < ALPHA
    return rows


def _compare(frame: pl.DataFrame, c: Comparison, cb: Codebook, reg: Registry) -> list[dict]:
    closed_vars = _closed_only_variables(reg)
    rows = []
    for variable in c.variables:
        base = frame.filter(pl.col("is_closed")) if (variable in closed_vars or c.closed_only) else frame
        a = base.filter(c.mask_a.fill_null(False))
        b = base.filter(c.mask_b.fill_null(False))
        kind, values, labels = _categories(variable, cb, reg)
        common = {"comparison": c.name, "variable": variable, "group_a": c.group_a, "group_b": c.group_b}
        if kind == "count":
            rows.append(_mean_row(common, variable, a, b))
            continue
        if kind == "multi":
            valid_a = a.filter(pl.col(variable).list.len().fill_null(0) > 0)
            valid_b = b.filter(pl.col(variable).list.len().fill_null(0) > 0)
        else:
            valid_a = a.filter(pl.col(variable).is_not_null())
            valid_b = b.filter(pl.col(variable).is_not_null())
        for value, label in zip(values, labels):
            hit = pl.col(variable).list.contains(value) if kind == "multi" else pl.col(variable) == value
            ya, yb = valid_a.filter(hit).height, valid_b.filter(hit).height
            rows.append(_share_row(common, label, ya, valid_a.height, yb, valid_b.height))
    return _with_holm(rows)


# the variables each pair of groups is compared on (the registry's passages choose among them)
HRV_VARIABLES = (
    "sex",
    "age_group",
    "origin",
    "perpetrator",
    "violence_severity",
    "risk_assessed",
    "n_interventions",
    "interventions",
    "duration_days",
    "goal_followup",
    "survey_change",
)
MEN_VARIABLES = (
    "age_group",
    "honour_violence",
    "perpetrator",
    "violence_severity",
    "risk_assessed",
    "risk_instruments",
    "n_interventions",
    "interventions",
    "implementation",
    "goal_followup",
)
TOP_GROUP_VARIABLES = (
    "sex",
    "age_group",
    "origin",
    "violence_severity",
    "honour_violence",
    "initiative_groups",
    "perpetrator",
    "impairment",
    "has_intervention",
    "n_interventions",
    "decision_type",
    "risk_assessed",
    "any_partner",
    "n_partners",
)
DROPOUT_VARIABLES = (
    "sex",
    "age_group",
    "impairment",
    "origin",
    "honour_violence",
    "violence_severity",
    "n_interventions",
    "single_intervention",
)


def comparisons(cb: Codebook, reg: Registry) -> list[Comparison]:
    """The pairs of groups the text's statements compare (``p_holm`` corrects over each;
    the report's families are the registry's passages)."""
    # the group codes are the registry's: HRV / Ej HRV (diagram 21), Kvinna / Man (24)
    hv, (hrv_yes, hrv_no) = reg[21].groups["column"], reg[21].groups["codes"]
    sex, (woman, man) = reg[24].groups["column"], reg[24].groups["codes"]
    groups = reg.labels["comparison_groups"]
    honour = reg.labels["honour_groups"]
    youngest = cb.age_group_labels()[0]
    closed = pl.col("is_closed")
    return [
        Comparison("hrv", honour[hrv_yes], honour[hrv_no], pl.col(hv) == hrv_yes, pl.col(hv) == hrv_no, HRV_VARIABLES),
        Comparison(
            "men",
            cb[sex].label_of(man),
            cb[sex].label_of(woman),
            pl.col(sex) == man,
            pl.col(sex) == woman,
            MEN_VARIABLES,
        ),
        Comparison(
            "top_group",
            groups["top_group"],
            groups["other_closed"],
            pl.col("top_group"),
            closed & ~pl.col("top_group"),
            TOP_GROUP_VARIABLES,
            closed_only=True,
        ),
        Comparison(
            "survey_dropout",
            groups["respondents"],
            groups["non_respondents"],
            pl.col("survey_answered"),
            closed & ~pl.col("survey_answered"),
            DROPOUT_VARIABLES,
            closed_only=True,
        ),
        Comparison(
            "youngest",
            youngest,
            groups["other_ages"],
            pl.col("age_group") == youngest,
            pl.col("age_group").is_not_null() & (pl.col("age_group") != youngest),
            ("violence_severity", "honour_violence"),
        ),
    ]


def _with_helpers(derived: pl.DataFrame) -> pl.DataFrame:
    """Helper flags: exactly one intervention (drop-out analysis); at least one
    collaboration partner, null where collaboration is not recorded (top group)."""
    return derived.with_columns(
        (pl.col("n_interventions") == 1).alias("single_intervention"),
        (pl.col("n_partners") >= 1).alias("any_partner"),
    )


def duration_by_closing_reason(derived: pl.DataFrame, cb: Codebook, reg: Registry) -> list[dict]:
    """Duration (days) of closed cases whose reason is goal reached (257 = 1) against
    each of the other two reasons of diagram 17 (declined, 3; did not return, 4)."""
    d17 = reg[17]
    codes = list(d17.category["codes"])
    var = cb[d17.category["variable"]]
    closed = derived.filter(pl.col("is_closed"))
    rows = []
    first = codes[0]
    for other in codes[1:]:
        c = Comparison(
            "duration_closing_reason",
            var.label_of(first),
            var.label_of(other),
            pl.col(var.name) == first,
            pl.col(var.name) == other,
            ("duration_days",),
        )
        rows.extend(_compare(closed, c, cb, reg))
    return _with_holm(rows)


def _distribution(frame: pl.DataFrame, order: Sequence[str], comparison: str, group: str) -> list[dict]:
    """The share of each change category among ``frame`` (descriptive, no test)."""
    rows = []
    for label in order:
        k = frame.filter(pl.col("category") == label).height
        rows.append(
            {
                "comparison": comparison,
                "variable": "risk_change",
                "category": label,
                "group_a": group,
                "n_a": k,
                "denominator_a": frame.height,
                "share_a": k / frame.height if frame.height else None,
            }
        )
    return rows


def risk_change_rows(derived: pl.DataFrame, change: pl.DataFrame, cb: Codebook, reg: Registry) -> list[dict]:
    """Repeated-risk change: the distribution of minskad/oförändrad/ökad for all cases
    with ≥ 2 rated assessments ("all"), by instrument where first and last share it,
    and the top group (goal reached and much improved) against the other cases with
    repeated ratings (tested, Holm within this family)."""
    labels = reg.labels["risk_change"]
    order = [labels["decreased"], labels["unchanged"], labels["increased"]]
    frame = change.join(
        derived.select("unit", "case_id", "top_group"), on=["unit", "case_id"], how="left", maintain_order="left"
    ).with_columns(pl.col("top_group").fill_null(False))
    groups = reg.labels["comparison_groups"]
    rows = _distribution(frame, order, "risk_change", groups["repeated_risk"])
    instruments = cb["risk_assessments"]
    for code, name in zip(instruments.codes, instruments.labels):
        rows += _distribution(frame.filter(pl.col("instrument") == code), order, "risk_change_instrument", name)
    a, b = frame.filter(pl.col("top_group")), frame.filter(~pl.col("top_group"))
    common = {
        "comparison": "risk_change_top_group",
        "variable": "risk_change",
        "group_a": groups["top_group"],
        "group_b": groups["rest"],
    }
    tested = [
        _share_row(
            common,
            label,
            a.filter(pl.col("category") == label).height,
            a.height,
            b.filter(pl.col("category") == label).height,
            b.height,
        )
        for label in order
    ]
    return rows + _with_holm(tested)


def build_stats(
    derived: pl.DataFrame,
    risk_change: pl.DataFrame | None = None,
    *,
    registry: Registry | None = None,
    codebook: Codebook | None = None,
) -> pl.DataFrame:
    """All comparison rows (STATS_SCHEMA), in a fixed order. National groups only: the
    municipality size classes are compared from the protected tables (size_results), so
    that this published file holds no unprotected count below national level."""
    reg = registry or load_registry()
    cb = codebook or codebook_module.load()
    frame = _with_helpers(derived)
    rows: list[dict] = []
    for c in comparisons(cb, reg):
        rows.extend(_compare(frame, c, cb, reg))
    rows.extend(duration_by_closing_reason(frame, cb, reg))
    if risk_change is not None:
        rows.extend(risk_change_rows(frame, risk_change, cb, reg))
    if not rows:
        return pl.DataFrame(schema=STATS_SCHEMA)
    out = pl.DataFrame(rows, schema=STATS_SCHEMA, strict=False)
    return out.with_columns(pl.col(pl.Float64).fill_nan(None))


def write_stats(comparisons_table: pl.DataFrame, csv_path: str | Path, parquet_path: str | Path) -> None:
    """Write the comparison table as CSV (same number format as the diagram tables,
    so reruns are byte-identical) and parquet."""
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    Path(csv_path).write_bytes(table_csv(comparisons_table).encode("utf-8"))
    comparisons_table.write_parquet(parquet_path, statistics=False)
