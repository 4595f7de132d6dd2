"""The tables as an accessible workbook: ``results/tabeller.xlsx`` (the national
tables) and ``results/kommuner/<slug>.xlsx`` (a unit's or län's published, protected
tables beside its size class and the country).

The layout follows the UK Government Analysis Function's guidance for releasing
statistics in spreadsheets, through ``gptables`` (which implements it): a cover sheet,
a contents sheet with links, a notes sheet, one table per sheet with its title in A1,
a line on what it shows and its source below, then the table as an Excel table with
one header row; no merged cells, no blank rows or columns, numbers stored as numbers
with a number format, a hidden or missing cell holds a short code (``[d]``, ``[x]``)
explained on the notes sheet.

The workbook is gptables' (its theme and formats); ``table_sheet`` writes each table
sheet as gptables' ``write_gptable`` lays it out, byte for byte, without its per-cell
pandas work (three quarters of the time a workbook took). gptables' own cover and notes
sheets carry English headings ("Introductory information", "Note number",
"[note 1]"), so this module writes the cover itself and gives the contents and notes
sheets as ordinary Swedish tables.

Titles come from the diagram registry, numbers from the tables as they are (nothing is
recomputed). The same inputs give a byte-identical file: the workbook's creation date
is the cut-off date, never the time of the run. The workbook's language is Swedish
(``sv-SE``, set_language).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.reporting.markdown import shown_labels
from kvinnofrid.reporting.numfmt import fmt_int
from kvinnofrid.reporting.table_sheet import TableSheet, write_table_sheet
from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Diagram, Registry, load_registry

SUPPRESSED = "[d]"  # hidden to protect another count
SMALL = "[f]"  # fewer than the threshold (0 too)
NOT_AVAILABLE = "[x]"
SOURCE = "Källa: SU-Kvinnofrid, SKR (kommunernas och stadsdelarnas exporter ur SUreg)."
TITLE = "Socialtjänstens stöd till våldsutsatta vuxna"
TOP_GROUP_TITLE = "Hur stor andel av de avslutade ärendena hör till toppgruppen?"
CONTACT = "[Kontaktuppgifter fylls i före publicering: namn, e-postadress och telefonnummer.]"

# Swedish headers of the table columns (docs/output-contract.md names the columns).
HEADERS = {
    "area": "Område",
    "group": "Grupp",
    "category": "Kategori",
    "n": "Antal",
    "denominator": "Bas (N)",
    "share": "Andel",
    "ci_low": "Konfidensintervall 95 %, nedre gräns",
    "ci_high": "Konfidensintervall 95 %, övre gräns",
    "mean": "Medelvärde",
}
# Excel number formats with the Swedish locale tag [$-41D]: LibreOffice then shows a
# decimal comma and a space between thousands whatever the reader's locale, Excel
# shows its reader's separators (Swedish in a Swedish Excel). The escaped space puts
# the Swedish space before the percent sign; the value stays the share 0–1.
SWEDISH = "[$-41D]"
PERCENT = SWEDISH + "0.0\\ %"
COUNT = SWEDISH + "#,##0"
DECIMAL = SWEDISH + "0.00"

NOTE_TEXTS = {
    "counts": (
        "Antal är antalet ärenden i kategorin. Bas (N) är antalet ärenden som andelen räknas på: "
        "de ärenden där uppgiften är ifylld, så basen skiljer sig mellan tabellerna."
    ),
    "shares": (
        "Andel = antal / bas (N), lagrad som ett tal mellan 0 och 1 och visad i procent. "
        "Konfidensintervallet är ett 95-procentigt Wilsonintervall för andelen."
    ),
    "means": (
        "Medelvärdet är det genomsnittliga antalet insatser per ärende bland ärenden med minst en "
        "insats; konfidensintervallet är ett 95-procentigt t-intervall för medelvärdet. "
        "Antal och bas är antalet sådana ärenden i kategorin."
    ),
    "histogram": "Tabellen visar antal ärenden per intervall; basen är alla ärenden som fördelas.",
    "multi": "{multi_note}: andelarna räknas per ärende och summerar därför till mer än 100 %.",
    "closed": "Endast avslutade ärenden.",
    "has_intervention": "Endast ärenden med minst en insats.",
}
CODE_TEXTS = {
    SMALL: "Färre än {threshold} ärenden (också 0): antalet visas inte, och inte heller andel och intervall.",
    SUPPRESSED: (
        "Dolt för att skydda ett annat värde: annars skulle ett dolt antal kunna räknas fram ur "
        "summor och andra värden. Andel och intervall döljs då också."
    ),
    NOT_AVAILABLE: "Kan inte beräknas eller är inte tillämpligt (till exempel när basen är 0).",
}


@dataclass
class Notes:
    """The numbered notes of one workbook, numbered in the order the sheets first
    refer to them (the guidance's order), and the cell codes the sheets use."""

    texts: list[str] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)

    def ref(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[not {self.texts.index(text) + 1}]"


@dataclass(frozen=True)
class Sheet:
    name: str  # the tab: short and unique (D01, Toppgrupp)
    title: str  # A1, with the note references
    lines: tuple[str, ...]  # what the table shows (under the title)
    columns: dict[str, list[Any]]  # Swedish header → cells (numbers, text or codes)
    formats: Mapping[str, str]  # header → Excel number format


@dataclass(frozen=True)
class Cover:
    title: str
    about: tuple[str, ...]  # period, cut-off, source, edition, demo
    contact: str = CONTACT


# ---------------------------------------------------------------- table sheets


def value_columns(kind: str) -> list[str]:
    """The number columns a table of this kind shows, fixed per kind so that every
    unit's workbook has the same columns whatever is hidden."""
    if kind == "histogram":
        return ["n", "denominator"]
    if kind == "means":
        return ["n", "denominator", "mean", "ci_low", "ci_high"]
    return ["n", "denominator", "share", "ci_low", "ci_high"]


def _formats(kind: str) -> dict[str, str]:
    interval = DECIMAL if kind == "means" else PERCENT
    out = {"n": COUNT, "denominator": COUNT, "share": PERCENT, "mean": DECIMAL, "ci_low": interval, "ci_high": interval}
    return {HEADERS[c]: out[c] for c in value_columns(kind)}


def coded_cells(table: pl.DataFrame, labels: Sequence[str], values: Sequence[str]) -> dict[str, list[Any]]:
    """The sheet's cells: label columns as text, value columns as numbers where the
    table has one, else ``[d]`` on a suppressed row and ``[x]`` otherwise; keyed by
    the Swedish headers. Counts stay integers, the rest floats, as the table has them.
    Labels are the ones a reader sees (no form instruction: markdown.shown_labels)."""
    table = shown_labels(table)
    suppressed = table["suppressed"].fill_null(False).to_list()
    reasons = table["hidden_reason"].to_list() if "hidden_reason" in table.columns else [None] * table.height
    d_reasons = (
        table["denominator_reason"].to_list() if "denominator_reason" in table.columns else [None] * table.height
    )
    data: dict[str, list[Any]] = {}
    for col in labels:
        data[HEADERS[col]] = [v if v is not None else "" for v in table[col].to_list()]
    for col in values:
        cells = []
        why = d_reasons if col == "denominator" else reasons
        for value, hidden, reason in zip(table[col].to_list(), suppressed, why, strict=True):
            if value is None or value != value:  # None or NaN
                hidden = hidden or reason is not None
                cells.append((SMALL if reason == "under_troskel" else SUPPRESSED) if hidden else NOT_AVAILABLE)
            else:
                cells.append(int(value) if col in ("n", "denominator") else float(value))
        data[HEADERS[col]] = cells
    return data


def n_line(table: pl.DataFrame, d: Diagram) -> str | None:
    """The registry's N text (``N = 3 070 ärenden``, per group ``HRV: N = 296``) when
    the table has one denominator per group, else None (diagram 1: a base per phase)."""
    groups = table["group"].unique(maintain_order=True).to_list()
    parts = []
    for g in groups:
        dens = table.filter(pl.col("group").eq_missing(g))["denominator"].drop_nulls().unique().to_list()
        if len(dens) != 1:
            return None
        parts.append(d.n_label.format(n=fmt_int(dens[0]), group=g or ""))
    return "; ".join(parts)


def diagram_notes(d: Diagram, reg: Registry, notes: Notes) -> list[str]:
    """The note references of a diagram's title: definitions, population, multi-choice
    and the registry's own notes under the figure."""
    refs = [notes.ref(NOTE_TEXTS["counts"])]
    refs.append(notes.ref(NOTE_TEXTS[{"means": "means", "histogram": "histogram"}.get(d.table, "shares")]))
    refs += [notes.ref(NOTE_TEXTS[p]) for p in d.population]
    if d.multi:
        refs.append(notes.ref(NOTE_TEXTS["multi"].format(multi_note=reg.multi_note)))
    refs += [notes.ref(text) for text in d.notes]
    return refs


def _refs(refs: Sequence[str]) -> str:
    """The note references of a title, each once, in number order."""
    return " ".join(sorted(set(refs), key=lambda r: int(r.strip("[]").split()[1])))


def _mark_codes(cells: Mapping[str, list[Any]], notes: Notes) -> set[str]:
    """The codes the sheet uses, also recorded for the notes sheet."""
    used = {v for column in cells.values() for v in column if isinstance(v, str) and v in CODE_TEXTS}
    notes.codes |= used
    return used


def _code_lines(used: set[str]) -> list[str]:
    """A line under the title for each code the sheet uses."""
    out = []
    if SMALL in used:
        out.append(f"Celler markerade {SMALL} bygger på färre ärenden än gränsen och visas inte (se bladet Noter).")
    if SUPPRESSED in used:
        out.append(f"Celler markerade {SUPPRESSED} döljs för att skydda ett annat värde (se bladet Noter).")
    if NOT_AVAILABLE in used:
        out.append(f"Celler markerade {NOT_AVAILABLE} kan inte beräknas (se bladet Noter).")
    return out


def national_sheet(number: int, table: pl.DataFrame, notes: Notes, reg: Registry) -> Sheet:
    """One national diagram's sheet: ``D01`` … with the registry's title."""
    d = reg[number]
    labels = (["group"] if d.groups is not None else []) + ["category"]
    cells = coded_cells(table, labels, value_columns(d.table))
    refs = diagram_notes(d, reg, notes)
    shown = n_line(table, d)
    lines = [
        f"Tabellen visar underlaget till diagram {number} i den nationella rapporten, "
        f"en rad per {'grupp och ' if d.groups is not None else ''}kategori." + (f" {shown}." if shown else "")
    ]
    lines += _code_lines(_mark_codes(cells, notes))
    return Sheet(f"D{number:02d}", f"Diagram {number}. {d.title} {_refs(refs)}", tuple(lines), cells, _formats(d.table))


def top_group_note(cb: Codebook | None = None) -> str:
    """The top group's definition in the codebook's words (codebook derived.top_group)."""
    c = cb or codebook_module.load()
    parts = [f"{c[v].label} är ”{c[v].label_of(code)}”" for v, code in c.derived["top_group"].items()]
    return "Toppgruppen är de avslutade ärenden där " + " och ".join(parts) + "."


# ---------------------------------------------------------------- a unit's sheets


def compared_areas(info: Mapping[str, Any], every: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(area name in the tables, name shown) of the areas a unit's or län's workbook
    sets side by side: the area, its size class (units), the country."""
    chosen = [(info["name"], info.get("title") or info["name"])]
    if info["kind"] == "lan":  # its units side by side (published, protected)
        chosen += [
            (a["name"], a.get("title") or a["name"])
            for a in every
            if a["kind"] == "enhet" and a["name"] in info["units"]
        ]
    if info["kind"] == "enhet" and info.get("size_class"):
        for a in every:
            if a["kind"] == "storleksklass" and a["name"] == info["size_class"]:
                chosen.append((a["name"], f"Kommuner med {a['name'][:1].lower() + a['name'][1:]}"))
    if info["kind"] == "enhet" and info.get("group"):
        chosen += [
            (a["name"], f"Jämförelsegruppen {a['name']}")
            for a in every
            if a["kind"] == "grupp" and a["name"] == info["group"]
        ]
    chosen += [(a["name"], a["name"]) for a in every if a["kind"] == "riket"]
    return chosen


def area_rows(long: pl.DataFrame, table_id: str, compared: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """One table's protected rows for the compared areas, area by area, with ``area``
    = the name shown. Every area must have the table (else the workbook would be partial)."""
    parts = []
    for name, shown in compared:
        rows = long.filter((pl.col("table") == table_id) & (pl.col("area") == name))
        if rows.is_empty():
            raise ValueError(f"tabell {table_id} saknas för {name} i de skyddade tabellerna")
        parts.append(rows.with_columns(pl.lit(shown).alias("area")))
    return pl.concat(parts)


def _beside(compared: Sequence[tuple[str, str]]) -> str:
    """'Tabellen visar Arboga jämfört med kommuner med … och riket' (the compared
    areas' names are common nouns in a sentence; the area's own is a proper name)."""
    others = [shown[:1].lower() + shown[1:] for _, shown in compared[1:]]
    return f"Tabellen visar {compared[0][1]} jämfört med {' och '.join(others)}"


def area_sheet(
    table_id: str, long: pl.DataFrame, compared: Sequence[tuple[str, str]], notes: Notes, reg: Registry
) -> Sheet:
    """One table of a unit's (or län's) workbook: its rows beside its size class and
    the country, hidden cells as ``[d]``."""
    rows = area_rows(long, table_id, compared)
    if table_id.isdigit():
        d = reg[int(table_id)]
        kind, has_groups = d.table, d.groups is not None
        refs = diagram_notes(d, reg, notes)
        title = f"Diagram {d.number}. {d.title}"
        lines = [f"{_beside(compared)}, samma mått som diagram {d.number} i den nationella rapporten."]
        name = f"D{d.number:02d}"
    else:
        kind, has_groups = "single", False
        refs = [notes.ref(NOTE_TEXTS["counts"]), notes.ref(NOTE_TEXTS["shares"]), notes.ref(top_group_note())]
        title, name = TOP_GROUP_TITLE, "Toppgrupp"
        lines = [f"{_beside(compared)}."]
    cells = coded_cells(rows, ["area"] + (["group"] if has_groups else []) + ["category"], value_columns(kind))
    lines += _code_lines(_mark_codes(cells, notes))
    return Sheet(name, f"{title} {_refs(refs)}", tuple(lines), cells, _formats(kind))


def area_sheets(
    long: pl.DataFrame,
    info: Mapping[str, Any],
    every: Sequence[Mapping[str, Any]],
    table_ids: Sequence[str],
    notes: Notes,
    reg: Registry | None = None,
) -> list[Sheet]:
    """Every table sheet of one unit's or län's workbook, in report order."""
    r = reg or load_registry()
    compared = compared_areas(info, every)
    return [area_sheet(t, long, compared, notes, r) for t in table_ids]


# ---------------------------------------------------------------- cover, contents, notes


def national_cover(period: tuple[str, str], cutoff: str, demo: bool) -> Cover:
    about = [
        *_period_lines(period, cutoff),
        "Varje tabell är underlaget till ett diagram i den nationella rapporten och har ett eget blad.",
        "Talen är lagrade som tal: andelar mellan 0 och 1 med procentformat, antal som heltal.",
    ]
    return Cover(f"{TITLE}: tabeller", tuple(about + _common_lines(demo)))


def area_cover(info: Mapping[str, Any], period: tuple[str, str], cutoff: str, threshold: int, demo: bool) -> Cover:
    about = [
        *_period_lines(period, cutoff),
        f"Tabellerna visar {info['name']} bredvid "
        + ("kommunerna i samma storleksklass och riket" if info["kind"] == "enhet" else "riket")
        + ", en tabell per blad.",
        f"Publicerad upplaga med skydd av små tal: antal som är mindre än {threshold} (också 0) är dolda",
        f"och markerade {SMALL}; värden som döljs för att skydda ett annat värde är markerade {SUPPRESSED}.",
        "Rikets värden visas som de är; län och jämförelsegrupper skyddas som verksamheterna.",
    ]
    return Cover(f"{TITLE}: {info['name']}, tabeller", tuple(about + _common_lines(demo)))


def _period_lines(period: tuple[str, str], cutoff: str) -> list[str]:
    return [
        f"Period: ärenden som aktualiserades {period[0]}–{period[1]}.",
        f"Brytdatum: {cutoff}. Exporter som kommit in till och med brytdatumet ingår.",
        SOURCE,
    ]


def _common_lines(demo: bool) -> list[str]:
    lines = [
        "Bladet Innehåll listar tabellerna med länkar.",
        "Bladet Noter förklarar noterna ([not 1], [not 2] …) och tecknen i tabellernas celler.",
    ]
    if demo:
        lines.insert(
            0, "Demodata: alla siffror bygger på simulerade data och beskriver inga verkliga personer eller kommuner."
        )
    return lines


def contents_columns(sheets: Sequence[Sheet]) -> dict[str, list[Any]]:
    """The contents sheet: a link to every sheet and its title without note references."""
    rows = [("Noter", "Noter och tecken")] + [(s.name, _without_refs(s.title)) for s in sheets]
    return {"Blad": [{name: f"internal:'{name}'!A1"} for name, _ in rows], "Innehåll": [title for _, title in rows]}


def _without_refs(title: str) -> str:
    return title.split(" [not ")[0]


def notes_columns(notes: Notes, threshold: int | None = None) -> dict[str, list[Any]]:
    """The notes sheet: every numbered note, then every code the tables use."""
    keys = [f"[not {k}]" for k in range(1, len(notes.texts) + 1)]
    texts = list(notes.texts)
    for code in (SMALL, SUPPRESSED, NOT_AVAILABLE):
        if code in notes.codes:
            keys.append(code)
            texts.append(CODE_TEXTS[code].format(threshold=threshold))
    return {"Not eller tecken": keys, "Förklaring": texts}


# ---------------------------------------------------------------- writing


def _table_sheet(
    name: str,
    title: str,
    lines: Sequence[str],
    columns: Mapping[str, list[Any]],
    formats: Mapping[str, str],
    labels: int,
    source: str | None = SOURCE,
    instructions: str = "Bladet innehåller en tabell. Noter och tecken förklaras på bladet Noter.",
) -> TableSheet:
    return TableSheet(
        name=f"tabell_{name}",
        title=title,
        lines=tuple(lines),
        instructions=instructions,
        source=source,
        columns=columns,
        formats=formats,
        labels=labels,
    )


def _write_cover(wb: Any, cover: Cover) -> None:
    """The cover sheet, written here rather than by gptables, whose cover headings
    are English."""
    ws = wb.add_worksheet("Omslag")
    theme = wb.theme
    rows = [
        (cover.title, theme.cover_title_format),
        ("Om tabellerna", theme.cover_subtitle_format),
        *[(line, theme.cover_text_format) for line in cover.about],
        ("Kontakt", theme.cover_subtitle_format),
        (cover.contact, theme.cover_text_format),
    ]
    for row, (text, fmt) in enumerate(rows):
        ws.write_string(row, 0, text, wb.add_format(fmt))
    ws.set_column(0, 0, 100)
    _print_setup(ws)


def _wrap_explanations(ws: Any, texts: Sequence[str], width: int = 110) -> None:
    """The notes' explanations in a column of readable width, wrapped, each row as
    high as its lines (LibreOffice does not grow a row for wrapped text by itself).
    The notes table starts on row 4: title, instructions, header above it."""
    ws.set_column(1, 1, width)
    for k, text in enumerate(texts):
        lines = -(-len(text) // int(width * 1.3))  # characters per line of the wrapped column
        if lines > 1:
            ws.set_row(3 + k, 16 * lines)


def _print_setup(ws: Any) -> None:
    """A4 landscape, each sheet one page wide, so a printed or PDF copy keeps a table's
    columns together."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def write_workbook(
    path: Any, cover: Cover, sheets: Sequence[Sheet], notes: Notes, *, created: dt.date, threshold: int | None = None
) -> Path:
    """Write the workbook: cover, contents, notes, then one sheet per table.
    ``created`` (the cut-off date) is the only date in the file: reruns give the same bytes."""
    from gptables.core.wrappers import GPWorkbook

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tables = [
        (
            "Innehåll",
            _table_sheet(
                "innehall",
                "Innehåll",
                [],
                contents_columns(sheets),
                {},
                1,
                None,
                "Bladet innehåller en tabell: varje blad i arbetsboken med en länk.",
            ),
        ),
        (
            "Noter",
            _table_sheet(
                "noter",
                "Noter och tecken",
                [],
                notes_columns(notes, threshold),
                {},
                1,
                None,
                "Bladet innehåller en tabell: noterna som tabellernas rubriker hänvisar "
                "till och tecknen i tabellernas celler.",
            ),
        ),
    ]
    tables += [
        (
            s.name,
            _table_sheet(
                s.name,
                s.title,
                s.lines,
                s.columns,
                s.formats,
                sum(h in s.columns for h in (HEADERS["area"], HEADERS["group"], HEADERS["category"])),
            ),
        )
        for s in sheets
    ]
    wb = GPWorkbook(str(out))
    wb.set_properties(
        {
            "title": cover.title,
            "author": "Sveriges Kommuner och Regioner",
            "created": dt.datetime.combine(created, dt.time()),
        }
    )
    _write_cover(wb, cover)
    for label, table in tables:
        ws = wb.add_worksheet(label)
        write_table_sheet(wb, ws, table)
        _print_setup(ws)
        if label == "Noter":
            _wrap_explanations(ws, notes_columns(notes, threshold)["Förklaring"])
    wb.close()
    set_language(out, LANGUAGE)
    return out


