"""The report's data-dependent words, chosen from the numbers by rules written once.

Every word that says something about the data — "de flesta", "nästan alla",
"hälften", "vanligast", "högre", "lägre", "ökade", "statistiskt säkerställd" — is chosen
here from the claim it describes (kvinnofrid.statistics.claims), with the numbers beside
it; a template never writes such a word. Each function returns a ``Said``: the Swedish
text, the words it chose, and the claim (numbers and where they come from) as a dict, so
that a test can check every sentence against the tables.

The rules (on the whole percents a reader sees, so that text and figure agree):

* ``quantity``: 100 % "alla"; 95–99 "nästan alla"; 55–94 "de flesta"; 51–54 "drygt
  hälften"; 50 "hälften"; 45–49 "knappt hälften"; below 45 the percent alone; 0 "inga".
  "de flesta" is never said of 50 % or less.
* a share of fewer than ``small_base`` cases (registry defaults) is given as a count
  ("sex av 23 …") with a word on the small base, not as a bare percent.
* a comparison of two groups gives both values and the difference with its 95 %
  interval, and says "statistiskt säkerställd" when the p value adjusted within its
  passage (its family) is below 0.05, otherwise "inte statistiskt säkerställd": a
  difference is never called small. "högre"/"lägre" only for a significant difference.
* a sum of categories that the figure shows one by one says so when the rounded parts
  do not add up to the rounded sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from kvinnofrid.reporting.numfmt import NBSP, fmt_int, fmt_points
from kvinnofrid.reporting.swedish import (
    antal,
    capitalize,
    decimal,
    join,
    points,
    procent,
    sentence,
    shown_percent,
    subordinate,
)
from kvinnofrid.statistics.claims import Difference, Share

__all__ = [
    "ABOUT_HALF",
    "ALMOST_ALL",
    "MOST",
    "GroupNames",
    "Said",
    "composition",
    "difference_sentences",
    "group_size",
    "indefinite",
    "mean_extremes",
    "quantity",
    "ranking_sentence",
    "screen_paragraph",
    "share_sentence",
    "trend_sentence",
]

ALMOST_ALL = 95  # shown percent from which "nästan alla"
MOST = 55  # shown percent from which "de flesta" (never at 50 % or below)
ABOUT_HALF = 45  # shown percent from which "knappt hälften"
CI = "95-procentigt konfidensintervall"


@dataclass(frozen=True)
class Said:
    """A sentence (or a few) of the report with the claim behind it."""

    kind: str
    text: str
    words: tuple[str, ...] = ()
    claim: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class GroupNames:
    """How a comparison's two groups read: ``a``/``b`` after a preposition ("mellan
    männen och kvinnorna"), ``among_a``/``among_b`` as adverbials ("bland männen");
    ``higher``/``lower`` the words for a larger or smaller mean ("längre" of days);
    ``unit_each`` repeats the unit after each mean (days) rather than once."""

    a: str
    b: str
    among_a: str
    among_b: str
    higher: str = "högre"
    lower: str = "lägre"
    unit_each: bool = False


def indefinite(base: str) -> str:
    """'de avslutade ärendena' -> 'avslutade ärenden' (after a count: 'sex av 23 …')."""
    words = base.split(" ")
    if words[0] in ("de", "alla"):
        words = words[1:]
    return " ".join(w[:-1] if w.endswith("ärendena") else w for w in words)


def cases_where(clause: str) -> str:
    """'ärenden där klienten inte återkom'; a clause about the case itself reads
    'ärenden som avslutades …' rather than 'ärenden där ärendet avslutades …'."""
    if clause.startswith("ärendet "):
        return "ärenden som " + subordinate(clause)[len("ärendet ") :]
    return "ärenden där " + subordinate(clause)


def quantity(share: float, base: str, detail: str = "") -> tuple[str, str | None]:
    """(phrase, word): "de flesta av ärendena (59 procent)", "26 procent av ärendena".
    ``detail`` (a count) joins the percent in the parenthesis."""
    p, pct = shown_percent(share), procent(share)
    inner = f"{pct}, {detail}" if detail else pct
    if share >= 1:
        return f"alla {base} ({inner})", "alla"
    if share <= 0:
        return f"inga av {base}", "inga"
    for floor, word, form in (
        (ALMOST_ALL, "nästan alla", "nästan alla {base}"),
        (MOST, "de flesta", "de flesta av {base}"),
        (51, "drygt hälften", "drygt hälften av {base}"),
        (50, "hälften", "hälften av {base}"),
        (ABOUT_HALF, "knappt hälften", "knappt hälften av {base}"),
    ):
        if p >= floor:
            return f"{form.format(base=base)} ({inner})", word
    return f"{pct} av {base}" + (f" ({detail})" if detail else ""), None


def _parts_note(share: Share) -> str:
    """Where the figure shows the summed categories one by one and their rounded
    shares do not add up to the rounded sum, say so (text and figure agree)."""
    if len(share.parts) < 2 or any(p is None for p in share.parts) or share.share is None:
        return ""
    if sum(shown_percent(p) for p in share.parts) == shown_percent(share.share):
        return ""
    each = join([f"{shown_percent(p)}" for p in share.parts], "respektive")
    return f"i diagrammet {each}{NBSP}procent, avrundade var för sig"


def share_sentence(clause: str, share: Share, base: str, small_base: int, count: bool = False) -> Said:
    """ "{Clause} i de flesta av ärendena (59 procent)." — or, on a small base,
    "{Clause} i sex av 23 ärenden; underlaget är litet …"."""
    small = share.denominator is not None and share.denominator < small_base
    claim = {**share.__dict__, "base": base, "small": small}
    if share.share is None:
        raise ValueError(f"diagram {share.diagram}: andelen för {share.label!r} saknas")
    if small:
        text = (
            f"{clause} i {antal(share.n)} av {fmt_int(share.denominator)} {indefinite(base)}; underlaget är litet, "
            f"så andelen ({procent(share.share)}) är osäker"
        )
        return Said("share", sentence(text), (), claim)
    counted = antal(share.n, "ärenden" if share.n != 1 else "ärende") if count else ""
    phrase, word = quantity(share.share, base, "; ".join(p for p in (counted, _parts_note(share)) if p))
    text = sentence(f"{clause} i {phrase}")
    return Said("share", text, (word,) if word else (), claim)


def ranking_sentence(items: Sequence[tuple[str, Share]], base: str) -> Said:
    """ "Vanligast var att {a} (32 procent), följt av att {b} (28 procent)." from the
    first two of ``items`` (clause, share), largest first; equal shown percents are
    said to be equally common."""
    (clause1, first), *rest = items
    claim = {"diagram": first.diagram, "group": first.group, "order": [s.label for _, s in items]}
    claim["shares"] = [s.share for _, s in items]
    if not rest:
        return Said(
            "ranking",
            sentence(f"Vanligast var att {subordinate(clause1)} ({procent(first.share)})"),
            ("vanligast",),
            claim,
        )
    clause2, second = rest[0]
    if shown_percent(first.share) == shown_percent(second.share):
        text = (
            f"Vanligast var att {subordinate(clause1)} och att {subordinate(clause2)} ({procent(first.share)} vardera)"
        )
    else:
        text = (
            f"Vanligast var att {subordinate(clause1)} ({procent(first.share)} av {base}), "
            f"följt av att {subordinate(clause2)} ({procent(second.share)})"
        )
    return Said("ranking", sentence(text), ("vanligast",), claim)


def _shown(d: Difference, digits: int) -> tuple[str, str, float, float]:
    """Both groups' values as the reader sees them, and those values as numbers."""
    if d.is_mean:
        a, b = decimal(d.mean_a, digits), decimal(d.mean_b, digits)
        return a, b, round(d.mean_a, digits), round(d.mean_b, digits)
    return procent(d.share_a), procent(d.share_b), shown_percent(d.share_a), shown_percent(d.share_b)


