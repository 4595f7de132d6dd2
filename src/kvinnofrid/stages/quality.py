"""The data-quality outputs: ``results/quality/summary.csv`` and one Swedish HTML page
per unit (``results/quality/<unit-slug>.html``), per docs/output-contract.md "Data quality".

Rule counts come from the issues tables (ingest-level issues from the file's metadata
are part of ``CleanResult.issues``) plus compile's ``case_missing_from_later_export``
warnings, which count in the round that was compiled. Row counts come from
``CleanResult.counts``; ``rows_read = rows_used + rows_excluded + rows_quarantined`` is
checked on every summary row.

The HTML page never shows a client or handler identifier (clear or hashed) nor a
comment text: issue values are shown only for non-personal fields, and a value that
equals a key of the unit's data is blanked as a last line of defence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jinja2
import polars as pl

from kvinnofrid.spec import codebook as cbmod
from kvinnofrid.spec.rules import ISSUE_SCHEMA, OUTCOME_LABELS, RULES
from kvinnofrid.stages.clean import COUNT_KEYS, AccountingError, CleanResult, check_accounting
from kvinnofrid.stages.compile import assign_units
from kvinnofrid.stages.unit_parts import expand_parts

SUMMARY_COUNT_COLUMNS = [*COUNT_KEYS, *RULES]


def summary_schema() -> pl.Schema:
    return pl.Schema({"round": pl.Date(), "unit": pl.String(), **{c: pl.Int64() for c in SUMMARY_COUNT_COLUMNS}})


def _file_of(meta: dict, result: CleanResult) -> str:
    return str(meta.get("file", result.file))


def _part_of(meta: dict, result: CleanResult) -> tuple[str, int]:
    """(file, part): a file that holds several units is one part per unit (unit_parts)."""
    return _file_of(meta, result), int(meta.get("part", 0))


def quality_summary(
    cleaned: Sequence[tuple[dict, CleanResult]],
    warnings: pl.DataFrame | None = None,
    units: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per (round, unit): ``round``, ``unit``, ``rows_read``, ``rows_used``,
    ``rows_excluded``, ``rows_quarantined``, then one count column per rule in
    ``rules.RULES`` order. ``units`` defaults to ``compile.assign_units(cleaned)``.
    Raises AccountingError if a row does not add up."""
    schema = summary_schema()
    if not cleaned:
        return pl.DataFrame(schema=schema)
    cleaned = expand_parts(cleaned)
    units = units if units is not None else assign_units(cleaned)
    unit_of = {(f, part): u for f, part, u in units.select("file", "part", "unit").iter_rows()}
    rows = []
    for meta, result in cleaned:
        # An unreadable file skipped by `on_unreadable_file: skip` has no unit: it gets a
        # row of its own so the summary still lists it.
        rnd = result.round
        unit = unit_of.get(_part_of(meta, result)) or f"Oläsbar fil: {_file_of(meta, result)}"
        counts = {k: int(result.counts[k]) for k in COUNT_KEYS}
        by_rule = dict(result.issues.group_by("rule").len().iter_rows())
        unknown = set(by_rule) - set(RULES)
        if unknown:
            raise KeyError(f"{_file_of(meta, result)}: okända kvalitetsregler {sorted(unknown)}")
        rows.append({"round": rnd, "unit": unit, **counts, **{r: int(by_rule.get(r, 0)) for r in RULES}})
    summary = (
        pl.DataFrame(rows, schema=schema)
        .group_by(["round", "unit"])
        .agg([pl.col(c).sum() for c in SUMMARY_COUNT_COLUMNS])
    )
    if warnings is not None and warnings.height:
        extra = (
            warnings.group_by(["round", "unit", "rule"]).len().pivot(on="rule", index=["round", "unit"], values="len")
        )
        for rule_name in extra.columns[2:]:
            if rule_name not in RULES:
                raise KeyError(f"okänd kvalitetsregel {rule_name!r} bland varningarna")
        extra = extra.rename({c: f"_w_{c}" for c in extra.columns[2:]})
        summary = summary.join(extra.cast({"round": pl.Date}), on=["round", "unit"], how="left", maintain_order="left")
        summary = summary.with_columns(
            [(pl.col(c[3:]) + pl.col(c).fill_null(0)).alias(c[3:]) for c in extra.columns[2:]]
        ).drop(extra.columns[2:])
    summary = summary.select(schema.names()).cast(dict(schema)).sort("round", "unit")
    for r in summary.iter_rows(named=True):
        check_accounting(r, f"kvalitetssammanställningen, {r['unit']} {r['round']}")
    return summary


