"""MORE_SCENES: a text file listing further scenes for pretraining, one per line.

    # hyperspectral raster, then its SAR/LiDAR rasters in the order of INPUT_AUX
    flight02/hsi.tif, flight02/dsm.tif
    /archive/flight03/hsi.tif, /archive/flight03/dsm.tif

Fields are separated by commas (a path holding a comma is written in double quotes);
relative paths are relative to the list's folder; empty lines and lines starting
with # are skipped. The same file serves the Toolbox, the modeler, qgis_process and
bin/mrs. Whether each scene has the bands of the first is checked once the scenes
are open (`check_same_bands`).
"""

import codecs
import csv
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..model_core.band_names import described_otherwise
from ..model_core.band_units import other_lengths
from ..model_core.errors import InputError
from ..model_core.hooks import Hooks, first_few
from ..model_core.names import joined, plural
from ..model_core.paths import not_a_readable_file
from ..model_core.wavelengths import spectral_span, wavelength_difference
from .raster.gdal_io import variables_problem
from .raster.grid import Window
from .raster.sources import RasterInput, Scene

PARAMETER = "MORE_SCENES"
COMPARED_BLOCK = 32  # side of the blocks in which two scenes' values are compared (`say_same_values`)
TEXT_LOOKED_AT = 1 << 20  # bytes of an unreadable list looked at to say why


@dataclass(frozen=True)
class ListedScene:
    """One line of the list: its hyperspectral raster and SAR/LiDAR rasters, and where it was listed."""

    hsi: RasterInput
    aux: Sequence[RasterInput]
    where: str  # "the scene on line 3 of 'archive.txt'"

    def paths(self) -> List[str]:
        return [self.hsi.path, *(item.path for item in self.aux)]


def _raster(text: str, folder: Path, where: str) -> RasterInput:
    # '../b/hsi.tif' from the list's (resolved) folder, without the '..' a refusal would show (helper, 2026-12-05)
    path = text if os.path.isabs(text) or "://" in text else os.path.normpath(folder / text)
    if not os.path.lexists(path):  # accents written decomposed (as macOS writes names) for a file named composed, or
        # back: said not to exist beside the file of that look (a helper's red team of 2026-12-07)
        path = next((form for form in (unicodedata.normalize(kind, path) for kind in ("NFC", "NFD"))
                     if os.path.lexists(form)), path)
    problem = variables_problem(path, f"{PARAMETER}: {where}, '{text}'")
    if problem:
        raise InputError(problem)
    return RasterInput(path, text)


def _encoding(path: str) -> str:
    """The list's encoding: UTF-16 (or UTF-32) where it starts with its byte-order mark, as Windows
    Notepad saves 'Unicode' (red team of 2026-12-05: it was called no text file), else UTF-8 (with or
    without a mark). The text is then read as it goes: a raster given as the list fails at its first
    bytes, not once read whole (review of 2026-12-05)."""
    with open(path, "rb") as file:
        start = file.read(4)
    if start in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):  # before UTF-16's, the start of UTF-32 LE's (red team)
        return "utf-32"
    return "utf-16" if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"


def _undecodable(path: str) -> str:
    """Why the list cannot be read: text in another encoding (Windows' ANSI, as a helper's red team
    of 2026-12-05 saved a list naming 'Z\u00fcrich.tif') is told to be saved as UTF-8, naming the line;
    bytes with NULs are no text at all (a raster given as the list)."""
    with open(path, "rb") as file:
        start = file.read(TEXT_LOOKED_AT)
    if b"\0" in start:
        return (f"{PARAMETER}: '{path}' is not a text file in UTF-8 or UTF-16 (a raster, or another binary file?). "
                "Give a text file with one scene per line: the hyperspectral raster, then its SAR/LiDAR rasters.")
    lines = start.split(b"\n")
    whole = lines if len(start) < TEXT_LOOKED_AT else lines[:-1]  # the last may be cut mid-character
    number = next((n for n, line in enumerate(whole, start=1) if not _is_utf8(line)), None)
    where = f" (line {number} has a character it cannot read)" if number else ""
    return (f"{PARAMETER}: '{path}' is a text file in another encoding than UTF-8 or UTF-16{where}. Save it as "
            "UTF-8 (in Notepad: Save as, Encoding UTF-8) and run again.")


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _other_separator(fields: List[str]) -> str:
    """'; it separates its rasters by semicolons' for a line of one field holding semicolons or
    tabs, as spreadsheets write them (red team of 2026-12-05); '' otherwise."""
    found = [name for mark, name in ((";", "semicolons"), ("\t", "tabs")) if len(fields) == 1 and mark in fields[0]]
    return f"; it separates its rasters by {found[0]}" if found else ""


