"""Vector label layers (raster/vector_labels.py): behaviour no test held, each test failing on a small, plausible
bug the suite let pass (a helper's third-round mutation audit of the module, each test checked to fail on its
mutation and pass without it)."""
import numpy as np
import pytest
from osgeo import ogr
from rasters import ORIGIN_X, ORIGIN_Y, add_point_layer, box_wkt, pixel_centre, point_wkt, write_raster, write_vector

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.vector_labels import (MANY_FEATURES, class_values_problem, labels_from_vector,
                                                      mask_rasterizer, missing_layer_problem, open_vector_layer,
                                                      read_layer)
from test_labels_edges import WIDTH, scene  # noqa: F401 (a 12 x 16 scene whose pixel (11, 15) is nodata)
from test_raster_samples import _windows_shapefile
from test_vector_labels_audit import _points, _read

TEXTS = {"class": ogr.OFTString, "name": ogr.OFTString}


# Sources: files, layers and their options


def test_a_source_s_subset_is_read_with_its_layer(tmp_path):
    """read_layer gives a source's subset: the workflow tells a reference of part of the training layer by it."""
    path = _points(tmp_path, [(1, 1, {"class": 1})])
    assert read_layer(f'{path}|layername=samples|subset="class" > 1') == (path, "samples", '"class" > 1')


@pytest.mark.parametrize("option", ["|layername= more ", "|layerid = 1 ", "|layername=MORE"])
def test_a_source_s_layer_is_read_without_the_spaces_around_its_value_and_in_any_case(tmp_path, option):
    """'|layername= more ' and '|layerid = 1 ' name the layer 'more', as without their spaces, and so does a
    GeoPackage's '|layername=MORE' (its tables' names are alike in any letter case)."""
    path = _points(tmp_path, [(1, 1, {"class": 1})])
    add_point_layer(path, "more", "class", 3, *pixel_centre(3, 3))
    assert read_layer(path + option) == (path, "more", "")


def test_a_layer_number_that_a_file_lacks_is_said_under_the_parameter_s_name(tmp_path):
    """A source of a layer number its file lacks is said before any work, naming the parameter and the file's layers."""
    path = _points(tmp_path, [(1, 1, {"class": 1})])
    assert missing_layer_problem(f"{path}|layerid=3", "SAMPLES") == (
        f"SAMPLES: {path} has no layer numbered '3'; its layers: 'samples'. Choose one of them.")


def test_a_file_of_no_layers_is_said_to_hold_none_whether_a_layer_is_named_or_not(tmp_path):
    """A vector file of no layers at all (an empty SQLite database): named a layer, it was said to have no layer named
    'x' among 'none'; given without one (a bug the audit found), 'no layer numbered None; its layers: none. Choose one
    of them.', where no layer was numbered and there is none to choose."""
    path = str(tmp_path / "empty.sqlite")
    ogr.GetDriverByName("SQLite").CreateDataSource(path)
    assert missing_layer_problem(f"{path}|layername=x", "SAMPLES") == (
        f"SAMPLES: {path} holds no layer. Choose a file that holds the features.")
    with pytest.raises(InputError) as refused:
        open_vector_layer(path, None, "p", Hooks())
    assert str(refused.value) == (f"The vector source of 'p' ({path}) holds no layer. Choose a file that holds the "
                                  "features.")


def test_a_file_gdal_knows_but_cannot_read_is_refused_in_gdal_s_words(tmp_path):
    """A GeoJSON file cut short is refused with GDAL's reason, not as no vector file at all."""
    path = tmp_path / "cut.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", ')
    with pytest.raises(InputError) as refused:
        open_vector_layer(str(path), None, "p", Hooks())
    assert str(refused.value) == ("The vector layer 'p' cannot be opened (Failed to read GeoJSON data). Choose a layer "
                                  "of points, lines or polygons that GDAL/OGR can read.")


# Pixels: which pixels a polygon, a line or a point takes


def _pixels(labels):
    """(row, col, class) of each labelled pixel."""
    return list(zip(labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist()))


