"""Label rasters (raster/label_raster.py) and labelled pixels (raster/labels.py): behaviour no test held, each test
failing on a small, plausible bug that the suite let pass (a helper's mutation audit of 2026-12-06, each checked to
fail on its bug and pass without it)."""
import numpy as np
import pytest
from osgeo import gdal
from rasters import ORIGIN_X, ORIGIN_Y, write_palette_style, write_raster

from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import label_raster
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
from mrs.mrs_qgis_plugin.raster.labels import (CLASS_LINES, LabelledPixels, doubtful_classes, labelled_pixels,
                                               stratified_split)
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

HEIGHT, WIDTH = 12, 16


@pytest.fixture
def scene(tmp_path):
    """A 3-band scene of 12 x 16 pixels whose pixel (11, 15) is nodata."""
    data = np.ones((3, HEIGHT, WIDTH), np.float32)
    data[:, 11, 15] = -9999
    with Scene.open(RasterInput(write_raster(tmp_path / "hsi.tif", data, nodata=-9999), "hsi"), []) as opened:
        yield opened


def _read(scene, path, name="labels", reference=False, **hooks):
    """labels_from_raster's result, and the warnings and log lines it gave."""
    warnings, lines = [], []
    labels = labels_from_raster(scene, str(path), name, Hooks(warn=warnings.append, log=lines.append, **hooks),
                                reference=reference)
    return labels, warnings, lines


def _classes(values, names=None):
    values = np.asarray(values)
    return LabelledPixels(np.arange(len(values)), np.zeros(len(values), np.int64), values,
                          [ClassInfo(value, (names or {}).get(value, str(value)), "#000000")
                           for value in sorted(set(values.tolist()))])


# label_raster.py: reading a label raster onto the scene's grid, and what its values mean


@pytest.mark.parametrize("name, warned", [("Background", False), ("No data", False), ("Landfill", True)])
def test_a_zero_named_as_unlabelled_is_not_warned_of_but_a_class_whose_name_holds_such_a_word_is(
        tmp_path, scene, name, warned):
    values = np.full((HEIGHT, WIDTH), 255, np.uint8)
    values[0, :3], values[1, :4] = 0, 1
    path = write_raster(tmp_path / "zero.tif", values, nodata=255, category_names=[name, "Crop"])
    _labels, warnings, _lines = _read(scene, path, "zero")
    assert warnings == ([f"The label layer 'zero' names its value 0 '{name}' and declares 255 as its nodata value, "
                         "but 0 means unlabelled here, so its pixels of value 0 (3) are left out. If 0 is a class, "
                         "recode the classes from 1."] if warned else [])


@pytest.mark.parametrize("values, nodata, names", [
    ([0, 1, 2], 0, ["Water", "Crop", "Forest"]),  # 0 is unlabelled anyway: no other nodata value to declare
    ([1.0, 2.0, 2.5], 2.5, ["", "Crop", "Water"]),  # 2.5 is no class value
])
def test_a_nodata_value_that_is_no_named_class_value_above_0_is_not_warned_of(tmp_path, scene, values, nodata, names):
    array = np.zeros((HEIGHT, WIDTH), np.float32 if isinstance(nodata, float) else np.uint8)
    array[0, :3] = array[1, :3] = values
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "named.tif", array, nodata=nodata,
                                                          category_names=names))
    assert warnings == []


def test_nan_pixels_are_not_taken_for_the_most_common_value_beside_a_declared_nodata(tmp_path, scene):
    """0 (20 pixels) is the most common value, NaN aside: the background, not a class lost."""
    values = np.full((HEIGHT, WIDTH), np.nan, np.float32)
    values[0, :] = values[1, :4] = 0
    values[2, :3], values[3, :3] = 1, 2
    labels, warnings, _lines = _read(scene, write_raster(tmp_path / "nan.tif", values, nodata=-1))
    assert (labels.values.tolist(), warnings) == ([1, 1, 1, 2, 2, 2], [])


