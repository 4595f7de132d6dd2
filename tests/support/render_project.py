"""A tiny two-chapter book project as the pipeline lays out build/report (one figure,
one table), for the renderer's tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl
import yaml

from kvinnofrid.reporting import figure_alt, figures
from kvinnofrid.reporting.markdown import diagram_block
from kvinnofrid.reporting.numfmt import NBSP
from support.paths import ROOT

REPORT = ROOT / "report"

SEX = pl.DataFrame(
    {
        "group": [None, None],
        "category": ["Kvinna", "Man"],
        "n": [2858, 190],
        "denominator": [3048, 3048],
        "share": [2858 / 3048, 190 / 3048],
        "ci_low": [0.929, 0.054],
        "ci_high": [0.946, 0.071],
        "mean": [None, None],
        "suppressed": [False, False],
    },
    schema_overrides={"group": pl.String, "mean": pl.Float64},
)


_FIGURE_CACHE: dict[str, Path] = {}


def _figure(title: str) -> Path:
    """Draw the test figure once per session (plotnine takes a second per figure)."""
    if title not in _FIGURE_CACHE:
        folder = Path(tempfile.mkdtemp(prefix="kvinnofrid-figur-"))
        figures.save_figure(figures.bar_figure(SEX, title), folder / "diagram.png")
        _FIGURE_CACHE[title] = folder / "diagram.png"
    return _FIGURE_CACHE[title]


def make_project(root: Path) -> Path:
    """build/report as the pipeline lays it out: assets, _quarto.yml, 2 chapters, 1 figure, 1 table."""
    project = root / "build" / "report"
    shutil.copytree(REPORT / "assets", project / "assets")
    config = yaml.safe_load((REPORT / "_quarto.yml").read_text(encoding="utf-8"))
    config["book"]["chapters"] = ["index.qmd", "02-resultat.qmd"]
    config["book"]["appendices"] = []
    (project / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    title = "Hur ser könsfördelningen ut?"
    (project / "figures").mkdir()
    shutil.copyfile(_figure(title), project / "figures" / "diagram_02.png")
    (project / "tables").mkdir()
    SEX.write_csv(project / "tables" / "diagram_02.csv")
    (project / "index.qmd").write_text(
        "---\ntitle: Förord\n---\n\nFörfattarnas text om våld och stöd i Sverige.\n", encoding="utf-8"
    )
    block = diagram_block(
        1, title, "figures/diagram_02.png", SEX, "tables/diagram_02.csv", figure_alt.alt_text(SEX, title)
    )
    (project / "02-resultat.qmd").write_text(
        "# Resultat från uppföljningen {#sec-resultat}\n\n"
        f"Uppföljningen omfattar 3{NBSP}070 ärenden.\n\n"
        "## Vilka är de våldsutsatta vuxna? {#sec-vilka}\n\n" + block + "\n"
        "| Kommun | Ärenden |\n|:--|--:|\n| Göteborg | 1\u00a0204 |\n| Örebro | 98 |\n\n"
        '::: {.content-hidden when-format="html"}\nTabellerna finns i webbversionen.\n:::\n',
        encoding="utf-8",
    )
    return project
