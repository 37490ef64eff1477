"""The five algorithms doing their work through processing.run, on a small synthetic scene.

One scene, one pretraining run and one fine-tuning run serve the whole module.
"""

import csv
import html
import json
import math
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import numpy as np
import pytest
import torch
from osgeo import gdal, ogr
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsProcessingException,
                       QgsProcessingParameterDefinition, QgsProject, QgsRectangle, QgsReferencedRectangle)

from mrs.model_core import __version__ as mrs_version
from mrs.model_core import model_file
from mrs.model_core.device import PRECISIONS, cpu_supports_bf16, describe_device, resolve_device
from mrs.model_core.hooks import Hooks
from mrs.model_core.names import plural
from mrs.model_core.redundancy import redundant_groups
from mrs.model_core.training import checkpoint_path_for
from mrs.mrs_qgis_plugin.raster.gdal_io import category_names, gdal_pam
from mrs.mrs_qgis_plugin.runs import available_cores, requested_threads, start_torch
from mrs.mrs_qgis_plugin.synthetic_scene import CLASSES, ORIGIN
from processing_helpers import (
    N_AUX,
    N_HSI,
    QUICK_FINETUNE,
    QUICK_PRETRAIN,
    CancelingFeedback,
    RecordingFeedback,
    accuracy_by_offset,
    algorithms_ready,
    overall_accuracy,
    run,
    run_and_load,
    scene_layers,
    swapped_pairs,
    write_test_scene,
)
from rasters import box_wkt, point_wkt, transform_points, write_raster, write_vector
from test_raster_writers import read_raster

CLASS_NAMES = [item.name for item in CLASSES]


@pytest.fixture(scope="module")
def mrs(qgis_processing):
    with algorithms_ready():
        yield


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return write_test_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture(scope="module")
def pretrained(mrs, scene, tmp_path_factory):
    output = tmp_path_factory.mktemp("pretrain") / "pretrained.safetensors"
    feedback = RecordingFeedback()
    results = run("mrs:pretrain", {**scene_layers(scene), **QUICK_PRETRAIN, "OUTPUT": str(output)}, feedback)
    return SimpleNamespace(results=results, log=feedback, path=str(output))


@pytest.fixture(scope="module")
def classifier(mrs, scene, pretrained, tmp_path_factory):
    output = tmp_path_factory.mktemp("finetune") / "classifier.safetensors"
    parameters = {
        **scene_layers(scene),
        **QUICK_FINETUNE,
        "SAMPLES": str(scene.train_points),
        "CLASS_FIELD": "class_id",
        "NAME_FIELD": "class_name",
        "PRETRAINED": pretrained.path,
        "VALIDATION_FRACTION": 0.25,
        "OUTPUT": str(output),
    }
    feedback = RecordingFeedback()
    results = run("mrs:finetune", parameters, feedback)
    return SimpleNamespace(results=results, log=feedback, path=str(output))


def paletted_classes(layer) -> list:
    renderer = layer.renderer()
    return [(int(item.value), item.label, item.color.name()) for item in renderer.classes()]


@pytest.fixture(scope="module")
def classified(mrs, scene, classifier, tmp_path_factory):
    """Classified as the Toolbox does with "Open output file": the outputs are loaded into the project.
    What the tests check of the loaded layers is read here, and the layers removed again."""
    folder = tmp_path_factory.mktemp("classify")
    parameters = {
        "MODEL": classifier.path,
        **scene_layers(scene),
        "OUTPUT": str(folder / "landcover.tif"),
        "OUTPUT_CONFIDENCE": str(folder / "confidence.tif"),
    }
    project = QgsProject.instance()
    project.removeAllMapLayers()
    feedback = RecordingFeedback()
    results = run_and_load("mrs:classify", parameters, feedback)
    loaded = {}
    for layer in project.mapLayers().values():
        renderer = layer.renderer()
        shader = renderer.shader().rasterShaderFunction() if renderer.type() == "singlebandpseudocolor" else None
        loaded[layer.name()] = SimpleNamespace(
            source=layer.source(),
            renderer=renderer.type(),
            classes=paletted_classes(layer) if renderer.type() == "paletted" else None,
            ramp=(shader.minimumValue(), shader.maximumValue()) if shader else None,
        )
    project.removeAllMapLayers()
    return SimpleNamespace(results=results, log=feedback, loaded=loaded, folder=folder)


def test_pretrain_writes_a_pretraining_model_and_logs_each_epoch(pretrained):
    metadata = model_file.read_metadata(pretrained.results["OUTPUT"], [model_file.PRETRAINED])
    assert pretrained.results["OUTPUT"] == pretrained.path
    assert (metadata["preset"], metadata["n_hsi"], metadata["n_aux"]) == ("tiny", N_HSI, N_AUX)
    assert (metadata["hsi_layer"], metadata["aux_layers"]) == ("hsi", ["lidar"])
    assert metadata["masking"] == {"strategy": "mrs", "spectral_ratio": 0.3, "spatial_ratio": 0.3,
                                   "similarity": "cosine", "normalized_targets": True}
    training = metadata["training"]
    assert training["samples"] == QUICK_PRETRAIN["SAMPLES"]
    settings = training["settings"]
    assert (settings["epochs"], settings["batch_size"], settings["lr"]) == (2, 32, 0.001)
    assert math.isfinite(pretrained.results["FINAL_LOSS"])
    assert pretrained.results["FINAL_LOSS"] == pytest.approx(training["history"][-1]["loss"])
    epochs = pretrained.log.log_with("Pretraining epoch")
    assert len(epochs) == 2
    assert re.fullmatch(r"Pretraining epoch 2/2: loss \d+\.\d{4}, [0-9,]+ samples/s, \d+ (s|min \d\d s|h \d\d min) left", epochs[-1])
    # No text above the progress bar: QGIS 3.22's dialog logs it, beside each epoch's own line (desktop helper
    # of 2026-12-05).
    assert pretrained.log.texts == []
    threads = int(re.fullmatch(r"CPU threads: (\d+) of \d+ cores?\.", pretrained.log.log_with("CPU threads: ")[0])[1])
    expected = describe_device(resolve_device("auto")).replace(f"({plural(torch.get_num_threads(), 'thread')})",
                                                                f"({plural(threads, 'thread')})")
    assert pretrained.log.infos[0].startswith(f"Device: {expected}, chosen by DEVICE auto")
    assert not os.path.exists(checkpoint_path_for(pretrained.path))


def test_pretrain_draws_its_samples_from_the_extent_or_the_mask_only(mrs, scene, tmp_path):
    x0, y0 = ORIGIN
    # Pixels of columns 10-19 and rows 5-14: 100 valid pixels, fewer than the samples asked for.
    extent = f"{x0 + 10},{x0 + 20},{y0 - 15},{y0 - 5} [EPSG:32632]"
    parameters = {**scene_layers(scene), **QUICK_PRETRAIN, "EPOCHS": 1, "SAMPLES": 1000, "MASKING": "random"}
    results = run("mrs:pretrain", {**parameters, "EXTENT": extent, "OUTPUT": str(tmp_path / "extent.safetensors")})
    metadata = model_file.read_metadata(results["OUTPUT"], [model_file.PRETRAINED])
    assert metadata["training"]["samples"] == 100
    assert metadata["masking"]["strategy"] == "random"

    # A polygon in geographic coordinates around the centres of columns 30-35 and rows 20-24: 30 pixels.
    corners = transform_points([(x0 + 30.2, y0 - 24.8), (x0 + 35.8, y0 - 20.2)], "EPSG:32632", "EPSG:4326")
    (xmin, ymin), (xmax, ymax) = corners
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(xmin, ymin, xmax, ymax), {})], {}, crs="EPSG:4326")
    feedback = RecordingFeedback()
    masked = {**parameters, "MASK": mask, "PRECISION": "fp32", "OUTPUT": str(tmp_path / "mask.safetensors")}
    results = run("mrs:pretrain", masked, feedback)
    assert model_file.read_metadata(results["OUTPUT"], [model_file.PRETRAINED])["training"]["samples"] == 30
    assert feedback.log_with("Pretraining: 30 samples")[0].endswith(", float32.")
    assert "'mask' is reprojected from EPSG:4326 to EPSG:32632." in feedback.infos


def test_finetune_from_the_pretrained_model_keeps_the_best_epoch_and_the_class_names(classifier, pretrained):
    metadata = model_file.read_metadata(classifier.results["OUTPUT"], [model_file.CLASSIFIER])
    pretraining = model_file.read_metadata(pretrained.path, [model_file.PRETRAINED])
    assert [item["name"] for item in metadata["classes"]] == CLASS_NAMES
    assert [item["value"] for item in metadata["classes"]] == list(range(1, 8))
    assert metadata["config"] == pretraining["config"]
    assert metadata["pretrained_from"]["file"] == "pretrained.safetensors"
    training = metadata["training"]
    assert training["pretrained"] is True
    assert training["settings"]["encoder_lr_scale"] == 1.0
    assert (training["train_samples"], training["validation_samples"]) == (7 * 6, 7 * 2)
    history = [epoch["val_accuracy"] for epoch in training["history"]]
    assert len(history) == QUICK_FINETUNE["EPOCHS"]
    results = classifier.results
    assert results["BEST_EPOCH"] == training["best_epoch"]
    assert results["VALIDATION_ACCURACY"] == pytest.approx(history[results["BEST_EPOCH"] - 1])
    assert results["VALIDATION_ACCURACY"] == pytest.approx(max(history))
    assert results["VALIDATION_KAPPA"] == pytest.approx(training["val_kappa"])
    assert len(classifier.log.log_with("Fine-tuning epoch")) == QUICK_FINETUNE["EPOCHS"]
    # Its normalisation is the pretrained model's: the log said it was made from this scene's sample
    # (a readability review of 2026-12-05, which also read the sample's size twice).
    assert classifier.log.log_with("Normalisation") == [
        "Normalisation: the pretrained model's statistics, as it was pretrained with them."]


def test_finetune_from_a_pretrained_model_says_it_takes_that_model_s_size_over_preset(mrs, scene, pretrained,
                                                                                     tmp_path):
    """PRESET applies only without a pretrained model; given another one, the log never named the
    size used (red team of 2026-12-04)."""
    feedback = RecordingFeedback()
    results = run("mrs:finetune", {**scene_layers(scene), **QUICK_FINETUNE, "PRESET": "paper", "EPOCHS": 1,
                                   "LABELS": str(scene.train), "PRETRAINED": pretrained.path,
                                   "OUTPUT": str(tmp_path / "sized.safetensors")}, feedback)
    assert feedback.log_with("Model size: ") == [
        "Model size: 'tiny', the pretrained model's (PRESET 'paper' is used only without a pretrained model)."]
    assert model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])["preset"] == "tiny"


def test_finetune_from_scratch_on_a_label_raster_without_validation_keeps_the_last_epoch(mrs, scene, tmp_path):
    parameters = {
        **scene_layers(scene),
        **QUICK_FINETUNE,
        "EPOCHS": 2,
        "LABELS": str(scene.train),
        "VALIDATION_FRACTION": 0.0,
        "OUTPUT": str(tmp_path / "scratch.safetensors"),
    }
    results = run("mrs:finetune", parameters)
    assert (results["VALIDATION_ACCURACY"], results["VALIDATION_KAPPA"], results["BEST_EPOCH"]) == (None, None, 2)
    metadata = model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])
    assert metadata["training"]["pretrained"] is False and "pretrained_from" not in metadata
    assert metadata["training"]["train_samples"] == 56
    # Class names and colours come from the label raster's category names and colour table.
    assert [(item["name"], item["color"]) for item in metadata["classes"]] == [(c.name, c.color) for c in CLASSES]


def test_finetune_takes_only_the_selected_features_of_a_layer(mrs, scene, tmp_path):
    """'Selected features only' (and a feature limit) reach an algorithm as a source definition,
    for which QGIS gives no layer: every vector input was refused as 'cannot be opened' (red team
    of 2026-12-04)."""
    from qgis.core import QgsProcessingFeatureSourceDefinition, QgsVectorLayer

    layer = QgsVectorLayer(str(scene.train_points), "my samples", "ogr")
    QgsProject.instance().addMapLayer(layer)
    try:
        chosen = [feature.id() for feature in layer.getFeatures() if feature["class_id"] in (1, 2, 3)]
        layer.selectByIds(chosen)
        parameters = {**scene_layers(scene), **QUICK_FINETUNE, "EPOCHS": 1, "CLASS_FIELD": "class_id",
                      "VALIDATION_FRACTION": 0.0, "OUTPUT": str(tmp_path / "selected.safetensors"),
                      "SAMPLES": QgsProcessingFeatureSourceDefinition(layer.id(), True)}
        feedback = RecordingFeedback()
        results = run("mrs:finetune", parameters, feedback)
        metadata = model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])
        assert [item["value"] for item in metadata["classes"]] == [1, 2, 3]
        assert metadata["training"]["train_samples"] == len(chosen)
        assert feedback.log_with(f"'my samples': {len(chosen)} labelled pixels in 3 classes.")
        layer.removeSelection()
        with pytest.raises(QgsProcessingException, match="SAMPLES: no feature of 'my samples' is selected"):
            run("mrs:finetune", {**parameters, "OUTPUT": str(tmp_path / "none.safetensors")})
        assert not (tmp_path / "none.safetensors").exists()
    finally:
        QgsProject.instance().removeMapLayer(layer.id())


