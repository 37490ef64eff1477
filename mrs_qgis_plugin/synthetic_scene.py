"""Synthetic multi-source scene: the plugin's embedded default data.

`write_scene(out_dir)` (or `python mrs_qgis_plugin/synthetic_scene.py OUTDIR`) writes a
small georeferenced landscape seen by three sensors, with training and test labels, in the
layout of the benchmark scenes (`hsi.tif`, auxiliary rasters, `train.tif`, `test.tif`,
`train_points.gpkg`, `classes.csv`), so that every tool of the plugin can be tried without
downloading anything. Everything is simulated with numpy from a seed: the same seed and
options give byte-identical rasters on one machine. It needs numpy and GDAL only, so it runs
without QGIS and without torch. The scene is built in memory (about 6 bytes per pixel and band
plus 150 per pixel): the default takes about 2 s on 2 cores, a 48 x 48 test scene 0.1 s.

Grid: EPSG:32632 (WGS 84 / UTM 32N, a nominal placement), 1 m pixels, north-up, upper-left
corner (661000 E, 5101000 N); 256 x 256 pixels by default (`width`, `height`, at least 48).

Layout (relative to the scene size): a meandering river in the west with a row of riparian
trees on its east bank; a main road east-west with an avenue of trees; a side road north-south;
north of the main road and east of the side road a village of flat-roofed and gabled buildings
(4-20 m high) on lawns with garden trees, with a village street when the scene is at least
96 pixels in both directions; a wood of round crowns (5-25 m) in the south-east; everything
else agricultural parcels (anisotropic Voronoi cells) of crop, grassland or bare soil.

Classes (`classes.csv`):

| value | name | spectral recipe (endmembers mixed per pixel) | height | SAR |
|---|---|---|---|---|
| 1 | Crop | vigorous crop, sparse crop, dry soil | 0.3-1.2 m | medium, VH -16 dB |
| 2 | Grassland | green grass, dry grass, dark canopy (tall herbs) | 0 | VH -20 dB |
| 3 | Bare soil | dry soil, moist soil, dry grass | 0 | rough, texture per parcel |
| 4 | Trees | broadleaf canopy, green grass, dark canopy | 5-25 m crowns | volume: VH -13 dB |
| 5 | Buildings | bitumen roof, gravel roof, concrete | 4-20 m | double bounce, layover |
| 6 | Roads | asphalt, aged asphalt, concrete | 0 | dark (-19 dB VV) |
| 7 | Water | clear water, turbid water | 0 | darkest (-22 dB VV), no texture |

Two pairs are alike in the HSI on purpose, as on real data: Trees / Grassland (shared green
vegetation endmembers) and Buildings / Roads (roofs of bitumen, gravel and concrete against
roads of asphalt and concrete). The class mean spectra of each pair are nearer to each other
than to any other class (on scenes of 128 px or more, for nearly every seed). Height (LiDAR)
and SAR (volume scattering, double bounce) tell them apart, so the auxiliary data matter: on
the default scene a linear discriminant trained on half of the test pixels gets Buildings
54 %, Roads 63 %, Trees 92 % right from the HSI alone and 98-100 % with the nDSM added.

HSI (`hsi.tif`): Int16 surface reflectance x 10000 (band scale 1e-4), `n_bands` (default 100)
evenly spaced over 400-1000 nm (band centres at the middle of equal intervals, Gaussian
spectral response of FWHM equal to the spacing); per band `wavelength`, `fwhm` and a
description such as `b001 403.0 nm`; ENVI-style `wavelength = {...}`, `fwhm`,
`wavelength_units = Nanometers` in the default metadata domain. NoData -32768 (used only with
`nodata_corner=True`, which blanks the upper-right corner like the edge of a flight strip).
Simulation:
1. Endmembers: hand-made reflectance curves (anchor points, linear interpolation, Gaussian
   smoothing of 5 nm on a 1 nm grid) with the usual shapes: vegetation with green peak, red
   absorption, red edge and NIR plateau with the 970 nm water dip; soils rising; water low and
   decreasing; asphalt dark and flat; concrete bright and flat. Band values by the spectral
   response.
2. Within-class variability: per pixel the abundances of the class's 2-3 endmembers are
   logistic-normal: prior shares plus an offset per object (parcel, building, crown, road)
   plus smooth Gaussian random fields (sigma 2 and 12 px).
3. Mixed pixels: class maps blurred by a Gaussian of sigma 0.6 px (sub-pixel boundaries)
   before the abundances of the classes are summed.
4. Illumination: sun at azimuth 150 deg, elevation 55 deg; local incidence from the nDSM
   (sunlit and shaded crown sides and roof pitches), cast shadows by ray marching over the
   nDSM, diffuse sky light 0.06 + 0.12 (lambda / 550 nm)^-2 so that shadows are dark and
   bluish; a smooth multiplicative field (sd 5 %).
5. Sensor: additive Gaussian noise of SNR 80 (band edges) to 250 (650 nm) relative to the
   scene-mean reflectance of the band. Neighbouring bands stay strongly correlated: with 100
   bands Pearson r over the default scene is 0.998 on average, 0.97 at least (across the red
   edge); fewer, wider-spaced bands correlate less. Reflectance spans about -0.01 to 0.64.

LiDAR (`lidar.tif`, Float32, NoData -9999, no NoData pixels): band 1 nDSM, height above
ground in m (buildings, crowns with ellipsoidal profile and roughness of sd 0.8 m, crop
0.3-1.2 m, elsewhere 0 plus noise of sd 0.05 m, negative heights clipped to 0); band 2
(`lidar_intensity=True`) return intensity, relative (0-100), from the NIR reflectance
(unaffected by solar shadows) with 5 % noise.

SAR (`sar.tif`, `sar=True`, Float32, 4 bands: VV and VH sigma0 in linear power, VV in dB,
VH/VV in dB): C-band-like backscatter per class (hard class map, no boundary mixing) with
log-normal texture per object and per pixel (none on water); sensor to the west, incidence
35 deg: radar shadow east of tall objects, double bounce at the foot of walls facing the
sensor, facade layover west of buildings, roof brightness with the local incidence; thermal
noise floor -25 dB; fully developed multiplicative speckle, Gamma with `sar_looks` looks
(default 4) and mean 1, independent per pixel and polarisation (coefficient of variation
1 / sqrt(looks) on homogeneous areas).

Labels: "pure" pixels are those whose 3 x 3 neighbourhood holds one class only (and valid
HSI). `train_per_class` of them per class (default 30) are drawn at random (numpy
default_rng, classes in ascending order, flat indices in row-major order) for `train.tif` and
`train_points.gpkg` (layer `train_points`, points at pixel centres, fields `class_id`,
`class_name`); every other pure pixel is in `test.tif`. Mixed boundary pixels stay unlabelled
(0, also NoData) in both. Label rasters are UInt8 with a colour table and category names.
Random streams are separate (layout, HSI, LiDAR, SAR, split), so the SAR option or the band
count changes neither the layout nor the labels.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

CROP, GRASSLAND, BARE_SOIL, TREES, BUILDINGS, ROADS, WATER = range(1, 8)

EPSG = 32632
ORIGIN = (661000.0, 5101000.0)
PIXEL_SIZE = 1.0
MIN_SIZE = 48
WAVELENGTH_RANGE = (400.0, 1000.0)
HSI_SCALE = 10000
HSI_NODATA = -32768
LIDAR_NODATA = -9999.0

SUN_AZIMUTH = 150.0
SUN_ELEVATION = 55.0
SAR_INCIDENCE = 35.0
SAR_LOOK_AZIMUTH = 270.0  # direction from the ground to the sensor (west)
SAR_NESZ_DB = -25.0
BOUNDARY_BLUR_PX = 0.6


@dataclass(frozen=True)
class SceneClass:
    value: int
    name: str
    color: str


CLASSES = (
    SceneClass(CROP, "Crop", "#e3c84b"),
    SceneClass(GRASSLAND, "Grassland", "#98d46b"),
    SceneClass(BARE_SOIL, "Bare soil", "#b07c4f"),
    SceneClass(TREES, "Trees", "#1e6b2a"),
    SceneClass(BUILDINGS, "Buildings", "#d62728"),
    SceneClass(ROADS, "Roads", "#6f6f6f"),
    SceneClass(WATER, "Water", "#2b7bba"),
)


@dataclass(frozen=True)
class ScenePaths:
    """The files `write_scene` wrote, and the class table of the labels."""

    directory: Path
    hsi: Path
    lidar: Path
    sar: Path | None
    train: Path
    test: Path
    train_points: Path
    classes_csv: Path
    classes: tuple[SceneClass, ...] = CLASSES


# ----------------------------------------------------------------------------- spectra

_WL_FINE = np.arange(350.0, 1051.0)

# Reflectance anchor points (nm, reflectance), interpolated and smoothed on the 1 nm grid.
_ENDMEMBERS: dict[str, tuple[tuple[float, float], ...]] = {
    "crop_vigorous": ((400, .030), (450, .034), (500, .045), (550, .125), (600, .060),
                      (650, .034), (675, .026), (690, .040), (705, .120), (720, .300),
                      (740, .450), (760, .520), (800, .540), (900, .550), (950, .520),
                      (975, .500), (1000, .520)),
    "crop_sparse": ((400, .045), (450, .052), (500, .068), (550, .120), (600, .095),
                    (650, .080), (675, .072), (690, .085), (710, .170), (730, .280),
                    (750, .340), (780, .370), (900, .390), (950, .375), (975, .365),
                    (1000, .380)),
    "grass_green": ((400, .040), (450, .045), (500, .056), (550, .110), (600, .075),
                    (650, .055), (675, .046), (690, .060), (710, .160), (730, .290),
                    (750, .370), (780, .400), (900, .420), (950, .400), (975, .385),
                    (1000, .405)),
    "grass_dry": ((400, .060), (450, .075), (500, .100), (550, .150), (600, .180),
                  (650, .200), (675, .205), (700, .230), (750, .290), (800, .320),
                  (900, .350), (950, .345), (975, .340), (1000, .360)),
    "canopy_broadleaf": ((400, .032), (450, .037), (500, .048), (550, .125), (600, .070),
                         (650, .045), (675, .036), (690, .052), (705, .130), (725, .310),
                         (745, .440), (770, .490), (900, .510), (950, .490), (975, .470),
                         (1000, .490)),
    "canopy_dark": ((400, .022), (450, .025), (500, .032), (550, .075), (600, .045),
                    (650, .030), (675, .025), (690, .035), (705, .085), (725, .200),
                    (745, .280), (770, .310), (900, .330), (950, .315), (975, .305),
                    (1000, .320)),
    "soil_dry": ((400, .090), (450, .110), (500, .140), (550, .180), (600, .230),
                 (650, .260), (700, .280), (800, .310), (870, .305), (900, .315),
                 (1000, .340)),
    "soil_moist": ((400, .050), (500, .070), (600, .110), (700, .140), (800, .160),
                   (900, .170), (1000, .180)),
    "water_clear": ((400, .055), (450, .050), (500, .045), (550, .035), (600, .020),
                    (650, .012), (700, .008), (750, .005), (900, .003), (1000, .002)),
    "water_turbid": ((400, .050), (450, .055), (500, .065), (550, .080), (580, .085),
                     (600, .075), (650, .055), (700, .040), (750, .020), (810, .025),
                     (850, .012), (1000, .005)),
    "asphalt": ((400, .045), (500, .055), (600, .065), (700, .072), (800, .078),
                (900, .082), (1000, .086)),
    "asphalt_aged": ((400, .090), (500, .110), (600, .130), (700, .145), (800, .155),
                     (900, .160), (1000, .165)),
    "concrete": ((400, .200), (450, .250), (500, .280), (600, .310), (700, .320),
                 (800, .330), (900, .320), (1000, .310)),
    "roof_bitumen": ((400, .050), (500, .058), (600, .066), (700, .074), (800, .080),
                     (900, .085), (1000, .090)),
    "roof_gravel": ((400, .110), (500, .135), (600, .160), (700, .175), (800, .185),
                    (900, .190), (1000, .195)),
}
_ENDMEMBER_NAMES = tuple(_ENDMEMBERS)


@dataclass(frozen=True)
class _Material:
    """How a class mixes its endmembers: prior shares and the spread of the mixing."""

    slots: tuple[tuple[str, float], ...]
    object_sd: float  # logit spread between objects (parcels, buildings, crowns)
    pixel_sd: float  # logit spread of the smooth fields inside an object


_MATERIALS = {
    CROP: _Material((("crop_vigorous", 6.0), ("crop_sparse", 1.0), ("soil_dry", 0.5)), 0.6, 0.5),
    GRASSLAND: _Material((("grass_green", 4.0), ("grass_dry", 1.2), ("canopy_dark", 0.8)), 0.6, 0.6),
    BARE_SOIL: _Material((("soil_dry", 3.0), ("soil_moist", 1.5), ("grass_dry", 0.3)), 1.0, 0.5),
    TREES: _Material((("canopy_broadleaf", 4.0), ("grass_green", 2.0), ("canopy_dark", 1.0)), 0.7, 0.6),
    BUILDINGS: _Material((("roof_bitumen", 2.0), ("roof_gravel", 1.2), ("concrete", 1.0)), 0.6, 0.2),
    ROADS: _Material((("asphalt", 2.0), ("asphalt_aged", 1.2), ("concrete", 1.0)), 0.6, 0.4),
    WATER: _Material((("water_clear", 3.0), ("water_turbid", 1.5)), 0.0, 0.8),
}


def band_centres(n_bands: int) -> tuple[np.ndarray, float]:
    """Centres (nm) of `n_bands` equal intervals over `WAVELENGTH_RANGE`, and their width."""
    lo, hi = WAVELENGTH_RANGE
    step = (hi - lo) / n_bands
    return lo + step * (np.arange(n_bands) + 0.5), step


def _endmember_spectra(centres: np.ndarray, fwhm: float) -> np.ndarray:
    """(n_endmembers, n_bands) band reflectance through Gaussian spectral responses."""
    fine = np.stack([
        _blur_axis(np.interp(_WL_FINE, *zip(*anchors)), 5.0, axis=0)
        for anchors in _ENDMEMBERS.values()
    ])
    response = np.exp(-4.0 * math.log(2.0) * ((_WL_FINE[None, :] - centres[:, None]) / fwhm) ** 2)
    response /= response.sum(axis=1, keepdims=True)
    return fine @ response.T


# ------------------------------------------------------------------- filters and fields

def _blur_axis(a: np.ndarray, sigma: float, axis: int) -> np.ndarray:
    """Gaussian filter along one axis, edge values repeated beyond the ends."""
    radius = max(1, int(math.ceil(3.0 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    moved = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    pad = [(0, 0)] * (moved.ndim - 1) + [(radius, radius)]
    padded = np.pad(moved, pad, mode="edge")
    n = moved.shape[-1]
    out = np.zeros_like(moved)
    for i, weight in enumerate(taps):
        out += weight * padded[..., i:i + n]
    return np.moveaxis(out, -1, axis)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian filter over the last two (row, column) axes."""
    return _blur_axis(_blur_axis(a, sigma, -2), sigma, -1)


