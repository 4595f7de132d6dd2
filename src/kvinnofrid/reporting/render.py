"""Render the report's Quarto project to HTML and PDF, with Quarto or the built-in backend.

``render_book(project_dir, out_dir, name=...)`` has two backends behind one function:

1. **quarto**: ``quarto`` from ``QUARTO_PATH`` or the PATH → ``quarto render`` on the
   project (both formats, its ``_quarto.yml``); the exit status is checked here.
2. **builtin** (no Quarto): reads ``_quarto.yml`` (title, subtitle, author, date,
   chapters, appendices; format.html css/toc-depth; format.typst papersize/toc-depth),
   joins the chapter files into one Pandoc Markdown document, and runs the pandoc
   binary of the ``pypandoc-binary`` wheel to one self-contained HTML file
   (``--embed-resources``) and to Typst with ``assets/kvinnofrid.typst``; the ``typst``
   package makes the PDF. Both use ``assets/kvinnofrid.lua`` and the same Typst partials
   (``typst-template.typ``, ``typst-show.typ``), so the chapters, figures, captions,
   tables and numbers are the same; the built-in backend starts the appendices with the
   same ``appendices`` call that Quarto's book format emits.

``KVINNOFRID_RENDERER=quarto|builtin`` (or the ``backend`` argument) overrides the choice.

What is written (``out_dir``; ``name`` is ``rapport`` for the national report):

* a **book** project (``project: type: book``, the national report):
  ``<name>.pdf``, ``provenance.json`` and ``html/index.html``. With Quarto ``html/`` is Quarto's book
  site (one page per chapter, sidebar, search; ``site_libs/``, ``figures/`` beside
  it); the built-in backend writes the whole book as the one page ``html/index.html``.
* a **single document** (``project: type: default``, the unit and län reports):
  ``<name>.pdf`` and a self-contained ``<name>.html`` (both backends).

Both backends render in a scratch copy of ``project_dir`` (so the project, a Snakemake
input, is never written to) and date the PDF from the report's own date
(``SOURCE_DATE_EPOCH`` when set, else ``book.date``/``date``): two renders of the same
project are byte-identical. The colophon names the backend and the versions of pandoc
and of the Typst that wrote the PDF: a span ``[…]{.kf-renderer}`` gets the metadata
value ``kvinnofrid-renderer`` (kvinnofrid.lua).

Accessibility and publishing: the PDF is tagged and declares the standards of
``format.typst.pdf-standard`` (``ua-1``: PDF/UA-1; Quarto passes it to Typst, the
built-in backend to ``typst.compile``). The PDF is written first, then the HTML, whose
first page links to it with its size (``pdf_link_metadata``: ``../rapport.pdf`` from the
book in ``html/``, ``<name>.pdf`` beside a single document), so the link works wherever
the output folder is copied. A project holding ``provenance.json`` (the text stage's
record) gets it published beside the PDF, completed with the backend and the PDF's
SHA-256.

The project directory ``render_book`` expects (``build/report/``)::

    _quarto.yml                 copy of report/_quarto.yml (book.chapters = the files below)
    assets/theme.css            HTML style
    assets/kvinnofrid.lua       pandoc/Quarto filter
    assets/kvinnofrid.typst     pandoc Typst template (built-in backend)
    assets/typst-template.typ   Typst layout (Quarto template partial, also built-in)
    assets/typst-show.typ       metadata → layout (Quarto template partial, also built-in)
    index.qmd, 01-….qmd, …      the generated chapters (text stage)
    figures/diagram_NN.png|svg  figures (figures stage)
    tables/diagram_NN.csv       diagram tables, linked from the HTML (tables stage)

Paths inside the chapters are relative to the project directory.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from kvinnofrid.errors import UserFacingError
from kvinnofrid.reporting import figure_style, provenance

__all__ = [
    "Book",
    "RenderError",
    "choose_backend",
    "output_paths",
    "pandoc_path",
    "quarto_path",
    "read_book",
    "render_book",
    "render_documents",
    "renderer_label",
]

log = logging.getLogger("kvinnofrid")

HTML_DIR = "html"
STDERR_TAIL_LINES = 25
# Quarto's title of the appendices for lang: sv (language key section-title-appendices).
APPENDICES_TITLE = "Bilagor"
# Metadata key the colophon's ``.kf-renderer`` span is filled from (kvinnofrid.lua).
RENDERER_META = "kvinnofrid-renderer"
# Metadata keys of the HTML's link to the PDF and of links to files beside the report
# (kvinnofrid.lua; set by pdf_link_metadata for both backends).
PDF_META = "kvinnofrid-pdf"
PDF_SIZE_META = "kvinnofrid-pdf-size"
BESIDE_META = "kvinnofrid-beside-report"
# Left out of the scratch copy: earlier outputs and caches of either backend.
_NOT_COPIED = (
    "_book",
    "_output",
    ".quarto",
    "_rapport.md",
    "_rapport-pdf.md",
    "_rapport.typ",
    "_rapport-metadata.yaml",
)


class RenderError(UserFacingError):
    """The report could not be rendered; the message names backend, step and the tool's output."""

    def __init__(self, backend: str, step: str, message: str, stderr: str = "") -> None:
        self.backend = backend
        self.step = step
        tail = "\n".join(stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
        text = f"Rapporten kunde inte skapas (motor: {backend}, steg: {step}): {message}"
        if tail:
            text += f"\nVerktygets sista utskrift:\n{tail}"
        super().__init__(text)


# --------------------------------------------------------------------------- tools


def quarto_path() -> str | None:
    """The quarto binary: ``QUARTO_PATH`` if set, else ``quarto`` on the PATH, else None."""
    env = os.environ.get("QUARTO_PATH")
    if env:
        return env
    return shutil.which("quarto")


def pandoc_path() -> Path:
    """The pandoc binary of the pypandoc-binary wheel (never a pandoc on the PATH).

    ``KVINNOFRID_PANDOC`` overrides it (for tests and unusual installs).
    """
    env = os.environ.get("KVINNOFRID_PANDOC")
    if env:
        return Path(env)
    try:
        import pypandoc
    except ImportError as missing:
        raise RenderError(
            "inbyggd", "hitta pandoc", "paketet pypandoc-binary saknas; installera projektets beroenden"
        ) from missing
    bundled = Path(pypandoc.__file__).parent / "files" / ("pandoc.exe" if os.name == "nt" else "pandoc")
    return bundled if bundled.exists() else Path(pypandoc.get_pandoc_path())


def choose_backend(backend: str | None = None) -> str:
    """``quarto`` or ``builtin``: the argument, ``KVINNOFRID_RENDERER``, or Quarto if found."""
    wanted = backend or os.environ.get("KVINNOFRID_RENDERER") or ""
    if wanted not in ("", "quarto", "builtin"):
        raise RenderError(wanted, "välja motor", "okänd motor; välj quarto eller builtin")
    if wanted:
        return wanted
    return "quarto" if quarto_path() else "builtin"


def _run(
    cmd: Sequence[str], cwd: Path, backend: str, step: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            [str(c) for c in cmd],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=None if env is None else dict(env),
        )
    except FileNotFoundError as missing:
        raise RenderError(backend, step, f"programmet {cmd[0]} finns inte") from missing
    except OSError as failed:
        raise RenderError(backend, step, f"programmet {cmd[0]} kunde inte startas ({failed.strerror})") from failed
    if done.returncode != 0:
        raise RenderError(
            backend,
            step,
            f"{Path(str(cmd[0])).name} avslutades med felkod {done.returncode}",
            done.stderr or done.stdout,
        )
    return done


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0].strip()


