# Derived variables: one job on the compiled cases (age group, duration, number of
# interventions, top group, risk assessed, …; each defined once in kvinnofrid.stages.derive).


rule derive:
    input:
        cases=f"{INTERIM}/cases.parquet",
        risk=f"{INTERIM}/risk_assessments.parquet",
        code=code_of("derive"),
    output:
        derived=f"{INTERIM}/cases_derived.parquet",
        risk_change=f"{INTERIM}/risk_change.parquet",
    log:
        "logs/derive.log",
    benchmark:
        "logs/benchmarks/derive.tsv"
    conda:
        SOFTWARE_ENV
    script:
        "../../scripts/derive.py"