def test_classify_writes_a_land_cover_map_on_the_hsi_grid_that_matches_the_reference(classified, scene, classifier):
    landcover, confidence = (read_raster(classified.results[name]) for name in ("OUTPUT", "OUTPUT_CONFIDENCE"))
    hsi = read_raster(scene.hsi)
    for raster in (landcover, confidence):
        assert raster.geotransform == hsi.geotransform and raster.epsg == "32632"
        assert raster.values.shape == hsi.values.shape
    assert (landcover.data_type, landcover.nodata) == (gdal.GDT_Byte, 0)
    assert set(np.unique(landcover.values)) <= set(range(1, 8))
    classes = model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])["classes"]
    assert landcover.names[1:8] == CLASS_NAMES
    assert ["#{:02x}{:02x}{:02x}".format(*landcover.colors[c["value"]][:3]) for c in classes] == [
        c["color"] for c in classes
    ]
    assert confidence.nodata == -1.0
    assert confidence.values.min() > 0.0 and confidence.values.max() <= 1.0
    # Seven classes: chance is about 0.14; the scene's classes are learnt from 42 pixels.
    reference = read_raster(scene.test).values
    assert overall_accuracy(landcover.values, reference) > 0.5
    # A map moved by a few pixels, or with two classes' values exchanged, fails these (the quick
    # classifier is too coarse at class borders to tell a one-pixel offset).
    by_offset = accuracy_by_offset(landcover.values, reference, reach=4)
    moved = max(value for offset, value in by_offset.items() if max(map(abs, offset)) == 4)
    assert by_offset[0, 0] > moved + 0.05, by_offset
    assert swapped_pairs(landcover.values, reference) == []
    assert os.path.isfile(classified.folder / "landcover.qml")


def test_the_outputs_are_loaded_with_the_models_class_names_and_colours_and_a_colour_ramp(classified, classifier):
    # named after their files too (a helper's desktop check of 2026-12-06: two maps were both 'Land-cover map')
    assert set(classified.loaded) == {"Land-cover map (landcover)", "Confidence (confidence)"}
    landcover = classified.loaded["Land-cover map (landcover)"]
    assert landcover.source == classified.results["OUTPUT"]
    assert landcover.renderer == "paletted"
    classes = model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])["classes"]
    assert landcover.classes == [(c["value"], c["name"], c["color"]) for c in classes]
    assert [name for _, name, _ in landcover.classes] == CLASS_NAMES
    confidence = classified.loaded["Confidence (confidence)"]
    assert (confidence.renderer, confidence.ramp) == ("singlebandpseudocolor", (0.0, 1.0))


def test_a_map_written_over_one_loaded_in_the_project_is_read_anew(mrs, scene, classifier, tmp_path):
    """Desktop helper of 2026-12-05: Processing reused the loaded layer of a map written over, which
    went on reading the earlier file (its histogram, the pixels Identify gives, and the .aux.xml its
    closing wrote back)."""
    x0, y0 = ORIGIN
    project = QgsProject.instance()
    project.removeAllMapLayers()
    parameters = {"MODEL": classifier.path, **scene_layers(scene), "OUTPUT": str(tmp_path / "map.tif")}
    run_and_load("mrs:classify", parameters)
    run_and_load("mrs:classify", {**parameters, "EXTENT": f"{x0 + 8},{x0 + 24},{y0 - 40},{y0 - 16} [EPSG:32632]"})
    layers = [layer for layer in project.mapLayers().values() if layer.source() == str(tmp_path / "map.tif")]
    try:
        assert layers and all((layer.width(), layer.height()) == (16, 24) for layer in layers)
        # Its histogram computed, as Symbology's Classify does, the earlier map's layer wrote its
        # class names over the new map's .aux.xml once closed.
        layers[0].dataProvider().histogram(1)
        numbered = run("mrs:finetune", {**scene_layers(scene), **QUICK_FINETUNE, "EPOCHS": 1,
                                        "SAMPLES": str(scene.train_points), "CLASS_FIELD": "class_id",
                                        "OUTPUT": str(tmp_path / "numbered.safetensors")})["OUTPUT"]
        run_and_load("mrs:classify", {**parameters, "MODEL": numbered})
    finally:
        project.removeAllMapLayers()
    with gdal_pam("YES"):
        dataset = gdal.Open(str(tmp_path / "map.tif"))
        assert category_names(dataset.GetRasterBand(1))[1:] == [str(value) for value in range(1, len(CLASSES) + 1)]


def test_classify_an_extent_gives_that_window_of_the_whole_map(mrs, scene, classifier, classified, tmp_path):
    x0, y0 = ORIGIN
    extent = f"{x0 + 8},{x0 + 24},{y0 - 40},{y0 - 16} [EPSG:32632]"
    parameters = {"MODEL": classifier.path, **scene_layers(scene), "EXTENT": extent, "OUTPUT": str(tmp_path / "part.tif")}
    feedback = RecordingFeedback()
    part = read_raster(run("mrs:classify", parameters, feedback)["OUTPUT"])
    device = resolve_device("auto")
    start = f"Classifying with 'classifier.safetensors' (tiny preset, 7 classes) on {device}, "
    assert any(line.startswith(start) for line in feedback.infos)
    whole = read_raster(classified.results["OUTPUT"])
    assert part.values.shape == (24, 16)
    assert part.geotransform == (x0 + 8, 1.0, 0.0, y0 - 16, 0.0, -1.0)
    # The same pixels with the same neighbourhoods and precision: the same classes (bar rounding ties).
    assert np.mean(part.values == whole.values[16:40, 8:24]) > 0.99


@pytest.fixture
def project_crs():
    """Sets the project's CRS for one test, as a desktop user's project has one."""
    project = QgsProject.instance()
    earlier = project.crs()
    yield lambda authid: project.setCrs(QgsCoordinateReferenceSystem(authid))
    project.setCrs(earlier)


@pytest.mark.parametrize("form", ["written", "layer", "referenced", "the project's"])
def test_an_extent_in_another_crs_is_said_taken_into_the_hyperspectral_layer_s(mrs, scene, classifier, tmp_path, form,
                                                                                project_crs):
    """Own bad input of 2026-12-07: an extent in EPSG:4326 mapped the box around it in the layer's CRS without a
    word of the CRS it was given in, written after the numbers or as a layer's; a script's referenced rectangle
    and the '[]' the extent widget writes in a project in another CRS were taken the same way (a desktop helper's
    red team of 2026-12-07: the rectangle went unsaid, and '[]' was refused)."""
    x0, y0 = ORIGIN
    (west, south), (east, north) = transform_points([(x0 + 9, y0 - 39), (x0 + 23, y0 - 17)], "EPSG:32632", "EPSG:4326")
    project_crs("EPSG:4326")
    extent = {"written": f"{west},{east},{south},{north} [EPSG:4326]",
              "layer": lambda: write_vector(tmp_path / "area.gpkg", [(box_wkt(west, south, east, north), {})], {},
                                            crs="EPSG:4326"),
              "referenced": lambda: QgsReferencedRectangle(QgsRectangle(west, south, east, north),
                                                           QgsCoordinateReferenceSystem("EPSG:4326")),
              "the project's": f"{west},{east},{south},{north} []"}[form]
    feedback = RecordingFeedback()
    part = read_raster(run("mrs:classify", {"MODEL": classifier.path, **scene_layers(scene),
                                            "EXTENT": extent() if callable(extent) else extent,
                                            "OUTPUT": str(tmp_path / "part.tif")}, feedback)["OUTPUT"])
    said = [line for line in feedback.infos if line.startswith("EXTENT (")]
    assert len(said) == 1
    given, taken = re.fullmatch(r"EXTENT \((.*) in EPSG:4326\) is taken into the CRS of the hyperspectral layer 'hsi' "
                                r"\(EPSG:32632\) as the box around it: (.*)\.", said[0]).groups()
    number = r"-?\d+(?:\.\d+)?"
    assert [float(value) for value in re.findall(number, given)] == pytest.approx([west, east, south, north])
    xmin, xmax, ymin, ymax = (float(value) for value in re.findall(number, taken))
    # the box around the drawn area, wider than it as the grid is turned against the meridians
    assert (xmin, ymin, xmax, ymax) == pytest.approx((x0 + 9, y0 - 39, x0 + 23, y0 - 17), abs=0.6)
    assert xmin < x0 + 8.9 and xmax > x0 + 23.1
    assert part.values.shape == (22, 16)
    assert part.geotransform == (x0 + 8, 1.0, 0.0, y0 - 17, 0.0, -1.0)


CUSTOM_CRS = "+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9995 +x_0=500000 +y_0=0 +datum=WGS84 +units=m +no_defs"
"""A transverse Mercator of no authority's code: QGIS names it by no EPSG code, and its extent widget writes '[]'."""


@pytest.mark.parametrize("crs, written", [(CUSTOM_CRS, "[]"), ("", "[EPSG:4326]")], ids=["custom", "none"])
def test_an_extent_s_numbers_stand_in_a_layer_of_a_custom_crs_or_of_none(mrs, scene, classifier, tmp_path, crs,
                                                                         written):
    """A desktop helper's red team of 2026-12-07: '[]' after the numbers of a layer in a CRS without a code (the
    extent widget's, of the layer's own extent) was refused as an unknown CRS; numbers in EPSG:4326 for a layer
    without a CRS were said to be taken into it, as they stood."""
    layers = {}
    for name, path in scene_layers(scene).items():
        source = path[0] if isinstance(path, list) else path
        copy = str(tmp_path / Path(source).name)
        gdal.Translate(copy, source, outputSRS=crs or None)
        if not crs:
            gdal.Open(copy, gdal.GA_Update).SetSpatialRef(None)
        layers[name] = [copy] if isinstance(path, list) else copy
    x0, y0 = ORIGIN
    feedback = RecordingFeedback()
    extent = f"{x0 + 8},{x0 + 24},{y0 - 40},{y0 - 16} {written}"
    part = read_raster(run("mrs:classify", {"MODEL": classifier.path, **layers, "EXTENT": extent,
                                            "OUTPUT": str(tmp_path / "part.tif")}, feedback)["OUTPUT"])
    assert not [line for line in feedback.infos if line.startswith("EXTENT (")]
    assert part.values.shape == (24, 16)
    assert part.geotransform == (x0 + 8, 1.0, 0.0, y0 - 16, 0.0, -1.0)


def test_an_empty_extent_in_another_crs_is_refused_in_the_numbers_given(mrs, scene, classifier, tmp_path):
    """A desktop helper's red team of 2026-12-07: a click without a drag in a project in EPSG:4326 gives
    '0,0,0,0 [EPSG:4326]', which was taken into the layer's CRS first, and refused as x -505646.899516..-505646.899516
    (a point)."""
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", {"MODEL": classifier.path, **scene_layers(scene), "EXTENT": "0,0,0,0 [EPSG:4326]",
                             "OUTPUT": str(tmp_path / "none.tif")})
    assert str(refused.value) == ("The extent EXTENT (x 0..0, y 0..0 in EPSG:4326) is empty or inverted: its minimum x "
                                  "and y must be below its maximum x and y. Draw the extent again, or write it as "
                                  "xmin,xmax,ymin,ymax.")
    assert not (tmp_path / "none.tif").exists()


def without_wavelengths(source: str, path: Path) -> str:
    """A copy of a raster (values, scale, grid) without the wavelength items of its bands or of itself,
    nor band descriptions, which name wavelengths too ('b001 404.8 nm')."""
    gdal.Translate(str(path), source)
    dataset = gdal.Open(str(path), gdal.GA_Update)
    dataset.SetMetadata({})
    for number in range(1, dataset.RasterCount + 1):
        dataset.GetRasterBand(number).SetMetadata({})
        dataset.GetRasterBand(number).SetDescription(f"band {number}")
    dataset = None
    return str(path)


