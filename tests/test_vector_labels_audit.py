"""Vector label layers (raster/vector_labels.py) and labelled pixels (raster/labels.py): behaviour no test held, each
test failing on a small, plausible bug that the suite let pass (a helper's second mutation audit of these modules,
each test checked to fail on its bug and pass without it)."""
import numpy as np
import pytest
from osgeo import ogr, osr
from rasters import (ORIGIN_X, ORIGIN_Y, UTM32, add_point_layer, box_wkt, pixel_centre, point_wkt, write_raster,
                     write_vector)

from mrs.model_core import MAX_CLASS_VALUE
from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels
from mrs.mrs_qgis_plugin.raster.vector_labels import (class_values_problem, labels_from_vector, read_layer,
                                                      unnamed_layer_clause)
from test_labels_edges import HEIGHT, WIDTH, scene  # noqa: F401 (a 12 x 16 scene whose pixel (11, 15) is nodata)


def _points(tmp_path, cells, fields=None):
    """A GeoPackage of a point per (row, col, attributes) at the pixel's centre; `fields` default to an integer
    'class'."""
    features = [(point_wkt(*pixel_centre(row, col)), attributes) for row, col, attributes in cells]
    return write_vector(tmp_path / "p.gpkg", features, fields or {"class": ogr.OFTInteger})


def _read(scene, path, name="p", class_field="class", name_field=None, **options):
    """labels_from_vector's result, and the warnings and log lines it gave."""
    warnings, lines = [], []
    labels = labels_from_vector(scene, str(path), None, class_field, name_field, name,
                                Hooks(warn=warnings.append, log=lines.append), **options)
    return labels, warnings, lines


# Sources: files, layers and their options


@pytest.mark.parametrize("option", ["", "|layername=samples", "|LayerName=samples", "|layerid=0",
                                    "|layername=samples|layername=other", "|subset="])
def test_a_source_reads_its_first_named_layer_whatever_the_case_of_its_options(tmp_path, option):
    path = _points(tmp_path, [(1, 1, {"class": 1})])
    assert read_layer(path + option) == (path, "samples", "")


def test_a_file_of_one_layer_needs_no_word_on_which_layer_is_read(tmp_path):
    assert unnamed_layer_clause(_points(tmp_path, [(1, 1, {"class": 1})])) is None


def _shapefile(tmp_path, cells):
    """A shapefile of a point per (row, col, class) at the pixel's centre, in the scene's CRS."""
    path = str(tmp_path / "pts.shp")
    source = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(path)
    layer = source.CreateLayer("pts", None, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    for row, col, value in cells:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(*pixel_centre(row, col))))
        feature.SetField("class", value)
        layer.CreateFeature(feature)
    source = layer = feature = None
    return path


def test_a_subset_ogr_cannot_parse_is_said_without_the_parser_s_pointer_to_where(tmp_path, scene):
    """OGR SQL's own words end 'Occurred around :' and the condition on lines of their own."""
    path = _shapefile(tmp_path, [(1, 1, 1), (2, 2, 2)])
    with pytest.raises(InputError) as refused:
        _read(scene, f"{path}|subset=class >")
    assert str(refused.value) == ("The vector source of 'p' has a subset that OGR cannot apply (class >): SQL "
                                  "Expression Parsing Error: syntax error, unexpected end of string. Correct the "
                                  "filter, or save the selected features into a file of their own.")


def test_a_raster_given_as_samples_is_said_to_be_a_raster(tmp_path, scene):
    path = write_raster(tmp_path / "image.tif", np.ones((2, 2), np.uint8))
    with pytest.raises(InputError) as refused:
        _read(scene, path)
    assert str(refused.value) == (f"'p' ({path}) is a raster, not a vector layer. Choose a layer of points, lines or "
                                  "polygons here.")


def test_a_shapefile_whose_extension_is_in_capitals_without_its_dbf_is_said_to_lack_it(tmp_path, scene):
    path = _shapefile(tmp_path, [(1, 1, 1), (2, 2, 2)])
    for extension in ("shp", "shx"):
        (tmp_path / f"pts.{extension}").rename(tmp_path / f"pts.{extension.upper()}")
    (tmp_path / "pts.dbf").unlink()
    path = path[:-3] + "SHP"
    with pytest.raises(InputError) as refused:
        _read(scene, path)
    assert str(refused.value) == (f"The shapefile 'p' ({path}) has no .dbf file beside it, which holds its fields (the "
                                  "class field among them). Copy the .dbf with the .shp and .shx, or choose another "
                                  "layer.")


def _two_layers(tmp_path):
    """A GeoPackage of two layers of points, 'samples' (classes 1 and 2) and 'more' (class 3)."""
    path = _points(tmp_path, [(1, 1, {"class": 1}), (2, 2, {"class": 2})])
    add_point_layer(path, "more", "class", 3, *pixel_centre(3, 3))
    return path


