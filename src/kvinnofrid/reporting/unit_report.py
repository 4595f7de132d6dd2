"""The comparison reports below national level, laid out: one Quarto project per
reporting unit and per län with at least two units (target ``kommuner``).

The tables come protected from kvinnofrid.disclosure.area_tables (rule ``unit_tables``);
this module only sets an area's rows beside its size class and the country, draws the
figures, writes the sentences and fills ``report/kommun/index.qmd.j2``.

Two editions (``EDITIONS``), from the same templates: the published one of every unit
and län (``results/kommuner/<slug>.*``, protected tables) and the internal one of every
unit (``results/kommuner/intern/<slug>.*``): the unit's own numbers unprotected, for its
own staff, marked as such on the title page, in every page's footer and in the method
section. ``write_reports`` builds and renders many reports in one process (rule
``unit_reports``: one job per batch of areas) so the imports and figure set-up are paid
once per batch, not once per report.
"""

from __future__ import annotations

import hashlib
import logging
import resource
import shutil
import time
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.disclosure.area_tables import TOP_GROUP, Area, comparison_table, table_ids, table_kind
from kvinnofrid.reporting import comparison_figure, figure_alt, figure_style, text, trend_report
from kvinnofrid.reporting.area_claims import differences, differences_text
from kvinnofrid.reporting.area_text import pool_notes, summary_sentence
from kvinnofrid.reporting.hidden import mark
from kvinnofrid.reporting.markdown import attribute_text, diagram_block
from kvinnofrid.reporting.numfmt import fmt_pct
from kvinnofrid.spec.diagrams import Registry, load_registry
from kvinnofrid.spec.rules import RULES
from kvinnofrid.statistics.tables import table_csv

log = logging.getLogger("kvinnofrid")

PUBLISHED, INTERNAL = "publicerad", "intern"
EDITIONS = (PUBLISHED, INTERNAL)
INTERNAL_DIR = "intern"  # results/kommuner/intern/, build/kommuner/intern/


def table_title(table_id: str, registry: Registry | None = None) -> str:
    if table_id == TOP_GROUP:
        return "Hur stor andel av de avslutade ärendena hör till toppgruppen?"
    return (registry or load_registry())[int(table_id)].title


# ---------------------------------------------------------------- the report project


def _compared(info: Mapping[str, Any], every: Sequence[Mapping[str, Any]]) -> list[Area]:
    """The areas a report sets side by side: the area, its size class (units), the country."""

    def as_area(i: Mapping[str, Any]) -> Area:
        return Area(i["kind"], i["name"], i["slug"], tuple(i["units"]), i.get("title") or i["name"])

    chosen = [as_area(info)]
    if info["kind"] == "enhet":
        chosen += [
            as_area(i)
            for i in every
            if (i["kind"], i["name"]) in {("storleksklass", info.get("size_class")), ("grupp", info.get("group"))}
        ]
    chosen += [as_area(i) for i in every if i["kind"] == "riket"]
    return chosen


def _display_names(compared: Sequence[Area]) -> dict[str, str]:
    """Legend names: the area by its title, 'Kommuner med <size class>', the
    comparison group by its name, 'Riket'."""
    names = {}
    for a in compared:
        if a.kind == "storleksklass":
            names[a.name] = f"Kommuner med {a.name[:1].lower() + a.name[1:]}"
        elif a.kind == "grupp":
            names[a.name] = f"Jämförelsegruppen {a.name}"
        else:
            names[a.name] = a.title or a.name
    return names


# One colour per kind of area in every report (figure_style.PALETTE, Okabe–Ito): the area
# the report is about blue, its comparison group orange, the country green.
KIND_COLOURS = {"enhet": 0, "lan": 0, "storleksklass": 1, "grupp": 1, "riket": 2}


def _colours(compared: Sequence[Area]) -> list[str]:
    return [figure_style.PALETTE[KIND_COLOURS.get(a.kind, 3)] for a in compared]