@functools.cache
def _tool_version(*command: str) -> str:
    """The first line of ``command --version``; empty if it fails (the render itself then
    reports the broken tool, with its step). Cached: the tools do not change during a run."""
    try:
        done = _run([*command, "--version"], Path.cwd(), command[0], "--version")
    except RenderError:
        return ""
    # `quarto typst --version` answers on stderr
    return _first_line(done.stdout) or _first_line(done.stderr)


def _version_number(text: str, tool: str) -> str:
    """``3.9`` from ``pandoc 3.9``, ``0.13.0`` from ``typst 0.13.0 (8dce676d)``; empty if absent."""
    match = re.search(rf"{tool}\s+v?(\d+(?:\.\d+)+)", text, flags=re.IGNORECASE)
    return match.group(1) if match else ""


@functools.cache
def builtin_typst_version() -> str:
    """The version of the Typst compiler inside the ``typst`` package (``sys.version`` as
    Typst itself reports it: the version written into the PDF, which is not the
    package's own version, e.g. 0.15.1 inside typst-py 0.15.2)."""
    try:
        import typst

        return str(json.loads(typst.Compiler().eval("str(sys.version)", format="json")))
    except Exception:  # no typst package, or an API without eval: the render step says so
        return ""


def renderer_label(backend: str, tool: str | Path | None = None) -> str:
    """What the colophon says set the report: the backend and the versions of the
    programs that wrote the HTML (pandoc) and the PDF (Typst), e.g.
    ``Quarto 1.10.18 (pandoc 3.9, Typst 0.15.1)`` or
    ``inbyggd motor (pandoc 3.9, Typst 0.15.1)``."""
    if backend == "quarto":
        quarto = str(tool or quarto_path() or "quarto")
        head = f"Quarto {_tool_version(quarto)}".strip()
        pandoc = _version_number(_tool_version(quarto, "pandoc"), "pandoc")
        typst = _version_number(_tool_version(quarto, "typst"), "typst")
    else:
        head = "inbyggd motor"
        pandoc = _version_number(_tool_version(str(tool or pandoc_path())), "pandoc")
        typst = builtin_typst_version()
    parts = [f"pandoc {pandoc}" if pandoc else "", f"Typst {typst}" if typst else ""]
    parts = [p for p in parts if p]
    return f"{head} ({', '.join(parts)})" if parts else head


