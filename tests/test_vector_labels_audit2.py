"""Vector label layers (raster/vector_labels.py): behaviour no test held, each test failing on a small, plausible
bug the suite let pass (a helper's second-round mutation audit of the module, each test checked to fail on its
mutation and pass without it)."""
import pytest
from osgeo import ogr
from rasters import ORIGIN_X, ORIGIN_Y, box_wkt, pixel_centre, point_wkt, write_vector

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.vector_labels import mask_rasterizer, read_layer
from test_labels_edges import scene  # noqa: F401 (a 12 x 16 scene whose pixel (11, 15) is nodata)
from test_raster_samples import _windows_shapefile
from test_vector_labels_audit import _points, _read


def test_a_layer_stored_with_a_combining_accent_is_found_by_its_composed_name(tmp_path):
    """A layer whose file writes 'Forêt' with a combining circumflex is the layer 'Forêt' a source names."""
    path = write_vector(tmp_path / "f.gpkg", [(point_wkt(*pixel_centre(1, 1)), {"class": 1})],
                        {"class": ogr.OFTInteger}, layer="Fore\u0302t")
    assert read_layer(f"{path}|layername=For\u00eat") == (path, "Fore\u0302t", "")


# Placeholder classes ('None', 'NA') among names: a class like the others, held back until the field is read


TEXT_FIELDS = {"class": ogr.OFTString, "name": ogr.OFTString, "colour": ogr.OFTString}


def test_a_placeholder_class_among_names_keeps_its_line_and_its_parts_beyond_the_grid_counted(tmp_path, scene):
    """A 'None' feature (a class among names) that is a line reaching beyond the grid is said as a line and as
    reaching beyond it, as a feature of any other class is."""
    x, y = pixel_centre(1, 1)
    features = [(point_wkt(*pixel_centre(3, 3)), {"class": "Water"}),
                (f"LINESTRING ({x} {y}, {ORIGIN_X + 30} {y})", {"class": "None"})]
    labels, _warnings, lines = _read(scene, write_vector(tmp_path / "l.gpkg", features, TEXT_FIELDS))
    assert (labels.partly_outside, labels.counts()) == (1, {1: 15, 2: 1})
    assert [line for line in lines if line.startswith("1 of the 2 features")] == [
        "1 of the 2 features of 'p' is a line: every pixel it crosses is a sample.",
        "1 of the 2 features of 'p' reaches beyond the hyperspectral layer 'hsi'; its parts outside it are left out."]


def test_a_placeholder_class_among_names_keeps_the_name_and_colour_its_features_give(tmp_path, scene):
    """The name and colour fields of a 'None' class (a class among names) name and colour it."""
    cells = [(1, 1, {"class": "Water", "name": "Wet", "colour": "#0000ff"}),
             (2, 2, {"class": "None", "name": "Nothing", "colour": "#AABBCC"})]
    labels, _warnings, _lines = _read(scene, _points(tmp_path, cells, TEXT_FIELDS), name_field="name",
                                      color_field="colour")
    assert [(info.value, info.name, info.color) for info in labels.classes] == [
        (1, "Nothing", "#aabbcc"), (2, "Wet", "#0000ff")]


def test_a_reference_s_whole_numbers_beside_names_are_not_said_to_be_renumbered(tmp_path, scene):
    """A reference's text classes are matched to the map's by name, so its '2' beside 'Water' is not warned of as
    renumbered (training samples' are)."""
    cells = [(1, 1, {"class": "2"}), (2, 2, {"class": "Water"})]
    path = _points(tmp_path, cells, {"class": ogr.OFTString})
    (labels, warnings, _lines), (_labels, trained, _trained_lines) = (
        _read(scene, path, reference=True), _read(scene, path))
    assert ([(info.value, info.name) for info in labels.classes], warnings) == ([(1, "2"), (2, "Water")], [])
    assert trained == ["The class field 'class' of 'p' holds whole numbers and other texts ('Water'), so every class "
                       "is taken as a name and numbered in sorted order ('2' is 1 in the map); write every class as a "
                       "whole number to keep its value."]


def test_samples_outside_the_grid_or_without_geometry_alone_are_said_to_fall_outside_it(tmp_path, scene):
    """One sample outside the grid and one without a geometry: none falls inside (not 'lie between pixel centres')."""
    features = [(point_wkt(*pixel_centre(1, 40)), {"class": 1}), (None, {"class": 2})]
    with pytest.raises(InputError) as refused:
        _read(scene, write_vector(tmp_path / "o.gpkg", features, {"class": ogr.OFTInteger}))
    assert str(refused.value) == ("None of the samples of 'p' falls inside the hyperspectral layer 'hsi'. Check that "
                                  "the samples cover the same area as the rasters and that the CRS of each layer is "
                                  "right.")


