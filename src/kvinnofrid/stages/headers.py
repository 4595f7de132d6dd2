"""Recognising an export's columns by what they are: the codebook's label, alias or
SUV number, whatever else the header holds.

A header is first made comparable (:func:`clean_header`, :func:`normalise_header`):
Unicode NFKC, invisible and format characters removed (zero-width space, soft hyphen,
a byte-order mark, also a doubled one or one decoded as ``ï»¿``), runs of space and line
breaks made one space; then case, å/ä/ö against a/a/o and the kind of dash do not
matter (``codebook.normalise``). It names a variable by

* its label or an alias (``Datum för aktualisering``, ``Aktualiseringsdatum``),
* its SUV number (``(5)``, ``V5``), or both (``Datum för aktualisering (5)``,
  ``(5) Datum för aktualisering``, ``5. Datum för aktualisering``),
* its SUV number in parentheses with other words (``Klientens kön (14)``: a newer
  SUreg's label): that variable, with the note ``column_label_differs``, which names
  the label found and the label expected.

A header that says one variable in words and another by number (``Kön (15)``), or
whose words hold a variable's label while that variable has no column of its own
(``Kön enligt handläggaren``), is not read; when the variable it resembles has no
column in the file it is ``column_not_recognised``, a warning that says which
variable is missing, never a mere local variable. Multi-choice option columns
(``<variable> (<nr>): <option>``, ``118_4``), repeated risk groups and comment
columns are recognised as before; any other header is a local variable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from kvinnofrid.spec import codebook as cbm
from kvinnofrid.spec.codebook import normalise

#: Rows at the top of a sheet/file searched for the header (up to 5 title rows + margin).
HEADER_SEARCH_ROWS = 10
PLACEHOLDER = "\ue000"  # stands for a comma inside a known option label while splitting
_MOJIBAKE_BOM = "\u00ef\u00bb\u00bf"  # a UTF-8 byte-order mark read as Windows-1252


@dataclass(frozen=True)
class ColumnRole:
    """What a header means.

    role: ``variable`` (a single/date/integer/text variable, or the list column of a
    multi-choice variable), ``option`` (one option of a multi-choice variable),
    ``risk`` (one field of a repeated risk group), ``personal`` (Klient, Handläggare,
    Klientförslag), ``comment``, ``local`` or ``blank`` (empty header).
    ``by_number``: recognised by its SUV number although its words differ from the
    codebook's. ``resembles``: a local column whose words or number point at this
    variable (codebook name) although it could not be read as it.
    """

    role: str
    variable: str | None = None  # codebook name
    target: str | None = None  # output column (variable name, risk_<k>_<field>, …)
    code: str | None = None  # option code (role ``option``)
    by_number: bool = False
    resembles: str | None = None

    @property
    def key(self) -> tuple[str, ...] | None:
        """What must not be named twice in one header."""
        if self.role in ("variable", "personal", "risk"):
            return (self.target or "",)
        if self.role == "option":
            return (self.variable or "", self.code or "")
        return None


# ----------------------------------------------------------------- normalising


def clean_header(text: object) -> str:
    """The header as the unit sees it: invisible and format characters removed, every
    run of white space (line breaks, non-breaking spaces) one space, no space around."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    while text.startswith(_MOJIBAKE_BOM):
        text = text[len(_MOJIBAKE_BOM) :]
    if not text.isprintable():  # printable text has no such characters (and no space but " ")
        kept = []
        for ch in text:
            category = unicodedata.category(ch)
            if ch.isspace() or category in ("Zs", "Zl", "Zp"):
                kept.append(" ")
            elif category not in ("Cf", "Cc", "Co", "Cn"):
                kept.append(ch)
        text = "".join(kept)
    return re.sub(r" +", " ", text).strip()


def normalise_header(text: object) -> str:
    """Compare form of a header: :func:`clean_header`, then ``codebook.normalise``
    (NFKC: full-width parentheses and digits become ASCII)."""
    return normalise(clean_header(text))


# ------------------------------------------------------------------- the index


