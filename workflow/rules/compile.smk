# Compile: one job. Each unit's latest submission up to the cut-off, one row per case,
# plus the long table of repeated risk assessments.


rule compile:
    input:
        cases=each_batch(f"{INTERIM}/clean/{{round}}/batch-{{part}}.parquet"),
        risk=each_batch(f"{INTERIM}/clean/{{round}}/batch-{{part}}.risk.parquet"),
        reports=each_batch(f"{INTERIM}/quality/{{round}}/batch-{{part}}.json"),
        aliases=ALIAS_FILE,
        code=code_of("compile"),
    output:
        cases=f"{INTERIM}/cases.parquet",
        risk=f"{INTERIM}/risk_assessments.parquet",
        units=f"{INTERIM}/units.csv",
        warnings=f"{INTERIM}/quality/compile_warnings.parquet",
    log:
        "logs/compile.log",
    benchmark:
        "logs/benchmarks/compile.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        cutoff=SETTINGS.cutoff,
        period_start=SETTINGS.period_start,
        period_end=SETTINGS.period_end,
        register=str(SETTINGS.municipality_register or ""),
        districts=SETTINGS.districts,
        aliases=str(SETTINGS.unit_aliases or ""),
    script:
        "../../scripts/compile.py"