def test_classify_warns_when_the_layer_gives_no_wavelengths_to_check_against_the_model_s(
        mrs, scene, classifier, classified, tmp_path):
    """A band list in another order (reversed, say) holds values of the same range: only the
    wavelengths would tell (red team of 2026-12-04: a reversed scene without them mapped at
    19 % OA without a word)."""
    bare = without_wavelengths(str(scene.hsi), tmp_path / "bare.tif")
    feedback = RecordingFeedback()
    run("mrs:classify", {"MODEL": classifier.path, **scene_layers(scene), "INPUT_HSI": bare,
                         "OUTPUT": str(tmp_path / "map.tif")}, feedback)
    nm = model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])["wavelengths"]
    warned = [line for line in feedback.warnings if "gives no wavelengths" in line]
    assert warned == [f"MODEL: '{classifier.path}' was trained on bands at {nm[0]:.0f}-{nm[-1]:.0f} nm, but the "
                      "hyperspectral layer 'bare' gives no wavelengths, so whether its bands are those, in the same "
                      "order, cannot be checked: make sure they are (or add the wavelengths to its metadata)."]
    assert not any("gives no wavelengths" in line for line in classified.log.warnings + classified.log.infos)


def auxiliary_copy(source: str, path: Path, bands: list, names: Optional[list]) -> str:
    """A copy of the auxiliary raster with its bands in the order `bands`, described as `names`
    (None: left without descriptions)."""
    original = gdal.Open(source)
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), original.RasterXSize, original.RasterYSize, len(bands),
                                                   original.GetRasterBand(1).DataType)
    dataset.SetGeoTransform(original.GetGeoTransform())
    dataset.SetProjection(original.GetProjection())
    for number, band in enumerate(bands, start=1):
        dataset.GetRasterBand(number).WriteArray(original.GetRasterBand(band).ReadAsArray())
        if original.GetRasterBand(band).GetNoDataValue() is not None:
            dataset.GetRasterBand(number).SetNoDataValue(original.GetRasterBand(band).GetNoDataValue())
        if names:
            dataset.GetRasterBand(number).SetDescription(names[number - 1])
    dataset = None
    return str(path)


def test_a_classifier_records_the_band_count_of_each_auxiliary_layer_and_its_pixel_size(scene, classifier):
    """What `loading.check_aux_layers` compares a classification's layers with (red team of 2026-12-05)."""
    metadata = model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])
    assert (metadata["aux_layers"], metadata["aux_band_counts"]) == (["lidar"], [gdal.Open(str(scene.lidar)).RasterCount])
    assert metadata["pixel_size_m"] == pytest.approx(1.0, rel=5e-3)  # the test scenes' 1 m pixels in UTM
    assert metadata["pixel_sides_m"] == pytest.approx([1.0, 1.0], rel=5e-3)  # across and down


@pytest.mark.parametrize("bands,names,expected", [
    ([2, 1], "own", "refused"),
    ([1, 2], ["VV sigma0 (dB)", "VH sigma0 (dB)"], "not"),
    ([2, 1], None, None),
    ([1, 2], ["  NDSM height above GROUND (m) ", "lidar return intensity (relative, 0-100)"], None),
    ([1, 2], ["Band 1", "Band 2"], None),  # names drivers give (ENVI, netCDF) describe nothing
    ([2, 1], ["Layer_2", "Layer_1"], None),  # nor do ERDAS IMAGINE's (review of 2026-12-05: they were refused)
])
def test_classify_warns_when_the_auxiliary_bands_are_named_otherwise_than_the_model_s(
        mrs, scene, classifier, classified, tmp_path, bands, names, expected):
    """Height and intensity swapped lie within the value checks' limits: the map fell from 85 to
    30 % OA without a word (red team of 2026-12-04), and a SAR raster given for the LiDAR one too.
    Bands without descriptions, or described alike but for case and spaces, are not compared."""
    trained = model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])["band_names"][-2:]
    given = [trained[band - 1] for band in bands] if names == "own" else names
    aux = auxiliary_copy(str(scene.lidar), tmp_path / "aux.tif", bands, given)
    feedback = RecordingFeedback()
    listed = ", ".join(f"auxiliary band {number} is '{name}' where the model had '{had}'"
                       for number, (name, had) in enumerate(zip(given or [], trained), start=1))
    if expected == "refused":  # its own bands swapped: the map was written, 5 % right (review of 2026-12-05)
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:classify", {"MODEL": classifier.path, **scene_layers(scene), "INPUT_AUX": [aux],
                                 "OUTPUT": str(tmp_path / "map.tif")}, feedback)
        assert str(refused.value).splitlines()[-1] == (
            f"MODEL: the auxiliary bands are in another order than those '{classifier.path}' was trained on, by their "
            f"names ({listed}), so each would be taken for another. Give the auxiliary layers, and their bands, in the "
            f"order it was trained on: '{trained[0]}', '{trained[1]}' (layers 'lidar'); if their descriptions are "
            "wrong, correct or clear them.")
        assert not (tmp_path / "map.tif").exists()
        return
    run("mrs:classify", {"MODEL": classifier.path, **scene_layers(scene), "INPUT_AUX": [aux],
                         "OUTPUT": str(tmp_path / "map.tif")}, feedback)
    warned = [line for line in feedback.warnings if "auxiliary bands" in line]
    if expected is None:
        assert warned == []
        return
    assert warned == [f"MODEL: the auxiliary bands are {expected} those '{classifier.path}' was trained on, by their "
                      f"names ({listed}). Give auxiliary layers of the kinds it was trained on, with their bands in "
                      "the same order; else the map will be wrong."]
    assert not any("auxiliary bands" in line for line in classified.log.warnings)


