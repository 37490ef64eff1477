"""Label rasters (raster/label_raster.py), labelled pixels (raster/labels.py) and class names (raster/classes.py):
behaviour that no test held after the second audit, each test failing on a small, plausible bug that the suite let
pass (a helper's third mutation audit of 2026-12-08, each checked to fail on its bug and pass without it)."""
import numpy as np
import pytest
from rasters import ORIGIN_X, ORIGIN_Y, write_raster
from test_label_raster_audit2 import scene  # noqa: F401 (the fixture: a plain scene of 12 x 16 pixels)
from test_labels_audit import HEIGHT, WIDTH, _classes, _labelled, _read

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.classes import plain_text, recoded_text
from mrs.mrs_qgis_plugin.raster import label_raster
from mrs.mrs_qgis_plugin.raster.label_raster import calls_unlabelled, one_negative_code_problem
from mrs.mrs_qgis_plugin.raster.labels import CLASS_LINES, labelled_pixels, refuse_long_names, stratified_split
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

FLOAT32_LOWEST = -3.4028234663852886e+38
"""The most negative float32, a common nodata value of float rasters: said to 8 significant digits."""


# label_raster.py


@pytest.mark.parametrize("name", ["No data areas", "Background area", "Background or no data", "Unlabelled and masked"])
def test_names_of_no_class_may_hold_areas_or_and_and(name):
    """FILLER's 'areas', 'or' and 'and' beside the words of UNLABELLED: a name of what 0 is here, not a class."""
    assert calls_unlabelled(name)


@pytest.mark.parametrize("names, said", [
    (["Water", "Crop"], "names its value 0 'Water' and declares -3.4028235e+38 as its nodata value, but 0 means "
                        "unlabelled here, so its pixels of value 0 (3) are left out."),
    (None, "declares -3.4028235e+38 as its nodata value and holds 3 pixels of value 0, which means unlabelled here "
           "too, so they are left out."),
])
def test_a_float_nodata_value_beside_a_lost_0_is_said_to_eight_digits(tmp_path, scene, names, said):  # noqa: F811
    """The most negative float32 as nodata, 0 in 3 pixels: said as '-3.4028235e+38', as gdal_edit takes it, not to 17
    digits."""
    values = np.full((HEIGHT, WIDTH), FLOAT32_LOWEST, np.float32)
    values[0, :3], values[1, :4] = 0, 1
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "float.tif", values, nodata=FLOAT32_LOWEST,
                                                          category_names=names), "float")
    assert warnings == [f"The label layer 'float' {said} If 0 is a class, recode the classes from 1."]


def test_an_undeclared_background_of_thousands_of_pixels_is_counted_with_separators(tmp_path):
    """A 40 x 40 scene whose labels are 255 but for 3 pixels: '1,597 of its 1,600 labelled pixels'."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 40, 40), np.float32))
    values = np.full((40, 40), 255, np.uint8)
    values[0, :3] = 1
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:  # noqa: F811
        _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "top.tif", values), "top")
    assert warnings == [
        "The label layer 'top' declares no nodata value, and its most common value, 255 (the largest its data type "
        "holds, named by no class), is taken as a class: 1,597 of its 1,600 labelled pixels. If 255 marks unlabelled "
        "pixels, declare it the layer's nodata value (gdal_edit -a_nodata 255, or in QGIS Raster > Conversion > "
        "Translate, 'Assign a specified nodata value to output bands')."]


@pytest.mark.parametrize("side, shape, geotransform", [
    ("east", (10 * HEIGHT, 4), (ORIGIN_X + WIDTH - 0.4, 0.1, 0.0, ORIGIN_Y, 0.0, -0.1)),
    ("north", (4, 10 * WIDTH), (ORIGIN_X, 0.1, 0.0, ORIGIN_Y, 0.0, -0.1)),
    ("south", (4, 10 * WIDTH), (ORIGIN_X, 0.1, 0.0, ORIGIN_Y - HEIGHT + 0.4, 0.0, -0.1)),
])
def test_a_finer_label_raster_between_any_edge_and_the_last_pixel_centres_lies_over_the_scene(
        tmp_path, scene, side, shape, geotransform):  # noqa: F811
    """Tenth-of-a-metre pixels over the scene's 0.4 m inside its east, north or south edge, beyond its outer pixel
    centres: over it, holding none of its centres, not outside it (the west edge is held by test_labels_audit)."""
    path = write_raster(tmp_path / f"{side}.tif", np.ones(shape, np.uint8), geotransform)
    with pytest.raises(InputError) as refused:
        _read(scene, path, side)
    assert str(refused.value) == (
        f"LABELS: the {shape[0] * shape[1]} labelled pixels of '{side}' over the hyperspectral layer 'hsi' hold none "
        f"of its pixel centres, which take the label there (a label raster finer than that grid). Resample '{side}' "
        "onto that grid first (by majority: gdalwarp -r mode).")


@pytest.mark.parametrize("reference, parameter", [(False, "LABELS"), (True, "REFERENCE_LABELS")])
def test_a_label_raster_without_a_mask_and_without_labels_is_said_to_hold_only_0_or_nodata(
        tmp_path, scene, reference, parameter):  # noqa: F811
    """No mask: '(all are 0 or nodata)', not 'hidden by its mask'; a reference's is said as REFERENCE_LABELS."""
    with pytest.raises(InputError) as refused:
        _read(scene, write_raster(tmp_path / "empty.tif", np.zeros((HEIGHT, WIDTH), np.uint8), nodata=255), "empty",
              reference)
    assert str(refused.value) == (f"{parameter}: the label layer 'empty' holds no labelled pixel over the "
                                  "hyperspectral layer 'hsi' (all are 0 or nodata). Choose a label raster with class "
                                  "values from 1.")