@pytest.mark.parametrize("option, values", [("|layerid=0", [1, 2]), ("|layerid=1", [3])])
def test_a_layer_of_a_file_of_several_chosen_by_its_number_is_read_without_a_word_on_the_others(
        tmp_path, scene, option, values):
    labels, warnings, _lines = _read(scene, _two_layers(tmp_path) + option)
    assert (labels.values.tolist(), warnings) == (values, [])


# Geometries: empty parts, the grid's edges, and the features left out


def _geometries(path, geometries, crs=UTM32):
    """A GeoPackage of (geometry, class) features, the geometries written as OGR holds them (WKT drops empty
    parts)."""
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.SetFromUserInput(crs)
    layer = source.CreateLayer("samples", srs, ogr.wkbUnknown)
    layer.CreateField(ogr.FieldDefn("class", ogr.OFTInteger))
    for geometry, value in geometries:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(geometry)
        feature.SetField("class", value)
        layer.CreateFeature(feature)
    source = layer = feature = None
    return str(path)


def _point(x, y):
    point = ogr.Geometry(ogr.wkbPoint)
    point.AddPoint_2D(x, y)
    return point


def test_a_polygon_with_an_empty_hole_takes_the_pixels_whose_centre_is_inside(tmp_path, scene):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for col, row in ((1, 1), (3, 1), (3, 3), (1, 3), (1, 1)):
        ring.AddPoint_2D(*pixel_centre(row - 0.5, col - 0.5))
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    polygon.AddGeometry(ogr.Geometry(ogr.wkbLinearRing))
    path = _geometries(tmp_path / "holed.gpkg", [(polygon, 1), (_point(*pixel_centre(5, 5)), 2)])
    labels, _warnings, _lines = _read(scene, path)
    assert list(zip(labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist())) == [
        (1, 1, 1), (1, 2, 1), (2, 1, 1), (2, 2, 1), (5, 5, 2)]


