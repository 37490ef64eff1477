"""What the sensors see of the layout: spectra and illumination (HSI), heights (LiDAR), backscatter (SAR)."""

from __future__ import annotations

import math
from typing import Callable
from dataclasses import dataclass

import numpy as np

from .classes import BARE_SOIL, BUILDINGS, CLASSES, CROP, GRASSLAND, ROADS, TREES, WATER
from .fields import _blur, _blur_axis, _cast_shadow, _cos_incidence, _random_field, _shifted
from .layout import _Layout

WAVELENGTH_RANGE = (400.0, 1000.0)
HSI_SCALE = 10000
HSI_NODATA = -32768

SUN_AZIMUTH = 150.0
SUN_ELEVATION = 55.0
SAR_INCIDENCE = 35.0
SAR_LOOK_AZIMUTH = 270.0  # direction from the ground to the sensor (west)
SAR_NESZ_DB = -25.0
BOUNDARY_BLUR_PX = 0.6


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


def _hsi_cube(rng: np.random.Generator, layout: _Layout, abundance: np.ndarray, n_bands: int,
              step: Callable[[float], None] = lambda fraction: None) -> np.ndarray:
    """Int16 reflectance x 10000 (bands, rows, cols) as the sensor sees it; `step` is called with
    the fraction done between its stages (a large cube takes tens of seconds)."""
    centres, fwhm = band_centres(n_bands)
    spectra = _endmember_spectra(centres, fwhm).astype(np.float32)
    cube = np.zeros((n_bands,) + layout.classes.shape, np.float32)
    for e in range(len(_ENDMEMBER_NAMES)):
        cube += spectra[e][:, None, None] * abundance[e].astype(np.float32)
        step(0.5 * (e + 1) / len(_ENDMEMBER_NAMES))
    sky = (0.06 + 0.12 * (centres / 550.0) ** -2)[:, None, None]
    overall = 1.0 + 0.05 * _random_field(rng, layout.classes.shape, 50.0)
    cube *= ((sky + (1.0 - sky) * _illumination(layout)[None]) * overall).astype(np.float32)
    snr = 80.0 + 170.0 * np.exp(-((centres - 650.0) / 200.0) ** 2)
    noise_sd = (cube.mean(axis=(1, 2)) / snr).astype(np.float32)
    scaled = np.empty(cube.shape, np.int16)
    for band in range(n_bands):  # band by band, the same draws as the whole cube at once
        noisy = cube[band] + rng.standard_normal(cube.shape[1:], dtype=np.float32) * noise_sd[band]
        scaled[band] = np.clip(np.round(noisy * HSI_SCALE), HSI_NODATA + 1, np.iinfo(np.int16).max)
        step(0.5 + 0.5 * (band + 1) / n_bands)
    return scaled


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

