"""Reading the report's sentences back: what a sentence quotes."""

from __future__ import annotations

import re


def quoted(sentence: str) -> list[str]:
    return re.findall(r"”([^”]+)”", sentence)
