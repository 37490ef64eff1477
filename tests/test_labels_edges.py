"""Edges of labelled pixels and their split (raster/labels.py) that no test held: each test fails on a small, plausible
bug that the suite let pass (a helper's mutation audit of 2026-12-06, each checked to fail on its bug and pass
without it)."""
import numpy as np
import pytest
from rasters import pixel_centre, point_wkt, write_raster, write_vector
from osgeo import ogr

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels, refuse_long_names, stratified_split
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector

HEIGHT, WIDTH = 12, 16


@pytest.fixture
def scene(tmp_path):
    data = np.ones((3, HEIGHT, WIDTH), np.float32)
    data[:, 11, 15] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999)
    with Scene.open(RasterInput(hsi, "hsi"), []) as opened:
        yield opened


def test_a_name_of_exactly_200_characters_is_accepted_and_201_refused():
    refuse_long_names({1: "x" * 200}, "layer")
    with pytest.raises(InputError, match="is 201 characters long"):
        refuse_long_names({1: "x" * 201}, "layer")


def test_samples_that_all_conflict_are_refused_without_a_class_lost_warning(tmp_path, scene):
    x, y = pixel_centre(3, 4)
    path = write_vector(tmp_path / "one.gpkg", [(point_wkt(x, y), {"class": 1}), (point_wkt(x + 0.1, y), {"class": 2})],
                        {"class": ogr.OFTInteger})
    warnings = []
    with pytest.raises(InputError, match="Every sample pixel of 'one' holds samples of different classes"):
        labels_from_vector(scene, path, None, "class", None, "one", Hooks(warn=warnings.append))
    assert warnings == []


def test_a_reference_s_pixels_on_the_map_s_nodata_are_not_logged_by_the_reader(tmp_path, scene):
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[0, 0], values[11, 15] = 1, 2  # (11, 15) is the scene's nodata pixel
    lines = []
    labels = labels_from_raster(scene, write_raster(tmp_path / "ref.tif", values), "ref", Hooks(log=lines.append),
                                reference=True)
    assert labels.nodata_pixels == 1
    assert not [line for line in lines if "nodata in" in line]


def test_a_validation_fraction_of_one_is_refused():
    labels = LabelledPixels(np.arange(4), np.zeros(4, int), np.array([1, 1, 2, 2]),
                            [ClassInfo(1, "a", "#000001"), ClassInfo(2, "b", "#000002")])
    with pytest.raises(InputError, match=r"The validation fraction 1.0 is not in \[0, 1\)"):
        stratified_split(labels, 1.0, 0)
