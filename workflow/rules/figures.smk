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


# Figure 1 as a map (config map.boundaries): every municipality coloured by whether it
# took part and sent data (kvinnofrid.reporting.figure_map). The figure's Markdown, with
# its alt text, is written beside it for the text stage. Without a boundary file the
# table by län stands in (report_text says once how to get the map). A Shapefile is
# read with the files beside it that share its name (.shx, .dbf, .prj, .cpg).
MAP_FILES = (
    sorted(str(p) for p in SETTINGS.map_boundaries.parent.glob(f"{SETTINGS.map_boundaries.stem}.*"))
    if SETTINGS.map_boundaries and SETTINGS.map_boundaries.suffix.lower() == ".shp"
    else [str(SETTINGS.map_boundaries)] if SETTINGS.map_boundaries else []
)
if SETTINGS.map_boundaries and not SETTINGS.map_boundaries.is_file():
    raise WorkflowError(
        f"map: boundaries: filen med kommungränser {SETTINGS.map_boundaries} finns inte. "
        "Ange sökvägen till filen, eller lämna map: boundaries tom (Figur 1 blir då en tabell)."
    )


rule participants_map:
    input:
        participants=rules.facts.output.participants,
        boundaries=MAP_FILES,
        register=REGISTER_FILE,
        code=code_of("participants_map"),
    output:
        png=f"{RESULTS}/figures/karta.png",
        svg=f"{RESULTS}/figures/karta.svg",
        markdown=f"{RESULTS}/figures/karta.md",
    log:
        "logs/participants_map.log",
    benchmark:
        "logs/benchmarks/participants_map.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        boundaries=str(SETTINGS.map_boundaries or ""),
        districts=SETTINGS.districts,
    script:
        "../../scripts/participants_map.py"
