"""Compile the cleaned files into one national case table.

* Each file's **unit** is its Kommun/stadsdel text; when a municipality appears with
  several Verksamhet values across the files, the Verksamhet label is added:
  ``Sigtuna (Myndighet)``. The file name is never trusted. Every unit also gets a
  stable **slug** for file names (``sigtuna-myndighet``).
* A unit with two files in one round is an error naming both files.
* Each unit's **latest round up to the cut-off** is compiled (also when that is an
  earlier round because the unit did not submit in the last one).
* Cases used in an earlier round of a unit but missing from the compiled round are
  ``case_missing_from_later_export`` warnings (located by the old file, its row and
  the opening date; never by a key).
* ``case_id`` is a SHA-256 of (unit slug, client key, opening date): a hashed key that
  carries neither identifier.
* ``compile_at_round`` is the compilation as it stood at an earlier submission round
  (cut-off = the round, period ending at the round at the latest), for the comparison
  of key shares between rounds (kvinnofrid.statistics.trend).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.spec import codebook as cbmod
from kvinnofrid.spec.municipalities import KnownUnits, register_name, unit_identity, unit_key
from kvinnofrid.spec.names import slug
from kvinnofrid.spec.rules import ISSUE_SCHEMA
from kvinnofrid.stages.clean import CleanResult, as_date
from kvinnofrid.stages.unit_parts import expand_parts, several_units_warnings

WARNING_SCHEMA = pl.Schema({"unit": pl.String(), "round": pl.Date(), **dict(ISSUE_SCHEMA)})
UNIT_SCHEMA = pl.Schema(
    {
        "file": pl.String(),
        "part": pl.Int8(),  # 0: the whole file; 1, 2, …: a unit of a file that holds several
        "round": pl.Date(),
        "municipality": pl.String(),
        "service_type": pl.Int8(),
        "unit": pl.String(),
        "unit_slug": pl.String(),
    }
)


class CompileError(UserFacingError, ValueError):
    """The set of files cannot be compiled (e.g. two files of one unit in one round)."""


def _service_code(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return cbmod.load()["service_type"].code_of(str(value))
        except KeyError:
            return None


def _file_municipality(meta: dict, result: CleanResult | None) -> str:
    m = meta.get("municipality")
    if (m is None or str(m).strip() == "") and result is not None and result.used.height:
        mode = result.used["municipality"].drop_nulls().mode()
        m = mode.sort()[0] if mode.len() else None
    if m is None or str(m).strip() == "":
        removed = int(result.counts.get("unit_text_not_a_unit", 0)) if result is not None else 0
        why = (
            f" ({removed} rader hade i stället något som inte är en enhet, t.ex. ett namn; texten visas inte)"
            if removed
            else ""
        )
        raise CompileError(
            f"{meta.get('file', '?')}: filen anger ingen Kommun/stadsdel (2){why}; enheten kan inte bestämmas. "
            "Fyll i kommunens eller stadsdelens namn i Kommun/stadsdel i exporten."
        )
    return re.sub(r"\s+", " ", str(m)).strip()


def assign_units(
    cleaned: Sequence[tuple[dict, CleanResult | None]],
    register_names: Sequence[str] | None = None,
    districts: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One row per file (per part of a file that holds several units): ``file``,
    ``part``, ``round``, ``municipality``, ``service_type``, ``unit`` (display name) and
    ``unit_slug``. Raises CompileError when a unit has two files in one round.

    A unit is known by what its Kommun/stadsdel texts name, not by how they are spelt
    (:func:`unit_table`), so it keeps its identity across rounds; ``municipality`` is
    the unit's name without the Verksamhet (the same for all its files)."""
    return unit_table(cleaned, KnownUnits.of(register_names, districts, aliases)).select(UNIT_SCHEMA.names())


