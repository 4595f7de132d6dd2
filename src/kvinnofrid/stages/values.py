"""Text cells -> typed values by the codebook: option codes, code lists, dates, ages.

Every function here parses all the columns of one kind at once, once per distinct text
of the pool (``distinct.py``): a batch at national scale holds a quarter of a million
rows but a handful of spellings per coded column. One query per kind, not one per
column, is what keeps a small file cheap too: polars' fixed cost per query is what a
file of a few hundred rows pays, many times over, if each column is its own query.

The functions add columns and return the rows whose text names nothing (the issues are
the caller's: ``clean.py`` lists them in the codebook's order).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import polars as pl

from kvinnofrid.spec import codebook as cbmod
from kvinnofrid.stages.distinct import per_distinct_columns

EXCEL_EPOCH = dt.date(1899, 12, 30)  # 1900 date system (valid for serials >= 61)
_LOCATION = ("_f", "_idx", "row")  # what locates a row of the pool


# --------------------------------------------------------------------- normalising


def normalise_expr(expr: pl.Expr) -> pl.Expr:
    """codebook.normalise as a polars expression (NFKC, case, space, å/ä/ö, dashes)."""
    return (
        expr.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all("[åä]", "a")
        .str.replace_all("ö", "o")
        .str.replace_all("[–—]", "-")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def value_key_expr(expr: pl.Expr) -> pl.Expr:
    """Compare form of a coded value: normalised, and `2. Kvinna`, `2 - Kvinna`,
    `2: Kvinna`, `2) Kvinna`, `2 Kvinna` all become `2 kvinna`."""
    n = normalise_expr(expr).str.replace(r"^(\d+)[.,]0+$", "${1}")  # 1.0 from a database extract is 1
    return n.str.replace(r"^(\d+)\s*[.\-:)]?\s*", "${1} ").str.strip_chars()


@cache
def lookup(name: str) -> pl.DataFrame:
    """Every accepted spelling (as a compare key) of the variable's options -> code."""
    cb = cbmod.load()
    var = cb[name]
    synonyms: dict[str, list[str]] = {}
    for alias, target in cb.value_synonyms.items():  # symmetric: `Vet ej` = `Vet inte`
        synonyms.setdefault(cbmod.normalise(target), []).append(alias)
        synonyms.setdefault(cbmod.normalise(alias), []).append(target)
    spellings: list[str] = []
    codes: list[int] = []
    for o in var.options:
        labels = [o.label, *synonyms.get(cbmod.normalise(o.label), [])]
        for text in [str(o.code), *labels, *(f"{o.code} {lab}" for lab in labels)]:
            spellings.append(text)
            codes.append(o.code)
    frame = pl.DataFrame({"spelling": spellings, "code": codes}, schema={"spelling": pl.String, "code": pl.Int8})
    keys = frame.select(value_key_expr(pl.col("spelling")).alias("key"), "code").unique(maintain_order=True)
    clash = keys.group_by("key").agg(pl.col("code").n_unique().alias("n")).filter(pl.col("n") > 1)
    if clash.height:
        raise cbmod.CodebookError(f"{name}: spellings {clash['key'].to_list()} mean several codes")
    return keys.unique("key", maintain_order=True)


def _lookups(variables: set[str]) -> pl.LazyFrame:
    """``variable``, ``key``, ``code`` of every variable named."""
    return _joint_lookup(tuple(sorted(variables))).lazy()


@cache
def _joint_lookup(variables: tuple[str, ...]) -> pl.DataFrame:
    return pl.concat([lookup(v).select(pl.lit(v).alias("variable"), "key", "code") for v in variables])


# ----------------------------------------------------------------------- parsers


def parse_date_expr(expr: pl.Expr) -> pl.Expr:
    """Text -> Date: ISO, ISO date-time, compact YYYYMMDD, Excel serial (1900 system)."""
    s = expr.str.strip_chars()
    iso = s.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$", 1)
    compact = s.str.extract(r"^(\d{8})$", 1)
    # Excel serials: five digits (1927-05-18 … 2173-10-13), optionally with a time
    # fraction; shorter numbers (a year alone, `2022`) are not taken for dates.
    serial = s.str.extract(r"^(\d{5})(?:\.\d+)?$", 1).cast(pl.Int64, strict=False)
    return pl.coalesce(
        iso.str.to_date("%Y-%m-%d", strict=False),
        compact.str.to_date("%Y%m%d", strict=False),
        (pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)).cast(pl.Date),
    )


_AGE_SINGLE = r"^(?:ca\.?|cirka|circa|ungefar)?\s*(\d{1,6})(?:[.,]0+)?\s*(?:ar)?\s*\??$"
_AGE_RANGE = r"^(\d{1,6})\s*-\s*(\d{1,6})\s*(?:ar)?\s*\??$"


