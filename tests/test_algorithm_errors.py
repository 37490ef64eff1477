"""Bad inputs as the algorithms see them through processing.run: each stops with a
QgsProcessingException whose sentence names the layer or parameter and says what to
do, and leaves no file behind. Awkward inputs that must work are at the end."""

import csv
import json
import os
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from osgeo import gdal, ogr
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProject,
    QgsRasterDataProvider,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)

from mrs.model_core import __version__, model_file
from mrs.mrs_qgis_plugin.synthetic_scene import ORIGIN
from processing_helpers import (
    N_HSI,
    QUICK_FINETUNE,
    RecordingFeedback,
    algorithms_ready,
    run,
    scene_layers,
    write_test_scene,
)
from rasters import write_raster, write_vector
from test_raster_writers import read_raster

QUICK = {"PRESET": "tiny", "EPOCHS": 1, "SAMPLES": 100}


@pytest.fixture(scope="module")
def mrs(qgis_processing):
    with algorithms_ready():
        yield


def read_bands(path) -> tuple:
    """All bands (float32), geotransform and projection of a raster."""
    dataset = gdal.Open(str(path))
    try:
        return dataset.ReadAsArray().astype(np.float32), dataset.GetGeoTransform(), dataset.GetProjection()
    finally:
        dataset = None


def points(path, rows_cols, values, crs="EPSG:32632", field_type=ogr.OFTInteger, shift=(0.0, 0.0)) -> str:
    """Points at the centres of scene pixels (row, col), with a `class_id` field."""
    x0, y0 = ORIGIN
    features = [
        (f"POINT ({x0 + col + 0.5 + shift[0]} {y0 - row - 0.5 + shift[1]})",
         {"class_id": None if value is None else int(value)})
        for (row, col), value in zip(rows_cols, values)
    ]
    return write_vector(path, features, {"class_id": field_type}, crs=crs)


def resave_with_metadata(source: str, target: str, **changes) -> str:
    """A copy of a model file whose JSON metadata has some entries changed."""
    tensors, metadata = model_file.load(source, list(model_file.KIND_LABELS))
    from safetensors.torch import save_file

    save_file(tensors, target, metadata={model_file.METADATA_KEY: json.dumps({**metadata, **changes})})
    return target


