"""A file whose rows name several units: split by the rows' own values.

A unit is identified by the Kommun/stadsdel (2) text of its rows, plus Verksamhet (1)
where a municipality has several units; the file is not trusted to hold one unit.
Clean finds the *parts* of a file (``unit_parts``): one per Kommun/stadsdel text (case
and space ignored, å/ä/ö kept), split further by Verksamhet only when the rows of one
text carry two or more Verksamhet codes. A row without a text (or without a code, when
codes split) belongs to the file's most common one. A file with one part has none
recorded and is handled as before.

Compile and quality then treat each part as a file of its own (``expand_parts``): its
rows, its issues and its accounting (rows read = used + excluded + quarantined, per
part), and a ``file_holds_several_units`` warning naming the file on each unit's page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from kvinnofrid.spec.municipalities import unit_key
from kvinnofrid.spec.rules import ISSUE_SCHEMA, with_outcome
from kvinnofrid.stages.ingest import most_common

PART_KEYS = ("municipality", "service_type", "rows")


def unit_parts(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """``rows``: every data row of a file (``row``, ``municipality`` text, ``service``
    code or null). [] when they name one unit; else per part, in order of first row:
    ``municipality`` (its most common spelling), ``service_type`` (code or None) and
    ``rows`` (the row numbers)."""
    keyed = rows.with_columns(
        pl.col("municipality").map_elements(unit_key, return_dtype=pl.String).replace("", None).alias("_m")
    )
    file_unit = most_common(keyed["_m"])
    if file_unit is None:  # no row names a unit: nothing to split
        return []
    keyed = keyed.with_columns(pl.col("_m").fill_null(file_unit))
    codes = keyed.drop_nulls("service").group_by("_m").agg(pl.col("service").n_unique().alias("_n"))
    split = set(codes.filter(pl.col("_n") > 1)["_m"].to_list())
    majority = {m: most_common(group["service"]) for (m,), group in keyed.group_by("_m")}
    keyed = keyed.with_columns(
        pl.when(pl.col("_m").is_in(list(split)))
        .then(pl.coalesce(pl.col("service"), pl.col("_m").replace_strict(majority, default=None)))
        .otherwise(None)
        .alias("_s")
    )
    if keyed.select("_m", "_s").unique().height <= 1:
        return []
    parts = []
    for (m, s), group in keyed.sort("row").group_by(["_m", "_s"], maintain_order=True):
        parts.append(
            {
                "municipality": most_common(group["municipality"]) or m,
                "service_type": None if s is None else int(s),
                "rows": group["row"].to_list(),
            }
        )
    return parts


def part_counts(result: Any, rows: Sequence[int]) -> dict[str, int]:
    """The row accounting of one part (computed by clean, where every frame is at hand)."""
    in_rows = pl.col("row").is_in(list(rows))
    excluded = result.excluded.filter(in_rows)
    quarantined = excluded.filter(pl.col("rule").is_in(with_outcome("quarantine"))).height
    return {
        "rows_read": len(rows),
        "rows_used": result.used.filter(in_rows).height,
        "rows_excluded": excluded.height - quarantined,
        "rows_quarantined": quarantined,
    }


def _part_result(result: Any, part: dict[str, Any], first: bool) -> Any:
    """The CleanResult restricted to the part's rows (file-level issues go to the first
    part); its counts are the part's accounting plus its issues per rule."""
    in_rows = pl.col("row").is_in(list(part["rows"]))
    issues = result.issues.filter(in_rows | (pl.col("row").is_null() & pl.lit(first)))
    used = result.used.filter(in_rows)
    risk = (
        result.risk.join(used.select("client_key", "opened"), on=["client_key", "opened"], how="semi")
        if result.risk.height
        else result.risk
    )
    counts = dict.fromkeys(result.counts, 0) | dict(part["counts"])
    for rule, n in issues.group_by("rule").len().iter_rows():
        counts[rule] = n
    return replace(
        result,
        used=used,
        excluded=result.excluded.filter(in_rows),
        risk=risk,
        issues=issues,
        counts=counts,
        unit_parts=[],
    )


def expand_parts(cleaned: Iterable[tuple[dict, Any]]) -> list[tuple[dict, Any]]:
    """Each (meta, CleanResult) of a file with several parts becomes one pair per part:
    meta with the part's ``municipality``/``service_type`` and ``part`` (1, 2, …), the
    result with the part's rows, issues and counts. Other files pass unchanged."""
    expanded = []
    for meta, result in cleaned:
        parts = result.unit_parts or meta.get("unit_parts") or []
        if not parts:
            expanded.append((meta, result))
            continue
        for k, part in enumerate(parts, start=1):
            part_meta = {key: v for key, v in meta.items() if key != "unit_parts"} | {
                "municipality": part["municipality"],
                "service_type": part["service_type"],
                "part": k,
                "rows_read": len(part["rows"]),
            }
            expanded.append((part_meta, _part_result(result, part, k == 1)))
    return expanded


def several_units_warnings(cleaned: Sequence[tuple[dict, Any]], unit_of: dict[tuple[str, int], str]) -> pl.DataFrame:
    """``file_holds_several_units``: one warning per part of a split file, on its unit."""
    rows = [
        {
            "unit": unit_of[(str(meta["file"]), int(meta["part"]))],
            "round": result.round,
            "file": str(meta["file"]),
            "row": None,
            "column": None,
            "variable": "municipality",
            "rule": "file_holds_several_units",
            "value": None,
        }
        for meta, result in cleaned
        if meta.get("part")
    ]
    schema = {"unit": pl.String(), "round": pl.Date(), **dict(ISSUE_SCHEMA)}
    return pl.DataFrame(rows, schema=schema)