# --------------------------------------------------------------------------- the project


class Book:
    """What the built-in backend reads from ``_quarto.yml``: a book (``book:`` holds the
    metadata and the chapters) or a single document (``index.qmd``, metadata at the top)."""

    def __init__(self, project_dir: Path, config: dict[str, Any]) -> None:
        self.project_dir = project_dir
        self.config = config
        self.is_book = (config.get("project") or {}).get("type") == "book"
        meta = (config.get("book") or {}) if self.is_book else config
        self.title: str = str(meta.get("title") or "Rapport")
        self.subtitle: str | None = meta.get("subtitle")
        author = meta.get("author")
        self.authors: list[str] = (
            [a if isinstance(a, str) else str(a.get("name", "")) for a in author]
            if isinstance(author, list)
            else ([str(author)] if author else [])
        )
        self.date: str | None = None if meta.get("date") is None else str(meta.get("date"))
        self.lang: str = str(config.get("lang") or "sv")
        self.output_file: str = str(meta.get("output-file") or "")
        if self.is_book:
            self.main: list[Path] = [project_dir / p for p in _flatten(meta.get("chapters") or [])]
            self.appendices: list[Path] = [project_dir / p for p in _flatten(meta.get("appendices") or [])]
        else:
            self.main, self.appendices = [project_dir / "index.qmd"], []
        self.chapters: list[Path] = self.main + self.appendices
        formats = config.get("format") or {}
        self.html: dict[str, Any] = formats.get("html") or {}
        self.typst: dict[str, Any] = formats.get("typst") or {}
        filters = config.get("filters") or []
        self.filters: list[Path] = [project_dir / f for f in filters if isinstance(f, str)]

    @property
    def css(self) -> list[Path]:
        css = self.html.get("css") or []
        return [self.project_dir / c for c in ([css] if isinstance(css, str) else css)]

    @property
    def pdf_standards(self) -> list[str]:
        """``format.typst.pdf-standard`` (one value or a list, as Quarto reads it)."""
        wanted = self.typst.get("pdf-standard") or []
        return [str(s) for s in ([wanted] if isinstance(wanted, str) else wanted)]

    @property
    def output_dir(self) -> Path:
        """Where ``quarto render`` writes (project.output-dir; Quarto's defaults otherwise)."""
        configured = (self.config.get("project") or {}).get("output-dir")
        return self.project_dir / str(configured or ("_book" if self.is_book else "."))

    def epoch(self) -> int | None:
        """The PDF's timestamp: ``SOURCE_DATE_EPOCH`` if set, else the report's date (UTC midnight)."""
        env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if env.isdigit():
            return int(env)
        match = re.match(r"(\d{4})-(\d{2})-(\d{2})", self.date or "")
        if not match:
            return None
        day = dt.datetime(*map(int, match.groups()), tzinfo=dt.UTC)
        return int(day.timestamp())


