"""The national tables behind the registry's diagrams (docs/output-contract.md, "National tables").

One generic engine driven by the registry (diagrams.yaml): a diagram's population,
groups and categories are declared there; this module turns them into counts,
denominators, shares with Wilson 95 % intervals (means with a t interval) and checks
the invariants. Denominator rules follow docs/table-definitions.md, "Exact definitions":

* single-choice: denominator = cases (in the group) whose value is one of the
  categories; every category a row; shares sum to 1;
* multi-choice: denominator = cases with at least one option chosen (diagram 12: at
  least one partner, `base` in the registry); share per case;
* closed-only diagrams: registry `population: [closed]`;
* diagram 1 rows, 10 means, 13 partner counts, 16 histogram, 26 Ja/Nej: see the
  functions below.

Output columns are exactly ``TABLE_SCHEMA``. Nationally nothing is suppressed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Diagram, Registry, load_registry
from kvinnofrid.stages.derive import risk_per_case

TABLE_SCHEMA = pl.Schema(
    {
        "group": pl.String,
        "category": pl.String,
        "n": pl.Int64,
        "denominator": pl.Int64,
        "share": pl.Float64,
        "ci_low": pl.Float64,
        "ci_high": pl.Float64,
        "mean": pl.Float64,
        "suppressed": pl.Boolean,
    }
)
CONFIDENCE = 0.95
# scipy.stats.norm.ppf(0.975), written out: importing scipy.stats takes about a second,
# and this module is imported by every parse of the Snakefile (settings → trend).
Z = 1.959963984540054
FLOAT_PRECISION = 6  # decimals in the CSV files (byte-identical reruns)


class TableInvariantError(ValueError):
    """A national table breaks an invariant; the message names the diagram."""


# ---------------------------------------------------------------- intervals


def wilson_interval(n: Any, d: Any, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for n successes of d (vectorised; NaN where d = 0)."""
    n = np.asarray(n, dtype=float)
    d = np.asarray(d, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = n / d
        denom = 1 + z**2 / d
        centre = (p + z**2 / (2 * d)) / denom
        half = z * np.sqrt(p * (1 - p) / d + z**2 / (4 * d**2)) / denom
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    bad = ~(d > 0)
    low[bad] = np.nan
    high[bad] = np.nan
    return low, high


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and t interval of the mean; interval NaN for fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, math.nan, math.nan
    from scipy import stats as sps  # only here: see Z

    se = float(values.std(ddof=1)) / math.sqrt(values.size)
    half = float(sps.t.ppf(0.5 + confidence / 2, values.size - 1)) * se
    return mean, mean - half, mean + half


def finish_table(frame: pl.DataFrame, with_share: bool = True, keep: Sequence[str] = ()) -> pl.DataFrame:
    """Add share and Wilson interval to (group, category, n, denominator), typed;
    ``keep``: leading key columns kept (the unit of a table per unit, see ``by``)."""
    n = frame["n"].to_numpy()
    d = frame["denominator"].to_numpy()
    if with_share:
        low, high = wilson_interval(n, d)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
    else:
        share = low = high = np.full(len(frame), np.nan)
    out = frame.with_columns(
        pl.Series("share", share, dtype=pl.Float64).fill_nan(None),
        pl.Series("ci_low", low, dtype=pl.Float64).fill_nan(None),
        pl.Series("ci_high", high, dtype=pl.Float64).fill_nan(None),
        pl.lit(None, pl.Float64).alias("mean") if "mean" not in frame.columns else pl.col("mean"),
        pl.lit(False).alias("suppressed"),
    )
    return out.select(*keep, *[pl.col(k).cast(t) for k, t in TABLE_SCHEMA.items()])


# ---------------------------------------------------------------- building blocks


def _setting(settings: Any, key: str, registry: Registry) -> Any:
    if settings is not None:
        value = settings.get(key) if isinstance(settings, Mapping) else getattr(settings, key, None)
        if value is not None:
            return value
    return registry.defaults[key]


def _population(d: Diagram, frame: pl.DataFrame) -> pl.LazyFrame:
    """The diagram's cases, lazily: a table reads a few of the ~40 columns, and filtering
    the whole frame first copied them all (a tenth of a second per table at a million
    cases)."""
    cases = frame.lazy()
    for p in d.population:
        cases = cases.filter(pl.col("is_closed") if p == "closed" else pl.col("has_intervention"))
    return cases


def _groups(d: Diagram, reg: Registry, cb: Codebook) -> tuple[pl.Expr, list[str | None]]:
    """The group label of a case (null: not in any group) and the groups in order."""
    g = d.groups
    if g is None:
        return pl.lit("", pl.String), [""]
    if "codes" in g:
        codes = list(g["codes"])
        labels = (
            [reg.labels[g["labels"]][c] for c in codes]
            if "labels" in g
            else [cb[g["column"]].label_of(c) for c in codes]
        )
        expr = pl.col(g["column"]).replace_strict(codes, labels, default=None, return_dtype=pl.String)
        return expr, labels
    labels = reg.label_list(g["labels"], cb)[: g.get("first")]
    expr = pl.when(pl.col(g["column"]).is_in(labels)).then(pl.col(g["column"])).otherwise(None)
    return expr, labels


def _multi_categories(
    d: Diagram, reg: Registry, cb: Codebook, frame: pl.LazyFrame, settings: Any
) -> tuple[pl.Expr, pl.Expr, list[str], Callable[[pl.Expr], pl.Expr]]:
    """(the list of a case's categories, in-denominator flag, categories in order, the
    label of a category in that list). A variable's list holds its codes: they are
    counted as codes and the counts labelled, since mapping every code of every case to
    its text in the lists cost polars most of the table (labels are unique per variable,
    so a case counts once per label either way)."""
    cat = d.category
    column = cat.get("column", cat.get("variable"))
    if "variable" not in cat:  # a list of labels already (initiative groups)
        labels = reg.label_list(cat["labels"], cb)
        return pl.col(column), pl.col(column).list.len().fill_null(0) > 0, labels, lambda category: category
    var = cb[cat["variable"]]
    codes = list(cat.get("codes", var.codes))
    if "conditional" in cat:
        minimum = int(_setting(settings, "honour_interventions_min", reg))
        for code in cb.derived[cat["conditional"]]:
            count = _count(frame.filter(pl.col(column).list.contains(code).fill_null(False)))
            if count >= minimum:
                codes.append(code)
    labels = [var.label_of(c) for c in codes]
    base_codes = cb.derived[cat["base"]] if "base" in cat else var.codes
    in_base = pl.col(column).list.eval(pl.element().is_in(base_codes)).list.any().fill_null(False)

    def label(category: pl.Expr) -> pl.Expr:  # a code not shown: null, dropped
        return category.replace_strict(codes, labels, default=None, return_dtype=pl.String)

    return pl.col(column), in_base, labels, label


def _count(cases: pl.LazyFrame) -> int:
    return cases.select(pl.len()).collect().item()


def _single_categories(d: Diagram, reg: Registry, cb: Codebook) -> tuple[pl.Expr, list[str]]:
    """(category label of a case, null when not one of the categories; categories)."""
    cat = d.category
    if "variable" in cat:
        var = cb[cat["variable"]]
        codes = list(cat.get("codes", var.codes))
        labels = [var.label_of(c) for c in codes]
        return pl.col(var.name).replace_strict(codes, labels, default=None, return_dtype=pl.String), labels
    labels = reg.label_list(cat["labels"], cb)
    column = pl.col(cat["column"])
    if cat["labels"] == "partner_counts":
        cap = int(reg.defaults["partner_count_cap"])
        expr = pl.when(column >= cap).then(pl.lit(labels[-1])).otherwise(column.cast(pl.String))
        return expr, labels
    return pl.when(column.is_in(labels)).then(column).otherwise(None), labels


def _keys(by: pl.Series | None) -> list[str]:
    return [] if by is None else [by.name]


def _grid(groups: list[str], categories: list[str], by: pl.Series | None = None) -> pl.DataFrame:
    """Every (group, category) row in order; with ``by``, that block once per value of it."""
    grid = pl.DataFrame(
        {
            "group": [g for g in groups for _ in categories],
            "category": [c for _ in groups for c in categories],
            "_order": list(range(len(groups) * len(categories))),
        },
        schema={"group": pl.String, "category": pl.String, "_order": pl.Int64},
    )
    if by is None:
        return grid
    blocks = by.to_frame().with_row_index("_block")
    return blocks.join(grid, how="cross").with_columns(
        (pl.col("_block").cast(pl.Int64) * grid.height + pl.col("_order")).alias("_order")
    )


def _assemble(
    counts: pl.DataFrame,
    denominators: pl.DataFrame,
    groups: list[str],
    categories: list[str],
    with_share: bool = True,
    by: pl.Series | None = None,
) -> pl.DataFrame:
    keys = _keys(by)
    table = (
        _grid(groups, categories, by)
        .join(counts, on=[*keys, "group", "category"], how="left")
        .join(denominators, on=[*keys, "group"], how="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64), pl.col("denominator").fill_null(0).cast(pl.Int64))
        .sort("_order")
    )
    return finish_table(table, with_share, keep=keys)


def _no_group(table: pl.DataFrame, d: Diagram) -> pl.DataFrame:
    """Diagrams without groups write an empty group (null)."""
    if d.groups is None:
        return table.with_columns(pl.lit(None, pl.String).alias("group"))
    return table


# ---------------------------------------------------------------- table functions


def table_single(
    d: Diagram, derived: pl.DataFrame, reg: Registry, cb: Codebook, settings: Any = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """Single-choice (or derived single) variable, optionally by group."""
    keys = _keys(by)
    group_expr, groups = _groups(d, reg, cb)
    cat_expr, categories = _single_categories(d, reg, cb)
    cases = (
        _population(d, derived)
        .select(*keys, group_expr.alias("group"), cat_expr.alias("category"))
        .filter(pl.col("group").is_not_null() & pl.col("category").is_not_null())
        .collect()
    )
    counts = cases.group_by(*keys, "group", "category").agg(pl.len().alias("n"))
    denominators = cases.group_by(*keys, "group").agg(pl.len().alias("denominator"))
    return _no_group(_assemble(counts, denominators, groups, categories, by=by), d)


def table_multi(
    d: Diagram, derived: pl.DataFrame, reg: Registry, cb: Codebook, settings: Any = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """Multi-choice variable: denominator = cases with ≥ 1 option (per group). With
    ``by``, the conditional options are chosen on all of ``derived`` (every block
    gets the same rows)."""
    keys = _keys(by)
    population = _population(d, derived)
    group_expr, groups = _groups(d, reg, cb)
    cat_expr, in_base, categories, label = _multi_categories(d, reg, cb, population, settings)
    cases = (
        population.select(*keys, group_expr.alias("group"), cat_expr.alias("category"), in_base.alias("_base"))
        .filter(pl.col("group").is_not_null() & pl.col("_base"))
        .collect()
    )
    denominators = cases.group_by(*keys, "group").agg(pl.len().alias("denominator"))
    counts = (
        cases.select(*keys, "group", pl.col("category").list.unique())
        .explode("category")
        .drop_nulls("category")
        .group_by(*keys, "group", "category")
        .agg(pl.len().alias("n"))
        .with_columns(label(pl.col("category")))
        .drop_nulls("category")
    )
    return _no_group(_assemble(counts, denominators, groups, categories, by=by), d)


def table_histogram(
    d: Diagram, derived: pl.DataFrame, reg: Registry, cb: Codebook, settings: Any = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """Diagram 16: closed cases with a valid duration by 90-day bin; counts only
    (share and interval empty), denominator = all such cases, every bin a row."""
    table = table_single(d, derived, reg, cb, settings, by)
    return table.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("share", "ci_low", "ci_high"))


def flag_table(
    population: pl.DataFrame | pl.LazyFrame, flag: pl.Expr, labels: tuple[str, str], by: pl.Series | None = None
) -> pl.DataFrame:
    """Two rows without group: ``labels[0]`` the cases whose ``flag`` is true,
    ``labels[1]`` the others (null counts as false); denominator = all cases."""
    keys = _keys(by)
    yes, no = labels
    cases = population.lazy().select(
        *keys,
        pl.lit("").alias("group"),
        pl.when(flag.fill_null(False)).then(pl.lit(yes)).otherwise(pl.lit(no)).alias("category"),
    )
    counts = cases.group_by(*keys, "group", "category").agg(pl.len().alias("n")).collect()
    denominators = cases.group_by(*keys, "group").agg(pl.len().alias("denominator")).collect()
    table = _assemble(counts, denominators, [""], [yes, no], by=by)
    return table.with_columns(pl.lit(None, pl.String).alias("group"))


def table_flag(
    d: Diagram, derived: pl.DataFrame, reg: Registry, cb: Codebook, settings: Any = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """Diagram 26: all cases; categories Ja (flag true) and Nej."""
    labels = (reg.labels["yes"], reg.labels["no"])
    return flag_table(_population(d, derived), pl.col(d.extra["flag"]), labels, by)


def table_phases(
    d: Diagram, derived: pl.DataFrame, reg: Registry, cb: Codebook, settings: Any = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """Diagram 1: one row per phase (registry `rows`): n = cases registered in the
    phase, denominator = all cases (`base: all`) or closed cases (`base: closed`)."""
    _one_table_only(d, by)
    rows = []
    for row in d.extra["rows"]:
        base = derived.lazy() if row["base"] == "all" else derived.lazy().filter(pl.col("is_closed"))
        if "flag" in row:
            n = pl.col(row["flag"]).fill_null(False).sum()
        elif "valid" in row:
            n = pl.col(row["valid"]).is_not_null().sum()
        else:
            n = pl.len()
        counts = base.select(n.alias("n"), pl.len().alias("denominator")).collect()
        rows.append({"group": None, "category": row["label"]} | counts.row(0, named=True))
    frame = pl.DataFrame(
        rows, schema={"group": pl.String, "category": pl.String, "n": pl.Int64, "denominator": pl.Int64}
    )
    return finish_table(frame)


def table_means(
    d: Diagram, derived: pl.DataFrame, reg: Registry, cb: Codebook, settings: Any = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """Diagram 10: mean of `value` (number of interventions) among cases with ≥ 1
    intervention, per registry category; n = denominator = cases in the category,
    share empty, mean with a t interval."""
    _one_table_only(d, by)
    population = _population(d, derived)
    rows = []
    for m in d.extra["means"]:
        cond = pl.lit(True)
        for column, value in m.get("where", {}).items():
            cond = cond & (pl.col(column) == value).fill_null(False)
        for column, code in m.get("contains", {}).items():
            cond = cond & pl.col(column).list.contains(code).fill_null(False)
        if "flag" in m:
            cond = cond & pl.col(m["flag"]).fill_null(False)
        if "flag_false" in m:
            cond = cond & ~pl.col(m["flag_false"]).fill_null(False)
        if m.get("closed"):
            cond = cond & pl.col("is_closed")
        values = population.filter(cond).select(d.extra["value"]).collect().to_series().drop_nulls().to_numpy()
        mean, low, high = t_interval(values)
        rows.append(
            {
                "group": None,
                "category": m["label"],
                "n": values.size,
                "denominator": values.size,
                "share": None,
                "ci_low": low,
                "ci_high": high,
                "mean": mean,
                "suppressed": False,
            }
        )
    frame = pl.DataFrame(rows, schema=TABLE_SCHEMA, strict=False)
    return frame.with_columns(pl.col("mean", "ci_low", "ci_high").fill_nan(None))


def _one_table_only(d: Diagram, by: pl.Series | None) -> None:
    if by is not None:
        raise ValueError(f"Diagram {d.number}: a {d.table} table is built for one frame at a time, not by {by.name}")


# The kinds whose counts and denominators add up over disjoint sets of cases: a table
# per unit (``by``) and the table of several units are sums of them.
ADDITIVE_KINDS = ("single", "multi", "histogram", "flag")

TABLE_FUNCTIONS = {
    "single": table_single,
    "multi": table_multi,
    "histogram": table_histogram,
    "flag": table_flag,
    "phases": table_phases,
    "means": table_means,
}


# ---------------------------------------------------------------- invariants


def check_table(d: Diagram, table: pl.DataFrame, by: pl.Series | None = None) -> None:
    """Raise TableInvariantError naming the diagram when a table is broken (with
    ``by``: each block of a table per unit)."""
    where = f"Diagram {d.number} ({d.title})"
    keys = _keys(by)
    if table.drop(keys).schema != TABLE_SCHEMA:
        raise TableInvariantError(f"{where}: columns {dict(table.schema)} differ from the contract")
    if table.height == 0:
        raise TableInvariantError(f"{where}: the table is empty")
    bad = table.filter((pl.col("n") < 0) | (pl.col("n") > pl.col("denominator")))
    if bad.height:
        raise TableInvariantError(
            f"{where}: n is negative or larger than the denominator for {bad['category'].to_list()}"
        )
    bad = table.filter((pl.col("share") < 0) | (pl.col("share") > 1))
    if bad.height:
        raise TableInvariantError(f"{where}: a share outside 0–1 for {bad['category'].to_list()}")
    if table.select(pl.struct(*keys, "group", "category").is_duplicated().any()).item():
        raise TableInvariantError(f"{where}: a (group, category) row appears twice")
    if d.table in ("single", "histogram", "flag"):
        per_group = table.group_by(*keys, "group").agg(
            pl.col("n").sum().alias("total"),
            pl.col("denominator").first(),
            pl.col("denominator").n_unique().alias("k"),
            pl.col("share").sum().alias("shares"),
        )
        for row in per_group.iter_rows(named=True):
            label = f"{where}, group {row['group']!r}" if row["group"] else where
            if row["k"] != 1:
                raise TableInvariantError(f"{label}: categories have different denominators")
            if row["total"] != row["denominator"]:
                raise TableInvariantError(
                    f"{label}: the categories sum to {row['total']}, not to N = {row['denominator']}"
                )
            if d.table != "histogram" and row["denominator"] > 0 and abs(row["shares"] - 1) > 1e-9:
                raise TableInvariantError(f"{label}: shares sum to {row['shares']}, not 1")
    if d.table == "multi" and "conditional" not in d.category:  # hidden options count in N
        per_group = table.group_by(*keys, "group").agg(pl.col("n").sum().alias("total"), pl.col("denominator").first())
        for row in per_group.iter_rows(named=True):
            if row["total"] < row["denominator"]:
                raise TableInvariantError(
                    f"{where}: {row['denominator']} cases have an option but only {row['total']} choices are counted"
                )


def multi_base_counts(derived: pl.DataFrame, reg: Registry | None = None, cb: Codebook | None = None) -> dict[int, int]:
    """For each ungrouped multi-choice diagram: cases with any option, counted
    directly from the derived case table (the check of the multi denominators)."""
    reg = reg or load_registry()
    cb = cb or codebook_module.load()
    out = {}
    for d in reg.diagrams:
        if d.table != "multi" or d.groups is not None:
            continue
        column = d.category.get("column", d.category.get("variable"))
        population = _population(d, derived)
        if "base" in d.category:
            codes = cb.derived[d.category["base"]]
            out[d.number] = _count(
                population.filter(pl.col(column).list.eval(pl.element().is_in(codes)).list.any().fill_null(False))
            )
        else:
            out[d.number] = _count(population.filter(pl.col(column).list.len().fill_null(0) > 0))
    return out


def check_consistency(
    tables: dict[int, pl.DataFrame], derived: pl.DataFrame, reg: Registry | None = None, cb: Codebook | None = None
) -> None:
    """Cross-table invariants: diagram 1 rows against the diagrams they summarise
    (registry `matches` / `at_least`), the closed-case base, and multi-choice
    denominators against the cases with any option."""
    reg = reg or load_registry()
    for d in reg.diagrams:
        if d.table != "phases" or d.number not in tables:
            continue
        phases = tables[d.number]
        n_of = dict(zip(phases["category"], phases["n"]))
        closed_rows = [r["label"] for r in d.extra["rows"] if r["base"] == "closed"]
        closed_n = int(derived["is_closed"].sum())
        for label in closed_rows:
            den = phases.filter(pl.col("category") == label)["denominator"].item()
            if den != closed_n:
                raise TableInvariantError(
                    f"Diagram {d.number}: {label} has base {den}, not the {closed_n} closed cases"
                )
        for row in d.extra["rows"]:
            for other in row.get("matches", []):
                if other in tables:
                    dens = tables[other]["denominator"].unique().to_list()
                    if dens != [n_of[row["label"]]]:
                        raise TableInvariantError(
                            f"Diagram {d.number}: {row['label']} = {n_of[row['label']]} but diagram "
                            f"{other} has N = {dens}"
                        )
            for other in row.get("at_least", []):
                if other in tables and tables[other]["denominator"].max() > n_of[row["label"]]:
                    raise TableInvariantError(
                        f"Diagram {d.number}: {row['label']} = {n_of[row['label']]} is below diagram "
                        f"{other}'s N = {tables[other]['denominator'].max()}"
                    )
    for number, expected in multi_base_counts(derived, reg, cb).items():
        if number in tables:
            dens = tables[number]["denominator"].unique().to_list()
            if dens != [expected]:
                raise TableInvariantError(f"Diagram {number}: N = {dens} but {expected} cases have at least one option")


# ---------------------------------------------------------------- public API


def _with_risk(derived: pl.DataFrame, risk: pl.DataFrame | None) -> pl.DataFrame:
    if "risk_assessed" in derived.columns or risk is None:
        return derived
    return derived.join(risk_per_case(risk), on=["unit", "case_id"], how="left", maintain_order="left").with_columns(
        pl.col("risk_assessed").fill_null(False)
    )


def build_table(
    number: int,
    derived: pl.DataFrame,
    risk_change: pl.DataFrame | None = None,
    settings: Any = None,
    registry: Registry | None = None,
    codebook: Codebook | None = None,
    by: pl.Series | None = None,
) -> pl.DataFrame:
    """The national table of diagram ``number`` from the derived case table, checked.

    ``risk_change`` is accepted for diagrams declared on the repeated-risk change
    (none of 1–27 at present). ``settings`` (a Settings or a mapping) may carry
    ``honour_interventions_min``. ``by`` (a Series named after a column of
    ``derived``, e.g. ``unit``; ADDITIVE_KINDS only): one table per value of it in one
    pass, stacked in the Series' order, the column first; a value without cases gets
    its rows of zeros."""
    reg = registry or load_registry()
    cb = codebook or codebook_module.load()
    d = reg[number]
    table = TABLE_FUNCTIONS[d.table](d, derived, reg, cb, settings, by=by)
    check_table(d, table, by)
    return table


def build_all_tables(
    derived: pl.DataFrame,
    risk: pl.DataFrame | None = None,
    settings: Any = None,
    registry: Registry | None = None,
    codebook: Codebook | None = None,
) -> dict[int, pl.DataFrame]:
    """Every registered diagram's table, each checked, then checked against each other.
    ``risk`` (the long risk table) is only needed when ``derived`` lacks the risk
    columns of derive.derive_cases."""
    reg = registry or load_registry()
    cb = codebook or codebook_module.load()
    derived = _with_risk(derived, risk)
    tables = {d.number: build_table(d.number, derived, None, settings, reg, cb) for d in reg.diagrams}
    check_consistency(tables, derived, reg, cb)
    return tables


def table_csv(table: pl.DataFrame) -> str:
    """The CSV text of a table: UTF-8, comma, header, floats with FLOAT_PRECISION
    decimals, empty for missing, booleans true/false."""
    return table.write_csv(float_precision=FLOAT_PRECISION, float_scientific=False, line_terminator="\n")


def write_table(table: pl.DataFrame, number: int, folder: Path | str) -> tuple[Path, Path]:
    """Write diagram_NN.csv and diagram_NN.parquet into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"diagram_{number:02d}.csv"
    parquet_path = folder / f"diagram_{number:02d}.parquet"
    csv_path.write_bytes(table_csv(table).encode("utf-8"))
    table.write_parquet(parquet_path, statistics=False)
    return csv_path, parquet_path


def write_tables(tables: dict[int, pl.DataFrame], folder: Path | str) -> list[Path]:
    paths: list[Path] = []
    for number in sorted(tables):
        paths.extend(write_table(tables[number], number, folder))
    return paths
