"""The catalogue places' bounding box and centroid, from the committed IGN Admin Express contours."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import shutil
from pathlib import Path

import pytest

from bassin_kg.errors import DataError
from bassin_kg.progress import Progress
from bassin_kg.publish import publish
from bassin_kg.publish.extent import (
    COMMUNE_FILES,
    EARTH_RADIUS_KM,
    FRANCE_FILE,
    GEO_DIR,
    Extent,
    Polygon,
    catalogue_extents,
    extent_of,
)
from bassin_kg.settings import Settings
from bassin_kg.sources.territories import BASIN_ZE2010, ZE2010_COMPOSITION

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
#: gregoiredavid/france-geojson @ 5d34ee6d0140c29f785fdb047d9329f1aab58833 (files unchanged since 45daa2d0)
OFFICIAL_SHA256 = {
    "communes-59-nord.geojson": "40d3104bf4b5a9ecdebaad01c85da46e72849a864b46a498af0ec23c5b6f5946",
    "communes-62-pas-de-calais.geojson": "d25243420aea3ed2613cb14928e83c3201b5395dc8e6f9c3905b76de94c21fa2",
    "metropole-et-outre-mer.geojson": "34fb20a61d148554407824150532b9bf92c16a8a7a91cc915448fdda278ef271",
}


def _square(west: float, south: float, size: float) -> list[tuple[float, float]]:
    return [
        (west, south),
        (west + size, south),
        (west + size, south + size),
        (west, south + size),
        (west, south),
    ]


def _spherical_area(ring: list[tuple[float, float]]) -> float:
    """|A| of a ring on the sphere, R²/2 Σ Δλ (2 + sin φ1 + sin φ2): a method independent of the module's."""
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ring):
        total += math.radians(lon2 - lon1) * (2 + math.sin(math.radians(lat1)) + math.sin(math.radians(lat2)))
    return abs(total) * EARTH_RADIUS_KM**2 / 2


def _same(one: Extent, other: Extent) -> None:
    assert one.centroid == other.centroid
    assert one.area_km2 == pytest.approx(other.area_km2, rel=1e-12)


