# The national report: chapter templates filled from facts, tables and statistics
# into a Quarto book project (build/report), then rendered to HTML and PDF by Quarto
# when it is installed, otherwise by the built-in pandoc + typst backend.


rule report_text:
    input:
        facts=rules.facts.output.facts,
        participants=rules.facts.output.participants,
        tables=rules.tables.output.csv,
        tables_parquet=rules.tables.output.parquet,
        stats=rules.statistics.output.parquet,
        figures=rules.figures.output.png,
        figures_svg=rules.figures.output.svg,
        # rule trend (trend.smk): the round comparison
        trend=f"{RESULTS}/trend/trend.csv",
        trend_rounds=f"{RESULTS}/trend/rounds.csv",
        trend_figure=f"{RESULTS}/figures/trend.png",
        trend_figure_svg=f"{RESULTS}/figures/trend.svg",
        quality=f"{RESULTS}/quality",
        # results by municipality size: the size classes' (or groups') tables as the
        # comparison reports publish them, protected (rule unit_tables, kommuner.smk)
        comparison=f"{INTERIM}/kommuner/tables.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
        # Figure 1 as a map when config map.boundaries names a file (figures.smk)
        participants_map=rules.participants_map.output if SETTINGS.map_boundaries else [],
        raw=[str(f.path) for f in RAW_FILES],
        demo_marker=DEMO_MARKER_FILE,
        templates=sorted(
            str(p)
            for p in Path(workflow.basedir, "report").rglob("*")
            if p.is_file() and "kommun" not in p.relative_to(workflow.basedir).parts
        ),
        code=code_of("report_text"),
    output:
        directory("build/report"),
    log:
        "logs/report_text.log",
    benchmark:
        "logs/benchmarks/report_text.tsv"
    conda:
        SOFTWARE_ENV
    params:
        raw_names=[f.shown for f in RAW_FILES],
        population_source=SETTINGS.population_source,
        report_src=folder_of("templates"),
        # Only the settings the national report depends on (digested in its colophon):
        # a change of e.g. the Kolada or unit-report settings does not rerun it.
        settings=SETTINGS.national_report_settings(),
        period=(SETTINGS.period_start, SETTINGS.period_end),
        cutoff=SETTINGS.cutoff,
        threshold=SETTINGS.suppression_threshold,
        version=VERSION,
    script:
        "../../scripts/report_text.py"


# The book site (Quarto: one page per chapter; built-in backend: one page) in html/,
# index.html first, and beside it the PDF (which the site links to as ../rapport.pdf)
# and the provenance record the colophon links to (kvinnofrid.reporting.render).
rule render_report:
    input:
        "build/report",
        code=code_of("render_report"),
    output:
        html=directory(f"{RESULTS}/report/html"),
        pdf=f"{RESULTS}/report/rapport.pdf",
        provenance=f"{RESULTS}/report/provenance.json",
    log:
        "logs/render_report.log",
    benchmark:
        "logs/benchmarks/render_report.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../../scripts/render_report.py"
