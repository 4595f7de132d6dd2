"""The fonts a PDF uses, read with pypdf: the pages' and their forms' resources."""

from __future__ import annotations

from pathlib import Path

import pypdf


def pdf_fonts(pdf: Path | pypdf.PdfReader) -> set[str]:
    """Base font names, the subset prefix dropped (``ABCDEF+DejaVuSans`` → ``DejaVuSans``)."""
    reader = pdf if isinstance(pdf, pypdf.PdfReader) else pypdf.PdfReader(pdf)
    names: set[str] = set()

    def walk(resources) -> None:
        for font in (resources.get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
        for xobject in (resources.get("/XObject") or {}).values():
            inner = xobject.get_object().get("/Resources")
            if inner is not None:
                walk(inner.get_object())

    for page in reader.pages:
        walk(page.get("/Resources").get_object())
    return names