LANGUAGE = "sv-SE"


def set_language(path: Path, language: str) -> None:
    """The workbook's language in its core properties (``dc:language`` in
    ``docProps/core.xml``, as Office writes it), so that a screen reader reads the
    Swedish text as Swedish. xlsxwriter has no property for it, so the part is
    rewritten in place; every other entry is copied byte for byte, with its timestamp,
    so that the file stays byte-identical on reruns."""
    part = "docProps/core.xml"
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    tag = f"<dc:language>{language}</dc:language>".encode()
    with zipfile.ZipFile(path, "w") as target:
        for info, data in entries:
            if info.filename == part and b"<dc:language>" not in data:
                data = data.replace(b"</cp:coreProperties>", tag + b"</cp:coreProperties>")
            target.writestr(info, data, compress_type=info.compress_type)


def national_workbook(
    tables: Mapping[int, pl.DataFrame],
    path: Any,
    *,
    period: tuple[str, str],
    cutoff: dt.date,
    demo: bool,
    registry: Registry | None = None,
) -> Path:
    """``results/tabeller.xlsx``: every national table, diagram order."""
    reg = registry or load_registry()
    notes = Notes()
    sheets = [national_sheet(n, tables[n], notes, reg) for n in reg.numbers]
    return write_workbook(path, national_cover(period, str(cutoff), demo), sheets, notes, created=cutoff)


def area_workbook(
    long: pl.DataFrame,
    info: Mapping[str, Any],
    every: Sequence[Mapping[str, Any]],
    path: Any,
    *,
    table_ids: Sequence[str],
    period: tuple[str, str],
    cutoff: dt.date,
    threshold: int,
    demo: bool,
    registry: Registry | None = None,
) -> Path:
    """``results/kommuner/<slug>.xlsx``: one unit's or län's protected tables."""
    notes = Notes()
    sheets = area_sheets(long, info, every, table_ids, notes, registry)
    cover = area_cover(info, period, str(cutoff), threshold, demo)
    return write_workbook(path, cover, sheets, notes, created=cutoff, threshold=threshold)
