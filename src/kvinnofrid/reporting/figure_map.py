"""Figure 1 as a map: the participating municipalities, and those that sent data.

The user gives a file of Sweden's municipal boundaries once (config ``map.boundaries``:
SCB's or Lantmäteriet's open boundaries as GeoPackage, GeoJSON, Shapefile or a zipped
Shapefile), with the four-digit kommunkod in a column. ``read_boundaries`` checks it and
says in Swedish what is wrong (unreadable, no kommunkod column, no or a wrong
coordinate system, a municipality missing); ``municipality_status`` gives every
municipality of the register its status from the marked participants list (district
units count for their municipality); ``draw_map`` draws it (geopandas on matplotlib,
files read by pyogrio: no system GDAL), ``alt_text`` lists the municipalities by län,
and ``figure_block`` is the Markdown of the figure. Without a boundary file the table
by län stands in for the map (``NO_MAP_NOTICE`` says how to get it); with one the
table stays, as the map's accessible companion.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.reporting.markdown import attribute_text, escape_inline
from kvinnofrid.spec.municipalities import register_name

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.figure import Figure

__all__ = [
    "MAP_FILE_SUFFIXES",
    "NO_MAP_NOTICE",
    "MapError",
    "alt_text",
    "draw_map",
    "figure_block",
    "municipality_status",
    "read_boundaries",
    "save_map",
]

SWEREF99_TM = "EPSG:3006"
# Sweden in SWEREF 99 TM (metres), with a margin: a file whose municipalities land
# outside it has coordinates in another system than the one it declares.
SWEDEN_BOUNDS = (150_000, 6_050_000, 1_050_000, 7_750_000)
MAP_FILE_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip")
# Column names that hold the kommunkod in SCB's (KnKod), Lantmäteriet's (kommunkod)
# and other common files; compared in lower case without _ - and spaces.
CODE_COLUMNS = ("kommunkod", "knkod", "kommunkod4", "komkod", "kommkod", "kod", "code", "municipalitycode")
SIMPLIFY_METRES = 400  # far below a pixel at the figure's scale; keeps the SVG small

SENT, PARTICIPATED, OTHER = "sent", "participated", "other"
COLOURS = {SENT: "#00529b", PARTICIPATED: "#9ecae1", OTHER: "#ececec"}
EDGE = "#ffffff"
WIDTH_IN = 6.3  # the figure's width; the map takes MAP_SHARE of it, the legend the rest
MAP_SHARE = 0.62
MAX_HEIGHT_IN = 9.6  # fits an A4 page with its caption at the width figure_block gives it
LEGEND_WIDTH = 22  # characters per line of a legend entry
NBSP = "\u00a0"  # keeps a count and its noun on one line of the legend
HATCH = "////"  # participated without data: pattern as well as colour (WCAG 1.4.1)
LEGEND = {
    SENT: "Deltog och lämnade uppgifter",
    PARTICIPATED: "Deltog men lämnade inte uppgifter",
    OTHER: "Deltog inte",
}

NO_MAP_NOTICE = (
    "Figur 1 visas som tabell per län. För en karta: hämta en fil med kommungränser en gång "
    "(SCB:s eller Lantmäteriets öppna data, med den fyrsiffriga kommunkoden; GeoPackage, "
    "GeoJSON eller Shapefile) och ange den under map: boundaries i config.yaml."
)


class MapError(UserFacingError):
    """The boundary file cannot draw the map; the message names the file and what to do."""


# --------------------------------------------------------------------------- reading


def _code_column(frame: gpd.GeoDataFrame, codes: set[str]) -> str | None:
    """The column holding the kommunkod: by name, else the one whose values are codes."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for column in columns:
        if re.sub(r"[\s_-]", "", str(column)).lower() in CODE_COLUMNS:
            return column
    for column in columns:
        values = frame[column].dropna().astype(str).str.strip().str.zfill(4)
        if len(values) and values.isin(codes).mean() >= 0.9:
            return column
    return None