@pytest.fixture(scope="module")
def bad(mrs, tmp_path_factory):
    """The scene, models made from it, and bad or awkward copies of its layers and models."""
    folder = tmp_path_factory.mktemp("inputs")
    scene = write_test_scene(folder / "scene")
    hsi, geotransform, projection = read_bands(scene.hsi)
    hsi *= 1e-4  # the band scale of the synthetic HSI
    lidar = read_bands(scene.lidar)[0]
    b = SimpleNamespace(scene=scene, folder=folder)

    def raster(name: str, data: np.ndarray, transform=geotransform, nodata=None) -> str:
        return write_raster(folder / f"{name}.tif", data.astype(np.float32), transform, crs="EPSG:32632", nodata=nodata)

    b.two_bands = raster("two_bands", hsi[:2])
    b.hsi19 = raster("hsi19", hsi[:19])
    b.hsi21 = raster("hsi21", np.concatenate([hsi, lidar[:1]]))
    b.lidar1 = raster("lidar1", lidar[1:])
    b.far_lidar = raster("far_lidar", lidar, (geotransform[0] + 100000.0, *geotransform[1:]))
    b.nodata = raster("nodata", np.full_like(hsi, -9999.0), nodata=-9999.0)
    b.small_hsi, b.small_lidar = raster("small_hsi", hsi[:, :4, :4]), raster("small_lidar", lidar[:, :4, :4])
    holes = hsi.copy()
    holes[:, 10:14, 20:26] = np.nan
    holes[3, 30, 5] = np.inf
    holes[7, 40, 40] = -np.inf
    b.holes = raster("holes", holes)
    constant = hsi.copy()
    constant[4] = 0.25
    b.constant = raster("constant", constant)
    b.garbage = str(folder / "garbage.tif")
    Path(b.garbage).write_text("This is not a raster.")

    labelled = np.argwhere(read_raster(scene.train).values > 0)
    classes = read_raster(scene.train).values[tuple(labelled.T)]
    b.outside = points(folder / "outside.gpkg", labelled, classes, shift=(5000.0, 0.0))
    b.geographic = str(folder / "geographic.gpkg")
    gdal.VectorTranslate(b.geographic, str(scene.train_points), dstSRS="EPSG:4326", reproject=True)
    b.empty_field = points(folder / "empty_field.gpkg", labelled[:5], [None] * 5)
    b.one_class = points(folder / "one_class.gpkg", labelled[:5], [3] * 5)
    # Class 2 keeps a single sample: too few to hold one out for validation.
    keep = (classes != 2) | (np.cumsum(classes == 2) == 1)
    b.few = points(folder / "few.gpkg", labelled[keep], classes[keep])

    pretraining = {**scene_layers(scene), **QUICK, "OUTPUT": str(folder / "pre.safetensors")}
    b.pretrained = run("mrs:pretrain", pretraining)["OUTPUT"]
    finetune = {**scene_layers(scene), **QUICK_FINETUNE, "EPOCHS": 1, "LABELS": str(scene.train)}
    b.classifier = run("mrs:finetune", {**finetune, "OUTPUT": str(folder / "classifier.safetensors")})["OUTPUT"]
    data = Path(b.classifier).read_bytes()
    b.truncated = str(folder / "truncated.safetensors")
    Path(b.truncated).write_bytes(data[: len(data) // 2])
    b.not_a_model = str(folder / "random.safetensors")
    Path(b.not_a_model).write_bytes(struct.pack("<Q", 40) + os.urandom(200))
    b.pickle = str(folder / "pickle.safetensors")
    torch.save({"weights": torch.zeros(3)}, b.pickle)
    b.version99 = resave_with_metadata(b.classifier, str(folder / "version99.safetensors"), format_version=99)
    return b


def classify(b, out, **changes) -> dict:
    return {"MODEL": b.classifier, **scene_layers(b.scene), "OUTPUT": str(out / "map.tif"), **changes}


def pretrain(b, out, **changes) -> dict:
    return {**scene_layers(b.scene), **QUICK, "OUTPUT": str(out / "pre.safetensors"), **changes}


def finetune(b, out, **changes) -> dict:
    return {**scene_layers(b.scene), **QUICK_FINETUNE, "EPOCHS": 1, "OUTPUT": str(out / "cls.safetensors"), **changes}


def points_finetune(b, out, samples: str, **changes) -> dict:
    return finetune(b, out, **{"SAMPLES": samples, "CLASS_FIELD": "class_id", **changes})


def redundancy(b, out, **changes) -> dict:
    return {**scene_layers(b.scene), "SAMPLE_SIZE": 200, "OUTPUT_PNG": str(out / "s.png"),
            "OUTPUT_CSV": str(out / "s.csv"), **changes}


def no_aux(parameters: dict) -> dict:
    return {name: value for name, value in parameters.items() if name != "INPUT_AUX"}


# (algorithm, parameters(b, out), what the message must say)
BAD_INPUTS = {
    "hsi_with_two_bands": ("redundancy", lambda b, o: redundancy(b, o, INPUT_HSI=b.two_bands),
                           "The hyperspectral layer 'two_bands' has 2 bands; at least 3 are needed. Choose the "
                           "hyperspectral raster as the hyperspectral input."),
    "pretrain_without_aux": ("pretrain", lambda b, o: no_aux(pretrain(b, o)),
                             "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the command line: "
                             "--INPUT_AUX=file.tif)."),
    "classify_with_empty_aux": ("classify", lambda b, o: classify(b, o, INPUT_AUX=[]),
                                "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer"),
    "hsi_gdal_cannot_open": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.garbage),
                             "INPUT_HSI: '{garbage}' cannot be opened as a raster layer. Choose a raster layer or "
                             "file that QGIS can read."),
    "aux_file_missing": ("pretrain", lambda b, o: pretrain(b, o, INPUT_AUX=[str(o / "dsm.tif")]),
                         "INPUT_AUX: '{out}/dsm.tif' is neither a layer of the project nor an existing file."),
    "sources_do_not_overlap": ("pretrain", lambda b, o: pretrain(b, o, INPUT_AUX=[b.far_lidar]),
                               "The layers 'hsi' and 'far_lidar' do not overlap"),
    "samples_all_outside": ("finetune", lambda b, o: points_finetune(b, o, b.outside),
                            "None of the samples of 'outside' falls inside the hyperspectral layer 'hsi'. Check that "
                            "the samples cover the same area as the rasters"),
    "class_field_missing": ("finetune", lambda b, o: points_finetune(b, o, str(b.scene.train_points),
                                                                     CLASS_FIELD="kind"),
                            "The class field 'kind' is not a field of 'train_points' (its fields: class_id, "
                            "class_name). Choose one of its fields as the class field."),
    "class_field_empty": ("finetune", lambda b, o: points_finetune(b, o, b.empty_field),
                          "The class field 'class_id' of 'empty_field' is empty: no feature has a class."),
    "one_class_only": ("finetune", lambda b, o: points_finetune(b, o, b.one_class),
                       "The samples of 'one_class' on valid pixels of the rasters hold only one class ('3'); at least "
                       "two classes are needed."),
    "class_too_small_to_split": ("finetune", lambda b, o: points_finetune(b, o, b.few),
                                 "The class '2' (value 2) has 1 sample; the validation split needs at least 2 per "
                                 "class (1 for training, 1 for validation). Add samples of this class, or set the "
                                 "validation fraction to 0."),
    "all_nodata": ("pretrain", lambda b, o: pretrain(b, o, INPUT_HSI=b.nodata),
                   "No pixel has valid values in every layer ('nodata', 'lidar')"),
    "patch_larger_than_raster": ("pretrain", lambda b, o: pretrain(b, o, INPUT_HSI=b.small_hsi,
                                                                   INPUT_AUX=[b.small_lidar]),
                                 "The patch size 5 does not fit the hyperspectral layer 'small_hsi' (4 x 4 pixels). "
                                 "Choose a patch size from 1 to 4."),
    "tile_size_zero": ("classify", lambda b, o: classify(b, o, TILE_SIZE=0),
                       "TILE_SIZE is 0; it must be a whole number from 16 to 8192."),
    "batch_size_negative": ("pretrain", lambda b, o: pretrain(b, o, BATCH_SIZE=-4),
                            "BATCH_SIZE is -4; it must be a whole number of at least 1."),
    "classify_batch_size_zero": ("classify", lambda b, o: classify(b, o, BATCH_SIZE=0),
                                 "BATCH_SIZE is 0; it must be a whole number of at least 1."),
    "spectral_ratio_one": ("pretrain", lambda b, o: pretrain(b, o, SPECTRAL_RATIO=1.0),
                           "SPECTRAL_RATIO is 1.0; it must be a number from 0.01 to 0.99."),
    "spatial_ratio_zero": ("pretrain", lambda b, o: pretrain(b, o, SPATIAL_RATIO=0.0),
                           "SPATIAL_RATIO is 0.0; it must be a number from 0.01 to 0.99."),
    "redundancy_mask_ratio": ("redundancy", lambda b, o: redundancy(b, o, MASK_RATIO=1.5),
                              "MASK_RATIO is 1.5; it must be a number from 0.01 to 0.99."),
    "threshold_zero": ("redundancy", lambda b, o: redundancy(b, o, THRESHOLD=0.0),
                       "THRESHOLD must lie in (0, 1]; got 0.0. A typical value is 0.95."),
    "unknown_preset": ("pretrain", lambda b, o: pretrain(b, o, PRESET="huge"),
                       "PRESET is 'huge'; use one of: paper, small, tiny."),
    "model_band_counts": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.hsi19),
                          "MODEL: '{classifier}' was made for 20 HSI bands and 2 SAR/LiDAR bands, but the layers "
                          "give 19 HSI bands and 2 SAR/LiDAR bands. Use the layers it was made with (HSI 'hsi', "
                          "SAR/LiDAR 'lidar'), in the same order."),
    "model_modality_split": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.hsi21, INPUT_AUX=[b.lidar1]),
                             "was made for 20 HSI bands and 2 SAR/LiDAR bands, but the layers give 21 HSI bands and "
                             "1 SAR/LiDAR band."),
    "model_patch_larger_than_raster": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.small_hsi,
                                                                         INPUT_AUX=[b.small_lidar]),
                                       "The patch size of the model 5 does not fit the hyperspectral layer "
                                       "'small_hsi' (4 x 4 pixels)."),
    "model_not_a_model": ("classify", lambda b, o: classify(b, o, MODEL=b.not_a_model),
                          "MODEL: '{not_a_model}' is not a readable MRS model file; it may be truncated or damaged"),
    "model_pickle": ("classify", lambda b, o: classify(b, o, MODEL=b.pickle),
                     "MODEL: '{pickle}' is a Python pickle or PyTorch archive, not an MRS model file."),
    "model_truncated": ("classify", lambda b, o: classify(b, o, MODEL=b.truncated),
                        "MODEL: '{truncated}' is not a readable MRS model file; it may be truncated or damaged"),
    "model_format_version": ("classify", lambda b, o: classify(b, o, MODEL=b.version99),
                             f"MODEL: '{{version99}}' has model file format version 99; this plugin ({__version__}) "
                             "reads version 1."),
    "model_is_pretrained": ("classify", lambda b, o: classify(b, o, MODEL=b.pretrained),
                            "MODEL: '{pretrained}' is a pretraining model (made by mrs:pretrain), but a trained "
                            "classifier (made by mrs:finetune) is needed here; give it to mrs:finetune as PRETRAINED."),
    "pretrained_is_classifier": ("finetune", lambda b, o: finetune(b, o, LABELS=str(b.scene.train),
                                                                   PRETRAINED=b.classifier),
                                 "PRETRAINED: '{classifier}' is a trained classifier (made by mrs:finetune), but a "
                                 "pretraining model (made by mrs:pretrain) is needed here; use it with mrs:classify."),
    "model_wrong_extension": ("classify", lambda b, o: classify(b, o, MODEL=str(o / "model.pt")),
                              "MODEL (Classifier model): '{out}/model.pt' is not a .safetensors file."),
    "output_folder_missing": ("classify", lambda b, o: classify(b, o, OUTPUT=str(o / "maps" / "map.tif")),
                              "OUTPUT: the folder {out}/maps does not exist; choose an existing folder."),
    "output_folder_not_writable": ("pretrain", lambda b, o: pretrain(b, o, OUTPUT="/proc/pre.safetensors"),
                                   "OUTPUT: the folder /proc cannot be written"),
    "report_folder_missing": ("redundancy", lambda b, o: redundancy(b, o, OUTPUT_CSV=str(o / "no" / "s.csv")),
                              "OUTPUT_CSV: the folder {out}/no does not exist; choose an existing folder."),
    "extent_outside": ("classify", lambda b, o: classify(b, o, EXTENT="0,10,0,10 [EPSG:32632]"),
                       "The extent EXTENT (x 0..10, y 0..10) does not overlap the hyperspectral layer 'hsi'"),
    "gpu_not_there": ("classify", lambda b, o: classify(b, o, DEVICE="cuda:99"), "DEVICE is 'cuda:99', but "),
    "two_sources_of_labels": ("finetune", lambda b, o: points_finetune(b, o, str(b.scene.train_points),
                                                                       LABELS=str(b.scene.train)),
                              "Give either SAMPLES (with CLASS_FIELD) or LABELS, not both."),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=str)