def test_classify_warns_when_a_band_is_in_another_unit_than_the_model_s(mrs, scene, classifier, tmp_path):
    """A helper's red team of 2026-12-05: the LiDAR height in US survey feet (its values x 3.28)
    was mapped without a word, its values within the value checks' limits."""
    from osgeo import gdal

    assert model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])["band_units"][-2:] == ["m", ""]
    aux = auxiliary_copy(str(scene.lidar), tmp_path / "feet.tif", [1, 2], None)
    dataset = gdal.Open(aux, gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    band.WriteArray(band.ReadAsArray() * 3937 / 1200)
    band.SetUnitType("US survey foot")
    dataset = band = None
    feedback = RecordingFeedback()
    run("mrs:classify", {"MODEL": classifier.path, **scene_layers(scene), "INPUT_AUX": [aux],
                         "OUTPUT": str(tmp_path / "map.tif")}, feedback)
    assert [line for line in feedback.warnings if "unit" in line] == [
        f"MODEL: bands are in other units than those '{classifier.path}' was trained on, by their unit types: band 1 "
        "of 'feet' is in 'US survey foot' where the model had 'm' (multiply it by 0.3048006). Convert them into the "
        "model's units (Raster Calculator), else the map will be wrong."]


def test_a_fine_tuning_from_a_pretrained_model_of_other_layers_is_told_its_pretraining_helps_less(
        mrs, scene, pretrained, tmp_path):
    """A helper's red team of 2026-12-05: fine-tuning on other SAR/LiDAR layers than the pretraining's
    was told 'else the map will be wrong', where the classifier learns those layers and maps right."""
    from osgeo import gdal

    feet = auxiliary_copy(str(scene.lidar), tmp_path / "feet.tif", [1], None)
    dataset = gdal.Open(feet, gdal.GA_Update)
    dataset.GetRasterBand(1).SetUnitType("ft")
    dataset = None
    second = auxiliary_copy(str(scene.lidar), tmp_path / "second.tif", [2], None)
    feedback = RecordingFeedback()
    run("mrs:finetune", {**scene_layers(scene), "INPUT_AUX": [feet, second], **QUICK_FINETUNE, "EPOCHS": 1,
                         "SAMPLES": str(scene.train_points), "CLASS_FIELD": "class_id", "PRETRAINED": pretrained.path,
                         "OUTPUT": str(tmp_path / "c.safetensors")}, feedback)
    said = [line for line in feedback.warnings if line.startswith("PRETRAINED")]
    assert [line.split(":")[1].split(",")[0] for line in said] == [
        f" '{pretrained.path}' was trained on SAR/LiDAR layers of 2 bands ('lidar')",
        f" bands are in other units than those '{pretrained.path}' was trained on"]
    assert all(line.endswith("else its pretraining will help the classifier less.") for line in said), said


def test_bands_the_pretraining_s_normalisation_flattens_are_said_to_teach_the_classifier_nothing(
        mrs, scene, pretrained, tmp_path):
    """A helper's audit of 2026-12-06: fine-tuned from a pretraining on a copy without its scale factor, whose
    values the pretraining's statistics clipped to one value at 99.8 % of the pixels, the classifier was 18 %
    right (81 % without PRETRAINED) and the log said only that the pretraining 'will help the classifier less'."""
    from osgeo import gdal

    unscaled = str(tmp_path / "unscaled.tif")
    dataset = gdal.Translate(unscaled, str(scene.hsi))
    for number in range(1, dataset.RasterCount + 1):
        dataset.GetRasterBand(number).SetScale(1.0)
    dataset = None
    fine_tuning = {**scene_layers(scene), **QUICK_FINETUNE, "EPOCHS": 1, "SAMPLES": str(scene.train_points),
                   "CLASS_FIELD": "class_id", "PRETRAINED": pretrained.path, "OUTPUT": str(tmp_path / "c.safetensors")}
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", {**fine_tuning, "INPUT_HSI": unscaled})
    assert str(refused.value) == (
        "PRETRAINED: every band of 'unscaled' holds values so far from those the model was pretrained on that its "
        "normalisation sets at least 95 % of their pixels to one value: the classifier could learn nothing from the "
        "hyperspectral bands. Check them, then give the layers in the units and scale of the pretraining (a scale "
        "factor left out, other units), or fine-tune without PRETRAINED.")
    assert not (tmp_path / "c.safetensors").exists()
    datum = str(tmp_path / "datum.tif")
    dataset = gdal.Translate(datum, str(scene.lidar))
    dataset.GetRasterBand(1).SetOffset(100000.0)  # heights above another datum
    dataset = None
    feedback = RecordingFeedback()
    run("mrs:finetune", {**fine_tuning, "INPUT_AUX": [datum]}, feedback)
    said = [line for line in feedback.warnings if "to one value" in line]
    assert said == ["1 of the 22 bands ('nDSM height above ground (m)' (band 1 of 'datum')) holds values so far from "
                    "those the model was pretrained on that its normalisation sets at least 95 % of its pixels to one "
                    "value: the classifier learns nothing from it. Unless that is meant, give the layers in the units "
                    "and scale of the pretraining (a scale factor left out, other units), or fine-tune without "
                    "PRETRAINED."]
    assert not [line for line in feedback.warnings if "values far from" in line]  # the band said once


def test_a_classifier_is_checked_against_the_values_it_was_fine_tuned_on_not_its_pretraining_s(
        mrs, scene, tmp_path):
    """A helper's red team of 2026-12-05: pretrained on a copy without its scale factor, fine-tuned
    on the scaled raster (warned of, rightly) and 98.6 % right, the classifier was said at every map
    to meet values 'far from those the model was trained on': those of its pretraining."""
    from osgeo import gdal

    unscaled = str(tmp_path / "unscaled.tif")
    dataset = gdal.Translate(unscaled, str(scene.hsi))
    for number in range(1, dataset.RasterCount + 1):
        dataset.GetRasterBand(number).SetScale(1.0)
    dataset = None
    layers = scene_layers(scene)
    run("mrs:pretrain", {**layers, "INPUT_HSI": unscaled, **QUICK_PRETRAIN, "OUTPUT": str(tmp_path / "p.safetensors")})
    feedback = RecordingFeedback()
    run("mrs:finetune", {**layers, **QUICK_FINETUNE, "SAMPLES": str(scene.train_points), "CLASS_FIELD": "class_id",
                         "PRETRAINED": str(tmp_path / "p.safetensors"), "OUTPUT": str(tmp_path / "c.safetensors")},
        feedback)
    [warned] = [line for line in feedback.warnings if "values far from" in line]
    # What follows for a fine-tuning (a helper's red team of 2026-12-05: 'the map will be wrong' of a right map).
    assert "values far from those the model was pretrained on (" in warned
    assert warned.endswith("check that the layers are the kinds of rasters it was pretrained on, in the same units, "
                           "scale and order; else its pretraining will help the classifier less.")
    for hsi, far in ((str(scene.hsi), False), (unscaled, True)):
        feedback = RecordingFeedback()
        run("mrs:classify", {"MODEL": str(tmp_path / "c.safetensors"), **layers, "INPUT_HSI": hsi,
                             "OUTPUT": str(tmp_path / "map.tif")}, feedback)
        assert bool([line for line in feedback.warnings if "values far from" in line]) == far


def test_an_optional_output_left_empty_in_a_batch_row_is_not_loaded_as_a_layer(mrs, scene, classifier, tmp_path):
    """The Batch dialog gives an empty optional output as a layer to load, '' (a desktop helper of
    2026-12-05: each row that succeeded logged "The following layers were not correctly generated")."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingOutputLayerDefinition, QgsProject

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    parameters = {"MODEL": classifier.path, **scene_layers(scene),
                  "OUTPUT": QgsProcessingOutputLayerDefinition(str(tmp_path / "map.tif"), QgsProject.instance()),
                  "OUTPUT_CONFIDENCE": QgsProcessingOutputLayerDefinition("", QgsProject.instance())}
    results = processing.run("mrs:classify", parameters, feedback=RecordingFeedback(), context=context)
    assert results["OUTPUT_CONFIDENCE"] is None
    assert list(context.layersToLoadOnCompletion()) == [str(tmp_path / "map.tif")]


@pytest.mark.skipif(not cpu_supports_bf16(), reason="bf16 arithmetic needs a CPU with AVX-512 BF16 or AMX")
def test_a_bf16_map_is_the_same_whatever_the_batch_size_one_pixel_batches_included(mrs, scene, classifier, tmp_path):
    """oneDNN computes a product of one row with other kernels than one of several, which round
    bf16 otherwise (red team of 2026-12-04: BATCH_SIZE 1 changed 16 of 3,600 pixels' classes and
    nearly every confidence); one pixel goes through the model as two rows."""
    maps = {}
    for batch_size in (1, 2, 64):
        parameters = {"MODEL": classifier.path, **scene_layers(scene), "PRECISION": "bf16", "BATCH_SIZE": batch_size,
                      "OUTPUT": str(tmp_path / f"map{batch_size}.tif"),
                      "OUTPUT_CONFIDENCE": str(tmp_path / f"confidence{batch_size}.tif")}
        feedback = RecordingFeedback()
        outputs = run("mrs:classify", parameters, feedback)
        maps[batch_size] = (read_raster(outputs["OUTPUT"]).values, read_raster(outputs["OUTPUT_CONFIDENCE"]).values)
        said = f"batches of {batch_size} pixel{'s' if batch_size > 1 else ''}."  # 'of 1 pixels' (a helper, 12-05)
        assert any(line.startswith("Classifying with") and line.endswith(said) for line in feedback.infos)
    for batch_size in (1, 2):
        assert np.array_equal(maps[batch_size][0], maps[64][0])
        assert np.array_equal(maps[batch_size][1], maps[64][1], equal_nan=True)


@pytest.mark.parametrize("algorithm,output,name", [
    ("accuracy", "OUTPUT_CSV", "classes.csv"), ("accuracy", "OUTPUT_HTML", "index.html"),
    ("accuracy", "OUTPUT_JSON", "settings.json"), ("redundancy", "OUTPUT_PNG", "photo.png"),
    ("redundancy", "OUTPUT_CSV", "scenes.csv"), ("redundancy", "OUTPUT_CSV", "bands.csv"),
    ("redundancy", "OUTPUT_PNG", "figure.png")])
def test_a_report_is_not_written_over_a_file_that_is_no_report_of_ours_but_replaces_its_own(
        mrs, scene, classified, tmp_path, algorithm, output, name):
    """A class table, a list of scenes or another program's file was replaced without a word
    (red team of 2026-12-04), where a raster or a model file is refused; so was any figure made
    with Matplotlib, taken for a heat map of ours."""
    extension = name.rsplit(".", 1)[1]
    parameters = ({"INPUT": classified.results["OUTPUT"], "REFERENCE_LABELS": str(scene.test),
                   "OUTPUT_HTML": str(tmp_path / "report.html")} if algorithm == "accuracy" else
                  {**scene_layers(scene), "OUTPUT_PNG": str(tmp_path / "similarity.png"),
                   "OUTPUT_CSV": str(tmp_path / "similarity.csv")})
    foreign = tmp_path / name
    foreign.write_bytes(b"\x89PNG\r\n\x1a\ntEXtSoftware\x00Matplotlib version3.6.3not ours" if name == "figure.png" else
                        b"\x89PNG\r\n\x1a\nnot ours" if extension == "png" else
                        b"band,wavelength_nm,fwhm\n1,water\n" if name == "bands.csv" else b"value,name\n1,water\n")
    with pytest.raises(QgsProcessingException, match=re.escape(
            f"{output}: {foreign} exists and is not a report this plugin wrote; choose a new file name, or delete "
            "that file first.")):
        run(f"mrs:{algorithm}", {**parameters, output: str(foreign)})
    assert foreign.read_bytes().endswith(b"not ours" if extension == "png" else b"1,water\n")
    ours = str(tmp_path / f"ours.{extension}")
    for _twice in range(2):
        run(f"mrs:{algorithm}", {**parameters, output: ours})


def test_a_report_of_one_algorithm_is_not_written_over_by_the_other(mrs, scene, classified, tmp_path):
    """A band redundancy report replaced an accuracy report, and the accuracy's JSON and CSV stood
    beside it (red team of 2026-12-04)."""
    accuracy = {"INPUT": classified.results["OUTPUT"], "REFERENCE_LABELS": str(scene.test),
                "OUTPUT_HTML": str(tmp_path / "report.html"), "OUTPUT_CSV": str(tmp_path / "figures.csv")}
    run("mrs:accuracy", accuracy)
    before = (tmp_path / "report.html").read_text()
    with pytest.raises(QgsProcessingException, match=re.escape(
            f"OUTPUT_HTML: {tmp_path / 'report.html'} exists and is a report of mrs:accuracy; choose a new file "
            "name, or delete that file first.")):
        run("mrs:redundancy", {**scene_layers(scene), "SAMPLE_SIZE": 500, "OUTPUT_PNG": str(tmp_path / "s.png"),
                               "OUTPUT_CSV": str(tmp_path / "s.csv"), "OUTPUT_HTML": str(tmp_path / "report.html")})
    assert (tmp_path / "report.html").read_text() == before and not (tmp_path / "s.csv").exists()
    run("mrs:redundancy", {**scene_layers(scene), "SAMPLE_SIZE": 500, "OUTPUT_PNG": str(tmp_path / "s.png"),
                           "OUTPUT_CSV": str(tmp_path / "s.csv")})
    with pytest.raises(QgsProcessingException, match=re.escape(
            f"OUTPUT_CSV: {tmp_path / 's.csv'} exists and is a report of mrs:redundancy; choose")):
        run("mrs:accuracy", {**accuracy, "OUTPUT_CSV": str(tmp_path / "s.csv")})


def test_the_groups_line_says_how_many_bands_stand_alone(mrs, scene, tmp_path):
    """Review of 2026-12-05: '12 groups of near-duplicate bands' counted six SAR/LiDAR bands that
    are like no other band as groups of near-duplicates."""
    feedback = RecordingFeedback()
    results = run("mrs:redundancy", {**scene_layers(scene), "SAMPLE_SIZE": 500, "OUTPUT_PNG": str(tmp_path / "s.png"),
                                     "OUTPUT_CSV": str(tmp_path / "s.csv")}, feedback)
    groups = [group.split(" ")[0] for group in results["GROUPS"].split("; ")]
    alone = sum(1 for group in groups if "-" not in group and "," not in group)
    [line] = [line for line in feedback.infos if "similarity threshold" in line]
    assert alone > 0 and line.startswith(f"{results['GROUP_COUNT']} groups of bands at a similarity threshold of 0.95")
    assert f"; {alone} band{'s are' if alone > 1 else ' is'} like no other" in line


def test_the_redundancy_page_names_its_layers_and_when_and_by_which_version_it_was_made(mrs, scene, tmp_path):
    """A desktop helper of 2026-12-05: the accuracy page said which files it compared, when and by
    which version; the redundancy page said none of it."""
    from mrs.model_core import __version__

    run("mrs:redundancy", {**scene_layers(scene), "SAMPLE_SIZE": 500, "OUTPUT_PNG": str(tmp_path / "s.png"),
                           "OUTPUT_CSV": str(tmp_path / "s.csv"), "OUTPUT_HTML": str(tmp_path / "s.html")})
    page = (tmp_path / "s.html").read_text()
    layers = scene_layers(scene)
    expected = (f"<p>Hyperspectral layer: {html.escape(str(layers['INPUT_HSI']))}<br>SAR/LiDAR layers: "
                f"{html.escape(', '.join(map(str, layers['INPUT_AUX'])))}<br>Made: ")
    assert expected in page
    assert re.search(r"<br>Made: \d{4}-\d\d-\d\d \d\d:\d\d UTC by the MRS plugin " + re.escape(__version__) + "</p>",
                     page)


def test_a_heat_map_of_an_earlier_version_is_replaced(mrs, scene, tmp_path):
    """Earlier heat maps carry matplotlib's PNG text only, not the one that now says they are ours:
    they are known by their size (any other Matplotlib figure is refused, above)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 7), dpi=110)
    FigureCanvasAgg(figure)
    figure.savefig(tmp_path / "similarity.png", format="png")
    run("mrs:redundancy", {**scene_layers(scene), "OUTPUT_PNG": str(tmp_path / "similarity.png"),
                           "OUTPUT_CSV": str(tmp_path / "similarity.csv")})
    assert b"MRS land cover: band similarity" in (tmp_path / "similarity.png").read_bytes()[:4096]


def confusion(reference: np.ndarray, mapped: np.ndarray, classes: int) -> np.ndarray:
    labelled = reference > 0
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (reference[labelled] - 1, mapped[labelled] - 1), 1)
    return matrix


