"""Screening an export's cells for what must never travel further, before anything
is parsed.

* Something shaped like a personal identity or coordination number in any national
  column (``personal_identity_number``), and Excel's error values in any column
  (``excel_error_value``): the cell is emptied and the issue located, without the
  value.
* A CSV record with more fields than the header (an unquoted delimiter in a comment):
  its values are shifted, so it keeps only its case key (``extra_fields``, which clean
  quarantines as ``row_has_extra_fields``).
* Kommun/stadsdel (2) texts that are no unit (:func:`screen_unit_texts`): what a
  person typed there (a name, an e-mail address, a phone number), or a text found on
  only a few rows of a file whose other rows name a known unit. The cell is emptied
  and its description kept in ``unit_text`` (clean quarantines the row as
  ``unit_text_not_a_unit``), so that no unit, file name, page or log carries it.

All cells of a file are screened at once, by expressions: one pass of the patterns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from kvinnofrid.spec.municipalities import KnownUnits
from kvinnofrid.stages.grid import Grid, cell_name
from kvinnofrid.stages.headers import ColumnRole
from kvinnofrid.stages.redaction import EXCEL_ERRORS, looks_like_person, personal_number_expr, shown_value_expr

_SCREENED_ROLES = ("variable", "option", "risk")
# Values database tools and statistics programs write for "no value": empty everywhere.
NULL_TOKENS = ("null", "(null)", "<null>", "[null]", "na", "n/a", "nan", "none", "\\n")
_EMPTY = "(?i)^(?:|" + "|".join(re.escape(token) for token in NULL_TOKENS) + ")$"


@dataclass(frozen=True)
class Columns:
    """The header of a file: header text and role per column index."""

    headers: list[str]
    roles: list[ColumnRole]

    def of(self, target: str) -> list[int]:
        """Indexes of the columns whose role targets ``target``, in file order."""
        return [i for i, r in enumerate(self.roles) if r.target == target]

    def first(self, target: str, out: str) -> pl.Expr:
        """The text of the first column for ``target`` (null when none) as ``out``."""
        where = self.of(target)
        return (pl.col(cell_name(where[0])) if where else pl.lit(None, pl.String)).alias(out)


def stripped(column: str) -> pl.Expr:
    """A cell's text without surrounding space; null when empty or a null token
    (``NULL``, ``NA``, ``N/A``, … as database extracts write a missing value). Ingest
    applies it to every data cell once; the functions below read cells so cleaned."""
    s = pl.col(column).str.strip_chars()
    return pl.when(s.str.contains(_EMPTY)).then(None).otherwise(s).alias(column)


def header_width(columns: Columns) -> int:
    """Columns up to the header's last named one."""
    named = [i for i, h in enumerate(columns.headers) if h]
    return named[-1] + 1 if named else 0