def _random_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian random field of zero mean and unit variance, correlation length `sigma` px."""
    pad = int(math.ceil(3.0 * sigma))
    full = (shape[0] + 2 * pad, shape[1] + 2 * pad)
    fy = np.fft.fftfreq(full[0])[:, None]
    fx = np.fft.rfftfreq(full[1])[None, :]
    transfer = np.exp(-2.0 * (math.pi * sigma) ** 2 * (fy ** 2 + fx ** 2))
    smooth = np.fft.irfft2(np.fft.rfft2(rng.standard_normal(full)) * transfer, s=full)
    smooth = (smooth - smooth.mean()) / smooth.std()
    return smooth[pad:pad + shape[0], pad:pad + shape[1]]


def _shifted(a: np.ndarray, drow: int, dcol: int) -> np.ndarray:
    """out[r, c] = a[r + drow, c + dcol], zero outside the array."""
    out = np.zeros_like(a)
    h, w = a.shape
    r0, r1 = max(0, -drow), min(h, h - drow)
    c0, c1 = max(0, -dcol), min(w, w - dcol)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = a[r0 + drow:r1 + drow, c0 + dcol:c1 + dcol]
    return out


def _direction(azimuth: float, elevation: float) -> tuple[float, float, float]:
    """Unit vector (east, north, up) towards a source at azimuth/elevation (degrees)."""
    az, el = math.radians(azimuth), math.radians(elevation)
    return math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el)


def _cos_incidence(height: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    """Cosine of the local incidence angle of a source on the (smoothed) height surface."""
    grad_row, grad_col = np.gradient(_blur(height, 0.8))
    east, north, up = _direction(azimuth, elevation)
    # surface normal (-dh/de, -dh/dn, 1) with dh/dn = -dh/drow
    return (-grad_col * east + grad_row * north + up) / np.sqrt(1.0 + grad_col ** 2 + grad_row ** 2)


def _cast_shadow(height: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    """Pixels from which the source at azimuth/elevation is hidden by higher ground (ray marching)."""
    east, north, up = _direction(azimuth, elevation)
    horizontal = math.hypot(east, north)
    rise = up / horizontal  # metres of rise per metre towards the source
    shadow = np.zeros(height.shape, dtype=bool)
    reach = int(math.ceil(float(height.max()) / rise)) + 1
    for step in range(1, reach + 1):
        drow = int(round(-step * north / horizontal))
        dcol = int(round(step * east / horizontal))
        shadow |= _shifted(height, drow, dcol) - height > step * rise + 0.5
    return shadow


# ---------------------------------------------------------------------------- layout

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


# ------------------------------------------------------------------------------- HSI

def _class_weights(classes: np.ndarray) -> np.ndarray:
    """(K, rows, cols) sub-pixel cover of each class: the blurred class map."""
    onehot = np.stack([classes == k.value for k in CLASSES]).astype(np.float64)
    return _blur(onehot, BOUNDARY_BLUR_PX)


def _abundances(rng: np.random.Generator, layout: _Layout) -> np.ndarray:
    """(n_endmembers, rows, cols) abundances: logistic-normal per class, mixed at boundaries."""
    shape = layout.classes.shape
    weights = _class_weights(layout.classes)
    abundance = np.zeros((len(_ENDMEMBER_NAMES),) + shape)
    for k, scene_class in enumerate(CLASSES):
        material = _MATERIALS[scene_class.value]
        logits = np.stack([
            math.log(share)
            + material.object_sd * rng.standard_normal(layout.n_objects)[layout.objects]
            + material.pixel_sd * (0.6 * _random_field(rng, shape, 12.0) + 0.8 * _random_field(rng, shape, 2.0))
            for _, share in material.slots
        ])
        logits -= logits.max(axis=0)
        share = np.exp(logits)
        share /= share.sum(axis=0)
        for (name, _), s in zip(material.slots, share):
            abundance[_ENDMEMBER_NAMES.index(name)] += weights[k] * s
    return abundance


def _illumination(layout: _Layout) -> np.ndarray:
    """(rows, cols) direct-sun factor: local incidence on the nDSM, zero in cast shadows."""
    incidence = np.clip(_cos_incidence(layout.height, SUN_AZIMUTH, SUN_ELEVATION)
                        / math.sin(math.radians(SUN_ELEVATION)), 0.0, 1.4)
    return incidence * ~_cast_shadow(layout.height, SUN_AZIMUTH, SUN_ELEVATION)


def _hsi_cube(rng: np.random.Generator, layout: _Layout, abundance: np.ndarray, n_bands: int) -> np.ndarray:
    """Int16 reflectance x 10000 (bands, rows, cols) as the sensor sees it."""
    centres, fwhm = band_centres(n_bands)
    spectra = _endmember_spectra(centres, fwhm).astype(np.float32)
    cube = np.zeros((n_bands,) + layout.classes.shape, np.float32)
    for e in range(len(_ENDMEMBER_NAMES)):
        cube += spectra[e][:, None, None] * abundance[e].astype(np.float32)
    sky = (0.06 + 0.12 * (centres / 550.0) ** -2)[:, None, None]
    overall = 1.0 + 0.05 * _random_field(rng, layout.classes.shape, 50.0)
    cube *= ((sky + (1.0 - sky) * _illumination(layout)[None]) * overall).astype(np.float32)
    snr = 80.0 + 170.0 * np.exp(-((centres - 650.0) / 200.0) ** 2)
    noise_sd = (cube.mean(axis=(1, 2)) / snr).astype(np.float32)
    cube += rng.standard_normal(cube.shape, dtype=np.float32) * noise_sd[:, None, None]
    scaled = np.clip(np.round(cube * HSI_SCALE), HSI_NODATA + 1, np.iinfo(np.int16).max)
    return scaled.astype(np.int16)


def _nodata_corner(rows: int, cols: int) -> np.ndarray:
    """Upper-right triangle with legs of 30 % of the sides: the edge of a flight strip."""
    r = np.arange(rows)[:, None] + 0.5
    c = np.arange(cols)[None, :] + 0.5
    return (cols - c) / (0.3 * cols) + r / (0.3 * rows) < 1.0


# ----------------------------------------------------------------------------- LiDAR

def _lidar(rng: np.random.Generator, layout: _Layout, abundance: np.ndarray, intensity: bool) -> np.ndarray:
    """(1 or 2, rows, cols) float32: nDSM (m) and optionally relative return intensity.

    The intensity follows the reflectance at the end of the spectral library (1000 nm; the
    laser's 1064 nm lies on the same NIR plateau for these materials), without solar shadows.
    """
    shape = layout.classes.shape
    trees = layout.classes == TREES
    ndsm = layout.height + 0.05 * rng.standard_normal(shape)
    roughness = 0.7 * _random_field(rng, shape, 1.0) + 0.3 * rng.standard_normal(shape)
    ndsm = np.where(trees, ndsm + roughness, ndsm)
    bands = [np.maximum(ndsm, 0.0)]
    if intensity:
        laser = _endmember_spectra(np.array([WAVELENGTH_RANGE[1]]), 10.0)[:, 0]
        reflectance = np.tensordot(laser, abundance, axes=1)
        bands.append(np.clip(200.0 * reflectance * (1.0 + 0.05 * rng.standard_normal(shape)), 0.0, 100.0))
    return np.stack(bands).astype(np.float32)


# ------------------------------------------------------------------------------- SAR

# class: VV dB, VH dB, texture sd between objects (dB), texture sd inside objects (dB)
_SAR_BACKSCATTER = {
    CROP: (-10.0, -16.0, 1.5, 0.8),
    GRASSLAND: (-12.0, -20.0, 1.0, 0.8),
    BARE_SOIL: (-13.0, -23.0, 2.0, 0.6),
    TREES: (-8.0, -13.0, 0.8, 1.0),
    BUILDINGS: (-11.0, -20.0, 2.0, 0.5),
    ROADS: (-19.0, -28.0, 0.5, 0.5),
    WATER: (-22.0, -30.0, 0.0, 0.0),
}


def _sar(rng: np.random.Generator, layout: _Layout, looks: float) -> np.ndarray:
    """(4, rows, cols) float32: VV, VH (linear sigma0), VV dB, VH/VV dB, speckled."""
    shape = layout.classes.shape
    table = np.zeros((len(CLASSES) + 1, 4))
    for value, row in _SAR_BACKSCATTER.items():
        table[value] = row
    vv_db, vh_db, object_sd, pixel_sd = (t[layout.classes] for t in table.T)

    def texture() -> np.ndarray:
        return (object_sd * rng.standard_normal(layout.n_objects)[layout.objects]
                + pixel_sd * _random_field(rng, shape, 1.5))

    vv_texture = texture()
    vh_texture = 0.6 * vv_texture + 0.8 * texture()  # VV and VH textures correlate (0.6)
    vv = 10.0 ** ((vv_db + vv_texture) / 10.0)
    vh = 10.0 ** ((vh_db + vh_texture) / 10.0)

    elevation = 90.0 - SAR_INCIDENCE
    buildings = layout.classes == BUILDINGS
    facing = np.clip(_cos_incidence(layout.height, SAR_LOOK_AZIMUTH, elevation)
                     / math.cos(math.radians(SAR_INCIDENCE)), 0.05, 1.4) ** 4
    vv = np.where(buildings, vv * facing, vv)
    vh = np.where(buildings, vh * facing, vh)

    # walls facing the sensor (west): double bounce at their foot, facade laid over westwards
    wall = np.where(buildings & ~_shifted(buildings, 0, -1), layout.height, 0.0)
    tan_inc = math.tan(math.radians(SAR_INCIDENCE))
    ground = ~buildings
    for step in range(1, int(math.ceil(float(wall.max()) / tan_inc)) + 1):
        source = _shifted(wall, 0, step)
        laid_over = ground & (source / tan_inc >= step)
        vv += laid_over * 0.05
        vh += laid_over * 0.01
        if step == 1:
            foot = ground & (source > 0)
            vv += foot * 0.6 * source
            vh += foot * 0.012 * source

    shadow = _cast_shadow(layout.height, SAR_LOOK_AZIMUTH, elevation) & ground
    noise_floor = 10.0 ** (SAR_NESZ_DB / 10.0)
    vv = np.where(shadow, 0.0, vv) + noise_floor
    vh = np.where(shadow, 0.0, vh) + noise_floor
    vv = vv * rng.gamma(looks, 1.0 / looks, shape)
    vh = vh * rng.gamma(looks, 1.0 / looks, shape)
    return np.stack([vv, vh, 10.0 * np.log10(vv), 10.0 * np.log10(vh / vv)]).astype(np.float32)


# ---------------------------------------------------------------------------- labels

def _split(rng: np.random.Generator, classes: np.ndarray, valid: np.ndarray,
           train_per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and test label rasters (uint8, 0 = unlabelled) from the pure pixels."""
    padded = np.pad(classes, 1, mode="edge")
    rows, cols = classes.shape
    pure = valid.copy()
    for dr in range(3):
        for dc in range(3):
            pure &= padded[dr:dr + rows, dc:dc + cols] == classes
    train = np.zeros(classes.shape, np.uint8)
    test = np.zeros(classes.shape, np.uint8)
    for scene_class in CLASSES:
        candidates = np.flatnonzero((classes == scene_class.value) & pure)
        if candidates.size <= train_per_class:
            raise ValueError(
                f"The synthetic scene of {cols} x {rows} pixels has only {candidates.size} "
                f"pure pixels of class '{scene_class.name}', not enough for train_per_class="
                f"{train_per_class} and a test set: use a larger scene or fewer training samples.")
        chosen = rng.choice(candidates, size=train_per_class, replace=False)
        train.flat[chosen] = scene_class.value
        test.flat[candidates] = scene_class.value
    test[train > 0] = 0
    return train, test


# --------------------------------------------------------------------------- writing

def _srs() -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _create_geotiff(path: Path, data: np.ndarray, gdal_type: int, descriptions: list[str],
                    nodata: float | None, metadata: dict[str, str]) -> gdal.Dataset:
    """Write (bands, rows, cols) `data` to a tiled, compressed GeoTIFF on the scene grid.

    Returns the open dataset so that callers can add band metadata; drop it to close.
    """
    bands, rows, cols = data.shape
    integer = gdal_type not in (gdal.GDT_Float32, gdal.GDT_Float64)
    options = ["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128", "COMPRESS=DEFLATE",
               f"PREDICTOR={2 if integer else 3}", "INTERLEAVE=BAND", "BIGTIFF=IF_SAFER"]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, bands, gdal_type, options)
    if ds is None:
        raise OSError(f"Cannot create {path}: {gdal.GetLastErrorMsg()}")
    ds.SetGeoTransform((ORIGIN[0], PIXEL_SIZE, 0.0, ORIGIN[1], 0.0, -PIXEL_SIZE))
    ds.SetProjection(_srs().ExportToWkt())
    ds.SetMetadata(metadata)
    for i, (plane, description) in enumerate(zip(data, descriptions), start=1):
        band = ds.GetRasterBand(i)
        band.SetDescription(description)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(plane)
    return ds