def _fields(line: str) -> List[str]:
    """A line's fields, stripped, empty ones left out; a comment is told by its line's first character
    other than a blank, so that a quoted path may begin with # (a helper's red team of 2026-12-05:
    "#f1.tif" was skipped)."""
    return [field.strip() for field in next(csv.reader([line], skipinitialspace=True), []) if field.strip()]


def read_scene_list(path: str, aux_count: int) -> List[ListedScene]:
    """The scenes the file lists; refuses, naming the line, one with another number of
    SAR/LiDAR rasters than INPUT_AUX (`aux_count`), and a file that lists none."""
    name = os.path.basename(path)
    problem = not_a_readable_file(path)
    if problem:
        raise InputError(f"{PARAMETER}: '{path}' {problem}. Give a text file with one scene per line: the "
                         "hyperspectral raster, then its SAR/LiDAR rasters.")
    try:
        with open(path, newline="", encoding=_encoding(path)) as file:
            lines = [(number, line) for number, line in enumerate(file, start=1) if not line.lstrip().startswith("#")]
    except UnicodeDecodeError:  # Python's codec words were shown (red team of 2026-12-04)
        raise InputError(_undecodable(path)) from None
    except OSError as error:
        raise InputError(f"{PARAMETER}: '{path}' cannot be read as a list of scenes ({error}). Give a text file "
                         "with one scene per line: the hyperspectral raster, then its SAR/LiDAR rasters.") from None
    folder = Path(path).resolve().parent
    scenes = []
    for number, line in lines:
        # a quoted path over two lines was read as two broken lines (a review of 2026-12-05); a quote within
        # an unquoted name (12" map.tif) is the name's
        if line.count('"') % 2 and re.search(r'(^|,)\s*"', line):
            raise InputError(f"{PARAMETER}: line {number} of '{name}' opens a double quote that it does not close. "
                             "Write each scene on one line, a path that holds a comma in double quotes.")
        try:
            fields = _fields(line)
        except csv.Error as error:  # a field over csv's limit: a WKT table given as the list (a review, 12-05)
            raise InputError(f"{PARAMETER}: line {number} of '{name}' cannot be read as a scene ({error}). Give a "
                             "text file with one scene per line: the hyperspectral raster, then its SAR/LiDAR "
                             "rasters.") from None
        if not fields:
            continue
        where = f"the scene on line {number} of '{name}'"
        if len(fields) - 1 != aux_count:
            raise InputError(
                f"{PARAMETER}: {where} lists {plural(len(fields) - 1, 'SAR/LiDAR raster')}, "
                f"but INPUT_AUX has {aux_count}{_other_separator(fields)}. Write each scene as its hyperspectral "
                "raster, then its SAR/LiDAR rasters in the order of INPUT_AUX, separated by commas.")
        rasters = [_raster(field, folder, where) for field in fields]
        scenes.append(ListedScene(rasters[0], rasters[1:], where))
    if not scenes:
        raise InputError(f"{PARAMETER}: '{path}' lists no scene. Write one scene per line (the hyperspectral raster, "
                         "then its SAR/LiDAR rasters, separated by commas), or leave MORE_SCENES empty.")
    return scenes


def _bands(scene: Scene) -> str:
    return f"{scene.n_hsi} hyperspectral and {scene.n_aux} SAR/LiDAR bands"


def _counts(scene: Scene) -> str:
    """'2 and 4': the band counts of the scene's SAR/LiDAR rasters, in their order."""
    return joined([str(count) for count in scene.aux_band_counts])


def check_same_bands(first: Scene, scene: Scene, where: str) -> None:
    """Refuses a listed scene whose band counts (in all, and of each SAR/LiDAR raster in order), or
    wavelengths where both are known, differ from the first scene's (INPUT_HSI and INPUT_AUX), in one
    sentence naming it (a helper's red team of 2026-12-05: a SAR and a LiDAR raster listed in the other
    order were pooled)."""
    problem: Optional[str] = None
    advice = "List only scenes of the same sensor, bands and SAR/LiDAR rasters as INPUT_HSI and INPUT_AUX."
    if (scene.n_hsi, scene.n_aux) != (first.n_hsi, first.n_aux):
        problem = f"has {_bands(scene)}, but INPUT_HSI and INPUT_AUX ('{first.hsi_name}') have {_bands(first)}"
        if (first.marked_bad or scene.marked_bad) and first.counts_with_marked_bad == scene.counts_with_marked_bad:
            listed = "; ".join(filter(None, (first.marked_bad_listed, scene.marked_bad_listed)))
            advice = (f"The bands an ENVI header's bad-band list (bbl) leaves out make the difference ({listed}): "
                      "give the scenes the same list, or GeoTIFF copies, which keep every band (gdal_translate -of "
                      "GTiff).")
    if not problem and scene.aux_band_counts != first.aux_band_counts:  # their order, as a classifier's is checked
        problem = (f"has SAR/LiDAR rasters of {_counts(scene)} bands, but INPUT_AUX's "
                   f"({', '.join(repr(name) for name in first.aux_names)}) have {_counts(first)} bands")
        advice = "List its SAR/LiDAR rasters in the order of INPUT_AUX."
    difference = None if problem else wavelength_difference(first.wavelengths, scene.wavelengths)
    if difference:
        band, first_nm, listed_nm = difference
        problem = (f"has its bands at {spectral_span(scene.wavelengths)}, but INPUT_HSI '{first.hsi_name}' at "
                   f"{spectral_span(first.wavelengths)} (band {band}: {listed_nm:.1f} nm against {first_nm:.1f} nm)")
    if problem:
        raise InputError(f"{PARAMETER}: {where} ('{scene.hsi_name}') {problem}. {advice}")


