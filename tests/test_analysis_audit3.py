"""The accuracy and band redundancy jobs at the edges a third mutation audit of 2026-12-07 found no test pinning:
each test kills a bug planted by hand, every figure worked out by hand."""

import numpy as np
import pytest
from osgeo import ogr
from rasters import pixel_centre, point_wkt, write_raster, write_vector
from test_accuracy_job import _assess, _name_classes

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import analysis, jobs
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels
from mrs.mrs_qgis_plugin.raster.sources import RasterInput


def _points(tmp_path, names, row: int = 0) -> jobs.LabelSource:
    """A reference of points on the pixels of a row, one a column, of text classes `names`."""
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(*pixel_centre(row, col)), {"c": name})
                                                     for col, name in enumerate(names)], {"c": ogr.OFTString})
    return jobs.LabelSource("points", vector_path=points, class_field="c")


def test_a_text_class_that_could_be_several_of_the_map_s_is_said_so_only_not_also_as_not_found(tmp_path):
    """'FOREST' could be the map's 'Forest' or 'forest', 'Bog' is none: each is said once, in its own clause."""
    class_map = _name_classes(write_raster(tmp_path / "map.tif", np.array([[[1, 2, 1, 2]]], np.uint8)),
                              {1: "Forest", 2: "forest"}, attribute_table=False)
    with pytest.raises(InputError) as refused:
        analysis.accuracy_job(class_map, "map", _points(tmp_path, ["FOREST", "Bog"]))
    assert str(refused.value) == (
        "The reference classes of 'points' are names, and 'Bog' cannot be found in the map 'map' and 'FOREST' could "
        "be more than one class of the map 'map': its classes are 'Forest', 'forest'. Use the class names of the map, "
        "or give the reference classes as class values (a field of whole numbers, or a label raster).")


def test_one_class_lacking_and_one_unnamed_are_each_said_in_the_singular(tmp_path):
    """'Bog' alone lacks in the map, class 4 alone has no name: 'its pixels', 'Class 4 ... has no name'."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[2, 1, 1, 2, 1, 2]], np.uint8),
                             category_names=["", "A", "B"])
    reference = write_raster(tmp_path / "reference.tif", np.array([[1, 2, 3, 4, 1, 2]], np.uint8),
                             category_names=["", "B", "A", "Bog"])
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert report["warnings"] == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'B' (1 in the reference, 2 in the map); 'A' (2 in the reference, 1 in the map). If a name is wrong, "
        "correct it in the reference. The map has no class named 'Bog': its pixels count as errors. Class 4 of the "
        "reference has no name to match by: its pixels count as errors."]
    assert (report["overall_accuracy"], report["class_values"]) == (2 / 6, [1, 2, None, None])


def test_a_text_class_named_by_a_number_on_no_data_keeps_its_name_where_the_text_classes_kept_their_values():
    """A text class '7' wholly on no data is the reference's '7', not the map's class 7 'Water', though the text
    class 'Trees' (1) went to the map's 1."""
    map_classes = {value: ClassInfo(value, name, "#000000") for value, name in ((1, "Trees"), (7, "Water"))}
    rows = np.arange(3)
    texts = LabelledPixels(rows, rows, np.array([1, 1, 1]), [ClassInfo(1, "Trees", "#000000")], named_by_text=True)
    assert analysis._as_on_the_page({"Trees": (1, 3), "7": (2, 2)}, texts, {1: 1}, map_classes) == {
        "Trees": (1, 3), "7": (2, 2)}


def test_a_map_naming_its_nodata_value_unclassified_is_not_warned_of_as_naming_a_class(tmp_path):
    """A nodata value of 3 named 'Unclassified' says what no data is: no warning that it names a class."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[1, 2, 3, 2]], np.uint8), nodata=3,
                             category_names=["", "A", "B", "Unclassified"])
    reference = write_raster(tmp_path / "reference.tif", np.array([[1, 2, 0, 1]], np.uint8))
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["warnings"], report["overall_accuracy"]) == ([], 2 / 3)


def test_one_reference_point_outside_the_map_is_said_in_the_singular_to_be_left_out(tmp_path):
    """One point of four beyond the map's edge: '1 feature ... lies outside ...; the figures leave it out'."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[1, 2, 1, 2]], np.uint8))
    features = [(point_wkt(*pixel_centre(0, col)), {"c": value}) for col, value in ((0, 1), (1, 2), (2, 2), (9, 1))]
    points = write_vector(tmp_path / "points.gpkg", features, {"c": ogr.OFTInteger})
    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=points, class_field="c"))
    assert report["warnings"] == ["1 feature of the reference 'points' lies outside the map 'map'; the figures leave "
                                  "it out and describe the area the map covers only."]
    assert (report["outside_map"], report["pixels"], report["overall_accuracy"]) == (1, 3, 2 / 3)