def screen_cells(data: pl.DataFrame, columns: Columns, grid: Grid) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the data with screened cells emptied and ``_extra_fields`` per row, the screened
    cells: ``row``, ``i`` (column index), ``rule``)."""
    width = header_width(columns)
    beyond = [cell_name(i) for i in range(width, len(columns.headers))]
    extra = (
        pl.any_horizontal([pl.col(c).is_not_null() for c in beyond])
        if grid.format == "csv" and beyond
        else pl.lit(False)
    )
    data = data.with_columns(extra.alias("_extra_fields"))
    keep_on_extra = set(columns.of("client")) | set(columns.of("opened"))
    personal = [i for i in range(width) if columns.roles[i].role == "personal"]
    screened_columns = [i for i in range(width) if columns.roles[i].role in _SCREENED_ROLES] + personal
    hits = _screen_hits(data, screened_columns, personal)
    # a shifted record's values are not where their header says: one issue for the row
    # (its cells are emptied below), none per cell
    found = hits.filter(~pl.col("_extra_fields")).select("row", "i", "rule")
    any_shifted = bool(data.get_column("_extra_fields").any())
    hit_rows = dict(hits.group_by("i").agg("row").iter_rows()) if hits.height else {}
    cells = []
    for i in range(width):
        emptied = pl.col("row").is_in(hit_rows[i]) if i in hit_rows else pl.lit(False)
        if any_shifted and i not in keep_on_extra:
            emptied = emptied | pl.col("_extra_fields")
        if i in hit_rows or (any_shifted and i not in keep_on_extra):
            cell = cell_name(i)
            cells.append(pl.when(emptied).then(None).otherwise(pl.col(cell)).alias(cell))
    data = data.with_columns(*cells, *[pl.lit(None, pl.String).alias(cell) for cell in beyond])
    return data, found


def _screen_hits(data: pl.DataFrame, screened: list[int], personal: list[int]) -> pl.DataFrame:
    """``row``, ``_extra_fields``, ``i``, ``rule`` of every screened cell that is a personal
    number or an Excel error value (an identifier may look like anything, but an Excel
    error is no identifier). All cells at once: one pass of the patterns per file."""
    schema = {"row": pl.Int32, "_extra_fields": pl.Boolean, "i": pl.Int32, "rule": pl.String}
    if not screened:
        return pl.DataFrame(schema=schema)
    text = pl.col("_text").str.strip_chars()
    error = pl.when(text.is_in(EXCEL_ERRORS)).then(pl.lit("excel_error_value"))
    rule = (
        pl.when(pl.col("i").is_in(personal))
        .then(error)
        .when(personal_number_expr(text))
        .then(pl.lit("personal_identity_number"))
        .otherwise(error)
    )
    return (
        data.lazy()
        .select("row", "_extra_fields", *[pl.col(cell_name(i)).alias(str(i)) for i in sorted(screened)])
        .unpivot(index=["row", "_extra_fields"], variable_name="i", value_name="_text")
        .filter(pl.col("_text").is_not_null())
        .with_columns(pl.col("i").cast(pl.Int32))
        .with_columns(rule.alias("rule"))
        .filter(pl.col("rule").is_not_null())
        .select(pl.col("row").cast(pl.Int32), "_extra_fields", "i", "rule")
        .collect()
    )


def screen_issues(screened: pl.DataFrame, columns: Columns, shown: str) -> list[dict[str, Any]]:
    """One issue per screened cell: located, never with the value of a personal number."""
    return [
        {
            "file": shown,
            "row": row,
            "column": columns.headers[i],
            "variable": columns.roles[i].variable,
            "rule": rule,
            "value": None,
            "_col": i,
        }
        for row, i, rule in screened.iter_rows()
    ]


# ------------------------------------------------------------------ unit texts

# A text on at most this share of a file's rows (and on fewer than half of them) is
# "a few rows" when the file's other rows name a known unit.
FEW_ROWS_SHARE = 0.05


def screen_unit_texts(data: pl.DataFrame, columns: Columns, known: KnownUnits) -> pl.DataFrame:
    """``data`` with ``unit_text`` (String): the description of a Kommun/stadsdel (2)
    text that is no unit (``(text med 14 tecken)``), whose cell is emptied; null on
    every other row. No unit: a text shaped like a person's name, an e-mail address
    or a phone number; or an unknown text on a few rows (``FEW_ROWS_SHARE``) of a file
    whose other rows name a known unit (the register, ``districts``, the alias file)."""
    where = columns.of("municipality")
    if not where:
        return data.with_columns(pl.lit(None, pl.String).alias("unit_text"))
    cell = cell_name(where[0])
    data = data.with_columns(pl.col(cell).alias("_unit"))
    # one test per distinct text, not per row (a file names one or a few units)
    counts = data.drop_nulls("_unit").group_by("_unit").len("_n").sort("_unit")
    texts = counts.get_column("_unit").to_list()
    counts = counts.with_columns(
        pl.Series("_known", [known.is_known(t) for t in texts], dtype=pl.Boolean),
        pl.Series("_person", [looks_like_person(t) for t in texts], dtype=pl.Boolean),
    )
    rows = int(counts.get_column("_n").sum())
    known_rows = int(counts.filter(pl.col("_known")).get_column("_n").sum())
    few = (pl.col("_n") <= max(1, int(FEW_ROWS_SHARE * rows))) & (pl.col("_n") * 2 < rows)
    rejected = counts.filter(~pl.col("_known") & (pl.col("_person") | (few & (known_rows > 0))))
    not_a_unit = pl.col("_unit").is_in(rejected.get_column("_unit").implode())
    return data.with_columns(
        pl.when(not_a_unit).then(shown_value_expr(pl.col("_unit"))).alias("unit_text"),
        pl.when(not_a_unit).then(None).otherwise(pl.col(cell)).alias(cell),
    ).drop("_unit")


def most_common(values: pl.Series) -> Any:
    """The most common non-null value (ties: the smallest), or None."""
    values = values.drop_nulls()
    if values.is_empty():
        return None
    counts = values.value_counts(sort=False, name="n").sort(["n", values.name], descending=[True, False])
    return counts.item(0, values.name)


__all__: Sequence[str] = (
    "NULL_TOKENS",
    "Columns",
    "most_common",
    "screen_cells",
    "screen_issues",
    "screen_unit_texts",
    "stripped",
)