def test_a_polygon_whose_edges_run_through_pixel_centres_takes_those_on_its_left_and_top_edges(tmp_path, scene):
    """Centres on a polygon's edge fall on one side: those on its left and top edges are inside, on its right and
    bottom edges outside (a square from centre (1, 1) to centre (3, 3) takes 4 pixels, not 9 or 1)."""
    (left, top), (right, bottom) = pixel_centre(1, 1), pixel_centre(3, 3)
    features = [(box_wkt(left, bottom, right, top), {"class": 1}), (point_wkt(*pixel_centre(6, 6)), {"class": 2})]
    path = write_vector(tmp_path / "b.gpkg", features, {"class": ogr.OFTInteger})
    labels, _warnings, _lines = _read(scene, path)
    assert _pixels(labels) == [(1, 1, 1), (1, 2, 1), (2, 1, 1), (2, 2, 1), (6, 6, 2)]


@pytest.mark.parametrize("x", [ORIGIN_X - 0.1, ORIGIN_X + WIDTH + 0.1])
def test_a_point_a_tenth_of_a_pixel_beyond_the_grid_s_edge_lies_outside_it(tmp_path, scene, x):
    """Only points within a millionth of a pixel of an edge fall in the pixel there: one a tenth beyond is outside."""
    features = [(point_wkt(x, pixel_centre(2, 0)[1]), {"class": 1}), (point_wkt(*pixel_centre(5, 5)), {"class": 2})]
    labels, _warnings, _lines = _read(scene, write_vector(tmp_path / "e.gpkg", features, {"class": ogr.OFTInteger}))
    assert (_pixels(labels), labels.outside) == ([(5, 5, 2)], 1)


def test_a_horizontal_line_just_inside_a_pixel_row_takes_that_row_alone(tmp_path, scene):
    """A line a ten-millionth of a pixel below a row's top edge runs through that row only, not the row above it that
    the rasteriser's shifted burns touch."""
    y = ORIGIN_Y - 3 - 1e-7
    features = [(f"LINESTRING ({ORIGIN_X + 2.5} {y}, {ORIGIN_X + 5.5} {y})", {"class": 1}),
                (point_wkt(*pixel_centre(8, 8)), {"class": 2})]
    labels, _warnings, _lines = _read(scene, write_vector(tmp_path / "h.gpkg", features, {"class": ogr.OFTInteger}))
    assert _pixels(labels) == [(3, 2, 1), (3, 3, 1), (3, 4, 1), (3, 5, 1), (8, 8, 2)]


# Class values


def test_a_text_class_of_a_number_ending_in_a_bare_point_keeps_its_value(tmp_path, scene):
    """'2.' (a whole number some tools write with its point) is class 2 beside '3', not a name numbered 1."""
    path = _points(tmp_path, [(1, 1, {"class": "2."}), (2, 2, {"class": "3"})], {"class": ogr.OFTString})
    labels, _warnings, _lines = _read(scene, path)
    assert (_pixels(labels), labels.named_by_text) == ([(1, 1, 2), (2, 2, 3)], False)


@pytest.mark.parametrize("texts, said", [
    (["1", "2", "null", "NA"], "2 features of 'p' have 'NA' and 'null' as their class in the class field 'class', "
                               "whose other classes are whole numbers: taken for no class, they are left out."),
    (["1", "2", "?"], "1 feature of 'p' has '?' as its class in the class field 'class', whose other classes are whole "
                      "numbers: taken for no class, it is left out.")])
def test_placeholders_among_whole_numbers_are_warned_of_in_sorted_order_and_counted(tmp_path, scene, texts, said):
    """Placeholder classes taken for no class are listed sorted, whatever the order of their features, and counted."""
    path = _points(tmp_path, [(row, row, {"class": text}) for row, text in enumerate(texts, 1)],
                   {"class": ogr.OFTString})
    _labels, warnings, _lines = _read(scene, path)
    assert warnings == [said]


@pytest.mark.parametrize("wkt, said", [
    (point_wkt(*pixel_centre(1, 40)), "lies outside the hyperspectral layer 'hsi'"), (None, "has no geometry")])
