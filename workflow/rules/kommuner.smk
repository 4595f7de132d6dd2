# Comparison reports below national level: every reporting unit beside units of the
# same size class and the country, and every län with at least two units beside the
# country. One job protects all areas' tables together (small-number suppression);
# then one job per unit or län writes and renders its report. Target: `kommuner`.
# Which areas exist is known only after compile, so `unit_tables` is a checkpoint.
# UNIT_DIAGRAMS, ROUNDS and TREND are in common.smk.


checkpoint unit_tables:
    input:
        final=f"{INTERIM}/cases_derived.parquet",
        earlier=expand(f"{INTERIM}/rounds/{{round}}/cases_derived.parquet", round=ROUNDS[:-1]),
        units=f"{INTERIM}/units.csv",
        register=REGISTER_FILE,
        population=size_class_population,
    output:
        tables=f"{INTERIM}/kommuner/tables.parquet",
        trend=f"{INTERIM}/kommuner/trend.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
    log:
        "logs/unit_tables.log",
    threads: 1
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
        districts=SETTINGS.districts,
        cutoff_year=SETTINGS.cutoff.year,
    script:
        "../../scripts/unit_tables.py"


rule unit_report:
    input:
        tables=f"{INTERIM}/kommuner/tables.parquet",
        trend=f"{INTERIM}/kommuner/trend.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
        quality=f"{RESULTS}/quality",
        templates=sorted(str(p) for p in Path(workflow.basedir, "report", "kommun").glob("*")),
        assets=sorted(str(p) for p in Path(workflow.basedir, "report", "assets").glob("*")),
        demo_marker=DEMO_MARKER_FILE,
    output:
        html=f"{RESULTS}/kommuner/{{slug}}.html",
        pdf=f"{RESULTS}/kommuner/{{slug}}.pdf",
    log:
        "logs/unit_report/{slug}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        build_dir=lambda wildcards: f"build/kommuner/{wildcards.slug}",
        report_src=str(Path(workflow.basedir, "report")),
        diagrams=UNIT_DIAGRAMS,
        period=(SETTINGS.period_start, SETTINGS.period_end),
        threshold=SETTINGS.suppression_threshold,
    script:
        "../../scripts/unit_report.py"


def area_reports(wildcards):
    """Every unit's and every län's report, once unit_tables has named the areas."""
    import json

    areas = json.loads(Path(checkpoints.unit_tables.get().output.areas).read_text(encoding="utf-8"))
    return [
        f"{RESULTS}/kommuner/{a['slug']}.{ext}"
        for a in areas
        if a["kind"] in ("enhet", "lan")
        for ext in ("html", "pdf")
    ]


rule kommuner:
    input:
        area_reports,