@pytest.mark.parametrize("labelled, on_grid, said", [
    (5000, 2000, "Each pixel of the hyperspectral layer 'hsi' takes the label of 'other' at its centre, so 3,000 of "
                 "the 5,000 labelled pixels of 'other' over it are not used (a label raster finer than that grid). To "
                 "use them all, resample 'other' onto that grid first (by majority: gdalwarp -r mode)."),
    (1000, 4000, "The 1,000 labelled pixels of 'other' over the hyperspectral layer 'hsi' cover 4,000 of its pixels: "
                 "each counts as the pixels of that grid whose centres it holds, so the figures count 4,000 pixels for "
                 "1,000 reference pixels (and those outside the map in the reference's own)."),
])
def test_the_grid_s_pixels_of_a_reference_of_another_size_are_counted_in_thousands_with_separators(
        scene, labelled, on_grid, said):  # noqa: F811
    """A finer reference of 5,000 pixels on 2,000 of the grid's, a coarser one of 1,000 on 4,000: every count with a
    thousands separator, as the report's."""
    warnings = []
    label_raster._say_finer(labelled, 0, on_grid, scene, "other", Hooks(warn=warnings.append), reference=True)
    assert warnings == [said]


def test_one_negative_code_beside_a_value_not_whole_gets_no_advice_to_declare_it_nodata():
    """-1 beside 2.5 (the map's check, analysis.py, gives the whole map): declaring -1 nodata would leave 2.5."""
    assert one_negative_code_problem(np.array([1.0, 2.5, -1.0]), "INPUT: 'map'", "no data") is None


# labels.py


@pytest.mark.parametrize("also, expected", [
    (None, {"Water": (2, 4), "Forest": (3, 3), "Crop": (0, 1)}),
    (np.array([True, False, True]), {"Water": (3, 4), "Forest": (3, 3), "Crop": (1, 1)}),
])
def test_pixels_left_out_by_class_add_those_on_nodata_to_those_the_mask_holds(also, expected):
    """Water on 2 nodata pixels and 2 read, Forest on 3 nodata pixels only, Crop on 1: a class's nodata pixels count in
    its lost and its whole; the mask `also` adds the pixels it holds to the lost, and without it none."""
    labels = _classes([1, 1, 2], {1: "Water", 2: "Crop"})
    labels.nodata_by_class = {"Water": 2, "Forest": 3}
    assert labels.left_out_by_class(also) == expected


def test_classes_sharing_names_in_two_groups_are_listed_apart_by_semicolons(scene):  # noqa: F811
    """'Water'/'water' and 'Crop'/'crop': two groups, each with its spellings and classes, split by '; '."""
    cells = [(0, value, value) for value in range(1, 5)]
    _labels, warnings, _lines = _labelled(scene, cells, names={1: "Water", 2: "water", 3: "Crop", 4: "crop"})
    assert warnings == ["Classes of 'cells' share a name ('Water' or 'water': classes 1, 2; 'Crop' or 'crop': classes "
                        "3, 4): the map's legend will not tell them apart; give each class a name of its own."]


def test_class_names_alike_but_for_a_turkish_dotted_capital_i_share_a_name(scene):  # noqa: F811
    """'İnşaat' and 'inşaat': casefold gives 'i' and a combining dot, which the comparison drops."""
    _labels, warnings, _lines = _labelled(scene, [(0, 1, 1), (0, 2, 2)],
                                          names={1: "\u0130n\u015faat", 2: "in\u015faat"})
    assert warnings == ["Classes of 'cells' share a name ('\u0130n\u015faat' or 'in\u015faat': classes 1, 2): the "
                        "map's legend will not tell them apart; give each class a name of its own."]


