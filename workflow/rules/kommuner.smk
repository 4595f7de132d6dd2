# Comparison reports below national level: every reporting unit beside units of the
# same size class and the country, and every län with at least two units beside the
# country. One job protects all areas' tables together (small-number suppression) and
# keeps the units' own tables unprotected for their internal editions; then
# REPORT_BATCHES jobs write and render every report, each for every REPORT_BATCHES-th
# area (both editions) in one process, so the imports and the figure set-up are paid
# once per batch and not once per report. Target: `kommuner`.
# Published:  results/kommuner/<slug>.html|pdf         (every unit and län, protected)
# Internal:   results/kommuner/intern/<slug>.html|pdf  (every unit, its numbers unprotected)
# One report alone: `snakemake results/kommuner/<slug>.pdf` (rules unit_report, unit_report_intern).
# Which areas exist is known only after compile, so `unit_tables` is a checkpoint.
# UNIT_DIAGRAMS, ROUNDS and TREND are in common.smk.

# Batches of the `kommuner` target: enough to keep 2 cores (or a cluster) busy to the
# end, few enough that the per-process start-up (≈ 3 s) stays small (measured: docs/developers.md).
REPORT_BATCHES = 16


wildcard_constraints:
    slug="[^/]+",
    batch=r"\d+",


checkpoint unit_tables:
    input:
        final=f"{INTERIM}/cases_derived.parquet",
        earlier=expand(f"{INTERIM}/rounds/{{round}}/cases_derived.parquet", round=ROUNDS[:-1]),
        units=f"{INTERIM}/units.csv",
        register=REGISTER_FILE,
        population=size_class_population,
        groups=[str(SETTINGS.comparison_groups)] if SETTINGS.comparison_groups else [],
        bundle=[str(SETTINGS.national_bundle / "manifest.json")] if SETTINGS.national_bundle else [],
        code=code_of("unit_tables"),
    output:
        tables=f"{INTERIM}/kommuner/tables.parquet",
        trend=f"{INTERIM}/kommuner/trend.parquet",
        tables_intern=f"{INTERIM}/kommuner/tables_intern.parquet",
        trend_intern=f"{INTERIM}/kommuner/trend_intern.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
    log:
        "logs/unit_tables.log",
    benchmark:
        "logs/benchmarks/unit_tables.tsv"
    conda:
        SOFTWARE_ENV
    # the tables are protected in parallel (area_tables.protect, one process per table)
    threads: 2
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        rounds=ROUNDS,
        diagrams=UNIT_DIAGRAMS,
        trend=TREND,
        threshold=SETTINGS.suppression_threshold,
        honour_interventions_min=SETTINGS.honour_interventions_min,
        size_classes=list(SETTINGS.size_classes),
        groups_with_size_classes=SETTINGS.groups_with_size_classes,
        districts=SETTINGS.districts,
        cutoff_year=SETTINGS.cutoff.year,
        # self-service (kvinnofrid egen-rapport): the national bundle the units are set beside
        bundle=str(SETTINGS.national_bundle or ""),
    script:
        "../../scripts/unit_tables.py"


REPORT_INPUT = dict(
    tables=f"{INTERIM}/kommuner/tables.parquet",
    trend=f"{INTERIM}/kommuner/trend.parquet",
    tables_intern=f"{INTERIM}/kommuner/tables_intern.parquet",
    trend_intern=f"{INTERIM}/kommuner/trend_intern.parquet",
    areas=f"{INTERIM}/kommuner/areas.json",
    quality=f"{RESULTS}/quality",
    templates=sorted(str(p) for p in Path(workflow.basedir, "report", "kommun").glob("*")),
    assets=sorted(str(p) for p in Path(workflow.basedir, "report", "assets").glob("*")),
    demo_marker=DEMO_MARKER_FILE,
)
REPORT_PARAMS = dict(
    build_root="build/kommuner",
    report_src=folder_of("templates", "assets"),
    diagrams=UNIT_DIAGRAMS,
    period=(SETTINGS.period_start, SETTINGS.period_end),
    threshold=SETTINGS.suppression_threshold,
)


rule unit_reports:
    input:
        **REPORT_INPUT,
        code=code_of("unit_report"),
    output:
        manifest=f"{INTERIM}/kommuner/reports/batch-{{batch}}.json",
    log:
        "logs/unit_reports/batch-{batch}.log",
        timings="logs/unit_reports/batch-{batch}.json",
    benchmark:
        "logs/benchmarks/unit_reports/batch-{batch}.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        **REPORT_PARAMS,
        results_dir=f"{RESULTS}/kommuner",
        batches=REPORT_BATCHES,
    script:
        "../../scripts/unit_report.py"


rule unit_report:
    input:
        **REPORT_INPUT,
        code=code_of("unit_report"),
    output:
        html=f"{RESULTS}/kommuner/{{slug}}.html",
        pdf=f"{RESULTS}/kommuner/{{slug}}.pdf",
    log:
        "logs/unit_report/{slug}.log",
    benchmark:
        "logs/benchmarks/unit_report/{slug}.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        **REPORT_PARAMS,
        results_dir=lambda wildcards, output: str(Path(output.html).parent),
        edition="publicerad",
    script:
        "../../scripts/unit_report.py"


rule unit_report_intern:
    input:
        **REPORT_INPUT,
        code=code_of("unit_report"),
    output:
        html=f"{RESULTS}/kommuner/intern/{{slug}}.html",
        pdf=f"{RESULTS}/kommuner/intern/{{slug}}.pdf",
    log:
        "logs/unit_report/intern/{slug}.log",
    benchmark:
        "logs/benchmarks/unit_report_intern/{slug}.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        **REPORT_PARAMS,
        results_dir=lambda wildcards, output: str(Path(output.html).parent.parent),
        edition="intern",
    script:
        "../../scripts/unit_report.py"


rule kommuner:
    input:
        report_batches,
        rules.unit_workbooks.output,
