"""The run reports and their figures, the map's styles, class names and colours, suggested training points and
output destinations, each pinned where a mutation audit of 2026-12-06 planted a bug no test saw."""

import colorsys
import csv
import os

import numpy as np
import pytest
from osgeo import ogr
from processing_helpers import RecordingFeedback
from rasters import GEOTRANSFORM, pixel_centre, write_raster
from test_accuracy_job import _small_report
from test_runs_and_lists_edges import _suggestions

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin import reports, training_pixels
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo, printable, spelt_as
from mrs.mrs_qgis_plugin.raster.colours import NAMED_COLOURS, colour_from_name, rgb, shade
from mrs.mrs_qgis_plugin.raster.grid import Grid
from mrs.mrs_qgis_plugin.raster.suggestions import (INT32_MAX, ClassField, check_points_output,
                                                    guessed_field_of_source, trained_on_a_label_raster)
from mrs.mrs_qgis_plugin.styling import name_after_file, style_when_loaded


def _matplotlib_png(path, inches, dpi) -> str:
    """A figure as Matplotlib saves it, carrying its own PNG text only, as earlier heat maps did."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=inches, dpi=dpi)
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png")
    return str(path)


def _redundancy_page(path) -> str:
    reports.write_redundancy_html(str(path), "Band similarity", b"\x89PNG", [("Bands", "3")], [("1-2", "a, b")],
                                  ("hsi.tif", []), "2026-12-06T08:40:00+00:00")
    return str(path)


@pytest.mark.parametrize("name, make, kind, said", [
    # a chart of another size that Matplotlib made is no heat map of an earlier version
    ("chart.png", lambda path: _matplotlib_png(path, (4, 3), 100), reports.REDUNDANCY,
     "is not a report this plugin wrote"),
    ("page.html", _redundancy_page, reports.ACCURACY, "is a report of mrs:redundancy"),
    # another program's JSON naming a class map, without a confusion matrix
    ("run.json", lambda path: path.write_text('{"class_map": "map.tif", "epochs": 3}') and str(path),
     reports.ACCURACY, "is not a report this plugin wrote"),
])
def test_a_file_at_a_report_path_is_told_apart_by_what_it_is(tmp_path, name, make, kind, said):
    """A mutation audit of 2026-12-06: any Matplotlib figure was taken for an earlier heat map, a band redundancy
    page for an accuracy one, any JSON object with a 'class_map' for an accuracy report."""
    path = make(tmp_path / name)
    with pytest.raises(InputError) as raised:
        reports.check_replaceable(path, "OUTPUT", kind)
    assert str(raised.value) == f"OUTPUT: {path} exists and {said}; choose a new file name, or delete that file first."


@pytest.mark.parametrize("name, make, kind", [
    ("similarity.png", lambda path: _matplotlib_png(path, (8, 7), 110), reports.REDUNDANCY),
    ("page.html", _redundancy_page, reports.REDUNDANCY),
])
def test_a_report_of_the_kind_asked_for_is_replaceable(tmp_path, name, make, kind):
    reports.check_replaceable(make(tmp_path / name), "OUTPUT", kind)


def test_every_cell_of_a_csv_that_a_spreadsheet_could_take_for_a_formula_is_made_text(tmp_path):
    """A mutation audit of 2026-12-06: a part after a tab, or a cell starting with a tab or a carriage return,
    was left as a spreadsheet's formula unseen."""
    labels = ["=1+1", "a;=b", "a\t@c", "\tx", "\r-1", "plain"]
    reports.write_similarity_csv(str(tmp_path / "s.csv"), np.eye(len(labels)), labels)
    with open(tmp_path / "s.csv", newline="", encoding=reports.CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    expected = ["'=1+1", "a;'=b", "a\t'@c", "'\tx", "'\r-1", "plain"]
    assert rows[0] == ["band", *expected]
    assert [row[0] for row in rows[1:]] == expected


def test_the_accuracy_csv_gives_every_summary_row_and_a_confusion_matrix_of_cells_made_text(tmp_path):
    """A mutation audit of 2026-12-06: the CSV's 'outside_map_unit' row could be dropped unseen, and the confusion
    matrix's header could give a class name as a spreadsheet's formula."""
    report = _small_report()
    report["classes"][0]["name"] = "=SUM(A1)"
    reports.write_csv(str(tmp_path / "a.csv"), {**report, "warnings": ["@once"]})
    with open(tmp_path / "a.csv", newline="", encoding=reports.CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    assert rows[3:] == [
        [], ["pixels", "6"], ["overall_accuracy", str(5 / 6)], ["average_accuracy", "0.875"],
        ["kappa", str(report["kappa"])], ["unmapped_reference_pixels", "0"], ["outside_map", "0"],
        ["outside_map_unit", "pixels"], ["reference_features_left_out", "0"],
        ["reference_features_partly_outside", "0"], ["warning", "'@once"], [],
        ["reference \\ map", "'=SUM(A1)", "b"], ["'=SUM(A1)", "3", "1"], ["b", "0", "2"]]


def test_the_redundancy_page_of_a_hyperspectral_layer_alone_says_so_and_numbers_its_groups_from_1(tmp_path):
    """A mutation audit of 2026-12-06: the page's 'SAR/LiDAR layers: none' could be left blank, and its groups
    numbered from 0, unseen."""
    page = open(_redundancy_page(tmp_path / "page.html"), encoding="utf-8").read()
    assert "<p>Hyperspectral layer: hsi.tif<br>SAR/LiDAR layers: none<br>Made: 2026-12-06 08:40 UTC by the MRS" in page
    assert "<tr><td class='name'>1</td><td class='name'>1-2</td><td class='name'>a, b</td></tr>" in page


def _lightness(colour: str) -> float:
    return colorsys.rgb_to_hls(*(c / 255 for c in rgb(colour)))[1]


@pytest.mark.parametrize("colour", [named for named, _words in NAMED_COLOURS])
def test_odd_shades_are_lighter_and_even_ones_darker_more_with_each_pair(colour):
    """A mutation audit of 2026-12-06: shades lighter and darker the other way round went unseen."""
    lightness = _lightness(colour)
    expected = [min(max(lightness + change, 0.12), 0.88) for change in (0.14, -0.14, 0.28, -0.28)]
    assert [_lightness(shade(colour, step)) for step in range(1, 5)] == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize("name, like", [("Obstbäumen", "Forest"), ("Feuchtwiesen", "Grassland"),
                                        ("Kuhweiden", "Grassland"), ("Nebenstraßen", "Road")])
def test_a_word_ending_in_a_colour_s_word_with_a_plural_ending_says_that_colour(name, like):
    """A mutation audit of 2026-12-06: the ending 'en' ('Obstbäumen', of 'baum') could be dropped unseen, and the
    plural 'n' of a compound ('Feuchtwiesen', 'Nebenstraßen') had no named colour (wet meadows were drawn navy)."""
    assert colour_from_name(name) == colour_from_name(like) is not None


@pytest.mark.parametrize("written, plain", [
    ("Forest\u2028Trees", "Forest Trees"), ("Water\u2029", "Water"),  # a line and a paragraph separator
    ("Bâti\ufffe\uffffx", "Bâti x"),  # characters XML cannot hold
    ("Bare \t soil\n", "Bare soil"),  # runs of white space as one space
    ("Fore\u0302t", "For\u00eat"),  # a combining accent: the name written with the accented letter
])
def test_a_class_name_is_plain_text_of_one_line_that_every_file_format_holds(written, plain):
    """A mutation audit of 2026-12-06: a class name could keep a line separator or a character XML cannot hold."""
    assert ClassInfo(1, written, "#000000").name == plain


def test_a_path_shown_on_a_page_writes_its_line_and_paragraph_separators_as_escapes():
    assert printable("/data/a\u2028b\u2029c.tif") == "/data/a\\u2028b\\u2029c.tif"


@pytest.mark.parametrize("names, wanted, found", [
    (["CLASS_ID", "class_id"], "class_id", [1]),  # the very spelling wins over one alike but for letter case
    (["CLASS_ID", "name"], "class_id", [0]),
    (["CLASS_ID", "class_id"], "Class_Id", [0, 1]),  # two alike: neither is meant
    (["Crop", "İnşaat"], "inşaat", [1]),  # Turkish capital dotted İ (a helper's red team of 2026-12-07)
    (["Crop", "inşaat"], "İNŞAAT", [1]),
])
def test_a_name_is_found_by_its_very_spelling_before_one_alike_but_for_letter_case(names, wanted, found):
    assert spelt_as(names, wanted) == found


@pytest.mark.parametrize("largest, kind", [(INT32_MAX, ogr.OFTInteger), (INT32_MAX + 1, ogr.OFTInteger64)])
def test_the_class_field_of_suggestions_is_32_bit_up_to_the_largest_32_bit_class_value(largest, kind):
    """A mutation audit of 2026-12-06: a class value of 2^31 - 1 could give a 64-bit field unseen, which QGIS's
    Merge Vector Layers turns into text beside the 32-bit class field of samples."""
    assert ClassField("class_id", text=False).definition(largest).GetType() == kind


@pytest.mark.parametrize("name", ["next.gpkg", "NEXT.GPKG"])
def test_the_guesses_of_suggestions_in_a_geopackage_named_in_capitals_are_refused_as_the_class_field(tmp_path, name):
    """A mutation audit of 2026-12-06: a GeoPackage of suggestions named '.GPKG' could lose its record unseen, and
    the classifier's guesses train as labels."""
    output = _suggestions(tmp_path / name, 2, ClassField("class_id", False))
    assert guessed_field_of_source(f"{output}|layername=suggestions", "predicted", "next") == (
        "The class field 'predicted' of 'next' holds what the classifier that suggested these points guessed, not "
        "labels: fill in the field 'class_id' with the classes seen on the ground, and choose it as the class field.")


def test_a_filled_in_suggestion_whose_geometry_is_no_point_is_placed_at_no_pixel_the_classifier_trained_on(tmp_path):
    """A mutation audit of 2026-12-06: a line given to a filled-in suggestion could be placed at its first vertex,
    a pixel the classifier trained on, and the analyst told that the training used it."""
    output = _suggestions(tmp_path / "next.gpkg", 2, ClassField("class_id", False))
    x, y = pixel_centre(0, 0)  # the first suggestion's pixel
    dataset = ogr.Open(output, 1)
    layer = dataset.GetLayer(0)
    feature = layer.GetNextFeature()
    feature.SetField("class_id", 1)
    feature.SetGeometry(ogr.CreateGeometryFromWkt(f"LINESTRING ({x} {y}, {x + 1} {y})"))
    layer.SetFeature(feature)
    dataset = layer = feature = None
    trained = training_pixels.record(Grid(4, 4, GEOTRANSFORM, ""), np.array([0]), np.array([0]), seed=0)
    with pytest.raises(InputError) as refused:
        check_points_output(output, "OUTPUT", {"trained_pixels": trained})
    assert str(refused.value) == (f"OUTPUT: {output} holds earlier suggestions, 1 of them with their class filled in, "
                                  "which writing new suggestions would delete; train on them first, or choose a new "
                                  "file name.")


def test_a_style_that_cannot_be_applied_when_processing_loads_the_layer_is_said(qgis_app, tmp_path):
    """A mutation audit of 2026-12-06: a map loaded without its style (its .qml gone) could be left unsaid."""
    from qgis.core import QgsProcessingContext, QgsProject, QgsRasterLayer

    path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))  # no map.qml beside it
    context = QgsProcessingContext()
    context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails("Land-cover map", QgsProject.instance()))
    assert style_when_loaded(context, path)
    feedback = RecordingFeedback()
    layer = QgsRasterLayer(path, "Land-cover map")
    context.layerToLoadOnCompletionDetails(path).postProcessor().postProcessLayer(layer, context, feedback)
    assert len(feedback.errors) == 1
    assert feedback.errors[0].startswith(f"The style {tmp_path / 'map.qml'} could not be applied to 'Land-cover map': ")


