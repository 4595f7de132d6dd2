"""Numbers, dates and clauses in running Swedish text, following Språkrådet's
*Svenska skrivregler* (tables and figures keep ``numfmt``'s forms: ``94 %``, ``2023-10-10``):

* percent in prose is written ``94 procent``; a share that rounds to 0 or 100 without
  being exactly that is ``under 1 procent`` / ``över 99 procent``;
* an interval is ``93–95 procent``; one with a negative end ``−2 till 28``;
* differences of shares are in ``procentenheter`` (``1 procentenhet``);
* counts up to twelve are words (``sex ärenden``, ``ett ärende``, ``en klient``),
  larger ones digits with a no-break space (``3 070``);
* dates are ``10 oktober 2023``;
* a sentence starts with a capital letter and never with a digit (``sentence`` refuses).

``subordinate`` turns a main clause of the codebook ("klienten återkom inte") into the
word order of a subordinate clause ("… där klienten inte återkom").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from kvinnofrid.reporting.numfmt import MINUS, NBSP, fmt_dec, fmt_int, fmt_pct

__all__ = [
    "MONTHS",
    "antal",
    "arenden",
    "capitalize",
    "datum",
    "decimal",
    "join",
    "points",
    "procent",
    "procent_interval",
    "sentence",
    "shown_percent",
    "subordinate",
]

MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
_WORDS = ("noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva", "tolv")
_SUBORDINATORS = {"att", "om", "där", "när", "som", "eftersom", "medan", "än"}


def shown_percent(share: float) -> int:
    """The whole percent a reader sees in a figure or table (``fmt_pct``: half-up)."""
    return int(fmt_pct(share).split(NBSP)[0].replace(MINUS, "-"))


def procent(share: float) -> str:
    """``0.9376`` -> ``94 procent``; ``0.003`` -> ``under 1 procent``; ``0.998`` ->
    ``över 99 procent``; exactly 0 and 1 are ``0 procent`` and ``100 procent``."""
    p = shown_percent(share)
    if p == 0 and share > 0:
        return f"under 1{NBSP}procent"
    if p == 100 and share < 1:
        return f"över 99{NBSP}procent"
    return f"{p}{NBSP}procent"


def procent_interval(low: float, high: float) -> str:
    """A share interval: ``93–95 procent`` (whole percents as the tables show them)."""
    return f"{shown_percent(low)}–{shown_percent(high)}{NBSP}procent"


def points(k: int) -> str:
    """A difference of shown percents: ``1 procentenhet``, ``13 procentenheter``."""
    return f"{fmt_int(k)}{NBSP}procentenhet" + ("" if abs(k) == 1 else "er")


def antal(n: Any, noun: str = "", gender: str = "neutrum") -> str:
    """A count in prose: words up to twelve (``ett`` for a neuter noun, ``en`` for a
    common-gender one), digits above; ``noun`` (already in the right number) after it."""
    if n is None:
        raise ValueError("antal saknas")
    k = int(n)
    word = fmt_int(k) if not 0 <= k <= 12 else ("en" if k == 1 and gender == "utrum" else _WORDS[k])
    return f"{word} {noun}".strip() if noun else word


def arenden(n: Any) -> str:
    """``ett ärende``, ``sex ärenden``, ``3 070 ärenden``."""
    return antal(n, "ärende" if int(n) == 1 else "ärenden")


def decimal(x: float, digits: int = 1) -> str:
    """A mean in prose: ``2,4`` (``digits`` 0: a whole number)."""
    return fmt_int(x) if digits == 0 else fmt_dec(x, digits)


def datum(value: Any) -> str:
    """A date in prose: ``2023-10-10`` -> ``10 oktober 2023``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def join(parts: Sequence[str], conjunction: str = "och") -> str:
    """``a, b och c``."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {conjunction} " + parts[-1]


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """One sentence: capital first letter, a full stop; ValueError if it would start
    with a digit (Språkrådet: write the number in words or rephrase)."""
    text = text.strip()
    if re.match(r"[\d−-]", text):
        raise ValueError(f"en mening får inte börja med en siffra: {text[:40]!r}")
    text = capitalize(text)
    return text if text.endswith((".", "?", "!", ":")) else text + "."


def subordinate(clause: str) -> str:
    """The clause in subordinate word order: the negation moves before the finite verb
    ("klienten återkom inte" -> "klienten inte återkom"). A clause whose negation
    already stands in a subordinate clause of its own ("… för att klienten inte
    återkom") is left as it is."""
    words = clause.split(" ")
    if "inte" not in words:
        return clause
    i = words.index("inte")
    if i < 2 or any(w in _SUBORDINATORS for w in words[:i]):
        return clause
    words[i - 1], words[i] = words[i], words[i - 1]
    return " ".join(words)