def test_accuracy_reports_the_figures_of_the_map_against_the_reference(mrs, scene, classified, tmp_path):
    outputs = {name: str(tmp_path / f"accuracy.{name[7:].lower()}")
               for name in ("OUTPUT_HTML", "OUTPUT_JSON", "OUTPUT_CSV")}
    parameters = {"INPUT": classified.results["OUTPUT"], "REFERENCE_LABELS": str(scene.test), **outputs}
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", parameters, feedback)
    assert not any("was trained on" in line for line in feedback.warnings + feedback.infos)
    matrix = confusion(read_raster(scene.test).values, read_raster(classified.results["OUTPUT"]).values, 7)
    total = matrix.sum()
    overall = np.trace(matrix) / total
    producers = np.diag(matrix) / matrix.sum(axis=1)
    users = np.diag(matrix) / np.maximum(matrix.sum(axis=0), 1)
    chance = (matrix.sum(axis=0) * matrix.sum(axis=1)).sum() / total**2
    assert results["OVERALL_ACCURACY"] == pytest.approx(overall)
    assert results["AVERAGE_ACCURACY"] == pytest.approx(producers.mean())
    assert results["KAPPA"] == pytest.approx((overall - chance) / (1 - chance))
    assert {name: results[name] for name in outputs} == outputs

    report = json.loads(Path(outputs["OUTPUT_JSON"]).read_text())
    assert report["warnings"] == []  # the key is there for scripts, empty when nothing is to be said
    assert report["confusion_matrix"] == matrix.tolist()
    assert [item["name"] for item in report["classes"]] == CLASS_NAMES
    assert [item["producers_accuracy"] for item in report["classes"]] == pytest.approx(producers.tolist())
    mapped = matrix.sum(axis=0) > 0
    assert [item["users_accuracy"] for item in report["classes"] if item["users_accuracy"] is not None] == (
        pytest.approx(users[mapped].tolist())
    )
    f1 = 2 * np.diag(matrix) / (matrix.sum(axis=0) + matrix.sum(axis=1))
    assert [item["f1"] for item in report["classes"]] == pytest.approx(f1.tolist())

    page = Path(outputs["OUTPUT_HTML"]).read_text()
    assert f"<td class='name'>Overall accuracy</td><td>{100 * overall:.2f} %</td>" in page
    assert all(name in page for name in CLASS_NAMES)
    # The page says what each figure is (readability review of 2026-12-05: it did not stand on its own).
    assert "<dt>Producer's accuracy</dt><dd>Of the reference pixels of a class, the share the map gives that class" in page
    # F1 where one accuracy is empty (a helper's numbers check of 2026-12-06: 0.00 beside an empty one, unexplained)
    assert "0 where the map never gets it right (a class absent from the reference or never mapped, whose other" in page
    assert "(a class without reference pixels, whose producer's accuracy is empty, is left out)" in page
    # Which files, and when (a readability review of 2026-12-05: a page kept apart from its map said neither).
    assert report["reference_file"] == str(scene.test) and report["class_map"] == classified.results["OUTPUT"]
    made = datetime.fromisoformat(report["created"])
    assert made.tzinfo is not None and abs(datetime.now(timezone.utc) - made).total_seconds() < 600
    assert (f"<p>Class map: {classified.results['OUTPUT']}<br>Reference: test ({scene.test})<br>Made: "
            f"{made.strftime('%Y-%m-%d %H:%M')} UTC by the MRS plugin {mrs_version}</p>") in page

    rows = list(csv.reader(Path(outputs["OUTPUT_CSV"]).read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:2] == ["class_value", "class_name"]
    assert [row[1] for row in rows[1:8]] == CLASS_NAMES
    assert [[int(cell) for cell in row[1:]] for row in rows[-7:]] == matrix.tolist()


@pytest.mark.parametrize("declared, named", [(True, True), (False, True), (True, False)])
def test_reference_pixels_the_map_leaves_without_a_class_are_counted_apart_and_said_in_every_report(
        mrs, scene, classified, tmp_path, declared, named):
    """Red team of 2026-12-04: a map covering 62 % of the reference scored as a whole one, the
    left-out pixels said in a log line only; and an undeclared 0 counted them as errors instead.
    A helper's QGIS-side check of 2026-12-06: a reference of class values without names had its
    classes said by number in the warning ('5' 24 of 43), by the map's names on the page."""
    reference_path = scene.test
    if not named:
        (tmp_path / "unnamed").mkdir()
        reference_path = tmp_path / "unnamed" / "test.tif"
        source = gdal.Open(str(scene.test))
        plain = gdal.GetDriverByName("GTiff").Create(str(reference_path), source.RasterXSize, source.RasterYSize, 1,
                                                     gdal.GDT_Byte)
        plain.SetGeoTransform(source.GetGeoTransform())
        plain.SetProjection(source.GetProjection())
        plain.GetRasterBand(1).WriteArray(source.GetRasterBand(1).ReadAsArray())
        plain.GetRasterBand(1).SetNoDataValue(0)
        plain = source = None
    holed = tmp_path / "holed.tif"
    copy = gdal.GetDriverByName("GTiff").CreateCopy(str(holed), gdal.Open(classified.results["OUTPUT"]))
    band = copy.GetRasterBand(1)
    values = band.ReadAsArray()
    values[:10] = 0
    band.WriteArray(values)
    if not declared:
        band.DeleteNoDataValue()
    copy = None
    outputs = {name: str(tmp_path / f"accuracy.{name[7:].lower()}") for name in ("OUTPUT_HTML", "OUTPUT_JSON", "OUTPUT_CSV")}
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(holed), "REFERENCE_LABELS": str(reference_path), **outputs}, feedback)
    reference = read_raster(scene.test).values
    unmapped = int(np.count_nonzero(reference[:10] > 0))
    kept = reference.copy()
    kept[:10] = 0
    matrix = confusion(kept, values, 7)
    assert unmapped > 0 and results["OVERALL_ACCURACY"] == pytest.approx(np.trace(matrix) / matrix.sum())
    report = json.loads(Path(outputs["OUTPUT_JSON"]).read_text())
    assert report["confusion_matrix"] == matrix.tolist() and report["pixels"] == matrix.sum()
    assert report["unmapped_reference_pixels"] == unmapped
    share = 100 * unmapped / (unmapped + matrix.sum())
    # The classes it leaves out at least twice (and 20 %) as often as the whole are named.
    lost = [(c.name, int(np.count_nonzero(reference[:10] == c.value)), int(np.count_nonzero(reference == c.value)))
            for c in CLASSES]
    uneven = "; ".join(f"'{name}' {out:,} of {count:,} ({100 * out / count:.0f} %)" for name, out, count in lost
                       if out / count >= max(2 * share / 100, 0.2))
    warning = (f"{unmapped:,} of the {unmapped + matrix.sum():,} reference pixels of 'test' ({share:.0f} %) lie where the map "
               f"'holed' has no class (nodata); the figures leave them out and describe the mapped pixels only."
               + (f" It leaves out some classes far more than the others: {uneven}; their figures describe the rest "
                  "of them only." if uneven else ""))
    assert uneven
    assert report["warnings"] == [warning] and warning in feedback.warnings
    # The reference's own count, before the map's nodata takes its share (a helper's numbers check of
    # 2026-12-06: '726 labelled pixels', then '306 of the 1,032 reference pixels').
    labelled = np.count_nonzero(reference > 0)
    assert feedback.log_with(f"'test': {labelled:,} labelled pixels in 7 classes.")
    assert html.escape(warning) in Path(outputs["OUTPUT_HTML"]).read_text()
    assert f"<td class='name'>Reference pixels without a class in the map (left out)</td><td>{unmapped}</td>" in (
        Path(outputs["OUTPUT_HTML"]).read_text())
    rows = list(csv.reader(Path(outputs["OUTPUT_CSV"]).read_text(encoding="utf-8-sig").splitlines()))
    assert ["unmapped_reference_pixels", str(unmapped)] in rows and ["warning", warning] in rows


def test_a_reference_of_one_class_gives_that_classes_producers_accuracy(mrs, scene, classified, tmp_path):
    """Field points of one class ask how much of it the map found (red team of 2026-12-04: refused
    as training samples of one class are)."""
    reference = read_raster(scene.test).values
    only = str(tmp_path / "water.tif")
    copy = gdal.GetDriverByName("GTiff").CreateCopy(only, gdal.Open(str(scene.test)))
    copy.GetRasterBand(1).WriteArray(np.where(reference == 1, 1, 0))
    copy = None
    output = str(tmp_path / "a.json")
    run("mrs:accuracy", {"INPUT": classified.results["OUTPUT"], "REFERENCE_LABELS": only,
                         "OUTPUT_HTML": str(tmp_path / "a.html"), "OUTPUT_JSON": output})
    mapped = read_raster(classified.results["OUTPUT"]).values[reference == 1]
    report = json.loads(Path(output).read_text())
    assert report["overall_accuracy"] == pytest.approx(np.mean(mapped == 1))
    first = report["classes"][report["class_values"].index(1)]
    assert first["reference_pixels"] == len(mapped) and first["producers_accuracy"] == pytest.approx(np.mean(mapped == 1))


def trained_on_warning(feedback: RecordingFeedback, classifier, reference: str, map_name: str) -> str:
    """The warning of an accuracy run whose reference holds every training pixel of `classifier`."""
    total = int(re.search(r"on (\d+) reference pixels", " ".join(feedback.infos)).group(1))
    trained = model_file.read_metadata(classifier.path, [model_file.CLASSIFIER])["trained_pixels"]["count"]
    assert 0 < trained < total  # a quarter of the samples validated the fine-tuning
    return (f"{100 * trained / total:.0f} % of the pixels of the reference '{reference}' lie on pixels the classifier "
            f"of '{map_name}' was trained on: if they are its training samples, these figures say how well it learned "
            "them, not how accurate the map is; assess the map on samples kept apart from training.")


def test_accuracy_keeps_class_values_above_two_to_the_24_apart(mrs, tmp_path):
    """float32 holds every integer only up to 2**24: the map's classes 16777216 and 16777217 were
    read as one, and the report gave 54 % for a map that was right everywhere (red team of
    2026-12-04)."""
    values = np.where(np.arange(12 * 16).reshape(12, 16) % 2 == 0, 16777216, 16777217).astype(np.uint32)
    write_raster(tmp_path / "map.tif", values, nodata=0)
    write_raster(tmp_path / "reference.tif", values, nodata=0)
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_JSON": str(tmp_path / "report.json"),
                                   "OUTPUT_HTML": str(tmp_path / "report.html")})
    assert results["OVERALL_ACCURACY"] == 1.0
    assert json.loads((tmp_path / "report.json").read_text())["class_values"] == [16777216, 16777217]


def test_accuracy_warns_when_the_map_and_the_reference_share_no_class_code(mrs, tmp_path):
    """A map coded 11-13 against a reference coded 1-3 scored 0 % without a word (red team of
    2026-12-04)."""
    reference = (np.arange(12 * 16).reshape(12, 16) % 3 + 1).astype(np.uint8)
    write_raster(tmp_path / "map.tif", reference + 10, nodata=0)
    write_raster(tmp_path / "reference.tif", reference, nodata=0)
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "report.html"),
                                   "OUTPUT_JSON": str(tmp_path / "report.json")}, feedback)
    warning = ("None of the classes the map 'map' gives the reference pixels (11, 12, 13) is a class of the reference "
               "'reference' (1, 2, 3): the figures compare different class codes. If they stand for the same classes, "
               "recode one layer to the other's values, or give both the same class names.")
    assert results["OVERALL_ACCURACY"] == 0.0
    assert feedback.warnings == [warning]
    assert json.loads((tmp_path / "report.json").read_text())["warnings"] == [warning]
    write_raster(tmp_path / "half.tif", np.where(reference == 1, 1, reference + 10).astype(np.uint8), nodata=0)
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "half.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                         "OUTPUT_HTML": str(tmp_path / "half.html")}, feedback)
    assert feedback.warnings == []


def test_a_reference_s_named_class_0_under_another_nodata_is_warned_of_in_the_report(mrs, tmp_path):
    """A reference whose class 0 ('Crop') sat under a declared nodata of 255 lost that class
    from the figures without a word, in the log or the report (red team of 2026-12-04)."""
    reference = (np.arange(8 * 10).reshape(8, 10) % 3).astype(np.uint8)
    write_raster(tmp_path / "reference.tif", reference, nodata=255, category_names=["Crop", "Water", "Trees"])
    write_raster(tmp_path / "map.tif", np.where(reference == 0, 1, reference).astype(np.uint8), nodata=0)
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                         "OUTPUT_HTML": str(tmp_path / "r.html"), "OUTPUT_JSON": str(tmp_path / "r.json")}, feedback)
    warning = ("The label layer 'reference' names its value 0 'Crop' and declares 255 as its nodata value, but 0 "
               f"means unlabelled here, so its pixels of value 0 ({np.count_nonzero(reference == 0)}) are left out. If "
               "0 is a class, recode the classes from 1.")
    assert feedback.warnings == [warning]
    assert json.loads((tmp_path / "r.json").read_text())["warnings"] == [warning]
    write_raster(tmp_path / "unlabelled.tif", reference, nodata=255, category_names=["Unlabelled", "Water", "Trees"])
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "unlabelled.tif"),
                         "OUTPUT_HTML": str(tmp_path / "u.html")}, feedback)
    assert feedback.warnings == []
    # No nodata declared at all, and a class whose name holds 'fill' (helpers' review of 2026-12-04).
    write_raster(tmp_path / "landfill.tif", reference, category_names=["Landfill", "Water", "Trees"])
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "landfill.tif"),
                         "OUTPUT_HTML": str(tmp_path / "l.html")}, feedback)
    assert feedback.warnings == [warning.replace("'reference'", "'landfill'").replace("'Crop'", "'Landfill'").replace(
        "declares 255 as its nodata value", "declares no nodata value")]


def test_a_class_the_map_leaves_out_far_more_than_the_others_is_named(mrs, tmp_path):
    """60 % of a reference's water lay where a band's nodata 0 left the map without a class; the
    warning gave 2 % of all its pixels, and the water's figures described the rest only (red team
    of 2026-12-04)."""
    reference = np.ones((10, 20), np.uint8)
    reference[:, 10:] = 2
    reference[:2, :5] = 3
    write_raster(tmp_path / "reference.tif", reference, nodata=0, category_names=["", "Crop", "Trees", "Water"])
    mapped = reference.copy()
    mapped[:2, :3] = 0  # 6 of the 10 water pixels
    mapped[9, 19] = 0  # one of the 100 trees
    write_raster(tmp_path / "map.tif", mapped, nodata=0, category_names=["", "Crop", "Trees", "Water"])
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                         "OUTPUT_HTML": str(tmp_path / "r.html")}, feedback)
    assert feedback.warnings == [
        "7 of the 200 reference pixels of 'reference' (4 %) lie where the map 'map' has no class (nodata); the figures "
        "leave them out and describe the mapped pixels only. It leaves out some classes far more than the others: "
        "'Water' 6 of 10 (60 %); their figures describe the rest of them only."]
    mapped[:2, :5] = 0  # every water pixel: no rest to describe (a helper's audit of 2026-12-05)
    write_raster(tmp_path / "map.tif", mapped, nodata=0, category_names=["", "Crop", "Trees", "Water"])
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                         "OUTPUT_HTML": str(tmp_path / "r.html")}, feedback)
    assert feedback.warnings[-1].endswith(
        "It leaves out some classes far more than the others: 'Water' 10 of 10 (100 %); 'Water' has no figures at all, "
        "and the average accuracy leaves it out.")


