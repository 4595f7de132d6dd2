"""The sentences a comparison report below national level writes from one protected
table (kvinnofrid.disclosure.area_tables): what they may say and what they must not.

A small unit's table is often partly hidden (small-number protection), so a sentence
that ranks its categories would rank only what is left: "the largest share is 0 %"
when the larger categories are hidden. The rules here:

* a sentence never names, ranks or describes a hidden category; it says how many
  shares cannot be shown and why;
* "Störst andel" only when the category is the largest for certain: no hidden
  category could be larger (single-choice tables: the hidden rows together are not
  larger than it); otherwise "av de andelar som visas";
* a share shown as 0 % is never called the largest;
* a mostly hidden table gets one sentence saying so and why, instead of a
  description: more than half of the area's cases are in hidden categories (a
  single-choice table whose N is shown: N − the shown counts), else more than half
  of its categories are hidden;
* a pooled row (registry ``collapse``) is explained under the figure
  (``pool_notes``): which categories it holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kvinnofrid.reporting.hidden import because
from kvinnofrid.reporting.numfmt import fmt_pct
from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.diagrams import Registry, load_registry, pooled_labels

__all__ = ["hidden_reason", "pool_notes", "summary_sentence"]

_COUNT_WORDS = ("inga", "en", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva", "tolv")


def _count(k: int, one: str, many: str) -> str:
    word = _COUNT_WORDS[k] if k < len(_COUNT_WORDS) else str(k)
    return f"{word} {one if k == 1 else many}"


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def hidden_reason(threshold: int, plural: bool = True, reasons: Sequence[str | None] = ()) -> str:
    """Why shares are not shown, from the reasons of the hidden rows (suppression.py:
    below the threshold, or hidden to protect another count; kvinnofrid.reporting.hidden)."""
    kinds = set(reasons)
    if not kinds or None in kinds:  # a table without reasons: either may hold
        return (
            f"{'de' if plural else 'den'} bygger på färre än {threshold} ärenden eller skulle göra "
            f"det möjligt att räkna fram ett sådant antal"
        )
    if len(kinds) == 1:
        return because(kinds.pop(), threshold, plural)
    return (
        f"några bygger på färre än {threshold} ärenden och andra annars skulle göra det möjligt "
        "att räkna fram ett dolt antal"
    )


def _reasons(rows: pl.DataFrame) -> list[str | None]:
    hidden = rows.filter(_is_hidden(rows))
    return hidden["hidden_reason"].to_list() if "hidden_reason" in hidden.columns else [None] * hidden.height


def _is_hidden(rows: pl.DataFrame) -> pl.Series:
    return rows["suppressed"].fill_null(False) | rows["share"].is_null()


def _hidden_cases(own: pl.DataFrame, single: bool) -> tuple[int, int] | None:
    """(cases in hidden categories, N) of a single-choice table whose N is shown, else
    None. Not a disclosure: N minus the shown counts is what a reader can add up."""
    if not single or "n" not in own.columns or "denominator" not in own.columns:
        return None
    n_total = own["denominator"].drop_nulls()
    if n_total.is_empty() or int(n_total[0]) == 0:
        return None
    shown = own.filter(~_is_hidden(own))["n"].drop_nulls().sum()
    return int(n_total[0]) - int(shown), int(n_total[0])


def _mostly_hidden(own: pl.DataFrame, hidden: int, single: bool) -> bool:
    cases = _hidden_cases(own, single)
    return cases[0] * 2 > cases[1] if cases else hidden * 2 > own.height


def _surely_largest(own: pl.DataFrame, top: dict, single: bool) -> bool:
    """True when no hidden category of the area can be larger than ``top``: nothing is
    hidden, or (single-choice) the hidden rows together are not larger than it."""
    if not _is_hidden(own).any():
        return True
    cases = _hidden_cases(own, single)
    return cases is not None and top.get("n") is not None and cases[0] <= int(top["n"])


def _others(table: pl.DataFrame, category: str, compared: Sequence[str]) -> str:
    """The same category's share in the other areas, where shown."""
    parts = []
    for other in compared[1:]:
        row = table.filter((pl.col("group") == other) & (pl.col("category") == category))
        if row.height and not _is_hidden(row)[0]:
            parts.append(f"{other}: {fmt_pct(row['share'][0])}")
    return f" ({'; '.join(parts)})" if parts else ""


def pool_notes(table_id: str, registry: Registry | None = None) -> list[str]:
    """The notes under a comparison figure that say what each pooled row (registry
    ``collapse``) holds, e.g. "Övriga: Barn, Annan släkting/släktingar och Annan."."""
    if not table_id.isdigit():
        return []
    d = (registry or load_registry())[int(table_id)]
    cb = codebook_module.load()
    return [f"{p.label}: {_join(pooled_labels(d, p, cb))}." for p in d.collapse]


def summary_sentence(
    table: pl.DataFrame, area: str, compared: Sequence[str], *, threshold: int = 5, single: bool = False
) -> str:
    """The text under one comparison table (``group`` = area name, the area first in
    ``compared``): its largest category where that can be said, or why it cannot.
    ``single``: the categories exclude each other (a single-choice table)."""
    own = table.filter(pl.col("group") == area)
    hidden = int(_is_hidden(own).sum()) if own.height else 0
    if "denominator" in own.columns and own.height and (own["denominator"].fill_null(-1) == 0).all():
        return f"För {area} finns inga ärenden i underlaget till det här diagrammet."
    if own.is_empty() or hidden == own.height:
        return f"Andelarna för {area} visas inte eftersom {hidden_reason(threshold, True, _reasons(own))}."
    if _mostly_hidden(own, hidden, single):
        return f"De flesta andelarna för {area} visas inte eftersom {hidden_reason(threshold, True, _reasons(own))}."
    shown = own.filter(~_is_hidden(own))
    top = shown.sort("share", descending=True, maintain_order=True).row(0, named=True)
    if fmt_pct(top["share"]) == fmt_pct(0):
        text = f"Ingen av de andelar som visas för {area} är större än {fmt_pct(0)}."
    elif _surely_largest(own, top, single):
        text = (
            f"Störst andel i {area} har kategorin ”{top['category']}” med {fmt_pct(top['share'])}"
            f"{_others(table, top['category'], compared)}."
        )
    else:
        text = (
            f"Av de andelar som visas för {area} är den för ”{top['category']}” störst, "
            f"{fmt_pct(top['share'])}{_others(table, top['category'], compared)}."
        )
    if hidden:
        what = "Andelen för en kategori" if hidden == 1 else f"Andelarna för {_count(hidden, '', 'kategorier')}"
        text += f" {what} visas inte eftersom {hidden_reason(threshold, hidden > 1, _reasons(own))}."
    return text