def test_the_values_of_a_label_raster_are_counted_over_every_tile(tmp_path):
    """4 x 300 pixels, two tiles: 0 is the most common value in all (975 pixels), 255 in the second tile (175)."""
    hsi = write_raster(tmp_path / "wide.tif", np.ones((3, 4, 300), np.float32))
    values = np.zeros((4, 300), np.uint8)
    values[0, :50] = 1
    values[:, 256:] = 255
    values[3, 299] = 0
    with Scene.open(RasterInput(hsi, "wide"), []) as scene:
        labels, warnings, _lines = _read(scene, write_raster(tmp_path / "tiles.tif", values, nodata=255))
    assert (len(labels.values), warnings) == (50, [])


def _wide(tmp_path, shift=0.0, **options):
    """A 3-band scene of 4 x 300 pixels (two tiles), and a label raster of that size `shift` pixels east of it:
    class 1 in its first row's first 50 pixels and in its last, class 2 in its second row's."""
    hsi = write_raster(tmp_path / "wide.tif", np.ones((3, 4, 300), np.float32))
    values = np.zeros((4, 300), np.uint8)
    values[0, :50], values[0, 250:], values[1, :50] = 1, 1, 2
    transform = (ORIGIN_X + shift, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0)
    return hsi, write_raster(tmp_path / "wide_labels.tif", values, transform, **options)


@pytest.mark.parametrize("shift, stage, counted", [
    (0.0, "_labelled_tile", "the label raster's tiles"),
    (0.5, "_count_values", "its own values, for a 0 it names"),
])
def test_reading_a_label_raster_stops_on_cancel_before_its_next_tile(tmp_path, monkeypatch, shift, stage, counted):
    hsi, path = _wide(tmp_path, shift, category_names=["Water", "Crop", "Forest"])
    calls, original = [], getattr(label_raster, stage)
    monkeypatch.setattr(label_raster, stage, lambda *args: calls.append(1) or original(*args))
    with Scene.open(RasterInput(hsi, "wide"), []) as scene:
        with pytest.raises(Canceled):
            labels_from_raster(scene, path, "wide", Hooks(is_canceled=lambda: bool(calls)))
    assert len(calls) == 1, counted


def test_counting_a_warped_label_raster_s_pixels_outside_the_scene_stops_on_cancel(tmp_path, monkeypatch):
    hsi, path = _wide(tmp_path, 0.5)
    calls, original = [], label_raster._labelled_tile
    monkeypatch.setattr(label_raster, "_labelled_tile", lambda *args: calls.append(1) or original(*args))
    with Scene.open(RasterInput(hsi, "wide"), []) as scene:
        with pytest.raises(Canceled):
            label_raster._source_counts(gdal.Open(path), scene, "wide", Hooks(is_canceled=lambda: bool(calls)), 256, "")
    assert len(calls) == 1


def test_pixels_of_a_label_raster_outside_the_scene_are_logged_as_left_out(tmp_path, scene):
    values = np.ones((HEIGHT, WIDTH + 2), np.uint8)
    values[:, 5:] = 2  # the two columns beyond the scene's east edge, 24 pixels, are class 2
    labels, _warnings, lines = _read(scene, write_raster(tmp_path / "wider.tif", values))
    assert labels.outside == 2 * HEIGHT
    assert "24 labelled pixels of 'labels' lie outside the hyperspectral layer 'hsi'; they are left out." in lines


def test_a_label_raster_whose_pixels_its_mask_hides_all_is_said_to_be_so(tmp_path, scene):
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[2, :3] = 1
    path = write_raster(tmp_path / "masked.tif", values)
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
    dataset.GetRasterBand(1).GetMaskBand().WriteArray(np.where(values > 0, 0, 255).astype(np.uint8))
    dataset = None
    with pytest.raises(InputError) as refused:
        _read(scene, path, "masked")
    assert str(refused.value) == ("LABELS: the label layer 'masked' holds no labelled pixel over the hyperspectral "
                                  "layer 'hsi' (all are 0, nodata or hidden by its mask). Choose a label raster with "
                                  "class values from 1.")


