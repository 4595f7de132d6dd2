"""The national tables beside the published values of the 2021–2023 report.

``compare_tables(tables)`` maps every published value of ``reference_values.yaml``
whose diagram is "1".."27" to the table row it means and reads the value from the
table; nothing is recomputed from the cases. The same function serves the demo
calibration (``kvinnofrid.demo.calibration``) and this module's script::

    python -m kvinnofrid.demo.comparison [results/tables]

which reads ``diagram_NN.csv`` (or ``.parquet``) from the folder and prints the
comparison with a summary line. The script reports, it does not gate: exit status 0
when it printed, 2 when table files are missing, 1 when an entry cannot be mapped.

How an entry maps (category "A: B" = category B in group A):

* ``share``        100 · share of the row (group, category);
* ``count``        n of the row; diagram 1 "Ej X" = denominator − n of row X;
* ``mean``         mean of the row;
* ``denominator``  "N": the denominator of the table's rows (a grouped table: the sum
                   of the groups' denominators), "A: N": the denominator of group A;
* ``difference``   "A minus B: C" = 100 · (share of (A, C) − share of (B, C));
* ``compare_as: share_of_printed`` (diagram 16): the count's percent of the counts of
  all the diagram's share_of_printed entries, on both sides;
* ``COMPOSITE_ENTRIES``: published values that are a sum of rows or a row of another
  diagram, declared below.

``OUTSIDE_TABLES`` declares the published values in diagrams 1–27 that no table row
holds (cross-tabulations the report quotes beside a diagram); they are taken from
kvinnofrid.statistics.stats / kvinnofrid.statistics.facts by the calibration. Any other entry that maps to
no table row raises ``ComparisonError`` naming it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from kvinnofrid.statistics.tables import TABLE_SCHEMA

__all__ = [
    "COMPOSITE_ENTRIES",
    "OUTSIDE_TABLES",
    "ComparisonError",
    "compare_tables",
    "comparison_row",
    "format_comparison",
    "format_lines",
    "main",
    "read_tables",
    "reference_values",
    "summary_counts",
    "table_reference",
    "table_value",
    "within_tolerance",
]

Key = tuple[str, str, str]  # (diagram, category, kind) as in reference_values.yaml

# Published values in diagrams 1–27 that are not rows of the national tables, with
# where the calibration takes them from.
OUTSIDE_TABLES: dict[Key, str] = {
    ("6", "Brottsofferjour", "count"): "initiativkod i gruppen Annat (fall med koden)",
    ("6", "Rättsväsende", "count"): "initiativkod i gruppen Annat (fall med koden)",
    ("7", "HRV: Mycket grovt", "share"): "stats: hrv, violence_severity",
    ("7", "18–24: Mycket grovt", "share"): "stats: youngest, violence_severity",
    ("7", "18–24: Grovt", "share"): "stats: youngest, violence_severity",
    ("8", "Nuvarande eller före detta partner", "share"): "facts: share_partner_perpetrator",
    ("9", "Boenderelaterad insats (andel av alla ärenden)", "share"): "facts: share_housing_intervention",
    ("12", "Antal samverkansparter per ärende med samverkan", "mean"): "facts: mean_partners",
    ("27", "SARA, Patriark eller annan bedömningsmetod", "share"): "fall med någon av tre metoder",
}

# Published values that are sums of table rows or a row of another diagram:
# key -> (diagram, group or None, categories (None: every row), column).
COMPOSITE_ENTRIES: dict[Key, tuple[str, str | None, tuple[str, ...] | None, str]] = {
    ("6", "Antal svar (rapportens N)", "count"): ("6", None, None, "n"),
    ("9", "Andel av alla ärenden med minst en insats", "share"): ("1", None, ("Fått insats",), "share"),
    ("24", "Man: 65 år och äldre", "count"): ("24", "Man", ("65–74", "75–"), "n"),
}

OUTPUT_SCHEMA = pl.Schema(
    {
        "diagram": pl.String,
        "measure": pl.String,
        "published": pl.Float64,
        "generated": pl.Float64,
        "tolerance": pl.Float64,
        "within": pl.Boolean,
        "note": pl.String,
        "kind": pl.String,
        "relation": pl.String,
    }
)


class ComparisonError(ValueError):
    """A published value maps to no table row; the message names the entry."""


# ---------------------------------------------------------------- the reference


@cache
def _reference_raw() -> tuple[dict[str, Any], ...]:
    text = resources.files("kvinnofrid.demo").joinpath("reference_values.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["values"])


def reference_values() -> pl.DataFrame:
    """The published values, one row per entry of reference_values.yaml."""
    rows = [
        {
            "diagram": str(e["diagram"]),
            "category": str(e["category"]),
            "kind": e["kind"],
            "published": float(e["published"]),
            "tolerance": float(e["tolerance"]),
            "relation": e.get("relation", "eq"),
            "compare_as": e.get("compare_as"),
            "expected_deviation": e.get("expected_deviation"),
        }
        for e in _reference_raw()
    ]
    return pl.DataFrame(rows, schema_overrides={"compare_as": pl.String, "expected_deviation": pl.String})


def _is_table_diagram(diagram: str) -> bool:
    return diagram.isdigit() and 1 <= int(diagram) <= 27


def table_reference(reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """The entries the national tables hold: diagram "1".."27", not in OUTSIDE_TABLES."""
    ref = reference_values() if reference is None else reference
    keep = [
        _is_table_diagram(d) and (d, c, k) not in OUTSIDE_TABLES
        for d, c, k in ref.select("diagram", "category", "kind").iter_rows()
    ]
    return ref.filter(pl.Series(keep, dtype=pl.Boolean))


# ---------------------------------------------------------------- mapping


def _entry_name(diagram: str, category: str, kind: str) -> str:
    return f"diagram {diagram}: {category!r} ({kind})"


def _rows(
    tables: dict[int, pl.DataFrame], diagram: str, group: str | None, categories: Sequence[str] | None, name: str
) -> pl.DataFrame:
    number = int(diagram)
    if number not in tables:
        raise ComparisonError(f"{name}: tabellen för diagram {number} saknas")
    table = tables[number]
    table = (
        table.filter(pl.col("group").is_null() | (pl.col("group") == ""))
        if group is None
        else table.filter(pl.col("group") == group)
    )
    if categories is None:
        if table.height == 0:
            raise ComparisonError(f"{name}: diagram {number} har inga rader i grupp {group!r}")
        return table
    rows = table.filter(pl.col("category").is_in(list(categories)))
    if rows.height != len(categories):
        where = f"grupp {group!r}, " if group is not None else ""
        raise ComparisonError(f"{name}: ingen tabellrad för {where}kategori {list(categories)} i diagram {number}")
    return rows


def _split_group(category: str) -> tuple[str | None, str]:
    if ": " in category:
        group, rest = category.split(": ", 1)
        return group, rest
    return None, category


def _has_row(tables: dict[int, pl.DataFrame], diagram: str, group: str | None, category: str) -> bool:
    try:
        _rows(tables, diagram, group, [category], "")
        return True
    except ComparisonError:
        return False


def _locate(tables: dict[int, pl.DataFrame], diagram: str, category: str) -> tuple[str | None, str]:
    """(group, category) of an entry's row: the whole label in an ungrouped table
    first, else "A: B" = group A, category B."""
    if _has_row(tables, diagram, None, category):
        return None, category
    return _split_group(category)


def _value(rows: pl.DataFrame, column: str) -> float:
    values = rows[column].to_list()
    if any(v is None for v in values):
        return math.nan
    return float(sum(values))


def table_value(tables: dict[int, pl.DataFrame], diagram: str, category: str, kind: str) -> float:
    """The value an entry (diagram, category, kind) means, read from the tables
    (share and difference in percent); raise ComparisonError when no row holds it."""
    name = _entry_name(diagram, category, kind)
    if not _is_table_diagram(diagram):
        raise ComparisonError(f"{name}: inte ett diagram 1–27")
    if (diagram, category, kind) in COMPOSITE_ENTRIES:
        source, group, categories, column = COMPOSITE_ENTRIES[(diagram, category, kind)]
        value = _value(_rows(tables, source, group, categories, name), column)
        return 100.0 * value if column == "share" else value
    if kind == "denominator":
        group, label = _split_group(category)
        if label != "N":
            raise ComparisonError(f"{name}: en nämnare skrivs 'N' eller 'grupp: N'")
        table = tables.get(int(diagram))
        if table is None:
            raise ComparisonError(f"{name}: tabellen för diagram {diagram} saknas")
        grouped = table.filter(pl.col("group").is_not_null() & (pl.col("group") != "")).height > 0
        if group is None and grouped:
            per_group = table.group_by("group", maintain_order=True).agg(pl.col("denominator").unique())
            if (per_group["denominator"].list.len() != 1).any():
                raise ComparisonError(f"{name}: grupperna i diagram {diagram} har flera nämnare")
            return float(per_group["denominator"].list.first().sum())
        rows = _rows(tables, diagram, group, None, name)
        dens = rows["denominator"].unique().to_list()
        if len(dens) != 1:
            raise ComparisonError(f"{name}: raderna i diagram {diagram} har olika nämnare {sorted(dens)}")
        return float(dens[0]) if dens[0] is not None else math.nan
    if kind == "difference":
        head, label = _split_group(category)
        if head is None or " minus " not in head:
            raise ComparisonError(f"{name}: en skillnad skrivs 'A minus B: kategori'")
        a, b = head.split(" minus ", 1)
        share_a = _value(_rows(tables, diagram, a, [label], name), "share")
        share_b = _value(_rows(tables, diagram, b, [label], name), "share")
        return 100.0 * (share_a - share_b)
    if kind not in ("share", "count", "mean"):
        raise ComparisonError(f"{name}: okänd typ {kind!r}")
    group, label = _locate(tables, diagram, category)
    if kind == "count" and group is None and label.startswith("Ej ") and not _has_row(tables, diagram, None, label):
        base = label[3:4].upper() + label[4:]  # "Ej fått insats" -> row "Fått insats"
        if _has_row(tables, diagram, None, base):
            row = _rows(tables, diagram, None, [base], name)
            return _value(row, "denominator") - _value(row, "n")
    rows = _rows(tables, diagram, group, [label], name)
    if kind == "share":
        return 100.0 * _value(rows, "share")
    return _value(rows, "n" if kind == "count" else "mean")


def within_tolerance(generated: float, published: float, tolerance: float, relation: str) -> bool:
    """Whether a generated value meets a published one (relation as in the reference)."""
    if generated is None or math.isnan(generated):
        return False
    if relation == "gt":
        return generated > published
    if relation == "ge":
        return generated >= published
    if relation == "lt":
        return generated < published
    if relation == "abs_le":
        return abs(generated) <= published
    return abs(generated - published) <= tolerance + 1e-9


def _printed_total(ref: pl.DataFrame, diagram: str) -> float:
    printed = ref.filter((pl.col("diagram") == diagram) & (pl.col("compare_as") == "share_of_printed"))
    return float(printed["published"].sum())


def comparison_row(
    entry: dict[str, Any], generated: float, published: float | None = None, kind: str | None = None
) -> dict[str, Any]:
    """One output row for a reference entry and its generated value."""
    kind = kind or entry["kind"]
    published = entry["published"] if published is None else published
    generated = math.nan if generated is None else float(generated)
    within = within_tolerance(generated, published, entry["tolerance"], entry["relation"])
    return {
        "diagram": entry["diagram"],
        "measure": entry["category"] if kind == "share" else f"{entry['category']} [{kind}]",
        "published": round(published, 3),
        "generated": round(generated, 3),
        "tolerance": entry["tolerance"],
        "within": None if entry.get("expected_deviation") else within,
        "note": entry.get("expected_deviation"),
        "kind": kind,
        "relation": entry["relation"],
    }


def compare_tables(tables: dict[int, pl.DataFrame], reference: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every published value of diagrams 1–27 beside the tables' value.

    ``reference``: frame like ``reference_values()`` (default: the whole file);
    entries of other diagrams ("text…") and those declared in ``OUTSIDE_TABLES`` are
    not table values and are left to the calibration. Columns: diagram, measure,
    published, generated, tolerance, within (null for an ``expected_deviation``),
    note, then kind and relation. Raises ComparisonError for an entry that maps to no
    table row."""
    ref = table_reference(reference)
    if "relation" not in ref.columns:
        ref = ref.with_columns(pl.lit("eq").alias("relation"))
    for column in ("compare_as", "expected_deviation"):
        if column not in ref.columns:
            ref = ref.with_columns(pl.lit(None, pl.String).alias(column))
    rows = []
    for e in ref.iter_rows(named=True):
        if e["compare_as"] == "share_of_printed":
            printed = ref.filter((pl.col("diagram") == e["diagram"]) & (pl.col("compare_as") == "share_of_printed"))
            group, _ = _locate(tables, e["diagram"], e["category"])
            labels = [_locate(tables, e["diagram"], c)[1] for c in printed["category"]]
            name = _entry_name(e["diagram"], e["category"], e["kind"])
            total = _value(_rows(tables, e["diagram"], group, labels, name), "n")
            own = table_value(tables, e["diagram"], e["category"], e["kind"])
            generated = 100.0 * own / total if total else math.nan
            published = 100.0 * e["published"] / _printed_total(ref, e["diagram"])
            rows.append(comparison_row(e, generated, published, "share_of_printed"))
        elif e["compare_as"] is not None:
            raise ComparisonError(
                f"{_entry_name(e['diagram'], e['category'], e['kind'])}: okänt compare_as {e['compare_as']!r}"
            )
        else:
            rows.append(comparison_row(e, table_value(tables, e["diagram"], e["category"], e["kind"])))
    return pl.DataFrame(rows, schema=OUTPUT_SCHEMA)