def parse_age_expr(expr: pl.Expr) -> pl.Expr:
    """Ålder free text -> Int64 years (null if not a number): `34`, `34 år`, `ca 34`,
    `cirka 34`, `34?` -> 34; a range `30-35` -> its midpoint rounded down."""
    n = normalise_expr(expr)
    single = n.str.extract(_AGE_SINGLE, 1).cast(pl.Int64, strict=False)
    lo = n.str.extract(_AGE_RANGE, 1).cast(pl.Int64, strict=False)
    hi = n.str.extract(_AGE_RANGE, 2).cast(pl.Int64, strict=False)
    midpoint = pl.when(lo <= hi).then((lo + hi) // 2)
    return pl.coalesce(single, midpoint)


# ------------------------------------------------------------------ whole columns


def unparsed(frame: pl.DataFrame, parsed: dict[str, str], keep: tuple[str, ...] = ()) -> dict[str, pl.DataFrame]:
    """column -> its rows (``_f``, ``_idx``, ``row``, the columns to ``keep``, ``text``)
    with a text that parsed to null (``parsed``: column -> its parsed column); a column
    without any is left out."""
    if not parsed:
        return {}
    parts = [
        frame.lazy()
        .filter(pl.col(column).is_not_null() & pl.col(out).is_null())
        .select(*_LOCATION, *keep, pl.lit(column).alias("_column"), pl.col(column).cast(pl.String).alias("text"))
        for column, out in parsed.items()
    ]
    bad = pl.concat(parts).collect()
    return {key[0]: part for key, part in bad.partition_by("_column", as_dict=True, include_key=False).items()}


def parse_dates(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``_<column>_date`` for every column, each distinct text of them all parsed once."""
    return per_distinct_columns(frame, {c: f"_{c}_date" for c in columns}, parse_date_expr, pl.Date)


def option_codes(frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """``_<column>_code`` (Int8, null: no option) for every column (column -> the
    variable whose options it names), each distinct text of a column looked up once."""
    if not columns:
        return frame
    names = pl.LazyFrame({"_column": list(columns), "variable": list(columns.values())})
    texts = pl.concat(
        [
            frame.lazy().select(pl.lit(c).alias("_column"), pl.col(c).cast(pl.String).alias("text")).unique()
            for c in columns
        ]
    ).drop_nulls("text")
    table = (
        texts.join(names, on="_column")
        .with_columns(value_key_expr(pl.col("text")).alias("key"))
        .join(_lookups(set(columns.values())), on=["variable", "key"], how="left")
        .select("_column", "text", "code")
        .collect()
    )
    by_column = {key[0]: part for key, part in table.partition_by("_column", as_dict=True).items()}
    return frame.with_columns(
        [
            _mapped(pl.col(c).cast(pl.String), by_column.get(c), "text", "code", pl.Int8).alias(f"_{c}_code")
            for c in columns
        ]
    )


def _mapped(column: pl.Expr, table: pl.DataFrame | None, old: str, new: str, dtype: pl.DataType) -> pl.Expr:
    """The column's values replaced by the table's (null where the table has none)."""
    if table is None:
        return pl.lit(None, dtype)
    return column.replace_strict(table.get_column(old), table.get_column(new), default=None, return_dtype=dtype)


def code_lists(frame: pl.DataFrame, names: list[str]) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """``_<name>_codes`` (List(Int8), sorted, unique; null when no token names an
    option) for every multi-choice column, each distinct list of the pool parsed once;
    and name -> the rows with a token that names nothing (``_f``, ``_idx``, ``row``,
    ``text``: one row per unknown token, by row and position)."""
    if not names:
        return frame, {}
    frame = frame.with_columns([_as_list(pl.col(n)) for n in names if frame.schema[n] == pl.String])
    lists = (
        pl.concat([frame.lazy().select(pl.lit(n).alias("variable"), pl.col(n).alias("_list")).unique() for n in names])
        .drop_nulls("_list")
        .with_row_index("_list_id")
        .collect()
    )
    if not lists.height:
        return frame.with_columns([pl.lit(None, pl.List(pl.Int8)).alias(f"_{n}_codes") for n in names]), {}
    tokens = _list_tokens(lists)
    codes = tokens.filter(pl.col("code").is_not_null()).group_by("_list_id").agg(pl.col("code").unique().sort())
    lists = lists.join(codes, on="_list_id", how="left")
    mapped = pl.collect_all(
        [
            frame.lazy()
            .select(*_LOCATION, pl.col(n).alias("_list"))
            .join(lists.lazy().filter(pl.col("variable") == n), on="_list", how="left", maintain_order="left")
            for n in names
        ]
    )
    frame = frame.with_columns([m.get_column("code").alias(f"_{n}_codes") for n, m in zip(names, mapped)])
    unknown = tokens.filter(pl.col("code").is_null()).select("_list_id", "_pos", pl.col("_token").alias("text"))
    bad = {
        n: m.select(*_LOCATION, "_list_id").join(unknown, on="_list_id").sort("_idx", "_pos").drop("_list_id", "_pos")
        for n, m in zip(names, mapped)
        if unknown.height
    }
    return frame, {n: part for n, part in bad.items() if part.height}


def _as_list(cell: pl.Expr) -> pl.Expr:
    """A plain text cell split into tokens like ingest splits it (``;`` then ``,``)."""
    return cell.str.split(";").list.eval(pl.element().str.split(",")).list.eval(pl.element().explode())


def _list_tokens(lists: pl.DataFrame) -> pl.DataFrame:
    """One row per non-empty token of each list (``_list_id``, ``_pos``, ``_token``)
    with its ``code`` (null: it names no option of the list's variable)."""
    tokens = (
        lists.lazy()
        .explode("_list")
        .with_columns(pl.int_range(pl.len()).over("_list_id").alias("_pos"))
        .with_columns(pl.col("_list").cast(pl.String).str.strip_chars().replace("", None).alias("_token"))
        .filter(pl.col("_token").is_not_null())
        .select("_list_id", "variable", "_pos", "_token")
    )
    keys = tokens.select("variable", "_token").unique().with_columns(value_key_expr(pl.col("_token")).alias("key"))
    keys = keys.join(_lookups(set(lists.get_column("variable").unique())), on=["variable", "key"], how="left")
    return tokens.join(keys.drop("key"), on=["variable", "_token"], how="left", maintain_order="left").collect()