def test_the_example_of_a_value_of_no_class_is_one_of_those(tmp_path, scene):
    values = np.zeros((HEIGHT, WIDTH), np.float32)
    values[0, :3] = [1, 2.5, 2]
    with pytest.raises(InputError, match=r"^The label layer 'labels' holds values that are negative or not whole "
                                         r"numbers \(such as 2\.5\)"):
        _read(scene, write_raster(tmp_path / "odd.tif", values))


def test_a_single_class_black_in_the_colour_table_keeps_its_colour(tmp_path, scene):
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[0, :2] = [1, 2]
    path = write_raster(tmp_path / "black.tif", values, color_table={1: (0, 0, 0), 2: (255, 0, 0)})
    labels, _warnings, lines = _read(scene, path)
    assert [info.color for info in labels.classes] == ["#000000", "#ff0000"]
    assert not [line for line in lines if "black in its colour table" in line]


@pytest.mark.parametrize("bands, data_type, said", [
    (2, gdal.GDT_Byte, "has 2 bands, but a label raster has one band of class values"),
    (1, gdal.GDT_CFloat32, "holds no band of real numbers"),
])
def test_a_raster_that_cannot_hold_classes_is_refused_as_a_label_raster(tmp_path, scene, bands, data_type, said):
    path = str(tmp_path / "image.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(path, WIDTH, HEIGHT, bands, data_type)
    dataset.SetGeoTransform((ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    dataset = None
    with pytest.raises(InputError, match=f"^The label layer 'image' {said}"):
        _read(scene, path, "image")


@pytest.mark.parametrize("labelled, outside, on_grid, reference, warned, logged", [
    (100, 0, 101, False, 0, 0),  # 1 % more pixels of the grid than labelled pixels: not said
    (100, 0, 102, False, 0, 1),  # 2 %: logged in training
    (110, 10, 102, True, 1, 0),  # 2 % of those over the grid, for a reference: warned of
    (100, 0, 95, False, 0, 0),  # 5 % unused: not said
    (10, 0, 8, False, 0, 0),  # 2 unused: not said
    (10, 0, 7, False, 1, 0),  # 3 unused: warned of
])
def test_the_grid_s_pixels_of_a_label_raster_of_another_size_are_said_past_their_thresholds(
        scene, labelled, outside, on_grid, reference, warned, logged):
    warnings, lines = [], []
    label_raster._say_finer(labelled, outside, on_grid, scene, "other", Hooks(warn=warnings.append, log=lines.append),
                            reference)
    assert (len(warnings), len(lines)) == (warned, logged)
    if logged or reference:
        said = (warnings + lines)[0]
        assert said.startswith(f"The 100 labelled pixels of 'other' over the hyperspectral layer 'hsi' cover "
                               f"{on_grid} of its pixels")


def test_pixels_of_a_finer_label_raster_centred_on_the_scene_s_edges_do_not_lie_outside_it(tmp_path, scene):
    """Half-metre pixels from a quarter metre beyond the scene's west and east edges: those of the first and last
    columns are centred on the edges, between the scene's pixel centres but not beyond it."""
    fine = np.full((2 * HEIGHT, 2 * WIDTH + 1), 2, np.uint8)
    fine[:, 0] = fine[:, -1] = 1
    path = write_raster(tmp_path / "edges.tif", fine, (ORIGIN_X - 0.25, 0.5, 0.0, ORIGIN_Y, 0.0, -0.5))
    labels, _warnings, lines = _read(scene, path, "edges")
    assert (labels.outside, labels.counts()) == (0, {2: HEIGHT * WIDTH - 1})
    assert not [line for line in lines if "outside" in line]


def test_a_finer_label_raster_between_the_scene_s_edge_and_its_first_pixel_centres_lies_over_it(tmp_path, scene):
    """Tenth-of-a-metre pixels over the scene's 0.4 m west of its first pixel centres: over it, not outside."""
    strip = np.ones((10 * HEIGHT, 4), np.uint8)
    path = write_raster(tmp_path / "strip.tif", strip, (ORIGIN_X, 0.1, 0.0, ORIGIN_Y, 0.0, -0.1))
    with pytest.raises(InputError) as refused:
        _read(scene, path, "strip")
    assert str(refused.value).startswith(f"LABELS: the {40 * HEIGHT} labelled pixels of 'strip' over the hyperspectral "
                                         "layer 'hsi' hold none of its pixel centres")


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")  # its NaN coordinates
def test_pixels_of_a_label_raster_that_cannot_be_carried_into_the_scene_s_crs_lie_outside_it(tmp_path):
    """A scene in a gnomonic projection centred on it, and one-degree pixels in EPSG:4326: the one holding the
    scene, and its antipode, which that projection does not reach."""
    gnomonic = "+proj=gnom +lat_0=46.5 +lon_0=9.5 +datum=WGS84 +units=m"
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, HEIGHT, WIDTH), np.float32), (0.0, 1.0, 0.0, 0.0, 0.0, -1.0),
                       crs=gnomonic)
    world = np.zeros((94, 360), np.uint8)
    world[1, 180] = world[93, 0] = 1  # 46 N 10 E; 46 S 170 W
    path = write_raster(tmp_path / "world.tif", world, (-170.5, 1.0, 0.0, 47.5, 0.0, -1.0), crs="EPSG:4326")
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert label_raster._source_counts(gdal.Open(path), scene, "world", Hooks(), 256, "") == (2, 1)