def test_a_placeholder_class_among_names_outside_the_grid_or_without_geometry_is_said_to_be_left_out(
        tmp_path, scene, wkt, said):
    """A 'None' feature (a class among names) outside the grid or without a geometry is counted as any other is."""
    features = [(point_wkt(*pixel_centre(3, 3)), {"class": "Water"}), (wkt, {"class": "None"})]
    labels, _warnings, lines = _read(scene, write_vector(tmp_path / "n.gpkg", features, {"class": ogr.OFTString}))
    assert f"1 of the 2 features of 'p' {said}; it is left out." in lines
    assert (labels.outside, labels.left_out_features["no geometry"]) == ((1, 0) if wkt else (0, 1))


def test_texts_written_apart_for_one_class_are_listed_in_text_order(tmp_path, scene):
    """'3.0' and '3' (class 3) are listed in the order of their texts, '3' first, and the classes by value."""
    path = _points(tmp_path, [(1, 1, {"class": "3.0"}), (2, 2, {"class": "3"}), (3, 3, {"class": "01"}),
                              (4, 4, {"class": "1"})], {"class": ogr.OFTString})
    _labels, warnings, _lines = _read(scene, path)
    assert warnings == ["The class field 'class' of 'p' writes one class in several ways ('01' and '1' are class 1; "
                        "'3' and '3.0' are class 3); write each class one way if they are meant apart."]


def test_the_one_class_of_samples_written_many_ways_is_named_by_its_first_spelling_in_text_order():
    """One class written twelve ways is said by the first of its texts in text order, not by a set's order (which
    Python's hash seed sets: the audits' two spellings caught a bug there one run in two)."""
    texts = [sign + "0" * zeros + "3" for sign in ("", "+") for zeros in range(6)]
    assert class_values_problem(texts, False, "class", "p", "SAMPLES") == (
        "SAMPLES: the samples of 'p' hold only one class ('+000003'); at least two classes are needed. Add samples of "
        "other classes, or choose the field that holds the classes.")


def test_a_decimal_class_value_of_a_real_field_is_refused(tmp_path, scene):
    """2.5 in a field of real numbers is no class: refused, not truncated to class 2."""
    path = _points(tmp_path, [(1, 1, {"class": 1.0}), (2, 2, {"class": 2.5})], {"class": ogr.OFTReal})
    with pytest.raises(InputError) as refused:
        _read(scene, path)
    assert str(refused.value) == ("The class field 'class' of 'p' holds decimal or non-finite numbers (2.5). Class "
                                  "values must be whole numbers or text; recode the field.")


def test_a_tiny_decimal_class_value_is_said_with_its_exponent():
    """A bug the audit found: a field of small decimals (a ratio or an area chosen as the class field) was said to hold
    '(3.3333333333333333e-)': the value's text cut at 20 characters, before its exponent, reads as another number."""
    said = class_values_problem([1.0, 3.3333333333333333e-06], True, "class", "p")
    assert said == ("The class field 'class' of 'p' holds decimal or non-finite numbers (3.3333333333333333e-06). "
                    "Class values must be whole numbers or text; recode the field.")


# Names and colours


@pytest.mark.parametrize("names, said", [
    (("forest", ""), "is empty for class '2', so it is named by its value"),
    (("", None), "is empty for classes '1', '2', so they are named by their values")])
def test_classes_a_given_name_field_leaves_unnamed_are_warned_of(tmp_path, scene, names, said):
    """The helper's audit: a name field empty (or NULL) throughout, or for a class, named those classes by their values
    without a word."""
    fields = {"class": ogr.OFTInteger, "name": ogr.OFTString}
    path = _points(tmp_path, [(1, 1, {"class": 1, "name": names[0]}), (2, 2, {"class": 2, "name": names[1]}),
                              (3, 3, {"class": 2, "name": ""})], fields)
    labels, warnings, _lines = _read(scene, path, name_field="name")
    assert [line for line in warnings if "empty for" in line] == [
        f"The name field 'name' of 'p' {said}. Fill in the names, or choose the field that holds them."]
    assert [(info.value, info.name) for info in labels.classes] == [(1, names[0] or "1"), (2, "2")]


