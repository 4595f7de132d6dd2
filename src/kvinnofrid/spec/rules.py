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

Clean and the quality page ask this module which rules set a row aside and how; they
do not repeat it. Limits a description mentions (the adult age, the highest plausible
age) are formatted from the codebook, their single source; the rule *names* are the
vocabulary of the data (column names, issue tables) and stay as they are; a reader
sees each rule's Swedish ``title`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from kvinnofrid.spec import codebook

OUTCOMES = ("quarantine", "exclude", "field", "warning", "info")

# How the unit's feedback page names each outcome (Swedish).
OUTCOME_LABELS = {
    "quarantine": "raden sätts i karantän",
    "exclude": "raden exkluderas",
    "field": "fältet sätts som saknat",
    "warning": "varning",
    "info": "information",
}


@dataclass(frozen=True)
class Rule:
    name: str  # the vocabulary of the data (summary columns, issue tables, code): never shown to a reader
    outcome: str
    description: str  # Swedish, what was found
    advice: str  # Swedish, what the unit should do
    title: str  # Swedish, the rule's name wherever a reader sees it (report, quality pages)


def _with_codebook_limits(rules: tuple[Rule, ...]) -> dict[str, Rule]:
    """{name: rule} with the codebook's age limits filled into the descriptions."""
    derived = codebook.load().derived
    limits = {"adult_age": derived["adult_age"], "max_age": derived["max_age"]}
    return {
        r.name: replace(r, description=r.description.format(**limits), title=r.title.format(**limits)) for r in rules
    }