def test_classes_that_select_no_pixel_are_listed_in_the_order_of_their_values(tmp_path, scene):
    """Classes 10 and 2 outside the grid are listed '2', '10' (by value), whatever the order of a set of them."""
    cells = [(1, 1, {"class": 1}), (1, 40, {"class": 10}), (2, 40, {"class": 2}), (3, 40, {"class": 18})]
    _labels, warnings, _lines = _read(scene, _points(tmp_path, cells))
    assert warnings == ["3 classes of 'p' ('2', '10', '18') select no pixel of the hyperspectral layer 'hsi': their "
                        "features lie outside it, between pixel centres or nowhere (without a geometry), so they are "
                        "left out."]


def test_a_cpg_naming_a_windows_code_page_by_number_is_a_known_encoding(tmp_path, scene):
    """A .cpg of '65001' (Windows' number for UTF-8) names a known encoding: Windows-1252 texts are said not to be
    valid in it, not that it names an encoding not known."""
    path = _windows_shapefile(tmp_path, ["Forêt", "Prés"], True)
    (tmp_path / "legacy.cpg").write_text("65001")
    _labels, warnings, _lines = _read(scene, path, "legacy")
    assert warnings == [
        "Texts of 'legacy' are not valid in the encoding its file gives (UTF-8 where it names none): they are read "
        "as Windows-1252 ('Forêt', 'Prés'). If that is wrong, save the layer in UTF-8 (as a GeoPackage, say), or "
        "give a shapefile a .cpg file naming its encoding."]


def test_a_class_field_of_a_layer_without_fields_is_said_to_be_none_of_its_fields(tmp_path, scene):
    """A layer of no fields at all says its fields are 'none'."""
    path = write_vector(tmp_path / "bare.gpkg", [(point_wkt(*pixel_centre(1, 1)), {})], {})
    with pytest.raises(InputError) as refused:
        _read(scene, path)
    assert str(refused.value) == ("The class field 'class' is not a field of 'p' (its fields: none). Choose one of its "
                                  "fields as the class field.")


def test_a_mask_whose_polygons_lie_beside_the_grid_is_refused_before_any_pixel_is_read(tmp_path, scene):
    """A mask of a polygon beside the grid (touching its right edge from outside) covers no pixel: refused at once."""
    beside = box_wkt(ORIGIN_X + 16, ORIGIN_Y - 5, ORIGIN_X + 20, ORIGIN_Y - 1)
    path = write_vector(tmp_path / "m.gpkg", [(beside, {"class": 1})], {"class": ogr.OFTInteger})
    with pytest.raises(InputError) as refused:
        mask_rasterizer(path, "m", scene.grid, "hsi", Hooks())
    assert str(refused.value) == ("MASK: the polygons of 'm' cover no pixel of the hyperspectral layer 'hsi'. Choose "
                                  "polygons over the scene (and check their CRS).")


@pytest.mark.parametrize("texts, name", [(("3", "03", "1"), "3"), (("03", "3", "1"), "03")])
def test_a_class_written_two_ways_is_named_as_its_first_feature_writes_it(tmp_path, scene, texts, name):
    """Class 3 written '3' and '03' was named by the order of a set of texts, which Python's hash seed sets ('03' on
    one run, '3' on the next, in the classes' names, the map's legend and the model's classes: a bug the audit
    found)."""
    from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector

    path = write_vector(tmp_path / "p.gpkg", [(point_wkt(*pixel_centre(cell, cell)), {"class": text})
                                              for cell, text in enumerate(texts, start=1)], {"class": ogr.OFTString})
    labels = labels_from_vector(scene, path, None, "class", None, "p", Hooks(warn=lambda _message: None))
    assert {info.value: info.name for info in labels.classes} == {1: "1", 3: name}


@pytest.mark.parametrize("query, said", [
    ("SELECT * FROM samples WHERE class > 1 ORDER BY fid",
     ": give its condition alone (subset=class > 1), or save the selected features into a file of their own."),
    ("select * from samples where class > 1 order by fid limit 5",
     ", and whose LIMIT no condition on its fields can give: save the selected features into a file of their own."),
    ("SELECT * FROM samples WHERE class > 1 GROUP  BY class", ", and whose GROUP BY no condition on its fields can "
                                                              "give: save the selected features into a file of their "
                                                              "own."),
    ("SELECT * FROM samples", ": give its condition alone (subset=<a condition on its fields>), or save the selected "
                              "features into a file of their own.")])
def test_a_whole_sql_query_s_condition_is_given_without_what_follows_it(tmp_path, query, said):
    """'SELECT ... WHERE class > 1 ORDER BY fid' was refused with the advice to give 'subset=class > 1 ORDER BY fid',
    which OGR cannot apply either; a LIMIT's or a GROUP BY's selection no condition gives (a bug the audit found)."""
    from mrs.mrs_qgis_plugin.raster.vector_labels import open_vector_layer

    path = write_vector(tmp_path / "q.gpkg", [(point_wkt(*pixel_centre(1, 1)), {"class": 2})],
                        {"class": ogr.OFTInteger})
    with pytest.raises(InputError) as refused:
        open_vector_layer(f"{path}|subset={query}", None, "p", Hooks())
    assert str(refused.value) == (f"The vector source of 'p' has a subset that is a whole SQL query ({query}), which "
                                  f"QGIS runs but this reading does not{said}")
