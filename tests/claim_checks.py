"""Checks of the report's words against the tables, written apart from the code that
chooses them (kvinnofrid.reporting.wording): the rules are restated here from the
design ("de flesta" only above 50 %, "statistiskt säkerställd" only when the p value
adjusted within the passage is below 0.05, …) and every claim of the ledger that
build_book writes (pastaenden.json) is checked against the tables, the facts and the
comparison rows it came from. Also the Swedish rules of the prose (Språkrådet): no
sentence starts with a digit, "procent" and not "%" in running text, dates written
out, no form instructions, rule codes or template code.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

import polars as pl

from kvinnofrid.spec.rules import RULES

NBSP = "\u00a0"
ALPHA = 0.05
# Words that say something about the data: they may only stand in a claim's sentence.
VOCABULARY = (
    "de flesta",
    "nästan alla",
    "hälften",
    "majoritet",
    "minoritet",
    "vanligast",
    "högre",
    "lägre",
    "högst",
    "lägst",
    "längre",
    "kortare",
    "oftare",
    "ökade",
    "minskade",
    "statistiskt säkerställd",
    "densamma",
    "störst",
    "fler än",
)
# Where the method text says what a word means, it is no claim about the data.
DEFINITIONS = re.compile(
    r"(kallas|om den är|annars|som inte är|annars inte) (inte )?statistiskt säkerställd|"
    r"statistiskt säkerställd när"
)
FORM_INSTRUCTION = re.compile(r"\((ange|specificera|fyll i)[^)]*\)", re.IGNORECASE)
TEMPLATE_CODE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#\s|#\}")
RULE_CODES = re.compile(r"\b(" + "|".join(re.escape(name) for name in RULES) + r")\b")


def percent(share: float) -> int:
    """The whole percent a reader sees (half-up)."""
    return int((Decimal(str(share)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_text(share: float) -> str:
    p = percent(share)
    if p == 0 and share > 0:
        return f"under 1{NBSP}procent"
    if p == 100 and share < 1:
        return f"över 99{NBSP}procent"
    return f"{p}{NBSP}procent"


def expected_quantity(share: float) -> str | None:
    """The design's rule for a share's word, restated."""
    p = percent(share)
    if share >= 1:
        return "alla"
    if share <= 0:
        return "inga"
    if p >= 95:
        return "nästan alla"
    if p >= 55:
        return "de flesta"
    if 50 < p < 55:
        return "drygt hälften"
    if p == 50:
        return "hälften"
    if 45 <= p < 50:
        return "knappt hälften"
    return None


def holm(p_values: list[float]) -> list[float]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# ---------------------------------------------------------------- claims


def _visible(table: pl.DataFrame, group: str | None) -> pl.DataFrame:
    rows = table.filter(~pl.col("suppressed").fill_null(False))
    return rows.filter(pl.col("group") == group) if group is not None else rows


def check_share(entry: dict, inputs: Any) -> None:
    claim, text = entry["claim"], entry["text"]
    if claim.get("fact"):
        assert math.isclose(claim["share"], inputs.facts[claim["fact"]]), claim
    else:
        rows = _visible(inputs.tables[claim["diagram"]], claim["group"]).filter(
            pl.col("category").is_in(claim["categories"])
        )
        assert rows.height == len(claim["categories"]), claim
        assert claim["n"] == int(rows["n"].sum()) and claim["denominator"] == int(rows["denominator"][0])
        shares = rows["share"].to_list()
        expected = sum(shares) if all(s is not None for s in shares) else claim["n"] / claim["denominator"]
        assert math.isclose(claim["share"], expected), claim
    if claim["small"]:
        assert "underlaget är litet" in text and f" av {claim['denominator']}" in text.replace(NBSP, " ")
        assert not entry["words"]
        return
    word = expected_quantity(claim["share"])
    assert list(entry["words"]) == ([word] if word else []), (text, claim["share"])
    assert percent_text(claim["share"]) in text, text


def check_ranking(entry: dict, inputs: Any) -> None:
    claim = entry["claim"]
    rows = _visible(inputs.tables[claim["diagram"]], claim["group"]).filter(pl.col("n").is_not_null())
    values = {
        r["category"]: (r["share"] if r["share"] is not None else r["n"] / r["denominator"])
        for r in rows.iter_rows(named=True)
    }
    top = max(values.values())
    assert math.isclose(values[claim["order"][0]], top), (claim, values)
    assert claim["order"] == sorted(claim["order"], key=lambda c: -values[c]), claim
    assert percent_text(top) in entry["text"]


def check_composition(entry: dict, inputs: Any) -> None:
    claim = entry["claim"]
    assert claim["shares"] == sorted(claim["shares"], reverse=True)
    rows = inputs.tables[claim["diagram"]]
    assert claim["order"][0] == rows.sort("share", descending=True)["category"][0]
    word = expected_quantity(claim["shares"][0])
    assert list(entry["words"]) == ([word] if word and word not in ("alla", "inga") else [])


def _stats_row(inputs: Any, claim: dict) -> dict:
    rows = inputs.stats.filter(
        (pl.col("comparison") == claim["comparison"])
        & (pl.col("variable") == claim["variable"])
        & (pl.col("category").is_null() if claim["category"] is None else pl.col("category") == claim["category"])
    )
    if claim["group_a"] is not None:
        rows = rows.filter((pl.col("group_a") == claim["group_a"]) & (pl.col("group_b") == claim["group_b"]))
    assert rows.height == 1, claim
    return rows.row(0, named=True)


def check_difference(claim: dict, text: str, words: list[str], inputs: Any) -> None:
    """Numbers from the comparison row; the verdict from the family's p; direction
    words only for a significant difference, pointing the way the numbers do."""
    if claim["group_a"] is None:  # a claim without numbers: says so
        assert "kunde inte göras" in text
        return
    row = _stats_row(inputs, claim)
    if (claim["share_a"] is None or claim["share_b"] is None) and (claim["mean_a"] is None or claim["mean_b"] is None):
        assert "kunde inte göras" in text  # a group without cases
        return
    for key in ("share_a", "share_b", "mean_a", "mean_b", "p_value"):
        if row[key] is None:
            assert claim[key] is None, key
        else:
            assert math.isclose(claim[key], row[key]), key
    if claim["share_a"] is not None:
        assert percent_text(claim["share_a"]) in text and percent_text(claim["share_b"]) in text, text
        a, b = percent(claim["share_a"]), percent(claim["share_b"])
    else:
        a, b = round(claim["mean_a"], 1), round(claim["mean_b"], 1)
    significant = claim["p_family"] is not None and claim["p_family"] < ALPHA
    assert significant == bool(claim["significant"])
    direction = {"högre", "lägre", "längre", "kortare"} & set(words)
    if claim["p_family"] is None:
        assert "inte kunnat prövas" in text or "kunde inte" in text
    elif significant:
        assert "statistiskt säkerställd" in text and "inte statistiskt säkerställd" not in text
    else:
        assert "inte statistiskt säkerställd" in text
        assert not direction or claim.get("screened"), text
    if direction:
        assert a != b and significant
        assert direction <= ({"högre", "längre"} if a > b else {"lägre", "kortare"}), (text, a, b)
    for small in ("liten", "slumpen", "obetydlig"):
        assert small not in text, text


def check_screen(entry: dict, inputs: Any) -> None:
    """Every significant row of the family is an item, with both values; no other row is."""
    claim, text = entry["claim"], entry["text"]
    family = [r for r in claim["family"] if r["group_a"] is not None and r["p_family"] is not None]
    assert claim["family_size"] == len(family)
    shown = [r for r in family if r["p_family"] < ALPHA]
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(items) == len(shown), (len(items), len(shown), text[:300])
    for r in shown:
        _stats_row(inputs, r)  # the numbers come from the comparison table
        if r["share_a"] is not None:
            pair = f"{percent_text(r['share_a'])} mot {percent_text(r['share_b'])}"
            assert any(pair in i for i in items), (pair, items)
    if family and not shown:
        assert text.startswith("Ingen av de"), text
    if shown:
        assert "inte statistiskt säkerställd" not in text


def check_families(ledger: list[dict], inputs: Any) -> None:
    """Every passage's p values are Holm-adjusted over exactly its family: the claims
    and screened rows of that passage, once each."""
    families: dict[str, dict[tuple, dict]] = {}
    for entry in ledger:
        rows = entry["claim"]["family"] if entry["kind"] == "screen" else [entry["claim"]]
        if entry["kind"] not in ("screen", "difference"):
            continue
        for r in rows:
            key = (r["comparison"], r["variable"], r["category"], r["group_a"], r["group_b"])
            families.setdefault(r["passage"], {})[key] = r
    for passage, rows in families.items():
        tested = [r for r in rows.values() if r["p_value"] is not None]
        expected = holm([r["p_value"] for r in tested])
        for r, p in zip(tested, expected):
            assert math.isclose(r["p_family"], p, abs_tol=1e-12), (passage, r["variable"], r["category"])
            assert r["family_size"] == len(tested), passage


def check_ledger(ledger: list[dict], inputs: Any) -> None:
    for entry in ledger:
        kind, claim = entry["kind"], entry["claim"]
        if kind == "share":
            check_share(entry, inputs)
        elif kind == "ranking":
            check_ranking(entry, inputs)
        elif kind == "composition":
            check_composition(entry, inputs)
        elif kind == "difference":
            check_difference(claim, entry["text"], entry["words"], inputs)
        elif kind == "screen":
            check_screen(entry, inputs)
        elif kind == "group_size":
            p = percent(claim["share"])
            word = "en majoritet" if p > 50 else "en minoritet" if p < 50 else "hälften"
            assert entry["words"] == [word]
        elif kind == "extremes":
            means = inputs.tables[10].filter(pl.col("mean").is_not_null())["mean"]
            assert math.isclose(claim["highest"]["mean"], means.max())
            assert math.isclose(claim["lowest"]["mean"], means.min())
        elif kind == "trend":
            values = [percent(s) for s in claim["shares"]]
            if "ökade" in entry["words"]:
                assert all(x < y for x, y in pairwise(values))
            elif "minskade" in entry["words"]:
                assert all(x > y for x, y in pairwise(values))
        elif kind == "rounds":  # the round comparison: the largest change is the largest
            points = [c["points"] for c in claim["changes"]]
            if "desamma" in entry["words"]:
                assert points and max(points) == 0
            if "störst" in entry["words"]:
                assert points[0] == max(points) > 0
                unit = "procentenhet" if points[0] == 1 else "procentenheter"
                assert f"högst {points[0]}{NBSP}{unit}" in entry["text"]
        elif kind == "best_unit":
            assert claim["small"] == (claim["denominator"] < inputs.registry.defaults["small_base"])
    check_families(ledger, inputs)


# ---------------------------------------------------------------- prose


def prose(text: str) -> list[str]:
    """The running text of a chapter: paragraphs and list items, without tables,
    figures, captions, headings, raw HTML, fenced blocks and div markers."""
    out: list[str] = []
    fenced = False
    paragraph: list[str] = []
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
            continue
        skip = fenced or stripped.startswith(("|", "![", ": ", "#", "<", ":::", "[Ladda"))
        if skip or not stripped:
            if paragraph:
                out.append(" ".join(paragraph))
                paragraph = []
            continue
        item = re.match(r"^(- |\d+\. )(.*)$", stripped)
        if item:
            if paragraph:
                out.append(" ".join(paragraph))
            paragraph = [item.group(2)]
        else:
            paragraph.append(stripped)
    return out


def sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", paragraph) if s]


def check_prose(name: str, text: str) -> None:
    for paragraph in prose(text):
        for sentence in sentences(paragraph):
            assert not re.match(r"[\d−]", sentence), (name, sentence)
        assert "%" not in paragraph, (name, paragraph)
        if name != "kolofon.qmd":  # the colophon dates the files ISO-style, as provenance
            assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", paragraph), (name, paragraph)


def check_reader_text(where: str, text: str) -> None:
    """What a reader may never see: template code, a rule's code name, a form instruction."""
    assert not TEMPLATE_CODE.search(text), (where, TEMPLATE_CODE.search(text))
    match = RULE_CODES.search(text)
    assert match is None, (where, match and match.group(0))
    assert not FORM_INSTRUCTION.search(text), (where, FORM_INSTRUCTION.search(text))


def words_outside_claims(chapters: dict[str, str], ledger: list[dict]) -> list[tuple[str, str]]:
    """Data-dependent words that stand outside every claim's sentence."""
    found = []
    texts = sorted({e["text"] for e in ledger if e["text"]}, key=len, reverse=True)
    for name, text in chapters.items():
        rest = " ".join(prose(text))
        for t in texts:
            for piece in t.split("\n"):
                piece = piece.removeprefix("- ").strip()
                if piece:
                    rest = rest.replace(piece, " ")
        lowered = DEFINITIONS.sub(" ", rest.lower())
        found += [(name, w) for w in VOCABULARY if re.search(rf"\b{w}\b", lowered)]
    return found
