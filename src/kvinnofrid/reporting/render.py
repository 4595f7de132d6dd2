"""Render the report's Quarto book project to ``rapport.html`` and ``rapport.pdf``.

``render_book(project_dir, out_dir)`` has two backends behind one function:

1. **quarto**: ``quarto`` from ``QUARTO_PATH`` or the PATH → ``quarto render`` on the
   project; the exit status is checked here (the Python ``quarto`` wrapper ignores it).
   A Quarto book's HTML is a small website: it is copied to ``out_dir/rapport-html/``
   and ``rapport.html`` opens it; the PDF is copied to ``rapport.pdf``.
2. **builtin** (no Quarto): reads ``_quarto.yml`` (book title, subtitle, author, date,
   chapters, appendices; format.html css/toc-depth; format.typst papersize/toc-depth),
   joins the chapter files into one Pandoc Markdown document, and runs the pandoc
   binary of the ``pypandoc-binary`` wheel to one self-contained HTML file
   (``--embed-resources``) and to Typst with ``assets/kvinnofrid.typst``; the ``typst``
   package makes the PDF. Both use ``assets/kvinnofrid.lua`` (HTML-only blocks,
   CSV downloads as data: URIs, alt texts).

``KVINNOFRID_RENDERER=quarto|builtin`` (or the ``backend`` argument) overrides the choice.

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

Paths inside the chapters are relative to the project directory. The built-in backend
writes its intermediate files there too (``_rapport.md``, ``_rapport.typ``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kvinnofrid.errors import UserFacingError

__all__ = [
    "RenderError",
    "render_book",
    "choose_backend",
    "quarto_path",
    "pandoc_path",
    "read_book",
    "Book",
]

HTML_SITE_DIR = "rapport-html"
STDERR_TAIL_LINES = 25


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


def _run(cmd: Sequence[str], cwd: Path, backend: str, step: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, encoding="utf-8", errors="replace"
        )
    except FileNotFoundError as missing:
        raise RenderError(backend, step, f"programmet {cmd[0]} finns inte") from missing
    except OSError as failed:
        raise RenderError(backend, step, f"programmet {cmd[0]} kunde inte startas ({failed.strerror})") from failed
    if done.returncode != 0:
        raise RenderError(
            backend, step, f"{Path(str(cmd[0])).name} avslutades med felkod {done.returncode}", done.stderr or done.stdout
        )
    return done


# --------------------------------------------------------------------------- the book project


class Book:
    """What the built-in backend reads from ``_quarto.yml``."""

    def __init__(self, project_dir: Path, config: dict[str, Any]) -> None:
        self.project_dir = project_dir
        self.config = config
        book = config.get("book") or {}
        self.title: str = str(book.get("title") or "Rapport")
        self.subtitle: str | None = book.get("subtitle")
        author = book.get("author")
        self.authors: list[str] = (
            [a if isinstance(a, str) else str(a.get("name", "")) for a in author]
            if isinstance(author, list)
            else ([str(author)] if author else [])
        )
        self.date: str | None = None if book.get("date") is None else str(book.get("date"))
        self.lang: str = str(config.get("lang") or "sv")
        self.chapters: list[Path] = [project_dir / p for p in _flatten(book.get("chapters") or [])]
        self.chapters += [project_dir / p for p in _flatten(book.get("appendices") or [])]
        formats = config.get("format") or {}
        self.html: dict[str, Any] = formats.get("html") or {}
        self.typst: dict[str, Any] = formats.get("typst") or {}
        filters = config.get("filters") or []
        self.filters: list[Path] = [project_dir / f for f in filters if isinstance(f, str)]

    @property
    def css(self) -> list[Path]:
        css = self.html.get("css") or []
        return [self.project_dir / c for c in ([css] if isinstance(css, str) else css)]


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
    """Parse ``_quarto.yml`` of a book project; RenderError if it is missing or not a book."""
    config_path = project_dir / "_quarto.yml"
    if not config_path.exists():
        raise RenderError("inbyggd", "läsa _quarto.yml", f"filen {config_path} finns inte")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as bad:
        raise RenderError("inbyggd", "läsa _quarto.yml", f"{config_path} är inte giltig YAML: {bad}") from bad
    if (config.get("project") or {}).get("type") != "book":
        raise RenderError("inbyggd", "läsa _quarto.yml", f"{config_path} beskriver inget bokprojekt (project: type: book)")
    book = Book(project_dir, config)
    missing = [str(p.relative_to(project_dir)) for p in book.chapters if not p.exists()]
    if not book.chapters:
        raise RenderError("inbyggd", "läsa _quarto.yml", "book: chapters listar inga kapitel")
    if missing:
        raise RenderError("inbyggd", "läsa kapitlen", f"kapitelfiler saknas i {project_dir}: {', '.join(missing)}")
    return book


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


def _combined_markdown(book: Book) -> str:
    return "\n\n".join(_chapter_markdown(p) for p in book.chapters)


def _metadata(book: Book) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": book.title, "lang": book.lang}
    if book.subtitle:
        meta["subtitle"] = book.subtitle
    if book.authors:
        meta["author"] = book.authors
    if book.date and book.date not in ("today", "last-modified", "now"):
        meta["date"] = book.date
    meta["toc-title"] = str(book.html.get("toc-title") or book.typst.get("toc-title") or "Innehåll")
    return meta


# --------------------------------------------------------------------------- backends


def _render_builtin(project_dir: Path, out_dir: Path, name: str = "rapport") -> list[Path]:
    backend = "inbyggd (pandoc + typst)"
    book = read_book(project_dir)
    pandoc = pandoc_path()
    if not pandoc.exists():
        raise RenderError(backend, "pandoc → HTML", f"programmet pandoc finns inte ({pandoc})")

    source = project_dir / "_rapport.md"
    meta_file = project_dir / "_rapport-metadata.yaml"
    source.write_text(_combined_markdown(book), encoding="utf-8")
    meta_file.write_text(yaml.safe_dump(_metadata(book), allow_unicode=True, sort_keys=True), encoding="utf-8")
    filters = [a for f in book.filters if f.exists() for a in ("--lua-filter", f)]
    common = [
        pandoc,
        source.name,
        "--from=markdown",
        "--metadata-file",
        meta_file.name,
        "--resource-path",
        ".",
        "--toc",
        "--wrap=none",
        *filters,
    ]

    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / f"{name}.html"
    css = [a for c in book.css for a in ("--css", c.relative_to(project_dir))]
    _run(
        [
            *common,
            "--to=html5",
            "--standalone",
            "--embed-resources",
            f"--toc-depth={int(book.html.get('toc-depth', 2))}",
            *css,
            "--output",
            html.resolve(),
        ],
        project_dir,
        backend,
        "pandoc → HTML",
    )

    typ = project_dir / "_rapport.typ"
    template = project_dir / "assets" / "kvinnofrid.typst"
    if not template.exists():
        raise RenderError(backend, "pandoc → Typst", f"Typst-mallen {template} finns inte")
    _run(
        [
            *common,
            "--to=typst",
            "--template",
            template.relative_to(project_dir),
            f"--toc-depth={int(book.typst.get('toc-depth', 2))}",
            "--variable",
            f"papersize={book.typst.get('papersize', 'a4')}",
            "--output",
            typ.name,
        ],
        project_dir,
        backend,
        "pandoc → Typst",
    )

    pdf = out_dir / f"{name}.pdf"
    try:
        import typst
    except ImportError as missing:
        raise RenderError(backend, "typst → PDF", "paketet typst saknas; installera projektets beroenden") from missing
    try:
        typst.compile(str(typ), output=str(pdf), root=str(project_dir))
    except Exception as failed:  # typst raises its own error types with the diagnostics
        raise RenderError(backend, "typst → PDF", f"typst kunde inte sätta {typ.name}", str(failed)) from failed
    return [html, pdf]


def _quarto_outputs(project_dir: Path) -> tuple[Path, str]:
    config = yaml.safe_load((project_dir / "_quarto.yml").read_text(encoding="utf-8")) or {}
    output_dir = project_dir / str((config.get("project") or {}).get("output-dir") or "_book")
    output_file = str((config.get("book") or {}).get("output-file") or "")
    return output_dir, output_file


def _render_quarto(project_dir: Path, out_dir: Path, quarto: str, name: str = "rapport") -> list[Path]:
    backend = f"quarto ({quarto})"
    if not (project_dir / "_quarto.yml").exists():
        raise RenderError(backend, "quarto render", f"{project_dir / '_quarto.yml'} finns inte")
    _run([quarto, "render", "."], project_dir, backend, "quarto render")
    output_dir, output_file = _quarto_outputs(project_dir)
    pdfs = sorted(output_dir.glob("*.pdf"))
    chosen = [p for p in pdfs if p.stem == output_file] or pdfs
    if not chosen:
        raise RenderError(backend, "hämta PDF", f"quarto render gav ingen PDF i {output_dir}")
    index = output_dir / "index.html"
    if not index.exists():
        raise RenderError(backend, "hämta HTML", f"quarto render gav ingen {index}")

    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / f"{name}.pdf"
    shutil.copyfile(chosen[0], pdf)
    site_name = HTML_SITE_DIR if name == "rapport" else f"{name}-html"
    site = out_dir / site_name
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(output_dir, site, ignore=shutil.ignore_patterns("*.pdf"))
    html = out_dir / f"{name}.html"
    html.write_text(
        "<!DOCTYPE html>\n<html lang=\"sv\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"refresh\" content=\"0; url={site_name}/index.html\">"
        "<title>Rapport</title></head>"
        f"<body><p><a href=\"{site_name}/index.html\">Öppna rapporten</a></p></body></html>\n",
        encoding="utf-8",
    )
    return [html, pdf]


def render_book(project_dir: Path, out_dir: Path, backend: str | None = None,
                name: str = "rapport") -> list[Path]:
    """Render the book in ``project_dir`` to ``out_dir/<name>.html`` and ``<name>.pdf``
    (the national report: ``rapport``; a unit's report: its slug).

    Returns the two paths. Raises ``RenderError`` (a UserFacingError) naming the
    backend and the step that failed, with the tail of the tool's own messages.
    """
    project_dir = Path(project_dir).resolve()
    out_dir = Path(out_dir).resolve()
    chosen = choose_backend(backend)
    if chosen == "quarto":
        quarto = quarto_path()
        if not quarto:
            raise RenderError("quarto", "hitta quarto", "quarto finns varken i QUARTO_PATH eller på PATH")
        return _render_quarto(project_dir, out_dir, quarto, name)
    return _render_builtin(project_dir, out_dir, name)