def say_same_values(seen: Dict[str, Tuple[Scene, str]], scene: Scene, called: str, hooks: Hooks) -> None:
    """Warns when the hyperspectral values of `scene` (`called` so) are those of a scene `seen` before
    on the same grid, by a digest of five blocks (corners and centre) and the grid (`_values_digest`);
    else adds it to `seen`. A VRT or another format's copy of INPUT_HSI was pooled as a second scene without a word
    (a helper's red team of 2026-12-05; a copy byte for byte is said by `jobs._say_copies`). Blocks
    of one value (an undeclared fill of 0) tell nothing and are not compared."""
    digest = _values_digest(scene)
    if digest is None:
        return
    earlier = seen.get(digest)
    if earlier is None:
        seen[digest] = (scene, called)
        return
    hooks.warning(f"{PARAMETER}: {called} ('{scene.hsi_name}') holds the same values as {earlier[1]} in every block "
                  f"compared (5 blocks of up to {COMPARED_BLOCK} x {COMPARED_BLOCK} pixels of their common grid): is "
                  "it a copy in another format, or a VRT of it? The samples would draw on the same pixels from both. "
                  "Leave it out, unless that is meant.")


def _values_digest(scene: Scene) -> Optional[str]:
    """A digest of the scene's hyperspectral values (invalid ones as NaN) in a block at each corner
    and the centre of its grid, with their shape and the grid; None where the valid ones hold fewer
    than two values."""
    width, height = min(COMPARED_BLOCK, scene.width), min(COMPARED_BLOCK, scene.height)
    corners = [(col, row) for col in (0, scene.width - width) for row in (0, scene.height - height)]
    blocks = [scene.hyperspectral_block(Window(col, row, width, height))
              for col, row in [*corners, ((scene.width - width) // 2, (scene.height - height) // 2)]]
    values = np.concatenate([block[np.isfinite(block)] for block in blocks])
    if len(values) == 0 or values.min() == values.max():
        return None
    grid = scene.grid  # on another grid the same values are no copy: the grid is part of the digest
    digest = hashlib.sha256(repr((scene.n_hsi, width, height, grid.geotransform, grid.crs_wkt)).encode())
    for block in blocks:
        digest.update(np.isnan(block).tobytes())
        digest.update(np.nan_to_num(block, nan=0.0).tobytes())
    return digest.hexdigest()


def say_other_units(first: Scene, scene: Scene, where: str, hooks: Hooks) -> None:
    """Warns of a listed scene's bands in other units of length than the first scene's, by their unit
    types (a LiDAR in feet pooled with one in metres went unsaid, and the fine-tuning on it was told the
    model had metres: a helper's red team of 2026-12-06)."""
    listed = other_lengths(first.band_units, scene.band_units, scene.band_labels, "INPUT_HSI's scene has")
    if listed:
        hooks.warning(f"{PARAMETER}: bands of {where} ('{scene.hsi_name}') are in other units than those of INPUT_HSI "
                      f"and INPUT_AUX, by their unit types: {listed}. Convert them into the same units (Raster "
                      "Calculator) before pooling the scenes: else each scale is learnt as another value.")


def say_other_aux_names(first: Scene, scene: Scene, where: str, hooks: Hooks) -> None:
    """Warns when a listed scene's auxiliary bands are described otherwise than the first scene's
    (a SAR raster listed where INPUT_AUX is a LiDAR: a helper's red team of 2026-12-05 found it
    pooled unsaid, and its classifier 7 points worse); their counts are checked before."""
    pairs = described_otherwise(first.band_names[first.n_hsi:], first.aux_names, scene.band_names[scene.n_hsi:],
                                scene.aux_names)
    if pairs:
        listed = first_few(f"auxiliary band {number} is '{given}' where INPUT_AUX has '{had}'"
                           for number, had, given in pairs)
        hooks.warning(f"{PARAMETER}: the auxiliary bands of {where} ('{scene.hsi_name}') are not those of INPUT_AUX, by "
                      f"their names ({listed}). List scenes with the same kinds of SAR/LiDAR rasters as INPUT_AUX, "
                      "their bands in the same order: pooled, each band would be learnt as another.")
