"""What a rejected value may show: the value itself only when it cannot be personal.

Staff type personal data into fields that are not personal: a personal identity number
(personnummer, samordningsnummer) into Ålder, a client's name into Kön, a comment that
an unquoted delimiter shifted into a coded column. A quality page that echoed every
rejected value would publish them. So a rejected value is shown only when it is

* a number of at most 3 digits (``34``, ``150``, ``2,5``),
* a date-like token (``2022-13-45``, ``2022-03-05 00:00:00``, ``20220305``, ``5/3/2022``),
* a short code-like token: one character, or 1–3 digits with one letter or ``.``/``)``
  after them (``7.``, ``12b``), or an Excel error value (``#N/A``);

anything else is described by its kind: ``(ser ut som ett personnummer)``,
``(tal med 9 siffror)``, ``(text med 13 tecken)``. Letters-only text is never shown,
however short: a first name is letters only. The descriptions are in parentheses, which
no shown value can contain, so a reader can tell the two apart.

``looks_like_personal_number`` finds a Swedish personal identity or coordination number
anywhere in a text (``19850412-1234``, ``850412-1234``, ``198504121234``,
``8504121234``, ``850472+1234``): a date part (month 01–12, day 01–31, or 61–91 for a
coordination number) and four digits, with or without century and separator. No
checksum test: a mistyped number is just as personal.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import polars as pl

# Date part: [century] YY MM DD, DD + 60 for a samordningsnummer; then [-+ ] and 4 digits.
PERSONAL_NUMBER = (
    r"(?:^|[^0-9])(?:(?:19|20)[0-9]{2}|[0-9]{2})"
    r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])"
    r"[-+ ]?[0-9]{4}(?:$|[^0-9])"
)
_PERSONAL_NUMBER_RE = re.compile(PERSONAL_NUMBER)

SHORT_NUMBER = r"^[+-]?[0-9]{1,3}(?:[.,][0-9]{1,2})?$"
DATE_LIKE = (
    r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
    r"|(?:19|20)[0-9]{6}"
    r"|[0-9]{1,2}/[0-9]{1,2}/(?:[0-9]{2}|[0-9]{4})"
    r"|[0-9]{4}\.[0-9]{2}\.[0-9]{2})$"
)
# Excel's error values: never personal, shown as they are (ingest reports them as a rule).
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
CODE_LIKE = r"^(?:.|[0-9]{1,3}[A-Za-z.)]|" + "|".join(re.escape(e) for e in EXCEL_ERRORS) + r")$"
# More than three digits in a value that is not date-like: shown neither as number nor text.
_SHORT_TOTAL_DIGITS = 3


def looks_like_personal_number(text: str | None) -> bool:
    """True when ``text`` holds something shaped like a personnummer/samordningsnummer."""
    return bool(text) and _PERSONAL_NUMBER_RE.search(text) is not None


def personal_number_expr(expr: pl.Expr) -> pl.Expr:
    """Boolean expression: the string holds a personal identity or coordination number."""
    return expr.str.contains(PERSONAL_NUMBER).fill_null(False)


def shown_value_expr(expr: pl.Expr) -> pl.Expr:
    """The rejected value as a quality report may show it (see the module docstring)."""
    text = expr.cast(pl.String).str.strip_chars()
    digits = text.str.count_matches(r"[0-9]")
    safe = (
        (text.str.contains(SHORT_NUMBER) & (digits <= _SHORT_TOTAL_DIGITS))
        | text.str.contains(DATE_LIKE)
        | text.str.contains(CODE_LIKE)
    ) & ~personal_number_expr(text)
    described = (
        pl.when(personal_number_expr(text))
        .then(pl.lit("(ser ut som ett personnummer)"))
        .when(text.str.contains(r"^[0-9 ]+$"))
        .then(pl.lit("(tal med ") + digits.cast(pl.String) + pl.lit(" siffror)"))
        .otherwise(pl.lit("(text med ") + text.str.len_chars().cast(pl.String) + pl.lit(" tecken)"))
    )
    return (
        pl.when(text.is_null() | (text == "")).then(pl.lit(None, pl.String)).when(safe).then(text).otherwise(described)
    )


def shown_value(value: str | None) -> str | None:
    """``shown_value_expr`` for one Python value (file-level messages, tests)."""
    return pl.select(shown_value_expr(pl.lit(value, pl.String))).item()


# ------------------------------------------------------- a person in a unit field
#
# Kommun/stadsdel (2) names a unit; staff sometimes type a handler's or client's name,
# an e-mail address or a phone number there. Such a text must never become a unit
# (a unit is published by name). A text the run knows as a unit (the register,
# config districts, the alias file) is never tested.

EMAIL = r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}"
# Words that make a text a place or an organisation, not a person.
_PLACE_WORDS = """
    kommun kommunen stad staden stadsdel stadsdelen stadsdelsförvaltning stadsdelsnämnd sdf sdn förvaltning
    förvaltningen nämnd nämnden region regionen norra södra östra västra mellersta övre nedre stora lilla nya gamla
    city centrum innerstaden enhet enheten socialtjänst socialtjänsten myndighet myndigheten utförare utföraren
    vuxen vuxenenheten individ familj familjeomsorg omsorg stöd mottagning mottagningen kvinnojour sankt s:t
"""
PLACE_WORDS = frozenset(_PLACE_WORDS.split())
_SURNAME_END = re.compile(
    r"(?:sson|son|sen|berg|ström|strom|gren|lund|qvist|kvist|dahl|holm|lin|ell|ius|ander|bäck|man|blom|gård|ling)$"
)
_NAME_WORD = re.compile(r"[A-ZÅÄÖÉÜ](?:[a-zåäöéüèë]+|\.)(?:-[A-ZÅÄÖÉÜ][a-zåäöéüèë]+)*")


@cache
def first_names() -> frozenset[str]:
    """The packaged list of common Swedish first names (lower case)."""
    text = resources.files("kvinnofrid.spec").joinpath("first_names.csv").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return frozenset(name.lower() for name in lines[1:])


def looks_like_person(text: str | None) -> bool:
    """Whether a unit text is shaped like a person's name (``Anna Andersson``,
    ``A. Berg``, ``Karl-Erik``), an e-mail address or a phone number: one to four
    capitalised words, no place word, the first a common first name or (two words or
    more) the last with a surname's ending; or an address; or seven digits or more."""
    t = (text or "").strip()
    if not t:
        return False
    if re.search(EMAIL, t):
        return True
    if len(re.findall(r"[0-9]", t)) >= 7 and re.fullmatch(r"[+0-9\s\-()/.]+", t):
        return True
    words = t.split()
    if not 1 <= len(words) <= 4 or not all(_NAME_WORD.fullmatch(w) for w in words):
        return False
    lower = [w.lower() for w in words]
    if any(w in PLACE_WORDS for w in lower):
        return False
    first = lower[0].split("-")[0].rstrip(".")
    return first in first_names() or (len(words) >= 2 and _SURNAME_END.search(lower[-1]) is not None)
