"""The authors' parts of the report: the places where the report's authors write.

The parts are declared in ``report/forfattare/delar.yaml`` (id, where it stands, its
heading); each is the Markdown file ``report/forfattare/<id>.md``. A file starts with
the author's instruction as an HTML comment; comments are removed before the text
goes into the book (a comment would otherwise reach the HTML source), so a part whose
file holds nothing else is *not written* and is left out with its heading. A part
marked ``platshallare`` holds a printed placeholder (a ``.platshallare`` block) until
the authors replace it: it is printed, and counts as not written.

The templates see ``author(id)`` (the part's heading and text, or nothing),
``authors_after(registry_id)`` (chapter 2: the parts that stand after a section's or a
diagram's text), ``authored(*ids)`` (is any of them written) and ``author_parts`` (every
part with ``written``, for Bilaga 3).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import yaml

from kvinnofrid.errors import UserFacingError

__all__ = ["PARTS_FILE", "AuthorPart", "AuthorsError", "block", "check_parts", "load_parts", "written_text"]

AUTHORS_DIR = "forfattare"
PARTS_FILE = "delar.yaml"
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
PLACEHOLDER = ".platshallare"


class AuthorsError(UserFacingError):
    """The authors' folder and its declaration disagree; the message names the file."""


@dataclass(frozen=True)
class AuthorPart:
    id: str
    place: str
    heading: str | None = None
    level: int = 2
    after: str | None = None
    box: bool = False
    placeholder: bool = False


def load_parts(report_src: Path) -> list[AuthorPart]:
    """The declared parts, in the order of ``delar.yaml``."""
    path = Path(report_src) / AUTHORS_DIR / PARTS_FILE
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    try:
        return [
            AuthorPart(
                id=str(p["id"]),
                place=str(p["plats"]),
                heading=p.get("rubrik"),
                level=int(p.get("niva", 2)),
                after=p.get("efter"),
                box=bool(p.get("ruta", False)),
                placeholder=bool(p.get("platshallare", False)),
            )
            for p in raw
        ]
    except (KeyError, TypeError, ValueError) as bad:
        raise AuthorsError(f"{path}: varje del behöver id och plats ({bad})") from bad


def written_text(report_src: Path, part: AuthorPart) -> str:
    """The part's text without the author's instruction (HTML comments), stripped; an
    empty string when nothing else is written."""
    path = Path(report_src) / AUTHORS_DIR / f"{part.id}.md"
    return COMMENT.sub("", path.read_text(encoding="utf-8")).strip()


def is_written(text: str, part: AuthorPart) -> bool:
    """The authors have written the part: text beyond the instruction, and no placeholder left."""
    return bool(text) and not (part.placeholder and PLACEHOLDER in text)


HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)


def _check_headings(part: AuthorPart, text: str) -> None:
    """Headings in a part with a heading (or a box, which stands in a level-2 section)
    start one level below it: a skipped level breaks the PDF's outline (PDF/UA)."""
    if not (part.heading or part.box):
        return
    levels = [len(h) for h in HEADING.findall(text)]
    allowed = part.level + 1
    if levels and (min(levels) <= part.level or levels[0] > allowed):
        raise AuthorsError(
            f"Författartexten {AUTHORS_DIR}/{part.id}.md: rubrikerna i texten ska börja på nivå {allowed} "
            f"({'#' * allowed}), eftersom delen står under en rubrik på nivå {part.level}."
        )


def block(part: AuthorPart, text: str) -> str:
    """The Markdown of a part: its heading (with the anchor ``#sec-<id>``) or its box (``#ruta-<id>``: a box is no section),
    then its text; nothing when the text is empty."""
    if not text:
        return ""
    _check_headings(part, text)
    if part.box:
        title = f"**{part.heading}**\n\n" if part.heading else ""
        return f"::: {{.faktaruta #ruta-{part.id}}}\n{title}{text}\n:::\n"
    if part.heading:
        return f"{'#' * part.level} {part.heading} {{#sec-{part.id}}}\n\n{text}\n"
    return text + "\n"


def check_parts(report_src: Path, parts: list[AuthorPart], registry_ids: Collection[str]) -> None:
    """Every Markdown file of the folder (but README.md) is a declared part, every part
    has its file, and a chapter 2 part stands after a registry id."""
    folder = Path(report_src) / AUTHORS_DIR
    declared = {p.id for p in parts}
    if len(declared) != len(parts):
        raise AuthorsError(f"{folder / PARTS_FILE}: ett id förekommer två gånger")
    for path in sorted(folder.glob("*.md")):
        if path.name != "README.md" and path.stem not in declared:
            raise AuthorsError(
                f"Författartexten {path} finns inte i {folder / PARTS_FILE}: lägg till den där (id och plats) "
                "eller ta bort filen, annars kommer den aldrig med i rapporten."
            )
    for p in parts:
        if not (folder / f"{p.id}.md").exists():
            raise AuthorsError(f"{folder / PARTS_FILE} nämner {p.id!r}, men filen {folder / (p.id + '.md')} saknas.")
        if p.after is not None and p.after not in registry_ids:
            raise AuthorsError(
                f"{folder / PARTS_FILE}: {p.id!r} ska stå efter {p.after!r}, som inte är ett avsnitt eller "
                "diagram i diagramregistret (spec/diagrams.yaml)."
            )
