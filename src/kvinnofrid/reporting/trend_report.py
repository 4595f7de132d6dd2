"""The round comparison in the national report: figure, table and sentences.

Everything here is drawn or written from the trend table (``trend.TREND_SCHEMA``,
results/trend/trend.csv) and the case counts per round (``trend.ROUNDS_SCHEMA``,
results/trend/rounds.csv); no share is computed here.

* ``trend_figure``: grouped horizontal bars in the house style (kvinnofrid.reporting.figure_style):
  one group of bars per measure, one colour per source. The previous report's bars
  are grey and the legend, the caption and the alt text say that those values are
  taken from the earlier report, not computed from these data.
* ``trend_table``: the Pandoc pipe table (Swedish numbers; the previous report's
  rows marked ``*`` with the note in the caption).
* ``trend_text``: the data-driven paragraph (cases per round, the largest change
  between the last two rounds, the final shares beside the previous report's).
* ``trend_context``: what the chapter template gets as ``trend``.

Rows of the trend table with an empty ``round`` are the previous report's values;
the others are rounds in date order (the last one the final compilation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from kvinnofrid.reporting import figure_style as style
from kvinnofrid.reporting import hidden
from kvinnofrid.reporting.markdown import attribute_text
from kvinnofrid.reporting.numfmt import MISSING, NBSP, fmt_date, fmt_int, fmt_pct
from kvinnofrid.reporting.swedish import antal, datum, join, points, procent, shown_percent
from kvinnofrid.statistics.trend import ROUNDS_SCHEMA, TREND_SCHEMA

if TYPE_CHECKING:
    import plotnine as p9

__all__ = [
    "FIGURE_CAPTION",
    "FIGURE_TITLE",
    "PREVIOUS_COLOUR",
    "read_rounds",
    "read_trend",
    "source_labels",
    "trend_alt_text",
    "trend_bars",
    "trend_block",
    "trend_context",
    "trend_figure",
    "trend_table",
    "trend_text",
]

FIGURE_TITLE = "Nyckelandelar per insamlingsomgång och i den tidigare rapporten"
FIGURE_CAPTION = "Figur 3"  # chapter 1 numbers its figures; chapter 2's diagrams keep "Diagram N"
PREVIOUS_COLOUR = "#8C8C8C"  # grey: not from these data
PREVIOUS_MARK = "*"
ANCHOR = "figur-trend"


def _previous_rows(trend: pl.DataFrame) -> pl.DataFrame:
    return trend.filter(pl.col("round").is_null())


def _rounds(trend: pl.DataFrame) -> list[dt.date]:
    return sorted(trend["round"].drop_nulls().unique().to_list())


def _previous_label(trend: pl.DataFrame) -> str | None:
    labels = _previous_rows(trend)["source"].unique(maintain_order=True).to_list()
    return labels[0] if labels else None


def _measures(trend: pl.DataFrame) -> list[tuple[str, str]]:
    """(id, label) in table order."""
    return list(dict.fromkeys(trend.select("measure", "label").iter_rows()))


def source_labels(trend: pl.DataFrame) -> dict[tuple[str, dt.date | None], str]:
    """(source, round) -> the label a reader sees: ``Slutlig sammanställning 2023-10-10``;
    the previous report's ``Tidigare rapport 2019–2020 (uppgift ur rapporten)``."""
    out: dict[tuple[str, dt.date | None], str] = {}
    for source, rnd in trend.select("source", "round").unique(maintain_order=True).iter_rows():
        out[(source, rnd)] = f"{source} (uppgift ur rapporten)" if rnd is None else f"{source} {fmt_date(rnd)}"
    return out


def _ordered_sources(trend: pl.DataFrame) -> list[tuple[str, dt.date | None]]:
    """Previous report first, then the rounds in date order."""
    keys = list(source_labels(trend))
    return sorted(keys, key=lambda k: (k[1] is not None, k[1] or dt.date.min))


