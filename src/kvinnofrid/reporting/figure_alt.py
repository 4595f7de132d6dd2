"""A figure's alt text, in Swedish, built from its diagram table (never from the
drawing): the HTML's ``fig-alt``, the PDF's tagged figure and the unit reports use the
same words. Every category with its share, count or mean, per group, what is hidden and
why; diagram 1 phase by phase."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from kvinnofrid.reporting.figure_style import MULTI_NOTE, groups_of, join_words, n_subtitle, table_frame
from kvinnofrid.reporting.markdown import shown_labels
from kvinnofrid.reporting.numfmt import fmt_dec, fmt_int, fmt_pct

__all__ = ["alt_text"]


def _alt_value(r: dict[str, Any], measure: str) -> str:
    """One category as the alt text says it: "Kvinna 94 % (2 858 ärenden)"."""
    if r["suppressed"]:
        return f"{r['category']} dold"
    count = f"({fmt_int(r['n'])} ärenden)" if r["n"] is not None else ""
    if measure == "mean":
        return f"{r['category']} {fmt_dec(r['mean'])} {count}".strip()
    if measure == "share":
        return f"{r['category']} {fmt_pct(r['share'])} {count}".strip()
    return f"{r['category']} {count}".strip()


def _alt_items(rows: pl.DataFrame, measure: str, hidden: int) -> str:
    """Every category in the figure's order. Where values are hidden, a 0 % share is
    left out too (as in the figure, nothing is said about a hidden cell's neighbours)."""
    if rows.is_empty():
        return "inga värden visas"
    items = [
        _alt_value(r, measure)
        for r in rows.iter_rows(named=True)
        if not (hidden and measure == "share" and not r["suppressed"] and (r["share"] or 0) < 0.005)
    ]
    return join_words(items)


def _alt_phases(frame: pl.DataFrame, title: str) -> str:
    phases = [
        f"{r['category']} {fmt_int(r['n'])} av {fmt_int(r['denominator'])}"
        for r in frame.filter(~pl.col("suppressed")).iter_rows(named=True)
    ]
    return f"Diagram: {title.strip()}. Antal ärenden som registrerats i varje fas: {join_words(phases)}."


def alt_text(
    table: pl.DataFrame, title: str, top: int | None = None, kind: str | None = None, notes: Sequence[str] = ()
) -> str:
    """A Swedish description of the figure, built from its table: the N, then every
    category with its share (or count, or mean) and number of cases, in the figure's
    order and per group where the table has groups, what is hidden, and the figure's
    ``notes``. Diagram 1 (``kind`` ``phases``, or ``stacked_bar`` without groups) lists
    every phase. (``top`` is accepted for old callers; every category is named.)"""
    frame = table_frame(shown_labels(table))
    groups = groups_of(frame)
    if kind == "phases" or (kind == "stacked_bar" and not groups):
        return _alt_phases(frame, title)
    hidden = int(frame["suppressed"].sum())
    visible = frame.filter(~pl.col("suppressed"))
    measure = "mean" if visible["mean"].drop_nulls().len() else "share" if visible["share"].drop_nulls().len() else "n"
    sentences = [f"Diagram: {title.strip() or 'resultat'} ({n_subtitle(frame)})."]
    if groups:
        sentences += [f"{g}: {_alt_items(frame.filter(pl.col('group') == g), measure, hidden)}." for g in groups]
    else:
        body = _alt_items(frame, measure, hidden)
        sentences.append(body[0].upper() + body[1:] + ".")
    if measure == "share" and not groups and visible["share"].drop_nulls().sum() > 1.0001:
        sentences.append(f"{MULTI_NOTE.rstrip('.')}, så andelarna summerar till mer än 100 procent.")
    if hidden:
        what = "ett värde är dolt" if hidden == 1 else f"{hidden} värden är dolda"
        sentences.append(f"{what[0].upper()}{what[1:]} eftersom antalet ärenden är för litet.")
    sentences += [n if n.endswith(".") else n + "." for n in notes if n and n.rstrip(".") != MULTI_NOTE.rstrip(".")]
    return " ".join(sentences)