def test_an_empty_point_of_a_multipoint_takes_no_pixel_where_the_grid_holds_the_origin(tmp_path):
    """A CSV file's WKT point without coordinates reads as (0, 0), which the grid here covers (pixel (1, 1))."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 8, 8), np.float32), (-1.0, 1.0, 0.0, 1.0, 0.0, -1.0))
    path = tmp_path / "points.csv"
    path.write_text('WKT,class\n"MULTIPOINT (EMPTY, (4.5 -3.5))",1\n"POINT (2.5 -5.5)",2\n')
    with Scene.open(RasterInput(hsi, "hsi"), []) as opened:
        labels, _warnings, _lines = _read(opened, path)
    assert list(zip(labels.rows.tolist(), labels.cols.tolist(), labels.values.tolist())) == [(4, 5, 1), (6, 3, 2)]


def test_a_polygon_on_the_grid_s_edge_within_a_millionth_of_a_pixel_does_not_reach_beyond_it(tmp_path, scene):
    edge = box_wkt(ORIGIN_X + WIDTH - 2, ORIGIN_Y - 3, ORIGIN_X + WIDTH + 1e-7, ORIGIN_Y - 1)
    path = write_vector(tmp_path / "edge.gpkg", [(edge, {"class": 1}), (point_wkt(*pixel_centre(5, 5)), {"class": 2})],
                        {"class": ogr.OFTInteger})
    labels, _warnings, lines = _read(scene, path)
    assert (labels.partly_outside, [line for line in lines if "beyond" in line]) == (0, [])
    assert labels.counts() == {1: 4, 2: 1}


def test_samples_without_geometry_or_between_pixel_centres_alone_are_said_to_cover_no_pixel_centre(tmp_path, scene):
    x, y = pixel_centre(4, 4)
    features = [(None, {"class": 1}), (box_wkt(x + 0.1, y + 0.1, x + 0.3, y + 0.3), {"class": 2})]
    path = write_vector(tmp_path / "s.gpkg", features, {"class": ogr.OFTInteger})
    with pytest.raises(InputError) as refused:
        _read(scene, path, "s")
    assert str(refused.value) == ("No sample of 's' covers a pixel centre of the hyperspectral layer 'hsi': 1 of them "
                                  "lies between pixel centres (smaller than a pixel). Draw polygons that cover the "
                                  "centres of the pixels they mean, or place points.")


@pytest.mark.parametrize("kind, values, wide, decimal", [
    (ogr.OFTInteger, [1, 2], False, False), (ogr.OFTInteger64, [1, 2], True, False),
    (ogr.OFTReal, [1.0, 2.0], False, True), (ogr.OFTString, ["1", "2"], False, False)])
def test_samples_keep_the_type_of_their_class_field_for_suggestions(tmp_path, scene, kind, values, wide, decimal):
    path = _points(tmp_path, [(row, row, {"class": value}) for row, value in enumerate(values, 1)], {"class": kind})
    labels, _warnings, _lines = _read(scene, path)
    assert (labels.wide_class_field, labels.decimal_class_field, labels.values.tolist()) == (wide, decimal, [1, 2])


@pytest.mark.parametrize("texts, by_text", [(["1", "2"], False), (["1", "Water"], True), (["Crop", "Water"], True)])
def test_classes_are_said_to_be_given_as_text_unless_every_text_is_a_whole_number(tmp_path, scene, texts, by_text):
    path = _points(tmp_path, [(row, row, {"class": text}) for row, text in enumerate(texts, 1)],
                   {"class": ogr.OFTString})
    labels, _warnings, _lines = _read(scene, path)
    assert labels.named_by_text is by_text


def test_features_left_out_before_they_met_the_grid_are_counted_by_why(tmp_path, scene):
    x, y = pixel_centre(4, 4)
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": 1}), (None, {"class": 2}), (None, {"class": 2}),
                (point_wkt(*pixel_centre(2, 2)), {"class": None}),
                (box_wkt(x + 0.1, y + 0.1, x + 0.3, y + 0.3), {"class": 2}), (point_wkt(x + 100, y), {"class": 2})]
    labels, _warnings, _lines = _read(scene, write_vector(tmp_path / "m.gpkg", features, {"class": ogr.OFTInteger}))
    assert (labels.features, labels.outside, labels.left_out_features) == (
        6, 1, {"no class": 1, "no geometry": 2, "no pixel centre": 1})


def test_a_placeholder_class_among_names_between_pixel_centres_is_counted_as_such(tmp_path, scene):
    x, y = pixel_centre(4, 4)
    features = [(point_wkt(*pixel_centre(1, 1)), {"class": "water"}), (point_wkt(*pixel_centre(2, 2)), {"class": "NA"}),
                (box_wkt(x + 0.1, y + 0.1, x + 0.3, y + 0.3), {"class": "NA"})]
    labels, _warnings, lines = _read(scene, write_vector(tmp_path / "n.gpkg", features, {"class": ogr.OFTString}))
    assert labels.left_out_features["no pixel centre"] == 1
    assert ("1 of the 3 features of 'p' covers no pixel centre of the hyperspectral layer 'hsi' (smaller than a "
            "pixel); it is left out.") in lines


# Class values


def test_a_class_value_one_past_the_largest_is_refused(tmp_path, scene):
    path = _points(tmp_path, [(1, 1, {"class": 1}), (2, 2, {"class": MAX_CLASS_VALUE + 1})],
                   {"class": ogr.OFTInteger64})
    with pytest.raises(InputError) as refused:
        _read(scene, path)
    assert str(refused.value) == (f"The class field 'class' of 'p' holds the value {MAX_CLASS_VALUE + 1}; class values "
                                  f"must be at most {MAX_CLASS_VALUE}, the largest a class raster can hold. Recode the "
                                  "classes with smaller values.")


def test_an_infinite_class_value_is_refused_as_no_whole_number(tmp_path, scene):
    path = _points(tmp_path, [(1, 1, {"class": 1.0}), (2, 2, {"class": float("inf")})], {"class": ogr.OFTReal})
    with pytest.raises(InputError) as refused:
        _read(scene, path)
    assert str(refused.value) == ("The class field 'class' of 'p' holds decimal or non-finite numbers (inf). Class "
                                  "values must be whole numbers or text; recode the field.")


@pytest.mark.parametrize("values, said", [
    (["", " "], "The class field 'class' of 'p' is empty: no feature has a class. Fill in the classes or choose the "
                "field that holds them."),
    (["", "2"], "SAMPLES: the samples of 'p' hold only one class ('2'); at least two classes are needed. Add samples "
                "of other classes, or choose the field that holds the classes."),
    (["3", "03"], "SAMPLES: the samples of 'p' hold only one class ("),  # '3' or '03': one class either way
])


def test_the_early_check_of_a_class_field_leaves_blank_texts_out_and_counts_classes_by_value(values, said):
    assert class_values_problem(values, False, "class", "p", "SAMPLES").startswith(said)


# Names and colours from their fields

NAMED = {"class": ogr.OFTInteger, "name": ogr.OFTString, "colour": ogr.OFTString}


def test_a_colour_with_more_than_six_hex_digits_is_refused(tmp_path, scene):
    path = _points(tmp_path, [(1, 1, {"class": 1, "colour": "#00aa00ff"}), (2, 2, {"class": 2})], NAMED)
    with pytest.raises(InputError) as refused:
        _read(scene, path, color_field="colour")
    assert str(refused.value) == ("The colour field 'colour' of 'p' holds '#00aa00ff', which is not a colour written "
                                  "#rrggbb (such as #2b7bba). Correct it, or choose no colour field.")


def test_a_class_given_other_names_is_said_with_each_name_once(tmp_path, scene):
    cells = [(1, 1, {"class": 1, "name": "Woods"}), (2, 2, {"class": 1, "name": "Water"}),
             (3, 3, {"class": 1, "name": "Water"}), (4, 4, {"class": 1, "name": "Woods"}),
             (5, 5, {"class": 2, "name": "Crop"})]
    _labels, warnings, _lines = _read(scene, _points(tmp_path, cells, NAMED), name_field="name")
    assert warnings == ["Classes of 'p' given more than one name by the field 'name' (class 1: 'Woods' or 'Water'): "
                        "the first of each class is kept."]


def test_a_class_that_selects_no_pixel_is_warned_of_by_its_name(tmp_path, scene):
    cells = [(1, 1, {"class": 1, "name": "Crop"}), (HEIGHT + 5, 2, {"class": 2, "name": "Water"})]
    _labels, warnings, _lines = _read(scene, _points(tmp_path, cells, NAMED), name_field="name")
    assert warnings == ["1 class of 'p' ('Water') selects no pixel of the hyperspectral layer 'hsi': its features lie "
                        "outside it, between pixel centres or nowhere (without a geometry), so it is left out."]


# labels.py: labelled pixels, merged and conflicting samples, and the words for them


def test_samples_merged_on_a_pixel_and_those_in_conflict_are_counted_by_sample_and_pixel(tmp_path, scene):
    cells = [(1, 1, 1), (1, 1, 1), (1, 1, 1), (2, 2, 1), (2, 2, 2), (2, 2, 2), (4, 4, 2), (4, 4, 1), (3, 3, 2)]
    labels, _warnings, _lines = _read(scene, _points(tmp_path, [(row, col, {"class": value})
                                                                for row, col, value in cells]))
    assert (labels.merged, labels.conflicting, labels.values.tolist()) == (2, (5, 2), [1, 2])


@pytest.mark.parametrize("pixels, said", [(1, "1 pixel"), (2, "2 pixels")])
def test_samples_all_in_conflict_are_refused_naming_the_pixels_they_fall_on(tmp_path, scene, pixels, said):
    cells = [(row, row, {"class": value}) for row in range(1, pixels + 1) for value in (1, 2)]
    with pytest.raises(InputError) as refused:
        _read(scene, _points(tmp_path, cells))
    assert str(refused.value) == (f"Every sample pixel of 'p' holds samples of different classes (the samples fall on "
                                  f"{said} of the hyperspectral grid, each with more than one class), so no sample is "
                                  "left. Place samples of different classes on different pixels.")


def test_the_pixels_left_out_by_class_count_the_masked_among_all_and_add_those_on_nodata():
    labels = LabelledPixels(np.arange(4), np.zeros(4, np.int64), np.array([1, 1, 2, 2]),
                            [ClassInfo(1, "Water", "#000001"), ClassInfo(2, "Crop", "#000002")],
                            nodata_by_class={"Water": 3, "Forest": 1})
    assert labels.left_out_by_class(np.array([True, False, False, False])) == {
        "Water": (4, 5), "Forest": (1, 1), "Crop": (0, 2)}


def test_class_names_alike_but_for_a_letter_that_only_casefold_folds_are_warned_of(tmp_path, scene):
    cells = [(1, 1, {"class": 1, "name": "Straße"}), (2, 2, {"class": 2, "name": "STRASSE"})]
    _labels, warnings, _lines = _read(scene, _points(tmp_path, cells, {"class": ogr.OFTInteger,
                                                                       "name": ogr.OFTString}), name_field="name")
    assert warnings == ["Classes of 'p' share a name ('Straße' or 'STRASSE': classes 1, 2): the map's legend will not "
                        "tell them apart; give each class a name of its own."]


def test_a_class_value_of_negative_zero_is_said_as_zero_and_one_class_by_its_first_spelling():
    """The audit's cosmetic points: '-0' was said of a real field's -0.0, and the one class of '3' and '03' was named
    by the order of a set, one spelling on one run and the other on the next."""
    assert class_values_problem([-0.0, 2.0], True, "class", "p") == (
        "The class field 'class' of 'p' holds the value 0; class values must be 1 or more, because 0 is reserved for "
        "unlabelled pixels and nodata. Recode the classes from 1.")
    assert class_values_problem(["3", "03"], False, "class", "p", "SAMPLES") == (
        "SAMPLES: the samples of 'p' hold only one class ('03'); at least two classes are needed. Add samples of other "
        "classes, or choose the field that holds the classes.")