def _flatten(entries: list[Any]) -> list[str]:
    """Chapter entries: file names, or ``{part: ..., chapters: [...]}``."""
    files: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            files.append(entry)
        elif isinstance(entry, dict):
            if isinstance(entry.get("part"), str) and entry["part"].endswith((".qmd", ".md")):
                files.append(entry["part"])
            files.extend(_flatten(entry.get("chapters") or []))
    return files


def read_book(project_dir: Path) -> Book:
    """Parse ``_quarto.yml`` of a book or single-document project; RenderError if it is
    missing, not YAML, another kind of project, or names chapter files that do not exist."""
    config_path = project_dir / "_quarto.yml"
    if not config_path.exists():
        raise RenderError("inbyggd", "läsa _quarto.yml", f"filen {config_path} finns inte")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as bad:
        raise RenderError("inbyggd", "läsa _quarto.yml", f"{config_path} är inte giltig YAML: {bad}") from bad
    if (config.get("project") or {}).get("type", "default") not in ("book", "default"):
        raise RenderError(
            "inbyggd",
            "läsa _quarto.yml",
            f"{config_path} beskriver varken en bok (project: type: book) eller ett dokument",
        )
    book = Book(project_dir, config)
    missing = [str(p.relative_to(project_dir)) for p in book.chapters if not p.exists()]
    if not book.chapters:
        raise RenderError("inbyggd", "läsa _quarto.yml", "book: chapters listar inga kapitel")
    if missing:
        raise RenderError("inbyggd", "läsa kapitlen", f"kapitelfiler saknas i {project_dir}: {', '.join(missing)}")
    return book


def output_paths(book: Book, out_dir: Path, name: str) -> tuple[Path, Path]:
    """(HTML, PDF) that ``render_book`` writes: ``html/index.html`` for a book,
    ``<name>.html`` for a single document; always ``<name>.pdf``."""
    html = out_dir / HTML_DIR / "index.html" if book.is_book else out_dir / f"{name}.html"
    return html, out_dir / f"{name}.pdf"


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _chapter_markdown(path: Path) -> str:
    """A chapter's body; a front-matter ``title`` becomes its level-1 heading (as Quarto does)."""
    text = path.read_text(encoding="utf-8")
    front: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            front = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as bad:
            raise RenderError("inbyggd", "läsa kapitlen", f"{path.name}: YAML-huvudet är ogiltigt: {bad}") from bad
        text = text[match.end() :]
    body = text.strip("\n")
    title = front.get("title") if isinstance(front, dict) else None
    if title and not re.match(r"\A#\s", body):
        body = f"# {title}\n\n{body}"
    return body + "\n"


# What Quarto's book format emits before the first appendix (its orange-book filter):
# the Typst partials define `appendices`; the heading becomes the divider page. In HTML
# the same heading opens the appendices, as the "Bilagor" group in Quarto's sidebar does.
_APPENDICES_START = (
    "```{=typst}\n"
    f'#show: appendices.with("{APPENDICES_TITLE}", hide-parent: true)\n'
    f"#heading(level: 1, numbering: none)[{APPENDICES_TITLE}]\n"
    "```\n\n"
    '::: {.content-visible when-format="html"}\n'
    f"# {APPENDICES_TITLE} {{#bilagor .unnumbered}}\n"
    ":::\n"
)


def _combined_markdown(book: Book) -> str:
    parts = [_chapter_markdown(p) for p in book.main]
    if book.appendices:
        parts.append(_APPENDICES_START)
        parts += [_chapter_markdown(p) for p in book.appendices]
    return "\n\n".join(parts)


def _metadata(book: Book, renderer: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": book.title, "lang": book.lang, RENDERER_META: renderer}
    if book.subtitle:
        meta["subtitle"] = book.subtitle
    if book.authors:
        meta["author"] = book.authors
    if book.date and book.date not in ("today", "last-modified", "now"):
        meta["date"] = book.date
    meta["toc-title"] = str(book.html.get("toc-title") or book.typst.get("toc-title") or "Innehåll")
    return meta


def file_size(path: Path) -> str:
    """A file's size the Swedish way, as a download link states it: ``850 kB``, ``1,4 MB``."""
    size = Path(path).stat().st_size
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} kB"
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def pdf_link_metadata(book: Book, pdf: Path | None = None) -> dict[str, str]:
    """Metadata the filter turns into the HTML's link to the PDF (and the prefix of
    links to files beside the report, class ``kf-beside-report``). The HTML book lives in
    ``html/`` beside the PDF: its pages link to ``../rapport.pdf``, so the link works
    wherever the report folder is copied to; a single document sits beside its PDF."""
    beside = "../" if book.is_book else ""
    meta = {PDF_META: f"{beside}{pdf.name if pdf else ''}", BESIDE_META: beside}
    if pdf is not None and pdf.is_file():
        meta[PDF_SIZE_META] = file_size(pdf)
    return meta