def test_a_class_left_out_is_not_said_to_be_named_by_its_value(tmp_path, scene):
    """The review of that warning: a class whose one feature lies outside the grid was said named by its value, then
    left out: it is said left out alone."""
    fields = {"class": ogr.OFTInteger, "name": ogr.OFTString}
    path = _points(tmp_path, [(1, 1, {"class": 1, "name": "forest"}), (2, 2, {"class": 2, "name": "water"}),
                              (-5, 2, {"class": 3, "name": ""})], fields)
    _labels, warnings, _lines = _read(scene, path, name_field="name")
    assert [line.split(":")[0] for line in warnings] == [
        "1 class of 'p' ('3') selects no pixel of the hyperspectral layer 'hsi'"]


def test_a_colour_without_its_hash_is_refused(tmp_path, scene):
    """'2b7bba' is no colour written #rrggbb: refused, not kept as a colour the legend cannot read."""
    cells = [(1, 1, {"class": 1, "colour": "2b7bba"}), (2, 2, {"class": 2, "colour": "#00aa00"})]
    with pytest.raises(InputError) as refused:
        _read(scene, _points(tmp_path, cells, {"class": ogr.OFTInteger, "colour": ogr.OFTString}), color_field="colour")
    assert str(refused.value) == ("The colour field 'colour' of 'p' holds '2b7bba', which is not a colour written "
                                  "#rrggbb (such as #2b7bba). Correct it, or choose no colour field.")


def test_a_shapefile_with_its_extensions_in_capitals_says_its_cpg_names_no_known_encoding(tmp_path, scene):
    """'LEGACY.SHP' whose .cpg names 'klingon' is said to name an encoding not known, as 'legacy.shp' is."""
    _windows_shapefile(tmp_path, ["Forêt", "Prés"], True)
    for extension in ("shp", "shx", "dbf"):
        (tmp_path / f"legacy.{extension}").rename(tmp_path / f"LEGACY.{extension.upper()}")
    (tmp_path / "legacy.cpg").unlink()
    (tmp_path / "LEGACY.cpg").write_text("klingon")
    _labels, warnings, _lines = _read(scene, tmp_path / "LEGACY.SHP", "legacy")
    assert warnings == [
        "Texts of 'legacy' are read as Windows-1252 ('Forêt', 'Prés'): its .cpg file names 'klingon', an encoding "
        "not known here. If that is wrong, save the layer in UTF-8 (as a GeoPackage, say), or give a shapefile a .cpg "
        "file naming its encoding."]


def test_texts_that_could_not_be_read_are_listed_in_sorted_order_the_first_five_of_them(tmp_path, scene):
    """Six texts holding U+FFFD are listed sorted, five of them and '...', whatever the order of a set of them."""
    texts = [f"{letter}\ufffd" for letter in "FEDCBA"]
    path = _points(tmp_path, [(row, row, {"class": text}) for row, text in enumerate(texts)], {"class": ogr.OFTString})
    _labels, warnings, _lines = _read(scene, path)
    assert warnings == [
        "Texts of 'p' hold characters that could not be read (shown \ufffd: 'A\ufffd', 'B\ufffd', 'C\ufffd', "
        "'D\ufffd', 'E\ufffd', ...): the layer was read in another encoding than its file's. Set the layer's encoding "
        "(Layer Properties > Source > Data source encoding) or save it in UTF-8, and run again."]


def test_numbers_naming_text_classes_are_listed_once_each_in_order(tmp_path, scene):
    """Text classes named '7', '07' and '1' (the fields swapped) are said to be named by the numbers 1 and 7, each once
    and in order."""
    fields = {"class": ogr.OFTString, "name": ogr.OFTString}
    cells = [(1, 1, {"class": "Water", "name": "7"}), (2, 2, {"class": "Wet", "name": "07"}),
             (3, 3, {"class": "Crop", "name": "1"})]
    _labels, warnings, _lines = _read(scene, _points(tmp_path, cells, fields), name_field="name")
    assert warnings == ["The name field 'name' of 'p' holds numbers (1, 7) and its class field 'class' texts (Crop, "
                        "Water, Wet), so the classes are named by numbers: were the two fields swapped? The class "
                        "field holds the classes (numbers, or texts that name them), the name field their names."]


