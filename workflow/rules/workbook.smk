# The tables as accessible workbooks (kvinnofrid.reporting.workbook): every national
# table in results/tabeller.xlsx (default target), and each unit's and län's published,
# protected tables in results/kommuner/<slug>.xlsx (targets `kommuner` and
# `kommuner_tabeller`). DIAGRAMS, UNIT_DIAGRAMS and
# DEMO_MARKER_FILE are in common.smk.


rule workbook:
    input:
        tables=expand(f"{RESULTS}/tables/diagram_{{nn}}.parquet", nn=DIAGRAMS),
        demo_marker=DEMO_MARKER_FILE,
        code=code_of("workbook"),
    output:
        f"{RESULTS}/tabeller.xlsx",
    log:
        "logs/workbook.log",
    benchmark:
        "logs/benchmarks/workbook.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        period=(SETTINGS.period_start.isoformat(), SETTINGS.period_end.isoformat()),
        cutoff=SETTINGS.cutoff.isoformat(),
    script:
        "../../scripts/workbook.py"


rule unit_workbook:
    input:
        tables=f"{INTERIM}/kommuner/tables.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
        demo_marker=DEMO_MARKER_FILE,
        code=code_of("workbook"),
    output:
        f"{RESULTS}/kommuner/{{slug}}.xlsx",
    log:
        "logs/unit_workbook/{slug}.log",
    benchmark:
        "logs/benchmarks/unit_workbook/{slug}.tsv"
    wildcard_constraints:
        slug=r"[a-z0-9-]+",
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        diagrams=UNIT_DIAGRAMS,
        period=(SETTINGS.period_start.isoformat(), SETTINGS.period_end.isoformat()),
        cutoff=SETTINGS.cutoff.isoformat(),
        threshold=SETTINGS.suppression_threshold,
    script:
        "../../scripts/workbook.py"


# Every unit's and län's workbook in one job (target kommuner): one process writes them
# all, since starting Python and gptables costs more than writing one workbook. Rule
# unit_workbook above writes one alone (`snakemake results/kommuner/<slug>.xlsx`).
rule unit_workbooks:
    input:
        tables=f"{INTERIM}/kommuner/tables.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
        demo_marker=DEMO_MARKER_FILE,
        code=code_of("workbook"),
    output:
        manifest=f"{INTERIM}/kommuner/workbooks.json",
    log:
        "logs/unit_workbooks.log",
    benchmark:
        "logs/benchmarks/unit_workbooks.tsv"
    # one long job (about 3 minutes for 310 workbooks nationally) beside 16 report
    # batches of about one minute: started first, it does not run alone at the end
    priority: 10
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        results_dir=f"{RESULTS}/kommuner",
        diagrams=UNIT_DIAGRAMS,
        period=(SETTINGS.period_start.isoformat(), SETTINGS.period_end.isoformat()),
        cutoff=SETTINGS.cutoff.isoformat(),
        threshold=SETTINGS.suppression_threshold,
    script:
        "../../scripts/workbook.py"


rule kommuner_tabeller:
    input:
        rules.unit_workbooks.output,