@dataclass(frozen=True)
class _Index:
    by_form: dict[str, cbm.Variable]  # normalised label/alias → variable
    by_words: dict[tuple[str, ...], cbm.Variable]  # its words (``kommun_stadsdel``) → variable
    by_suv: dict[int, cbm.Variable]
    longest_label: int  # words in the longest label or alias
    risk: cbm.Variable | None
    risk_prefixes: tuple[str, ...]
    risk_fields: dict[str, str]  # normalised Swedish field word → output field
    risk_max: int
    protections: tuple[tuple[str, str], ...]  # (regex, replacement) per multi var label with a delimiter


def _fold_pattern(text: str) -> str:
    """A regex (for polars, Rust syntax) matching ``text`` like ``normalise`` compares."""
    out = []
    for ch in text:
        low = ch.lower()
        if low in "aåä":
            out.append("[aåä]")
        elif low in "oö":
            out.append("[oö]")
        elif ch.isspace():
            out.append(r"\s+")
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append(f"\\x{{{ord(ch):X}}}")
    return "".join(out)


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", normalise(text)))


@cache
def codebook_index() -> _Index:
    cb = cbm.load()
    by_form: dict[str, cbm.Variable] = {}
    words: list[tuple[tuple[str, ...], cbm.Variable]] = []
    for v in cb.variables:
        for form in (v.label, *v.aliases):
            by_form[normalise(form)] = v
            if v.kind != "repeated" and len("".join(_words(form))) >= 3:
                words.append((_words(form), v))
    words.sort(key=lambda wv: -len(" ".join(wv[0])))
    by_words: dict[tuple[str, ...], cbm.Variable] = {}
    for form_words, v in words:
        if by_words.get(form_words, v) is not v:
            raise cbm.CodebookError(f"två variabler har samma ord i etiketten: {' '.join(form_words)}")
        by_words[form_words] = v
    by_suv = {v.suv: v for v in cb.variables}
    repeated = cb.of_kind("repeated")
    risk = repeated[0] if repeated else None
    prefixes: tuple[str, ...] = ()
    fields: dict[str, str] = {}
    risk_max = 0
    if risk is not None:
        forms = {normalise(risk.extra.get("group_prefix", risk.label)), normalise(risk.label)}
        prefixes = tuple(sorted(forms | {normalise(a) for a in risk.aliases}, key=len, reverse=True))
        fields = {normalise(word): field for field, word in risk.extra.get("fields", {}).items()}
        risk_max = int(risk.extra.get("max_repeats", 10))
    protections = []
    for v in cb.of_kind("multi"):
        for option in v.options:
            parts = re.split(r"\s*[,;]\s*", option.label.strip())
            if len(parts) < 2:
                continue
            pattern = "(?i)" + r"\s*[,;]\s*".join(f"({_fold_pattern(p)})" for p in parts)
            replacement = (PLACEHOLDER + " ").join(f"${{{i}}}" for i in range(1, len(parts) + 1))
            protections.append((pattern, replacement))
    return _Index(
        by_form,
        by_words,
        by_suv,
        max(map(len, by_words), default=0),
        risk,
        prefixes,
        fields,
        risk_max,
        tuple(protections),
    )


# ----------------------------------------------------------------- one header

_NR_SUFFIX = re.compile(r"^(.*?)\s*\(\s*v?(\d+)\s*\)[\s:*]*$")
_NR_PREFIX = re.compile(r"^(?:\(\s*v?(\d+)\s*\)|v?(\d+)[.:]?)\s+(\D.*)$")
_V_NUMBER = re.compile(r"^v\s?(\d+)$")
_OPTION_NR = re.compile(r"^v?(\d+)\s*_\s*(\d+)$")
_COMMENT = re.compile(r"(^|[^a-z0-9])kommentar(er)?([^a-z0-9]|$)")


@dataclass(frozen=True)
class _Match:
    variable: cbm.Variable | None
    by_number: bool = False
    resembles: cbm.Variable | None = None


