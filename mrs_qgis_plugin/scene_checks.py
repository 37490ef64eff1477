"""What a sample of a scene's valid pixels shows to be wrong with its layers, said before a job's
work: fill codes held as values, a nodata value among data, infinite values, too few valid pixels, a
blank layer, a grid that is not north-up. numpy and GDAL only, so that the analysis jobs, which
check their scenes so too, run where torch is not installed."""

from typing import Optional

import numpy as np

from ..model_core.errors import InputError
from ..model_core.hooks import Hooks, first_few
from ..model_core.names import agreeing, share_text, value_text
from ..model_core.preprocessing import FILL_CODE_LIMIT, FILL_MAGNITUDE, fill_values
from .raster.grid import PIXEL_SPACE, Window, layout_text
from .raster.sources import Scene
from .raster.stats import sample_valid_pixels


SCENE_CHECK_PIXELS = 50
"""Fewer pixels of a scene in the statistics sample than this do not tell its values apart."""

FEW_PIXELS = 100
"""Fewer pixels with valid values in every layer than this, and than half of those looked at, are
too few to learn or map a scene from: the layers hardly overlap, or their nodata values are wrong."""

NODATA_AMONG_DATA_SHARE = 0.05
"""The share of a layer's pixels read above which a nodata value held by some bands where others
hold data is warned of (`_say_nodata_among_data`): a true value declared nodata, most likely."""

FILL_AMONG_DATA_SHARE = 0.5
"""The share from which a fill code (-9999) held so is warned of: no swath's edge, but a band cut
short or broken (one band's -9999 on 95 % of the pixels left 52 of 900 pixels to the band
similarity, said in an info line: a helper's red team of 2026-12-05)."""


def counted_sample(scene: Scene, size: int, seed: int, hooks: Hooks, window: Optional[Window] = None) -> np.ndarray:
    """`sample_valid_pixels`, counting the nodata among data of its reads (`say_value_problems`)."""
    with scene.nodata_counted():
        return sample_valid_pixels(scene, size, seed, hooks, window)


def check_sample(sample: np.ndarray, scene: Scene, hooks: Hooks, purpose: str, training: bool = False,
                 window: Optional[Window] = None, share_of: Optional[int] = None, whose: str = "") -> None:
    """Says what a sample of the valid pixels of the scene (or of its `window`, EXTENT) shows to be
    wrong with its layers: fill codes held as values (`_say_fill_values`), too few valid pixels to
    `purpose` (red team of 2026-12-04: a LiDAR overlapping the hyperspectral layer by one pixel
    pretrained a model on it, said in an info line; a small scene or extent whose pixels are all
    valid is no such case), a hyperspectral layer of one value everywhere (a blank export trained
    and mapped without a word), which a training refuses. `share_of`: the scene's valid pixels, of
    which the sample is a share (one of several scenes, `whose` ' of MORE_SCENES' for a listed one),
    which tells a blank image only from SCENE_CHECK_PIXELS on."""
    say_value_problems(sample, scene, hooks)
    _say_layout(scene, hooks)
    if say_few_valid_pixels(len(sample) if share_of is None else share_of, scene, hooks, purpose, window):
        return
    if share_of is not None and len(sample) < SCENE_CHECK_PIXELS:
        return
    message = _blank_image(sample, scene, purpose, whose)
    if message and training:
        raise InputError(message)
    if message:
        hooks.warning(message)


def say_blank_layers(sample: np.ndarray, scene: Scene, hooks: Hooks, several: bool) -> None:
    """Warns of a SAR or LiDAR layer whose every band holds one value in a training's sample of its
    scene (own bad input of 2026-12-06: a blank LiDAR export pretrained without a word; the
    hyperspectral bands can do without it, so no refusal); judged scene by scene (a helper's check
    of the same day: one of MORE_SCENES went unsaid beside a first that varied). Not for a map, where
    a flat height above ground is data (a review of the same day)."""
    if len(sample) < SCENE_CHECK_PIXELS:
        return
    first = scene.n_hsi
    for name, count in zip(scene.aux_names, scene.aux_band_counts):
        layer = sample[:, first:first + count]
        if np.all(layer == layer[0]):
            whose = f" of the scene of '{scene.hsi_name}'" if several else ""
            hooks.warning(f"Every band of the SAR or LiDAR layer '{name}'{whose} holds one value in the "
                          f"{len(sample):,} pixels sampled ({value_shown(scene, first, layer[0, 0])} in its first): a "
                          "blank layer, nothing to learn the scene with. Choose the scene's SAR or LiDAR raster, or "
                          "check the export that wrote this one.")
        first += count


