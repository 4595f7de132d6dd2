# Self-service comparison. The national run writes the national bundle
# (results/nationellt/: the national tables, the country's and every size class's
# comparison tables, facts, a manifest with hashes; no unit-level data). A municipality
# then runs `kvinnofrid egen-rapport` on its own exports and the bundle (config
# national_bundle), and target `egen_rapport` builds its internal comparison report and
# its quality page, offline, without any other unit's data.


rule national_bundle:
    input:
        final=f"{INTERIM}/cases_derived.parquet",
        units=f"{INTERIM}/units.csv",
        register=REGISTER_FILE,
        population=size_class_population,
        groups=[str(SETTINGS.comparison_groups)] if SETTINGS.comparison_groups else [],
        tables=rules.tables.output.csv,
        tables_parquet=rules.tables.output.parquet,
        facts=f"{RESULTS}/facts.json",
        comparison=f"{INTERIM}/kommuner/tables.parquet",
        code=code_of("national_bundle"),
    output:
        directory(f"{RESULTS}/nationellt"),
    log:
        "logs/national_bundle.log",
    benchmark:
        "logs/benchmarks/national_bundle.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        diagrams=UNIT_DIAGRAMS,
        trend=TREND,
        threshold=SETTINGS.suppression_threshold,
        honour_interventions_min=SETTINGS.honour_interventions_min,
        size_classes=list(SETTINGS.size_classes),
        groups_with_size_classes=SETTINGS.groups_with_size_classes,
        districts=SETTINGS.districts,
        cutoff_year=SETTINGS.cutoff.year,
        about={
            "period": {"start": SETTINGS.period_start.isoformat(), "end": SETTINGS.period_end.isoformat()},
            "cutoff": SETTINGS.cutoff.isoformat(),
            "threshold": SETTINGS.suppression_threshold,
            "size_classes": list(SETTINGS.size_classes),
            "diagrams": UNIT_DIAGRAMS,
            "demo": SETTINGS.is_demo_data,
        },
        version=VERSION,
    script:
        "../../scripts/national_bundle.py"


rule egen_rapport:
    input:
        own_internal_reports,
        f"{RESULTS}/quality",