def _inside(point: tuple[float, float], ring: list[tuple[float, float]]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


# --- the method --------------------------------------------------------------------------------------


def test_areas_are_true_areas_on_the_sphere() -> None:
    # a 1° cell at 50° N: exactly R² Δλ (sin φ2 − sin φ1)
    cell = extent_of([[_square(3.0, 50.0, 1.0)]])
    exact = EARTH_RADIUS_KM**2 * math.radians(1.0) * (math.sin(math.radians(51)) - math.sin(math.radians(50)))
    assert cell.area_km2 == pytest.approx(exact, rel=1e-4)
    assert (cell.west, cell.south, cell.east, cell.north) == (3.0, 50.0, 4.0, 51.0)
    # the centre of a cell is pulled south of its middle latitude (more area there), not east or west
    assert cell.centroid[0] == pytest.approx(3.5, abs=1e-5)
    assert 50.49 < cell.centroid[1] < 50.5


def test_winding_and_holes() -> None:
    outer = _square(0.0, 40.0, 2.0)
    hole = _square(0.5, 40.5, 1.0)
    plain = extent_of([[outer]])
    _same(extent_of([[outer[::-1]]]), plain)  # clockwise or not, the same area and centre
    holed = extent_of([[outer, hole]])
    assert holed.area_km2 == pytest.approx(plain.area_km2 - extent_of([[hole]]).area_km2, rel=1e-9)
    _same(extent_of([[outer, hole[::-1]]]), holed)
    # an off-centre hole pushes the centre away from it
    east_hole = extent_of([[outer, _square(1.2, 40.5, 0.6)]])
    assert east_hole.centroid[0] < plain.centroid[0]


def test_far_apart_parts_combine_on_the_sphere() -> None:
    # two equal cells either side of the prime meridian on the equator: the centre is between them
    two = extent_of([[_square(-11.0, -1.0, 2.0)], [_square(9.0, -1.0, 2.0)]])
    assert two.centroid == pytest.approx((0.0, 0.0), abs=1e-5)
    # a cell four times larger weighs four times more
    weighted = extent_of([[_square(-12.0, -2.0, 4.0)], [_square(9.0, -1.0, 2.0)]])
    assert weighted.centroid[0] < -5.0


# --- the real files ----------------------------------------------------------------------------------


def test_the_contours_are_the_published_files() -> None:
    assert set(OFFICIAL_SHA256) == {*COMMUNE_FILES, FRANCE_FILE}
    for name, digest in OFFICIAL_SHA256.items():
        assert hashlib.sha256((REFERENCE / GEO_DIR / name).read_bytes()).hexdigest() == digest, name


@pytest.fixture(scope="module")
def basin_polygons() -> list[Polygon]:
    codes = set()
    with (REFERENCE / ZE2010_COMPOSITION).open(encoding="utf-8") as handle:
        codes = {row["CODGEO"] for row in csv.DictReader(handle) if row["ZE2010"] in BASIN_ZE2010}
    assert len(codes) == 293
    polygons: list[Polygon] = []
    for name in COMMUNE_FILES:
        for feature in json.loads((REFERENCE / GEO_DIR / name).read_text())["features"]:
            if feature["properties"]["code"] in codes:
                geometry = feature["geometry"]
                parts = (
                    [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
                )
                polygons += [[[tuple(p) for p in ring] for ring in part] for part in parts]
                codes.discard(feature["properties"]["code"])
    assert codes == set()  # every commune of the four zones has its contour
    return polygons


def test_the_basin_is_its_four_zones(basin_polygons: list[Polygon]) -> None:
    basin = catalogue_extents(REFERENCE).basin
    positions = [p for polygon in basin_polygons for ring in polygon for p in ring]
    assert basin.west == min(p[0] for p in positions)
    assert basin.east == max(p[0] for p in positions)
    assert basin.south == min(p[1] for p in positions)
    assert basin.north == max(p[1] for p in positions)
    # its area, by an independent formula, within 0.1 %
    independent = sum(
        _spherical_area(polygon[0]) - sum(_spherical_area(hole) for hole in polygon[1:])
        for polygon in basin_polygons
    )
    assert basin.area_km2 == pytest.approx(independent, rel=1e-3)
    # the centre of this compact area falls in one of its communes
    assert any(_inside(basin.centroid, polygon[0]) for polygon in basin_polygons)


def test_france_holds_the_basin_and_its_overseas_departements() -> None:
    extents = catalogue_extents(REFERENCE)
    basin, france = extents.basin, extents.france
    assert france.west <= basin.west
    assert basin.east <= france.east
    assert france.south <= basin.south
    assert basin.north <= france.north
    # Guadeloupe is the westernmost, Réunion the southernmost and easternmost part of the file
    assert france.west < -61
    assert france.south < -21
    assert france.east > 55
    assert france.north == pytest.approx(51.089)  # Bray-Dunes, in the Nord: the northernmost commune
    assert france.area_km2 > 250 * basin.area_km2


def test_literals_are_geojson_and_wkt() -> None:
    box = Extent(west=2.5, south=50.0, east=3.75, north=50.5, centroid=(3.1, 50.25), area_km2=1.0)
    assert json.loads(box.bbox_geojson()) == {
        "type": "Polygon",
        "coordinates": [[[2.5, 50.0], [3.75, 50.0], [3.75, 50.5], [2.5, 50.5], [2.5, 50.0]]],
    }
    assert box.centroid_wkt() == "POINT(3.1 50.25)"
    near_zero = Extent(west=-1.0, south=-1.0, east=1.0, north=1.0, centroid=(0.00001, -2.5), area_km2=1.0)
    assert near_zero.centroid_wkt() == "POINT(0.00001 -2.5)"  # no exponent in WKT


# --- bad input ---------------------------------------------------------------------------------------


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data" / "reference"
    shutil.copytree(REFERENCE / GEO_DIR, target / GEO_DIR)
    shutil.copy(REFERENCE / ZE2010_COMPOSITION, target / ZE2010_COMPOSITION)
    return target


def _edit(path: Path, change: object) -> None:
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))