def unit_table(cleaned: Sequence[tuple[dict, CleanResult | None]], known: KnownUnits) -> pl.DataFrame:
    """:func:`assign_units` with the file's own spelling (``spelling``) and the unit's
    identity (``_m``) and municipality (``_kommun``) kept, for the warnings.

    A text that names a municipality of the register (``Sigtuna kommun``, ``Göteborgs
    Stad``), a configured district (also ``<district>s stadsdelsförvaltning``, ``SDF
    <district>``) or a spelling of the alias file is that unit, shown by that name;
    another text is known by its words without a district's words around it. The
    Verksamhet is added to the name only where the municipality reports through
    several units in one round: a single unit whose Verksamhet changes stays one."""
    files = _unit_texts(cleaned)
    if files.height == 0:
        return pl.DataFrame(schema={**UNIT_SCHEMA, "spelling": pl.String(), "_m": pl.String(), "_kommun": pl.String()})
    files = _name_units(files, _identities(files["spelling"], known))
    files = _distinct_slugs(
        files.with_columns(
            pl.col("unit").map_elements(lambda u: slug(u) or "enhet", return_dtype=pl.String).alias("unit_slug")
        )
    )
    _refuse_shared_slugs(files)
    _refuse_two_files_in_a_round(files)
    return files.select(*UNIT_SCHEMA.names(), "spelling", "_m", "_kommun").sort("unit", "round")


def _unit_texts(cleaned: Sequence[tuple[dict, CleanResult | None]]) -> pl.DataFrame:
    """Per file (part): where it is, and the unit as its rows give it."""
    rows = [
        {
            "file": str(meta.get("file", result.file if result is not None else "?")),
            "part": int(meta.get("part", 0)),
            "round": as_date(meta["round"]) if "round" in meta else result.round,
            "spelling": _file_municipality(meta, result),
            "service_type": _service_code(meta.get("service_type")),
        }
        for meta, result in expand_parts(cleaned)
    ]
    schema = {k: UNIT_SCHEMA[k] for k in ("file", "part", "round", "service_type")} | {"spelling": pl.String()}
    return pl.DataFrame(rows, schema=schema)


