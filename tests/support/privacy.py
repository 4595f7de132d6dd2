"""The personal-data scan of outputs: the clear-text identifiers and comments the demo
exports hold (``needles_of``), and ``scan_for_personal_data`` over every file of a run."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import unquote

import polars as pl

from kvinnofrid.demo.export_writer import COMMENT_TEXTS, LOCAL_VARIABLE
from kvinnofrid.stages.redaction import PERSONAL_NUMBER


def needles_of(snapshots) -> set[str]:
    """Clear-text personal data that the raw exports hold: client and handler ids,
    the client's own suggestions, and the comment texts (each line of them)."""
    found: set[str] = set()
    for snapshot in snapshots:
        found |= set(snapshot.cases["client"]) | set(snapshot.cases["handler"])
        found |= set(snapshot.cases["survey_suggestions"].drop_nulls())
    for text in COMMENT_TEXTS:
        found |= {part.strip() for part in text.replace("\r", "\n").replace("\t", "\n").split("\n")}
    # Identifiers are at least 5 characters (K0001, HDL03); shorter fragments of the
    # comment texts would match ordinary words. A fragment that is also a column
    # header (the local variable "Lokal: Tolk behövs") is not personal data.
    return {n for n in found if len(n) >= 5 and not n.isdigit() and n not in LOCAL_VARIABLE}


def texts_of(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        texts = []
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                texts.extend(frame[name].drop_nulls().to_list())
            elif dtype == pl.List(pl.String):
                texts.extend(v for row in frame[name].drop_nulls().to_list() for v in row)
        return texts + list(frame.columns)
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return [page.extract_text() or "" for page in PdfReader(path).pages]
    if path.suffix == ".xlsx":  # a zip of XML parts: their text, not the compressed bytes
        import zipfile

        with zipfile.ZipFile(path) as book:
            return [book.read(name).decode("utf-8") for name in book.namelist()]
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".html":
        return _without_data_uris(text)
    return [text]


_DATA_URI = re.compile(r"data:([\w/+.-]+)((?:;[\w-]+=[\w-]+)*)(;base64)?,([^\"'\s)]*)")


def _without_data_uris(html: str) -> list[str]:
    """The self-contained HTML embeds pictures and CSV files as data URIs. Random
    base64 can spell an identifier by chance (`K0115` did), so the payloads are
    cut out of the page; text payloads are decoded and scanned on their own,
    binary ones (PNG) are skipped like the PNG files themselves."""
    texts = []
    for match in _DATA_URI.finditer(html):
        mime, _, is_base64, payload = match.groups()
        if mime.startswith("text/") or mime.endswith("+xml"):
            raw = base64.b64decode(payload) if is_base64 else unquote(payload).encode()
            texts.append(raw.decode("utf-8", errors="replace"))
    return [_DATA_URI.sub("data:", html), *texts]


# Hex digests and the ids matplotlib gives SVG elements (``p7901071033``) hold digit
# runs that can look like a personal identity number; they are left out of that scan.
_HASH = re.compile(r"[0-9a-f]{32,}|\b[A-Za-z]+[0-9]{8,}\b")
_PERSONAL_NUMBER = re.compile(PERSONAL_NUMBER)


def scan_for_personal_data(folders: list[Path], needles: set[str]) -> int:
    """Assert that no file under ``folders`` (PNG pictures aside) holds any needle or
    anything shaped like a personal identity number (generated ids aside); returns the number of files scanned."""
    scanned = 0
    patterns = sorted(needles)
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix == ".png":
                continue
            scanned += 1
            texts = texts_of(path)
            # every needle in every text at once (Aho-Corasick: a parquet file is
            # thousands of texts, one per cell); the needles are named only on a hit
            if patterns and pl.Series(texts, dtype=pl.String).str.contains_any(patterns).any():
                leaked = [n for n in patterns if any(n in text for text in texts)]
                raise AssertionError(f"{path} contains {leaked[:3]}")
            for text in texts:
                shaped = _PERSONAL_NUMBER.search(_HASH.sub(" ", text))
                assert shaped is None, f"{path} holds something shaped like a personal identity number"
    return scanned