def test_a_basin_commune_without_contour_names_the_composition_line(reference_copy: Path) -> None:
    path = reference_copy / GEO_DIR / "communes-62-pas-de-calais.geojson"
    _edit(path, lambda d: d.update(features=[f for f in d["features"] if f["properties"]["code"] != "62498"]))
    lines = (reference_copy / ZE2010_COMPOSITION).read_text().splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith("62498,"))
    with pytest.raises(DataError) as caught:
        catalogue_extents(reference_copy)
    message = str(caught.value)
    assert f"data/reference/{ZE2010_COMPOSITION}:{line}" in message
    assert "field 'CODGEO'" in message
    assert "'62498'" in message
    assert "contour" in message


def test_a_position_out_of_range_names_the_feature_and_value(reference_copy: Path) -> None:
    path = reference_copy / GEO_DIR / "communes-59-nord.geojson"

    def break_first(document: dict[str, list[dict[str, dict[str, list[list[list[float]]]]]]]) -> None:
        geometry = document["features"][3]["geometry"]
        ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0]
        ring[2] = [3.1, 95.0]

    _edit(path, break_first)
    with pytest.raises(DataError) as caught:
        catalogue_extents(reference_copy)
    message = str(caught.value)
    assert "data/reference/geo/communes-59-nord.geojson" in message
    assert "features[3] (code " in message
    assert "[2]" in message
    assert "95.0" in message
    assert "latitude in [-90, 90]" in message


def _duplicate_first(document: dict[str, list[object]]) -> None:
    document["features"].append(document["features"][0])


def _drop_code(document: dict[str, list[dict[str, dict[str, object]]]]) -> None:
    del document["features"][5]["properties"]["code"]


def _point(document: dict[str, list[dict[str, dict[str, object]]]]) -> None:
    document["features"][7]["geometry"] = {"type": "Point", "coordinates": [3.0, 50.0]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _duplicate_first,
            r"communes-62-pas-de-calais\.geojson: commune code given twice; field 'features\[891\]",
        ),
        (_drop_code, r"feature without an INSEE code; field 'features\[5\]\.properties\.code'"),
        (
            _point,
            r"not a Polygon or MultiPolygon; "
            r"field 'features\[7\] \(code \d{5}\)\.geometry\.type'; value 'Point'",
        ),
    ],
    ids=["duplicate-code", "no-code", "point"],
)
def test_a_commune_file_fault_names_the_feature(reference_copy: Path, change: object, message: str) -> None:
    _edit(reference_copy / GEO_DIR / "communes-62-pas-de-calais.geojson", change)
    with pytest.raises(DataError, match=message):
        catalogue_extents(reference_copy)


def test_a_cut_file_and_an_open_ring_are_refused(reference_copy: Path) -> None:
    france = reference_copy / GEO_DIR / FRANCE_FILE
    text = france.read_text()
    france.write_text(text[: len(text) // 2])
    with pytest.raises(DataError, match=r"geo/metropole-et-outre-mer.geojson:1: not JSON"):
        catalogue_extents(reference_copy)
    france.write_text(text)
    _edit(france, lambda d: d["geometry"]["coordinates"][0][0].pop())
    with pytest.raises(DataError, match=r"ring not closed.*features\[0\]\.geometry\.coordinates\[0\]\[0\]"):
        catalogue_extents(reference_copy)


def test_a_bad_contour_file_leaves_the_last_publication_untouched(fresh_build: Settings) -> None:
    publish(fresh_build, progress=Progress(quiet=True))
    current = (fresh_build.build_dir / "current").resolve()
    catalog = (current / "dist" / "catalog.ttl").read_bytes()
    (fresh_build.data_dir / "reference" / GEO_DIR / COMMUNE_FILES[0]).write_text("{}")
    with pytest.raises(
        DataError, match=r"communes-59-nord\.geojson.*not a GeoJSON Feature or FeatureCollection"
    ):
        publish(fresh_build, progress=Progress(quiet=True))
    assert (fresh_build.build_dir / "current").resolve() == current
    assert (current / "dist" / "catalog.ttl").read_bytes() == catalog
