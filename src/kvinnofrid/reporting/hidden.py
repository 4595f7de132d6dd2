"""How a hidden value is shown and explained, the same in figures, tables, text and
workbooks: each hidden cell says why it is hidden (kvinnofrid.disclosure.suppression:
``hidden_reason``). Two reasons, two marks:

* ``<5`` (REASON_SMALL): the count is below the threshold, none included;
* ``dold`` (REASON_PROTECT): hidden so that another hidden count cannot be worked out.

A hidden value without a reason (a table from before the reasons) is shown as ``dold``.
"""

from __future__ import annotations

from kvinnofrid.disclosure.suppression import REASON_PROTECT, REASON_SMALL

__all__ = ["REASONS", "because", "mark", "note", "reason_of"]

REASONS = (REASON_SMALL, REASON_PROTECT)


def reason_of(row: dict) -> str:
    """The reason of a hidden row (REASON_PROTECT where the table has none)."""
    return row.get("hidden_reason") or REASON_PROTECT


def mark(reason: str | None, threshold: int = 5) -> str:
    """The mark in a table cell or beside a figure's empty bar."""
    return f"<{threshold}" if reason == REASON_SMALL else "dold"


def note(reason: str | None, threshold: int = 5) -> str:
    """The note that explains a mark (under a figure, under a table, in a workbook)."""
    if reason == REASON_SMALL:
        return f"<{threshold}: färre än {threshold} ärenden (också inga); antal och andel visas inte."
    return "dold: visas inte, för att ett dolt antal annars skulle kunna räknas fram ur andra värden."


def because(reason: str | None, threshold: int = 5, plural: bool = False) -> str:
    """Why, as a clause after "visas inte eftersom …"."""
    if reason == REASON_SMALL:
        return f"{'de bygger' if plural else 'den bygger'} på färre än {threshold} ärenden"
    return f"{'de' if plural else 'den'} annars skulle göra det möjligt att räkna fram ett dolt antal"
