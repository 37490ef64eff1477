"""The accuracy and band redundancy jobs and the device list at the edges a mutation audit of 2026-12-06 (the
second) found no test pinning: each test kills a bug planted by hand, every figure worked out by hand."""

import json

import numpy as np
import pytest
from osgeo import gdal, ogr
from rasters import pixel_centre, point_wkt, write_raster, write_vector
from test_accuracy_job import _assess, _name_classes

from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import analysis, jobs, training_pixels
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene


def _points(tmp_path, names, row: int = 0) -> jobs.LabelSource:
    """A reference of points on the pixels of a row, one a column, of text classes `names`."""
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(*pixel_centre(row, col)), {"c": name})
                                                     for col, name in enumerate(names)], {"c": ogr.OFTString})
    return jobs.LabelSource("points", vector_path=points, class_field="c")


def test_an_unnamed_reference_class_goes_to_the_map_s_class_of_its_value_not_to_one_named_by_that_number(tmp_path):
    """The reference's unnamed 3 is the map's 3 ('Grass'), not the map's 4, which the map names '3'."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[[1, 3, 4, 1]]], np.uint8),
                             category_names=["", "Water", "", "Grass", "3"])
    reference = write_raster(tmp_path / "reference.tif", np.array([[[1, 3, 3, 1]]], np.uint8),
                             category_names=["", "Water"])
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["overall_accuracy"], report["warnings"]) == (0.75, [])
    assert report["confusion_matrix"] == [[2, 0, 0], [0, 1, 1], [0, 0, 0]]


@pytest.mark.parametrize("map_names, logged", [({1: "Forest", 2: "Water"}, False), ({1: "Water", 2: "Forest"}, True)],
                         ids=["same order", "other order"])
def test_text_classes_matched_by_name_are_logged_only_where_their_order_differs_and_never_warned_of(
        tmp_path, map_names, logged):
    """Text classes are numbered by their order, so the values of the map they differ from say nothing."""
    mapped = np.array([[[1, 2, 1, 2]]], np.uint8) if not logged else np.array([[[2, 1, 2, 1]]], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), map_names, attribute_table=False)
    logs: list = []
    report = analysis.accuracy_job(class_map, "map", _points(tmp_path, ["Forest", "Water"] * 2),
                                   hooks=Hooks(log=logs.append))
    assert (report["overall_accuracy"], report["warnings"]) == (1.0, [])
    assert ("The reference classes were matched to the map's classes by their names." in logs) is logged


def test_reference_names_the_map_lacks_beside_its_name_for_0_are_told_that_0_is_no_data(tmp_path):
    """A map naming its 0 'Water' and a reference of 'Water' and 'Bog': the refusal says why 'Water' is not found."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[[1, 2, 1, 2]]], np.uint8),
                             category_names=["Water", "Forest", "Crop"])
    with pytest.raises(InputError) as refused:
        analysis.accuracy_job(class_map, "map", _points(tmp_path, ["Water", "Bog"]))
    assert str(refused.value) == (
        "The reference classes of 'points' are names, and 'Bog', 'Water' cannot be found in the map 'map': its classes "
        "are 'Forest', 'Crop' (it names its value 0 'Water', but 0 means no data in a class map: recode the map's "
        "classes from 1). Use the class names of the map, or give the reference classes as class values (a field of "
        "whole numbers, or a label raster).")



def test_a_reference_class_that_could_be_several_of_the_map_s_is_not_also_said_to_be_lacking(tmp_path):
    """'FOREST' could be the map's 'Forest' or 'forest': said once so, not also as a class the map has no class for;
    the warning the report holds is given as one too."""
    class_map = _name_classes(write_raster(tmp_path / "map.tif", np.array([[[1, 2, 3, 3]] * 4], np.uint8)),
                              {1: "Forest", 2: "forest", 3: "Water"}, attribute_table=False)
    reference = _name_classes(write_raster(tmp_path / "reference.tif", np.array([[[1, 1, 2, 0]] * 4], np.uint8)),
                              {1: "FOREST", 2: "Water"}, attribute_table=False)
    warned: list = []
    report = analysis.accuracy_job(class_map, "map", jobs.LabelSource("reference", raster_path=reference),
                                   hooks=Hooks(warn=warned.append))
    assert report["warnings"] == warned == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'Water' (2 in the reference, 3 in the map). If a name is wrong, correct it in the reference. The "
        "reference's class 'FOREST' could be any of the map's classes 'Forest' (1) and 'forest' (2): its pixels count "
        "as errors."]
    assert report["confusion_matrix"] == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 4, 0], [4, 4, 0, 0]]