def test_a_bad_input_stops_with_a_sentence_that_names_it_and_leaves_nothing_behind(bad, tmp_path, case):
    algorithm, parameters, message = BAD_INPUTS[case]
    expected = message.format(out=tmp_path, **vars(bad))
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as raised:
        run(f"mrs:{algorithm}", parameters(bad, tmp_path), feedback)
    assert expected in str(raised.value)
    assert "Traceback" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_raster_from_another_data_provider_is_refused_with_what_to_do(bad, tmp_path):
    grid = read_raster(bad.scene.hsi)
    parameters = QgsRasterDataProvider.VirtualRasterParameters()
    parameters.crs = QgsCoordinateReferenceSystem("EPSG:32632")
    x0, y0 = ORIGIN
    parameters.extent = QgsRectangle(x0, y0 - 48, x0 + 48, y0)
    parameters.width, parameters.height = grid.values.shape[1], grid.values.shape[0]
    parameters.formula = "1"
    uri = QgsRasterDataProvider.encodeVirtualRasterProviderUri(parameters)
    layer = QgsRasterLayer(uri, "computed", "virtualraster")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    try:
        with pytest.raises(QgsProcessingException) as raised:
            run("mrs:pretrain", pretrain(bad, tmp_path, INPUT_AUX=[layer.id()]))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(raised.value) == (
        "INPUT_AUX: the layer 'computed' comes from QGIS' 'virtualraster' data provider, which the MRS algorithms "
        "cannot read. Save it as a GeoTIFF (Export > Save As...) and choose that file."
    )


