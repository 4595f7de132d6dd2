"""A small boundary file the map tests make themselves: one square per municipality of
the register, with its real kommunkod, laid out on a grid inside Sweden (SWEREF 99 TM).

``write_squares(path, ...)`` writes it as GeoPackage, GeoJSON or Shapefile (by the
suffix); ``code_column``, ``crs``, ``drop`` and ``shift`` make the broken variants the
tests need (another column name, no or a wrong coordinate system, municipalities
missing)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

from kvinnofrid.spec.municipalities import load_register

SIDE = 40_000  # metres
ORIGIN = (250_000, 6_150_000)  # south-west corner, SWEREF 99 TM
COLUMNS = 17


def squares(code_column: str = "KnKod", drop: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    register = load_register()
    rows = register.filter(~register["kommunkod"].is_in(list(drop))).sort("kommunkod").to_dicts()
    shapes = []
    for k in range(len(rows)):
        x = ORIGIN[0] + (k % COLUMNS) * SIDE
        y = ORIGIN[1] + (k // COLUMNS) * SIDE
        shapes.append(box(x, y, x + SIDE * 0.95, y + SIDE * 0.95))
    return gpd.GeoDataFrame(
        {code_column: [r["kommunkod"] for r in rows], "KnNamn": [r["kommun"] for r in rows]},
        geometry=shapes,
        crs="EPSG:3006",
    )


def write_squares(
    path: Path,
    *,
    code_column: str = "KnKod",
    crs: str | None = "EPSG:3006",
    drop: tuple[str, ...] = (),
) -> Path:
    """The squares in ``path`` (suffix .gpkg, .geojson or .shp). ``crs``: the system the
    file declares (the coordinates stay in metres: "EPSG:4326" makes a wrong file;
    None leaves it out)."""
    frame = squares(code_column, drop)
    frame = frame.set_crs(crs, allow_override=True) if crs else frame.set_crs(None, allow_override=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # pyogrio warns when a file is written without a CRS: that is the point
        warnings.simplefilter("ignore", UserWarning)
        frame.to_file(path, engine="pyogrio")
    if crs is None and path.suffix == ".shp":
        path.with_suffix(".prj").unlink(missing_ok=True)
    return path