def _form(text: str) -> cbm.Variable | None:
    """The variable whose label or alias ``text`` is, also written with other
    punctuation between its words (``kommun_stadsdel``, ``Datum för aktualisering:``)."""
    ix = codebook_index()
    return ix.by_form.get(text) or ix.by_words.get(tuple(re.findall(r"[a-z0-9]+", text)))


def _variable_of(h: str) -> _Match:
    """The variable a normalised header names by label/alias, SUV number, or both."""
    ix = codebook_index()
    if _form(h) is not None:
        return _Match(_form(h))
    m = _V_NUMBER.match(h)
    if m:
        return _Match(ix.by_suv.get(int(m.group(1))))
    m = _NR_SUFFIX.match(h)
    if m:
        return _by_words_and_number(m.group(1).strip(), int(m.group(2)), in_parentheses=True)
    m = _NR_PREFIX.match(h)  # "(5) Datum för aktualisering", "5. Datum …", "V5 Datum …"
    if m:
        return _by_words_and_number(m.group(3).strip(), int(m.group(1) or m.group(2)), m.group(1) is not None)
    return _Match(None)


def _by_words_and_number(words: str, number: int, in_parentheses: bool) -> _Match:
    """Words and a number: agreeing, the number alone in parentheses (a newer label),
    or disagreeing, also with a number the codebook lacks (not trusted: resembles the
    variable the words name)."""
    ix = codebook_index()
    by_number = ix.by_suv.get(number)
    by_words = _form(words) if words else None
    if not words or (by_number is not None and by_words is by_number):
        return _Match(by_number)
    if by_words is not None:  # the words name another variable than the number: not trusted
        return _Match(None, resembles=by_words)
    resembled = _resembled(words)  # "Klient-nr (5)": the words hold another variable's label
    if resembled is not None and by_number is not None and resembled is not by_number:
        return _Match(None, resembles=resembled)
    if by_number is not None and in_parentheses and not _COMMENT.search(words):
        return _Match(by_number, by_number=True)
    return _Match(None, resembles=resembled)


def _option_code(var: cbm.Variable, text: str) -> int | None:
    """The option a (normalised) text names: code, label, or code and label."""
    t = normalise(text)
    if t.isdigit():
        code = int(t)
        return code if code in var.codes else None
    labels = option_labels(var)
    if t in labels:
        return labels[t]
    m = re.match(r"^(\d+)\s*[.):\-]?\s*(.+)$", t)
    if m and labels.get(m.group(2).strip()) == int(m.group(1)):
        return int(m.group(1))
    return None


def option_code(var: cbm.Variable, text: str) -> int | None:
    """The option code a value names (``2``, ``2.0``, ``Man``, ``2. Man``), or None."""
    t = normalise(text)
    decimal = re.fullmatch(r"(\d+)[.,]0+", t)
    return _option_code(var, decimal.group(1) if decimal else t)


@cache
def option_labels(var: cbm.Variable) -> dict[str, int]:
    """Normalised label → code, including the codebook's value synonyms both ways
    (``Vet ej`` and ``Vet inte`` name the same option)."""
    labels = {normalise(o.label): o.code for o in var.options}
    for a, b in cbm.load().value_synonyms.items():
        a, b = normalise(a), normalise(b)
        if a in labels and b not in labels:
            labels[b] = labels[a]
        elif b in labels and a not in labels:
            labels[a] = labels[b]
    return labels


def classify_header(header: str | None) -> ColumnRole:
    """Recognise one header text by the codebook (see the module docstring)."""
    if header is None or len(str(header)) > 200:  # no header is that long (a comment cell)
        return ColumnRole("blank" if header is None else "local")
    return _classify(str(header))


@lru_cache(maxsize=8192)
def _classify(header: str) -> ColumnRole:
    h = normalise_header(header)
    if not h:
        return ColumnRole("blank")
    match = _variable_of(h)
    if match.variable is not None and match.variable.kind == "repeated":
        return _classify_other(h, _Match(None))  # a risk field, or local: the group needs <k> and a field
    if match.variable is not None:
        var = match.variable
        role = "personal" if var.personal else "variable"
        return ColumnRole(role, var.name, var.name, by_number=match.by_number)
    return _classify_other(h, match)