def test_reference_samples_outside_the_map_are_counted_and_said_in_every_report(mrs, tmp_path):
    """A map of the west half of a reference scored on the other half's silence: its 'left out'
    row said 0 and no warning came (red team of 2026-12-04)."""
    reference = (np.arange(12 * 16).reshape(12, 16) % 3 + 1).astype(np.uint8)
    write_raster(tmp_path / "reference.tif", reference, nodata=0)
    write_raster(tmp_path / "map.tif", reference[:, :6], nodata=0)
    outputs = {name: str(tmp_path / f"accuracy.{name[7:].lower()}") for name in ("OUTPUT_HTML", "OUTPUT_JSON", "OUTPUT_CSV")}
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"),
                                   "REFERENCE_LABELS": str(tmp_path / "reference.tif"), **outputs}, feedback)
    warning = ("120 pixels of the reference 'reference' lie outside the map 'map'; the figures leave them out and "
               "describe the area the map covers only.")
    report = json.loads(Path(outputs["OUTPUT_JSON"]).read_text())
    assert results["OVERALL_ACCURACY"] == 1.0 and report["pixels"] == 12 * 6
    assert (report["outside_map"], report["outside_map_unit"]) == (120, "pixels")
    assert feedback.warnings == [warning] and report["warnings"] == [warning]
    page = Path(outputs["OUTPUT_HTML"]).read_text()
    assert "<td class='name'>Pixels of the reference outside the map (left out)</td><td>120</td>" in page
    assert html.escape(warning) in page
    assert ["outside_map", "120"] in list(csv.reader(
        Path(outputs["OUTPUT_CSV"]).read_text(encoding="utf-8-sig").splitlines()))
    points = [(point_wkt(664000.5 + col, 5102000 - 0.5 - row), {"class_id": int(reference[row, col])})
              for row, col in [(0, 0), (3, 2), (5, 5), (7, 9), (11, 15)]]
    samples = write_vector(tmp_path / "points.gpkg", points, {"class_id": ogr.OFTInteger})
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE": samples, "REFERENCE_FIELD": "class_id",
                         "OUTPUT_HTML": str(tmp_path / "points.html")}, feedback)
    assert feedback.warnings == ["2 features of the reference 'points' lie outside the map 'map'; the figures leave "
                                 "them out and describe the area the map covers only."]
    assert not [line for line in feedback.infos if "lie outside" in line]  # said once (a helper's red team, 12-06)



def test_reference_features_without_a_class_or_geometry_are_counted_and_said_in_every_report(mrs, tmp_path):
    """Red team of 2026-12-05: 48 water points of a reference with an empty class were left out with
    a log line; the reports listed water with no reference pixel, left out nothing, warned of nothing."""
    reference = (np.arange(12 * 16).reshape(12, 16) % 3 + 1).astype(np.uint8)
    write_raster(tmp_path / "map.tif", reference, nodata=0, category_names=["", "Crop", "Trees", "Water"])
    features = [(point_wkt(664000.5 + col, 5102000 - 0.5 - row), {"class_id": int(reference[row, col])})
                for row, col in [(0, 0), (3, 2), (5, 5), (7, 9), (11, 15)]]
    features += [(point_wkt(664001.5, 5101999.5), {"class_id": None}), (point_wkt(664002.5, 5101999.5), {}),
                 (None, {"class_id": 2})]
    samples = write_vector(tmp_path / "points.gpkg", features, {"class_id": ogr.OFTInteger})
    outputs = {name: str(tmp_path / f"accuracy.{name[7:].lower()}") for name in ("OUTPUT_HTML", "OUTPUT_JSON", "OUTPUT_CSV")}
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE": samples, "REFERENCE_FIELD": "class_id",
                         **outputs}, feedback)
    warning = ("3 of the 8 features of the reference 'points' are left out of the figures: 2 have no class, 1 has no "
               "geometry. Fill them in (a class, a geometry over pixel centres) to have them assessed.")
    report = json.loads(Path(outputs["OUTPUT_JSON"]).read_text())
    assert feedback.warnings == [warning] and report["warnings"] == [warning]
    assert report["pixels"] == 5 and report["reference_features_left_out"] == 3
    page = Path(outputs["OUTPUT_HTML"]).read_text()
    assert "<td class='name'>Features of the reference without a class, a geometry or a pixel centre (left out)</td><td>3</td>" in page
    assert ["reference_features_left_out", "3"] in list(csv.reader(
        Path(outputs["OUTPUT_CSV"]).read_text(encoding="utf-8-sig").splitlines()))
    write_raster(tmp_path / "reference.tif", reference, nodata=0)
    run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                         "OUTPUT_HTML": str(tmp_path / "raster.html"), "OUTPUT_JSON": str(tmp_path / "raster.json")})
    assert json.loads((tmp_path / "raster.json").read_text())["reference_features_left_out"] == 0

def test_a_reference_whose_names_stand_for_other_values_is_matched_by_name(mrs, tmp_path):
    """The reference's 'Grassland' and 'Crop' are the map's 2 and 1, and its 'Marsh' no class of the
    map: matched by value, a map right on 32 % of the pixels scored 88 %, the names' difference said
    in a log line only (red team of 2026-12-04)."""
    truth = (np.arange(12 * 16).reshape(12, 16) % 3 + 1).astype(np.uint8)  # 1 Grassland, 2 Crop, 3 Marsh
    write_raster(tmp_path / "reference.tif", truth, nodata=0, category_names=["", "Grassland", "Crop", "Marsh"])
    right = np.select([truth == 1, truth == 2], [2, 1], 3).astype(np.uint8)  # the map's codes, Marsh as bare soil
    write_raster(tmp_path / "map.tif", right, nodata=0, category_names=["", "Crop", "Grassland", "Bare soil"])
    feedback = RecordingFeedback()
    output = str(tmp_path / "report.json")
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "report.html"), "OUTPUT_JSON": output}, feedback)
    assert results["OVERALL_ACCURACY"] == pytest.approx(np.mean(truth != 3))
    report = json.loads(Path(output).read_text())
    assert [item["name"] for item in report["classes"]] == ["Crop", "Grassland", "Bare soil", "Marsh"]
    # Marsh, no class of the map, has no value in it: the report showed 4, a value of neither layer (review of
    # 2026-12-05).
    assert report["class_values"] == [1, 2, 3, None]
    assert "<tr><td class='name'>Marsh</td><td>none in the map</td>" in (tmp_path / "report.html").read_text()
    assert feedback.warnings == report["warnings"] == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'Grassland' (1 in the reference, 2 in the map); 'Crop' (2 in the reference, 1 in the map). If a name "
        "is wrong, correct it in the reference. The map has no class named 'Marsh': its pixels count as errors."]
    write_raster(tmp_path / "same.tif", truth, nodata=0, category_names=["", "Grassland", "Crop", "Bare soil"])
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "same.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "same.html")}, feedback)
    assert results["OVERALL_ACCURACY"] == 1.0
    assert feedback.warnings == [
        "The classes of the reference 'reference' were matched to those of the map 'same' by value, though some names "
        "differ: class 3 ('Marsh' in the reference, 'Bare soil' in the map). If they are different classes, recode one "
        "layer to the other's values, or give both the same class names."]


def test_a_reference_named_in_part_or_by_padded_numbers_is_matched_without_merging_classes(mrs, tmp_path):
    """Red team of 2026-12-04: with only class 1 named ('Grassland', the map's 2), the unnamed class 2
    was matched by value to the map's 2 as well, and the two merged; and classes written '01'..'03'
    were said to be named otherwise than the map's."""
    truth = (np.arange(12 * 16).reshape(12, 16) % 3 + 1).astype(np.uint8)
    write_raster(tmp_path / "map.tif", np.select([truth == 1, truth == 2], [2, 1], 3).astype(np.uint8), nodata=0,
                 category_names=["", "Crop", "Grassland", "Water"])
    write_raster(tmp_path / "reference.tif", truth, nodata=0, category_names=["", "Grassland"])
    feedback = RecordingFeedback()
    output = str(tmp_path / "report.json")
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "report.html"), "OUTPUT_JSON": output}, feedback)
    assert results["OVERALL_ACCURACY"] == pytest.approx(np.mean(truth == 1))
    assert feedback.warnings == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'Grassland' (1 in the reference, 2 in the map). If a name is wrong, correct it in the reference. "
        "Classes 2, 3 of the reference have no name to match by: their pixels count as errors."]
    features = [(point_wkt(664000.5 + col, 5102000 - 0.5 - row), {"class": f"0{truth[row, col]}"})
                for row, col in [(0, 0), (0, 1), (0, 2), (5, 5)]]
    samples = write_vector(tmp_path / "padded.gpkg", features, {"class": ogr.OFTString})
    write_raster(tmp_path / "same.tif", truth, nodata=0, category_names=["", "Crop", "Grassland", "Water"])
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "same.tif"), "REFERENCE": samples, "REFERENCE_FIELD": "class",
                                   "OUTPUT_HTML": str(tmp_path / "padded.html")}, feedback)
    assert results["OVERALL_ACCURACY"] == 1.0 and feedback.warnings == []


@pytest.mark.parametrize("map_names, reference_names, warned", [
    # Red team of 2026-12-05: a map class named '3' (value 4) drew the unnamed reference's class 3 to
    # it, and every other class became an error (0 % for a map right everywhere) ...
    (["Crop", "Grassland", "Water", "3"], None, None),
    # ... the map's 'Forest' and 'forest' merged into one, so a reference's 'Forest' was scored
    # against 'forest' (a reference's names alike but for case are no training's, whose legend would
    # not tell them apart: not warned of, review of 2026-12-05) ...
    (["Forest", "forest", "Water", "Soil"], ["Forest", "forest", "Water", "Soil"], None),
    # ... (review of 2026-12-05) of two map classes named 'Forest' the last was taken, and a
    # reference's 'FOREST' beside the map's 'Forest' and 'forest' was said to be no class of the
    # map, its pixels errors, where the values agree: such a name matches nothing, values decide.
    (["Forest", "Water", "Forest"], ["Forest", "Water", "Soil"],
     "The classes of the reference 'reference' were matched to those of the map 'map' by value, though some names "
     "differ: class 3 ('Soil' in the reference, 'Forest' in the map). If they are different classes, recode one "
     "layer to the other's values, or give both the same class names."),
    (["Forest", "forest", "Water"], ["FOREST", "forest", "Water"], None),
], ids=["number-like", "letter-case", "twice", "ambiguous-case"])
def test_class_names_like_numbers_or_alike_but_for_case_are_not_matched_wrongly(mrs, tmp_path, map_names,
                                                                                   reference_names, warned):
    truth = (np.arange(12 * 16).reshape(12, 16) % len(map_names) + 1).astype(np.uint8)
    write_raster(tmp_path / "map.tif", truth, nodata=0, category_names=["", *map_names])
    write_raster(tmp_path / "reference.tif", truth, nodata=0,
                 category_names=["", *reference_names] if reference_names else None)
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "report.html")}, feedback)
    assert results["OVERALL_ACCURACY"] == 1.0
    assert feedback.warnings == ([warned] if warned else [])


def test_a_reference_value_the_map_lacks_is_matched_to_the_map_class_of_its_name(mrs, tmp_path):
    """A classifier trained on names such as '10', '20' and 'Water' maps them as 1, 2, 3; a reference
    of 10, 20 and 'Water' 30 is matched by those names (review of 2026-12-05: 10 and 20 became errors
    once a class named by its value only was matched by value alone)."""
    codes = (np.arange(12 * 16).reshape(12, 16) % 3).astype(np.uint8)
    write_raster(tmp_path / "map.tif", codes + 1, nodata=0, category_names=["", "10", "20", "Water"])
    write_raster(tmp_path / "reference.tif", (codes + 1) * 10, nodata=0,
                 category_names=[""] * 30 + ["Water"])
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "map.tif"), "REFERENCE_LABELS": str(tmp_path / "reference.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "report.html")})
    assert results["OVERALL_ACCURACY"] == 1.0


def test_a_reference_name_that_could_be_more_than_one_class_of_the_map_is_said(mrs, tmp_path):
    """A reference of names has no values to fall back on (review of 2026-12-05)."""
    truth = (np.arange(12 * 16).reshape(12, 16) % 3 + 1).astype(np.uint8)
    write_raster(tmp_path / "cased.tif", truth, nodata=0, category_names=["", "Forest", "forest", "Water"])
    points = write_vector(tmp_path / "named.gpkg", [(point_wkt(664000.5, 5102000 - 0.5), {"class": "FOREST"})],
                          {"class": ogr.OFTString})
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:accuracy", {"INPUT": str(tmp_path / "cased.tif"), "REFERENCE": points, "REFERENCE_FIELD": "class",
                             "OUTPUT_HTML": str(tmp_path / "named.html")})
    assert str(refused.value).splitlines()[-1] == (
        "The reference classes of 'named' are names, and 'FOREST' could be more than one class of the map 'cased': "
        "its classes are 'Forest', 'forest', 'Water'. Use the class names of the map, or give the reference classes "
        "as class values (a field of whole numbers, or a label raster).")


