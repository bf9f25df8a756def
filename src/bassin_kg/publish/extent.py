"""The spatial extent of the catalogue's places: ``dcat:bbox`` and ``dcat:centroid`` of the basin and France.

Read from IGN's Admin Express COG 2018 contours as published in GeoJSON by gregoiredavid/france-geojson
(``data/reference/geo/``, origin in that folder's README): the communes of the Nord and Pas-de-Calais for
the basin, which is the union of the communes INSEE puts in its four ZE2010 zones (geography at 01/01/2018,
the contours' vintage), and France with its five overseas départements for France.

The bounding box is the minimum and maximum of the file's coordinates, unchanged. The centroid is the
area-weighted centre of the polygons: each polygon's area and centre are computed in a sinusoidal projection
centred on it (an equal-area projection, so the weights are true areas), and the polygons' centres are
averaged as unit vectors on the sphere, weighted by area, so that far-apart parts (Réunion, Guyane) combine
correctly. Coordinates are WGS 84 longitude/latitude (CRS84); the centroid is rounded to the files' own
precision, 5 decimals (about a metre).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bassin_kg.errors import DataError
from bassin_kg.sources.common import REFERENCE, read_reference
from bassin_kg.sources.territories import BASIN_ZE2010, ZE2010_COMPOSITION

GEO_DIR = "geo"
#: communes of the départements the basin's ZE2010 zones lie in (Nord, Pas-de-Calais)
COMMUNE_FILES = ("communes-59-nord.geojson", "communes-62-pas-de-calais.geojson")
#: metropolitan France and its five overseas départements, one MultiPolygon
FRANCE_FILE = "metropole-et-outre-mer.geojson"
#: mean Earth radius (IUGG), km: it only scales areas, which weigh the centroid
EARTH_RADIUS_KM = 6371.0088
#: the contours' own precision (5 decimals, about 1.1 m): the centroid is not given finer
DECIMALS = 5

Position = tuple[float, float]
Ring = list[Position]
Polygon = list[Ring]


@dataclass(frozen=True)
class Extent:
    """A bounding box (west, south, east, north) and an area-weighted centroid (lon, lat), in degrees."""

    west: float
    south: float
    east: float
    north: float
    centroid: Position
    #: area of the polygons, km² (reported, and a check that the shapes were read)
    area_km2: float

    def bbox_geojson(self) -> str:
        """The box as a GeoJSON Polygon, corners counter-clockwise from the south-west (RFC 7946)."""
        w, s, e, n = self.west, self.south, self.east, self.north
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
        return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))

    def centroid_wkt(self) -> str:
        # fixed-point: WKT has no exponent notation (repr would write 1e-05)
        lon, lat = (f"{v:.{DECIMALS}f}".rstrip("0").rstrip(".") for v in self.centroid)
        return f"POINT({lon} {lat})"


@dataclass(frozen=True)
class PlaceExtents:
    """The extents the catalogue gives its two ``dct:Location``s."""

    basin: Extent
    france: Extent


def catalogue_extents(reference_dir: Path) -> PlaceExtents:
    """The basin's and France's extents from ``reference_dir`` (``data/reference``)."""
    communes: dict[str, list[Polygon]] = {}
    for name in COMMUNE_FILES:
        path = reference_dir / GEO_DIR / name
        for index, code, polygons in _features(path, coded=True):
            if code in communes:
                raise DataError(
                    "commune code given twice",
                    file=_shown(name),
                    field=f"features[{index}].properties.code",
                    value=code,
                    hint="each commune has one contour: restore the file from git (data/reference/README.md)",
                )
            communes[code] = polygons
    basin: list[Polygon] = []
    table = read_reference(reference_dir.parent, ZE2010_COMPOSITION, ["CODGEO", "ZE2010"])
    for row in table:
        if row.text("ZE2010") not in BASIN_ZE2010:
            continue
        code = row.text("CODGEO")
        if code not in communes:
            raise DataError(
                "commune of the basin without a contour",
                file=f"{REFERENCE}/{ZE2010_COMPOSITION}",
                line=row.line,
                field="CODGEO",
                value=code,
                hint=f"add its département's commune contours (2018) to data/reference/{GEO_DIR}/ and to "
                "COMMUNE_FILES in src/bassin_kg/publish/extent.py",
            )
        basin.extend(communes[code])
    france = [p for _i, _c, polys in _features(reference_dir / GEO_DIR / FRANCE_FILE) for p in polys]
    return PlaceExtents(basin=extent_of(basin), france=extent_of(france))


def extent_of(polygons: Sequence[Polygon]) -> Extent:
    """Bounding box and area-weighted centroid of non-overlapping polygons (exterior ring, then holes)."""
    positions = [pos for polygon in polygons for ring in polygon for pos in ring]
    if not positions:
        raise ValueError("no polygon to take the extent of")
    x = y = z = total = 0.0
    for polygon in polygons:
        area, (lon, lat) = _polygon_centre(polygon)
        phi, lam = math.radians(lat), math.radians(lon)
        x += area * math.cos(phi) * math.cos(lam)
        y += area * math.cos(phi) * math.sin(lam)
        z += area * math.sin(phi)
        total += area
    centroid = (
        round(math.degrees(math.atan2(y, x)), DECIMALS),
        round(math.degrees(math.atan2(z, math.hypot(x, y))), DECIMALS),
    )
    return Extent(
        west=min(p[0] for p in positions),
        south=min(p[1] for p in positions),
        east=max(p[0] for p in positions),
        north=max(p[1] for p in positions),
        centroid=centroid,
        area_km2=total,
    )


def _polygon_centre(polygon: Polygon) -> tuple[float, Position]:
    """Area (km²) and centre (lon, lat) of one polygon, holes taken out, in a sinusoidal projection."""
    exterior = polygon[0]
    # the projection's central meridian: the middle of the polygon, where the sinusoidal shear is nil
    lon0 = (min(p[0] for p in exterior) + max(p[0] for p in exterior)) / 2
    area = mx = my = 0.0
    for index, ring in enumerate(polygon):
        a, rx, ry = _ring_moments(ring, lon0)
        # orientation varies between files: the exterior adds, holes take away, whatever their winding
        sign = (1.0 if a >= 0 else -1.0) * (1.0 if index == 0 else -1.0)
        area += sign * a
        mx += sign * rx
        my += sign * ry
    if area <= 0:
        return 0.0, exterior[0]
    cx, cy = mx / area, my / area
    phi = cy / EARTH_RADIUS_KM
    lon = lon0 + math.degrees(cx / (EARTH_RADIUS_KM * math.cos(phi)))
    return area, (lon, math.degrees(phi))


def _ring_moments(ring: Ring, lon0: float) -> tuple[float, float, float]:
    """Signed area and first moments of a closed ring projected by x = R(λ-λ0)cos φ, y = Rφ (shoelace)."""
    pts = [
        (
            EARTH_RADIUS_KM * math.radians(lon - lon0) * math.cos(math.radians(lat)),
            EARTH_RADIUS_KM * math.radians(lat),
        )
        for lon, lat in ring
    ]
    area = mx = my = 0.0
    for (x0, y0), (x1, y1) in pairwise(pts):
        cross = x0 * y1 - x1 * y0
        area += cross
        mx += (x0 + x1) * cross
        my += (y0 + y1) * cross
    return area / 2, mx / 6, my / 6


# --- reading GeoJSON ---------------------------------------------------------------------------------


def _features(path: Path, *, coded: bool = False) -> Iterator[tuple[int, str, list[Polygon]]]:
    """(index, code, polygons) of each feature of a FeatureCollection, or of a lone Feature (index 0).

    Positions are checked (numbers, in range) and rings closed; a fault names the file, the feature (its
    index and code) and the JSON path of the value. The files are single-line JSON, so no line is given.
    """
    shown = _shown(path.name)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            "contour file missing", file=shown, hint="restore it from git (see data/reference/README.md)"
        ) from None
    except json.JSONDecodeError as err:
        raise DataError(
            f"not JSON: {err.msg}",
            file=shown,
            line=err.lineno,
            field=f"column {err.colno}",
            hint="restore the file from git (see data/reference/README.md)",
        ) from None
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
    elif isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    else:
        kind = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise DataError(
            "not a GeoJSON Feature or FeatureCollection",
            file=shown,
            field="type",
            value=kind,
            hint="give the GeoJSON file of data/reference/README.md",
        )
    if not isinstance(features, list):
        raise DataError("no feature list", file=shown, field="features", value=features)
    for index, feature in enumerate(features):
        where = f"features[{index}]"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = properties.get("code") if isinstance(properties, dict) else None
        if coded and not isinstance(code, str):
            raise DataError(
                "feature without an INSEE code",
                file=shown,
                field=f"{where}.properties.code",
                value=code,
                hint="each commune contour must carry its code officiel géographique",
            )
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        label = f"{where} (code {code})" if code else where
        yield index, str(code or ""), _polygons(geometry, shown, label)


def _polygons(geometry: Any, shown: str, where: str) -> list[Polygon]:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        return [_polygon(coordinates, shown, f"{where}.geometry.coordinates")]
    if kind == "MultiPolygon" and isinstance(coordinates, list):
        return [
            _polygon(part, shown, f"{where}.geometry.coordinates[{i}]") for i, part in enumerate(coordinates)
        ]
    raise DataError(
        "geometry is not a Polygon or MultiPolygon",
        file=shown,
        field=f"{where}.geometry.type",
        value=kind,
        hint="the contours are surfaces: restore the file from git (see data/reference/README.md)",
    )


def _polygon(rings: Any, shown: str, where: str) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise DataError("polygon without rings", file=shown, field=where, value=rings)
    polygon: Polygon = []
    for r, ring in enumerate(rings):
        field = f"{where}[{r}]"
        if not isinstance(ring, list) or len(ring) < 4:
            raise DataError("a ring needs at least 4 positions", file=shown, field=field, value=_cut(ring))
        positions = [_position(pos, shown, f"{field}[{i}]") for i, pos in enumerate(ring)]
        if positions[0] != positions[-1]:
            raise DataError(
                "ring not closed (its last position differs from its first)",
                file=shown,
                field=field,
                value=f"{positions[0]} … {positions[-1]}",
                hint="RFC 7946 §3.1.6: restore the file from git",
            )
        polygon.append(positions)
    return polygon


def _position(pos: Any, shown: str, field: str) -> Position:
    ok = (
        isinstance(pos, list)
        and len(pos) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
    )
    if ok and -180 <= pos[0] <= 180 and -90 <= pos[1] <= 90:
        return float(pos[0]), float(pos[1])
    raise DataError(
        "not a longitude, latitude position in degrees",
        file=shown,
        field=field,
        value=_cut(pos),
        hint="positions are [longitude, latitude] in WGS 84, longitude in [-180, 180], latitude in [-90, 90]",
    )


def _cut(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "…"


def _shown(name: str) -> str:
    """How errors name a contour file: its path in the repository, wherever the project lies."""
    return f"{REFERENCE}/{GEO_DIR}/{name}"