# --------------------------------------------------------------------------- backends


def _render_builtin(project_dir: Path, out_dir: Path, name: str) -> list[Path]:
    """The PDF first (pandoc → Typst → typst), then the HTML, which links to the PDF
    with its size."""
    backend = "inbyggd (pandoc + typst)"
    book = read_book(project_dir)
    pandoc = pandoc_path()
    if not pandoc.exists():
        raise RenderError(backend, "pandoc → HTML", f"programmet pandoc finns inte ({pandoc})")
    html, pdf = output_paths(book, out_dir, name)
    with _scratch_copy(project_dir) as work:
        book = read_book(work)
        renderer = renderer_label("builtin", pandoc)
        log.info("rapporten sätts med %s", renderer)
        meta = _metadata(book, renderer)
        common = _pandoc_common(book, meta)
        typ = work / "_rapport.typ"
        _run(
            [pandoc, _PDF_SOURCE, *common, *_typst_args(book, backend), "--output", typ.name],
            work,
            backend,
            "pandoc → Typst",
        )
        pdf.parent.mkdir(parents=True, exist_ok=True)
        _typst_pdf(typ, pdf, work, book.epoch(), backend, book.pdf_standards)
        _write_metadata(work, meta | pdf_link_metadata(book, pdf))
        _reset_html_output(book, html)
        css = [a for c in book.css for a in ("--css", c.relative_to(work))]
        toc_depth = f"--toc-depth={int(book.html.get('toc-depth', 2))}"
        _run(
            [
                pandoc,
                _SOURCE,
                *common,
                "--to=html5",
                "--standalone",
                "--embed-resources",
                toc_depth,
                *css,
                "--output",
                html,
            ],
            work,
            backend,
            "pandoc → HTML",
        )
    return [html, pdf]


def _typst_args(book: Book, backend: str) -> list[Any]:
    """pandoc's Typst output: the house template, the book's TOC depth and paper size."""
    template = book.project_dir / "assets" / "kvinnofrid.typst"
    if not template.exists():
        where = template.relative_to(book.project_dir)
        raise RenderError(backend, "pandoc → Typst", f"Typst-mallen {where} finns inte")
    return [
        "--to=typst",
        "--template",
        template.relative_to(book.project_dir),
        f"--toc-depth={int(book.typst.get('toc-depth', 2))}",
        "--variable",
        f"papersize={book.typst.get('papersize', 'a4')}",
    ]


def _write_metadata(work: Path, meta: Mapping[str, Any]) -> None:
    (work / "_rapport-metadata.yaml").write_text(
        yaml.safe_dump(dict(meta), allow_unicode=True, sort_keys=True), encoding="utf-8"
    )


_SOURCE, _PDF_SOURCE = "_rapport.md", "_rapport-pdf.md"


def _pandoc_common(book: Book, meta: Mapping[str, Any]) -> list[Any]:
    """The pandoc arguments both formats share, after pandoc and the source; writes the
    combined source (and the PDF's, without the HTML-only parts) and the metadata."""
    work = book.project_dir
    markdown = _combined_markdown(book)
    (work / _SOURCE).write_text(markdown, encoding="utf-8")
    (work / _PDF_SOURCE).write_text(without_html_only(markdown), encoding="utf-8")
    _write_metadata(work, meta)
    filters = [a for f in book.filters if f.exists() for a in ("--lua-filter", f.relative_to(work))]
    return [
        "--from=markdown",
        "--metadata-file",
        "_rapport-metadata.yaml",
        "--resource-path",
        ".",
        "--toc",
        "--wrap=none",
        *filters,
    ]