def test_one_reference_feature_without_a_class_is_said_in_the_singular_to_be_left_out(tmp_path):
    """One point of four without a class: '1 of the 4 features ... is left out of the figures: 1 has no class', and
    'Fill it in', not 'them' (a bug the audit found)."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[1, 2, 1, 2]], np.uint8))
    features = [(point_wkt(*pixel_centre(0, col)), {"c": value}) for col, value in enumerate([1, 2, 1, None])]
    points = write_vector(tmp_path / "points.gpkg", features, {"c": ogr.OFTInteger})
    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=points, class_field="c"))
    assert report["warnings"] == [
        "1 of the 4 features of the reference 'points' is left out of the figures: 1 has no class. Fill it in (a "
        "class, a geometry over pixel centres) to have it assessed."]
    assert (report["reference_features_left_out"], report["pixels"], report["overall_accuracy"]) == (1, 3, 1.0)


def test_a_map_naming_the_reference_as_its_classifier_s_training_labels_is_warned_of(tmp_path):
    """A map without its training pixels whose classifier names the reference as its labels: the figures say how
    well it learned them."""
    reference = write_raster(tmp_path / "reference.tif", np.array([[1, 2, 1, 2]], np.uint8))
    class_map = write_raster(tmp_path / "map.tif", np.array([[1, 2, 1, 1]], np.uint8),
                             metadata={jobs.TRAINED_ON_TAG: str(tmp_path / "reference.tif")})
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert report["warnings"] == [
        "The reference 'reference' holds the samples the classifier of 'map' was trained on: these figures say how "
        "well it learned them, not how accurate the map is; assess the map on samples kept apart from training."]


@pytest.mark.parametrize("option, message", [
    ({"mask_ratio": 0.0}, "MASK_RATIO must lie strictly between 0 and 1; got 0.0."),
    ({"sample_size": 1}, "SAMPLE_SIZE must be at least 2 pixels; got 1."),
    ({"threshold": 1.5}, "THRESHOLD must lie in (0, 1]; got 1.5. A typical value is 0.95.")],
    ids=["mask_ratio of 0", "sample of 1 pixel", "threshold above 1"])
def test_redundancy_settings_just_past_their_bounds_are_refused_before_anything_is_written(tmp_path, option, message):
    """A mask ratio of 0, a sample of one pixel, a threshold above 1: refused, no file written."""
    hsi = write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).normal(size=(3, 6, 6)).astype(np.float32))
    settings = {"threshold": 0.95, "sample_size": 36, "seed": 0, **option}
    with pytest.raises(InputError) as refused:
        analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), []), out_csv=str(tmp_path / "r.csv"),
                                hooks=Hooks(), **settings)
    assert str(refused.value) == message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hsi.tif"]


def test_redundancy_refuses_to_write_over_a_csv_it_did_not_write_and_leaves_it_as_it_was(tmp_path):
    """A table of the user's at OUTPUT_CSV is refused before the work, not replaced by the similarities."""
    hsi = write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).normal(size=(3, 6, 6)).astype(np.float32))
    table = tmp_path / "r.csv"
    table.write_text("plot,yield\n1,3.5\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), []), threshold=0.95, sample_size=36, seed=0,
                                out_csv=str(table), hooks=Hooks())
    assert str(refused.value) == (f"OUTPUT_CSV: {table} exists and is not a report this plugin wrote; choose a new "
                                  "file name, or delete that file first.")
    assert table.read_text(encoding="utf-8") == "plot,yield\n1,3.5\n"


def test_redundancy_refuses_a_heat_map_over_its_own_png_scene_as_an_input_not_as_a_foreign_file(tmp_path):
    """A scene read from a PNG given as OUTPUT_PNG too: said to be the input, before the check of foreign files."""
    from osgeo import gdal

    tif = write_raster(tmp_path / "hsi.tif", np.arange(3 * 36, dtype=np.uint8).reshape(3, 6, 6))
    gdal.GetDriverByName("PNG").CreateCopy(str(tmp_path / "hsi.png"), gdal.Open(tif))
    scene = str(tmp_path / "hsi.png")
    with pytest.raises(InputError) as refused:
        analysis.redundancy_job(jobs.Layers(RasterInput(scene, "hsi"), []), threshold=0.95, sample_size=36, seed=0,
                                out_png=scene, hooks=Hooks())
    assert str(refused.value) == (f"OUTPUT_PNG: {scene} is the input INPUT_HSI ({scene}); writing it would destroy "
                                  "that input. Choose another output file name.")


def test_the_redundancy_page_gives_a_scene_named_relatively_by_its_absolute_path(tmp_path, monkeypatch):
    """A scene given as 'hsi.tif' from its folder is shown on the page by its whole path, which says where it is."""
    monkeypatch.chdir(tmp_path)
    write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).normal(size=(3, 6, 6)).astype(np.float32))
    analysis.redundancy_job(jobs.Layers(RasterInput("hsi.tif", "hsi"), []), threshold=0.95, sample_size=36, seed=0,
                            out_html="r.html", hooks=Hooks())
    assert f"{tmp_path / 'hsi.tif'}<br>" in (tmp_path / "r.html").read_text(encoding="utf-8")