def _colours(trend: pl.DataFrame) -> dict[str, str]:
    """Source label -> colour: grey for the previous report, the house blue for the
    final round, the palette's other colours for earlier rounds."""
    labels = source_labels(trend)
    rounds = _rounds(trend)
    earlier = iter([style.PALETTE[3], style.PALETTE[2], style.PALETTE[5], style.PALETTE[4], style.PALETTE[6]])
    colours = {}
    for key in _ordered_sources(trend):
        if key[1] is None:
            colours[labels[key]] = PREVIOUS_COLOUR
        elif key[1] == rounds[-1]:
            colours[labels[key]] = style.PALETTE[0]
        else:
            colours[labels[key]] = next(earlier, style.PALETTE[7])
    return colours


def _cases_subtitle(rounds: pl.DataFrame | None) -> str:
    if rounds is None or rounds.height == 0:
        return "Andel av ärendena där uppgiften finns"
    parts = [f"{fmt_int(r['cases'])} ({fmt_date(r['round'])})" for r in rounds.sort("round").iter_rows(named=True)]
    return "Antal ärenden per omgång: " + style.join_words(parts)


def _figure_note(trend: pl.DataFrame) -> str:
    label = _previous_label(trend)
    note = "Andelarna räknas på de ärenden där uppgiften finns; N per mått och omgång står i tabellen."
    if label:
        note = (
            f"{label}: värdena är hämtade ur den tidigare rapporten och är inte beräknade från detta underlag. " + note
        )
    return note


def trend_figure(trend: pl.DataFrame, rounds: pl.DataFrame | None = None, title: str = FIGURE_TITLE) -> p9.ggplot:
    """Grouped horizontal bars: measures down the side, one bar per source in
    chronological order (previous report on top, grey), ``94 %`` beside each bar."""
    # imported here: the text jobs (report_text, unit_report) read this module for its
    # sentences and tables, and plotnine with pandas and matplotlib cost them about 1 s
    import pandas as pd
    import plotnine as p9

    from kvinnofrid.reporting.figures import assemble

    labels = source_labels(trend)
    order = [labels[k] for k in _ordered_sources(trend)]
    measures = [label for _, label in _measures(trend)]
    wrapped = [style.wrap(m) for m in measures]
    shown = (
        trend.filter(pl.col("share").is_not_null())
        .with_columns(
            pl.struct("source", "round")
            .map_elements(lambda s: labels[(s["source"], s["round"])], return_dtype=pl.String)
            .alias("source_label"),
            pl.col("label").replace_strict(measures, wrapped).alias("label_measure"),
            pl.col("share").map_elements(lambda s: NBSP + fmt_pct(s), return_dtype=pl.String).alias("value"),
        )
        .select("label_measure", "source_label", "share", "value")
    )
    data = shown.to_pandas()
    # coord_flip draws the first dodge level at the bottom: reverse so the first
    # source is the upper bar of each measure; the legend keeps chronological order.
    data["source_label"] = pd.Categorical(data["source_label"], categories=list(reversed(order)))
    top = max(float(data["share"].max()) if len(data) else 0.0, 0.01)
    dodge = p9.position_dodge(width=0.82)
    plot = assemble(
        data,
        p9.aes("label_measure", "share", fill="source_label"),
        [
            p9.geom_col(position=dodge, width=0.8),
            p9.geom_text(
                p9.aes(label="value", group="source_label"),
                position=dodge,
                ha="left",
                size=7.5,
                color=style.TEXT_COLOUR,
            ),
            p9.scale_fill_manual(values=_colours(trend), breaks=order),
        ],
        categories=list(reversed(wrapped)),
        value_labels=style.pct_axis,
        value_max=min(1.0, top) * 1.16,
        title=title,
        subtitle=_cases_subtitle(rounds),
        caption=style.wrap(_figure_note(trend), 100),
        height=style.figure_height(len(measures) * max(1, len(order)) * 0.62, 1.2),
    )
    # the measure labels are long: align title and caption with the figure, not the panel
    return (
        plot
        + p9.theme(plot_title_position="plot", plot_caption_position="plot")
        + p9.guides(fill=p9.guide_legend(ncol=1))
    )


