"""Tables keep their columns at any label length (issue 14): the pipe tables of
reporting.markdown, converted by the project's pandoc to HTML and to Typst; and the
HTML-only tables written as raw HTML are Pandoc's table of the same pipe table."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser

import polars as pl
import pytest

from kvinnofrid.disclosure.suppression import REASON_SMALL
from kvinnofrid.reporting.markdown import html_table, markdown_table
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


# --------------------------------------------------------------------------- raw HTML


class _Structure(HTMLParser):
    """A table's tags, attributes (class aside), texts and character references as
    written, whitespace runs as one space (Pandoc wraps long cells; a no-break space is
    kept)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.events: list[tuple] = []
        self.classes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, sorted((k, v) for k, v in attrs if k != "class")))
        self.classes.append((tag, dict(attrs).get("class")))

    def handle_endtag(self, tag):
        if tag != "col":  # <col /> (Pandoc) and <col> (HTML) are the same element
            self.events.append(("end", tag))

    def handle_data(self, data):
        text = re.sub(r"[ \t\r\n]+", " ", data).strip(" ")
        if text:
            self.events.append(("text", text))

    def handle_entityref(self, name):
        self.events.append(("text", f"&{name};"))

    def handle_charref(self, name):
        self.events.append(("text", f"&#{name};"))


def _parsed(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    return parser


def _oracle_cases(table: pl.DataFrame) -> list[pl.DataFrame]:
    """Tables around Pandoc's 72-column line (relative widths or none), with a mean
    column, a hidden denominator, Markdown's special characters and an empty group."""
    # longest source lines of 63 to 77 characters: both sides of Pandoc's 72
    short = [
        pl.DataFrame({"category": ["x" * k, "Annat"], "n": [3, 40], "denominator": [43, 43]}) for k in range(50, 65)
    ]
    special = pl.DataFrame(
        {
            "group": ["A & <B> | *c* _d_ [e] #f \\g", None],
            "category": ["`kod` <5", "Ja"],
            "n": [None, 7],
            "denominator": [None, 9],
            "denominator_reason": [REASON_SMALL, None],
            "hidden_reason": [REASON_SMALL, None],
            "mean": [None, 2.25],
            "suppressed": [True, False],
        }
    )
    return [table, *short, special, table.with_columns(pl.lit(12.5).alias("mean"))]


def test_html_table_is_pandoc_s_table_of_the_pipe_table(table):
    cases = _oracle_cases(table)
    pandoc = convert("\n\n".join(markdown_table(t) for t in cases), "html")
    made = ["<table" + part for part in pandoc.split("<table")[1:]]
    assert len(made) == len(cases)
    widths = set()
    for frame, expected in zip(cases, made, strict=True):
        ours = _parsed(html_table(frame))
        assert ours.events == _parsed(expected).events
        widths.add("<colgroup>" in expected)
    assert widths == {True, False}  # both sides of Pandoc's 72 columns were compared


def test_html_table_has_quarto_s_classes(table):
    classes = _parsed(html_table(table)).classes
    assert classes[0] == ("table", "caption-top table")
    rows = [c for tag, c in classes if tag == "tr"]
    assert rows == ["header", "odd", "even"]
