"""The data-quality rules: their names are the vocabulary of the quality report.

Every row-level or field-level problem that ingest or clean finds is an *issue* named
by one of these rules. The quality summary (results/quality/summary.csv) has one
column per rule, and each unit's feedback page explains the rule in Swedish and says
what to correct in SUreg. Adding a rule is one entry here.

``outcome`` says what happens to the data:
  quarantine   the row is set aside (not used, counted as quarantined)
  exclude      the row is left out of the compilation (counted as excluded)
  field        the field is set missing; the row is used
  warning      nothing changes; the unit is told
  info         recorded for the unit's information
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Rule:
    name: str
    outcome: str
    description: str  # Swedish, what was found
    advice: str  # Swedish, what the unit should do


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "case_key_missing",
            "quarantine",
            "Klient (4) eller ett giltigt Datum för aktualisering (5) saknas, så ärendet kan inte identifieras.",
            "Fyll i klient och datum för aktualisering i SUreg och exportera igen.",
        ),
        Rule(
            "duplicate_case_key",
            "quarantine",
            "Samma klient och datum för aktualisering förekommer på flera rader; den första raden används.",
            "Ta bort eller rätta dubbletten i SUreg.",
        ),
        Rule(
            "opened_outside_period",
            "exclude",
            "Ärendet aktualiserades utanför uppföljningsperioden och ingår inte i sammanställningen.",
            "Kontrollera datum för aktualisering; inget behöver göras om datumet stämmer.",
        ),
        Rule(
            "age_under_18",
            "exclude",
            "Klienten var under 18 år och ärendet räknas inte som ett vuxenärende.",
            "Kontrollera åldern; ärenden med barn ska inte registreras i uppföljningen av vuxna.",
        ),
        Rule(
            "age_above_110",
            "field",
            "Åldern är över 110 år och har satts som saknad.",
            "Rätta åldern i SUreg.",
        ),
        Rule(
            "age_not_a_number",
            "field",
            "Åldern kunde inte tolkas som ett antal år och har satts som saknad.",
            "Ange åldern som ett heltal, till exempel 34.",
        ),
        Rule(
            "invalid_date",
            "field",
            "Datumet kunde inte tolkas och har satts som saknat.",
            "Ange datum som ÅÅÅÅ-MM-DD.",
        ),
        Rule(
            "closing_date_before_opening",
            "field",
            "Datum för avslut ligger före datum för aktualisering; avslutsdatumet har satts som saknat.",
            "Rätta avslutsdatumet eller aktualiseringsdatumet i SUreg.",
        ),
        Rule(
            "closing_date_after_submission",
            "field",
            "Datum för avslut ligger efter exportens datum; avslutsdatumet har satts som saknat.",
            "Rätta avslutsdatumet i SUreg.",
        ),
        Rule(
            "unknown_value",
            "field",
            "Värdet finns inte bland variabelns svarsalternativ och har satts som saknat.",
            "Välj ett av svarsalternativen i SUreg.",
        ),
        Rule(
            "risk_rating_out_of_range",
            "field",
            "Riskskattningen är inte ett heltal inom skalan och har satts som saknad.",
            "Ange skattningen som ett heltal inom instrumentets skala.",
        ),
        Rule(
            "survey_answers_on_open_case",
            "warning",
            "Brukarenkäten är besvarad men ärendet saknar avslutsdatum.",
            "Fyll i datum för avslut om ärendet är avslutat.",
        ),
        Rule(
            "goal_followup_without_closing_date",
            "warning",
            "Måluppföljning är ifylld men ärendet saknar avslutsdatum.",
            "Fyll i datum för avslut om ärendet är avslutat.",
        ),
        Rule(
            "case_missing_from_later_export",
            "warning",
            "Ärendet fanns i en tidigare export från enheten men saknas i den senaste.",
            "Kontrollera om ärendet har raderats av misstag i SUreg.",
        ),
        Rule(
            "file_unreadable",
            "info",
            "Filen kunde inte läsas och är inte med i sammanställningen (on_unreadable_file: skip).",
            "Exportera filen på nytt från SUreg och skicka in den igen.",
        ),
        Rule(
            "local_variable",
            "info",
            "Kolumnen är en lokal variabel och ingår inte i den nationella sammanställningen.",
            "Inget behöver göras.",
        ),
    )
}

ROW_OUTCOMES = ("quarantine", "exclude")

# The issues table that ingest and clean write and the quality report reads.
# `value` holds the offending value of a non-personal field only (truncated), never a
# client or handler identifier or comment text.
ISSUE_SCHEMA = pl.Schema(
    {
        "file": pl.String(),  # path relative to the raw-data folder
        "row": pl.Int32(),  # row number as the unit sees it (spreadsheet row / CSV line); null for file-level
        "column": pl.String(),  # header text in the file; null for row-level
        "variable": pl.String(),  # codebook name; null if none
        "rule": pl.String(),  # a key of RULES
        "value": pl.String(),
    }
)


def rule(name: str) -> Rule:
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"okänd kvalitetsregel {name!r}") from None


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)
