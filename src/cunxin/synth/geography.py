"""The map of the synthetic county: townships, villages, village groups, household points.

The county is a rectangle of about 0.6° x 0.5° around 34.3°N 119.3°E (灌云县), cut into
townships laid out roughly where they really are (the coast in the north-east), each
township cut into villages and each village into groups (村民小组), with areas in
proportion to the number of households. Coordinates are kept as integer micro-degrees
so that written polygons (6 decimals) nest exactly and never overlap. Houses cluster
around a point of their group, as hamlets do, and always fall strictly inside it.

Codes follow GB/T 10114 practice: village = 320723 + township (3) + village (3),
group = village + 3 digits, household number (户号) = group code + 4-digit door sequence,
grid (网格) = "WG" + village code + 2 digits, about 200 households each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .common import COUNTY, COUNTY_CODE, allocate
from .names import (
    TOWNSHIPS,
    VILLAGE_FIXED,
    VILLAGE_PREFIXES,
    VILLAGE_SUFFIXES,
    TownshipSpec,
    group_name,
)
from .output import atomic_text

MICRO = 1_000_000
COUNTY_RECT = (119_000_000, 34_050_000, 119_600_000, 34_550_000)  # x0 y0 x1 y1
LON_SCALE = math.cos(math.radians(34.3))  # east-west degrees are shorter

REFERENCE_VILLAGES = 355
REFERENCE_GROUPS = 2725
REFERENCE_HOUSEHOLDS = 300_000
HOUSEHOLDS_PER_GRID = 200


@dataclass
class Geography:
    townships: list[TownshipSpec]
    township_rects: np.ndarray  # (T, 4) micro-degrees
    village_code: list[str]
    village_name: list[str]
    village_township: np.ndarray  # (V,) township index
    village_rects: np.ndarray
    group_code: list[str]
    group_name: list[str]
    group_village: np.ndarray  # (G,) village index
    group_rects: np.ndarray
    group_households: np.ndarray  # (G,) number of households

    @property
    def household_count(self) -> int:
        return int(self.group_households.sum())


def county_sizes(scale: float) -> tuple[int, int, int, int]:
    """(townships, villages, groups, households) for a scale; 1.0 is the reference."""
    towns = int(min(12, max(2, round(12 * math.sqrt(scale)))))
    villages = max(towns, round(REFERENCE_VILLAGES * scale))
    groups = max(villages, round(REFERENCE_GROUPS * scale))
    households = max(groups * 8, round(REFERENCE_HOUSEHOLDS * scale))
    return towns, villages, groups, households


def build_geography(rng: np.random.Generator, scale: float) -> Geography:
    n_towns, n_villages, n_groups, n_households = county_sizes(scale)
    towns = list(TOWNSHIPS[:n_towns])
    town_weights = np.array([t.weight for t in towns]) * rng.uniform(0.85, 1.15, n_towns)
    villages_per_town = allocate(n_villages, town_weights, minimum=1)
    village_town = np.repeat(np.arange(n_towns), villages_per_town)

    village_weights = rng.uniform(0.6, 1.4, n_villages)
    groups_per_village = allocate(n_groups, village_weights, minimum=1)
    group_village = np.repeat(np.arange(n_villages), groups_per_village)

    group_weights = rng.lognormal(0.0, 0.35, n_groups)
    group_households = allocate(n_households, group_weights, minimum=3)

    village_names = _village_names(rng, n_villages)
    village_code, group_code, group_names = [], [], []
    for t in range(n_towns):
        for seq in range(201, 201 + int(villages_per_town[t])):
            village_code.append(f"{COUNTY_CODE}{towns[t].code}{seq:03d}")
    for v in range(n_villages):
        for seq in range(1, int(groups_per_village[v]) + 1):
            group_code.append(f"{village_code[v]}{seq:03d}")
            group_names.append(group_name(seq))

    hh_per_village = np.bincount(group_village, weights=group_households, minlength=n_villages)
    hh_per_town = np.bincount(village_town, weights=hh_per_village, minlength=n_towns)
    town_rects = partition(COUNTY_RECT, hh_per_town, positions=[(t.lon, t.lat) for t in towns])
    village_rects = np.zeros((n_villages, 4), dtype=np.int64)
    for t in range(n_towns):
        idx = np.flatnonzero(village_town == t)
        village_rects[idx] = partition(tuple(town_rects[t]), hh_per_village[idx])
    group_rects = np.zeros((n_groups, 4), dtype=np.int64)
    for v in range(n_villages):
        idx = np.flatnonzero(group_village == v)
        group_rects[idx] = partition(tuple(village_rects[v]), group_households[idx])

    return Geography(
        townships=towns,
        township_rects=town_rects,
        village_code=village_code,
        village_name=village_names,
        village_township=village_town,
        village_rects=village_rects,
        group_code=group_code,
        group_name=group_names,
        group_village=group_village,
        group_rects=group_rects,
        group_households=group_households,
    )


def _village_names(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct village names such as 东湖村, 王庄村."""
    combos = [p + s for p in VILLAGE_PREFIXES for s in VILLAGE_SUFFIXES]
    order = rng.permutation(len(combos))
    names: list[str] = []
    seen: set[str] = set()
    for base in list(VILLAGE_FIXED) + [combos[i] for i in order.tolist()]:
        if base not in seen:
            seen.add(base)
            names.append(base + "村")
        if len(names) == n:
            break
    return names