# labels.py: labelled pixels, their classes, counts and split


def _labelled(scene, cells, names=None, colors=None, reference=False):
    """labelled_pixels of (row, column, value) cells, and the warnings and log lines it gave."""
    warnings, lines = [], []
    keys = np.array([row * WIDTH + col for row, col, _value in cells], np.int64)
    values = np.array([value for _row, _col, value in cells], np.int64)
    labels = labelled_pixels(scene, keys, values, names or {}, colors or {}, "cells",
                             Hooks(warn=warnings.append, log=lines.append), 256, reference=reference)
    return labels, warnings, lines


def test_a_class_without_a_name_is_named_by_its_value(scene):
    labels, _warnings, _lines = _labelled(scene, [(1, 1, 1), (2, 2, 2)], names={1: "", 2: "Crop"})
    assert [info.name for info in labels.classes] == ["1", "Crop"]


def test_classes_whose_colours_differ_in_letter_case_only_are_warned_of(scene):
    _labels, warnings, _lines = _labelled(scene, [(1, 1, 1), (2, 2, 2)], colors={1: "#FF0000", 2: "#ff0000"})
    assert warnings == ["Classes of 'cells' share a colour ('#ff0000': classes 1, 2): the map will show them alike; "
                        "give each class a colour of its own."]


def test_a_reference_s_classes_sharing_a_name_are_not_warned_of_and_its_pixels_on_nodata_are_counted(scene):
    labels, warnings, lines = _labelled(scene, [(1, 1, 1), (2, 2, 2), (11, 15, 3)], names={1: "A", 2: "a", 3: "B"},
                                        reference=True)
    assert warnings == [] and labels.nodata_pixels == 1 and labels.values.tolist() == [1, 2]
    assert lines[-1] == "'cells': 3 labelled pixels in 3 classes."


def test_a_reference_pixel_alone_on_the_map_s_nodata_is_said_as_the_pixel(scene):
    with pytest.raises(InputError) as refused:
        _labelled(scene, [(11, 15, 1)], reference=True)
    assert str(refused.value) == ("INPUT: 'hsi' gives no class (only no data) at the pixel of "
                                  "the reference 'cells'. Choose the map of the area the reference covers.")


@pytest.mark.parametrize("counts, said", [
    ([3] * 50, None),
    ([3] * 51, "holds 51 classes, more than a land-cover legend has"),
    ([1] * 6 + [3] * 4, "has a single labelled pixel in 6 of its 10 classes"),
    ([1] * 5 + [3] * 5, None),
    ([1] * 9, None),
    ([2] * 10, None),
])
def test_values_are_doubted_as_classes_past_fifty_classes_or_with_most_of_ten_single(counts, said):
    doubt = doubtful_classes("layer", np.array(counts))
    assert doubt == (None if said is None else f"'layer' {said}: every value is taken as a class. If the values are "
                     "identifiers or image values, choose the layer or field that holds the classes.")