def _quality_context(summary: pl.DataFrame, info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per unit of the area: rows read, used, excluded, quarantined in its latest round
    and its three most frequent issues (rule descriptions of rules.py)."""
    out = []
    for unit in info["units"]:
        rows = summary.filter(pl.col("unit") == unit)
        if rows.is_empty():
            continue
        latest = rows.sort("round").row(-1, named=True)
        issues = sorted(((latest[r], r) for r in RULES if latest.get(r)), reverse=True)[:3]
        out.append(
            {
                "unit": unit,
                "round": latest["round"],
                "read": latest["rows_read"],
                "used": latest["rows_used"],
                "excluded": latest["rows_excluded"],
                "quarantined": latest["rows_quarantined"],
                "issues": [{"count": c, "text": RULES[r].description.rstrip(".")} for c, r in issues],
            }
        )
    return out


def _check_published(shown: pl.DataFrame, threshold: int, what: str) -> None:
    """The published edition never shows a count of the area below the threshold, 0
    included (``shown``: the area's visible rows): a last guard that no internal table
    reached it."""
    if shown.filter(pl.col("n") < threshold).height:
        raise ValueError(f"{what}: den publicerade versionen skulle visa ett antal under {threshold}")


def _save_figure(write: Any, key_parts: Sequence[str], path: Path, cache: MutableMapping[str, bytes] | None) -> None:
    """Draw the figure (``write(path)``), or copy an identical one drawn before in this
    process: the two editions of a unit share every figure without hidden cells."""
    key = hashlib.sha256("\x00".join(key_parts).encode("utf-8")).hexdigest()
    if cache is not None and key in cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(cache[key])
        return
    write(path)
    if cache is not None:
        cache[key] = path.read_bytes()


def _diagram_sections(
    build: Path,
    info: Mapping[str, Any],
    compared: Sequence[Area],
    long: pl.DataFrame,
    diagrams: Sequence[int],
    reg: Registry,
    edition: str,
    threshold: int,
    cache: MutableMapping[str, bytes] | None,
    every: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Per shown table: its figure and CSV written under ``build``, and the section the
    template shows (title, reference to the national diagram, sentence, Markdown block)."""
    names = _display_names(compared)
    own = names[info["name"]]
    members = _members(info, every)
    sections = []
    for k, table_id in enumerate(table_ids(diagrams), start=1):
        table = comparison_table(long, table_id, compared).with_columns(
            pl.col("group").replace_strict(names, return_dtype=pl.String)
        )
        if edition == PUBLISHED:
            _check_published(
                table.filter((pl.col("group") == own) & ~pl.col("suppressed")),
                threshold,
                f"{info['slug']}, tabell {table_id}",
            )
        title = table_title(table_id, reg)
        multi = table_kind(table_id, reg) == "multi"
        csv = table_csv(table)
        colours = _colours(compared)
        # the comparison bars written as SVG (comparison_figure): drawn with matplotlib and
        # rasterised, the 17 figures were three quarters of a report's seconds
        _save_figure(
            # defaults bind this iteration's values: the figure may be drawn before the loop moves on
            lambda svg, table=table, title=title, multi=multi, table_id=table_id, colours=colours: (
                comparison_figure.save_svg(
                    comparison_figure.comparison_bar_figure(
                        table,
                        title,
                        n_label="{group}: N = {n}",
                        multi=multi,
                        notes=pool_notes(table_id, reg),
                        threshold=threshold,
                        colours=colours,
                    ),
                    svg,
                )
            ),
            ["comparison", title, str(multi), str(threshold), *colours, csv],
            build / "figures" / f"{table_id}.svg",
            cache,
        )
        shown, side_by_side = table, ""
        if members:  # a län: its units side by side (published, protected)
            # the units by their short names: a wide table of many units has narrow columns
            units = comparison_table(long, table_id, members)
            shown = pl.concat([table, units])
            side_by_side = _side_by_side(units, title, threshold)
        (build / "tables" / f"{table_id}.csv").write_bytes(table_csv(shown).encode("utf-8"))
        alt = figure_alt.alt_text(table.filter(pl.col("group") == own), f"{title}, {names[info['name']]}")
        found = (
            differences(table, table_id, title, own, _comparators(compared, names)) if info["kind"] == "enhet" else []
        )
        sections.append(
            {
                "title": title,
                "reference": f"diagram {table_id}" if table_id.isdigit() else "",
                "sentence": summary_sentence(
                    table,
                    own,
                    [names[a.name] for a in compared],
                    threshold=threshold,
                    single=table_kind(table_id, reg) in ("single", "histogram", "flag"),
                ),
                "differences": found,
                "members": side_by_side,
                "block": diagram_block(
                    k,
                    title,
                    f"figures/{table_id}.svg",
                    shown,
                    f"tables/{table_id}.csv",
                    alt,
                    label=f"Figur {k}",
                    threshold=threshold,
                ),
            }
        )
    return sections


def _side_by_side(units: pl.DataFrame, title: str, threshold: int) -> str:
    """A län's units side by side: one row per category, one column per unit, the
    share or the mark of a hidden value (kvinnofrid.reporting.hidden), in every format."""
    names = units["group"].unique(maintain_order=True).to_list()
    lines = ["| Kategori | " + " | ".join(names) + " |", "|:---" + "|---:" * len(names) + "|"]
    for category in units["category"].unique(maintain_order=True).to_list():
        cells = []
        for name in names:
            r = units.filter((pl.col("group") == name) & (pl.col("category") == category)).row(0, named=True)
            hidden_row = r["suppressed"] or r["share"] is None
            cells.append(mark(r.get("hidden_reason"), threshold) if hidden_row else fmt_pct(r["share"]))
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n: {title}: länets verksamheter (andelar; <{threshold} och dold: se metoden)"


def _shown_closed(long: pl.DataFrame, info: Mapping[str, Any], edition: str) -> int | None:
    """The area's closed cases as the text may say them: in the published edition only
    where the top group's base (= the closed cases) is shown, else None."""
    if edition != PUBLISHED:
        return info["closed"]
    base = long.filter((pl.col("table") == TOP_GROUP) & (pl.col("area") == info["name"]))["denominator"]
    return info["closed"] if base.len() and base.null_count() == 0 else None


def _comparators(compared: Sequence[Area], names: Mapping[str, str]) -> list[tuple[str, str]]:
    """The groups a unit is compared with, and how the others are named."""
    words = {
        "storleksklass": "övriga i storleksklassen",
        "grupp": "övriga i jämförelsegruppen",
        "riket": "övriga riket",
    }
    return [(names[a.name], words[a.kind]) for a in compared[1:] if a.kind in words]


def _members(info: Mapping[str, Any], every: Sequence[Mapping[str, Any]]) -> list[Area]:
    """A län's units (its report shows them side by side); none for a unit."""
    if info["kind"] != "lan":
        return []
    return [
        Area(i["kind"], i["name"], i["slug"], tuple(i["units"]), i.get("title") or i["name"])
        for i in every
        if i["kind"] == "enhet" and i["name"] in info["units"]
    ]


def _trend_block(
    build: Path,
    trend: pl.DataFrame,
    figure_number: int,
    cache: MutableMapping[str, bytes] | None = None,
    threshold: int = 5,
) -> str | None:
    """The area's round comparison (figure, table), or None when no share is shown."""
    if not (trend.height and trend["share"].is_not_null().any()):
        return None
    title = "Nyckelandelar per insamlingsomgång"
    csv = table_csv(trend)
    # the comparison bars' SVG (measures as categories, the rounds as groups): a hidden
    # share keeps its slot and its mark, as in the other figures
    bars = trend_report.trend_bars(trend)
    _save_figure(
        lambda svg: comparison_figure.save_svg(
            comparison_figure.comparison_bar_figure(title=title, threshold=threshold, **bars), svg
        ),
        ["trend", title, str(threshold), csv],
        build / "figures" / "trend.svg",
        cache,
    )
    (build / "tables" / "trend.csv").write_bytes(csv.encode("utf-8"))
    return "\n".join(
        [
            f"![Figur {figure_number}: {title}](figures/trend.svg)"
            f'{{#figur-omgangar fig-alt="{attribute_text(trend_report.trend_alt_text(trend))}" width="100%"}}',
            "",
            trend_report.trend_table(trend),
            "",
        ]
    )


def _fresh_project(build: Path, src: Path) -> None:
    """An empty project folder with the house assets."""
    if build.exists():
        shutil.rmtree(build)
    (build / "figures").mkdir(parents=True)
    (build / "tables").mkdir()
    shutil.copytree(src / "assets", build / "assets")


def build_area_report(
    build_dir: Any,
    info: Mapping[str, Any],
    every: Sequence[Mapping[str, Any]],
    long: pl.DataFrame,
    trend: pl.DataFrame,
    quality: pl.DataFrame,
    *,
    report_src: Any,
    diagrams: Sequence[int],
    period: tuple[str, str],
    threshold: int,
    demo: bool,
    slugs: Mapping[str, str],
    edition: str = PUBLISHED,
    figure_cache: MutableMapping[str, bytes] | None = None,
) -> None:
    """Write one area's Quarto project into ``build_dir``: figures, tables, index.qmd
    (from ``report/kommun/index.qmd.j2``), _quarto.yml and the house assets.
    ``edition``: ``PUBLISHED`` (``long``/``trend`` protected) or ``INTERNAL`` (a unit's
    own numbers unprotected: tables_intern/trend_intern of rule unit_tables)."""
    if edition not in EDITIONS or (edition == INTERNAL and info["kind"] != "enhet"):
        raise ValueError(f"{info['slug']}: ingen {edition} version (bara verksamheter har en intern)")
    build, src = Path(build_dir), Path(report_src)
    _fresh_project(build, src)
    compared = _compared(info, every)
    names = _display_names(compared)
    long = long.filter(pl.col("area").is_in([a.name for a in compared] + list(info["units"])))
    sections = _diagram_sections(
        build, info, compared, long, diagrams, load_registry(), edition, threshold, figure_cache, every
    )
    if edition == PUBLISHED and trend.height:
        _check_published(trend, threshold, f"{info['slug']}, omgångar")
    env = text.make_environment(src / "kommun")
    found = [d for section in sections for d in section["differences"]]
    context = {
        "area": {**info, "name": names[info["name"]], "closed": _shown_closed(long, info, edition)},
        "differences": differences_text(found, names[info["name"]]) if info["kind"] == "enhet" else "",
        "units_shown": [_display_names([a])[a.name] for a in _members(info, every)],
        "compared": [names[a.name] for a in compared],
        "sections": sections,
        "trend_block": _trend_block(build, trend, len(sections) + 1, figure_cache, threshold),
        "quality": _quality_context(quality, info),
        "quality_links": [(u, slugs[u]) for u in info["units"] if u in slugs],
        # results/kommuner/<slug>.html or results/kommuner/intern/<slug>.html → results/quality/
        "quality_prefix": "../../" if edition == INTERNAL else "../",
        "units_in_class": [len(a.units) for a in compared[1:-1]],
        "period": period,
        "threshold": threshold,
        "demo": demo,
        "edition": edition,
    }
    body = text.render_template(env, "index.qmd.j2", context)
    text.check_output(f"{info['slug']}/index.qmd", body)
    (build / "index.qmd").write_text(body, encoding="utf-8")
    quarto = text.render_template(env, "_quarto.yml.j2", context)
    (build / "_quarto.yml").write_text(quarto, encoding="utf-8")


# ---------------------------------------------------------------- many reports in one process


def report_jobs(every: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(slug, edition) of every report: the published edition of every unit and län,
    the internal edition of every unit; in the order of ``every`` (areas.json)."""
    return [
        (a["slug"], edition)
        for a in every
        if a["kind"] in ("enhet", "lan")
        for edition in EDITIONS
        if edition == PUBLISHED or a["kind"] == "enhet"
    ]


def batch_jobs(every: Sequence[Mapping[str, Any]], batch: int, batches: int) -> list[tuple[str, str]]:
    """The reports of batch ``batch`` (0 … ``batches`` − 1): every ``batches``-th area,
    both editions of an area in the same batch (they share their unhidden figures)."""
    slugs = list(dict.fromkeys(slug for slug, _ in report_jobs(every)))
    mine = set(slugs[batch::batches])
    return [(slug, edition) for slug, edition in report_jobs(every) if slug in mine]


def report_paths(results_dir: Any, build_root: Any, slug: str, edition: str) -> tuple[Path, Path]:
    """(output folder, build folder) of one report: results/kommuner[/intern] and
    build/kommuner[/intern]/<slug>."""
    sub = (INTERNAL_DIR,) if edition == INTERNAL else ()
    return Path(results_dir, *sub), Path(build_root, *sub, slug)


def write_reports(
    jobs: Sequence[tuple[str, str]],
    every: Sequence[Mapping[str, Any]],
    sources: Mapping[str, tuple[pl.DataFrame, pl.DataFrame]],
    quality: pl.DataFrame,
    *,
    results_dir: Any,
    build_root: Any,
    render: Any,
    **options: Any,
) -> list[dict[str, Any]]:
    """Build the reports ``jobs`` ((slug, edition) pairs) in this process, then render
    them all in one call. ``sources``: edition → (long tables, trend) of rule
    unit_tables; ``render``: ``render.render_documents``; ``options``: the keyword
    arguments of ``build_area_report``. Returns the seconds (wall and CPU, own and
    child processes) of building each project and of rendering them all, for the log."""
    by_slug = {a["slug"]: a for a in every if a["kind"] in ("enhet", "lan")}
    slugs = {a["name"]: a["slug"] for a in every if a["kind"] == "enhet"}
    cache: dict[str, bytes] = {}
    timings, documents = [], []
    for slug, edition in jobs:
        info = by_slug[slug]
        long, trend = sources[edition]
        out_dir, build = report_paths(results_dir, build_root, slug, edition)
        started = _clock()
        own_trend = trend.filter(pl.col("area") == info["name"]).drop("area")
        build_area_report(
            build, info, every, long, own_trend, quality, slugs=slugs, edition=edition, figure_cache=cache, **options
        )
        documents.append((build, out_dir, slug))
        timings.append({"slug": slug, "edition": edition, **_elapsed(started)})
        log.info("rapport %s (%s) byggd: %s", slug, edition, timings[-1])
    started = _clock()
    render(documents)
    timings.append({"slug": "*", "edition": "sättning av alla", "reports": len(documents), **_elapsed(started)})
    log.info("%d rapporter satta: %s", len(documents), timings[-1])
    return timings


def _elapsed(started: Mapping[str, float]) -> dict[str, float]:
    now = _clock()
    return {k: round(now[k] - started[k], 2) for k in started}


def _clock() -> dict[str, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": time.perf_counter(), "cpu": time.process_time(), "child_cpu": children.ru_utime + children.ru_stime}