def read_boundaries(path: Path | str, register: pl.DataFrame) -> gpd.GeoDataFrame:
    """The boundary file as one (multi)polygon per kommunkod of the register, in SWEREF 99 TM.

    ``register``: kvinnofrid.spec.municipalities.load_register (kommun, kommunkod, lan).
    Raises MapError when the file cannot be read, has no kommunkod column, has no
    coordinate system or one its coordinates do not fit, or lacks a municipality."""
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    where = f"Filen med kommungränser ({path}, map: boundaries)"
    if not path.is_file():
        raise MapError(f"{where} finns inte. Ange sökvägen till filen, eller ta bort map: boundaries.")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as bad:
        raise MapError(
            f"{where} kunde inte läsas som en GeoPackage, GeoJSON eller Shapefile ({type(bad).__name__}). "
            "Kontrollera att filen är hel; en Shapefile behöver sina .shx-, .dbf- och .prj-filer bredvid sig."
        ) from None
    codes = set(register["kommunkod"].to_list())
    column = _code_column(frame, codes)
    if column is None:
        shown = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name) or "inga"
        raise MapError(
            f"{where} har ingen kolumn med den fyrsiffriga kommunkoden (t.ex. KnKod eller kommunkod). "
            f"Kolumnerna i filen: {shown}."
        )
    if frame.crs is None:
        raise MapError(
            f"{where} anger inget koordinatsystem (för en Shapefile: .prj-filen saknas). "
            "Använd filen som den laddades ned, med SWEREF 99 TM (EPSG:3006) eller WGS 84."
        )
    declared = frame.crs.to_string()
    frame = frame.to_crs(SWEREF99_TM)
    _check_in_sweden(frame, where, declared)
    frame["kommunkod"] = frame[column].astype(str).str.strip().str.zfill(4)
    shapes = frame[frame["kommunkod"].isin(codes)][["kommunkod", "geometry"]].dissolve(by="kommunkod").reset_index()
    missing = register.filter(~pl.col("kommunkod").is_in(shapes["kommunkod"].to_list()))
    if missing.height:
        names = ", ".join(f"{k} ({c})" for k, c in missing.select("kommun", "kommunkod").head(5).iter_rows())
        more = f" och {missing.height - 5} till" if missing.height > 5 else ""
        raise MapError(
            f"{where} saknar {missing.height} av landets {register.height} kommuner: {names}{more}. "
            "Kartan ska visa hela landet: använd en fil med alla kommuner."
        )
    shapes["geometry"] = shapes.geometry.simplify(SIMPLIFY_METRES, preserve_topology=True)
    return shapes


def _check_in_sweden(frame: gpd.GeoDataFrame, where: str, declared: str) -> None:
    """Every municipality inside Sweden once in SWEREF 99 TM: else the coordinates are in
    another system than the one the file declares (``declared``)."""
    import numpy as np

    minx, miny, maxx, maxy = frame.total_bounds
    lo_x, lo_y, hi_x, hi_y = SWEDEN_BOUNDS
    inside = np.isfinite(frame.total_bounds).all() and minx >= lo_x and miny >= lo_y and maxx <= hi_x and maxy <= hi_y
    if not inside:
        raise MapError(
            f"{where}: kommunerna hamnar utanför Sverige med det koordinatsystem filen anger ({declared}). "
            "Koordinaterna och koordinatsystemet stämmer inte överens: använd filen som den laddades ned."
        )


# --------------------------------------------------------------------------- status


def municipality_status(
    participants: pl.DataFrame, register: pl.DataFrame, districts: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """One row per municipality of the register: kommun, kommunkod, lan, ``status``
    (``sent``: a unit of it sent data; ``participated``: it took part without sending;
    ``other``). ``participants``: the marked list (kommun, lan, enhet, sent_data); a
    district unit (config ``districts``) counts for its municipality. MapError if a
    participant's kommun is not in the register."""
    names = register["kommun"].to_list()
    matched = [register_name(k, names, districts) for k in participants["kommun"].to_list()]
    unknown = sorted({k for k, m in zip(participants["kommun"].to_list(), matched) if m is None})
    if unknown:
        raise MapError(
            f"Deltagarlistan (participants) namnger kommuner som inte finns i kommunregistret: {', '.join(unknown)}. "
            "Rätta namnet, eller ange stadsdelen under districts i config.yaml."
        )
    per_kommun = (
        participants.with_columns(pl.Series("kommun", matched, dtype=pl.String))
        .group_by("kommun")
        .agg(pl.col("sent_data").any().alias("sent"))
    )
    return (
        register.select("kommun", "kommunkod", "lan")
        .join(per_kommun, on="kommun", how="left")
        .with_columns(
            pl.when(pl.col("sent"))
            .then(pl.lit(SENT))
            .when(pl.col("sent").is_not_null())
            .then(pl.lit(PARTICIPATED))
            .otherwise(pl.lit(OTHER))
            .alias("status")
        )
        .drop("sent")
        .sort("kommunkod")
    )


def _kommuner(count: int, space: str = " ") -> str:
    return f"{count}{space}{'kommun' if count == 1 else 'kommuner'}"


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]