def trend_bars(trend: pl.DataFrame, rounds: pl.DataFrame | None = None) -> dict[str, Any]:
    """The round comparison as ``comparison_figure.comparison_bar_figure``'s arguments
    (the unit reports' figure): measures as categories, the sources in chronological
    order as groups with their colours, a hidden share in its slot with its mark."""
    labels = source_labels(trend)
    order = [labels[k] for k in _ordered_sources(trend)]
    reason = pl.col("hidden_reason") if "hidden_reason" in trend.columns else pl.lit(None, pl.String)
    table = (
        trend.with_columns(
            pl.struct("source", "round")
            .map_elements(lambda s: labels[(s["source"], s["round"])], return_dtype=pl.String)
            .alias("group"),
            pl.col("label").alias("category"),
            (pl.col("share").is_null() & reason.is_not_null()).alias("suppressed"),
            reason.alias("hidden_reason"),
        )
        .with_columns(pl.col("group").replace_strict(order, list(range(len(order))), return_dtype=pl.Int32).alias("k"))
        .sort("k", maintain_order=True)
        .select("group", "category", "n", "denominator", "share", "suppressed", "hidden_reason")
    )
    colours = _colours(trend)
    return {
        "table": table,
        "n_label": _cases_subtitle(rounds),
        "notes": [_figure_note(trend)],
        "colours": [colours[g] for g in order],
    }


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _definite(label: str) -> str:
    """'Andel kvinnor' -> 'andelen kvinnor' (for a sentence); other labels lower-cased."""
    if label.startswith("Andel "):
        return "andelen " + label[len("Andel ") :]
    return _lower(label)


def trend_alt_text(trend: pl.DataFrame, title: str = FIGURE_TITLE) -> str:
    """One Swedish paragraph naming every bar's value, per measure."""
    labels = source_labels(trend)
    order = _ordered_sources(trend)
    sentences = [f"Figur: {title}."]
    for measure, label in _measures(trend):
        rows = {
            (r["source"], r["round"]): r["share"]
            for r in trend.filter(pl.col("measure") == measure).iter_rows(named=True)
        }
        parts = [f"{fmt_pct(rows[k])} i {labels[k]}" for k in order if rows.get(k) is not None]
        sentences.append(f"{label}: {style.join_words(parts)}.")
    if _previous_label(trend):
        sentences.append(f"Värdena för {_previous_label(trend)} är hämtade ur den tidigare rapporten.")
    return " ".join(sentences)


def _cell(text: Any) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _shown(row: dict, text: str) -> str:
    """A value, or the mark of why it is hidden (kvinnofrid.reporting.hidden) where a
    protected area's key share is hidden in a round."""
    if row.get("hidden_reason") and row.get("share") is None:
        return hidden.mark(row["hidden_reason"])
    return text


def trend_table(trend: pl.DataFrame) -> str:
    """The pipe table of the trend rows with a caption; the previous report's rows are
    marked and explained (their n and interval are unknown: ``–``)."""
    lines = [
        "| Mått | Underlag | Antal | Bas (N) | Andel | 95 % konfidensintervall |",
        # dashes set the relative column widths in the PDF: text wide, numbers narrow
        "|:-----------|:-------------------|-----:|------:|-----:|--------:|",
    ]
    order = {k: i for i, k in enumerate(_ordered_sources(trend))}
    for measure, label in _measures(trend):
        rows = sorted(
            trend.filter(pl.col("measure") == measure).iter_rows(named=True),
            key=lambda r: order[(r["source"], r["round"])],
        )
        for i, r in enumerate(rows):
            previous = r["round"] is None
            source = r["source"] + "\\" + PREVIOUS_MARK if previous else f"{r['source']} {fmt_date(r['round'])}"
            lo, hi = r["ci_low"], r["ci_high"]
            lines.append(
                "| "
                + " | ".join(
                    [
                        _cell(label) if i == 0 else "",
                        _cell(source),
                        _shown(r, fmt_int(r["n"])),
                        _shown(r, fmt_int(r["denominator"])),
                        _shown(r, fmt_pct(r["share"])),
                        MISSING if lo is None or hi is None else f"{fmt_pct(lo)}–{fmt_pct(hi)}",
                    ]
                )
                + " |"
            )
    caption = "Nyckelandelar per insamlingsomgång med antal, bas och 95 % konfidensintervall (Wilsons metod)."
    label = _previous_label(trend)
    if label:
        caption += (
            f" \\{PREVIOUS_MARK} {label}: värdet är hämtat ur den tidigare rapporten; antal, bas och "
            "konfidensintervall finns inte i detta underlag."
        )
    return "\n".join(lines) + "\n\n: " + caption


