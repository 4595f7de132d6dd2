# The national report: chapter templates filled from facts, tables and statistics
# into a Quarto book project (build/report), then rendered to HTML and PDF by Quarto
# when it is installed, otherwise by the built-in pandoc + typst backend.


rule report_text:
    input:
        facts=rules.facts.output[0],
        tables=rules.tables.output.csv,
        stats=rules.statistics.output.parquet,
        figures=rules.figures.output.png,
        # rule trend (trend.smk, included after this file): the round comparison
        trend=f"{RESULTS}/trend/trend.csv",
        trend_rounds=f"{RESULTS}/trend/rounds.csv",
        trend_figure=f"{RESULTS}/figures/trend.png",
        participants=str(SETTINGS.participants),
        quality=f"{RESULTS}/quality",
        units=f"{INTERIM}/units.csv",
        raw=[str(f.path) for f in RAW_FILES],
        templates=sorted(str(p) for p in Path(workflow.basedir, "report").rglob("*")
                         if p.is_file() and "kommun" not in p.relative_to(workflow.basedir).parts),
    output:
        directory("build/report"),
    log:
        "logs/report_text.log",
    params:
        raw_names=[f"{f.round}/{f.path.name}" for f in RAW_FILES],
        data_raw=RAW,
        report_src=str(Path(workflow.basedir, "report")),
        config=config,
        period=(SETTINGS.period_start, SETTINGS.period_end),
        cutoff=SETTINGS.cutoff,
    script:
        "../../scripts/report_text.py"


# The book site (Quarto: one page per chapter; built-in backend: one page) in html/,
# index.html first, and the PDF beside it (kvinnofrid.reporting.render.output_paths).
rule render_report:
    input:
        "build/report",
    output:
        html=directory(f"{RESULTS}/report/html"),
        pdf=f"{RESULTS}/report/rapport.pdf",
    log:
        "logs/render_report.log",
    script:
        "../../scripts/render_report.py"