def alt_text(status: pl.DataFrame) -> str:
    """The map in words: the counts, then per län (in name order) the municipalities
    that sent data and those that took part without sending."""
    taking_part = status.filter(pl.col("status") != OTHER)
    n_sent = status.filter(pl.col("status") == SENT).height
    n_lan = taking_part["lan"].n_unique()
    parts = [
        f"Karta över Sveriges {status.height} kommuner. {_kommuner(taking_part.height)} i {n_lan} län "
        f"deltog i projektet; {n_sent} av dem lämnade uppgifter till sammanställningen."
    ]
    for (lan,), rows in taking_part.sort("lan", "kommun").group_by("lan", maintain_order=True):
        sent = rows.filter(pl.col("status") == SENT)["kommun"].to_list()
        only = rows.filter(pl.col("status") == PARTICIPATED)["kommun"].to_list()
        said = []
        if sent:
            said.append(f"{_join_names(sent)} lämnade uppgifter")
        if only:
            said.append(f"{_join_names(only)} deltog utan att lämna uppgifter")
        parts.append(f"{lan}: {'; '.join(said)}.")
    return " ".join(parts)


# --------------------------------------------------------------------------- drawing


def draw_map(shapes: gpd.GeoDataFrame, status: pl.DataFrame) -> Figure:
    """The map: every municipality in its status colour (white borders), those that took
    part without sending data also hatched, and a legend with the counts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from kvinnofrid.reporting.figure_style import FONT, TEXT_COLOUR

    frame = shapes.merge(status.select("kommunkod", "status").to_pandas(), on="kommunkod", how="left")
    counts = dict(status.group_by("status").len().iter_rows())
    minx, miny, maxx, maxy = shapes.total_bounds
    # as tall as the country needs at the map's width (Sweden: about 2.4 times its width)
    height = min(MAX_HEIGHT_IN, max(4.0, WIDTH_IN * MAP_SHARE * (maxy - miny) / max(maxx - minx, 1.0)))
    figure = Figure(figsize=(WIDTH_IN, height), facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, MAP_SHARE, 1.0))
    for key in (OTHER, PARTICIPATED, SENT):
        part = frame[frame["status"] == key]
        if len(part):
            part.plot(
                ax=axes,
                facecolor=COLOURS[key],
                edgecolor=EDGE if key != PARTICIPATED else COLOURS[SENT],
                linewidth=0.25,
                hatch=HATCH if key == PARTICIPATED else None,
            )
    axes.set_axis_off()
    axes.set_aspect("equal")
    handles = [
        Patch(
            facecolor=COLOURS[key],
            edgecolor=COLOURS[SENT] if key != OTHER else "#999999",
            hatch=HATCH if key == PARTICIPATED else None,
            # the count on a line of its own, never split from "kommuner"
            label=f"{textwrap.fill(LEGEND[key], LEGEND_WIDTH)}\n({_kommuner(counts.get(key, 0), NBSP)})",
        )
        for key in (SENT, PARTICIPATED, OTHER)
    ]
    legend = figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(MAP_SHARE - 0.02, 0.99),
        frameon=False,
        handlelength=2.2,
        handleheight=1.6,
        prop={"family": FONT, "size": 10},
    )
    for text in legend.get_texts():
        text.set_color(TEXT_COLOUR)
    return figure


def save_map(figure: Figure, png_path: Path | str, svg_path: Path | str | None = None) -> list[Path]:
    """PNG (for the PDF) and SVG (for the web), byte-identical on reruns (as the diagrams)."""
    import matplotlib

    from kvinnofrid.reporting.figure_style import DPI

    written = []
    with matplotlib.rc_context({"svg.hashsalt": "kvinnofrid", "svg.fonttype": "none", "hatch.linewidth": 0.6}):
        png = Path(png_path)
        png.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
        written.append(png)
        if svg_path is not None:
            svg = Path(svg_path)
            figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": "kvinnofrid"})
            written.append(svg)
    return written


# --------------------------------------------------------------------------- the report


def figure_block(image: str, status: pl.DataFrame) -> str:
    """The Markdown of Figure 1 (``image``: the PNG, relative to the report project;
    ``status``: municipality_status): the caption and the alt text that lists the
    municipalities by län. The chapter keeps the table by län beside it."""
    caption = escape_inline(
        "Figur 1. Kommuner som deltog i projektet och kommuner som lämnade uppgifter till sammanställningen"
    )
    return f'![{caption}]({image}){{#figur-1-karta fig-alt="{attribute_text(alt_text(status))}" width="82%"}}\n'
