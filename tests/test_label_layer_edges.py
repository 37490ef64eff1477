"""Edges of label layers, rasters (raster/label_raster.py) and vector layers (raster/vector_labels.py), that no test
held: each test fails on a small, plausible bug that the suite let pass (a helper's mutation audit of 2026-12-06, each
checked to fail on its bug and pass without it)."""
import numpy as np
import pytest
from osgeo import gdal, ogr
from rasters import UTM32, ORIGIN_X, ORIGIN_Y, crs_wkt, pixel_centre, point_wkt, write_raster, write_vector

from mrs.model_core import MAX_CLASS_VALUE
from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import label_raster
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector

HEIGHT, WIDTH = 12, 16


@pytest.fixture
def scene(tmp_path):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, HEIGHT, WIDTH), np.float32))
    with Scene.open(RasterInput(hsi, "hsi"), []) as opened:
        yield opened


def test_two_negative_codes_get_the_general_refusal(tmp_path, scene):
    values = np.full((HEIGHT, WIDTH), -1, np.int16)
    values[0, 0] = -2
    values[5, :2] = [1, 2]
    with pytest.raises(InputError) as refused:
        labels_from_raster(scene, write_raster(tmp_path / "two.tif", values), "two")
    assert str(refused.value).startswith("The label layer 'two' holds values that are negative or not whole numbers "
                                         "(such as -2)")


def test_a_declared_negative_nodata_value_is_unlabelled(tmp_path, scene):
    values = np.full((HEIGHT, WIDTH), -1, np.int16)
    values[2, 3], values[4, 5] = 1, 2
    labels = labels_from_raster(scene, write_raster(tmp_path / "neg.tif", values, nodata=-1), "neg")
    assert (labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist()) == ([2, 4], [3, 5], [1, 2])


@pytest.mark.parametrize("nodata", [None, float("nan")])
def test_nan_pixels_of_a_float_label_raster_are_unlabelled(tmp_path, scene, nodata):
    values = np.full((HEIGHT, WIDTH), np.nan, np.float32)
    values[2, 3], values[4, 5] = 1, 2
    labels = labels_from_raster(scene, write_raster(tmp_path / "nan.tif", values, nodata=nodata), "nan")
    assert labels.values.tolist() == [1, 2]


def test_eight_percent_of_labelled_pixels_unused_is_warned_of(scene):
    warnings = []
    label_raster._say_finer(100, 0, 92, scene, "fine", Hooks(warn=warnings.append))
    assert len(warnings) == 1 and "8 of the 100 labelled pixels of 'fine'" in warnings[0]


def test_the_largest_class_value_is_accepted(tmp_path, scene):
    values = np.zeros((HEIGHT, WIDTH), np.uint32)
    values[0, :5] = 1
    values[1, 1] = MAX_CLASS_VALUE
    labels = labels_from_raster(scene, write_raster(tmp_path / "top.tif", values), "top")
    assert labels.values.tolist() == [1] * 5 + [MAX_CLASS_VALUE]


def test_labels_beyond_the_first_tile_keep_their_column(tmp_path):
    hsi = write_raster(tmp_path / "wide.tif", np.ones((3, 4, 300), np.float32))
    values = np.zeros((4, 300), np.uint8)
    values[2, 280], values[1, 3] = 1, 2
    with Scene.open(RasterInput(hsi, "wide"), []) as scene:
        labels = labels_from_raster(scene, write_raster(tmp_path / "wide_labels.tif", values), "wl")
    assert (labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist()) == ([1, 2], [3, 280], [2, 1])


def test_a_finer_raster_between_centres_counts_only_its_pixels_over_the_grid(tmp_path, scene):
    fine = np.zeros((HEIGHT * 4, WIDTH * 4 + 8), np.uint8)
    fine[::4, ::4] = 1  # columns 0 and 4 lie left of the grid (2 m), the others in the corner of its pixels
    path = write_raster(tmp_path / "finer.tif", fine, (ORIGIN_X - 2, 0.25, 0.0, ORIGIN_Y, 0.0, -0.25))
    with pytest.raises(InputError) as refused:
        labels_from_raster(scene, path, "finer")
    assert str(refused.value).startswith(f"LABELS: the {HEIGHT * WIDTH} labelled pixels of 'finer' over")