def _interval(d: Difference, digits: int) -> str:
    """The 95 % interval of the larger minus the smaller group."""
    low, high = (d.low, d.high) if (d.difference or 0) >= 0 else (-d.high, -d.low)
    if d.is_mean:
        lo, hi = decimal(low, digits), decimal(high, digits)
    else:
        lo, hi = fmt_points(low), fmt_points(high)
    return f"{lo} till {hi}" if low < 0 else f"{lo}–{hi}"


def _size(d: Difference, digits: int, unit: str) -> str:
    """The difference between the shown values: "13 procentenheter", "1,0 insatser"."""
    _, _, a, b = _shown(d, digits)
    if d.is_mean:
        return f"{decimal(abs(a - b), digits)}{NBSP}{unit}"
    return points(int(abs(a - b)))


def significance(d: Difference, digits: int = 1, unit: str = "") -> tuple[str, tuple[str, ...]]:
    """The sentence on the difference: its size, its interval and the verdict."""
    if d.p_family is None:
        return sentence("Skillnaden har inte kunnat prövas statistiskt"), ()
    verdict = "statistiskt säkerställd" if d.significant else "inte statistiskt säkerställd"
    if d.low is None:
        text = f"Skillnaden är {verdict}; för så få ärenden kan inget konfidensintervall beräknas"
        return sentence(text), (verdict,)
    _, _, a, b = _shown(d, digits)
    if a == b:
        text = f"Skillnaden är {verdict} ({CI} för skillnaden: {_interval(d, digits)} {_unit_of(d, unit)})"
        return sentence(text), (verdict,)
    text = f"Skillnaden, {_size(d, digits, unit)} ({CI}: {_interval(d, digits)}), är {verdict}"
    return sentence(text), (verdict,)