@pytest.mark.parametrize("name", ["labels.tif", "labels|v2.tif"])
def test_a_classifier_trained_on_a_label_raster_is_told_so_whatever_the_raster_s_file_name(tmp_path, name):
    """A mutation audit of 2026-12-06: a label raster whose file name held '|' was taken for no label raster, and
    suggest advised adding its points to training samples rather than burning them into a copy of the raster."""
    path = write_raster(tmp_path / name, np.ones((4, 4), np.uint8))
    assert trained_on_a_label_raster({"trained_on": path})
    assert not trained_on_a_label_raster({"trained_on": path, "class_field": "class_id"})
    assert not trained_on_a_label_raster({"trained_on": f"{tmp_path / 'points.gpkg'}|layername=points"})


def test_an_output_loaded_from_a_folder_named_like_the_temporary_one_is_named_after_its_file(qgis_app, tmp_path):
    """A mutation audit of 2026-12-06: a map in '<Processing's temporary folder>_kept' was taken for a temporary
    output (named for its parameter) and loaded as 'Land-cover map', its file's name left out; and a desktop check
    of the ninth session: the workflow's temporary map kept its name in the model, 'LANDCOVER'."""
    from qgis.core import QgsProcessingContext, QgsProcessingUtils, QgsProject

    temporary = os.path.realpath(QgsProcessingUtils.tempFolder())
    names = {}
    for path in (os.path.join(temporary, "OUTPUT.tif"), f"{temporary}_kept{os.sep}map.tif", str(tmp_path / "map.tif")):
        context = QgsProcessingContext()
        context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails("LANDCOVER",
                                                                                   QgsProject.instance(), ""))
        name_after_file(context, path, "Land-cover map")
        names[path] = context.layerToLoadOnCompletionDetails(path).name
    assert list(names.values()) == ["Land-cover map", "Land-cover map (map)", "Land-cover map (map)"]


