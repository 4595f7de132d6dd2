"""Every test in this folder runs the workflow, a browser or a renderer: it is ``e2e``
(deselected by the quick tier, ``pytest -m "not e2e"``).

The published documents of the demo, shared by test_publishing_e2e.py and
test_quarto_e2e.py (one xdist scope, tests/conftest.py, so one worker builds them):
``mapped``, the demo run again with Figure 1 as a map and one unit's reports in both
editions, rendered by the backend the pipeline chooses (the built-in one in CI); and
``quarto_out``, the same national book and unit reports rendered by real Quarto.
Quarto starts cost about 6 CPU seconds each, so each document is rendered once.

``drawn_figures``: the demo's diagrams drawn in process from support.report_inputs, for
the books test_report_build.py and test_author_parts.py build (also one xdist scope):
drawing them costs about 17 CPU seconds, so they are drawn once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.map_fixtures import write_squares
from support.published import UNIT, quarto_or_skip
from support.report_inputs import report_inputs, write_figures
from support.workflow import run_snakemake

from kvinnofrid.reporting.render import render_book, render_documents

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def mapped(demo_run, tmp_path_factory) -> Path:
    """The demo run again with map.boundaries set, and one unit's reports (both editions)."""
    workdir = demo_run.copy_to(tmp_path_factory.mktemp("mapped")).workdir
    boundaries = write_squares(tmp_path_factory.mktemp("gränser") / "kommuner.gpkg")
    run_snakemake(
        workdir,
        f'map={{"boundaries": "{boundaries}"}}',
        "--",
        "all",
        f"results/kommuner/{UNIT}.pdf",
        f"results/kommuner/intern/{UNIT}.pdf",
    )
    return workdir


@pytest.fixture(scope="session")
def quarto_out(mapped, tmp_path_factory) -> Path:
    """The same national book and unit reports rendered by real Quarto: report/ and
    kommuner/ (both editions in one multi-document project, as rule unit_reports
    renders them)."""
    quarto_or_skip()
    out = tmp_path_factory.mktemp("quarto")
    render_book(mapped / "build" / "report", out / "report", backend="quarto")
    render_documents(
        [
            (mapped / "build" / "kommuner" / UNIT, out / "kommuner", UNIT),
            (mapped / "build" / "kommuner" / "intern" / UNIT, out / "kommuner" / "intern", UNIT),
        ],
        backend="quarto",
    )
    return out


@pytest.fixture(scope="session")
def drawn_figures(tmp_path_factory) -> Path:
    """The demo's diagrams (PNG), drawn in this process from its report inputs."""
    return write_figures(report_inputs(), tmp_path_factory.mktemp("figurer"))