def test_a_placeholder_class_s_name_that_could_not_be_read_is_warned_of(tmp_path, scene):
    """A 'None' feature (a class among names) whose name holds U+FFFD is warned of as any other feature's is."""
    cells = [(1, 1, {"class": "Water", "name": "Eau"}), (2, 2, {"class": "None", "name": "Rien\ufffd"})]
    _labels, warnings, _lines = _read(scene, _points(tmp_path, cells, TEXTS), name_field="name")
    assert [warning for warning in warnings if "could not be read" in warning] == [
        "Texts of 'p' hold characters that could not be read (shown \ufffd: 'Rien\ufffd'): the layer was read in "
        "another encoding than its file's. Set the layer's encoding (Layer Properties > Source > Data source encoding) "
        "or save it in UTF-8, and run again."]


# Log lines: the features left out, and what they are


def test_a_reference_s_features_without_class_are_logged_and_those_outside_left_to_the_accuracy_s_warning(
        tmp_path, scene):
    """A reference logs its features without a class as samples do, not those outside the map (the accuracy step's
    warning says them: said twice, a red team found)."""
    cells = [(1, 1, {"class": 1}), (2, 2, {"class": 2}), (3, 3, {"class": None}), (4, 40, {"class": 2})]
    labels, _warnings, lines = _read(scene, _points(tmp_path, cells), reference=True)
    assert [line for line in lines if "left out" in line] == [
        "1 of the 4 features of 'p' has no class; it is left out."]
    assert labels.outside == 1


@pytest.mark.parametrize("empty", ["POINT EMPTY", "POLYGON EMPTY"])
def test_a_feature_of_an_empty_geometry_is_said_to_have_no_geometry_not_to_lie_outside(tmp_path, scene, empty):
    """An empty geometry (a feature whose drawing was undone) is 'no geometry', not outside the raster."""
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": 1}), (point_wkt(*pixel_centre(2, 2)), {"class": 2}),
                (empty, {"class": 2})]
    labels, _warnings, lines = _read(scene, write_vector(tmp_path / "e.gpkg", features, {"class": ogr.OFTInteger}))
    assert [line for line in lines if "left out" in line] == [
        "1 of the 3 features of 'p' has no geometry; it is left out."]
    assert (labels.outside, labels.left_out_features["no geometry"]) == (0, 1)


def _lines_and_a_feature_without_class(tmp_path):
    """Two lines (one reaching beyond the grid's right edge), a point, and a point without a class."""
    (x1, y1), (x2, y2) = pixel_centre(1, 10), pixel_centre(5, 2)
    features = [(f"LINESTRING ({x1} {y1}, {ORIGIN_X + 30} {y1})", {"class": 1}),
                (f"LINESTRING ({x2} {y2}, {x2 + 2} {y2})", {"class": 2}),
                (point_wkt(*pixel_centre(8, 8)), {"class": None}), (point_wkt(*pixel_centre(9, 9)), {"class": 2})]
    return write_vector(tmp_path / "l.gpkg", features, {"class": ogr.OFTInteger})


def test_lines_and_features_reaching_beyond_the_grid_are_counted_among_all_features(tmp_path, scene):
    """Lines and features reaching beyond the grid are said 'of the 4 features', those without a class included."""
    _labels, _warnings, lines = _read(scene, _lines_and_a_feature_without_class(tmp_path))
    assert [line for line in lines if "of the 4 features" in line] == [
        "1 of the 4 features of 'p' has no class; it is left out.",
        "2 of the 4 features of 'p' are lines: every pixel they cross is a sample.",
        "1 of the 4 features of 'p' reaches beyond the hyperspectral layer 'hsi'; its parts outside it are left out."]


