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
from kvinnofrid.stages.grid import cell_name
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


def stripped(*columns: str) -> pl.Expr:
    """Each cell's text without surrounding space; null when empty or a null token
    (``NULL``, ``NA``, ``N/A``, … as database extracts write a missing value). Ingest
    applies it to every data cell once; the functions below read cells so cleaned. One
    expression for all the columns (built once, not once per column: a file has ~70)."""
    s = pl.col(*columns).str.strip_chars()
    return pl.when(s.str.contains(_EMPTY)).then(None).otherwise(s).name.keep()


def header_width(columns: Columns) -> int:
    """Columns up to the header's last named one."""
    named = [i for i, h in enumerate(columns.headers) if h]
    return named[-1] + 1 if named else 0


# The case key of a shifted record stays: the row is quarantined by it, never used.
KEEP_ON_SHIFT = ("client", "opened")


def screen_cells(frame: pl.DataFrame, keys: Sequence[str], personal: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pooled rows of a batch (``_f``, ``_n``, ``row``, ``extra_fields`` and the
    recognised columns ``keys``) with every screened cell emptied and, on a shifted
    record, every cell but its case key; and the screened cells of the other records
    (``_f``, ``row``, ``key``, ``rule``: their issues). A column in ``personal`` (an
    identifier may look like anything) is screened for Excel errors only."""
    hits = _screen_hits(frame, keys, personal)
    shifted = bool(frame.get_column("extra_fields").any())
    emptied = []
    for key in keys:
        hit = hits.filter(pl.col("key") == key).get_column("_n")
        condition = pl.col("_n").is_in(hit.implode()) if hit.len() else pl.lit(False)
        if shifted and key not in KEEP_ON_SHIFT:
            condition = condition | pl.col("extra_fields")
        if hit.len() or (shifted and key not in KEEP_ON_SHIFT):
            emptied.append(pl.when(condition).then(None).otherwise(pl.col(key)).alias(key))
    # a shifted record's values are not where their header says: one issue for the row
    # (its cells are emptied), none per cell
    found = hits.filter(~pl.col("extra_fields")).select("_f", "row", "key", "rule")
    return frame.with_columns(emptied), found


def _screen_hits(frame: pl.DataFrame, keys: Sequence[str], personal: set[str]) -> pl.DataFrame:
    """``_n``, ``_f``, ``row``, ``extra_fields``, ``key``, ``rule`` of every cell that is
    a personal number or an Excel error value: the patterns run once per cell of the
    batch, the few hits are then listed."""
    schema = {"_n": pl.UInt32, "_f": pl.UInt32, "row": pl.Int32, "extra_fields": pl.Boolean}
    schema |= {"key": pl.String, "rule": pl.String}
    if not keys:
        return pl.DataFrame(schema=schema)
    index = ["_n", "_f", "row", "extra_fields"]
    rules = [_screen_rule(pl.col(key), key in personal).alias(key) for key in keys]
    flagged = frame.lazy().select(*index, *rules).filter(pl.any_horizontal(pl.col(k).is_not_null() for k in keys))
    hits = flagged.unpivot(index=index, variable_name="key", value_name="rule").drop_nulls("rule")
    return hits.collect().cast(schema)


def _screen_rule(text: pl.Expr, personal: bool) -> pl.Expr:
    error = pl.when(text.is_in(EXCEL_ERRORS)).then(pl.lit("excel_error_value"))
    if personal:
        return error.otherwise(None)
    return pl.when(personal_number_expr(text)).then(pl.lit("personal_identity_number")).otherwise(error)


# ------------------------------------------------------------------ unit texts

# A text on at most this share of a file's rows (and on fewer than half of them) is
# "a few rows" when the file's other rows name a known unit.
FEW_ROWS_SHARE = 0.05


def screen_unit_texts(frame: pl.DataFrame, known: KnownUnits) -> pl.DataFrame:
    """The pooled rows with ``unit_text`` (String): the description of a Kommun/stadsdel
    (2) text that is no unit (``(text med 14 tecken)``), whose cell is emptied; null on
    every other row. No unit: a text shaped like a person's name, an e-mail address
    or a phone number; or an unknown text on a few rows (``FEW_ROWS_SHARE``) of a file
    whose other rows name a known unit (the register, ``districts``, the alias file)."""
    if "municipality" not in frame.columns:
        return frame.with_columns(pl.lit(None, pl.String).alias("unit_text"))
    # one test per distinct text, not per row (a file names one or a few units)
    counts = frame.drop_nulls("municipality").group_by("_f", "municipality").len("_n")
    texts = counts.get_column("municipality").unique().to_list()
    known_texts = [t for t in texts if known.is_known(t)]
    person_texts = [t for t in texts if looks_like_person(t)]
    rows = pl.col("_n").sum().over("_f")
    known_rows = pl.col("_n").filter(pl.col("_known")).sum().over("_f")
    few = (pl.col("_n") <= pl.max_horizontal(1, (FEW_ROWS_SHARE * rows).floor())) & (pl.col("_n") * 2 < rows)
    rejected = counts.with_columns(
        pl.col("municipality").is_in(known_texts).alias("_known"),
        pl.col("municipality").is_in(person_texts).alias("_person"),
    ).filter(~pl.col("_known") & (pl.col("_person") | (few & (known_rows > 0))))
    if rejected.height == 0:
        return frame.with_columns(pl.lit(None, pl.String).alias("unit_text"))
    flagged = frame.join(
        rejected.select("_f", "municipality", pl.lit(True).alias("_not_a_unit")),
        on=["_f", "municipality"],
        how="left",
        maintain_order="left",
    )
    not_a_unit = pl.col("_not_a_unit").fill_null(False)
    return flagged.with_columns(
        pl.when(not_a_unit).then(shown_value_expr(pl.col("municipality"))).alias("unit_text"),
        pl.when(not_a_unit).then(None).otherwise(pl.col("municipality")).alias("municipality"),
    ).drop("_not_a_unit")


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
    "header_width",
    "most_common",
    "screen_cells",
    "screen_unit_texts",
    "stripped",
)
