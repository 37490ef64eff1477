"""The landscape painted from a seed: river, roads, village, wood, tree rows and field parcels.

Classes, objects (parcel, building, crown, road...) and heights, later paint covering earlier
paint; see the package's docstring for the layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .classes import BARE_SOIL, BUILDINGS, CROP, GRASSLAND, ROADS, TREES, WATER
from .fields import _random_field


@dataclass
class _Canvas:
    """Class, object and height maps being painted; later paint covers earlier paint."""

    classes: np.ndarray
    objects: np.ndarray
    height: np.ndarray
    n_objects: int = 1

    @classmethod
    def empty(cls, rows: int, cols: int) -> _Canvas:
        return cls(np.zeros((rows, cols), np.uint8), np.zeros((rows, cols), np.int32),
                   np.zeros((rows, cols), np.float64))

    def paint(self, mask: np.ndarray, value: int, height: np.ndarray | float = 0.0,
              window: tuple[slice, slice] = (slice(None), slice(None))) -> None:
        """Paint one new object where `mask` (of the shape of `window`) is True."""
        classes, objects, heights = (a[window] for a in (self.classes, self.objects, self.height))
        classes[mask] = value
        objects[mask] = self.n_objects
        heights[mask] = np.broadcast_to(height, mask.shape)[mask]
        self.n_objects += 1


@dataclass(frozen=True)
class _RoadSide:
    """One side of a straight road along which buildings are placed."""

    along_rows: bool  # the road runs north-south
    edge: float  # coordinate across the road of the edge on this side
    sign: int  # +1: buildings at larger coordinates than the edge
    start: float
    stop: float


@dataclass(frozen=True)
class _Layout:
    classes: np.ndarray  # uint8 (rows, cols), class values
    objects: np.ndarray  # int32 (rows, cols), one id per parcel, building, crown, road...
    height: np.ndarray  # float64 (rows, cols), noise-free height above ground (m)
    n_objects: int


@dataclass(frozen=True)
class _Roads:
    main_y: float  # centre row of the east-west main road
    main_width: float
    side_x: float  # centre column of the north-south side road
    side_width: float
    sides: tuple[_RoadSide, ...]  # where buildings line the roads


def _layout(rng: np.random.Generator, rows: int, cols: int) -> _Layout:
    canvas = _Canvas.empty(rows, cols)
    east_bank = _paint_river(rng, canvas)
    roads = _paint_roads(rng, canvas)
    village = _paint_village(rng, canvas, roads)
    not_built = ~np.isin(canvas.classes, (ROADS, BUILDINGS))
    _paint_wood(rng, canvas, roads, not_built)
    _paint_tree_rows(rng, canvas, roads, east_bank, not_built)
    _paint_garden_trees(rng, canvas, village & (canvas.classes == GRASSLAND), not_built)
    _fill_parcels(rng, canvas)
    return _Layout(canvas.classes, canvas.objects, canvas.height, canvas.n_objects)


def _pixel_centres(canvas: _Canvas) -> tuple[np.ndarray, np.ndarray]:
    """Row coordinates (rows, 1) and column coordinates (1, cols) of the pixel centres."""
    rows, cols = canvas.classes.shape
    return np.arange(rows)[:, None] + 0.5, np.arange(cols)[None, :] + 0.5


def _paint_river(rng: np.random.Generator, canvas: _Canvas) -> np.ndarray:
    """A river meandering north-south in the west; returns the east bank column of each row."""
    rows, cols = canvas.classes.shape
    r, c = _pixel_centres(canvas)
    half = float(np.clip(0.05 * min(rows, cols), 5.0, 14.0)) / 2.0
    half = half * (1.0 + 0.15 * _random_field(rng, (rows, 1), rows / 6.0))
    period = rows * rng.uniform(0.7, 1.2)
    centre = cols * (0.16 + rng.uniform(-0.02, 0.02)) + 0.04 * cols * np.sin(
        2.0 * math.pi * r / period + rng.uniform(0.0, 2.0 * math.pi))
    canvas.paint(np.abs(c - centre) < half, WATER)
    return (centre + half)[:, 0]


def _paint_roads(rng: np.random.Generator, canvas: _Canvas) -> _Roads:
    """Main road east-west, side road north-south, village street in larger scenes."""
    rows, cols = canvas.classes.shape
    r, c = _pixel_centres(canvas)
    size = min(rows, cols)
    main_width = float(np.clip(0.03 * size, 3.0, 8.0))
    side_width = float(np.clip(0.022 * size, 3.0, 6.0))
    main_y = rows * (0.6 + rng.uniform(-0.04, 0.04))
    side_x = cols * (0.56 + rng.uniform(-0.04, 0.04))
    north_of_main = main_y - main_width / 2.0
    canvas.paint(np.broadcast_to(np.abs(r - main_y) < main_width / 2.0, (rows, cols)), ROADS)
    canvas.paint(np.broadcast_to(np.abs(c - side_x) < side_width / 2.0, (rows, cols)), ROADS)
    sides = [
        _RoadSide(True, side_x - side_width / 2.0, -1, 0.0, north_of_main),
        _RoadSide(True, side_x + side_width / 2.0, +1, 0.0, north_of_main),
        _RoadSide(False, north_of_main, -1, side_x - 0.25 * cols, cols),
    ]
    if rows >= 96 and cols >= 96:
        street_y = rows * 0.28
        canvas.paint((np.abs(r - street_y) < side_width / 2.0) & (c > side_x), ROADS)
        sides += [_RoadSide(False, street_y - side_width / 2.0, -1, side_x, cols),
                  _RoadSide(False, street_y + side_width / 2.0, +1, side_x, cols)]
    return _Roads(main_y, main_width, side_x, side_width, tuple(sides))


def _paint_village(rng: np.random.Generator, canvas: _Canvas, roads: _Roads) -> np.ndarray:
    """Lawns north of the main road around the side road, buildings along the roads there."""
    rows, cols = canvas.classes.shape
    r, c = _pixel_centres(canvas)
    village = ((c >= roads.side_x - 0.25 * cols) & (r < roads.main_y - roads.main_width / 2.0)
               & (canvas.classes == 0))
    canvas.paint(village, GRASSLAND)
    scale = float(np.clip(min(rows, cols) / 160.0, 0.6, 1.0))
    for i in rng.permutation(len(roads.sides)):
        _place_buildings(rng, canvas, roads.sides[i], scale)
    return village


def _paint_wood(rng: np.random.Generator, canvas: _Canvas, roads: _Roads, allowed: np.ndarray) -> None:
    """A wood of crowns on a jittered 5 m grid in the south-east, its floor grassland."""
    rows, cols = canvas.classes.shape
    r, c = _pixel_centres(canvas)
    size = min(rows, cols)
    wood = (((c - 0.8 * cols) / (0.25 * cols)) ** 2 + ((r - 0.86 * rows) / (0.2 * rows)) ** 2
            + 0.3 * _random_field(rng, (rows, cols), size / 12.0) < 1.0)
    wood &= ((r > roads.main_y + roads.main_width / 2.0 + 2.0)
             & (c > roads.side_x + roads.side_width / 2.0 + 2.0) & (canvas.classes == 0))
    canvas.paint(wood, GRASSLAND)
    stand_height = 19.0 + 4.0 * _random_field(rng, (rows, cols), size / 8.0)
    for y in np.arange(2.5, rows, 5.0):
        for x in np.arange(2.5, cols, 5.0):
            yc, xc = y + rng.uniform(-1.5, 1.5), x + rng.uniform(-1.5, 1.5)
            if wood[min(int(yc), rows - 1), min(int(xc), cols - 1)]:
                top = float(np.clip(stand_height[int(y), int(x)] + rng.uniform(-2.0, 2.0), 12.0, 25.0))
                _paint_crown(canvas, yc, xc, rng.uniform(2.6, 4.2), top, allowed)


def _paint_tree_rows(rng: np.random.Generator, canvas: _Canvas, roads: _Roads,
                     east_bank: np.ndarray, allowed: np.ndarray) -> None:
    """Riparian trees along the east bank (with gaps) and an avenue south of the main road."""
    rows = canvas.classes.shape[0]
    y = rng.uniform(0.0, 6.0)
    while y < rows:
        radius = rng.uniform(2.5, 4.0)
        if rng.uniform() < 0.7:
            _paint_crown(canvas, y, east_bank[min(int(y), rows - 1)] + 0.9 * radius, radius,
                         rng.uniform(8.0, 16.0), allowed)
        y += rng.uniform(5.0, 10.0)
    x = float(east_bank.max()) + 6.0
    while x < roads.side_x - roads.side_width / 2.0 - 4.0:
        radius = rng.uniform(2.2, 3.2)
        _paint_crown(canvas, roads.main_y + roads.main_width / 2.0 + radius + 0.5, x, radius,
                     rng.uniform(7.0, 13.0), allowed)
        x += rng.uniform(8.0, 11.0)


def _paint_garden_trees(rng: np.random.Generator, canvas: _Canvas, lawn: np.ndarray,
                        allowed: np.ndarray) -> None:
    """A few small trees where their crown and 1 px around it fall on lawn."""
    rows, cols = canvas.classes.shape
    for _ in range(max(3, int(lawn.sum() / 500))):
        radius = rng.uniform(2.0, 3.5)
        yc, xc = rng.uniform(0, rows), rng.uniform(0, cols)
        r0, r1 = int(yc - radius - 1), int(math.ceil(yc + radius + 1))
        c0, c1 = int(xc - radius - 1), int(math.ceil(xc + radius + 1))
        if r0 >= 0 and c0 >= 0 and r1 <= rows and c1 <= cols and lawn[r0:r1, c0:c1].all():
            _paint_crown(canvas, yc, xc, radius, rng.uniform(5.0, 10.0), allowed)


def _place_buildings(rng: np.random.Generator, canvas: _Canvas, side: _RoadSide, scale: float) -> None:
    """Walk along a road side and put buildings where lawn is free, with 2 px to spare."""
    rows, cols = canvas.classes.shape
    t = side.start + rng.uniform(1.0, 4.0)
    while t < side.stop:
        along = rng.uniform(8.0, 16.0) * scale
        depth = rng.uniform(8.0, 14.0) * scale
        near = side.edge + side.sign * rng.uniform(3.0, 6.0) * scale
        a0, a1 = int(round(t)), int(round(t + along))
        b0, b1 = sorted((int(round(near)), int(round(near + side.sign * depth))))
        r0, r1, c0, c1 = (a0, a1, b0, b1) if side.along_rows else (b0, b1, a0, a1)
        free = (r0 >= 2 and c0 >= 2 and r1 <= rows - 2 and c1 <= cols - 2 and a1 <= side.stop
                and (canvas.classes[r0 - 2:r1 + 2, c0 - 2:c1 + 2] == GRASSLAND).all())
        if free:
            _paint_building(rng, canvas, r0, r1, c0, c1)
            t += along + rng.uniform(3.0, 8.0) * scale
        else:
            t += 2.0


def _paint_building(rng: np.random.Generator, canvas: _Canvas, r0: int, r1: int, c0: int, c1: int) -> None:
    """A flat roof (4-20 m) or a gabled roof with its ridge along the longer side."""
    h, w = r1 - r0, c1 - c0
    if min(h, w) >= 6 and rng.uniform() < 0.45:
        if w >= h:  # ridge along the columns
            across = np.abs(np.arange(h)[:, None] + 0.5 - h / 2.0)
        else:
            across = np.abs(np.arange(w)[None, :] + 0.5 - w / 2.0)
        half = min(h, w) / 2.0
        eave = rng.uniform(3.5, 8.0)
        roof = eave + 0.6 * half * (1.0 - across / half)
        roof = np.broadcast_to(np.minimum(roof, 20.0), (h, w))
    else:
        roof = rng.uniform(4.0, 12.0) if rng.uniform() < 0.8 else rng.uniform(12.0, 20.0)
    canvas.paint(np.ones((h, w), bool), BUILDINGS, roof, (slice(r0, r1), slice(c0, c1)))


def _paint_crown(canvas: _Canvas, yc: float, xc: float, radius: float, top: float, allowed: np.ndarray) -> None:
    """A round crown with an ellipsoidal top; where crowns overlap the higher one shows."""
    rows, cols = canvas.classes.shape
    r0, r1 = max(0, int(yc - radius)), min(rows, int(math.ceil(yc + radius)) + 1)
    c0, c1 = max(0, int(xc - radius)), min(cols, int(math.ceil(xc + radius)) + 1)
    if r0 >= r1 or c0 >= c1:
        return
    window = (slice(r0, r1), slice(c0, c1))
    d2 = ((np.arange(r0, r1)[:, None] + 0.5 - yc) ** 2 + (np.arange(c0, c1)[None, :] + 0.5 - xc) ** 2) / radius ** 2
    profile = top * (0.55 + 0.45 * np.sqrt(np.clip(1.0 - d2, 0.0, 1.0)))
    inside = (d2 < 1.0) & allowed[window] & (profile > canvas.height[window])
    if inside.any():
        canvas.paint(inside, TREES, profile, window)


def _fill_parcels(rng: np.random.Generator, canvas: _Canvas) -> None:
    """Unpainted pixels become fields: Voronoi cells on a jittered grid, stretched east-west.

    The three parcels with the most unpainted pixels get crop, grassland and bare soil, so
    that every field class is present.
    """
    rows, cols = canvas.classes.shape
    size = min(rows, cols)
    cell_w, cell_h = float(np.clip(0.3 * size, 18, 80)), float(np.clip(0.16 * size, 10, 40))
    ny, nx = int(rows / cell_h) + 2, int(cols / cell_w) + 2
    seed_r = (np.arange(ny)[:, None] + rng.uniform(0.15, 0.85, (ny, nx))) * cell_h
    seed_c = (np.arange(nx)[None, :] + rng.uniform(0.15, 0.85, (ny, nx))) * cell_w
    r, c = _pixel_centres(canvas)
    cell_r, cell_c = (r // cell_h).astype(int), (c // cell_w).astype(int)
    best = np.full((rows, cols), np.inf)
    parcel = np.zeros((rows, cols), int)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            jr, jc = np.clip(cell_r + dy, 0, ny - 1), np.clip(cell_c + dx, 0, nx - 1)
            d = ((r - seed_r[jr, jc]) / cell_h) ** 2 + ((c - seed_c[jr, jc]) / cell_w) ** 2
            closer = d < best
            best[closer] = d[closer]
            parcel[closer] = np.broadcast_to(jr * nx + jc, (rows, cols))[closer]
    kinds = rng.choice([CROP, GRASSLAND, BARE_SOIL], size=ny * nx, p=[0.45, 0.3, 0.25])
    crop_height = rng.uniform(0.3, 1.2, ny * nx)
    empty = canvas.classes == 0
    visible = np.bincount(parcel[empty], minlength=ny * nx)
    largest = np.argsort(-visible, kind="stable")[:3]
    kinds[largest] = rng.permutation([CROP, GRASSLAND, BARE_SOIL])
    for p in np.flatnonzero(visible):
        mask = empty & (parcel == p)
        canvas.paint(mask, int(kinds[p]), crop_height[p] if kinds[p] == CROP else 0.0)