def _cuts(lo: int, hi: int, weights: np.ndarray) -> np.ndarray:
    """Integer boundaries lo = b0 < b1 < ... < bn = hi, gaps ~ weights."""
    w = np.asarray(weights, dtype=float)
    w = np.maximum(w, w.sum() * 0.02 / len(w) + 1e-9)
    frac = np.cumsum(w) / w.sum()
    bounds = np.r_[lo, lo + np.round(frac * (hi - lo)).astype(np.int64)]
    bounds[-1] = hi
    min_gap = max(1, min(200, (hi - lo) // (4 * len(w))))
    for k in range(1, len(bounds)):  # keep every cell at least min_gap wide
        bounds[k] = max(bounds[k], bounds[k - 1] + min_gap)
    overflow = bounds[-1] - hi
    if overflow > 0:  # squeeze back from the end
        for k in range(len(bounds) - 1, 0, -1):
            bounds[k] = min(bounds[k], hi - (len(bounds) - 1 - k) * min_gap)
    return bounds


def partition(
    rect: tuple[int, ...],
    weights: np.ndarray,
    positions: list[tuple[float, float]] | None = None,
) -> np.ndarray:
    """Cut a rectangle into len(weights) rectangles (rows of cells), areas ~ weights.

    With positions (lon, lat) the cells are assigned so that northern items get northern
    rows and, within a row, western items western cells; else in index order.
    """
    x0, y0, x1, y1 = (int(v) for v in rect)
    n = len(weights)
    weights = np.asarray(weights, dtype=float)
    aspect = (x1 - x0) * LON_SCALE / max(1, y1 - y0)
    cols = min(n, max(1, round(math.sqrt(n * aspect))))
    rows = math.ceil(n / cols)
    if positions is None:
        row_items = np.array_split(np.arange(n), rows)
    else:
        by_lat = np.argsort([-p[1] for p in positions], kind="stable")
        row_items = [
            items[np.argsort([positions[i][0] for i in items], kind="stable")]
            for items in np.array_split(by_lat, rows)
        ]
    out = np.zeros((n, 4), dtype=np.int64)
    y_bounds = _cuts(y0, y1, np.array([weights[r].sum() for r in row_items])[::-1])[::-1]
    for r, items in enumerate(row_items):  # row 0 is the northernmost
        top, bottom = y_bounds[r], y_bounds[r + 1]
        xb = _cuts(x0, x1, weights[items])
        for k, item in enumerate(items.tolist()):
            out[item] = (xb[k], bottom, xb[k + 1], top)
    return out


# ---------------------------------------------------------------- households on the map


def place_households(
    rng: np.random.Generator, geo: Geography
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group index, longitude µdeg, latitude µdeg) per household, grouped by group."""
    group = np.repeat(np.arange(len(geo.group_code)), geo.group_households)
    r = geo.group_rects[group]
    width, height = r[:, 2] - r[:, 0], r[:, 3] - r[:, 1]
    center_x = geo.group_rects[:, 0] + (0.2 + 0.6 * rng.random(len(geo.group_code))) * (
        geo.group_rects[:, 2] - geo.group_rects[:, 0]
    )
    center_y = geo.group_rects[:, 1] + (0.2 + 0.6 * rng.random(len(geo.group_code))) * (
        geo.group_rects[:, 3] - geo.group_rects[:, 1]
    )
    x = center_x[group] + rng.normal(0, 0.22, len(group)) * width
    y = center_y[group] + rng.normal(0, 0.22, len(group)) * height
    margin_x = np.maximum(1, width // 50)
    margin_y = np.maximum(1, height // 50)
    x = np.clip(np.round(x).astype(np.int64), r[:, 0] + margin_x, r[:, 2] - margin_x)
    y = np.clip(np.round(y).astype(np.int64), r[:, 1] + margin_y, r[:, 3] - margin_y)
    return group, x, y


def grid_codes(geo: Geography, household_group: np.ndarray) -> list[str]:
    """网格编号 per household: consecutive runs of ~200 households of a village."""
    village = geo.group_village[household_group]
    out: list[str] = [""] * len(village)
    for v in range(len(geo.village_code)):
        rows = np.flatnonzero(village == v)
        n_grids = max(1, round(len(rows) / HOUSEHOLDS_PER_GRID))
        grid = np.arange(len(rows)) * n_grids // max(1, len(rows)) + 1
        code = geo.village_code[v]
        for i, g in zip(rows.tolist(), grid.tolist(), strict=True):
            out[i] = f"WG{code}{g:02d}"
    return out


# ---------------------------------------------------------------- GeoJSON


def _deg(v: int) -> str:
    return f"{v // MICRO}.{v % MICRO:06d}"


def _ring(rect: np.ndarray) -> str:
    x0, y0, x1, y1 = (_deg(int(v)) for v in rect)
    return f"[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]"


def _props(**values: str) -> str:
    return ",".join(f'"{k}":"{v}"' for k, v in values.items())


def _polygon_feature(rect: np.ndarray, **props: str) -> str:
    return (
        f'{{"type":"Feature","properties":{{{_props(**props)}}},'
        f'"geometry":{{"type":"Polygon","coordinates":{_ring(rect)}}}}}'
    )


def _write_collection(path: Path, features) -> None:
    with atomic_text(path, encoding="utf-8") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        batch: list[str] = []
        first = True
        for feature in features:
            batch.append(feature)
            if len(batch) == 10_000:
                fh.write(("" if first else ",\n") + ",\n".join(batch))
                batch, first = [], False
        if batch:
            fh.write(("" if first else ",\n") + ",\n".join(batch))
        fh.write("\n]}\n")


def write_geojson(
    geo_dir: Path,
    geo: Geography,
    household_no: list[str],
    household_group: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
) -> None:
    geo_dir.mkdir(parents=True, exist_ok=True)
    county_rect = np.array(COUNTY_RECT)
    _write_collection(
        geo_dir / "county.geojson",
        [_polygon_feature(county_rect, county_code=COUNTY_CODE, county_name=COUNTY)],
    )
    _write_collection(
        geo_dir / "township.geojson",
        (
            _polygon_feature(
                geo.township_rects[t],
                township_code=town.code,
                township_name=town.name,
                county_code=COUNTY_CODE,
            )
            for t, town in enumerate(geo.townships)
        ),
    )
    _write_collection(
        geo_dir / "village.geojson",
        (
            _polygon_feature(
                geo.village_rects[v],
                village_code=code,
                village_name=geo.village_name[v],
                township_code=geo.townships[geo.village_township[v]].code,
                township_name=geo.townships[geo.village_township[v]].name,
            )
            for v, code in enumerate(geo.village_code)
        ),
    )
    _write_collection(
        geo_dir / "group.geojson",
        (
            _polygon_feature(
                geo.group_rects[g],
                group_code=code,
                group_name=geo.group_name[g],
                village_code=geo.village_code[geo.group_village[g]],
            )
            for g, code in enumerate(geo.group_code)
        ),
    )
    group_codes = geo.group_code
    village_of_group = [geo.village_code[v] for v in geo.group_village.tolist()]
    _write_collection(
        geo_dir / "household.geojson",
        (
            f'{{"type":"Feature","properties":{{"household_no":"{no}",'
            f'"group_code":"{group_codes[g]}","village_code":"{village_of_group[g]}"}},'
            f'"geometry":{{"type":"Point","coordinates":[{_deg(x)},{_deg(y)}]}}}}'
            for no, g, x, y in zip(
                household_no, household_group.tolist(), lon.tolist(), lat.tolist(), strict=True
            )
        ),
    )