NOT_EXPORTS_SCHEMA = pl.Schema({"round": pl.String(), "file": pl.String(), "reason": pl.String()})


def not_exports_table(skipped: Sequence[Mapping[str, str]]) -> pl.DataFrame:
    """``not_exports.csv``: the files in the round folders that are not exports
    (system, lock and hidden files; rawfiles.survey), by round and path."""
    return pl.DataFrame(list(skipped), schema=NOT_EXPORTS_SCHEMA).sort("round", "file")


# ----------------------------------------------------------------------- HTML page

_DELIMITERS = {";": "semikolon (;)", ",": "komma (,)", "\t": "tabb", "|": "lodstreck (|)"}


@cache  # the packaged templates are compiled once per process
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kvinnofrid.stages", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tal"] = lambda n: f"{int(n):,}".replace(",", "\u00a0")
    return env


def _blank(value: Any) -> str:
    return "" if value is None else str(value)


def _personal_headers(meta: dict) -> set[str]:
    cb = cbmod.load()
    personal_vars = {v.name for v in cb.personal}
    out = set()
    for header, target in (meta.get("columns") or {}).items():
        if target in ("personal", "comment") or target in personal_vars:
            out.add(header)
    return out


def render_unit_page(
    unit: str,
    files: Sequence[tuple[dict, CleanResult]],
    warnings: pl.DataFrame | None = None,
    *,
    max_rows_per_rule: int = 500,
    generated: dt.date | None = None,
) -> str:
    """The unit's own feedback page (Swedish, self-contained HTML).

    ``files`` are the unit's cleaned files (all rounds); ``warnings`` compile's
    warnings (only the unit's rows are used). Shows what was read and which export the
    compilation uses, the accounting, and the remarks per export, newest first: an
    earlier export's remarks say that a later export has replaced it, so nothing is read
    twice. Each remark group has its description, advice and a table of file, row,
    column, value and — for a field set missing — what follows for the case. Then the
    local variables with fill counts, and the number of non-empty comments and client
    suggestions."""
    ordered = sorted(files, key=lambda fr: (fr[1].round, _file_of(*fr)))
    secret_keys = _secret_keys(ordered)
    issues = _described(_shown_issues(unit, ordered, warnings, secret_keys), ordered)
    exports = _exports(ordered)
    html = (
        _environment()
        .get_template("quality_unit.html.j2")
        .render(
            unit=unit,
            files=[_file_row(meta, result) | exports[result.round] for meta, result in ordered],
            accounting=[_accounting_row(meta, result) for meta, result in ordered],
            overview=_overview(issues, exports),
            sections=[
                exports[rnd] | {"groups": _rule_groups(issues.filter(pl.col("round") == rnd), max_rows_per_rule, k)}
                for k, rnd in enumerate(sorted(exports, reverse=True))
            ],
            outcome_labels=OUTCOME_LABELS,
            adult_age=cbmod.load().derived["adult_age"],
            local_vars=[
                {
                    "file": _file_of(meta, result),
                    "name": str(lv.get("name", "")),
                    "filled": int(lv.get("filled", 0) or 0),
                }
                for meta, result in ordered
                for lv in meta.get("local_variables") or []
            ],
            comments=sum(int(result.counts.get("comments", 0)) for _, result in ordered),
            suggestions=sum(int(result.counts.get("suggestions", 0)) for _, result in ordered),
            generated=(generated.isoformat() if generated else None),
        )
    )
    leaked = [k for k in secret_keys if len(k) >= 16 and k in html]
    if leaked:  # pragma: no cover - defence in depth
        raise RuntimeError(
            f"kvalitetssidan för {unit} skulle innehålla en klient- eller handläggaridentitet; sidan skrivs inte"
        )
    return html