@pytest.mark.parametrize("mapped, value", [(np.array([[[1, 2, -1, -2]]], np.int16), "-1"),
                                           (np.array([[[1, 2.5, 1.5, 2]]], np.float32), "2.5")],
                         ids=["two negative codes", "fractions"])
def test_a_map_of_values_that_are_no_class_values_is_refused_naming_the_first(tmp_path, mapped, value):
    """Two negative codes are no one nodata code to declare: refused as fractions are, not scored as classes -2, -1."""
    class_map = write_raster(tmp_path / "map.tif", mapped)
    reference = write_raster(tmp_path / "reference.tif", np.array([[[1, 2, 1, 2]]], np.uint8))
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == (
        f"INPUT: 'map' holds values that are not class values (such as {value}): a land-cover map holds whole numbers "
        "from 1 (0 = no data). Choose the map made by 'Classify', not a reflectance or confidence raster.")
    assert not (tmp_path / "a.json").exists()



def test_a_map_given_as_its_own_reference_is_refused_not_scored_100_percent(tmp_path):
    class_map = write_raster(tmp_path / "map.tif", np.array([[[1, 2, 1, 2]]], np.uint8))
    with pytest.raises(InputError) as refused:
        analysis.accuracy_job(class_map, "map", jobs.LabelSource("map", raster_path=class_map),
                              out_html=str(tmp_path / "a.html"))
    assert str(refused.value) == (f"REFERENCE_LABELS: {class_map} is also the input INPUT; each input must be a "
                                  "different layer. Choose the right layer for REFERENCE_LABELS.")
    assert not (tmp_path / "a.html").exists()


def test_a_map_of_0_without_a_nodata_value_at_every_reference_pixel_is_refused_not_given_figures_of_none(tmp_path):
    """0 is no data in a class map, declared or not: a map of 0 at every reference pixel has no figure (it gave nan)."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[[0, 0, 0, 1]]], np.uint8))
    reference = write_raster(tmp_path / "reference.tif", np.array([[[1, 2, 1, 0]]], np.uint8))
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == ("INPUT: 'map' gives no class (only 0, no data) at the pixels of the reference "
                                  "'reference'. Choose the map of the area the reference covers.")


@pytest.mark.parametrize("count, said", [(10, "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"),
                                         (11, "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 1 more")])
def test_classes_in_a_message_are_the_first_ten_then_how_many_more(count, said):
    assert analysis._values(np.arange(count, 0, -1), {}) == said


def test_a_map_class_named_by_a_padded_number_keeps_its_spelling_on_the_page_where_the_reference_lacks_it(tmp_path):
    """The map's 1 is labelled '01' (no name of its own), the reference has no class 1: the page shows '01'."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[[1, 2, 2, 2]]], np.uint8),
                             category_names=["", "01", "Water"])
    reference = write_raster(tmp_path / "reference.tif", np.array([[[2, 2, 2, 2]]], np.uint8))
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert ([item["name"] for item in report["classes"]], report["overall_accuracy"]) == (["01", "Water"], 0.75)


def test_a_map_numbered_from_names_against_a_reference_naming_some_of_its_classes_is_not_said_to_be_unnamed(tmp_path):
    """The reference names its class 1 'Bare soil' as the map does: it has names, so the warning of a reference of
    values only is not given."""
    mapped = np.array([[[1, 2, 2, 1]]], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Bare soil", 2: "Water"},
                              attribute_table=False)
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.SetMetadataItem(jobs.NUMBERED_FROM_NAMES_TAG, "yes")
    dataset = None
    reference = write_raster(tmp_path / "reference.tif", mapped, category_names=["", "Bare soil"])
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["overall_accuracy"], report["warnings"]) == (1.0, [])