def _blank_image(sample: np.ndarray, scene: Scene, purpose: str, whose: str = "") -> Optional[str]:
    """Why the hyperspectral layer `whose` (' of MORE_SCENES') is no image to `purpose` the scene
    with, where every band holds one value in the sample; else None."""
    hsi = sample[:, :scene.n_hsi]
    if not np.all(hsi == hsi[0]):
        return None
    return (f"Every band of the hyperspectral layer '{scene.hsi_name}'{whose} holds one value in the {len(sample):,} "
            f"pixels sampled ({value_shown(scene, 0, hsi[0, 0])} in its first): a blank image, too little to "
            f"{purpose} the scene with. Choose the scene's hyperspectral image, or check the export that wrote this "
            "one.")


def say_few_valid_pixels(valid: int, scene: Scene, hooks: Hooks, purpose: str,
                         window: Optional[Window] = None) -> bool:
    """Warns, and says so, when fewer pixels of the scene (or of its `window`) have valid values in
    every layer (`valid`) than `FEW_PIXELS` and half of those looked at: too few to `purpose` the scene
    (the band similarity of 52 pixels of 900 was said in an info line: a helper's red team of 2026-12-05)."""
    looked_at = window.width * window.height if window else scene.width * scene.height
    if valid >= min(FEW_PIXELS, looked_at / 2):
        return False
    layers = ", ".join(f"'{name}'" for name in [scene.hsi_name, *scene.aux_names])
    within = f"of EXTENT in {scene.grid_label}" if window else f"of {scene.grid_label}"
    hooks.warning(f"Only {valid} of the {looked_at:,} pixels {within} {agreeing(valid, 'has', 'have')} "
                  f"valid values in every layer ({layers}): too few to {purpose} the scene. Check that the "
                  "layers cover the same area, and their nodata values.")
    return True


def say_value_problems(sample: np.ndarray, scene: Scene, hooks: Hooks) -> None:
    """Says what a `counted_sample` of the scene shows to be wrong with its layers' values: fill
    codes held as values, a nodata value among data, infinite values (for the band similarity too:
    red team of 2026-12-05)."""
    _say_fill_values(sample, scene, hooks)
    _say_nodata_among_data(scene, hooks)


def _say_nodata_among_data(scene: Scene, hooks: Hooks) -> None:
    """Warns of a layer whose nodata value some bands hold where others hold data, in the pixels
    read so far (the statistics sample): a LiDAR's nodata 0 was its height above ground on the
    ground, and 32 % of the map and of the samples were left out with an info line (red team of
    2026-12-05)."""
    for name, share, bands, nodata, warped in scene.nodata_among_data():
        fill_code = not np.isfinite(nodata) or nodata <= FILL_CODE_LIMIT or abs(nodata) >= FILL_MAGNITUDE
        shown = value_text(nodata, 8)  # to be typed back: 1234567 was '1.23457e+06' (a helper's audit of 12-07)
        if fill_code and share >= FILL_AMONG_DATA_SHARE and not warped:  # warped: filled from neighbours (review)
            hooks.warning(f"{share_text(share, 1)} of the pixels of '{name}' are nodata ({shown}) in some bands "
                          f"({first_few(bands)}) but hold data in others: those pixels are left out. If a band is "
                          "nodata where the others are not (cut short or broken), leave it out of the layer (in QGIS, "
                          "Rearrange bands; gdal_translate -b); if its bands cover different areas (dates, swaths), "
                          "this is what they hold.")
        elif share >= NODATA_AMONG_DATA_SHARE and not fill_code:  # a fill code is no measurement (-9999 on an edge)
            what = ("own pixels under the scene hold it in some bands ({}) but data in others: warped onto the grid, "
                    "those pixels are left out or take their neighbours' values." if warped else
                    "pixels hold it in some bands ({}) but data in others: those pixels are left out.")
            hooks.warning(f"'{name}' declares {shown} as its nodata value, and {share_text(share, 1)} of its "
                          f"{what.format(first_few(bands))} "
                          f"If {shown} is a true value there (a height above ground on the ground, say), use a copy "
                          "of the layer without a nodata value (gdal_translate -a_nodata none; in QGIS, Translate "
                          "with -a_nodata none as an additional command-line parameter); if its bands cover "
                          "different areas (dates, swaths), this is what they hold.")
    for name, share, bands in scene.infinite_values():  # red team of 2026-12-05: a VH band in dB, -inf on calm water
        hooks.warning(f"'{name}' holds infinite values, which no measurement gives, at {share_text(share, 1)} of its "
                      f"pixels ({first_few(bands)}): those pixels are left out. If they stand for a value (the "
                      "decibels of 0, say), replace them with it (in QGIS, Raster Calculator); else declare them the "
                      "layer's nodata value.")