def test_a_very_long_class_name_is_refused_with_its_length_in_thousands():
    """1,001 characters, with a thousands separator as the other counts."""
    with pytest.raises(InputError, match=r"^The name of class 3 of 'layer' is 1,001 characters long \('x{20}\.\.\.'\)"):
        refuse_long_names({3: "x" * 1001}, "layer")


@pytest.mark.parametrize("lost, said", [
    ([2], "1 class of 'cells' ('Crop') lost every sample: each of its pixels holds a sample of another class too (a "
          "polygon inside another, say), so it is left out."),
    ([2, 4], "2 classes of 'cells' ('Crop', '4') lost every sample: each of their pixels holds a sample of another "
             "class too (a polygon inside another, say), so they are left out."),
])
def test_samples_merged_conflicting_and_classes_lost_on_one_pixel_are_counted_and_named(
        scene, lost, said):  # noqa: F811
    """Pixel (1, 1): three samples of class 1 (2 merged); pixel (2, 2): class 1 and the `lost` classes (all its
    samples conflicting); pixel (3, 3): class 3. The lost classes are named by their names, else their values."""
    cells = [(1, 1, 1)] * 3 + [(2, 2, 1)] + [(2, 2, value) for value in lost] + [(3, 3, 3)]
    labels, warnings, lines = _labelled(scene, cells, names={2: "Crop"})
    assert (labels.merged, labels.conflicting, labels.values.tolist()) == (2, (1 + len(lost), 1), [1, 3])
    assert warnings == [f"{said} Place samples of different classes on different pixels."]
    assert "1 pixel of 'cells' holds samples of different classes; it is left out." in lines


def test_samples_all_conflicting_are_refused_with_the_pixels_they_fall_on(scene):  # noqa: F811
    """Two pixels, each with classes 1 and 2: 'the samples fall on 2 pixels'."""
    with pytest.raises(InputError) as refused:
        _labelled(scene, [(1, 1, 1), (1, 1, 2), (2, 2, 1), (2, 2, 2)])
    assert str(refused.value) == (
        "Every sample pixel of 'cells' holds samples of different classes (the samples fall on 2 pixels of the "
        "hyperspectral grid, each with more than one class), so no sample is left. Place samples of different classes "
        "on different pixels.")


@pytest.mark.parametrize("reference, said", [
    (False, "All 1,200 sample pixels of 'cells' are nodata in 'hsi'. Check the nodata values of the rasters, or place "
            "the samples on pixels with data."),
    (True, "INPUT: 'hsi' gives no class (only no data) at any of the 1,200 pixels of the reference 'cells'. Choose "
           "the map of the area the reference covers."),
])
def test_thousands_of_labelled_pixels_all_on_nodata_are_counted_with_separators(tmp_path, reference, said):
    """A 40 x 40 scene whose first 30 rows are nodata, labelled there only: '1,200' pixels."""
    data = np.ones((3, 40, 40), np.float32)
    data[:, :30] = -9999
    with Scene.open(RasterInput(write_raster(tmp_path / "hsi.tif", data, nodata=-9999), "hsi"), []) as holed:
        with pytest.raises(InputError) as refused:
            labelled_pixels(holed, np.arange(1200, dtype=np.int64), np.ones(1200, np.int64), {}, {}, "cells", Hooks(),
                            256, reference=reference)
    assert str(refused.value) == said


def test_the_split_s_summary_of_many_classes_counts_thousands_with_separators():
    """31 classes of 50 pixels, a fifth for validation: '1,240 training and 310 validation pixels'."""
    lines = []
    stratified_split(_classes(np.repeat(np.arange(1, CLASS_LINES + 2), 50)), 0.2, seed=0, hooks=Hooks(log=lines.append))
    assert lines[CLASS_LINES:] == ["... and 1 class more: 1,240 training and 310 validation pixels in all 31 classes."]


# classes.py


@pytest.mark.parametrize("given, read", [("\udc80 100", "\u20ac 100"), ("\udc96 \udc80", "\u2013 \u20ac")])
def test_escaped_bytes_from_0x80_are_read_as_windows_1252(given, read):
    """Byte 0x80, the lowest escaped, is the euro sign of Windows-1252 (not Latin-1's control U+0080); 0x96 its dash."""
    assert recoded_text(given) == read


def test_a_class_name_keeps_no_lone_surrogate():
    """A lone surrogate that is no escaped byte, which XML cannot hold (nor UTF-8 write): a space."""
    assert plain_text("Water\ud800Crop") == "Water Crop"


def test_escaped_bytes_beside_a_lone_surrogate_are_kept_as_they_are():
    """An escaped byte and a surrogate that is none: no bytes of a file, so the text is kept whole, not emptied."""
    assert recoded_text("Pr\udce9s\ud800") == "Pr\udce9s\ud800"