def _unit_of(d: Difference, unit: str) -> str:
    return unit if d.is_mean else "procentenheter"


def _claim(d: Difference) -> dict[str, Any]:
    return {**d.__dict__, "significant": d.significant}


def difference_sentences(
    d: Difference, names: GroupNames, subject: str, unit: str = "", digits: int = 1, small_base: int = 0
) -> Said:
    """Two sentences on one comparison: both groups' values (with "högre"/"lägre" only
    when the difference is statistically significant), then the difference, its 95 %
    interval and the verdict. ``subject``: for a share the clause of the category
    ("våldet utövades av en förälder"), for a mean what is averaged ("antalet insatser")."""
    if not d.available:
        text = f"Någon jämförelse {names.among_a} och {names.among_b} kunde inte göras: underlaget saknas"
        return Said("difference", sentence(text), (), _claim(d))
    a, b, va, vb = _values(d, digits, unit, names)
    # "I genomsnitt var antalet insatser …" / "Andelen ärenden där … var …" (V2 order)
    lead = f"I genomsnitt var {subject}" if d.is_mean else f"Andelen {cases_where(subject)} var"
    if va == vb:
        first = f"{lead} densamma, {a}, {names.among_a} och {names.among_b}"
        words: tuple[str, ...] = ("densamma",)
    elif d.significant:
        word = _word(d, names, va > vb)
        first = f"{lead} {word} {names.among_a} ({a}) än {names.among_b} ({b})"
        words = (word,)
    else:
        first = f"{lead} {a} {names.among_a} och {b} {names.among_b}"
        words = ()
    second, verdict = significance(d, digits, unit)
    text = sentence(first) + " " + second
    few = min(d.denominator_a or 0, d.denominator_b or 0)
    if few < small_base:
        text += " " + sentence(
            f"Jämförelsen bygger på få ärenden: {antal(d.denominator_a)} respektive {antal(d.denominator_b)}"
        )
    return Said("difference", text, words + verdict, _claim(d))


def _word(d: Difference, names: GroupNames, higher: bool) -> str:
    if d.is_mean:
        return names.higher if higher else names.lower
    return "högre" if higher else "lägre"


def _values(d: Difference, digits: int, unit: str, names: GroupNames) -> tuple[str, str, float, float]:
    """Both groups' values as a reader sees them (a mean's unit after each where the
    measure does not name it), and as numbers."""
    a, b, va, vb = _shown(d, digits)
    if d.is_mean and unit and names.unit_each:
        a, b = f"{a}{NBSP}{unit}", f"{b}{NBSP}{unit}"
    return a, b, va, vb


def _screen_item(d: Difference, subject: str, names: GroupNames, unit: str, digits: int) -> tuple[str, str]:
    a, b, va, vb = _values(d, digits, unit, names)
    word = _word(d, names, va > vb)
    lead = f"I genomsnitt var {subject}" if d.is_mean else f"Andelen {cases_where(subject)} var"
    text = (
        f"{lead} {word} {names.among_a} än {names.among_b}: {a} mot {b} "
        f"(skillnad {_size(d, digits, unit)}; {CI}: {_interval(d, digits)})"
    )
    return sentence(text), word


