# Kolada key figures: results/kolada/nyckeltal.csv, one row per (unit, year, key
# figure, gender), counts per 10 000 adult inhabitants. Below national level, so the
# small-number protection applies (config suppression_threshold).

from kvinnofrid.disclosure import kolada as kolada_figures
from kvinnofrid.spec.names import DEMO_MARKER

_kolada_problems = kolada_figures.check_settings(SETTINGS.kolada)
if _kolada_problems:
    raise WorkflowError("Fel i konfigurationen (config.yaml eller --config):\n  - " + "\n  - ".join(_kolada_problems))


def kolada_population(wildcards):
    """The SCB population file (config kolada.population). Without one, the packaged
    demo population, but only when the raw data is the demo data: its figures are
    made up, and key figures of real cases against them would look real. Checked when
    the DAG is built, so only a run that needs the key figures stops, and before any job."""
    if SETTINGS.kolada_population is not None:
        if not SETTINGS.kolada_population.is_file():
            raise WorkflowError(
                f"kolada.population: filen {SETTINGS.kolada_population} finns inte. Ange sökvägen till "
                "SCB:s befolkningstabell BE0101N1 exporterad som CSV (se README, Kolada-nyckeltal)."
            )
        return str(SETTINGS.kolada_population)
    if not (SETTINGS.data_raw / DEMO_MARKER).is_file():
        raise WorkflowError(
            f"kolada.population är tomt, och då används paketets påhittade demobefolkning. Den får bara "
            f"användas med demodata, men mappen {RAW} är inte märkt som demodata (filen {DEMO_MARKER} saknas). "
            "Ladda ner SCB:s tabell BE0101N1 (Folkmängden efter region, civilstånd, ålder och kön) som CSV "
            "från Statistikdatabasen för kommunerna och åren i uppföljningen och ange filen under "
            "kolada: population i config.yaml eller i din egen --configfile (se README, Kolada-nyckeltal)."
        )
    return str(kolada_figures.demo_population_path())


rule kolada:
    input:
        derived=f"{INTERIM}/cases_derived.parquet",
        units=f"{INTERIM}/units.csv",
        population=kolada_population,
        register=REGISTER_FILE,
    output:
        f"{RESULTS}/kolada/nyckeltal.csv",
    log:
        "logs/kolada.log",
    params:
        kolada=SETTINGS.kolada,
        threshold=SETTINGS.suppression_threshold,
        districts=SETTINGS.districts,
    script:
        "../../scripts/kolada.py"
