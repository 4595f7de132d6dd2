"""The report folder with the authors' parts written in (``filled_copy``)."""

from __future__ import annotations

import shutil

from support.report_inputs import REPORT_SRC

FILLED = {
    "lardomar-kommuner": "- Ledningen har avsatt tid för registreringen.\n- Någon äger rutinen för datakvalitet.",
    "valdets-grad-ruta": "Grovt våld innebär här att våldet har orsakat allvarlig skada (fyllt i test).",
    "klienternas-svar-fritext": "Klienterna lyfte oftast bemötandet och kontinuiteten (fyllt i test).",
    "sammanfattning-lardomar": "- Uppföljningen kräver tid och ledningens stöd (fyllt i test).",
}


def filled_copy(tmp_path, parts: dict[str, str]):
    """The report folder copied, with ``parts`` written under each file's instruction."""
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    for part_id, text in parts.items():
        path = src / "forfattare" / f"{part_id}.md"
        path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")
    return src
