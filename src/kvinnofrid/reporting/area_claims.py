"""Where a unit differs: claims of the unit reports, decided by the numbers.

A claim is one comparison of a share: the unit's share of a category against the
same share among the *other* units of its comparison group or of the country (the
group minus the unit, so that the two samples are apart), the difference with its
95 % interval (Newcombe's hybrid score interval, statistics.stats), and the words the
numbers choose. Only visible numbers enter: a row hidden for the unit or the group is
never compared, so a claim never describes a hidden cell. A difference counts when
its interval does not contain 0.

Kept small on purpose (one dataclass, two functions): the national report's claims
(reporting.text) can take the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from kvinnofrid.reporting.numfmt import fmt_pct, fmt_points
from kvinnofrid.statistics.stats import share_difference_interval

__all__ = ["Difference", "differences", "differences_text"]


@dataclass(frozen=True)
class Difference:
    """One comparison: ``area``'s share of ``category`` (``table``) against ``other``."""

    table: str
    title: str
    category: str
    area: str
    other: str  # "övriga i storleksklassen", "övriga riket"
    share: float
    other_share: float
    difference: float
    low: float
    high: float

    @property
    def differs(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def word(self) -> str:
        return "högre" if self.difference > 0 else "lägre"

    def sentence(self) -> str:
        return (
            f"”{self.category}” ({self.title.rstrip('?').lower()}): {fmt_pct(self.share)} mot {fmt_pct(self.other_share)} "
            f"för {self.other}, {fmt_points(abs(self.difference))} procentenheter {self.word} "
            f"(95 % konfidensintervall för skillnaden {fmt_points(self.low)} till {fmt_points(self.high)} procentenheter)"
        )


def differences(
    table: pl.DataFrame, table_id: str, title: str, own: str, comparators: Sequence[tuple[str, str]]
) -> list[Difference]:
    """Every comparison of ``own``'s visible rows with each comparator's (group name in
    ``table``, words for "the others"), where both are visible and the others have cases."""
    out = []
    mine = {r["category"]: r for r in table.filter(pl.col("group") == own).to_dicts()}
    for group, words in comparators:
        for r in table.filter(pl.col("group") == group).to_dicts():
            m = mine.get(r["category"])
            if not m or m.get("suppressed") or r.get("suppressed"):
                continue
            if None in (m["n"], m["denominator"], r["n"], r["denominator"]):
                continue
            rest_n, rest_d = r["n"] - m["n"], r["denominator"] - m["denominator"]
            got = share_difference_interval(int(m["n"]), int(m["denominator"]), int(rest_n), int(rest_d))
            if got is None or rest_d <= 0:
                continue
            diff, low, high = got
            out.append(
                Difference(
                    table_id,
                    title,
                    r["category"],
                    own,
                    words,
                    m["n"] / m["denominator"],
                    rest_n / rest_d,
                    diff,
                    low,
                    high,
                )
            )
    return out


def differences_text(found: Sequence[Difference], own: str) -> str:
    """The report's paragraph: the differences beyond chance, largest first, or that
    there are none."""
    real = sorted((d for d in found if d.differs), key=lambda d: -abs(d.difference))
    if not found:
        return f"För {own} finns inga andelar som visas både för verksamheten och för jämförelsegrupperna."
    if not real:
        which = (
            f"Den enda andel som kan jämföras skiljer sig för {own} inte"
            if len(found) == 1
            else f"Ingen av de {len(found)} andelar som kan jämföras skiljer sig för {own}"
        )
        return (
            f"{which} från övriga verksamheter mer än vad slumpen kan förklara "
            "(95 % konfidensintervall för skillnaden)."
        )
    lines = [
        f"Av de {len(found)} andelar som kan jämföras skiljer sig {len(real)} för {own} från övriga verksamheter "
        "mer än vad slumpen kan förklara (95 % konfidensintervall för skillnaden utan 0):",
        "",
    ]
    lines += [f"- {d.sentence()}." for d in real]
    return "\n".join(lines)
