"""Names the contracts fix: how a text becomes a slug, and the demo data's marker file.

One slug rule for everything the pipeline names after a text: an export's file id
(``stages.rawfiles``), a unit's, län's or size class's report and workbook
(``results/kommuner/<slug>.*``), a key of ``facts.json`` and an anchor in the report.
Slugs name published files and keys, so the rule is part of the output contract: a
change renames files (a major version, CHANGELOG.md).
"""

from __future__ import annotations

import re
import unicodedata

# The file that marks a raw-data folder as the simulated demo data (written by
# `kvinnofrid demo`): it allows the fixed demo pseudonym key and marks the reports as
# demo data (docs/data-contract.md).
DEMO_MARKER = "demodata.yaml"


def slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII words joined by ``sep``.

    Letters lose their accents (å, ä → a, ö → o, é → e), anything else between
    letters and digits becomes one ``sep``, and an open-ended range keeps its meaning:
    ``'75–'`` → ``'75-plus'``. ``'Malmö – Söder'`` → ``'malmo-soder'``,
    ``'SUreg export Årsta.xlsx'`` → ``'sureg-export-arsta-xlsx'``. Empty when the text
    has no letter or digit: the caller names what such a thing is called.
    """
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"(?<=\d)\s*[–-]$", " plus", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", sep, text).strip(sep)