def labelled_pixel_count(feedback: RecordingFeedback) -> str:
    return next(line for line in feedback.infos if " labelled pixels in " in line)


def test_samples_in_another_crs_are_reprojected(bad, tmp_path):
    feedback = RecordingFeedback()
    run("mrs:finetune", points_finetune(bad, tmp_path, bad.geographic), feedback)
    assert "'geographic' is reprojected from EPSG:4326 to EPSG:32632." in feedback.infos
    assert labelled_pixel_count(feedback) == "'geographic': 56 labelled pixels in 7 classes."


def test_samples_in_a_memory_layer_are_read(bad, tmp_path):
    layer = QgsVectorLayer("Point?crs=EPSG:32632&field=class_id:integer", "drawn", "memory")
    x0, y0 = ORIGIN
    labels = read_raster(bad.scene.train).values
    features = []
    for row, col in np.argwhere(labels > 0):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x0 + col + 0.5, y0 - row - 0.5)))
        feature.setAttributes([int(labels[row, col])])
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    feedback = RecordingFeedback()
    results = run("mrs:finetune", points_finetune(bad, tmp_path, layer), feedback)
    assert labelled_pixel_count(feedback) == "'drawn': 56 labelled pixels in 7 classes."
    assert os.path.isfile(results["OUTPUT"])


