# The 27 diagrams drawn from their tables (never recomputed), PNG for the PDF and
# SVG for the web. One job: importing plotnine dominates the cost of a figure.


rule figures:
    input:
        tables=rules.tables.output.parquet,
        code=code_of("figures"),
    output:
        png=expand(f"{RESULTS}/figures/diagram_{{nn}}.png", nn=DIAGRAMS),
        svg=expand(f"{RESULTS}/figures/diagram_{{nn}}.svg", nn=DIAGRAMS),
    log:
        "logs/figures.log",
    benchmark:
        "logs/benchmarks/figures.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../../scripts/figures.py"
