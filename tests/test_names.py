"""One slug rule (kvinnofrid.spec.names.slug) names export ids, unit and län reports,
facts.json keys and report anchors; the names it gives are part of the output contract."""

import re

import pytest

from kvinnofrid.spec.names import slug


@pytest.mark.parametrize(
    "text, expected",
    [
        # units, län and size classes: results/kommuner/<slug>.*
        ("Sigtuna (Myndighet)", "sigtuna-myndighet"),
        ("Håbo", "habo"),
        ("Älvsbyn", "alvsbyn"),
        ("Örebro", "orebro"),
        ("Malmö – Söder", "malmo-soder"),
        ("Skellefteå (Utförare)", "skelleftea-utforare"),
        ("Bjärnå", "bjarna"),
        ("Café Ödåkra", "cafe-odakra"),
        ("Västra Götalands län", "vastra-gotalands-lan"),
        ("15 000–39 999 invånare", "15-000-39-999-invanare"),
        # export file ids (stages.rawfiles)
        ("SUreg export Årsta-Vantör 2023.xlsx", "sureg-export-arsta-vantor-2023-xlsx"),
        ("undermapp/Export ÅRSTA.CSV", "undermapp-export-arsta-csv"),
        # an open-ended range keeps its meaning; a dash inside a range does not
        ("75–", "75-plus"),
        ("181–270", "181-270"),
        ("Stadsdel –", "stadsdel"),
        ("  Ej HRV ", "ej-hrv"),
        ("ﬁlial²", "filial2"),  # compatibility forms (ligature, superscript) are their letters
        ("Møller & Søn", "m-ller-s-n"),  # a letter with no ASCII form becomes a separator
        ("", ""),
        ("–?–", ""),
    ],
)
def test_slug_is_ascii_words_joined_by_one_separator(text, expected):
    assert slug(text) == expected
    assert expected == "" or re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", expected)


def test_facts_keys_use_the_same_rule_with_underscores():
    assert slug("75–", sep="_") == "75_plus"
    assert slug("Ej HRV", sep="_") == "ej_hrv"
    assert slug("181–270", sep="_") == "181_270"
    assert slug("Kvinna", sep="_") == "kvinna"
    assert slug("Psykisk funktionsnedsättning", sep="_") == "psykisk_funktionsnedsattning"