def test_the_counts_of_labelled_pixels_give_every_class_one_and_their_part_keeps_how_classes_were_given():
    labels = _classes([1, 1, 3], {1: "Water", 2: "Crop", 3: "Forest"})
    labels.classes.insert(1, ClassInfo(2, "Crop", "#000002"))
    labels.named_by_text = True
    assert labels.counts() == {1: 2, 2: 0, 3: 1}
    part = labels.take(np.array([0, 2]))
    assert (part.values.tolist(), part.named_by_text, part.counts()) == ([1, 3], True, {1: 1, 2: 0, 3: 1})


@pytest.mark.parametrize("classes, summary", [
    (CLASS_LINES, None),
    (CLASS_LINES + 1, "... and 1 class more: 62 training and 31 validation pixels in all 31 classes."),
])
def test_the_split_logs_thirty_classes_one_by_one_and_the_rest_together(classes, summary):
    lines = []
    stratified_split(_classes(np.repeat(np.arange(1, classes + 1), 3)), 0.34, seed=0, hooks=Hooks(log=lines.append))
    assert lines[:CLASS_LINES] == [f"Class '{value}' ({value}): 2 training pixels, 1 validation pixel."
                                   for value in range(1, CLASS_LINES + 1)]
    assert lines[CLASS_LINES:] == ([summary] if summary else [])


@pytest.mark.parametrize("nodata", [None, -1])
def test_a_value_too_large_for_a_class_is_refused_beside_a_negative_code_too(tmp_path, scene, nodata):
    """The audit's finding: -1 beside 1e10 was told to be declared nodata, as if 1e10 were a class value; once it
    was, 1e10 was refused."""
    values = np.zeros((HEIGHT, WIDTH), np.float64)
    values[0, :3], values[1, 0] = [1, 2, -1], 1e10
    with pytest.raises(InputError, match=r"^The label layer 'labels' holds the value 10000000000; class values must"):
        _read(scene, write_raster(tmp_path / "labels.tif", values, nodata=nodata))


@pytest.mark.parametrize("reference", [True, False])
def test_one_coarse_labelled_pixel_over_the_scene_is_said_in_the_singular(tmp_path, scene, reference):
    """The audit's finding: 'The 1 labelled pixels ... cover 192 ..., so the figures count 192 pixels for 1
    reference pixels'."""
    path = write_raster(tmp_path / "coarse.tif", np.ones((1, 1), np.uint8),
                        (ORIGIN_X - 2, 20.0, 0.0, ORIGIN_Y + 4, 0.0, -20.0))
    _labels, warnings, lines = _read(scene, path, "coarse", reference=reference)
    said = ("The 1 labelled pixel of 'coarse' over the hyperspectral layer 'hsi' covers 192 of its pixels: it counts "
            "as the pixels of that grid whose centres it holds")
    assert [line for line in warnings + lines if "cover" in line] == [
        f"{said}, so the figures count 192 pixels for 1 reference pixel (and those outside the map in the reference's "
        "own)." if reference else f"{said}."]


@pytest.mark.parametrize("first, second, said", [
    ("1", "2", "Class colours of 'labels' from its style {} (its labels are the values)."),
    ("Crop", "02", "Class names of 'labels' from its style {}.")])
def test_a_style_numbering_its_classes_gives_them_its_colours(tmp_path, scene, first, second, said):
    """The audit's finding: a style as QGIS's paletted Classify writes it (labels are the values) had its colours
    left out with its names, and the map was coloured otherwise than QGIS shows the labels. A style naming class 1
    'Crop' and labelling class 2 '02': class 1 takes its name, class 2 is named by its value, both take the style's
    colours, and the log says the names came from the style (a second audit of 2026-12-07)."""
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[0, :2] = [1, 2]
    path = write_raster(tmp_path / "labels.tif", values)
    write_palette_style(tmp_path / "labels.qml", [(1, first, "#123456"), (2, second, "#abcdef")])
    labels, _warnings, lines = _read(scene, path)
    assert [(info.value, info.name, info.color) for info in labels.classes] == [(1, first, "#123456"),
                                                                                (2, "2", "#abcdef")]
    assert said.format(tmp_path / "labels.qml") in lines