def test_a_reference_s_features_reaching_beyond_the_grid_are_left_to_the_accuracy_s_warning(tmp_path, scene):
    """A reference's features reaching beyond the map are counted, not logged (the accuracy step's warning says
    them)."""
    labels, _warnings, lines = _read(scene, _lines_and_a_feature_without_class(tmp_path), reference=True)
    assert (labels.partly_outside, [line for line in lines if "beyond" in line]) == (1, [])


def test_a_class_field_whose_name_says_name_is_not_offered_as_the_classes_name_field(tmp_path, scene):
    """A text class field 'class_name' of whole numbers is not offered as the field that may name its own classes."""
    path = _points(tmp_path, [(1, 1, {"class_name": "1"}), (2, 2, {"class_name": "3"})], {"class_name": ogr.OFTString})
    _labels, _warnings, lines = _read(scene, path, class_field="class_name")
    assert [line for line in lines if "named by their values" in line] == [
        "The classes of 'p' are named by their values ('1', '3'), as no name field is given."]


# Masks


def test_a_mask_of_points_and_lines_over_the_grid_is_refused_as_holding_no_polygon(tmp_path, scene):
    """A mask layer of points and lines on the grid holds no polygon: refused, not taken as a mask of no pixel."""
    (x, y), (x2, y2) = pixel_centre(2, 2), pixel_centre(5, 5)
    path = write_vector(tmp_path / "m.gpkg", [(point_wkt(x, y), {}), (f"LINESTRING ({x} {y}, {x2} {y2})", {})], {})
    with pytest.raises(InputError) as refused:
        mask_rasterizer(path, "m", scene.grid, "hsi", Hooks())
    assert str(refused.value) == ("MASK: the layer 'm' holds no polygon (no feature with a polygon of its own). Choose "
                                  "a layer of polygons as the mask.")


def test_the_reading_of_many_features_is_announced_in_the_log_not_as_a_warning(tmp_path, scene):
    """'Reading the 1,024 features' is a log line; a warning (orange in QGIS) would say something is wrong."""
    count = MANY_FEATURES
    path = _points(tmp_path, [(n % 10, n // 10 % 10, {"class": 1 + n % 2}) for n in range(count)])
    _labels, warnings, lines = _read(scene, path)
    assert (lines[0], warnings) == ("Reading the 1,024 features of 'p'.", [])


# CRS


def test_a_coordinate_operation_proj_cannot_use_is_refused_in_proj_s_words(tmp_path, scene):
    """A pipeline PROJ cannot instantiate is refused with PROJ's reason, not only the pipeline given back."""
    path = write_vector(tmp_path / "ed50.gpkg", [(point_wkt(*pixel_centre(1, 1)), {"class": 1})],
                        {"class": ogr.OFTInteger}, crs="EPSG:23032")
    with pytest.raises(InputError) as refused:
        _read(scene, f"{path}|operation=+proj=nonsense")
    opening = "The coordinate operation given for 'p' cannot be used ("
    closing = "). Give a PROJ pipeline from its CRS to the grid's, or none."
    said = str(refused.value)
    assert said.startswith(opening) and said.endswith(closing)
    assert "+proj=nonsense" in said[len(opening):-len(closing)] != "+proj=nonsense"


def test_samples_without_a_crs_on_a_raster_without_one_are_not_said_to_take_the_raster_s_crs(tmp_path):
    """A bug the audit found: neither the samples nor the raster have a CRS, yet the log said the samples' coordinates
    'are taken to be in the CRS of 'hsi'', a CRS that does not exist; they are taken as the raster's."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 8, 8), np.float32), crs=None)
    path = write_vector(tmp_path / "p.gpkg", [(point_wkt(*pixel_centre(1, 1)), {"class": 1}),
                                              (point_wkt(*pixel_centre(2, 2)), {"class": 2})],
                        {"class": ogr.OFTInteger}, crs=None)
    lines = []
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        labels_from_vector(scene, path, None, "class", None, "p", Hooks(log=lines.append))
    assert [line for line in lines if "CRS" in line] == [
        "'p' and 'hsi' have no CRS; the coordinates of 'p' are taken as those of 'hsi'."]