def _say_fill_values(sample: np.ndarray, scene: Scene, hooks: Hooks) -> None:
    """Says when bands of the scene's pixels (a sample) hold fill codes as values
    (`preprocessing.fill_values`): a nodata value the layer does not declare. Judged on the
    values as the files hold them: a reflectance product's -32768 scaled by 0.0001 was -3.28,
    no fill code (red team of 2026-12-04)."""
    scales, offsets = scene.band_scaling.T
    filled = fill_values(((sample.astype(np.float64) - offsets) / scales).astype(np.float32))  # float32: -32768 again
    if filled:
        listed = first_few((f"{scene.band_label(index)}: {value_text(_as_stored(scene, index, value), 8)}"
                            for index, value in filled.items()), "; ")
        hooks.warning(f"{len(filled)} of the {scene.n_bands} bands {agreeing(len(filled), 'holds', 'hold')} a value "
                      f"that no measurement gives ({listed}): "
                      "most likely a nodata value the layer does not declare, or declares a little differently "
                      "(-3.4e38 for -3.4028235e38). Write the nodata value into the layer's file as its pixels hold "
                      "it (gdal_edit.py -a_nodata, or in QGIS Raster > Conversion > Translate, 'Assign a specified "
                      "nodata value'); else those pixels are taken as measurements and the band's real values are "
                      "lost.")


def _say_layout(scene: Scene, hooks: Hooks) -> None:
    """Warns of a hyperspectral grid that is not north-up: the model sees each pixel's
    neighbourhood as the file lays it out, mirrored or turned against the ground (red team of
    2026-12-05: a south-up copy of a scene was mapped differently on 10 % of its pixels, silently)."""
    if scene.grid.georeferenced and scene.grid.geotransform != PIXEL_SPACE and not scene.grid.looks_north_up:
        hooks.warning(f"The hyperspectral layer '{scene.hsi_name}' has {layout_text(scene.grid)}: the model sees its "
                      "pixels' neighbourhoods mirrored or turned against the ground, so a model trained on north-up "
                      "scenes maps it otherwise than the same scene north-up, and a model trained on it maps north-up "
                      "scenes otherwise. Warp it to a north-up grid (Raster > Projections > Warp) for maps that "
                      "agree.")


def value_shown(scene: Scene, band: int, value: float) -> str:
    """A band's value in a message: a scaled band's to the 7 digits float32 holds (500 codes at a
    scale of 0.0001, read as 0.049999997, are 0.05: a desktop helper of 2026-12-05); a value as
    stored with every digit float32 gives, to be copied into gdal_edit -a_nodata (-3.4028235e+38)."""
    return f"{float(value):.7g}" if _scaled(scene, band) else value_text(value, 8)


def _scaled(scene: Scene, band: int) -> bool:
    """Whether a band's file gives a scale or an offset for its values."""
    return tuple(scene.band_scaling[band]) != (1.0, 0.0)


def _as_stored(scene: Scene, band: int, value: float) -> float:
    """A scaled band's value taken back to what its file holds: the whole number it lies within
    float32's rounding of (-1000 under a scale of 0.0001 came back as -999.99994, to be copied into
    gdal_edit -a_nodata: a helper's red team of 2026-12-05)."""
    whole = float(np.rint(value))
    return whole if _scaled(scene, band) and abs(value - whole) <= 1e-6 * max(1.0, abs(whole)) else value