def screen_paragraph(
    differences: Sequence[Difference],
    describe: Any,
    nouns: Sequence[str],
) -> Said:
    """What a screening passage reports: every statistically significant difference of
    its family (lowest adjusted p first, as bullet items), then the compared subjects without
    one, or, when none differs, that none does. ``describe(d)`` gives (subject, names,
    unit, digits) of a comparison; ``nouns`` name the subjects looked through, in order."""
    tested = [d for d in differences if d.available and d.p_family is not None]
    # strongest evidence first (shares and means have no common unit to rank by size)
    shown = sorted((d for d in tested if d.significant), key=lambda d: d.p_family)
    claim = {"family": [_claim(d) for d in differences], "family_size": len(tested)}
    if not tested:
        return Said("screen", sentence("Någon jämförelse kunde inte göras: underlaget saknas"), (), claim)
    names = describe(tested[0])[1]
    # the two groups are named once only where every row compares the same two
    same = len({(d.group_a, d.group_b) for d in tested}) == 1
    between = f" mellan {names.a} och {names.b}" if same else ""
    count = antal(len(tested), gender="utrum")
    if not shown:
        text = (
            f"Ingen av de {count} prövade jämförelserna{between} visade någon statistiskt säkerställd "
            f"skillnad; jämförelserna gällde {join(nouns)}"
        )
        return Said("screen", sentence(text), ("inte statistiskt säkerställd",), claim)
    items, words = [], ["statistiskt säkerställd"]
    for d in shown:
        subject, d_names, unit, digits = describe(d)
        item, word = _screen_item(d, subject, d_names, unit, digits)
        items.append(f"- {item}")
        words.append(word)
    if len(shown) == len(tested):
        every = "Båda de" if len(tested) == 2 else f"Alla de {count}" if len(tested) > 2 else "Den"
        lead = f"{every} prövade jämförelserna{between} visade en statistiskt säkerställd skillnad:"
        lead = lead.replace("Den prövade jämförelserna", "Den prövade jämförelsen")
    elif len(shown) == 1:
        lead = (
            f"Av de {count} prövade jämförelserna{between} var det en som visade en statistiskt säkerställd skillnad:"
        )
    else:
        lead = (
            f"Av de {count} prövade jämförelserna{between} visade {antal(len(shown), gender='utrum')} "
            "en statistiskt säkerställd skillnad:"
        )
    quiet = [n for n, has in _subjects_with_difference(differences, nouns, shown) if not has]
    tail = [sentence(f"Inga statistiskt säkerställda skillnader fanns när det gällde {join(quiet)}")] if quiet else []
    text = "\n\n".join([lead, "\n".join(items), *tail])
    return Said("screen", text, tuple(words), claim)


def _subjects_with_difference(
    differences: Sequence[Difference], nouns: Sequence[str], shown: Sequence[Difference]
) -> list[tuple[str, bool]]:
    """(noun, has a significant row) per screened variable, in the family's order."""
    variables = list(dict.fromkeys(d.variable for d in differences))
    flagged = {d.variable for d in shown}
    return [(noun, v in flagged) for v, noun in zip(variables, nouns)]


def mean_extremes(items: Sequence[tuple[str, dict]], unit: str, digits: int = 1) -> Said:
    """ "Högst var genomsnittet för {a} (3,3 insatser) och lägst för {b} (1,9)." from
    (phrase, table row) pairs; the highest and lowest mean of the table."""
    ranked = sorted((i for i in items if i[1].get("mean") is not None), key=lambda i: -i[1]["mean"])
    (top, high), (bottom, low) = ranked[0], ranked[-1]
    claim = {"highest": high, "lowest": low}
    text = (
        f"Högst var genomsnittet för {top} ({decimal(high['mean'], digits)}{NBSP}{unit}, "
        f"{antal(high['n'], 'ärenden')}) och lägst för {bottom} ({decimal(low['mean'], digits)}{NBSP}{unit}, "
        f"{antal(low['n'], 'ärenden')})"
    )
    return Said("extremes", sentence(text), ("högst", "lägst"), claim)


def trend_sentence(subject: str, shares: Sequence[tuple[str, Share]], along: str) -> Said:
    """How a share changes over ordered groups: "ökade {along}, från 21 procent (1–90
    dagar) till 73 procent (271–360 dagar)" when every step rises (on the shown
    percents), "minskade" when every step falls, else where it was highest and lowest."""
    values = [shown_percent(s.share) for _, s in shares]
    claim = {"groups": [g for g, _ in shares], "shares": [s.share for _, s in shares], "diagram": shares[0][1].diagram}
    what = f"Andelen {cases_where(subject)}"
    (first_g, first), (last_g, last) = shares[0], shares[-1]
    steps = list(pairwise(values))
    if all(x < y for x, y in steps) or all(x > y for x, y in steps):
        word = "ökade" if values[-1] > values[0] else "minskade"
        text = f"{what} {word} {along}, från {procent(first.share)} ({first_g}) till {procent(last.share)} ({last_g})"
        return Said("trend", sentence(text), (word,), claim)
    hi = max(range(len(values)), key=lambda i: values[i])
    lo = min(range(len(values)), key=lambda i: values[i])
    text = (
        f"{what} var högst vid {shares[hi][0]} ({procent(shares[hi][1].share)}) och lägst vid "
        f"{shares[lo][0]} ({procent(shares[lo][1].share)})"
    )
    return Said("trend", sentence(text), ("högst", "lägst"), claim)