def test_a_fractional_nodata_value_is_not_said_to_be_the_class_of_its_whole_part(tmp_path):
    """A nodata value of 1.5 names no class: not the map's 1, 'Forest'."""
    mapped = np.array([[[1, 2, 1, 2]]], np.float32)
    class_map = write_raster(tmp_path / "map.tif", mapped, nodata=1.5, category_names=["", "Forest", "Water"])
    reference = write_raster(tmp_path / "reference.tif", mapped.astype(np.uint8))
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["overall_accuracy"], report["warnings"]) == (1.0, [])


def test_a_map_and_a_reference_of_class_values_sharing_none_are_said_in_values_not_in_the_map_s_names(tmp_path):
    """Matched by value, the map's named 11 and 12 are said as the codes the advice to recode speaks of."""
    class_map = _name_classes(write_raster(tmp_path / "map.tif", np.array([[[11, 12, 11, 12]]], np.uint8)),
                              {11: "Water", 12: "Forest"}, attribute_table=False)
    reference = write_raster(tmp_path / "reference.tif", np.array([[[1, 2, 1, 2]]], np.uint8))
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert report["overall_accuracy"] == 0.0
    assert report["warnings"][-1] == (
        "None of the classes the map 'map' gives the reference pixels (11, 12) is a class of the reference "
        "'reference' (1, 2): the figures compare different class codes. If they stand for the same classes, recode "
        "one layer to the other's values, or give both the same class names.")


