"""The renderer: a tiny 2-chapter book through the built-in backend (pandoc + typst),
the error messages, the Quarto backend with a stand-in quarto, and a real-browser check."""

import os
import stat
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from support.render_project import REPORT, SEX, make_project

from kvinnofrid.reporting.markdown import diagram_block, markdown_table
from kvinnofrid.reporting.numfmt import NBSP
from kvinnofrid.reporting.render import RenderError, choose_backend, render_book


def test_diagram_block_markdown():
    block = diagram_block(
        7, "Hur har våldet bedömts?", "figures/diagram_07.png", SEX, "tables/diagram_07.csv", 'Alt "x"'
    )
    assert block.startswith("![Diagram 7: Hur har våldet bedömts?](figures/diagram_07.png){#diagram-07 ")
    assert 'fig-alt="Alt \u201dx\u201d"' in block
    assert '::: {.content-visible when-format="html"}' in block
    assert '[Ladda ner tabellen som CSV](tables/diagram_07.csv){.csv-download download="diagram_07.csv"}' in block


def test_markdown_table_swedish_numbers_and_hidden_values():
    hidden = SEX.with_columns(
        pl.when(pl.col("category") == "Man").then(None).otherwise(pl.col("n")).alias("n"),
        pl.when(pl.col("category") == "Man").then(True).otherwise(False).alias("suppressed"),
    )
    lines = markdown_table(hidden).splitlines()
    assert lines[0] == "| Kategori | Antal | Bas (N) | Andel | 95 % konfidensintervall |"
    assert lines[2] == f"| Kvinna | 2{NBSP}858 | 3{NBSP}048 | 94{NBSP}% | 93{NBSP}%–95{NBSP}% |"
    assert lines[3] == f"| Man | dold | 3{NBSP}048 | dold | \u2013 |"


# --------------------------------------------------------------------------- errors