_HTML_ONLY = re.compile(r'^:{3,}\s*\{\.content-visible when-format="html"\}\s*$')
_DIV_OPEN = re.compile(r"^:{3,}\s*\S")
_DIV_CLOSE = re.compile(r"^:{3,}\s*$")
_CODE_FENCE = re.compile(r"^(`{3,}|~{3,})")


def without_html_only(markdown: str) -> str:
    """The Markdown without its HTML-only divs (``::: {.content-visible when-format="html"}``
    and everything to its closing fence): the PDF's pandoc run. The filter drops them
    there anyway, but pandoc's reader spends half its time on the tables they hold (a
    comparison report's source is two thirds HTML-only). Divs nest; inside a code block
    a ``:::`` line is text."""
    out: list[str] = []
    skipping, fence = 0, ""  # nesting depth inside an HTML-only div; the open code fence
    for line in markdown.splitlines(keepends=True):
        text = line.strip()
        if fence:
            if text.startswith(fence) and not text.strip(fence[0]):
                fence = ""
        elif code := _CODE_FENCE.match(text):
            fence = code.group(1)
        elif skipping and _DIV_CLOSE.match(text):
            skipping -= 1
            continue
        elif skipping and _DIV_OPEN.match(text):
            skipping += 1
        elif _HTML_ONLY.match(text):
            skipping = 1
            continue
        if not skipping:
            out.append(line)
    return "".join(out)


@functools.cache
def _typst_fonts() -> Any:
    """The fonts Typst may use (the house fonts and the system's), searched once per
    process: a search costs about 30 ms, and a batch renders dozens of reports."""
    import typst

    return typst.Fonts(font_paths=[str(figure_style.font_dir())])


def _typst_pdf(
    typ: Path, pdf: Path, root: Path, epoch: int | None, backend: str, standards: Sequence[str] = ()
) -> None:
    """The PDF, tagged (Typst tags by default) and in the standards ``format.typst.pdf-standard``
    names (``ua-1``: Typst refuses to write a PDF that breaks a rule it can check)."""
    try:
        import typst
    except ImportError as missing:
        raise RenderError(backend, "typst → PDF", "paketet typst saknas; installera projektets beroenden") from missing
    try:
        typst.compile(
            str(typ),
            output=str(pdf),
            root=str(root),
            font_paths=_typst_fonts(),
            timestamp=epoch,
            pdf_standards=list(standards),
        )
    except Exception as failed:  # typst raises its own error types with the diagnostics
        raise RenderError(backend, "typst → PDF", f"typst kunde inte sätta {typ.name}", str(failed)) from failed


@contextmanager
def _scratch_copy(project_dir: Path) -> Iterator[Path]:
    """A temporary copy of the project to render in (without earlier outputs): the
    project stays as the text stage wrote it, and no cache of an earlier run is used."""
    with tempfile.TemporaryDirectory(prefix="kvinnofrid-render-") as tmp:
        work = Path(tmp) / "projekt"
        shutil.copytree(project_dir, work, ignore=shutil.ignore_patterns(*_NOT_COPIED))
        yield work


def _reset_html_output(book: Book, html: Path) -> None:
    """An empty html/ for a book (no chapter pages left from the other backend)."""
    if book.is_book and html.parent.exists():
        shutil.rmtree(html.parent)
    html.parent.mkdir(parents=True, exist_ok=True)


def _appendices_as_part(work: Path) -> None:
    """For Quarto's HTML: the book's appendices as a part "Bilagor" of book.chapters.

    Quarto's HTML book prefixes every appendix title with its own letter ("Bilaga A —
    Bilaga 1. Deltagande …"); the report's appendices number themselves, so the HTML
    gets them as a part (the same "Bilagor" group in the sidebar, titles as written).
    The PDF keeps Quarto's real appendices (``#show: appendices.with(...)``)."""
    path = work / "_quarto.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    book = config.get("book") or {}
    if config.get("project", {}).get("type") == "book" and book.get("appendices"):
        book["chapters"] = [
            *(book.get("chapters") or []),
            {"part": APPENDICES_TITLE, "chapters": book.pop("appendices")},
        ]
        path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _quarto_run(
    quarto: str,
    to: str,
    work: Path,
    renderer: str,
    env: Mapping[str, str],
    backend: str,
    meta: Mapping[str, str] | None = None,
) -> None:
    values = {RENDERER_META: renderer, **(meta or {})}
    _run(
        [quarto, "render", ".", "--to", to, *(a for k, v in values.items() for a in ("-M", f"{k}:{v}"))],
        work,
        backend,
        f"quarto render --to {to}",
        env,
    )