def _rounds_sentence(rounds: pl.DataFrame | None) -> list[str]:
    """Cases and units per round."""
    if rounds is None or not rounds.height:
        return []
    parts = [
        f"underlaget {datum(r['round'])} ({_lower(r['source'])}) "
        + ("omfattade " if i == 0 else "")
        + f"{antal(r['cases'], 'ärenden' if r['cases'] != 1 else 'ärende')} från "
        + antal(r["units"], "verksamheter" if r["units"] != 1 else "verksamhet", "utrum")
        for i, r in enumerate(rounds.sort("round").iter_rows(named=True))
    ]
    text = join(parts)
    return [text[:1].upper() + text[1:] + "."]


def change_claim(trend: pl.DataFrame) -> dict[str, Any]:
    """The change of each key share between the last two rounds, in shown whole
    percents (``changes``: measure label, points, before, after), largest first."""
    round_dates = _rounds(trend)
    if len(round_dates) < 2:
        return {"changes": []}
    before, final = round_dates[-2], round_dates[-1]
    changes = []
    for measure, label in _measures(trend):
        rows = trend.filter(pl.col("measure") == measure)
        a = rows.filter(pl.col("round") == before)["share"]
        b = rows.filter(pl.col("round") == final)["share"]
        if a.len() and b.len() and a[0] is not None and b[0] is not None:
            changes.append(
                {
                    "measure": label,
                    "points": abs(shown_percent(b[0]) - shown_percent(a[0])),
                    "before": a[0],
                    "after": b[0],
                }
            )
    return {
        "before": before.isoformat(),
        "final": final.isoformat(),
        "changes": sorted(changes, key=lambda c: -c["points"]),
    }


def _change_sentence(trend: pl.DataFrame) -> list[str]:
    """The largest change of a key share between the last two rounds (shown percents):
    the sentence of change_claim, so the text says what the claim holds."""
    claim = change_claim(trend)
    if not claim["changes"]:
        return []
    before, final, largest = claim["before"], claim["final"], claim["changes"][0]
    if largest["points"] == 0:
        return [
            f"Mellan omgångarna {datum(before)} och {datum(final)} var "
            "nyckelandelarna desamma, avrundade till hela procent."
        ]
    return [
        f"Mellan omgångarna {datum(before)} och {datum(final)} ändrades nyckelandelarna med "
        f"högst {points(largest['points'])}; störst var ändringen för {_definite(largest['measure'])} "
        f"({procent(largest['before'])} mot {procent(largest['after'])})."
    ]


def _previous_sentence(trend: pl.DataFrame) -> list[str]:
    """The final shares beside the previous report's, with what differs between them."""
    label, round_dates = _previous_label(trend), _rounds(trend)
    if not label or not round_dates:
        return []
    now_parts, previous_parts = [], []
    for measure, m_label in _measures(trend):
        rows = trend.filter(pl.col("measure") == measure)
        prev = rows.filter(pl.col("round").is_null())["share"]
        now = rows.filter(pl.col("round") == round_dates[-1])["share"]
        if prev.len() and now.len() and now[0] is not None:
            now_parts.append(f"{_definite(m_label)} {procent(now[0])}")
            previous_parts.append(procent(prev[0]))
    if not now_parts:
        return []
    return [
        f"I den slutliga sammanställningen var {join(now_parts)}. Enligt {_lower(label)} var "
        f"motsvarande andelar {join(previous_parts)}; de värdena är hämtade ur den tidigare "
        "rapporten och inte beräknade från detta underlag. Deltagarna och variablerna var inte "
        "desamma då, så jämförelsen visar ungefärliga nivåer, och skillnaderna mot den tidigare "
        "rapporten har inte prövats statistiskt."
    ]