# ---------------------------------------------------------------- text output

SIGNS = {"eq": "±", "gt": ">", "ge": "≥", "lt": "<", "abs_le": "|x|≤"}


def format_lines(report: pl.DataFrame) -> list[str]:
    """Aligned text rows: diagram, measure, published, generated, tolerance, within."""
    header = f"{'diagram':<26} {'measure':<72} {'published':>10} {'generated':>10} {'tolerance':>10}  ok"
    lines = [header, "-" * len(header)]
    for r in report.iter_rows(named=True):
        relation = r.get("relation") or "eq"
        kind = r.get("kind") or "share"
        tol = f"{SIGNS[relation]}{r['tolerance']:g}" if relation == "eq" else SIGNS[relation]
        digits = 2 if kind in ("mean", "difference") else (0 if kind in ("count", "denominator") else 1)
        ok = "ja" if r["within"] else ("avvikelse väntad" if r["within"] is None else "NEJ")
        lines.append(
            f"{r['diagram']:<26} {r['measure'][:72]:<72} {r['published']:>10.{digits}f} "
            f"{r['generated']:>10.{digits}f} {tol:>10}  {ok}"
        )
    return lines


def summary_counts(report: pl.DataFrame) -> tuple[int, int, int]:
    """(within, checked, expected deviations not counted)."""
    checked = report.filter(pl.col("within").is_not_null())
    return int(checked["within"].sum()), checked.height, report.height - checked.height