def test_missing_pandoc_names_the_step(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    monkeypatch.setenv("KVINNOFRID_PANDOC", str(tmp_path / "finns-inte" / "pandoc"))
    with pytest.raises(RenderError, match=r"motor: inbyggd.*steg: pandoc → HTML.*finns inte"):
        render_book(project, tmp_path / "ut", backend="builtin")


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_failing_pandoc_reports_exit_status_and_stderr_tail(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    fake = _script(tmp_path / "pandoc", "import sys\nsys.stderr.write('Unknown option --bad\\n')\nsys.exit(6)\n")
    monkeypatch.setenv("KVINNOFRID_PANDOC", str(fake))
    with pytest.raises(RenderError) as caught:
        render_book(project, tmp_path / "ut", backend="builtin")
    message = str(caught.value)
    assert "steg: pandoc → Typst" in message and "felkod 6" in message and "Unknown option --bad" in message


def test_typst_failure_names_the_step(tmp_path, monkeypatch):
    import typst

    project = make_project(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("error: unknown font family: kvinnofrid-sans")

    monkeypatch.setattr(typst, "compile", broken)
    with pytest.raises(RenderError, match=r"(?s)steg: typst → PDF.*unknown font family"):
        render_book(project, tmp_path / "ut", backend="builtin")


def test_missing_typst_package_names_the_step(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    monkeypatch.setitem(sys.modules, "typst", None)
    with pytest.raises(RenderError, match=r"steg: typst → PDF.*typst saknas"):
        render_book(project, tmp_path / "ut", backend="builtin")


def test_missing_chapter_is_named(tmp_path):
    project = make_project(tmp_path)
    (project / "02-resultat.qmd").unlink()
    with pytest.raises(RenderError, match=r"kapitelfiler saknas.*02-resultat.qmd"):
        render_book(project, tmp_path / "ut", backend="builtin")


# --------------------------------------------------------------------------- quarto backend


def test_backend_choice(monkeypatch, tmp_path):
    monkeypatch.delenv("KVINNOFRID_RENDERER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    assert choose_backend() == "builtin"
    monkeypatch.setenv("QUARTO_PATH", "/opt/quarto/bin/quarto")
    assert choose_backend() == "quarto"
    assert choose_backend("builtin") == "builtin"
    with pytest.raises(RenderError, match="okänd motor"):
        choose_backend("latex")


FAKE_QUARTO = """import os, pathlib, sys, yaml
if sys.argv[1:] == ["--version"]:
    print("1.10.18"); sys.exit(0)
render, dot, to, fmt, *pairs = sys.argv[1:]
assert [render, dot, to] == ["render", ".", "--to"], sys.argv
assert pairs[0::2] == ["-M"] * (len(pairs) // 2), sys.argv
meta = dict(p.split(":", 1) for p in pairs[1::2])
assert meta["kvinnofrid-renderer"] == "Quarto 1.10.18", meta
book = pathlib.Path("_book"); book.mkdir(exist_ok=True)
config = yaml.safe_load(pathlib.Path("_quarto.yml").read_text(encoding="utf-8"))
if fmt == "html":
    # rendered after the PDF: the book's pages link to it, one folder up, with its size
    assert meta["kvinnofrid-pdf"] == "../rapport.pdf" and meta["kvinnofrid-pdf-size"] == "1 kB", meta
    assert meta["kvinnofrid-beside-report"] == "../", meta
    (book / "index.html").write_text("<html>bok</html>")
    (book / "02-resultat.html").write_text(str(config["book"]["chapters"][-1]))
else:
    assert fmt == "typst", fmt
    (book / "rapport.pdf").write_bytes(b"%PDF-1.7 quarto " + os.environ["SOURCE_DATE_EPOCH"].encode())
"""


def test_quarto_backend_copies_outputs(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    config["book"]["appendices"] = ["bilaga.qmd"]
    (project / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (project / "bilaga.qmd").write_text("# Bilaga 1. Metod\n", encoding="utf-8")
    monkeypatch.setenv("QUARTO_PATH", str(_script(tmp_path / "quarto", FAKE_QUARTO)))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("KVINNOFRID_RENDERER", raising=False)
    out = tmp_path / "ut"
    (out / "html").mkdir(parents=True)
    (out / "html" / "gammal.html").write_text("från en tidigare körning")
    html, pdf = render_book(project, out)
    # the PDF's date is the book's date (2023-10-10, UTC), handed to Typst as SOURCE_DATE_EPOCH
    assert pdf == out / "rapport.pdf" and pdf.read_bytes() == b"%PDF-1.7 quarto 1696896000"
    assert html == out / "html" / "index.html" and html.read_text(encoding="utf-8") == "<html>bok</html>"
    assert sorted(p.name for p in (out / "html").iterdir()) == ["02-resultat.html", "index.html"]
    # the HTML book gets the appendices as a part "Bilagor" (no "Bilaga A —" prefix by Quarto)
    assert (out / "html" / "02-resultat.html").read_text() == "{'part': 'Bilagor', 'chapters': ['bilaga.qmd']}"
    assert not (project / "_book").exists()  # rendered in a scratch copy


def test_quarto_failure_is_checked_not_ignored(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    fake = _script(
        tmp_path / "quarto",
        "import sys\nprint('ERROR: YAMLException: bad indentation', file=sys.stderr)\nsys.exit(1)\n",
    )
    monkeypatch.setenv("QUARTO_PATH", str(fake))
    monkeypatch.delenv("KVINNOFRID_RENDERER", raising=False)  # CI forces builtin for the other tests
    with pytest.raises(RenderError, match=r"(?s)motor: quarto.*steg: quarto render.*felkod 1.*bad indentation"):
        render_book(project, tmp_path / "ut")


# --------------------------------------------------------------------------- the project file


def test_quarto_yml_is_a_book_project_with_documented_keys():
    config = yaml.safe_load((REPORT / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"]["type"] == "book"
    assert config["lang"] == "sv"
    assert {"title", "author", "date", "chapters"} <= set(config["book"])
    assert config["book"]["chapters"][0] == "index.qmd"  # Quarto books start with index
    keys = {"project", "lang", "book", "filters", "format", "number-sections", "html-table-processing"}
    assert set(config) <= keys
    # the diagrams' HTML tables are raw HTML written as Quarto would (markdown.html_table)
    assert config["html-table-processing"] == "none"
    assert set(config["format"]) == {"html", "typst"}
    assert set(config["format"]["html"]) <= {"theme", "css", "toc", "toc-depth", "toc-title"}
    assert set(config["format"]["typst"]) <= {
        "toc",
        "toc-depth",
        "toc-title",
        "papersize",
        "pdf-standard",
        "template-partials",
    }
    assert config["format"]["typst"]["pdf-standard"] == "ua-1"  # the tagged, accessible PDF
    for path in [*config["format"]["typst"]["template-partials"], config["format"]["html"]["css"], *config["filters"]]:
        assert (REPORT / path).exists(), path


def test_quartos_typst_gets_the_figures_font_beside_the_fonts_the_user_set(monkeypatch):
    from kvinnofrid.reporting import figure_style, render

    monkeypatch.setenv("TYPST_FONT_PATHS", "/egna/typsnitt")
    env = render._quarto_env(1700000000)
    paths = env["TYPST_FONT_PATHS"].split(os.pathsep)
    assert paths == [str(figure_style.font_dir()), "/egna/typsnitt"]
    assert (figure_style.font_dir() / "DejaVuSans.ttf").is_file() and env["SOURCE_DATE_EPOCH"] == "1700000000"


HTML_ONLY_SOURCE = """# Rubrik

Text före.

::: {.content-visible when-format="html"}
```{=html}
<details><summary>Visa tabellen</summary>
```

| A | B |
|---|--:|
| x | 1 |

::: {.note}
Inre div.
:::

```{=html}
</details>
```
:::

```
::: {.content-visible when-format="html"}
ett kodblock, inte en div
```

::: {.faktaruta}
Faktaruta.

:::: {.content-visible when-format="html"}
Bara i HTML.
::::

Kvar i PDF.
:::

Text efter.
"""


def test_the_pdf_source_leaves_out_exactly_the_html_only_divs():
    from kvinnofrid.reporting.render import without_html_only

    pdf = without_html_only(HTML_ONLY_SOURCE)
    assert "Visa tabellen" not in pdf and "| x | 1 |" not in pdf and "Inre div." not in pdf
    assert "Bara i HTML." not in pdf
    for kept in ("Text före.", "ett kodblock, inte en div", "Faktaruta.", "Kvar i PDF.", "Text efter."):
        assert kept in pdf, kept
    assert pdf.count(":::") == 3  # the code block's line, the fact box's fences
    assert without_html_only("Ingen div.\n") == "Ingen div.\n"


def test_pandoc_sets_the_same_typst_from_the_pdf_source(tmp_path):
    """The house filter drops the HTML-only divs in Typst anyway: the shorter source
    gives the same Typst, only faster."""
    import subprocess

    from kvinnofrid.reporting.render import pandoc_path, without_html_only

    lua = Path(__file__).resolve().parents[3] / "report" / "assets" / "kvinnofrid.lua"

    def typst(source: str) -> str:
        cmd = [str(pandoc_path()), "--from=markdown", "--to=typst", "--lua-filter", str(lua)]
        return subprocess.run(cmd, input=source, capture_output=True, text=True, check=True).stdout

    full = typst(HTML_ONLY_SOURCE)
    assert "Faktaruta" in full and "Inre div" not in full
    assert typst(without_html_only(HTML_ONLY_SOURCE)) == full
