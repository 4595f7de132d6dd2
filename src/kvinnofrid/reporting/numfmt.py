"""Swedish number formats for everything the report shows.

One place decides how a number looks in a figure, a table, the text and the PDF:

* integers: thousands grouped with a NO-BREAK SPACE (U+00A0): ``3 070``
* decimals: decimal comma, grouped the same way: ``2,4``, ``1 234,5``
* percent: a share 0–1 shown as a whole percent, no-break space before the sign: ``94 %``
* negative numbers: the typographic minus sign (U+2212): ``−3``
* dates: ISO 8601: ``2023-10-10``

Why U+00A0 and not the narrow U+202F: every font the report meets (matplotlib's DejaVu
Sans, typst's embedded fonts, the browser's default fonts) has U+00A0, and text
extracted from the PDF or HTML keeps it as a plain (no-break) space. Tests that search
rendered text should look for ``NBSP`` (or normalise it to a space).

Rounding is half-up on the decimal value as written (``0.125`` → ``0,13``), not
Python's round-half-to-even, so the text agrees with what a reader computes by hand.
Missing values (None, NaN) become ``MISSING`` (an en dash).

The functions double as jinja2 filters: ``register_filters(env)`` adds
``int``/``dec``/``pct``/``date``/``num`` under the names in ``FILTERS``
(``{{ facts.cases_total | fmt_int }}``, ``{{ facts.share_women | fmt_pct }}``).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

NBSP = "\u00a0"
"""The thousands separator and the space before ``%``: NO-BREAK SPACE."""
MINUS = "\u2212"
MISSING = "\u2013"
"""Shown for a missing value (None or NaN): an en dash."""

__all__ = [
    "FILTERS",
    "MINUS",
    "MISSING",
    "NBSP",
    "fmt_date",
    "fmt_dec",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "register_filters",
]


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return isinstance(x, float) and math.isnan(x)
    except TypeError:
        return False


def _decimal(x: Any) -> Decimal:
    try:
        # str() first: Decimal(0.1) would carry the binary expansion of the float.
        return Decimal(str(x)) if not isinstance(x, Decimal) else x
    except (InvalidOperation, ValueError) as bad:
        raise ValueError(f"{x!r} är inget tal") from bad


def _group(digits: str) -> str:
    """'3070' -> '3 070' (NBSP)."""
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return NBSP.join(parts)


def _format(value: Decimal, digits: int) -> str:
    quantum = Decimal(1).scaleb(-digits)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    negative = rounded < 0
    text = f"{abs(rounded):f}"
    whole, _, frac = text.partition(".")
    out = _group(whole) + ("," + frac if digits > 0 else "")
    return (MINUS + out) if negative else out


def fmt_int(x: Any) -> str:
    """An integer (or a number rounded half-up to one) with NBSP thousands: ``3 070``."""
    if _is_missing(x):
        return MISSING
    return _format(_decimal(x), 0)


def fmt_dec(x: Any, digits: int = 1) -> str:
    """A decimal with comma and ``digits`` decimals: ``fmt_dec(2.44) == '2,4'``."""
    if _is_missing(x):
        return MISSING
    return _format(_decimal(x), digits)


def fmt_num(x: Any, digits: int = 1) -> str:
    """Whole numbers without decimals, others like ``fmt_dec``: ``3 070``, ``2,4``."""
    if _is_missing(x):
        return MISSING
    d = _decimal(x)
    return _format(d, 0) if d == d.to_integral_value() else _format(d, digits)


def fmt_pct(share: Any, digits: int = 0) -> str:
    """A share 0–1 as percent: ``fmt_pct(0.9376) == '94 %'`` (NBSP before %)."""
    if _is_missing(share):
        return MISSING
    return _format(_decimal(share) * 100, digits) + NBSP + "%"


def fmt_points(difference: float) -> str:
    """A difference of shares as percentage points, half-up like ``fmt_pct``: whole
    points, or as many decimals as it takes not to print a difference that is not 0 as
    "0" (``0.004`` → ``0,4``; ``-0.00003`` → ``−0,003``). A confidence interval "0–5"
    would read as one that holds 0, beside the verdict that it does not."""
    value = _decimal(difference) * 100
    digits = 0
    while value != 0 and digits < 6 and value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP) == 0:
        digits += 1
    return _format(value, digits)


def fmt_date(x: Any) -> str:
    """A date (or datetime, or ISO text) as ``YYYY-MM-DD``."""
    if _is_missing(x):
        return MISSING
    if isinstance(x, dt.datetime):
        return x.date().isoformat()
    if isinstance(x, dt.date):
        return x.isoformat()
    return dt.date.fromisoformat(str(x)[:10]).isoformat()


FILTERS = {
    "fmt_int": fmt_int,
    "fmt_dec": fmt_dec,
    "fmt_num": fmt_num,
    "fmt_pct": fmt_pct,
    "fmt_date": fmt_date,
}
"""jinja2 filter name -> function (``{{ x | fmt_pct(1) }}`` passes digits)."""


def register_filters(env: Any) -> Any:
    """Add ``FILTERS`` to a jinja2 Environment and return it."""
    env.filters.update(FILTERS)
    return env