def test_a_reference_a_twentieth_of_which_was_trained_on_is_warned_of(tmp_path):
    """WARN_SHARE is 5 %: 5 of 100 reference pixels trained on are warned of (at 5 % itself, not above it only)."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((10, 10), np.uint8), nodata=0)
    rows, cols = np.divmod(np.arange(100), 10)
    with Scene.single(RasterInput(class_map, "map")) as grid:
        record = training_pixels.record(grid.grid, rows[:5], cols[:5], 0)
        dataset = gdal.Open(class_map, gdal.GA_Update)
        dataset.SetMetadataItem(training_pixels.TAG, json.dumps(record))
        dataset = None
        labelled = LabelledPixels(rows, cols, np.ones(100, np.int64), [ClassInfo(1, "1", "#000000")])
        warning = analysis._trained_on_warning(class_map, "map", jobs.LabelSource("ref"), grid.grid, labelled)
    assert warning.startswith("5 % of the pixels of the reference 'ref' lie on pixels the classifier of 'map' was "
                              "trained on: if they are its training samples, these figures say how well it learned")

def _redundancy(tmp_path, bands: np.ndarray, nodata=None, **options) -> tuple:
    """The band redundancy of a scene of `bands`, with its warnings, log lines and progress."""
    hsi = write_raster(tmp_path / "hsi.tif", bands.astype(np.float32), nodata=nodata)
    warnings: list = []
    logs: list = []
    progress: list = []
    settings = {"threshold": 0.95, "sample_size": 100, "seed": 0, **options}
    result = analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), []), out_png=str(tmp_path / "r.png"),
                                     out_csv=str(tmp_path / "r.csv"), **settings,
                                     hooks=Hooks(warn=warnings.append, log=logs.append, progress=progress.append))
    return result, warnings, logs, progress


def test_the_similarity_of_one_valid_pixel_is_warned_of_once_and_ends_its_progress(tmp_path):
    """One valid pixel of 16: the few valid pixels are said once (not again as fewer than 100), every band holds one
    value 'in the one pixel sampled', and the bar reaches its end."""
    bands = np.full((3, 4, 4), -9999.0)
    bands[:, 0, 0] = [1.0, 2.0, 3.0]
    result, warnings, logs, progress = _redundancy(tmp_path, bands, nodata=-9999)
    assert warnings == [
        "Only 1 of the 16 pixels of the hyperspectral layer 'hsi' has valid values in every layer ('hsi'): too few "
        "to compare the bands of the scene. Check that the layers cover the same area, and their nodata values.",
        "3 of the 3 bands hold one value in the one pixel sampled (hsi band 1, hsi band 2, hsi band 3): they carry "
        "nothing to compare, so each stands alone in the groups with a similarity of 0 to every other band."]
    assert (result["groups"], result["largest_group"]) == (["1", "2", "3"], 1)
    assert logs[-2].endswith("from 1 pixel): the largest has 1 band; 3 bands are like no other.")
    assert progress[-1] == 1.0 and max(progress[:-1]) <= 0.8


def test_the_device_list_shows_its_help_keeps_auto_for_no_value_and_takes_a_typed_device_without_spaces(provider):
    """The list's own tooltip is the parameter's help; no value, or 'auto' after 'cpu', shows the auto entry, not
    the text 'None' or 'auto'; a device typed with spaces about it is taken without them."""
    from processing.gui.wrappers import WidgetWrapperFactory
    from qgis.PyQt.QtWidgets import QWidget

    parameter = provider.algorithm("classify").parameterDefinition("DEVICE")
    wrapper = WidgetWrapperFactory.create_wrapper(parameter, QWidget())
    assert wrapper.widget.toolTip() == parameter.help() != ""
    for value in (None, "auto"):
        wrapper.setValue("cpu")
        wrapper.setValue(value)
        assert (wrapper.value(), wrapper.widget.currentIndex()) == ("auto", 0)
        assert wrapper.widget.currentText() == wrapper.widget.itemText(0) != "auto"
    wrapper.widget.setEditText(" cuda:1 ")
    assert wrapper.value() == "cuda:1"



@pytest.mark.parametrize("option, message", [
    ({"threshold": 0.0}, "THRESHOLD must lie in (0, 1]; got 0.0. A typical value is 0.95."),
    ({"mask_ratio": 1.0}, "MASK_RATIO must lie strictly between 0 and 1; got 1.0.")], ids=["threshold", "mask_ratio"])
def test_a_threshold_of_0_or_a_mask_ratio_of_1_is_refused_before_anything_is_written(tmp_path, option, message):
    with pytest.raises(InputError) as refused:
        _redundancy(tmp_path, np.random.default_rng(0).normal(size=(4, 10, 10)), **option)
    assert str(refused.value) == message
    assert not (tmp_path / "r.png").exists() and not (tmp_path / "r.csv").exists()



@pytest.mark.parametrize("when, computed", [("read", 0), ("compared", 1)])
def test_redundancy_canceled_once_its_pixels_are_read_or_compared_stops_there_writing_nothing(
        tmp_path, monkeypatch, when, computed):
    """Canceled as the sample is read, the similarities are not computed; canceled as they are, nothing is written."""
    canceled: list = []
    calls: list = []

    def similarity(pixels):
        calls.append(len(pixels))
        canceled.append(when == "compared")
        return band_similarity(pixels)

    band_similarity = analysis.band_similarity
    monkeypatch.setattr(analysis, "band_similarity", similarity)
    hsi = write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).normal(size=(4, 12, 12)).astype(np.float32))
    hooks = Hooks(progress=lambda done: canceled.append(when == "read" and done >= 0.8),
                  is_canceled=lambda: any(canceled))
    with pytest.raises(Canceled):
        analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), []), threshold=0.95, sample_size=200, seed=0,
                                out_png=str(tmp_path / "r.png"), out_csv=str(tmp_path / "r.csv"), hooks=hooks)
    assert len(calls) == computed
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hsi.tif"]



def test_a_png_output_not_given_is_left_out_and_the_heat_map_not_drawn(tmp_path, monkeypatch):
    """OUTPUT_PNG is optional (until 2026-12-07 it was refused as not given): the CSV alone is written, and
    matplotlib's heat map is drawn only for the PNG or the page."""
    hsi = write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).normal(size=(4, 12, 12)).astype(np.float32))
    monkeypatch.setattr(analysis.reports, "heatmap_png", lambda *_: pytest.fail("the heat map was drawn"))
    result = analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), []), threshold=0.95, sample_size=200,
                                     seed=0, out_png="", out_csv=str(tmp_path / "r.csv"), hooks=Hooks())
    assert result["paths"] == {"OUTPUT_CSV": str(tmp_path / "r.csv")} and result["group_count"] == 4
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hsi.tif", "r.csv"]
    header = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "band,hsi band 1,hsi band 2,hsi band 3,hsi band 4"


