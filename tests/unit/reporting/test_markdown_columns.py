"""Tables keep their columns at any label length (issue 14): the pipe tables of
reporting.markdown, converted by the project's pandoc to HTML and to Typst."""

from __future__ import annotations

import re
import subprocess

import polars as pl
import pytest

from kvinnofrid.reporting.markdown import markdown_table
from kvinnofrid.reporting.render import pandoc_path

LONG = (
    "Vissa stöd/insatser har genomförts, andra har avbrutits eller inte genomförts, "
    "enligt den preliminära sammanställningen 2023-05-15"
)


def convert(markdown: str, to: str) -> str:
    return subprocess.run(
        [str(pandoc_path()), "-f", "markdown", "-t", to], input=markdown, text=True, capture_output=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "group": ["Preliminär 2023-05-15 sammanställning", "Kommuner med under 15 000 invånare"],
            "category": [LONG, "Annat"],
            "n": [12, None],
            "denominator": [40, 70],
            "share": [0.3, None],
            "ci_low": [0.18, None],
            "ci_high": [0.46, None],
            "mean": [None, None],
            "suppressed": [False, True],
        }
    )


def test_html_rows_have_the_header_s_cells_and_labels_the_widest_columns(table):
    html = convert(markdown_table(table), "html")
    header = re.findall(r"<th[^>]*>(.*?)</th>", html)
    assert header == ["Grupp", "Kategori", "Antal", "Bas (N)", "Andel", "95 % konfidensintervall"]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)[1:]:
        assert len(re.findall(r"<td", row)) == len(header)
    assert '<td style="text-align: left;">Preliminär 2023-05-15 sammanställning</td>' in html
    widths = [int(w) for w in re.findall(r'<col style="width: (\d+)%"', html)]
    assert len(widths) == len(header)
    assert widths[1] == max(widths) and widths[1] >= 2 * widths[2]  # Kategori wide, numbers narrow
    assert widths[0] > widths[2]


def test_typst_columns_are_fixed_fractions_with_the_label_column_widest(table):
    typst = convert(markdown_table(table), "typst")
    columns = re.search(r"columns: \(([^)]*)\)", typst)
    assert columns, typst[:500]
    widths = [
        float(w)
        for w in re.findall(r"([\d.]+)fr|([\d.]+)%", columns[1])
        and [a or b for a, b in re.findall(r"([\d.]+)fr|([\d.]+)%", columns[1])]
    ]
    assert len(widths) == 6
    assert widths[1] == max(widths) and widths[1] >= 2 * widths[2]
    assert "[Preliminär 2023-05-15 sammanställning]" in typst  # one cell, not split
