"""Claims as data (kvinnofrid.statistics.claims) on hand-made tables and comparison rows:
shares and rankings read from the tables, and each passage's family corrected with
Holm's method over exactly the comparisons the passage makes together."""

from __future__ import annotations

import math

import polars as pl
import pytest

from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import ClaimSpec, Passage, load_registry
from kvinnofrid.statistics.claims import find_difference, passage_differences, ranking, share_of
from kvinnofrid.statistics.stats import STATS_SCHEMA, holm

CB = codebook.load()
REG = load_registry()

AGES = pl.DataFrame(
    {
        "group": [None] * 4,
        "category": ["18–24", "25–34", "65–74", "75–"],
        "n": [10, 30, 45, 15],
        "denominator": [100] * 4,
        "share": [0.10, 0.30, 0.45, 0.15],
        "suppressed": [False, False, False, False],
    }
)


def test_share_of_sums_the_categories_and_keeps_the_parts():
    found = share_of(AGES, ["65–74", "75–"], diagram=3)
    assert (found.n, found.denominator) == (60, 100) and math.isclose(found.share, 0.60)
    assert found.parts == (0.45, 0.15)
    with pytest.raises(KeyError, match="visar inte kategorin '45–54'"):
        share_of(AGES, ["45–54"], diagram=3)


def test_a_table_of_counts_gives_n_over_n():
    counts = AGES.with_columns(pl.lit(None, pl.Float64).alias("share"))
    assert math.isclose(share_of(counts, ["25–34"]).share, 0.30)


def test_ranking_is_largest_first_and_leaves_hidden_rows_out():
    assert [s.label for s in ranking(AGES)] == ["65–74", "25–34", "75–", "18–24"]
    hidden = AGES.with_columns(suppressed=pl.col("category") == "65–74")
    assert ranking(hidden)[0].label == "25–34"


def row(comparison: str, variable: str, category: str | None, p: float | None, **values) -> dict:
    out = dict.fromkeys(STATS_SCHEMA.names())
    out.update(
        comparison=comparison,
        variable=variable,
        category=category,
        group_a="A",
        group_b="B",
        share_a=0.3,
        share_b=0.2,
        n_a=30,
        n_b=20,
        denominator_a=100,
        denominator_b=100,
        p_value=p,
        **values,
    )
    return out


def test_the_family_is_the_passage_not_the_pair_of_groups():
    """Two passages on the same pair of groups are corrected apart; a row of the
    comparison table that no passage makes is in no family."""
    stats = pl.DataFrame(
        [
            row("men", "perpetrator", "Förälder/föräldrar", 0.01),
            row("men", "perpetrator", "Före detta partner", 0.02),
            row("men", "age_group", "18–24", 0.001),
            row("men", "age_group", "25–34", 0.5),
            row("men", "interventions", "Skyddat boende", 0.0001),  # in no passage below
        ],
        schema=STATS_SCHEMA,
    )
    registry = REG.__class__(
        **{
            **REG.__dict__,
            "passages": {
                "man": Passage("man", claims=(ClaimSpec("men", "perpetrator", (3, 2)),)),
                "kon-alder": Passage("kon-alder", screen=(ClaimSpec("men", "age_group"),)),
            },
        }
    )
    families = passage_differences(stats, registry, CB)
    man = families["man"]
    assert [d.category for d in man] == ["Förälder/föräldrar", "Före detta partner"]  # the registry's order
    assert [d.p_family for d in man] == pytest.approx(holm([0.01, 0.02]))
    assert all(d.family_size == 2 and not d.screened for d in man)
    ages = families["kon-alder"]
    assert [d.p_family for d in ages] == pytest.approx(holm([0.001, 0.5]))
    assert all(d.screened for d in ages) and ages[0].significant and not ages[1].significant
    assert find_difference(families, "men", "interventions", "Skyddat boende") is None


def test_a_claim_without_a_comparison_row_stays_and_says_it_has_no_numbers():
    registry = REG.__class__(
        **{**REG.__dict__, "passages": {"man": Passage("man", claims=(ClaimSpec("men", "n_interventions"),))}}
    )
    (claim,) = passage_differences(pl.DataFrame(schema=STATS_SCHEMA), registry, CB)["man"]
    assert not claim.available and claim.p_family is None and claim.significant is None


def test_the_registry_passages_name_text_ids_and_real_options():
    ids = set(REG.text_ids)
    assert set(REG.passages) <= ids
    for passage in REG.passages.values():
        for spec in passage.claims + passage.screen:
            assert spec.comparison in REG.labels["comparison_prose"], spec
