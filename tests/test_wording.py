"""The wording rules (kvinnofrid.reporting.wording, swedish) on hand-made numbers, and a
sentence for every option of every codebook variable and every derived category."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kvinnofrid.reporting import wording
from kvinnofrid.reporting.swedish import antal, arenden, datum, procent, sentence, subordinate
from kvinnofrid.reporting.wording import GroupNames
from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import PHRASED_LISTS, category_clause, load_registry
from kvinnofrid.statistics.claims import Difference, Share

NBSP = "\u00a0"
CB = codebook.load()
REG = load_registry()
MEN = GroupNames("männen", "kvinnorna", "bland männen", "bland kvinnorna")


def share(value: float, n: int = 100, denominator: int = 1000, parts: tuple = ()) -> Share:
    return Share(2, ("Kategori",), None, n, denominator, value, parts)


@pytest.mark.parametrize(
    "value, word",
    [
        (1.0, "alla"),
        (0.996, "nästan alla"),
        (0.95, "nästan alla"),
        (0.944, "de flesta"),
        (0.55, "de flesta"),
        (0.545, "de flesta"),  # shown as 55 %
        (0.544, "drygt hälften"),
        (0.506, "drygt hälften"),
        (0.504, "hälften"),  # shown as 50 %: never "de flesta" or "drygt"
        (0.5, "hälften"),
        (0.45, "knappt hälften"),
        (0.444, None),
        (0.0, "inga"),
    ],
)
def test_quantity_words_follow_the_shown_percent(value, word):
    phrase, chosen = wording.quantity(value, "ärendena")
    assert chosen == word
    if word is None:
        assert phrase == f"{procent(value)} av ärendena"


def test_de_flesta_is_never_said_of_half_or_less():
    for k in range(0, 1001):
        _, word = wording.quantity(k / 1000, "ärendena")
        if word == "de flesta":
            assert k / 1000 > 0.5


def test_a_share_sentence_on_a_small_base_gives_the_count_and_says_so():
    said = wording.share_sentence("klienten var man", share(6 / 23, 6, 23), "de avslutade ärendena", 30)
    assert said.text == (
        f"Klienten var man i sex av 23 avslutade ärenden; underlaget är litet, så andelen (26{NBSP}procent) är osäker."
    )
    assert said.words == ()


def test_a_sum_whose_rounded_parts_do_not_add_up_says_so():
    parts = (0.0215, 0.0165)  # 2 % and 2 % in the figure, 4 % together: agrees
    assert "avrundade" not in wording.share_sentence("x", share(0.038, parts=parts), "ärendena", 30).text
    parts = (0.022, 0.014)  # 2 % and 1 %, 4 % together: the reader adds 3
    text = wording.share_sentence("klienten var 65 år eller äldre", share(0.036, parts=parts), "ärendena", 30).text
    assert f"i diagrammet 2 respektive 1{NBSP}procent, avrundade var för sig" in text


def difference(p: float | None, a: float = 0.13, b: float = 0.26, **extra) -> Difference:
    values = dict(
        passage="man",
        comparison="men",
        variable="implementation",
        category="Samtliga stöd/insatser har avbrutits",
        group_a="Man",
        group_b="Kvinna",
        n_a=13,
        denominator_a=100,
        n_b=520,
        denominator_b=2000,
        share_a=a,
        share_b=b,
        difference=a - b,
        low=a - b - 0.07,
        high=a - b + 0.07,
        p_value=p,
        p_family=p,
        family_size=8,
    )
    return Difference(**{**values, **extra})


def test_a_significant_difference_gets_its_direction_interval_and_verdict():
    said = wording.difference_sentences(difference(0.01), MEN, "samtliga insatser avbröts")
    assert said.text == (
        f"Andelen ärenden där samtliga insatser avbröts var lägre bland männen (13{NBSP}procent) än bland "
        f"kvinnorna (26{NBSP}procent). Skillnaden, 13{NBSP}procentenheter (95-procentigt konfidensintervall: "
        "6–20), är statistiskt säkerställd."
    )
    assert said.words == ("lägre", "statistiskt säkerställd")


def test_a_large_difference_that_fails_is_not_called_small():
    said = wording.difference_sentences(difference(0.3), MEN, "samtliga insatser avbröts")
    assert "är inte statistiskt säkerställd" in said.text and "13\u00a0procentenheter" in said.text
    assert "lägre" not in said.text and "liten" not in said.text and "slumpen" not in said.text


def test_an_interval_over_zero_reads_till_and_an_untested_difference_says_so():
    text = wording.difference_sentences(difference(0.6, a=0.26, b=0.25), MEN, "x hände").text
    assert "konfidensintervall: −6 till 8)" in text
    untested = wording.difference_sentences(difference(None), MEN, "x hände").text
    assert untested.endswith("Skillnaden har inte kunnat prövas statistiskt.")
    missing = wording.difference_sentences(difference(None, share_a=None), MEN, "x hände").text
    assert "kunde inte göras" in missing


def test_equal_shown_shares_are_said_to_be_the_same():
    text = wording.difference_sentences(difference(0.9, a=0.101, b=0.098), MEN, "våldet var hedersrelaterat").text
    assert text.startswith(f"Andelen ärenden där våldet var hedersrelaterat var densamma, 10{NBSP}procent,")
    assert "procentenheter)" in text


def test_a_mean_difference_in_days_reads_longer_with_the_unit():
    days = GroupNames("a", "b", "bland de långa", "bland de korta", "längre", "kortare", True)
    d = difference(0.001, variable="duration_days", category=None, share_a=None, share_b=None)
    d = Difference(**{**d.__dict__, "mean_a": 227.0, "mean_b": 94.0, "difference": 133.0, "low": 120.0, "high": 146.0})
    text = wording.difference_sentences(d, days, "kontaktens längd", "dagar", 0).text
    assert text.startswith(f"I genomsnitt var kontaktens längd längre bland de långa (227{NBSP}dagar)")
    assert f"Skillnaden, 133{NBSP}dagar" in text


def test_a_screen_reports_every_significant_row_and_says_when_none_differs():
    def describe(d):
        return "samtliga insatser avbröts", MEN, "", 1

    family = [difference(0.01), difference(0.2, category="Annat", a=0.1, b=0.12)]
    said = wording.screen_paragraph(family, describe, ["hur insatserna genomfördes"])
    assert said.text.startswith("Av de två prövade jämförelserna mellan männen och kvinnorna var det en som visade")
    assert len([line for line in said.text.splitlines() if line.startswith("- ")]) == 1
    none = wording.screen_paragraph([difference(0.2), difference(0.4)], describe, ["hur insatserna genomfördes"])
    assert none.text.startswith("Ingen av de två prövade jämförelserna mellan männen och kvinnorna visade någon")
    both = wording.screen_paragraph([difference(0.01), difference(0.02)], describe, ["x"])
    assert both.text.startswith("Båda de prövade jämförelserna")


@pytest.mark.parametrize(
    "clause, expected",
    [
        ("våldet var inte hedersrelaterat", "våldet inte var hedersrelaterat"),
        ("våldet bedömdes inte som grovt", "våldet inte bedömdes som grovt"),
        (
            "socialtjänsten samverkade inte med någon annan aktör",
            "socialtjänsten inte samverkade med någon annan aktör",
        ),
        ("något individuellt förändringsmål sattes inte upp", "något individuellt förändringsmål inte sattes upp"),
        ("det gick inte att bedöma om målet uppnåddes", "det inte gick att bedöma om målet uppnåddes"),
        ("klienten visste inte om situationen hade förändrats", "klienten inte visste om situationen hade förändrats"),
        ("ärendet avslutades för att klienten inte återkom", "ärendet avslutades för att klienten inte återkom"),
        (
            "klienten svarade att situationen inte hade förändrats",
            "klienten svarade att situationen inte hade förändrats",
        ),
        ("klienten fick skyddat boende", "klienten fick skyddat boende"),
    ],
)
def test_subordinate_word_order(clause, expected):
    assert subordinate(clause) == expected


def test_swedish_numbers_dates_and_sentences():
    assert procent(0.9376) == f"94{NBSP}procent"
    assert procent(0.003) == f"under 1{NBSP}procent" and procent(0.998) == f"över 99{NBSP}procent"
    assert procent(0.0) == f"0{NBSP}procent" and procent(1.0) == f"100{NBSP}procent"
    assert antal(6, "ärenden") == "sex ärenden" and antal(1, gender="utrum") == "en"
    assert antal(12) == "tolv" and antal(13) == "13" and antal(3070) == f"3{NBSP}070"
    assert arenden(1) == "ett ärende" and arenden(14) == "14 ärenden"
    assert datum("2023-10-10") == "10 oktober 2023" and datum(dt.date(2022, 1, 1)) == "1 januari 2022"
    with pytest.raises(ValueError, match="siffra"):
        sentence("47 verksamheter deltog")
    assert sentence("klienten var kvinna") == "Klienten var kvinna."


def every_category() -> list[tuple[str, str, str]]:
    """(variable, category label, clause) for every option of every codebook variable
    with options and every category of the derived columns and flags."""
    out = [(v.name, o.label, v.clause_of(o.code)) for v in CB.variables for o in v.options]
    for list_name, column in PHRASED_LISTS.items():
        out += [(column, label, category_clause(REG, CB, column, label)) for label in REG.label_list(list_name, CB)]
    out += [
        ("initiative_groups", label, category_clause(REG, CB, "initiative_groups", label))
        for label in REG.label_list("initiative_groups", CB)
    ]
    for label in REG.phrases["risk_change"]["options"]:
        out.append(("risk_change", label, category_clause(REG, CB, "risk_change", label)))
    for flag in ("risk_assessed", "has_intervention", "housing_intervention", "goal_reached", "single_intervention"):
        out.append((flag, "Ja", category_clause(REG, CB, flag, REG.labels["yes"])))
    return out


CATEGORIES = every_category()


@pytest.mark.parametrize("variable, label, clause", CATEGORIES, ids=[f"{v}:{c}" for v, c, _ in CATEGORIES])
def test_every_category_reads_as_swedish_in_every_frame(variable, label, clause):
    """Each category in the three frames the text puts it in: a share, a ranking and a
    comparison. No form instruction, no template code, no doubled word, no label pasted
    in raw (the form's capitals, slashes or parentheses)."""
    texts = [
        wording.share_sentence(clause, share(0.3), "ärendena", 30).text,
        wording.ranking_sentence([(clause, share(0.3)), (clause, share(0.2))], "ärendena").text,
        wording.difference_sentences(difference(0.01), MEN, clause).text,
    ]
    for text in texts:
        assert text[0].isupper() and text.endswith("."), text
        assert not re.search(r"\{|\}|ange i|kommentar", text), text
        assert not re.search(r"\b(\w+) \1\b", text), text  # "med med"
        assert " där ärendet " not in text, text
        assert "  " not in text
    body = clause[1:]
    assert "/" not in clause, clause  # "eller", not the form's slash
    assert not re.search(r"[A-ZÅÄÖ]{2,}", body) or any(a in body for a in ("FREDA", "SARA", "SAM")), clause
    assert label.lower() != clause.lower(), clause
