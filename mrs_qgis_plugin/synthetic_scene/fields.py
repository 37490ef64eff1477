"""Filters, smooth random fields and the geometry of a light source on the height surface."""

from __future__ import annotations

import math

import numpy as np


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