def trend_text(trend: pl.DataFrame, rounds: pl.DataFrame | None = None) -> str:
    """The paragraph about the rounds and the previous report, from the tables only.

    Differences are taken between the whole percents shown, so that the text agrees
    with what a reader computes from the figure. Prose forms (kvinnofrid.reporting.swedish):
    "94 procent", "10 oktober 2023", counts up to twelve in words."""
    return " ".join(_rounds_sentence(rounds) + _change_sentence(trend) + _previous_sentence(trend))


def trend_block(trend: pl.DataFrame, image: str, csv: str, title: str = FIGURE_TITLE) -> str:
    """The figure (caption ``Figur 3: …``, alt text), the table, and in HTML a link to
    the CSV (class ``csv-download``: the filter embeds it)."""
    return "\n".join(
        [
            f'![{FIGURE_CAPTION}: {title}]({image}){{#{ANCHOR} fig-alt="{attribute_text(trend_alt_text(trend, title))}" '
            'width="100%"}',
            "",
            trend_table(trend),
            "",
            '::: {.content-visible when-format="html"}',
            f'[Ladda ner tabellen som CSV]({csv}){{.csv-download download="{csv.rsplit("/", 1)[-1]}"}}',
            ":::",
            "",
        ]
    )


def rounds_lead(rounds_text: Sequence[str]) -> str:
    """When the key shares are shown, in the chapter's words: "vid varje
    insamlingsomgång (a, b och c)"; with one round "vid insamlingsomgången (c)", since
    there is nothing to compare yet."""
    if len(rounds_text) == 1:
        return f"vid insamlingsomgången ({rounds_text[0]})"
    return f"vid varje insamlingsomgång ({join(list(rounds_text))})"


def rounds_note(n_rounds: int) -> str:
    """What a round counts and what the rounds' comparison shows; nothing for one round."""
    if n_rounds < 2:
        return ""
    return (
        "Vid en omgång räknas för varje verksamhet den senaste export som fanns då. "
        "Jämförelsen mellan omgångarna visar hur mycket resultaten ändrades när fler "
        "verksamheter och ärenden kom med."
    )


def trend_context(
    trend: pl.DataFrame,
    rounds: pl.DataFrame | None = None,
    *,
    image: str = "figures/trend.png",
    csv: str = "tables/trend.csv",
) -> dict[str, Any]:
    """What the chapter template gets as ``trend``: ``text``, ``block``, ``figure``
    (the caption's "Figur 3"), ``previous_label``, ``n_measures``, ``n_rounds``,
    ``rounds`` (ISO dates), ``rounds_text`` (dates in prose), ``lead`` and ``note``
    (``rounds_lead``, ``rounds_note``) and ``measures`` (labels)."""
    dates = _rounds(trend)
    prose = [datum(r) for r in dates]
    return {
        "text": trend_text(trend, rounds),
        "block": trend_block(trend, image, csv),
        "figure": FIGURE_CAPTION,
        "previous_label": _previous_label(trend),
        "n_measures": len(_measures(trend)),
        "n_rounds": len(dates),
        "rounds": [fmt_date(r) for r in dates],
        "rounds_text": prose,
        "lead": rounds_lead(prose),
        "note": rounds_note(len(dates)),
        "change": change_claim(trend),
        "measures": [label for _, label in _measures(trend)],
    }


def read_trend(path: Any) -> pl.DataFrame:
    """results/trend/trend.csv as written by the trend rule, typed by TREND_SCHEMA."""
    return pl.read_csv(path, schema=TREND_SCHEMA)


def read_rounds(path: Any) -> pl.DataFrame:
    """results/trend/rounds.csv, typed by ROUNDS_SCHEMA."""
    return pl.read_csv(path, schema=ROUNDS_SCHEMA)