def _render_quarto(project_dir: Path, out_dir: Path, quarto: str, name: str) -> list[Path]:
    """The PDF first, then the HTML (into html/ or <name>.html), which links to the PDF
    with its size: one ``quarto render --to`` per format, since the HTML book reads its
    appendices as a part (see above)."""
    backend = f"quarto ({quarto})"
    if not (project_dir / "_quarto.yml").exists():
        raise RenderError(backend, "quarto render", f"{project_dir / '_quarto.yml'} finns inte")
    book = read_book(project_dir)
    html, pdf = output_paths(book, out_dir, name)
    renderer = renderer_label("quarto", quarto)
    log.info("rapporten sätts med %s (%s)", renderer, quarto)
    epoch = book.epoch()
    env = _quarto_env(epoch)
    stem = book.output_file or "index"
    with _scratch_copy(project_dir) as work:
        _quarto_run(quarto, "typst", work, renderer, env, backend)
        made = read_book(work).output_dir
        pdfs = sorted(made.glob("*.pdf"))
        chosen = [p for p in pdfs if p.stem == stem] or pdfs
        if not chosen:
            raise RenderError(backend, "hämta PDF", f"quarto render gav ingen PDF i {made.name}")
        pdf.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chosen[0], pdf)
    with _scratch_copy(project_dir) as work:
        _appendices_as_part(work)
        _quarto_run(quarto, "html", work, renderer, env, backend, pdf_link_metadata(book, pdf))
        site = read_book(work).output_dir
        page = site / ("index.html" if book.is_book else f"{stem}.html")
        if not page.exists():
            raise RenderError(backend, "hämta HTML", f"quarto render gav ingen {page.name}")
        _reset_html_output(book, html)
        if book.is_book:
            shutil.copytree(site, html.parent, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pdf", "*.typ"))
        else:
            shutil.copyfile(page, html)
    return [html, pdf]


def _quarto_env(epoch: int | None) -> dict[str, str]:
    """Quarto's environment: Typst's creation date when the document sets none, and the
    figures' font beside the fonts Typst finds itself (Typst's ``TYPST_FONT_PATHS``)."""
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    fonts = [str(figure_style.font_dir()), *filter(None, env.get("TYPST_FONT_PATHS", "").split(os.pathsep))]
    env["TYPST_FONT_PATHS"] = os.pathsep.join(fonts)
    return env


def _publish_record(project_dir: Path, pdf: Path, renderer: str) -> Path | None:
    """``provenance.json`` of the project (the text stage's record), completed with the
    backend and the PDF's checksum, beside the PDF; None when the project has none."""
    record_path = project_dir / provenance.RECORD_NAME
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except ValueError as bad:
        raise RenderError("kvinnofrid", "läsa provenance.json", f"{record_path} är inte giltig JSON: {bad}") from bad
    out = pdf.parent / provenance.RECORD_NAME
    return provenance.write_record(provenance.completed_record(record, renderer, {pdf.name: pdf}), out)


def render_book(project_dir: Path, out_dir: Path, backend: str | None = None, name: str = "rapport") -> list[Path]:
    """Render the project in ``project_dir`` into ``out_dir`` (see the module docstring
    for the layout; ``name``: ``rapport`` for the national report, a unit's slug).

    Returns [HTML page, PDF]. Raises ``RenderError`` (a UserFacingError) naming the
    backend and the step that failed, with the tail of the tool's own messages.
    """
    project_dir = Path(project_dir).resolve()
    out_dir = Path(out_dir).resolve()
    chosen = choose_backend(backend)
    if chosen == "quarto":
        quarto = quarto_path()
        if not quarto:
            raise RenderError("quarto", "hitta quarto", "quarto finns varken i QUARTO_PATH eller på PATH")
        written = _render_quarto(project_dir, out_dir, quarto, name)
        renderer = renderer_label("quarto", quarto)
    else:
        written = _render_builtin(project_dir, out_dir, name)
        renderer = renderer_label("builtin")
    _publish_record(project_dir, written[1], renderer)
    return written


# --------------------------------------------------------------------------- many documents


def render_documents(jobs: Sequence[tuple[Path, Path, str]], backend: str | None = None) -> list[list[Path]]:
    """Render many single-document projects (``jobs``: project folder, output folder,
    name, as for ``render_book``); returns [HTML, PDF] per job.

    With Quarto all documents of one date go into one multi-document project and are
    rendered by one ``quarto render --to html`` and one ``--to typst``: each Quarto
    start costs about 6 CPU seconds, a unit report about 1–2 more per format
    (measured on the demo), so one call for many reports is several times cheaper
    than one per report. The built-in backend renders one after the other (it starts
    no such runtime)."""
    if choose_backend(backend) != "quarto" or len(jobs) < 2:
        return [render_book(p, o, backend=backend, name=n) for p, o, n in jobs]
    quarto = quarto_path()
    if not quarto:
        raise RenderError("quarto", "hitta quarto", "quarto finns varken i QUARTO_PATH eller på PATH")
    resolved = [(Path(p).resolve(), Path(o).resolve(), n) for p, o, n in jobs]
    by_epoch: dict[int | None, list[int]] = {}
    for k, (project, _, _) in enumerate(resolved):
        book = read_book(project)
        if book.is_book:
            raise RenderError(f"quarto ({quarto})", "quarto render", f"{project} är en bok, inte ett dokument")
        by_epoch.setdefault(book.epoch(), []).append(k)
    out: dict[int, list[Path]] = {}
    for epoch, members in by_epoch.items():
        out |= _render_quarto_many([resolved[k] for k in members], members, quarto, epoch)
    return [out[k] for k in range(len(resolved))]


def _render_quarto_many(
    jobs: Sequence[tuple[Path, Path, str]], keys: Sequence[int], quarto: str, epoch: int | None
) -> dict[int, list[Path]]:
    """One scratch project, a sub-folder per document (its own _quarto.yml as the
    folder's _metadata.yml, so titles, assets and filters stay the document's own)."""
    backend = f"quarto ({quarto})"
    renderer = renderer_label("quarto", quarto)
    log.info("%d rapporter sätts med %s (%s) i ett projekt", len(jobs), renderer, quarto)
    env = _quarto_env(epoch)
    with tempfile.TemporaryDirectory(prefix="kvinnofrid-render-") as tmp:
        work = Path(tmp) / "projekt"
        work.mkdir()
        (work / "_quarto.yml").write_text("project:\n  type: default\n  output-dir: _output\n", encoding="utf-8")
        stems = []
        for k, (project, _, _) in enumerate(jobs):
            folder = work / f"d{k:04d}"
            shutil.copytree(project, folder, ignore=shutil.ignore_patterns(*_NOT_COPIED))
            config = yaml.safe_load((folder / "_quarto.yml").read_text(encoding="utf-8")) or {}
            config.pop("project", None)
            (folder / "_quarto.yml").unlink()
            (folder / "_metadata.yml").write_text(
                yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
            stems.append(str(config.get("output-file") or "index"))
        written: dict[int, list[Path]] = {}
        # the PDFs first: each HTML then links to its PDF with its size (folder metadata)
        for to, suffix in (("typst", "pdf"), ("html", "html")):
            _quarto_run(quarto, to, work, renderer, env, backend)
            for k, ((_, out_dir, name), stem) in enumerate(zip(jobs, stems, strict=True)):
                made = work / "_output" / f"d{k:04d}" / f"{stem}.{suffix}"
                if not made.exists():
                    raise RenderError(backend, f"hämta {suffix.upper()}", f"quarto render gav ingen {made.name}")
                out_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(made, out_dir / f"{name}.{suffix}")
                written.setdefault(keys[k], []).append(out_dir / f"{name}.{suffix}")
                if suffix == "pdf":
                    _add_folder_metadata(
                        work / f"d{k:04d}", pdf_link_metadata(read_book(jobs[k][0]), out_dir / f"{name}.pdf")
                    )
    return {k: [html, pdf] for k, (pdf, html) in written.items()}


def _add_folder_metadata(folder: Path, meta: Mapping[str, str]) -> None:
    path = folder / "_metadata.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    path.write_text(yaml.safe_dump({**config, **meta}, allow_unicode=True, sort_keys=False), encoding="utf-8")
