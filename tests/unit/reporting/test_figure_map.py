"""Figure 1 as a map (kvinnofrid.reporting.figure_map): reading and checking the boundary
file, each municipality's status, the alt text and the drawing, on small boundary files
the tests make (one square per municipality, real kommunkoder: map_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from support.map_fixtures import squares, write_squares

from kvinnofrid.reporting import figure_map
from kvinnofrid.reporting.figure_map import COLOURS, PARTICIPATED, SENT, MapError
from kvinnofrid.settings import ConfigError, validate_config
from kvinnofrid.spec.municipalities import load_register

REGISTER = load_register()
DISTRICTS = {"Enskede-Årsta-Vantör": "Stockholm"}


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory) -> Path:
    return write_squares(tmp_path_factory.mktemp("karta") / "kommuner.gpkg")


# A hand-made participants list: Stockholm through a district unit (sent) and the city
# itself (did not), Arboga took part without sending, Kiruna and Luleå sent.
PARTICIPANTS = pl.DataFrame(
    {
        "kommun": ["Enskede-Årsta-Vantör", "Stockholm", "Arboga", "Kiruna", "Luleå"],
        "lan": ["Stockholms län", "Stockholms län", "Västmanlands län", "Norrbottens län", "Norrbottens län"],
        "enhet": ["Relationsvåldsteamet", "SHIS", "IFO", "IFO", "IFO"],
        "sent_data": [True, False, False, True, True],
    }
)


def test_reads_one_shape_per_municipality_in_sweref(gpkg):
    shapes = figure_map.read_boundaries(gpkg, REGISTER)
    assert len(shapes) == REGISTER.height == 290
    assert shapes.crs.to_epsg() == 3006
    assert set(shapes["kommunkod"]) == set(REGISTER["kommunkod"])


@pytest.mark.parametrize(
    ("suffix", "column", "crs"),
    [(".geojson", "kommunkod", "EPSG:4326"), (".shp", "KOMMUNKOD", "EPSG:3006"), (".gpkg", "namnlös", "EPSG:3006")],
)
def test_other_formats_names_and_coordinate_systems(tmp_path, suffix, column, crs):
    """GeoJSON in WGS 84, a Shapefile with SCB's upper-case name, and a column found by its
    values (four-digit codes) rather than its name."""
    frame = squares(code_column=column).to_crs(crs)
    path = tmp_path / f"gränser{suffix}"
    frame.to_file(path, engine="pyogrio")
    shapes = figure_map.read_boundaries(path, REGISTER)
    assert len(shapes) == 290 and shapes.crs.to_epsg() == 3006


def test_parts_of_a_municipality_are_joined(tmp_path):
    import geopandas as gpd
    import pandas as pd

    frame = squares()
    island = frame[frame["KnKod"] == "0980"].copy()  # Gotland twice: an island as a row of its own
    island["geometry"] = island.geometry.scale(0.2, 0.2).translate(0, -25_000)
    path = tmp_path / "delar.gpkg"
    gpd.GeoDataFrame(pd.concat([frame, island]), crs=frame.crs).to_file(path, engine="pyogrio")
    shapes = figure_map.read_boundaries(path, REGISTER)
    assert len(shapes) == 290
    assert shapes.loc[shapes["kommunkod"] == "0980"].geometry.iloc[0].geom_type == "MultiPolygon"


# ------------------------------------------------------------------ wrong files: clear Swedish messages


def test_no_kommunkod_column(tmp_path):
    frame = squares().drop(columns="KnKod")
    path = tmp_path / "utan-kod.gpkg"
    frame.to_file(path, engine="pyogrio")
    with pytest.raises(MapError) as caught:
        figure_map.read_boundaries(path, REGISTER)
    message = str(caught.value)
    assert "ingen kolumn med den fyrsiffriga kommunkoden" in message and "KnNamn" in message and str(path) in message


def test_missing_coordinate_system(tmp_path):
    path = write_squares(tmp_path / "utan-crs.shp", crs=None)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(MapError, match=r"anger inget koordinatsystem.*\.prj-filen saknas"):
        figure_map.read_boundaries(path, REGISTER)


def test_wrong_coordinate_system(tmp_path):
    """Metres (SWEREF 99 TM) declared as degrees (WGS 84): the map would land outside Sweden."""
    path = write_squares(tmp_path / "fel-crs.gpkg", crs="EPSG:4326")
    with pytest.raises(MapError, match=r"utanför Sverige.*EPSG:4326.*stämmer inte"):
        figure_map.read_boundaries(path, REGISTER)


def test_a_missing_municipality_is_named(tmp_path):
    path = write_squares(tmp_path / "utan-stockholm.gpkg", drop=("0180", "2584"))
    with pytest.raises(MapError) as caught:
        figure_map.read_boundaries(path, REGISTER)
    message = str(caught.value)
    assert "saknar 2 av landets 290 kommuner" in message
    assert "Stockholm (0180)" in message and "Kiruna (2584)" in message


@pytest.mark.parametrize("content", [b"", b"inte en geopackage", b"\x00\x01\x02" * 100])
def test_unreadable_file(tmp_path, content):
    path = tmp_path / "trasig.gpkg"
    path.write_bytes(content)
    with pytest.raises(MapError, match="kunde inte läsas som en GeoPackage, GeoJSON eller Shapefile"):
        figure_map.read_boundaries(path, REGISTER)


def test_absent_file(tmp_path):
    with pytest.raises(MapError, match="finns inte"):
        figure_map.read_boundaries(tmp_path / "finns-inte.gpkg", REGISTER)


# ------------------------------------------------------------------ status, alt text, figure


def test_status_counts_a_district_for_its_municipality():
    status = figure_map.municipality_status(PARTICIPANTS, REGISTER, DISTRICTS)
    assert status.height == 290
    by_name = dict(status.select("kommun", "status").iter_rows())
    assert by_name["Stockholm"] == SENT  # its district sent data, the city's own unit did not
    assert by_name["Arboga"] == PARTICIPATED
    assert by_name["Kiruna"] == by_name["Luleå"] == SENT
    assert by_name["Uppsala"] == "other"
    assert status.filter(pl.col("status") != "other").height == 4


def test_unknown_participant_municipality_is_named():
    wrong = PARTICIPANTS.with_columns(pl.Series("kommun", ["Enskede-Årsta-Vantör", "Stokholm", *["Arboga"] * 3]))
    with pytest.raises(MapError, match=r"inte finns i kommunregistret: Stokholm"):
        figure_map.municipality_status(wrong, REGISTER, DISTRICTS)


def test_alt_text_lists_the_municipalities_by_lan():
    text = figure_map.alt_text(figure_map.municipality_status(PARTICIPANTS, REGISTER, DISTRICTS))
    assert text.startswith("Karta över Sveriges 290 kommuner. 4 kommuner i 3 län deltog i projektet; 3 av dem")
    assert "Norrbottens län: Kiruna och Luleå lämnade uppgifter." in text
    assert "Stockholms län: Stockholm lämnade uppgifter." in text
    assert "Västmanlands län: Arboga deltog utan att lämna uppgifter." in text
    # län in name order
    assert text.index("Norrbottens") < text.index("Stockholms") < text.index("Västmanlands")


def test_figure_block_carries_caption_and_alt_text():
    status = figure_map.municipality_status(PARTICIPANTS, REGISTER, DISTRICTS)
    block = figure_map.figure_block("figures/karta.png", status)
    assert block.startswith("![Figur 1. Kommuner som deltog i projektet")
    assert "(figures/karta.png)" in block and "#figur-1-karta" in block
    assert f'fig-alt="{figure_map.alt_text(status)}"' in block


def test_map_colours_each_municipality_by_its_status(gpkg, tmp_path):
    from matplotlib.colors import to_hex

    shapes = figure_map.read_boundaries(gpkg, REGISTER)
    status = figure_map.municipality_status(PARTICIPANTS, REGISTER, DISTRICTS)
    figure = figure_map.draw_map(shapes, status)
    faces = [to_hex(coll.get_facecolor()[0]) for coll in figure.axes[0].collections for _ in coll.get_paths()]
    assert faces.count(COLOURS[SENT]) == 3 and faces.count(COLOURS[PARTICIPATED]) == 1
    assert faces.count(COLOURS["other"]) == 286
    legend = [t.get_text().replace("\n", " ") for t in figure.legends[0].get_texts()]
    assert legend == [
        "Deltog och lämnade uppgifter (3\xa0kommuner)",
        "Deltog men lämnade inte uppgifter (1\xa0kommun)",
        "Deltog inte (286\xa0kommuner)",
    ]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    inside = figure.bbox
    for text in figure.legends[0].get_texts():  # the legend is not cut off at the figure's edge
        box = text.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
    png, svg = figure_map.save_map(figure, tmp_path / "karta.png", tmp_path / "karta.svg")
    again = figure_map.save_map(figure_map.draw_map(shapes, status), tmp_path / "igen.png", tmp_path / "igen.svg")
    assert png.read_bytes() == again[0].read_bytes() and svg.read_bytes() == again[1].read_bytes()
    assert "Deltog inte" in svg.read_text(encoding="utf-8")  # text stays text in the SVG


# ------------------------------------------------------------------ configuration


def _config(**extra) -> dict:
    return {"data_raw": "data-raw", "period": {"start": "2022-01-01", "end": "2023-10-10"}, "cutoff": "2023-10-10",
            "participants": "p.csv", **extra}  # fmt: skip


def test_config_takes_a_boundary_file_and_refuses_other_kinds():
    validate_config(_config(map={"boundaries": "gränser/kommuner.gpkg"}))
    validate_config(_config(map={"boundaries": ""}))
    with pytest.raises(ConfigError, match="map"):
        validate_config(_config(map={"boundaries": "kommuner.xlsx"}))
    with pytest.raises(ConfigError, match="map"):
        validate_config(_config(map={"gränser": "kommuner.gpkg"}))


def test_notice_says_where_to_get_the_map():
    assert "map: boundaries" in figure_map.NO_MAP_NOTICE and "SCB" in figure_map.NO_MAP_NOTICE
