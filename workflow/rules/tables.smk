# The 27 national tables, the comparison statistics and the facts the text quotes.
# One job each: building all tables takes less time than starting Python 27 times.
# DIAGRAMS (common.smk) are the numbers of the diagram registry.


rule tables:
    input:
        derived=f"{INTERIM}/cases_derived.parquet",
        risk_change=f"{INTERIM}/risk_change.parquet",
        code=code_of("tables"),
    output:
        csv=expand(f"{RESULTS}/tables/diagram_{{nn}}.csv", nn=DIAGRAMS),
        parquet=expand(f"{RESULTS}/tables/diagram_{{nn}}.parquet", nn=DIAGRAMS),
    log:
        "logs/tables.log",
    benchmark:
        "logs/benchmarks/tables.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        honour_interventions_min=SETTINGS.honour_interventions_min,
    script:
        "../../scripts/tables.py"


rule statistics:
    input:
        derived=f"{INTERIM}/cases_derived.parquet",
        risk_change=f"{INTERIM}/risk_change.parquet",
        code=code_of("statistics"),
    output:
        csv=f"{RESULTS}/statistics/comparisons.csv",
        parquet=f"{RESULTS}/statistics/comparisons.parquet",
    log:
        "logs/statistics.log",
    benchmark:
        "logs/benchmarks/statistics.tsv"
    conda:
        SOFTWARE_ENV
    script:
        "../../scripts/statistics.py"


rule facts:
    input:
        tables=rules.tables.output.parquet,
        stats=rules.statistics.output.parquet,
        derived=f"{INTERIM}/cases_derived.parquet",
        # the participants list, marked with the units that sent data (units.csv)
        participants=str(SETTINGS.participants),
        units=f"{INTERIM}/units.csv",
        # what the size classes rest on (the report says it)
        register=REGISTER_FILE,
        population=size_class_population,
        code=code_of("facts"),
    output:
        facts=f"{RESULTS}/facts.json",
        participants=f"{RESULTS}/participants.csv",
    log:
        "logs/facts.log",
    benchmark:
        "logs/benchmarks/facts.tsv"
    conda:
        SOFTWARE_ENV
    params:
        districts=SETTINGS.districts,
        cutoff_year=SETTINGS.cutoff.year,
    script:
        "../../scripts/facts.py"
