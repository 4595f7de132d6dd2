"""Work once per distinct value, not once per row.

At national scale a batch holds a quarter of a million rows, but a coded column a
handful of spellings, a date column a few thousand days, a multi-choice column a few
hundred combinations. Parsing them value by value (normalising, regular expressions,
token lists) cost most of a batch's time; parsing the distinct values and mapping them
back costs one hash per cell.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def per_distinct(
    frame: pl.DataFrame, column: str, parse: Callable[[pl.Expr], pl.Expr], out: str, dtype: pl.DataType
) -> pl.DataFrame:
    """``frame`` with ``out`` = ``parse(pl.col(column)).cast(dtype)``, computed once per
    distinct value of the column (null stays null)."""
    return per_distinct_columns(frame, {column: out}, parse, dtype)


def per_distinct_columns(
    frame: pl.DataFrame, columns: dict[str, str], parse: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType
) -> pl.DataFrame:
    """:func:`per_distinct` for several columns of one dtype (column -> out) that one
    parser reads: each distinct value of them all is parsed once, in one query."""
    if not columns:
        return frame
    values = pl.concat([frame.lazy().select(pl.col(c).alias("_value")) for c in columns]).drop_nulls().unique()
    table = values.select("_value", parse(pl.col("_value")).cast(dtype).alias("_parsed")).collect()
    old, new = table.get_column("_value"), table.get_column("_parsed")
    return frame.with_columns(
        [pl.col(c).replace_strict(old, new, default=None, return_dtype=dtype).alias(out) for c, out in columns.items()]
    )


def per_distinct_rows(frame: pl.DataFrame, keys: list[str], compute: list[pl.Expr]) -> pl.DataFrame:
    """``frame`` with the columns of ``compute`` (expressions over ``keys`` only),
    computed once per distinct combination of the keys (nulls match nulls); any dtype."""
    table = frame.select(keys).unique().with_columns(compute)
    # the keys alone are joined (the right side is unique: one row per row of the frame)
    mapped = frame.select(keys).join(table, on=keys, how="left", maintain_order="left", nulls_equal=True)
    return frame.with_columns(mapped.drop(keys))
