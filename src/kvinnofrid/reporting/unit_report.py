"""The comparison reports below national level, laid out: one Quarto project per
reporting unit and per län with at least two units (target ``kommuner``).

The tables come protected from kvinnofrid.disclosure.area_tables (rule ``unit_tables``);
this module only sets an area's rows beside its size class and the country, draws the
figures, writes the sentences and fills ``report/kommun/index.qmd.j2``.
"""


from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.disclosure.area_tables import TOP_GROUP, Area, comparison_table, table_ids, table_kind
from kvinnofrid.reporting import figures, text, trend_report
from kvinnofrid.reporting.area_text import pool_notes, summary_sentence
from kvinnofrid.reporting.markdown import attribute_text, diagram_block
from kvinnofrid.spec.diagrams import Registry, load_registry
from kvinnofrid.spec.rules import RULES
from kvinnofrid.statistics.tables import table_csv


def table_title(table_id: str, registry: Registry | None = None) -> str:
    if table_id == TOP_GROUP:
        return "Hur stor andel av de avslutade ärendena hör till toppgruppen?"
    return (registry or load_registry())[int(table_id)].title


# ---------------------------------------------------------------- the report project

def _compared(info: Mapping[str, Any], every: Sequence[Mapping[str, Any]]) -> list[Area]:
    """The areas a report sets side by side: the area, its size class (units), the country."""
    def as_area(i: Mapping[str, Any]) -> Area:
        return Area(i["kind"], i["name"], i["slug"], tuple(i["units"]))
    chosen = [as_area(info)]
    if info["kind"] == "enhet" and info.get("size_class"):
        chosen += [as_area(i) for i in every if i["kind"] == "storleksklass" and i["name"] == info["size_class"]]
    chosen += [as_area(i) for i in every if i["kind"] == "riket"]
    return chosen


def _display_names(compared: Sequence[Area]) -> dict[str, str]:
    """Legend names: the area itself, 'Kommuner med <size class>', 'Riket'."""
    names = {}
    for a in compared:
        if a.kind == "storleksklass":
            names[a.name] = f"Kommuner med {a.name[:1].lower() + a.name[1:]}"
        else:
            names[a.name] = a.name
    return names


def _quality_context(summary: pl.DataFrame, info: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per unit of the area: rows read, used, excluded, quarantined in its latest round
    and its three most frequent issues (rule descriptions of rules.py)."""
    out = []
    for unit in info["units"]:
        rows = summary.filter(pl.col("unit") == unit)
        if rows.is_empty():
            continue
        latest = rows.sort("round").row(-1, named=True)
        issues = sorted(((latest[r], r) for r in RULES if r in latest and latest[r]), reverse=True)[:3]
        out.append({"unit": unit, "round": latest["round"], "read": latest["rows_read"], "used": latest["rows_used"],
                    "excluded": latest["rows_excluded"], "quarantined": latest["rows_quarantined"],
                    "issues": [{"count": c, "text": RULES[r].description.rstrip(".")} for c, r in issues]})
    return out


def _diagram_sections(build: Path, info: Mapping[str, Any], compared: Sequence[Area], long: pl.DataFrame,
                      diagrams: Sequence[int], reg: Registry, threshold: int = 5) -> list[dict[str, Any]]:
    """Per shown table: its figure and CSV written under ``build``, and the section the
    template shows (title, reference to the national diagram, sentence, Markdown block)."""
    names = _display_names(compared)
    own = names[info["name"]]
    sections = []
    for k, table_id in enumerate(table_ids(diagrams), start=1):
        table = comparison_table(long, table_id, compared).with_columns(
            pl.col("group").replace_strict(names, return_dtype=pl.String))
        title = table_title(table_id, reg)
        multi = table_kind(table_id, reg) == "multi"
        plot = figures.grouped_bar_figure(table, title, n_label="{group}: N = {n}", multi=multi,
                                          notes=pool_notes(table_id, reg))
        figures.save_figure(plot, build / "figures" / f"{table_id}.png", build / "figures" / f"{table_id}.svg")
        (build / "tables" / f"{table_id}.csv").write_bytes(table_csv(table).encode("utf-8"))
        alt = figures.alt_text(table.filter(pl.col("group") == own), f"{title}, {info['name']}")
        sections.append({
            "title": title, "reference": f"diagram {table_id}" if table_id.isdigit() else "",
            "sentence": summary_sentence(table, own, [names[a.name] for a in compared], threshold=threshold,
                                         single=table_kind(table_id, reg) in ("single", "histogram", "flag")),
            "block": diagram_block(k, title, f"figures/{table_id}.png", table, f"tables/{table_id}.csv", alt,
                                   label=f"Figur {k}"),
        })
    return sections


def _trend_block(build: Path, trend: pl.DataFrame, figure_number: int) -> str | None:
    """The area's round comparison (figure, table), or None when no share is shown."""
    if not (trend.height and trend["share"].is_not_null().any()):
        return None
    plot = trend_report.trend_figure(trend, title="Nyckelandelar per insamlingsomgång")
    figures.save_figure(plot, build / "figures" / "trend.png", build / "figures" / "trend.svg")
    (build / "tables" / "trend.csv").write_bytes(table_csv(trend).encode("utf-8"))
    return "\n".join([
        f'![Figur {figure_number}: Nyckelandelar per insamlingsomgång](figures/trend.png)'
        f'{{#figur-omgangar fig-alt="{attribute_text(trend_report.trend_alt_text(trend))}" width="100%"}}',
        "", trend_report.trend_table(trend), ""])


def _fresh_project(build: Path, src: Path) -> None:
    """An empty project folder with the house assets."""
    if build.exists():
        shutil.rmtree(build)
    (build / "figures").mkdir(parents=True)
    (build / "tables").mkdir()
    shutil.copytree(src / "assets", build / "assets")


def build_area_report(build_dir: Any, info: Mapping[str, Any], every: Sequence[Mapping[str, Any]],
                      long: pl.DataFrame, trend: pl.DataFrame, quality: pl.DataFrame, *,
                      report_src: Any, diagrams: Sequence[int], period: tuple[str, str], threshold: int,
                      demo: bool, slugs: Mapping[str, str]) -> None:
    """Write one area's Quarto project into ``build_dir``: figures, tables, index.qmd
    (from ``report/kommun/index.qmd.j2``), _quarto.yml and the house assets."""
    build, src = Path(build_dir), Path(report_src)
    _fresh_project(build, src)
    compared = _compared(info, every)
    names = _display_names(compared)
    sections = _diagram_sections(build, info, compared, long, diagrams, load_registry(), threshold)
    env = text.make_environment(src / "kommun")
    context = {
        "area": info, "compared": [names[a.name] for a in compared], "sections": sections,
        "trend_block": _trend_block(build, trend, len(sections) + 1), "quality": _quality_context(quality, info),
        "quality_links": [(u, slugs[u]) for u in info["units"] if u in slugs],
        "units_in_class": next((len(i["units"]) for i in every
                                if i["kind"] == "storleksklass" and i["name"] == info.get("size_class")), 0),
        "period": period, "threshold": threshold, "demo": demo,
    }
    body = text.render_template(env, "index.qmd.j2", context)
    text.check_output(f"{info['slug']}/index.qmd", body)
    (build / "index.qmd").write_text(body, encoding="utf-8")
    quarto = text.render_template(env, "_quarto.yml.j2", context)
    (build / "_quarto.yml").write_text(quarto, encoding="utf-8")