def format_comparison(report: pl.DataFrame, remark: str | None = None) -> str:
    """The aligned rows, an optional remark, and the summary line last."""
    n_ok, n_checked, expected = summary_counts(report)
    lines = format_lines(report)
    lines.append("")
    if remark:
        lines.append(remark)
    lines.append(
        f"{n_ok} av {n_checked} inom tolerans"
        + (f" ({expected} publicerade värden med dokumenterad väntad avvikelse räknas inte)" if expected else "")
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- the script


def read_tables(folder: Path | str, numbers: Sequence[int]) -> tuple[dict[int, pl.DataFrame], list[str]]:
    """diagram_NN.csv (else .parquet) of each number: (tables, missing file names)."""
    folder = Path(folder)
    tables: dict[int, pl.DataFrame] = {}
    missing: list[str] = []
    for number in numbers:
        csv_path = folder / f"diagram_{number:02d}.csv"
        parquet_path = folder / f"diagram_{number:02d}.parquet"
        if csv_path.is_file():
            tables[number] = pl.read_csv(csv_path, schema=TABLE_SCHEMA)
        elif parquet_path.is_file():
            tables[number] = pl.read_parquet(parquet_path).select([pl.col(k).cast(t) for k, t in TABLE_SCHEMA.items()])
        else:
            missing.append(csv_path.name)
    return tables, missing


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kvinnofrid.demo.comparison [mapp]``: print the comparison of the tables in
    the folder (default results/tables) with the published values."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print("Användning: python -m kvinnofrid.demo.comparison [mapp med diagram_NN.csv]", file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    folder = Path(args[0]) if args else Path("results/tables")
    ref = table_reference()
    numbers = sorted({int(d) for d in ref["diagram"]})
    if not folder.is_dir():
        print(
            f"Hittar inte mappen {folder}. Ange mappen med tabellerna (diagram_NN.csv), "
            f"eller kör först tabellsteget i arbetsflödet.",
            file=sys.stderr,
        )
        return 2
    tables, missing = read_tables(folder, numbers)
    if missing:
        print(
            f"Tabellfiler saknas i {folder}: {', '.join(missing)}. Kör tabellsteget i arbetsflödet "
            f"(snakemake) så att alla diagram_NN.csv finns, och försök igen.",
            file=sys.stderr,
        )
        return 2
    try:
        report = compare_tables(tables, ref)
    except ComparisonError as err:
        print(f"Jämförelsen kunde inte göras: {err}", file=sys.stderr)
        return 1
    remark = (
        f"{len(OUTSIDE_TABLES)} publicerade värden i diagram 1–27 och värdena ur texten finns "
        f"inte i tabellerna; de jämförs av python -m kvinnofrid.demo.calibration."
    )
    print(format_comparison(report, remark))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
