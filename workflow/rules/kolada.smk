# Kolada key figures: results/kolada/nyckeltal.csv, one row per (unit, year, key
# figure, gender), counts per 10 000 adult inhabitants. Below national level, so the
# small-number protection applies (config suppression_threshold).

_kolada_problems = kolada_figures.check_settings(SETTINGS.kolada)
if _kolada_problems:
    raise WorkflowError("Fel i konfigurationen (config.yaml eller --config):\n  - " + "\n  - ".join(_kolada_problems))


rule kolada:
    input:
        derived=f"{INTERIM}/cases_derived.parquet",
        units=f"{INTERIM}/units.csv",
        population=kolada_population,
        register=REGISTER_FILE,
        code=code_of("kolada"),
    output:
        f"{RESULTS}/kolada/nyckeltal.csv",
    log:
        "logs/kolada.log",
    benchmark:
        "logs/benchmarks/kolada.tsv"
    conda:
        SOFTWARE_ENV
    params:
        kolada=SETTINGS.kolada,
        threshold=SETTINGS.suppression_threshold,
        districts=SETTINGS.districts,
    script:
        "../../scripts/kolada.py"