def _envi_list(values: np.ndarray) -> str:
    return "{" + ", ".join(f"{v:.2f}" for v in values) + "}"


def _write_hsi(path: Path, cube: np.ndarray, metadata: dict[str, str]) -> None:
    centres, fwhm = band_centres(cube.shape[0])
    descriptions = [f"b{i + 1:03d} {wl:.1f} nm" for i, wl in enumerate(centres)]
    metadata = dict(metadata, data_type="surface reflectance x 10000 (simulated)",
                    reflectance_scale_factor=str(HSI_SCALE), wavelength_units="Nanometers",
                    wavelength=_envi_list(centres), fwhm=_envi_list(np.full(centres.size, fwhm)))
    ds = _create_geotiff(path, cube, gdal.GDT_Int16, descriptions, HSI_NODATA, metadata)
    for i, wl in enumerate(centres, start=1):
        band = ds.GetRasterBand(i)
        band.SetScale(1.0 / HSI_SCALE)
        band.SetOffset(0.0)
        band.SetMetadata({"wavelength": f"{wl:.2f}", "fwhm": f"{fwhm:.2f}", "wavelength_units": "Nanometers"})
        band.SetMetadata({"CENTRAL_WAVELENGTH_UM": f"{wl / 1000:.5f}", "FWHM_UM": f"{fwhm / 1000:.5f}"}, "IMAGERY")
    ds = None