@pytest.mark.parametrize("elsewhere, said", [(-2, "-2"), (2.5, "2.5")])
def test_one_negative_code_is_told_to_be_declared_nodata_only_when_no_tile_holds_another_value_of_no_class(
        tmp_path, elsewhere, said):
    """The mutation audit of 2026-12-06: -1 beside classes in the first tile was told to be declared nodata,
    where a later tile held -2 or 2.5, which the next run refused."""
    hsi = write_raster(tmp_path / "wide.tif", np.ones((3, 4, 300), np.float32))
    values = np.zeros((4, 300), np.float32)
    values[0, :3] = [1, 2, -1]
    values[1, 280] = elsewhere
    with Scene.open(RasterInput(hsi, "wide"), []) as scene:
        with pytest.raises(InputError) as refused:
            labels_from_raster(scene, write_raster(tmp_path / "two_tiles.tif", values), "two_tiles")
        assert str(refused.value).startswith("The label layer 'two_tiles' holds values that are negative or not whole "
                                             f"numbers (such as {said})")
        values[1, 280] = -1  # one code in both tiles: the way out is said
        with pytest.raises(InputError) as refused:
            labels_from_raster(scene, write_raster(tmp_path / "one_code.tif", values), "one_code")
        assert str(refused.value).startswith("The label layer 'one_code' holds -1 beside class values from 1: if -1 "
                                             "means unlabelled, declare it the raster's nodata value")


def test_a_point_half_a_pixel_right_of_the_grid_lies_outside_not_in_the_next_row(tmp_path, scene):
    features = [(point_wkt(*pixel_centre(3, WIDTH)), {"class": 1}), (point_wkt(*pixel_centre(2, 2)), {"class": 2})]
    path = write_vector(tmp_path / "p.gpkg", features, {"class": ogr.OFTInteger})
    lines = []
    labels = labels_from_vector(scene, path, None, "class", None, "p", Hooks(log=lines.append))
    assert list(zip(labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist())) == [(2, 2, 2)]
    assert "1 of the 2 features of 'p' lies outside the hyperspectral layer 'hsi'; it is left out." in lines


def test_the_largest_class_value_is_accepted_from_a_field(tmp_path, scene):
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": 1}),
                (point_wkt(*pixel_centre(2, 2)), {"class": MAX_CLASS_VALUE})]
    path = write_vector(tmp_path / "p.gpkg", features, {"class": ogr.OFTInteger64})
    labels = labels_from_vector(scene, path, None, "class", None, "p")
    assert labels.values.tolist() == [1, MAX_CLASS_VALUE]


def test_classed_features_all_without_geometry_beside_unclassed_ones_are_said_to_have_none(tmp_path, scene):
    features = [(None, {"class": 1}), (None, {"class": 2}), (point_wkt(*pixel_centre(2, 2)), {"class": None})]
    path = write_vector(tmp_path / "t.gpkg", features, {"class": ogr.OFTInteger})
    with pytest.raises(InputError, match=r"^The features of 't' have no geometry"):
        labels_from_vector(scene, path, None, "class", None, "t")


def test_no_centre_covered_counts_the_features_between_centres_only(tmp_path, scene):
    from rasters import ORIGIN_X, ORIGIN_Y, box_wkt
    features = [(point_wkt(*pixel_centre(3, WIDTH + 5)), {"class": 1}),
                (box_wkt(ORIGIN_X + 2.6, ORIGIN_Y - 2.9, ORIGIN_X + 2.9, ORIGIN_Y - 2.6), {"class": 2})]
    path = write_vector(tmp_path / "s.gpkg", features, {"class": ogr.OFTInteger})
    with pytest.raises(InputError, match=r"^No sample of 's' covers a pixel centre of the hyperspectral layer 'hsi': "
                                         r"1 of them lies between pixel centres"):
        labels_from_vector(scene, path, None, "class", None, "s")