RULES: dict[str, Rule] = _with_codebook_limits(
    (
        Rule(
            "row_has_extra_fields",
            "quarantine",
            "Raden har fler fält än rubrikraden, troligen för att en kommentar innehåller "
            "avgränsaren (;) utan citattecken. Värdena kan ha hamnat i fel kolumner, så raden används inte.",
            "Exportera på nytt från SUreg, eller sätt kommentaren inom citattecken.",
            title="Raden har för många fält",
        ),
        Rule(
            "case_key_missing",
            "quarantine",
            "Klient (4) eller ett giltigt Datum för aktualisering (5) saknas, så ärendet kan inte identifieras.",
            "Fyll i klient och datum för aktualisering i SUreg och exportera igen.",
            title="Klient eller datum för aktualisering saknas",
        ),
        Rule(
            "duplicate_case_key",
            "quarantine",
            "Samma klient och datum för aktualisering förekommer på flera rader; den första raden används.",
            "Ta bort eller rätta dubbletten i SUreg.",
            title="Ärendet förekommer flera gånger",
        ),
        Rule(
            "opened_outside_period",
            "exclude",
            "Ärendet aktualiserades utanför uppföljningsperioden och ingår inte i sammanställningen.",
            "Kontrollera datum för aktualisering; inget behöver göras om datumet stämmer.",
            title="Aktualiserat utanför perioden",
        ),
        Rule(
            "age_under_18",
            "exclude",
            "Klienten var under {adult_age} år och ärendet räknas inte som ett vuxenärende.",
            "Kontrollera åldern; ärenden med barn ska inte registreras i uppföljningen av vuxna.",
            title="Klienten är under {adult_age} år",
        ),
        Rule(
            "personal_identity_number",
            "field",
            "Fältet innehöll något som ser ut som ett personnummer eller samordningsnummer. "
            "Värdet har tagits bort och visas inte.",
            "Ta bort personnumret ur fältet i SUreg; personnummer hör aldrig hemma i uppföljningen.",
            title="Personnummer i ett fält",
        ),
        Rule(
            "excel_error_value",
            "field",
            "Cellen innehöll ett felvärde från Excel (t.ex. #N/A eller #VALUE!) i stället för ett värde; "
            "fältet har satts som saknat.",
            "Skriv in värdet i SUreg (inte en formel) och exportera igen.",
            title="Felvärde från Excel",
        ),
        Rule(
            "age_above_110",
            "field",
            "Åldern är över {max_age} år och har satts som saknad.",
            "Rätta åldern i SUreg.",
            title="Ålder över {max_age} år",
        ),
        Rule(
            "age_not_a_number",
            "field",
            "Åldern kunde inte tolkas som ett antal år och har satts som saknad.",
            "Ange åldern som ett heltal, till exempel 34.",
            title="Åldern är inte ett tal",
        ),
        Rule(
            "invalid_date",
            "field",
            "Datumet kunde inte tolkas och har satts som saknat.",
            "Ange datum som ÅÅÅÅ-MM-DD.",
            title="Ogiltigt datum",
        ),
        Rule(
            "closing_date_before_opening",
            "field",
            "Datum för avslut ligger före datum för aktualisering; avslutsdatumet har satts som saknat.",
            "Rätta avslutsdatumet eller aktualiseringsdatumet i SUreg.",
            title="Avslut före aktualisering",
        ),
        Rule(
            "closing_date_after_submission",
            "field",
            "Datum för avslut ligger efter exportens datum; avslutsdatumet har satts som saknat.",
            "Rätta avslutsdatumet i SUreg.",
            title="Avslut efter exportens datum",
        ),
        Rule(
            "unknown_value",
            "field",
            "Värdet finns inte bland variabelns svarsalternativ och har satts som saknat.",
            "Välj ett av svarsalternativen i SUreg.",
            title="Okänt svarsalternativ",
        ),
        Rule(
            "risk_rating_out_of_range",
            "field",
            "Riskskattningen är inte ett heltal inom skalan och har satts som saknad.",
            "Ange skattningen som ett heltal inom instrumentets skala.",
            title="Riskskattning utanför skalan",
        ),
        Rule(
            "survey_answers_on_open_case",
            "warning",
            "Brukarenkäten är besvarad men ärendet saknar avslutsdatum.",
            "Fyll i datum för avslut om ärendet är avslutat.",
            title="Brukarenkät i ett pågående ärende",
        ),
        Rule(
            "goal_followup_without_closing_date",
            "warning",
            "Måluppföljning är ifylld men ärendet saknar avslutsdatum.",
            "Fyll i datum för avslut om ärendet är avslutat.",
            title="Måluppföljning utan avslutsdatum",
        ),
        Rule(
            "case_missing_from_later_export",
            "warning",
            "Ärendet fanns i en tidigare export från enheten men saknas i den senaste.",
            "Kontrollera om ärendet har raderats av misstag i SUreg.",
            title="Ärendet saknas i en senare export",
        ),
        Rule(
            "file_holds_several_units",
            "warning",
            "Filen innehåller rader från flera enheter (olika Kommun/stadsdel eller Verksamhet). "
            "Raderna har delats upp efter sina egna värden och räknas för respektive enhet.",
            "Exportera en fil per enhet, eller rätta Kommun/stadsdel (2) och Verksamhet (1) på raderna.",
            title="Filen innehåller flera enheter",
        ),
        Rule(
            "municipality_not_in_register",
            "warning",
            "Kommun/stadsdel (2) anger varken en kommun i kommunregistret eller en stadsdel i "
            "konfigurationen (districts). Ärendena är med, men enheten saknar storleksklass och län.",
            "Skriv kommunens namn som i SCB:s register (t.ex. Håbo), eller be den som sammanställer "
            "att lägga till stadsdelen under districts.",
            title="Okänd kommun eller stadsdel",
        ),
        Rule(
            "unit_name_changed",
            "warning",
            "Enheten har skrivit sitt namn på olika sätt i olika omgångar; exporterna räknas som "
            "samma enhet och ärendena räknas en gång.",
            "Använd samma namn i Kommun/stadsdel (2) varje gång.",
            title="Enhetens namn har ändrats",
        ),
        Rule(
            "file_unreadable",
            "info",
            "Filen kunde inte läsas och är inte med i sammanställningen (on_unreadable_file: skip).",
            "Exportera filen på nytt från SUreg och skicka in den igen.",
            title="Filen kunde inte läsas",
        ),
        Rule(
            "local_variable",
            "info",
            "Kolumnen är en lokal variabel och ingår inte i den nationella sammanställningen.",
            "Inget behöver göras.",
            title="Lokal variabel",
        ),
        # Added for exports nobody described (issue 21): appended, so that the columns of
        # summary.csv before them keep their places.
        Rule(
            "unit_text_not_a_unit",
            "quarantine",
            "Kommun/stadsdel (2) innehåller något som inte är en enhet: ett namn, en e-postadress eller ett "
            "telefonnummer, eller en text som bara finns på några få rader i en fil vars övriga rader anger en "
            "känd enhet. Texten visas inte, och raden används inte.",
            "Skriv enhetens namn i Kommun/stadsdel (2) på raden och exportera igen. Är texten en stadsdel, be "
            "den som sammanställer att lägga till den under districts eller i aliasfilen (unit_aliases).",
            title="Kommun/stadsdel anger ingen enhet",
        ),
        Rule(
            "column_label_differs",
            "info",
            "Kolumnens rubrik har andra ord än kodbokens men variabelns nummer (SUV) inom parentes; kolumnen "
            "har lästs som den variabel numret anger (värdet visar den förväntade rubriken).",
            "Kontrollera att kolumnen är den variabel som anges. Stämmer det behöver inget göras.",
            title="Kolumnens rubrik skiljer sig från kodbokens",
        ),
        Rule(
            "column_not_recognised",
            "warning",
            "Kolumnen liknar en gemensam variabel men kunde inte läsas som den (orden och numret pekar på "
            "olika variabler, eller numret saknas). Filen saknar därför variabeln (värdet) för alla ärenden.",
            "Ge kolumnen rubriken som visas under Värde, till exempel genom att exportera på nytt från SUreg, "
            "och skicka filen igen.",
            title="Kolumnen kunde inte kännas igen",
        ),
        Rule(
            "several_export_sheets",
            "warning",
            "Arbetsboken har flera flikar som ser ut som exporter. Bara en flik har lästs (se Inlästa filer); "
            "flikarna under Värde har inte lästs.",
            "Skicka en arbetsbok med en flik per export, eller ta bort kopiorna.",
            title="Flera flikar ser ut som exporter",
        ),
        Rule(
            "unit_service_type_changed",
            "warning",
            "Verksamhet (1) är en annan än i enhetens senaste export. Kommunen rapporterar genom en enhet, så "
            "exporterna räknas som samma enhet och ärendena räknas en gång.",
            "Använd samma Verksamhet (1) varje gång, eller meddela den som sammanställer om enheten har delats.",
            title="Verksamhet har ändrats mellan exporterna",
        ),
        Rule(
            "units_share_cases",
            "warning",
            "Samma ärenden (klient och datum för aktualisering) finns också hos en annan enhet i samma kommun "
            "(värdet säger hur många och var) och räknas hos båda.",
            "Kontrollera att ärendena ska registreras hos båda enheterna; annars ta bort dem hos den ena.",
            title="Samma ärenden finns hos två enheter",
        ),
    )
)

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


def with_outcome(*outcomes: str) -> tuple[str, ...]:
    """Names of the rules with one of ``outcomes``, in vocabulary order (for the row
    rules, that order is their precedence: a row counts under the first that applies)."""
    unknown = set(outcomes) - set(OUTCOMES)
    if unknown:
        raise KeyError(f"okänt utfall {sorted(unknown)} av en kvalitetsregel")
    return tuple(name for name, r in RULES.items() if r.outcome in outcomes)


def row_rules() -> tuple[str, ...]:
    """The rules that set a whole row aside (quarantine or exclude), by precedence."""
    return with_outcome("quarantine", "exclude")