def _subject_quantity(share: float, definite: str, indefinite_plural: str) -> tuple[str | None, str | None]:
    """ "De flesta klienterna (94 procent)" as a subject, or None below 45 %."""
    p, pct = shown_percent(share), procent(share)
    for floor, word, form in (
        (ALMOST_ALL, "nästan alla", f"nästan alla {indefinite_plural}"),
        (MOST, "de flesta", f"de flesta {definite}"),
        (51, "drygt hälften", f"drygt hälften av {definite}"),
        (50, "hälften", f"hälften av {definite}"),
        (ABOUT_HALF, "knappt hälften", f"knappt hälften av {definite}"),
    ):
        if p >= floor:
            return f"{form} ({pct})", word
    return None, None


def composition(items: Sequence[tuple[str, Share]], definite: str = "klienterna", plural: str = "klienter") -> Said:
    """Who the cases are, largest group first: "De flesta klienterna (94 procent) var
    kvinnor och 6 procent var män (190 ärenden)." ``items``: (plural noun, share)."""
    ranked = sorted(items, key=lambda i: -(i[1].share or 0))
    (noun, first), rest = ranked[0], ranked[1:]
    subject, word = _subject_quantity(first.share, definite, plural)
    lead = f"{subject} var {noun}" if subject else f"Bland {definite} var {procent(first.share)} {noun}"
    others = [f"{procent(s.share)} var {n} ({antal(s.n, 'ärenden' if s.n != 1 else 'ärende')})" for n, s in rest]
    text = lead + (f" och {join(others)}" if others else "")
    claim = {"diagram": first.diagram, "order": [s.label for _, s in ranked], "shares": [s.share for _, s in ranked]}
    return Said("composition", sentence(text), (word,) if word else (), claim)


def group_size(share: Share, subject: str, of: str = "klienterna") -> Said:
    """ "Männen var en minoritet av klienterna (6 procent, 190 ärenden)." — "en
    majoritet" above 50 %, "hälften" at 50 %."""
    p = shown_percent(share.share)
    word = "en majoritet" if p > 50 else "en minoritet" if p < 50 else "hälften"
    n = antal(share.n, "ärenden" if share.n != 1 else "ärende")
    text = f"{capitalize(subject)} var {word} av {of} ({procent(share.share)}, {n})"
    return Said("group_size", sentence(text), (word,), {**share.__dict__})


def best_unit(share: Share, small_base: int) -> Said:
    """ "I den verksamhet där toppgruppen var störst hörde sex av 23 avslutade ärenden
    till den; underlaget är litet …" (a count on a small base, else the share)."""
    claim = {**share.__dict__, "small": share.denominator < small_base}
    if share.denominator < small_base:
        text = (
            f"I den verksamhet där toppgruppen var störst hörde {antal(share.n)} av {fmt_int(share.denominator)} "
            f"avslutade ärenden till den ({procent(share.share)}); underlaget är så litet att andelen är mycket osäker"
        )
    else:
        text = (
            f"I den verksamhet där toppgruppen var störst utgjorde den {procent(share.share)} av de "
            f"{fmt_int(share.denominator)} avslutade ärendena"
        )
    return Said("best_unit", sentence(text), ("störst",), claim)


def several_units(units: int, municipalities: int) -> Said:
    """A note where some municipalities took part with several units (the earlier
    report counted units as municipalities); nothing when each had one."""
    claim = {"units": units, "municipalities": municipalities}
    if units <= municipalities:
        return Said("several_units", "", (), claim)
    text = (
        "Verksamheterna är fler än kommunerna, eftersom några kommuner deltog med flera verksamheter, "
        "till exempel stadsdelar eller myndighet och utförare var för sig. Rapporten för 2021–2023 "
        "räknade varje deltagande verksamhet som en kommun"
    )
    return Said("several_units", sentence(text), ("fler",), claim)


def none_significant(differences: Sequence[Difference], names: GroupNames) -> Said:
    """ "Ingen av de åtta jämförelserna mellan männen och kvinnorna visade någon
    statistiskt säkerställd skillnad." (a passage whose family has no significant row)."""
    claim = {"family": [_claim(d) for d in differences], "family_size": len(differences)}
    if any(d.significant for d in differences):
        raise ValueError("none_significant: the family has a statistically significant difference")
    text = (
        f"Ingen av de {antal(len(differences), gender='utrum')} jämförelserna mellan {names.a} och {names.b} "
        "visade någon statistiskt säkerställd skillnad"
    )
    return Said("screen", sentence(text), ("inte statistiskt säkerställd",), claim)