def _write_labels(path: Path, labels: np.ndarray, description: str, metadata: dict[str, str]) -> None:
    ds = _create_geotiff(path, labels[None], gdal.GDT_Byte, [description], 0, metadata)
    band = ds.GetRasterBand(1)
    table = gdal.ColorTable()
    table.SetColorEntry(0, (0, 0, 0, 0))
    for scene_class in CLASSES:
        rgb = tuple(int(scene_class.color[i:i + 2], 16) for i in (1, 3, 5))
        table.SetColorEntry(scene_class.value, rgb + (255,))
    band.SetRasterColorTable(table)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames(["Unlabelled"] + [k.name for k in CLASSES])
    ds = None


def _write_points(path: Path, train: np.ndarray) -> None:
    """One point per training pixel centre, classes in ascending order, pixels in row-major order."""
    if path.exists():
        path.unlink()
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    if ds is None:
        raise OSError(f"Cannot create {path}: {gdal.GetLastErrorMsg()}")
    layer = ds.CreateLayer("train_points", _srs(), ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    name_field = ogr.FieldDefn("class_name", ogr.OFTString)
    name_field.SetWidth(32)
    layer.CreateField(name_field)
    layer.StartTransaction()
    for scene_class in CLASSES:
        for row, col in zip(*np.nonzero(train == scene_class.value)):
            feature = ogr.Feature(layer.GetLayerDefn())
            feature.SetField("class_id", scene_class.value)
            feature.SetField("class_name", scene_class.name)
            point = ogr.Geometry(ogr.wkbPoint)
            point.AddPoint_2D(ORIGIN[0] + (col + 0.5) * PIXEL_SIZE, ORIGIN[1] - (row + 0.5) * PIXEL_SIZE)
            feature.SetGeometry(point)
            layer.CreateFeature(feature)
    layer.CommitTransaction()
    ds = None


def _write_classes_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["value", "name", "color"])
        writer.writerows((k.value, k.name, k.color) for k in CLASSES)