def _exports(files: Sequence[tuple[dict, CleanResult]]) -> dict[dt.date, dict[str, Any]]:
    """Per round: the unit's export in it and whether the compilation uses it or a
    later export has replaced it (exports are cumulative: the latest is used)."""
    by_round: dict[dt.date, list[str]] = {}
    for meta, result in files:
        by_round.setdefault(result.round, []).append(_file_of(meta, result))
    latest = max(by_round)
    latest_files = ", ".join(sorted(set(by_round[latest])))
    out = {}
    for rnd, names in by_round.items():
        current = rnd == latest
        replaced = f"ersatt av {latest_files} (omgång {latest.isoformat()}), som används i stället"
        out[rnd] = {
            "round": rnd.isoformat(),
            "export": ", ".join(sorted(set(names))),
            "current": current,
            "status": "används i sammanställningen" if current else replaced,
        }
    return out


def _overview(issues: pl.DataFrame, exports: dict[dt.date, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per rule that occurs: how many remarks the export in use has, and how many the
    replaced exports have (read once each, not added up)."""
    latest = max(exports)
    counts = {
        rule_name: (total, current)
        for rule_name, total, current in issues.group_by("rule")
        .agg(pl.len(), (pl.col("round") == latest).sum())
        .iter_rows()
    }
    return [
        {
            "name": rule_name,
            "title": RULES[rule_name].title,
            "outcome": RULES[rule_name].outcome,
            "current": counts[rule_name][1],
            "earlier": counts[rule_name][0] - counts[rule_name][1],
        }
        for rule_name in _ordered_rules()
        if rule_name in counts
    ]


def _ordered_rules() -> list[str]:
    """The rules by what they do to the data (quarantine, exclude, field, warning,
    info), in vocabulary order within each."""
    order = {"quarantine": 0, "exclude": 1, "field": 2, "warning": 3, "info": 4}
    return sorted(RULES, key=lambda name: order[RULES[name].outcome])


def _file_row(meta: dict, result: CleanResult) -> dict[str, str]:
    """How the file was read: format, sheet, header row, encoding, delimiter."""
    delimiter = meta.get("delimiter")
    return {
        "file": _file_of(meta, result),
        "round": result.round.isoformat(),
        "format": _blank(meta.get("format")),
        "sheet": _blank(meta.get("sheet")) + (" (dold flik)" if meta.get("sheet_hidden") else ""),
        "header_row": _blank(meta.get("header_row")),
        "encoding": _blank(meta.get("encoding")),
        "delimiter": _DELIMITERS.get(delimiter, _blank(delimiter)) if delimiter is not None else "",
    }


def _accounting_row(meta: dict, result: CleanResult) -> dict[str, Any]:
    c = result.counts
    return {
        "file": _file_of(meta, result),
        "round": result.round.isoformat(),
        **{k: int(c[k]) for k in COUNT_KEYS},
        "ok": int(c["rows_read"]) == int(c["rows_used"]) + int(c["rows_excluded"]) + int(c["rows_quarantined"]),
    }


def _secret_keys(files: Sequence[tuple[dict, CleanResult]]) -> set[str]:
    """Every client and handler key of the unit's rows: never shown on the page."""
    keys: set[str] = set()
    for _, result in files:
        for frame in (result.used, result.excluded):
            for col in ("client_key", "handler_key"):
                if col in frame.columns:
                    keys.update(frame[col].drop_nulls().to_list())
    return keys


def _shown_issues(
    unit: str, files: Sequence[tuple[dict, CleanResult]], warnings: pl.DataFrame | None, secret_keys: set[str]
) -> pl.DataFrame:
    """The unit's issues and warnings, with the value blanked for personal variables
    and columns and wherever it equals a key of the unit's data."""
    personal_vars = [v.name for v in cbmod.load().personal]
    parts = []
    for meta, result in files:
        hidden_headers = list(_personal_headers(meta))
        parts.append(
            result.issues.select(ISSUE_SCHEMA.names()).with_columns(
                pl.when(pl.col("variable").is_in(personal_vars) | pl.col("column").is_in(hidden_headers))
                .then(pl.lit(None, pl.String))
                .otherwise(pl.col("value"))
                .alias("value"),
                pl.lit(result.round, pl.Date).alias("round"),
            )
        )
    if warnings is not None and warnings.height:
        w = warnings.filter(pl.col("unit") == unit) if "unit" in warnings.columns else warnings
        parts.append(w.select(*ISSUE_SCHEMA.names(), "round").cast(dict(ISSUE_SCHEMA) | {"round": pl.Date}))
    schema = dict(ISSUE_SCHEMA) | {"round": pl.Date()}
    issues = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    if secret_keys and issues.height:
        issues = issues.with_columns(
            pl.when(pl.col("value").is_in(list(secret_keys)))
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col("value"))
            .alias("value")
        )
    return issues


def _rule_groups(issues: pl.DataFrame, max_rows_per_rule: int, section: int = 0) -> list[dict[str, Any]]:
    """One group per rule that has issues (:func:`_ordered_rules`), with at most
    ``max_rows_per_rule`` rows shown, each with what follows for the case."""
    groups = []
    # one pass over the issues, not one filter per rule (hundreds of pages at national scale)
    by_rule = {key[0]: part for key, part in issues.partition_by("rule", as_dict=True).items()}
    for rule_name in _ordered_rules():
        rule = RULES[rule_name]
        if rule_name not in by_rule:
            continue
        part = by_rule[rule_name].sort("file", "row", "column", nulls_last=True)
        shown = part.head(max_rows_per_rule)
        rows = [
            {
                "file": _blank(r["file"]),
                "row": _blank(r["row"]),
                "column": _blank(r["column"]),
                "value": _blank(r["value"]),
                "consequence": consequence(rule_name, r["variable"]) or "",
            }
            for r in shown.iter_rows(named=True)
        ]
        groups.append(
            {
                "name": rule_name,
                "anchor": f"{rule_name}-{section}" if section else rule_name,
                "title": rule.title,
                "outcome": rule.outcome,
                "description": rule.description,
                "advice": rule.advice,
                "count": part.height,
                "hidden": part.height - shown.height,
                "rows": rows,
                "has_consequence": any(r["consequence"] for r in rows),
            }
        )
    return groups


# What a remark means for the case, for the municipality that reads its page: the
# closing date decides whether a case is closed, and only closed cases count in the
# report's closing reason, goal follow-up and survey.
_CLOSED_CASE = (
    "Ärendet räknas som pågående: avslutsorsak, måluppföljning och brukarenkätens svar ingår inte i "
    "redovisningen av avslutade ärenden, och ärendets längd beräknas inte."
)
_CONSEQUENCES = {
    ("survey_answers_on_open_case", None): (
        "Brukarenkätens svar ingår inte i redovisningen, som bara gäller avslutade ärenden."
    ),
    ("goal_followup_without_closing_date", None): (
        "Måluppföljningen ingår inte i redovisningen, som bara gäller avslutade ärenden."
    ),
    ("field", "closed"): _CLOSED_CASE,
    ("field", "opened"): "Utan giltigt datum för aktualisering kan ärendet inte identifieras och ingår inte.",
    ("field", "age"): "Ärendet ingår inte i fördelningen efter ålder.",
    ("field", "risk_assessments"): "Riskbedömningen räknas utan det värdet.",
}


def consequence(rule_name: str, variable: str | None) -> str | None:
    """What follows for the case from a remark (Swedish), or None when nothing more
    than the rule's outcome does."""
    if (rule_name, None) in _CONSEQUENCES:
        return _CONSEQUENCES[(rule_name, None)]
    if RULES[rule_name].outcome != "field" or variable is None:
        return None
    if ("field", variable) in _CONSEQUENCES:
        return _CONSEQUENCES[("field", variable)]
    try:
        var = cbmod.load()[variable]
    except KeyError:
        return None
    return (
        f"Ärendet är med, men utan värde för {var.label} ({var.suv}); där variabeln redovisas räknas det som "
        "uppgift saknas."
    )


# Where a remark names no column or value by itself, what the page shows instead: a
# remark row always says where to look and what was found.
_DEFAULT_PLACE = {
    "row_has_extra_fields": ("hela raden", "(fler fält än rubrikraden)"),
    "survey_answers_on_open_case": ("closed", "saknas (enkäten är besvarad)"),
    "goal_followup_without_closing_date": (None, "ifylld, men avslutsdatum saknas"),
    "personal_identity_number": (None, "(ser ut som ett personnummer)"),
    "excel_error_value": (None, "(felvärde från Excel)"),
    "case_key_missing": (None, "(tomt)"),
    "local_variable": (None, "lokal variabel"),
    "file_holds_several_units": ("municipality", "raderna för denna enhet"),
    "case_missing_from_later_export": ("opened", None),
    "several_export_sheets": ("(arbetsboken)", None),
}


def _described(issues: pl.DataFrame, files: Sequence[tuple[dict, CleanResult]]) -> pl.DataFrame:
    """The issues with a column and a value on every row (:data:`_DEFAULT_PLACE`); a
    column given as a variable is named by the file's header (or the codebook's)."""
    if not issues.height:
        return issues
    cb = cbmod.load()
    headers: dict[str, str] = {}
    for meta, _ in files:
        headers |= dict(meta.get("variable_columns") or {})
    names = {v.name for v in cb.variables}
    places = []
    for rule_name, (column, value) in _DEFAULT_PLACE.items():
        if column in names:
            column = headers.get(column) or f"{cb[column].label} ({cb[column].suv})"
        places.append({"rule": rule_name, "_column": column, "_value": value})
    defaults = pl.DataFrame(places, schema={"rule": pl.String, "_column": pl.String, "_value": pl.String})
    return (
        issues.join(defaults, on="rule", how="left", maintain_order="left")
        .with_columns(pl.coalesce("column", "_column").alias("column"), pl.coalesce("value", "_value").alias("value"))
        .drop("_column", "_value")
    )


def unit_pages(
    cleaned: Sequence[tuple[dict, CleanResult]],
    warnings: pl.DataFrame | None = None,
    units: pl.DataFrame | None = None,
    **kwargs: Any,
) -> dict[str, str]:
    """{unit slug: HTML page} for every unit of ``cleaned``; ``units`` (compile's
    units.csv) defaults to ``assign_units(cleaned)``."""
    cleaned = expand_parts(cleaned)
    units = units if units is not None else assign_units(cleaned)
    by_part = {(r["file"], r["part"]): (r["unit"], r["unit_slug"]) for r in units.iter_rows(named=True)}
    grouped: dict[tuple[str, str], list[tuple[dict, CleanResult]]] = {}
    for meta, result in cleaned:
        grouped.setdefault(by_part[_part_of(meta, result)], []).append((meta, result))
    return {slug: render_unit_page(unit, files, warnings, **kwargs) for (unit, slug), files in sorted(grouped.items())}


__all__ = ["AccountingError", "quality_summary", "render_unit_page", "summary_schema", "unit_pages"]