def _identities(texts: pl.Series, known: KnownUnits) -> pl.DataFrame:
    """Per distinct text: ``spelling``, ``_m`` (the unit's identity), ``_official`` (its
    name when the run knows it) and ``_kommun`` (its municipality, or its identity)."""
    rows = []
    for text in texts.drop_nulls().unique().sort().to_list():
        canonical = known.canonical(text)
        district = known.district(canonical)
        kommun = known.municipality(canonical)
        if district is not None:
            identity, official = f"d:{unit_identity(district)}", district
            kommun = register_name(dict(known.districts)[district], known.names)
        elif kommun is not None:
            identity, official = f"m:{unit_key(kommun)}", kommun
        else:
            aliased = unit_key(text) in dict(known.aliases)
            identity, official = f"t:{unit_identity(canonical)}", canonical if aliased else None
        rows.append({"spelling": text, "_m": identity, "_official": official, "_kommun": kommun or identity})
    schema = {"spelling": pl.String, "_m": pl.String, "_official": pl.String, "_kommun": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _name_units(files: pl.DataFrame, identities: pl.DataFrame) -> pl.DataFrame:
    """``unit``: the unit's known name, else the spelling of its latest file (ties: file
    name), with the Verksamhet label where the municipality has several units in a round."""
    files = files.join(identities, on="spelling", how="left", maintain_order="left")
    several = files.group_by("_m", "round").agg(pl.col("service_type").n_unique().alias("_n"))
    split = several.filter(pl.col("_n") > 1).get_column("_m").unique()
    spelling = (
        files.sort(["round", "file"], descending=[True, False])
        .group_by("_m", maintain_order=True)
        .agg(pl.coalesce(pl.col("_official").first(), pl.col("spelling").first()).alias("municipality"))
    )
    labels = {o.code: o.label for o in cbmod.load()["service_type"].options}
    label_frame = pl.DataFrame(
        {"service_type": list(labels), "_label": list(labels.values())},
        schema={"service_type": pl.Int8, "_label": pl.String},
    )
    files = files.join(spelling, on="_m", how="left", maintain_order="left")
    files = files.join(label_frame, on="service_type", how="left", maintain_order="left")
    unit = (
        pl.when(pl.col("_m").is_in(split.implode()))
        .then(pl.format("{} ({})", pl.col("municipality"), pl.col("_label").fill_null("Verksamhet saknas")))
        .otherwise(pl.col("municipality"))
    )
    return files.with_columns(unit.alias("unit"))


def _refuse_shared_slugs(files: pl.DataFrame) -> None:
    """Two different display names must not share a slug (file names of the reports)."""
    clash = (
        files.group_by("unit_slug")
        .agg(pl.col("unit").n_unique().alias("n"), pl.col("unit").unique().sort().alias("u"))
        .filter(pl.col("n") > 1)
    )
    if clash.height:
        raise CompileError(f"enheterna {clash['u'][0].to_list()} får samma filnamn {clash['unit_slug'][0]!r}")


def _refuse_two_files_in_a_round(files: pl.DataFrame) -> None:
    doubles = (
        files.group_by(["unit", "round"])
        .agg(pl.col("file").unique().sort().alias("files"), pl.col("file").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
        .sort("round", "unit")
    )
    if doubles.height:
        first = doubles.row(0, named=True)
        raise CompileError(
            f"Enheten {first['unit']} har {first['n']} filer i omgången {first['round']}: "
            f"{', '.join(first['files'])}. Varje enhet ska skicka en fil per omgång; ta bort den inaktuella filen "
            "eller rätta Kommun/stadsdel (2) och Verksamhet (1) i exporten."
        )


def _distinct_slugs(files: pl.DataFrame) -> pl.DataFrame:
    """Units whose names differ only in å/ä/ö (Håbo, Habo) would share a slug: the one
    with the Swedish letters gets them spelt out (``haabo``)."""
    names = files.select("unit", "unit_slug").unique()
    shared = names.group_by("unit_slug").agg(pl.len().alias("n")).filter(pl.col("n") > 1)["unit_slug"]
    spelt = pl.col("unit").map_elements(lambda u: slug(_spell_out(u)) or "enhet", return_dtype=pl.String)
    return files.with_columns(
        pl.when(pl.col("unit_slug").is_in(shared.implode()) & pl.col("unit").str.contains("[åäöÅÄÖ]"))
        .then(spelt)
        .otherwise(pl.col("unit_slug"))
        .alias("unit_slug")
    )


def _spell_out(text: str) -> str:
    return text.translate(str.maketrans({"å": "aa", "ä": "ae", "ö": "oe", "Å": "Aa", "Ä": "Ae", "Ö": "Oe"}))


def case_id_expr(unit_slug: pl.Expr, client_key: pl.Expr, opened: pl.Expr) -> pl.Expr:
    """SHA-256 hex of `slug \\x1f client_key \\x1f YYYY-MM-DD` (one Python call per batch,
    one digest per distinct text: a case's risk assessments share it)."""

    def digests(texts: pl.Series) -> pl.Series:
        ids = _case_ids(texts)
        return texts.to_frame("_text").join(ids, on="_text", how="left", maintain_order="left")["case_id"]

    return _case_text(unit_slug, client_key, opened).map_batches(digests, return_dtype=pl.String)


def _case_text(unit_slug: pl.Expr, client_key: pl.Expr, opened: pl.Expr) -> pl.Expr:
    return pl.concat_str([unit_slug, client_key, opened.dt.strftime("%Y-%m-%d")], separator="\x1f")


def _case_ids(texts: pl.Series) -> pl.DataFrame:
    """``_text`` (each distinct case text once) and ``case_id``, its SHA-256 hex digest."""
    distinct = texts.unique().drop_nulls()
    sha256 = hashlib.sha256
    digests = [sha256(t.encode("utf-8")).hexdigest() for t in distinct.to_list()]
    return pl.DataFrame({"_text": distinct, "case_id": pl.Series(digests, dtype=pl.String)})


def _with_case_ids(*frames: pl.DataFrame) -> list[pl.DataFrame]:
    """The frames (each with ``_slug``, ``client_key``, ``opened``) with ``case_id`` as
    :func:`case_id_expr` gives it, each distinct case text hashed once for all frames:
    the cases and their risk assessments share their digests (at a million cases,
    hashing each frame on its own was more than half of compile)."""
    text = _case_text(pl.col("_slug"), pl.col("client_key"), pl.col("opened")).alias("_text")
    with_text = [frame.with_columns(text) for frame in frames]
    ids = _case_ids(pl.concat([frame.select("_text") for frame in with_text]).to_series())
    return [frame.join(ids, on="_text", how="left", maintain_order="left").drop("_text") for frame in with_text]


def compile_cases(
    cleaned: Sequence[tuple[dict, CleanResult]],
    cutoff: dt.date,
    *,
    period: tuple[dt.date, dt.date] | None = None,
    register_names: Sequence[str] | None = None,
    districts: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(cases, risk, warnings) from the cleaned files of all rounds.

    ``cases``: ``unit``, ``round``, ``case_id`` + ``case_schema()``, sorted by unit,
    opened, case_id. ``risk``: ``unit``, ``case_id`` + ``risk_schema()``.
    ``warnings``: ``unit``, ``round`` (the compiled round) + ``ISSUE_SCHEMA`` columns,
    one ``case_missing_from_later_export`` per vanished case (file/row of the old file,
    value = its opening date), the unit warnings of :func:`warn_unit_names` and
    ``units_share_cases``. ``period``, when given, is asserted on the result.
    ``register_names``, ``districts`` and ``aliases`` (config ``unit_aliases``) say which
    unit texts the run knows (:func:`unit_table`).
    """
    cleaned = expand_parts(cleaned)
    units = unit_table(cleaned, KnownUnits.of(register_names, districts, aliases))
    used, risk_all = _tag_with_units(cleaned, units)
    if used is None:
        return (
            pl.DataFrame(schema=cases_schema()),
            pl.DataFrame(schema=RISK_OUT_SCHEMA),
            pl.DataFrame(schema=WARNING_SCHEMA),
        )
    latest = units.filter(pl.col("round") <= cutoff).group_by("unit").agg(pl.col("round").max().alias("_latest"))
    used = used.filter(pl.col("round") <= cutoff).join(latest, on="unit", how="inner")
    current = used.filter(pl.col("round") == pl.col("_latest"))
    unit_of = {(r["file"], r["part"]): r["unit"] for r in units.iter_rows(named=True)}
    warnings = pl.concat(
        [
            several_units_warnings(cleaned, unit_of),
            warn_unit_names(units),
            warn_vanished_cases(current, used.filter(pl.col("round") < pl.col("_latest"))),
            warn_shared_cases(current, units),
        ]
    )
    current, risk_current = _with_case_ids(current, _latest_risk(risk_all, latest))
    cases = current.select(cases_schema().names()).cast(dict(cases_schema())).sort("unit", "opened", "case_id")
    risk = risk_current.select(RISK_OUT_SCHEMA.names()).cast(dict(RISK_OUT_SCHEMA)).sort("unit", "case_id", "position")
    _assert_cases(cases, period)
    return cases, risk, warnings


RISK_OUT_SCHEMA = pl.Schema({"unit": pl.String(), "case_id": pl.String(), **dict(cbmod.risk_schema())})


def cases_schema() -> pl.Schema:
    """Columns of the compiled case table."""
    return pl.Schema({"unit": pl.String(), "round": pl.Date(), "case_id": pl.String(), **dict(cbmod.case_schema())})


def _tag_with_units(
    cleaned: Sequence[tuple[dict, CleanResult]], units: pl.DataFrame
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """(used rows, risk rows) of every file with its unit, slug and round (file and row
    of the used rows kept as ``_file``/``_row``); None where no file has any."""
    schema = cbmod.case_schema()
    by_file = {(r["file"], r["part"]): r for r in units.iter_rows(named=True)}
    used_parts, risk_parts = [], []
    for meta, result in cleaned:
        info = by_file[(str(meta.get("file", result.file)), int(meta.get("part", 0)))]
        tags = [
            pl.lit(info["unit"], pl.String).alias("unit"),
            pl.lit(info["unit_slug"], pl.String).alias("_slug"),
            pl.lit(info["round"], pl.Date).alias("round"),
        ]
        if result.used.height:
            used_parts.append(
                result.used.select(
                    *tags,
                    pl.lit(info["file"], pl.String).alias("_file"),
                    pl.col("row").alias("_row"),
                    "client_key",
                    *schema.names(),
                ).cast(dict(schema))
            )
        if result.risk.height:
            risk_parts.append(result.risk.with_columns(*tags))
    used = pl.concat(used_parts, how="vertical") if used_parts else None
    risk = pl.concat(risk_parts, how="vertical_relaxed") if risk_parts else None
    return used, risk


def _municipality_header() -> str:
    variable = cbmod.load()["municipality"]
    return f"{variable.label} ({variable.suv})"


def warn_unit_names(units: pl.DataFrame) -> pl.DataFrame:
    """Unit-level warnings, one per file (``units``: :func:`unit_table`):
    ``municipality_not_in_register`` (the text names neither a municipality nor a
    configured district), ``unit_name_changed`` (the file spells the unit otherwise than
    the unit's latest file) and ``unit_service_type_changed`` (the file's Verksamhet
    differs from the latest file's, in a municipality that reports through one unit).
    The value names both spellings (or Verksamheter): this file's, then the latest's."""
    labels = {o.code: o.label for o in cbmod.load()["service_type"].options}
    files = units.with_columns(
        pl.col("spelling").map_elements(unit_key, return_dtype=pl.String).alias("_key"),
        pl.col("service_type").replace_strict(labels, default="saknas", return_dtype=pl.String).alias("_service"),
    )
    latest = (
        files.sort(["round", "file"], descending=[True, False])
        .group_by("unit", maintain_order=True)
        .agg(pl.col("_key", "spelling", "_service").first().name.prefix("_latest"))
    )
    files = files.join(latest, on="unit", how="left", maintain_order="left")
    unknown = files.filter(~pl.col("_m").str.contains("^[md]:")).with_columns(
        pl.lit("municipality_not_in_register").alias("rule"), pl.col("spelling").alias("value")
    )
    renamed = files.filter(pl.col("_key") != pl.col("_latest_key")).with_columns(
        pl.lit("unit_name_changed").alias("rule"),
        pl.format("{} (senaste export: {})", "spelling", "_latestspelling").alias("value"),
    )
    changed = files.filter(pl.col("_service") != pl.col("_latest_service")).with_columns(
        pl.lit("unit_service_type_changed").alias("rule"),
        pl.format("{} (senaste export: {})", "_service", "_latest_service").alias("value"),
    )
    service = cbmod.load()["service_type"]
    return (
        pl.concat([unknown, renamed, changed], how="diagonal_relaxed")
        .select(
            "unit",
            "round",
            "file",
            pl.lit(None, pl.Int32).alias("row"),
            pl.when(pl.col("rule") == "unit_service_type_changed")
            .then(pl.lit(f"{service.label} ({service.suv})"))
            .otherwise(pl.lit(_municipality_header()))
            .alias("column"),
            pl.when(pl.col("rule") == "unit_service_type_changed")
            .then(pl.lit("service_type"))
            .otherwise(pl.lit("municipality"))
            .alias("variable"),
            "rule",
            "value",
        )
        .cast(dict(WARNING_SCHEMA))
        .sort("unit", "round", "rule")
    )


def warn_shared_cases(current: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """units_share_cases: per compiled export, how many of its cases (client and opening
    date) another unit of the same municipality also holds: they count twice, which is
    said, never silent. ``current``: the compiled rows (``unit``, ``round``, ``_file``,
    ``client_key``, ``opened``)."""
    kommun = units.select("unit", "_kommun").unique("unit")
    keys = current.select("unit", "round", "_file", "client_key", "opened").join(kommun, on="unit", how="left")
    keys = keys.unique(["unit", "client_key", "opened"])
    pairs = keys.join(
        keys.select("_kommun", "client_key", "opened", pl.col("unit").alias("_other")),
        on=["_kommun", "client_key", "opened"],
    ).filter(pl.col("unit") != pl.col("_other"))
    client = cbmod.load()["client"]
    return (
        pairs.group_by("unit", "round", "_file", "_other")
        .len("n")
        .sort("unit", "_other")
        .select(
            "unit",
            "round",
            pl.col("_file").alias("file"),
            pl.lit(None, pl.Int32).alias("row"),
            pl.lit(f"{client.label} ({client.suv})").alias("column"),
            pl.lit("client").alias("variable"),
            pl.lit("units_share_cases").alias("rule"),
            pl.format("{} ärenden finns också hos {}", "n", "_other").alias("value"),
        )
        .cast(dict(WARNING_SCHEMA))
    )


def warn_vanished_cases(current: pl.DataFrame, earlier: pl.DataFrame) -> pl.DataFrame:
    """case_missing_from_later_export: a case of an earlier round that is not in the
    compiled one, located at its latest earlier sighting (value: its opening date)."""
    vanished = (
        earlier.join(current.select("unit", "client_key", "opened"), on=["unit", "client_key", "opened"], how="anti")
        .sort(["unit", "client_key", "opened", "round"], descending=[False, False, False, True])
        .unique(["unit", "client_key", "opened"], keep="first", maintain_order=True)
        .sort("unit", "_file", "_row")
    )
    return vanished.select(
        "unit",
        pl.col("_latest").alias("round"),
        pl.col("_file").alias("file"),
        pl.col("_row").cast(pl.Int32).alias("row"),
        pl.lit(None, pl.String).alias("column"),
        pl.lit("opened").alias("variable"),
        pl.lit("case_missing_from_later_export").alias("rule"),
        pl.col("opened").dt.strftime("%Y-%m-%d").alias("value"),
    ).cast(dict(WARNING_SCHEMA))


def _latest_risk(risk_all: pl.DataFrame | None, latest: pl.DataFrame) -> pl.DataFrame:
    """The risk assessments of each unit's compiled round (with their case's key)."""
    if risk_all is None:
        schema = {"_slug": pl.String, "client_key": pl.String, "opened": pl.Date} | dict(RISK_OUT_SCHEMA)
        return pl.DataFrame(schema={k: v for k, v in schema.items() if k != "case_id"})
    return risk_all.join(latest, on="unit", how="inner").filter(pl.col("round") == pl.col("_latest"))


def _assert_cases(cases: pl.DataFrame, period: tuple[dt.date, dt.date] | None) -> None:
    if cases["opened"].null_count():
        raise AssertionError(
            "kompileringen: ärenden utan datum för aktualisering – clean-steget har inte satt dem i karantän"
        )
    dup = cases.height - cases["case_id"].n_unique()
    if dup:
        raise AssertionError(f"kompileringen: {dup} ärenden förekommer mer än en gång (case_id)")
    if period is not None and cases.height:
        first, last = period
        outside = cases.filter((pl.col("opened") < first) | (pl.col("opened") > last)).height
        if outside:
            raise AssertionError(
                f"kompileringen: {outside} ärenden aktualiserades utanför perioden {first}–{last}; "
                "clean-steget ska ha exkluderat dem"
            )


def round_period(period: tuple[dt.date, dt.date], round_date: dt.date) -> tuple[dt.date, dt.date]:
    """The follow-up period as it stood at a submission round: (start, min(end, round)).

    A case cannot have been opened after the date its unit exported it; a later
    opening date in an earlier round's export is a typing error, which the compilation
    at that round leaves out instead of counting it."""
    first, last = period
    return first, min(last, round_date)


def compile_at_round(
    cleaned: Sequence[tuple[dict, CleanResult]],
    round_date: dt.date,
    period: tuple[dt.date, dt.date],
    names: pl.DataFrame | None = None,
    **units: Any,
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(cases, risk, left_out): the compilation as it would have been made at
    ``round_date`` — ``compile_cases`` with the cut-off at the round (each unit's latest
    export up to that date), then only cases opened within ``round_period``.

    ``left_out`` counts cases opened after the round date (none in a valid export). The
    risk table keeps the assessments of the cases kept. For the last round up to the
    configured cut-off the result equals the national compilation. ``units``:
    ``register_names``, ``districts`` and ``aliases`` as for ``compile_cases``.

    ``names``: the final compilation's unit table (``file``, ``part``, ``unit``), whose
    names the round's units take. Without it a unit is named from the files up to the
    round only: a municipality that reports through a second unit later is plain
    "Huddinge" in the earlier round and "Huddinge (Både myndighet och utförare)" in the
    final one, and the unit's earlier key shares are lost to its report."""
    cases, risk, _ = compile_cases(cleaned, round_date, period=period, **units)
    if names is not None:
        cases, risk = _final_names(cleaned, names, cases, risk, **units)
    first, last = round_period(period, round_date)
    kept = cases.filter(pl.col("opened").is_between(first, last))
    risk = risk.join(kept.select("unit", "case_id"), on=["unit", "case_id"], how="semi", maintain_order="left")
    return kept, risk, cases.height - kept.height


def _final_names(
    cleaned: Sequence[tuple[dict, CleanResult]], names: pl.DataFrame, cases: pl.DataFrame, risk: pl.DataFrame, **units
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The round's cases and risk with each unit renamed as the final compilation names
    the same files (a unit's files keep their identity across rounds)."""
    known = KnownUnits.of(units.get("register_names"), units.get("districts"), units.get("aliases"))
    here = unit_table(expand_parts(cleaned), known).select("file", "part", "unit")
    final = names.select(pl.col("file").cast(pl.String), pl.col("part").cast(pl.Int64), pl.col("unit").alias("_final"))
    pairs = here.with_columns(pl.col("part").cast(pl.Int64)).join(final, on=["file", "part"], how="inner")
    mapping = dict(pairs.select("unit", "_final").unique().iter_rows())
    rename = pl.col("unit").replace(mapping)
    return cases.with_columns(rename), risk.with_columns(rename)