def test_a_reference_of_names_with_a_class_the_map_lacks_counts_its_pixels_as_errors(mrs, tmp_path):
    """A helper's red team of 2026-12-06: a reference of names with 'Wetland', which the map has not,
    was refused whole ('Use the class names of the map'), where a reference of values counts a class
    the map lacks as errors."""
    truth = (np.arange(12 * 16).reshape(12, 16) % 2 + 1).astype(np.uint8)
    write_raster(tmp_path / "named_map.tif", truth, nodata=0, category_names=["", "Forest", "Water"])
    x0, y0 = 664000.5, 5102000 - 0.5
    features = [(point_wkt(x0 + col, y0 - row), {"class": "Water" if truth[row, col] == 2 else "Forest"})
                for row, col in ((0, 0), (0, 1), (1, 0), (1, 1))] + [(point_wkt(x0 + 2, y0), {"class": "Wetland"})]
    points = write_vector(tmp_path / "wet.gpkg", features, {"class": ogr.OFTString})
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": str(tmp_path / "named_map.tif"), "REFERENCE": points,
                                   "REFERENCE_FIELD": "class", "OUTPUT_HTML": str(tmp_path / "wet.html")}, feedback)
    assert results["OVERALL_ACCURACY"] == 0.8
    assert "The map has no class named 'Wetland': its pixels count as errors." in feedback.warnings


def test_a_reference_of_values_matched_by_names_that_say_otherwise_is_warned_of(mrs, scene, classified, tmp_path):
    """Red team of 2026-12-05: a reference raster whose names of classes 1 and 2 were swapped was
    matched by name (OA 85 -> 41 %) with an info line only, and its reports said nothing."""
    reference = read_raster(scene.test)
    names = ["", *(info.name for info in CLASSES)]
    names[1], names[2] = names[2], names[1]
    write_raster(tmp_path / "swapped.tif", reference.values, reference.geotransform, nodata=0, category_names=names)
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", {"INPUT": classified.results["OUTPUT"], "REFERENCE_LABELS": str(tmp_path / "swapped.tif"),
                                   "OUTPUT_HTML": str(tmp_path / "r.html"), "OUTPUT_JSON": str(tmp_path / "r.json")},
                  feedback)
    warning = (f"The classes of the reference 'swapped' were matched to those of the map 'landcover' by name, as their "
               f"values differ: '{names[1]}' (1 in the reference, 2 in the map); '{names[2]}' (2 in the reference, 1 "
               "in the map). If a name is wrong, correct it in the reference.")
    assert warning in feedback.warnings
    assert warning in json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert results["OVERALL_ACCURACY"] < 0.9 * overall_accuracy(read_raster(classified.results["OUTPUT"]).values,
                                                                 reference.values)


def test_accuracy_matches_reference_classes_to_the_map_by_name(mrs, scene, classifier, classified, tmp_path):
    # The training points' class_name field holds text: classes are matched to the map's by name.
    parameters = {
        "INPUT": classified.results["OUTPUT"],
        "REFERENCE": str(scene.train_points),
        "REFERENCE_FIELD": "class_name",
        "OUTPUT_HTML": str(tmp_path / "report.html"),
    }
    feedback = RecordingFeedback()
    results = run("mrs:accuracy", parameters, feedback)
    expected = overall_accuracy(read_raster(classified.results["OUTPUT"]).values, read_raster(scene.train).values)
    assert results["OVERALL_ACCURACY"] == pytest.approx(expected)
    assert "The reference classes were matched to the map's classes by their names." in feedback.infos
    assert (results["OUTPUT_JSON"], results["OUTPUT_CSV"]) == (None, None)
    # The map's classifier was trained on these points (bar a quarter that validated): said, with the share.
    assert [line for line in feedback.warnings if "trained on" in line] == [trained_on_warning(
        feedback, classifier, "train_points", "landcover")]


def test_accuracy_on_a_copy_of_the_training_samples_says_what_share_was_trained_on(mrs, scene, classifier,
                                                                                  classified, tmp_path):
    """The same samples under another name (red team of 2026-12-04: a copy of the training labels
    scored as the map's accuracy without a word): found by their pixels, not their file."""
    copy = tmp_path / "copy.gpkg"
    shutil.copy(scene.train_points, copy)
    reports = {name: tmp_path / f"report.{name[7:].lower()}" for name in ("OUTPUT_HTML", "OUTPUT_JSON", "OUTPUT_CSV")}
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": classified.results["OUTPUT"], "REFERENCE": str(copy), "REFERENCE_FIELD": "class_id",
                         **{name: str(path) for name, path in reports.items()}}, feedback)
    warning = trained_on_warning(feedback, classifier, "copy", "landcover")
    assert [line for line in feedback.warnings if "trained on" in line] == [warning]
    # The reports say it too: they are what is passed on.
    assert json.loads(reports["OUTPUT_JSON"].read_text())["warnings"] == [warning]
    assert f"<p class='warning'>Warning: {html.escape(warning)}</p>" in reports["OUTPUT_HTML"].read_text()
    assert ["warning", warning] in list(csv.reader(reports["OUTPUT_CSV"].read_text(encoding="utf-8-sig").splitlines()))


def test_a_reference_given_as_one_layer_of_a_geopackage_is_named_by_that_layer(mrs, scene, classifier, classified,
                                                                              tmp_path):
    """qgis_process names 'multi.gpkg|layername=decoy_train' after its file, 'multi' (red team of
    2026-12-04): the messages name the layer, as the Browser does."""
    multi = tmp_path / "multi.gpkg"
    gdal.VectorTranslate(str(multi), str(scene.train_points), layerName="decoy_train")
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": classified.results["OUTPUT"], "REFERENCE": f"{multi}|layername=decoy_train",
                         "REFERENCE_FIELD": "class_id", "OUTPUT_HTML": str(tmp_path / "report.html")}, feedback)
    assert [line for line in feedback.warnings if "trained on" in line] == [trained_on_warning(
        feedback, classifier, "decoy_train", "landcover")]


def test_a_map_that_carries_its_training_pixels_is_judged_by_them_not_by_the_labels_layer_it_names(
        mrs, scene, classified, tmp_path):
    """A sample file named without a layer matches every layer of it by name (red team of
    2026-12-04: the test points in another layer of the training GeoPackage were said to be the
    training samples); the pixels tell them apart."""
    named = tmp_path / "named.tif"
    gdal.Translate(str(named), classified.results["OUTPUT"])
    dataset = gdal.Open(str(named), gdal.GA_Update)
    dataset.SetMetadataItem("MRS_TRAINED_ON", os.path.abspath(str(scene.test)))
    dataset = None
    feedback = RecordingFeedback()
    run("mrs:accuracy", {"INPUT": str(named), "REFERENCE_LABELS": str(scene.test),
                         "OUTPUT_HTML": str(tmp_path / "report.html")}, feedback)
    assert not any("trained on" in line for line in feedback.warnings)


def read_similarity(path: str):
    rows = list(csv.reader(Path(path).read_text(encoding="utf-8-sig").splitlines()))
    return rows[0][1:], np.array([[float(cell) for cell in row[1:]] for row in rows[1:]])