def _blocky_labels(path, size, pixel, block, values, sparse):
    """A tiled Byte label raster of size x size pixels of `pixel` metres from the scene's corner, nodata 255, holding
    `values` in its first block; the rest of it unwritten (`sparse`, where GDAL knows it empty) or written as 255."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 1, gdal.GDT_Byte, options=[
        "TILED=YES", f"BLOCKXSIZE={block}", f"BLOCKYSIZE={block}", f"SPARSE_OK={sparse}"])
    dataset.SetGeoTransform((ORIGIN_X, pixel, 0.0, ORIGIN_Y, 0.0, -pixel))
    dataset.SetProjection(crs_wkt(UTM32))
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(255)
    if not sparse:
        band.WriteArray(np.full((size, size), 255, np.uint8))
    band.WriteArray(values)
    dataset = None
    return str(path)


def _read_counting(monkeypatch, scene, path):
    """The labels of `path` on `scene`, the lines said, the progress given and the pixels read."""
    pixels_read, said, progress = [], [], []
    real = label_raster.read_or_refuse
    monkeypatch.setattr(label_raster, "read_or_refuse",
                        lambda read, what, *window: pixels_read.append(window[2] * window[3]) or real(read, what,
                                                                                                      *window))
    hooks = Hooks(log=said.append, warn=said.append, progress=progress.append)
    labels = labels_from_raster(scene, path, "reference", hooks)
    return (labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist()), said, progress, sum(pixels_read)


def test_the_empty_blocks_of_a_sparse_reference_on_another_grid_are_passed_over_and_progress_is_said(
        tmp_path, scene, monkeypatch):
    """A reference of 30,000 x 30,000 pixels around a map of 64 x 64, its blocks empty but one, was read whole twice
    for 22 s, no progress said (red team of 2026-12-07); its labels, counts and warnings are those of the same raster
    written whole."""
    monkeypatch.setattr(label_raster, "TILE_SIZE", 64)
    values = np.zeros((2 * HEIGHT, 2 * WIDTH), np.uint8)
    values[:2, :6] = [[1], [2]]
    found = {sparse: _read_counting(monkeypatch, scene, _blocky_labels(
        tmp_path / f"{sparse}.tif", 256, 0.5, 64, values, sparse)) for sparse in (True, False)}
    assert found[True][:2] == found[False][:2]
    assert found[True][0] == ([0, 0, 0], [0, 1, 2], [2, 2, 2])
    assert any("holds 756 pixels of value 0" in line for line in found[True][1]), "\n".join(found[True][1])
    assert found[False][3] == 16 * 64 * 64 * 2 + HEIGHT * WIDTH and found[True][3] == 64 * 64 * 2 + HEIGHT * WIDTH + 15
    progress = found[True][2]
    assert progress == sorted(progress) and len(set(progress)) == 1 + 16 + 16 + 1 and progress[-1] == 1.0


def test_the_empty_blocks_of_a_sparse_label_raster_on_the_scene_s_grid_count_as_its_nodata(tmp_path, monkeypatch):
    """Passed over (`_tiles_read`), the empty blocks still count for the warnings of value 0: here the nodata value
    255 is the most common only with them, and 0 is then said to be unlabelled too."""
    monkeypatch.setattr(label_raster, "TILE_SIZE", 16)
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 32, 32), np.float32))
    values = np.zeros((16, 16), np.uint8)
    values[:4] = 1
    with Scene.open(RasterInput(hsi, "hsi"), []) as grid:
        found = {sparse: _read_counting(monkeypatch, grid, _blocky_labels(
            tmp_path / f"{sparse}.tif", 32, 1.0, 16, values, sparse)) for sparse in (True, False)}
    assert found[True][:2] == found[False][:2] and found[True][0][2] == [1] * 64
    assert found[True][1] == found[False][1] and found[True][1][-2] == (
        "The label layer 'reference' declares 255 as its nodata value and holds 192 pixels of value 0, which means "
        "unlabelled here too, so they are left out. If 0 is a class, recode the classes from 1.")
    assert (found[True][3], found[False][3]) == (16 * 16 + 3, 32 * 32)