def write_scene(out_dir: str | Path, *, width: int = 256, height: int = 256, n_bands: int = 100,
                seed: int = 0, sar: bool = False, train_per_class: int = 30,
                lidar_intensity: bool = True, nodata_corner: bool = False,
                sar_looks: float = 4.0) -> ScenePaths:
    """Simulate the scene for `seed` and write it to `out_dir` (created if needed).

    Raises ValueError for a scene smaller than `MIN_SIZE`, fewer than 2 bands, a negative
    seed or training count, fewer than 1 look, or a class with too few pure pixels.
    """
    if width < MIN_SIZE or height < MIN_SIZE:
        raise ValueError(f"The synthetic scene must be at least {MIN_SIZE} x {MIN_SIZE} pixels; "
                         f"got {width} x {height}.")
    if n_bands < 2:
        raise ValueError(f"The synthetic HSI needs at least 2 bands; got n_bands={n_bands}.")
    if seed < 0 or train_per_class < 1:
        raise ValueError(f"seed must be >= 0 and train_per_class >= 1; got {seed} and {train_per_class}.")
    if sar_looks < 1:
        raise ValueError(f"sar_looks must be at least 1; got {sar_looks}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layout_rng, hsi_rng, lidar_rng, sar_rng, split_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5))
    layout = _layout(layout_rng, height, width)
    abundance = _abundances(hsi_rng, layout)
    cube = _hsi_cube(hsi_rng, layout, abundance, n_bands)
    valid = np.ones(layout.classes.shape, bool)
    if nodata_corner:
        valid = ~_nodata_corner(height, width)
        cube[:, ~valid] = HSI_NODATA
    train, test = _split(split_rng, layout.classes, valid, train_per_class)

    paths = ScenePaths(directory=out, hsi=out / "hsi.tif", lidar=out / "lidar.tif",
                       sar=out / "sar.tif" if sar else None, train=out / "train.tif",
                       test=out / "test.tif", train_points=out / "train_points.gpkg",
                       classes_csv=out / "classes.csv")
    common = {"generator": "mrs synthetic_scene", "seed": str(seed), "nominal_georeference": "yes"}
    _write_hsi(paths.hsi, cube, common)
    lidar_bands = ["nDSM height above ground (m)", "LiDAR return intensity (relative, 0-100)"]
    lidar = _lidar(lidar_rng, layout, abundance, lidar_intensity)
    ds = _create_geotiff(paths.lidar, lidar, gdal.GDT_Float32, lidar_bands, LIDAR_NODATA, common)
    ds.GetRasterBand(1).SetUnitType("m")
    ds = None
    if paths.sar is not None:
        sar_bands = ["VV sigma0 (linear)", "VH sigma0 (linear)", "VV sigma0 (dB)", "VH/VV ratio (dB)"]
        sar_meta = dict(common, incidence_deg=str(SAR_INCIDENCE), looks=str(sar_looks),
                        sensor_side="west (looking east)")
        _create_geotiff(paths.sar, _sar(sar_rng, layout, sar_looks), gdal.GDT_Float32,
                        sar_bands, None, sar_meta)
    _write_labels(paths.train, train, "training labels (0 = unlabelled)", common)
    _write_labels(paths.test, test, "test labels (0 = unlabelled)", common)
    _write_points(paths.train_points, train)
    _write_classes_csv(paths.classes_csv)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the synthetic HSI + LiDAR (+ SAR) demo scene.")
    parser.add_argument("out_dir", help="folder to write the scene to (created if needed)")
    parser.add_argument("--size", type=int, help="width and height in pixels (overrides both)")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--bands", type=int, default=100, help="number of HSI bands over 400-1000 nm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sar", action="store_true", help="also write sar.tif (VV, VH, VV dB, VH/VV dB)")
    parser.add_argument("--sar-looks", type=float, default=4.0)
    parser.add_argument("--train-per-class", type=int, default=30)
    parser.add_argument("--no-intensity", action="store_true", help="write the nDSM band of lidar.tif only")
    parser.add_argument("--nodata-corner", action="store_true", help="blank the upper-right corner of the HSI")
    args = parser.parse_args(argv)
    width = args.size or args.width
    height = args.size or args.height
    try:
        paths = write_scene(args.out_dir, width=width, height=height, n_bands=args.bands, seed=args.seed,
                            sar=args.sar, train_per_class=args.train_per_class,
                            lidar_intensity=not args.no_intensity, nodata_corner=args.nodata_corner,
                            sar_looks=args.sar_looks)
    except ValueError as error:
        parser.error(str(error))
    for name in ("hsi", "lidar", "sar", "train", "test", "train_points", "classes_csv"):
        if getattr(paths, name) is not None:
            print(getattr(paths, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