def test_redundancy_maps_band_similarity_and_the_leak_of_random_masking(mrs, scene, tmp_path):
    def redundancy(ratio: float, name: str) -> dict:
        return run("mrs:redundancy", {
            **scene_layers(scene), "THRESHOLD": 0.95, "MASK_RATIO": ratio, "SAMPLE_SIZE": 1000,
            "OUTPUT_PNG": str(tmp_path / f"{name}.png"), "OUTPUT_CSV": str(tmp_path / f"{name}.csv"),
        })

    results = redundancy(0.1, "low")
    assert Path(results["OUTPUT_PNG"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels, similarity = read_similarity(results["OUTPUT_CSV"])
    assert labels[0] == "415.0 nm" and labels[N_HSI - 1] == "985.0 nm"
    assert labels[N_HSI:] == ["nDSM height above ground (m)", "LiDAR return intensity (relative, 0-100)"]
    assert similarity.shape == (N_HSI + N_AUX,) * 2
    assert np.allclose(similarity, similarity.T) and np.allclose(np.diag(similarity), 1.0)
    groups = results["GROUPS"].split("; ")
    assert len(groups) == results["GROUP_COUNT"] == len(redundant_groups(similarity, 0.95))
    assert groups[0].startswith("1-") and groups[0].endswith("nm)")
    assert 0.0 < results["LEAKAGE"] <= 1.0
    # Hiding most bands at random leaves fewer hidden bands with a visible near-copy.
    assert redundancy(0.9, "high")["LEAKAGE"] < results["LEAKAGE"]


def test_redundancy_shows_its_heat_map_groups_and_leak_on_a_page_the_results_viewer_opens(mrs, scene, tmp_path):
    """The heat map went to a file (by default a temporary one) that nothing opened (desktop red
    team of 2026-12-04): the optional report, created by default in the dialog, embeds it."""
    import base64

    algorithm = QgsApplication.processingRegistry().algorithmById("mrs:redundancy")
    report = algorithm.parameterDefinition("OUTPUT_HTML")
    assert report.flags() & QgsProcessingParameterDefinition.FlagOptional and report.createByDefault()
    assert algorithm.outputDefinition("OUTPUT_HTML").type() == "outputHtml"
    results = run("mrs:redundancy", {**scene_layers(scene), "SAMPLE_SIZE": 1000, "OUTPUT_PNG": str(tmp_path / "s.png"),
                                     "OUTPUT_CSV": str(tmp_path / "s.csv"), "OUTPUT_HTML": str(tmp_path / "s.html")})
    page = Path(results["OUTPUT_HTML"]).read_text()
    assert page.startswith("<html><head><meta charset='utf-8'><title>Band redundancy</title>")
    embedded = page.split("src='data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(embedded) == (tmp_path / "s.png").read_bytes()
    assert page.count("<tr><td class='name'>") == 2 + results["GROUP_COUNT"]  # the summary's two rows, each group
    assert "<td class='name'>nDSM height above ground (m)" in page  # single bands by name too
    assert f"{100 * results['LEAKAGE']:.2f} % of the masked bands" in page
    run("mrs:redundancy", {**scene_layers(scene), "SAMPLE_SIZE": 1000, "OUTPUT_PNG": str(tmp_path / "s.png"),
                           "OUTPUT_CSV": str(tmp_path / "s.csv"), "OUTPUT_HTML": str(tmp_path / "s.html")})


def test_redundancy_canceled_once_its_pixels_are_read_writes_nothing(mrs, scene, tmp_path):
    """Red team of 2026-12-04: a Cancel after the pixel sample was acknowledged, then the outputs written."""
    parameters = {**scene_layers(scene), "SAMPLE_SIZE": 1000, "OUTPUT_PNG": str(tmp_path / "s.png"),
                  "OUTPUT_CSV": str(tmp_path / "s.csv")}
    with pytest.raises(QgsProcessingException, match="Canceled by the user."):
        run("mrs:redundancy", parameters, CancelingFeedback(at=80.0))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("bands, said", [
    ([2, 5], "2 of the 20 bands hold one value in all 500 pixels sampled (b3, b6): they carry nothing to compare, so each "
             "stands alone in the groups with a similarity of 0 to every other band."),
    ([2], "1 of the 20 bands holds one value in all 500 pixels sampled (b3): it carries nothing to compare, so it stands "
          "alone in the groups with a similarity of 0 to every other band."),  # 'so each' (a helper, 2026-12-05)
])
def test_redundancy_says_which_bands_are_constant_and_so_stand_alone(mrs, scene, tmp_path, bands, said):
    dataset = gdal.Open(str(scene.hsi))
    hsi = dataset.ReadAsArray().astype(np.float32)
    dataset = None
    hsi[bands] = hsi[2, 0, 0]
    flat = write_raster(tmp_path / "flat.tif", hsi, descriptions=[f"b{number}" for number in range(1, len(hsi) + 1)])
    feedback = RecordingFeedback()
    results = run("mrs:redundancy", {
        "INPUT_HSI": flat, "SAMPLE_SIZE": 500,
        "OUTPUT_PNG": str(tmp_path / "r.png"), "OUTPUT_CSV": str(tmp_path / "r.csv")}, feedback)
    assert said in feedback.warnings
    _labels, similarity = read_similarity(results["OUTPUT_CSV"])
    assert np.all(similarity[2, np.arange(20) != 2] == 0.0)


@pytest.mark.parametrize("command_line", [True, False])
def test_a_checkpoint_in_qgis_s_temporary_folder_is_said_to_be_gone_with_it_under_qgis_process(
        mrs, scene, monkeypatch, command_line):
    """A helper's red team of 2026-12-07: canceled under qgis_process, a pretraining given TEMPORARY_OUTPUT said its
    checkpoint there resumes the run; qgis_process deleted it as it ended. The desktop keeps that folder."""
    from qgis.core import QgsProcessingUtils

    from mrs.algorithms import base

    monkeypatch.setattr(base, "on_command_line", lambda: command_line)
    feedback = CancelingFeedback(at=50.0)
    with pytest.raises(QgsProcessingException, match="Canceled by the user."):
        run("mrs:pretrain", {**scene_layers(scene), **QUICK_PRETRAIN, "OUTPUT": "TEMPORARY_OUTPUT"}, feedback)
    checkpoint = next(line for line in feedback.infos if line.startswith("Canceled after")).split("'")[1]
    assert checkpoint.startswith(QgsProcessingUtils.tempFolder()) and os.path.isfile(checkpoint)
    gone = [line for line in feedback.warnings if "gone with it" in line]
    assert gone == ([f"OUTPUT's checkpoint ({checkpoint}) lies in QGIS's temporary folder, which qgis_process deletes "
                     "as it ends: it is gone with it, and cannot be resumed or finished from. Give the outputs files "
                     "of your own (--NAME=FILE) to keep what a stopped run wrote."] if command_line else [])
    os.remove(checkpoint)


def test_canceled_pretraining_keeps_a_checkpoint_that_resumes_into_the_same_model(mrs, scene, pretrained, tmp_path):
    output = str(tmp_path / "pretrained.safetensors")
    parameters = {**scene_layers(scene), **QUICK_PRETRAIN, "OUTPUT": output}
    feedback = CancelingFeedback(at=50.0)
    with pytest.raises(QgsProcessingException, match="Canceled by the user."):
        run("mrs:pretrain", parameters, feedback)
    checkpoint = checkpoint_path_for(output)
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(checkpoint)]
    state = model_file.read_metadata(checkpoint, [model_file.CHECKPOINT])["checkpoint"]["state"]
    assert 0 < state["step"] < 18  # 2 epochs of the 9 whole batches of 32 in 300 samples
    assert (f"Canceled after {state['step']} of 18 batches; the checkpoint '{checkpoint}' resumes the run: run it "
            "again with the same parameters and RESUME set to that file.") in (
        feedback.infos
    )

    feedback = RecordingFeedback()
    results = run("mrs:pretrain", {**parameters, "RESUME": checkpoint}, feedback)
    assert feedback.log_with("Resuming pretraining from")
    assert results["FINAL_LOSS"] == pytest.approx(pretrained.results["FINAL_LOSS"], rel=1e-4)
    assert sorted(os.listdir(tmp_path)) == ["pretrained.safetensors"]


def test_canceled_fine_tuning_keeps_its_checkpoint(mrs, scene, tmp_path):
    output = str(tmp_path / "classifier.safetensors")
    parameters = {**scene_layers(scene), **QUICK_FINETUNE, "LABELS": str(scene.train), "OUTPUT": output}
    with pytest.raises(QgsProcessingException, match="Canceled by the user."):
        run("mrs:finetune", parameters, CancelingFeedback(at=60.0))
    assert os.listdir(tmp_path) == [os.path.basename(checkpoint_path_for(output))]
    metadata = model_file.read_metadata(checkpoint_path_for(output), [model_file.CHECKPOINT])
    assert metadata["checkpoint"]["phase"] == "fine-tuning"


def test_the_bar_moves_batch_by_batch_on_a_scene_of_one_tile(mrs, scene, classifier, tmp_path):
    parameters = {"MODEL": classifier.path, **scene_layers(scene), "BATCH_SIZE": 128,
                  "OUTPUT": str(tmp_path / "landcover.tif")}
    feedback = RecordingFeedback()
    run("mrs:classify", parameters, feedback)
    assert "in 1 tile of up to 256 x 256" in " ".join(feedback.infos)
    # 48 x 48 pixels in batches of 128: 18 batches, each 1/18 of the bar, in order.
    moving = [value for value in feedback.percents if 0 < value < 100]
    assert moving == sorted(moving) and sorted(set(moving)) == pytest.approx([100 * k / 18 for k in range(1, 18)])
    assert feedback.percents[-1] == 100


def test_canceled_classification_leaves_no_file_behind(mrs, scene, classifier, tmp_path):
    parameters = {
        "MODEL": classifier.path, **scene_layers(scene), "TILE_SIZE": 16,
        "OUTPUT": str(tmp_path / "landcover.tif"), "OUTPUT_CONFIDENCE": str(tmp_path / "confidence.tif"),
    }
    feedback = CancelingFeedback(at=30.0)
    with pytest.raises(QgsProcessingException, match="Canceled by the user."):
        run("mrs:classify", parameters, feedback)
    assert 0 < feedback.progress() < 100
    assert os.listdir(tmp_path) == []


def test_the_precision_choices_are_those_model_core_knows(mrs):
    for name in ("pretrain", "finetune", "classify"):
        algorithm = QgsApplication.processingRegistry().algorithmById(f"mrs:{name}")
        assert algorithm.parameterDefinition("PRECISION").options() == list(PRECISIONS)


@pytest.mark.parametrize("value, threads", [("3", 3), ("1", 1), ("+2", 2), ("", None), ("0", None), ("-1", None), ("two", None),
                                           ("\u00b2", None), ("\u0663", None), ("4,2", 4), (" 1 , 2", 1)])
def test_omp_num_threads_when_set_chooses_the_torch_threads(monkeypatch, value, threads):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert requested_threads() == threads


def test_more_threads_than_cores_are_capped_at_the_cores_and_said(monkeypatch):
    """Red team of 2026-12-04: OMP_NUM_THREADS=100000 logged '100000 of 2 cores', then a traceback."""
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "100000")
    before, lines = torch.get_num_threads(), []
    try:
        threads = start_torch("qgis_process", None, Hooks(log=lines.append))
        assert threads == available_cores() == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert lines == [f"CPU threads: {threads} of {plural(threads, 'core')} (OMP_NUM_THREADS asks for 100000, more than "
                     "there are cores)."]


@pytest.mark.parametrize("value", ["garbage", "0", "2.5", "", " "])
def test_an_omp_num_threads_that_is_no_number_of_threads_is_said_to_be_left_out(monkeypatch, value):
    """Red team of 2026-12-04: libgomp's 'Invalid value for environment variable' was the only sign."""
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", value)
    before, lines, warnings = torch.get_num_threads(), [], []
    try:
        threads = start_torch("qgis_process", None, Hooks(log=lines.append, warn=warnings.append))
    finally:
        torch.set_num_threads(before)
    assert threads == available_cores()
    assert warnings == [f"OMP_NUM_THREADS is '{value}', not a number of threads (a whole number of at least 1), so it "
                        f"is left out: {plural(threads, 'thread')} {'is' if threads == 1 else 'are'} used. Set it to a "
                        "number of threads, or unset it."]


def test_a_run_gives_torch_s_threads_and_random_state_back(mrs, scene, tmp_path):
    """In QGIS other plugins and the Python console share torch: a run left its own thread count
    and re-seeded the global random generator (red team of 2026-12-04)."""
    import torch

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        torch.manual_seed(123)
        expected = torch.rand(4)
        torch.manual_seed(123)
        run("mrs:finetune", {**scene_layers(scene), **QUICK_FINETUNE, "EPOCHS": 1, "LABELS": str(scene.train),
                             "OUTPUT": str(tmp_path / "kept.safetensors")})
        assert torch.get_num_threads() == 3
        assert torch.equal(torch.rand(4), expected)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("algorithm", ["mrs:redundancy", "mrs:workflow"])
def test_checking_a_list_of_rasters_puts_no_ogr_error_in_qgis_message_log(mrs, scene, tmp_path, algorithm):
    """A helper's desktop check of 2026-12-06: every run put '[OGR] Cannot open lidar.tif' in QGIS' message
    log, as QGIS' check of INPUT_AUX opened each path with OGR first."""
    from qgis.core import QgsProcessingContext

    logged = []

    def log(message, tag, _level):
        logged.append((tag, message))

    values = {"mrs:redundancy": {"OUTPUT_PNG": str(tmp_path / "r.png"), "OUTPUT_CSV": str(tmp_path / "r.csv")},
              "mrs:workflow": {"LABELS": str(scene.train), "REFERENCE_LABELS": str(scene.test), "PRESET": "tiny",
                               "accuracy:REPORT": str(tmp_path / "a.html")}}[algorithm]
    QgsApplication.messageLog().messageReceived.connect(log)
    try:
        checked = QgsApplication.processingRegistry().createAlgorithmById(algorithm).checkParameterValues(
            {**scene_layers(scene), **values}, QgsProcessingContext())
    finally:
        QgsApplication.messageLog().messageReceived.disconnect(log)
    assert checked == (True, "") and not [message for tag, message in logged if tag == "OGR"], (checked, logged)


def test_a_loaded_output_is_named_after_its_file_unless_it_is_a_temporary_one(mrs, tmp_path):
    """A helper's desktop check of 2026-12-06: two maps were both 'Land-cover map'; a review of the change: a
    temporary output, whose file is named for its parameter, became 'Land-cover map (OUTPUT)'."""
    from qgis.core import QgsProcessingContext, QgsProcessingUtils

    from mrs.mrs_qgis_plugin.styling import name_after_file

    context = QgsProcessingContext()
    kept, temporary = str(tmp_path / "landcover.tif"), os.path.join(QgsProcessingUtils.tempFolder(), "OUTPUT.tif")
    for path in (kept, temporary):
        context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails("Land-cover map", None, "OUTPUT"))
        name_after_file(context, path, "Land-cover map")
    assert [context.layerToLoadOnCompletionDetails(path).name for path in (kept, temporary)] == [
        "Land-cover map (landcover)", "Land-cover map"]


@pytest.mark.parametrize("over", ["INPUT_AUX", "MODEL"])
def test_the_dialog_s_check_refuses_an_output_over_an_auxiliary_raster_or_the_model(mrs, scene, tmp_path, over):
    """A mutation audit of 2026-12-06: the check before the run read no list of rasters and no model file (one
    named as a map may be, so that the confidence raster's name is not refused for its extension first)."""
    from qgis.core import QgsProcessingContext

    model = tmp_path / ("model.tif" if over == "MODEL" else "model.safetensors")
    model.write_bytes(b"")
    given = {"INPUT_AUX": str(scene.lidar), "MODEL": str(model)}[over]
    parameters = {**scene_layers(scene), "MODEL": str(model), "OUTPUT": given if over == "INPUT_AUX" else str(
        tmp_path / "map.tif"), "OUTPUT_CONFIDENCE": given if over == "MODEL" else None}
    checked = QgsApplication.processingRegistry().createAlgorithmById("mrs:classify").checkParameterValues(
        parameters, QgsProcessingContext())
    assert checked[0] is False and f"is the input {over} ({given})" in checked[1], checked


@pytest.mark.parametrize("algorithm, name, file, message", [
    ("mrs:accuracy", "OUTPUT_HTML", "report.txt", "does not end in .html; give a name ending in .html."),
    ("mrs:classify", "OUTPUT", "map.png", "does not end in .tif or .tiff; give a name ending in .tif."),
    ("mrs:finetune", "OUTPUT", "gone/model.safetensors", "the folder {tmp_path}/gone does not exist; choose an "
                                                         "existing folder."),
    ("mrs:suggest", "OUTPUT", "points.shp", "does not end in .gpkg; give a name ending in .gpkg.")])
def test_the_dialog_s_check_refuses_an_output_file_its_job_would_refuse(mrs, scene, tmp_path, algorithm, name, file,
                                                                     message):
    """A helper's desktop check of 2026-12-07: a report named .txt was refused in the log of a run, after which
    QGIS said its HTML had been generated; the dialog's check now refuses it before the run, as the job does."""
    from qgis.core import QgsProcessingContext

    model = tmp_path / "model.safetensors"
    model.write_bytes(b"")
    given = {**scene_layers(scene), "MODEL": str(model), "LABELS": str(scene.train), "INPUT": str(scene.train),
             "REFERENCE_LABELS": str(scene.test), name: str(tmp_path / file)}
    checking = QgsApplication.processingRegistry().createAlgorithmById(algorithm)
    parameters = {key: value for key, value in given.items() if checking.parameterDefinition(key)}
    checked = checking.checkParameterValues(parameters, QgsProcessingContext())
    assert checked[0] is False and checked[1].startswith(f"{name}: ") and checked[1].endswith(
        message.format(tmp_path=tmp_path)), checked
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]


def test_a_list_of_rasters_naming_one_that_cannot_be_loaded_is_left_to_qgis(mrs, scene, tmp_path):
    """A mutation audit of 2026-12-06: `rasters_loaded` gives the layers only when it finds them all."""
    from qgis.core import QgsProcessingContext

    from mrs.algorithms.layers import rasters_loaded

    context = QgsProcessingContext()
    assert rasters_loaded([str(scene.lidar), str(tmp_path / "missing.tif")], context) is None
    assert [layer.name() for layer in rasters_loaded([str(scene.lidar)], context)] == ["lidar"]


def test_a_file_processing_does_not_load_is_not_named_nor_put_on_the_list_to_load(mrs, tmp_path):
    """A mutation audit of 2026-12-06: looking up a path's details puts it on the list of layers to load."""
    from qgis.core import QgsProcessingContext

    from mrs.mrs_qgis_plugin.styling import name_after_file

    context = QgsProcessingContext()
    name_after_file(context, str(tmp_path / "map.tif"), "Land-cover map")
    assert not context.willLoadLayerOnCompletion(str(tmp_path / "map.tif"))