def test_nan_and_infinite_values_are_no_data_in_the_map(bad, tmp_path):
    results = run("mrs:classify", classify(bad, tmp_path, INPUT_HSI=bad.holes))
    values = read_raster(results["OUTPUT"]).values
    invalid = np.zeros(values.shape, bool)
    invalid[10:14, 20:26] = invalid[30, 5] = invalid[40, 40] = True
    assert (values[invalid] == 0).all()
    assert (values[~invalid] > 0).all()


def test_a_constant_band_trains_and_measures_without_dividing_by_zero(bad, tmp_path):
    results = run("mrs:finetune", finetune(bad, tmp_path, INPUT_HSI=bad.constant, LABELS=str(bad.scene.train),
                                           VALIDATION_FRACTION=0.25))
    metadata = model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])
    assert np.isfinite(metadata["training"]["history"][0]["loss"])
    assert np.isfinite(results["VALIDATION_ACCURACY"])
    scale = np.asarray(metadata["normalization"]["scale"])
    assert np.isfinite(scale).all() and (scale > 0).all()

    results = run("mrs:redundancy", redundancy(bad, tmp_path, INPUT_HSI=bad.constant))
    rows = list(csv.reader(Path(results["OUTPUT_CSV"]).read_text().splitlines()))[1:]
    similarity = np.array([[float(cell) for cell in row[1:]] for row in rows])
    assert np.isfinite(similarity).all() and similarity.shape == (N_HSI + 2, N_HSI + 2)