@pytest.mark.parametrize("problem, outputs, said", [
    ("not installed", ("OUTPUT_PNG", "OUTPUT_CSV"), "OUTPUT_PNG holds a heat map drawn with matplotlib, which is not "
     "installed in this Python: install it (apt install python3-matplotlib, or pip install matplotlib), or skip that "
     "output."),
    ("ImportError: libpng16.so.16: cannot open shared object file\n  more", ("OUTPUT_PNG", "OUTPUT_HTML"),
     "OUTPUT_HTML and OUTPUT_PNG hold a heat map drawn with matplotlib, which cannot be imported (ImportError: "
     "libpng16.so.16: cannot open shared object file) in this Python: install it (apt install python3-matplotlib, or "
     "pip install matplotlib), or skip those outputs.")])
def test_a_heat_map_asked_for_without_matplotlib_is_refused_before_the_work(tmp_path, monkeypatch, problem, outputs,
                                                                            said):
    """A desktop helper's check of 2026-12-07: QGIS without matplotlib ended the run in a traceback once the
    similarities were computed, the dialog asking for the heat map by default; the CSV alone needs no matplotlib."""
    from mrs.mrs_qgis_plugin import dependencies

    hsi = write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).normal(size=(4, 12, 12)).astype(np.float32))
    monkeypatch.setattr(dependencies, "import_problem", lambda module: problem if module == "matplotlib" else None)
    extensions = {"OUTPUT_PNG": "png", "OUTPUT_CSV": "csv", "OUTPUT_HTML": "html"}
    files = {f"out_{name[7:].lower()}": str(tmp_path / f"r.{extensions[name]}") for name in outputs}
    layers = jobs.Layers(RasterInput(hsi, "hsi"), [])
    with pytest.raises(InputError) as refused:
        analysis.redundancy_job(layers, threshold=0.95, sample_size=200, seed=0, hooks=Hooks(), **files)
    assert str(refused.value) == said and sorted(path.name for path in tmp_path.iterdir()) == ["hsi.tif"]
    result = analysis.redundancy_job(layers, threshold=0.95, sample_size=200, seed=0, hooks=Hooks(),
                                     out_csv=str(tmp_path / "r.csv"))
    assert result["paths"] == {"OUTPUT_CSV": str(tmp_path / "r.csv")}


def test_the_largest_group_after_a_smaller_one_and_the_leak_at_the_threshold_given(tmp_path):
    """Band 1 alone, bands 2 and 3 0.89-similar: at a threshold of 0.8 the largest group is the second, of 2 bands,
    and masking 1 band of 3 leaks where it masks band 2 or 3, 2 masks of 3 (none at 0.95)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 20))
    bands = np.stack([rng.normal(size=(20, 20)), a, a + 0.5 * rng.normal(size=(20, 20))])
    result, _, logs, _ = _redundancy(tmp_path, bands, threshold=0.8, sample_size=400, mask_ratio=0.3)
    assert 0.8 <= result["similarity"][1, 2] < 0.95
    assert (result["groups"], result["largest_group"]) == (["1", "2-3 (hsi band 2 - hsi band 3)"], 2)
    assert result["leakage"] == pytest.approx(2 / 3)
    assert logs[-1].startswith("Random spectral masking of 30 % of the bands (1 of 3) leaves 66.67 % of the masked ")



def test_a_band_varying_by_a_hundred_millionth_is_not_warned_of_as_constant(tmp_path):
    """A band is constant where its values are one, not where they vary little: 1e-8 about 0 still varies."""
    rng = np.random.default_rng(0)
    bands = rng.normal(size=(3, 12, 12))
    bands[2] = 1e-8 * rng.normal(size=(12, 12))
    _, warnings, _, _ = _redundancy(tmp_path, bands, sample_size=144)
    assert warnings == []
