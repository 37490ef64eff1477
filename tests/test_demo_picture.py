"""The demo's picture: the class map beside the reference, in the classes' own colours."""

import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path

import numpy as np
from matplotlib import image
from rasters import write_raster

_LOADER = SourceFileLoader("demo", str(Path(__file__).resolve().parents[1] / "bin" / "demo"))
DEMO = importlib.util.module_from_spec(importlib.util.spec_from_loader("demo", _LOADER))
_LOADER.exec_module(DEMO)
COLOURS = {1: (200, 30, 30), 2: (30, 30, 200)}


def test_the_picture_shows_map_and_reference_in_the_class_colours(tmp_path):
    classes = np.zeros((40, 40), np.uint8)
    classes[:, :20], classes[:, 20:] = 1, 2
    landcover = write_raster(tmp_path / "landcover.tif", classes, nodata=0, color_table=COLOURS,
                             category_names=["", "red class", "blue class"])
    reference = write_raster(tmp_path / "reference.tif", classes[::-1].T.copy())
    DEMO.picture(Path(landcover), Path(reference), tmp_path / "picture.png")
    pixels = (image.imread(str(tmp_path / "picture.png"))[..., :3] * 255).round().astype(int)
    assert pixels.shape == (520, 1000, 3)
    for half in (pixels[:, :500], pixels[:, 500:]):
        present = {tuple(colour) for colour in half.reshape(-1, 3)}
        assert all(colour in present for colour in COLOURS.values())