def test_an_output_in_the_working_folder_is_named_after_its_file_where_qgis_has_no_temporary_folder(
        qgis_app, tmp_path, monkeypatch):
    """The review of the tenth session (2026-12-07): where QGIS could make no temporary folder, its name is '',
    whose real path is the working folder, and a map there was taken for a temporary output, named for nothing."""
    from qgis.core import QgsProcessingContext, QgsProcessingUtils, QgsProject

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(QgsProcessingUtils, "tempFolder", staticmethod(lambda: ""))
    path = str(tmp_path / "map.tif")
    context = QgsProcessingContext()
    context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails("LANDCOVER", QgsProject.instance(), ""))
    name_after_file(context, path, "Land-cover map")
    assert context.layerToLoadOnCompletionDetails(path).name == "Land-cover map (map)"


@pytest.mark.parametrize("names, labels", [
    (["dsm", "dsm", "vv"], ["dsm (band 1)", "dsm (band 2)", "vv"]),
    (["dsm (band 2)", "dsm", "dsm"], ["dsm (band 2) (band 1)", "dsm (band 2) (band 2)", "dsm (band 3)"]),
])
def test_band_labels_name_one_band_each_even_where_a_band_s_name_is_another_s_numbered_label(names, labels):
    """A mutation audit of 2026-12-06: a band named 'dsm (band 2)' beside two named 'dsm' gave two headers
    'dsm (band 2)' in the similarity CSV."""
    assert reports.band_labels(names, None, 0) == labels