def _classify_other(h: str, match: _Match) -> ColumnRole:
    """Option columns, risk fields, comments; else local (with what it resembles)."""
    ix = codebook_index()
    m = _OPTION_NR.match(h)
    if m:
        var = ix.by_suv.get(int(m.group(1)))
        if var is not None and var.kind == "multi" and int(m.group(2)) in var.codes:
            return ColumnRole("option", var.name, var.name, m.group(2))
    if ":" in h:
        left, _, right = h.partition(":")
        option = _variable_of(left.strip())
        if option.variable is not None and option.variable.kind == "multi":
            code = _option_code(option.variable, right)
            if code is not None:
                name = option.variable.name
                return ColumnRole("option", name, name, str(code), by_number=option.by_number)
    risk = _risk_role(h)
    if risk is not None:
        return risk
    if _COMMENT.search(h):
        return ColumnRole("comment")
    resembles = match.resembles or _resembled(h)
    return ColumnRole("local", resembles=resembles.name if resembles is not None else None)


def _risk_role(h: str) -> ColumnRole | None:
    ix = codebook_index()
    if ix.risk is None:
        return None
    bare = re.sub(rf"\(\s*{ix.risk.suv}\s*\)", " ", h)
    bare = re.sub(r"\s+", " ", bare).strip()
    for prefix in ix.risk_prefixes:
        if bare.startswith(prefix):
            m = re.match(r"^\s*(\d+)\s*(\S+)$", bare[len(prefix) :])
            if m and m.group(2) in ix.risk_fields and 1 <= int(m.group(1)) <= ix.risk_max:
                return ColumnRole("risk", ix.risk.name, f"risk_{int(m.group(1))}_{ix.risk_fields[m.group(2)]}")
    return None


def _resembled(h: str) -> cbm.Variable | None:
    """The national variable whose label's words all appear, in order, in the header
    (``Kön enligt handläggaren`` → Kön), or None; the longest label wins."""
    words = tuple(re.findall(r"[a-z0-9]+", h))
    ix = codebook_index()
    found = [
        words[i : i + n]
        for n in range(min(len(words), ix.longest_label), 0, -1)
        for i in range(len(words) - n + 1)
        if words[i : i + n] in ix.by_words
    ]
    return ix.by_words[max(found, key=lambda w: len(" ".join(w)))] if found else None


# ------------------------------------------------------------- a header row


def header_score(cells: Sequence[str | None]) -> tuple[bool, int]:
    """(has both key columns, number of recognised columns) of a candidate header row."""
    roles = [classify_header(c) for c in cells]
    score = sum(r.role not in ("local", "blank") for r in roles)
    targets = {r.target for r in roles}
    return {"client", "opened"} <= targets, score


def find_header(rows: Sequence[tuple[int, Sequence[str | None]]]) -> tuple[int, bool, int] | None:
    """(index into rows, has key columns, score) of the best header candidate."""
    best: tuple[int, bool, int] | None = None
    for i, (_, cells) in enumerate(rows):
        if best is not None and best[1] and sum(c is not None and c != "" for c in cells) <= best[2]:
            continue  # a row scores at most its filled cells: it cannot beat a header with both keys
        has_keys, score = header_score(cells)
        if score == 0:
            continue
        if best is None or (has_keys, score) > (best[1], best[2]):
            best = (i, has_keys, score)
    return best


def resolve_roles(headers: Sequence[str]) -> list[ColumnRole]:
    """The roles of a whole header row: a column recognised only by its number yields
    to a column that names the same variable (or option) exactly; it then resembles it."""
    roles = [classify_header(h or None) for h in headers]
    exact = {r.key for r in roles if r.key is not None and not r.by_number}
    return [ColumnRole("local", resembles=r.variable) if r.by_number and r.key in exact else replace(r) for r in roles]
