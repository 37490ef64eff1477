"""Bad inputs as the algorithms see them through processing.run: each stops with a
QgsProcessingException whose sentence names the layer or parameter and says what to
do, and leaves no file behind. Awkward inputs that must work are at the end."""

import csv
import errno
import json
import os
import re
import shutil
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from osgeo import gdal, ogr
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProject,
    QgsProperty,
    QgsRasterDataProvider,
    QgsRasterLayer,
    QgsRasterRange,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from mrs.model_core import __version__, model_file
from mrs.mrs_qgis_plugin.synthetic_scene import ORIGIN
from processing_helpers import (
    N_HSI,
    QUICK_FINETUNE,
    SAMPLES_AND_LABELS,
    RecordingFeedback,
    algorithms_ready,
    folder_state,
    run,
    scene_layers,
    write_test_scene,
)
from rasters import point_wkt, write_raster, write_vector
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
    """A copy of a model file whose JSON metadata has some entries changed (and no checksums, as
    the files written before them, which are checked field by field as every file is)."""
    tensors, metadata = model_file.load(source, list(model_file.KINDS))
    metadata.pop(model_file.CHECKSUMS)
    from safetensors.torch import save_file

    save_file(tensors, target, metadata={model_file.METADATA_KEY: json.dumps({**metadata, **changes})})
    return target


def netcdf_of_variables(path: Path, bands: np.ndarray) -> str:
    """A NetCDF file with one variable per band (GDAL sees subdatasets, QGIS a mesh)."""
    dataset = gdal.GetDriverByName("netCDF").CreateMultiDimensional(str(path))
    root = dataset.GetRootGroup()
    dimensions = [root.CreateDimension(name, None, None, size) for name, size in zip("yx", bands.shape[1:])]
    for index, band in enumerate(bands):
        root.CreateMDArray(f"band{index}", dimensions, gdal.ExtendedDataType.Create(gdal.GDT_Float32)).Write(band)
    dataset = None
    return str(path)


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
    b.one_pixel = points(folder / "one_pixel.gpkg", [(5, 5)] * 3, [1, 2, 3])
    b.no_crs = write_raster(folder / "no_crs.tif", hsi, geotransform, crs=None)
    swir = np.linspace(1000.0, 2485.0, N_HSI)
    b.swir = write_raster(folder / "swir.tif", hsi, geotransform, crs="EPSG:32632",
                          band_metadata=[{"wavelength": f"{nm:.1f}", "wavelength_units": "nm"} for nm in swir])
    scene_hsi = gdal.Open(str(scene.hsi))
    trained_nm = [float(scene_hsi.GetRasterBand(i + 1).GetMetadataItem("wavelength")) for i in range(N_HSI)]
    b.micrometres = write_raster(folder / "micrometres.tif", hsi, geotransform, crs="EPSG:32632",
                                 band_metadata=[{"wavelength": f"{nm / 1000:.4f}", "wavelength_units": "nm"}
                                                for nm in trained_nm])
    complex_sar = gdal.GetDriverByName("GTiff").Create(str(folder / "slc.tif"), 48, 48, 1, gdal.GDT_CFloat32)
    complex_sar.SetGeoTransform(geotransform)
    complex_sar.SetProjection(projection)
    complex_sar.GetRasterBand(1).WriteArray((lidar[0] + 1j * lidar[1]).astype(np.complex64))
    complex_sar = None
    b.slc = str(folder / "slc.tif")
    b.netcdf = netcdf_of_variables(folder / "variables.nc", hsi[:4])
    b.tables = str(folder / "tables.gpkg")
    for table in ("test_labels", "train_labels"):
        gdal.Translate(b.tables, str(scene.test), format="GPKG",
                       creationOptions=[f"RASTER_TABLE={table}", "APPEND_SUBDATASET=YES"])
    b.missing_source = str(folder / "missing_source.vrt")
    gdal.BuildVRT(b.missing_source, [b.hsi19])
    Path(b.missing_source).write_text(Path(b.missing_source).read_text().replace("hsi19.tif", "gone.tif"))
    (folder / "folder.safetensors").mkdir()
    os.mkfifo(folder / "fifo.safetensors")
    (folder / "device.safetensors").symlink_to("/dev/zero")

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
    b.classified = run("mrs:classify", {"MODEL": b.classifier, **scene_layers(scene),
                                        "OUTPUT": str(folder / "classified.tif")})["OUTPUT"]
    return b


def classify(b, out, **changes) -> dict:
    return {"MODEL": b.classifier, **scene_layers(b.scene), "OUTPUT": str(out / "map.tif"), **changes}


def suggest(b, out, **changes) -> dict:
    return {"MODEL": b.classifier, **scene_layers(b.scene), "OUTPUT": str(out / "next.gpkg"), **changes}


def pretrain(b, out, **changes) -> dict:
    return {**scene_layers(b.scene), **QUICK, "OUTPUT": str(out / "pre.safetensors"), **changes}


def finetune(b, out, **changes) -> dict:
    return {**scene_layers(b.scene), **QUICK_FINETUNE, "EPOCHS": 1, "OUTPUT": str(out / "cls.safetensors"), **changes}


def points_finetune(b, out, samples: str, **changes) -> dict:
    return finetune(b, out, **{"SAMPLES": samples, "CLASS_FIELD": "class_id", **changes})


def accuracy(b, out, **changes) -> dict:
    return {"INPUT": b.classified, "REFERENCE_LABELS": str(b.scene.test), "OUTPUT_HTML": str(out / "r.html"),
            **changes}


def redundancy(b, out, **changes) -> dict:
    return {**scene_layers(b.scene), "SAMPLE_SIZE": 200, "OUTPUT_PNG": str(out / "s.png"),
            "OUTPUT_CSV": str(out / "s.csv"), **changes}


def no_aux(parameters: dict) -> dict:
    return {name: value for name, value in parameters.items() if name != "INPUT_AUX"}


# (algorithm, parameters(b, out), what the message must say)
BAD_INPUTS = {
    "hsi_with_two_bands": ("redundancy", lambda b, o: redundancy(b, o, INPUT_HSI=b.two_bands),
                           "The hyperspectral layer 'two_bands' has 2 bands; at least 3 are needed. Give the "
                           "hyperspectral raster as INPUT_HSI (and SAR or LiDAR rasters as INPUT_AUX)."),
    "pretrain_without_aux": ("pretrain", lambda b, o: no_aux(pretrain(b, o)),
                             "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer; add one (on the command line: "
                             "--INPUT_AUX=file.tif)."),
    "classify_with_empty_aux": ("classify", lambda b, o: classify(b, o, INPUT_AUX=[]),
                                "INPUT_AUX (SAR or LiDAR rasters) needs at least 1 layer"),
    "hsi_gdal_cannot_open": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.garbage),
                             "INPUT_HSI: '{garbage}' cannot be opened as a raster layer. Choose a raster layer or "
                             "file that QGIS can read."),
    "hsi_is_a_vector_layer_object": ("classify", lambda b, o: classify(
        b, o, INPUT_HSI=QgsVectorLayer(str(b.scene.train_points), "pts", "ogr")),
        "INPUT_HSI: 'pts' is a vector layer, not a raster layer. Choose a raster layer or file."),
    "samples_a_raster_layer_object": ("finetune", lambda b, o: points_finetune(
        b, o, QgsRasterLayer(str(b.scene.train), "tr", "gdal")),
        "SAMPLES: 'tr' is a raster layer, not a vector layer. Choose a layer of points, lines or polygons."),
    "hsi_is_a_vector_file": ("classify", lambda b, o: classify(b, o, INPUT_HSI=str(b.scene.train_points)),
                             "INPUT_HSI: '{scene.train_points}' is a vector layer, not a raster layer. Choose a "
                             "raster layer or file."),
    "label_raster_is_a_vector_file": ("finetune", lambda b, o: finetune(b, o, LABELS=str(b.scene.train_points)),
                                      "LABELS: '{scene.train_points}' is a vector layer, not a raster layer."),
    "aux_file_missing": ("pretrain", lambda b, o: pretrain(b, o, INPUT_AUX=[str(o / "dsm.tif")]),
                         "INPUT_AUX: '{out}/dsm.tif' is neither a layer of the project nor an existing file."),
    "sources_do_not_overlap": ("pretrain", lambda b, o: pretrain(b, o, INPUT_AUX=[b.far_lidar]),
                               "The layers 'hsi' and 'far_lidar' do not overlap"),
    "samples_all_outside": ("finetune", lambda b, o: points_finetune(b, o, b.outside),
                            "None of the samples of 'outside' falls inside the hyperspectral layer 'hsi'. Check that "
                            "the samples cover the same area as the rasters"),
    "class_field_missing": ("finetune", lambda b, o: points_finetune(b, o, str(b.scene.train_points),
                                                                     CLASS_FIELD="kind"),
                            "CLASS_FIELD: 'kind' is not a field of 'train_points'; its fields: 'fid', 'class_id', "
                            "'class_name'. Choose one of them."),  # in the dialog's check (a red team of 2026-12-06)
    "samples_layer_missing": ("finetune", lambda b, o: points_finetune(b, o, f"{b.scene.train_points}|layername=nope"),
                              "SAMPLES: {scene.train_points} has no layer named 'nope'; its layers: 'train_points'. "
                              "Choose one of them."),  # 'cannot be opened' (a helper's red team of 2026-12-06)
    "class_field_empty": ("finetune", lambda b, o: points_finetune(b, o, b.empty_field),
                          "The class field 'class_id' of 'empty_field' is empty: no feature has a class."),
    "one_class_only": ("finetune", lambda b, o: points_finetune(b, o, b.one_class),
                       "SAMPLES: the samples of 'one_class' on valid pixels of the rasters hold only one class ('3'); "
                       "at least two classes are needed."),
    "class_too_small_to_split": ("finetune", lambda b, o: points_finetune(b, o, b.few, VALIDATION_FRACTION=0.2),
                                 "The class '2' (value 2) has 1 sample; the validation split needs at least 2 per "
                                 "class (1 for training, 1 for validation). Add samples of this class, or set "
                                 "VALIDATION_FRACTION to 0."),
    "all_nodata": ("pretrain", lambda b, o: pretrain(b, o, INPUT_HSI=b.nodata),
                   "No pixel has valid values in every layer, as there is no valid value (nodata, NaN or "
                   "infinite at every pixel) in any band of 'nodata'."),
    "patch_larger_than_raster": ("pretrain", lambda b, o: pretrain(b, o, INPUT_HSI=b.small_hsi,
                                                                   INPUT_AUX=[b.small_lidar]),
                                 "PRESET tiny's patch size 5 does not fit the hyperspectral layer 'small_hsi' (4 x 4 "
                                 "pixels): "
                                 "every pixel is read with its 5 x 5 neighbourhood. Choose a layer of at least 5 x 5 "
                                 "pixels."),
    "tile_size_empty": ("classify", lambda b, o: classify(b, o, TILE_SIZE=""),
                        "TILE_SIZE is empty; give a value, or leave TILE_SIZE out for the default, 256."),
    "precision_empty": ("classify", lambda b, o: classify(b, o, PRECISION=" "),
                        "PRECISION is empty; give a value, or leave PRECISION out for the default, auto."),
    "map_not_given": ("classify", lambda b, o: {k: v for k, v in classify(b, o).items() if k != "OUTPUT"},
                      "OUTPUT (Land-cover map) has no value; give the file to write (--OUTPUT=file on a "
                      "command line; in processing.run, 'OUTPUT': a path or 'TEMPORARY_OUTPUT')."),
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
                       "THRESHOLD is 0.0; it must be a number from 0.01 to 1."),
    "unknown_preset": ("pretrain", lambda b, o: pretrain(b, o, PRESET="huge"),
                       "PRESET is 'huge'; use one of: paper, small, tiny."),
    "model_band_counts": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.hsi19),
                          "MODEL: '{classifier}' was made for 20 HSI bands and 2 SAR/LiDAR bands (HSI 'hsi', "
                          "SAR/LiDAR 'lidar'), but the layers give 19 HSI bands and 2 SAR/LiDAR bands. Give rasters "
                          "of the bands it was made for, in the same order, or train a model on these rasters."),
    "model_modality_split": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.hsi21, INPUT_AUX=[b.lidar1]),
                             "was made for 20 HSI bands and 2 SAR/LiDAR bands (HSI 'hsi', SAR/LiDAR 'lidar'), but the "
                             "layers give 21 HSI bands and 1 SAR/LiDAR band."),
    "model_patch_larger_than_raster": ("classify", lambda b, o: classify(b, o, INPUT_HSI=b.small_hsi,
                                                                         INPUT_AUX=[b.small_lidar]),
                                       "The model's patch size 5 does not fit the hyperspectral layer "
                                       "'small_hsi' (4 x 4 pixels): every pixel is read with its 5 x 5 "
                                       "neighbourhood. Choose a layer of at least 5 x 5 pixels."),
    "model_not_a_model": ("classify", lambda b, o: classify(b, o, MODEL=b.not_a_model),
                          "MODEL: '{not_a_model}' is not a readable MRS model file; it may be truncated or damaged"),
    "model_pickle": ("classify", lambda b, o: classify(b, o, MODEL=b.pickle),
                     "MODEL: '{pickle}' is a Python pickle or PyTorch archive, not an MRS model file."),
    "model_truncated": ("classify", lambda b, o: classify(b, o, MODEL=b.truncated),
                        "MODEL: '{truncated}' is truncated: "),
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
    "suggest_model_is_pretrained": ("suggest", lambda b, o: suggest(b, o, MODEL=b.pretrained),
                                    "MODEL: '{pretrained}' is a pretraining model (made by mrs:pretrain), but a "
                                    "trained classifier (made by mrs:finetune) is needed here"),
    "suggest_output_not_a_geopackage": ("suggest", lambda b, o: suggest(b, o, OUTPUT=str(o / "next.shp")),
                                        "OUTPUT: {out}/next.shp does not end in .gpkg; give a name ending in .gpkg."),
    "suggest_into_the_training_points": ("suggest", lambda b, o: suggest(b, o, OUTPUT=str(b.scene.train_points)),
                                         "OUTPUT: {scene.train_points} already holds other layers ('train_points'), "
                                         "which writing the suggestions would delete with the file; choose a new "
                                         "file name."),
    "suggest_no_points": ("suggest", lambda b, o: suggest(b, o, POINTS=0),
                          "POINTS is 0; it must be a whole number from 1 to 100000."),
    "suggest_nothing_valid": ("suggest", lambda b, o: suggest(b, o, INPUT_HSI=b.nodata),
                              "No pixel has valid values in every layer, as there is no valid value (nodata, NaN "
                              "or infinite at every pixel) in any band of 'nodata'. Check the nodata value of that "
                              "layer, or choose one with data."),
    "suggest_band_counts": ("suggest", lambda b, o: suggest(b, o, INPUT_HSI=b.hsi19),
                            "MODEL: '{classifier}' was made for 20 HSI bands and 2 SAR/LiDAR bands"),
    "output_folder_missing": ("classify", lambda b, o: classify(b, o, OUTPUT=str(o / "maps" / "map.tif")),
                              "OUTPUT: the folder {out}/maps does not exist; choose an existing folder."),
    "output_folder_not_writable": ("pretrain", lambda b, o: pretrain(b, o, OUTPUT="/proc/pre.safetensors"),
                                   "OUTPUT: the folder /proc cannot be written"),
    "report_folder_missing": ("redundancy", lambda b, o: redundancy(b, o, OUTPUT_CSV=str(o / "no" / "s.csv")),
                              "OUTPUT_CSV: the folder {out}/no does not exist; choose an existing folder."),
    "extent_outside": ("classify", lambda b, o: classify(b, o, EXTENT="0,10,0,10 [EPSG:32632]"),
                       "The extent EXTENT (x 0..10, y 0..10) does not overlap the hyperspectral layer 'hsi'"),
    # Red team of 2026-12-05: QGIS took these numbers as they stood, in the layer's CRS.
    "extent_crs_unknown": ("classify", lambda b, o: classify(b, o, EXTENT="661010,661030,5100960,5100980 [EPSG:99999]"),
                           "EXTENT: the CRS 'EPSG:99999' is not known; write it as EPSG:code."),
    # A helper's red team of 2026-12-07: QGIS knows a PROJ string after 'PROJ4:' only
    "extent_crs_proj": ("classify", lambda b, o: classify(b, o, EXTENT="661010,661030,5100960,5100980 [+proj=utm "
                                                                       "+zone=32 +datum=WGS84]"),
                        "EXTENT: the CRS '+proj=utm +zone=32 +datum=WGS84' is not known; write it as EPSG:code, or as "
                        "PROJ4:+proj=utm +zone=32 +datum=WGS84."),
    "extent_crs_cannot_hold_it": ("classify", lambda b, o: classify(
        b, o, EXTENT="661010,661030,5100960,5100980 [EPSG:4326]"), "EXTENT: x 661010..661030, y 5100960..5100980 in "
        "EPSG:4326 cannot be taken into the CRS of the hyperspectral layer 'hsi' (EPSG:32632): they lie beyond what "
        "EPSG:4326 places on Earth. Check the numbers and the CRS written after them."),  # as written (audit, 12-06)
    "gpu_not_there": ("classify", lambda b, o: classify(b, o, DEVICE="cuda:99"), "DEVICE is 'cuda:99', but "),
    "output_is_the_hsi": ("classify", lambda b, o: classify(b, o, OUTPUT=str(b.scene.hsi)),
                          "OUTPUT: {scene.hsi} is the input INPUT_HSI ({scene.hsi}); writing it would destroy that "
                          "input. Choose another output file name."),
    "confidence_is_the_lidar_by_a_relative_path": (
        "classify", lambda b, o: classify(b, o, OUTPUT_CONFIDENCE=os.path.relpath(b.scene.lidar)),
        "OUTPUT_CONFIDENCE: {scene.lidar} is the input INPUT_AUX ({scene.lidar})"),
    "output_style_is_the_style_of_the_hsi": (
        "classify", lambda b, o: classify(b, o, OUTPUT=str(b.scene.hsi.with_suffix(".tiff"))),
        "OUTPUT: {scene.directory}/hsi.tiff would write {scene.directory}/hsi.qml, which QGIS and GDAL would then "
        "read as the style of the input INPUT_HSI ({scene.hsi}). Choose another output file name."),
    "finetune_output_is_the_pretrained_model": (
        "finetune", lambda b, o: finetune(b, o, LABELS=str(b.scene.train), PRETRAINED=b.pretrained,
                                          OUTPUT=b.pretrained),
        "OUTPUT: {pretrained} is the input PRETRAINED ({pretrained}); writing it would destroy that input."),
    "pretrain_output_is_the_label_raster_model": (
        "pretrain", lambda b, o: pretrain(b, o, OUTPUT=b.classifier, RESUME=b.classifier),
        "OUTPUT: {classifier} is the input RESUME ({classifier})"),
    "accuracy_of_a_reflectance_raster": ("accuracy", lambda b, o: accuracy(b, o, INPUT=str(b.scene.hsi)),
                                         "INPUT: 'hsi' has 20 bands, but a land-cover map has one band of class "
                                         "values."),
    "accuracy_of_a_one_band_measurement": ("accuracy", lambda b, o: accuracy(b, o, INPUT=b.lidar1),
                                           "INPUT: 'lidar1' holds values that are not class values (such as "),
    "samples_all_in_one_pixel_with_different_classes": (
        "finetune", lambda b, o: points_finetune(b, o, b.one_pixel),
        "Every sample pixel of 'one_pixel' holds samples of different classes (the samples fall on 1 pixel of the "
        "hyperspectral grid, each with more than one class), so no sample is left."),
    "complex_sar": ("classify", lambda b, o: classify(b, o, INPUT_AUX=[b.slc, b.lidar1]),
                    "The auxiliary layer 'slc' holds complex numbers (band 1 is CFloat32), of which only the real "
                    "part would be read. Convert it to amplitude or intensity first"),
    "hsi_without_crs_next_to_lidar_with_one": (
        "pretrain", lambda b, o: pretrain(b, o, INPUT_HSI=b.no_crs),
        "The hyperspectral layer 'no_crs' has no CRS, but 'lidar' has one (EPSG:32632); the hyperspectral grid is "
        "the grid of every result, so it must say where it lies."),
    "wavelengths_unlike_the_models": (
        "classify", lambda b, o: classify(b, o, INPUT_HSI=b.swir),
        "MODEL: '{classifier}' was trained on bands at 415-985 nm, but the hyperspectral layer 'swir' has its bands "
        "at 1000-2485 nm (band "),
    "micrometres_said_to_be_nm": (
        "classify", lambda b, o: classify(b, o, INPUT_HSI=b.micrometres),
        "nm). Its wavelengths are the model's in micrometres: set the layer's wavelength_units to micrometers."),
    "pretrained_wavelengths_unlike_the_layers": (
        "finetune", lambda b, o: finetune(b, o, LABELS=str(b.scene.train), PRETRAINED=b.pretrained, INPUT_HSI=b.swir),
        "PRETRAINED: '{pretrained}' was trained on bands at 415-985 nm, but the hyperspectral layer 'swir' has"),
    "model_is_a_folder": ("classify", lambda b, o: classify(b, o, MODEL=str(b.folder / "folder.safetensors")),
                          "MODEL: '{folder}/folder.safetensors' is a folder, not a file. Choose a model file "
                          "(.safetensors) made by this plugin."),
    "model_is_a_fifo": ("classify", lambda b, o: classify(b, o, MODEL=str(b.folder / "fifo.safetensors")),
                        "MODEL: '{folder}/fifo.safetensors' is a named pipe (FIFO), not a file."),
    "model_is_a_device": ("classify", lambda b, o: classify(b, o, MODEL=str(b.folder / "device.safetensors")),
                          "MODEL: '{folder}/device.safetensors' is a device, not a file."),
    "hsi_netcdf_of_variables": (
        "redundancy", lambda b, o: redundancy(b, o, INPUT_HSI=b.netcdf),
        "INPUT_HSI: '{netcdf}' holds 4 variables (subdatasets, such as NETCDF:\"{netcdf}\":band0) and no bands of its "
        "own. Stack them into one multi-band raster (gdalbuildvrt -separate stack.vrt NETCDF:\"{netcdf}\":band0 "
        "NETCDF:\"{netcdf}\":band1 ...) or copy the one you want to a file of its own (gdal_translate "
        "NETCDF:\"{netcdf}\":band0 band0.tif) and choose that, or, in QGIS, add it to the project (Layer > Add Raster "
        "Layer lists them) and choose the layer."),
    "labels_geopackage_of_raster_tables": (
        "finetune", lambda b, o: finetune(b, o, LABELS=b.tables),
        "LABELS: '{tables}' holds 2 raster tables (test_labels, train_labels) and no raster of its own. Copy the one "
        "you want to a file of its own (gdal_translate GPKG:{tables}:test_labels test_labels.tif) and choose that, or, "
        "in QGIS, add it to the project (Layer > Add Raster Layer lists them) and choose the layer."),
    "labels_subdataset_name": (  # helper's red team of 2026-12-05: told it was no existing file
        "finetune", lambda b, o: finetune(b, o, LABELS=f"GPKG:{b.tables}:train_labels"),
        "LABELS: 'GPKG:{tables}:train_labels' is a GDAL subdataset name, which QGIS's Processing does not take as a "
        "layer. Copy it to a file of its own (gdal_translate GPKG:{tables}:train_labels train_labels.tif) and choose "
        "that, or, in QGIS, add it to the project (Layer > Add Raster Layer) and choose the layer."),
    "aux_netcdf_of_variables": ("pretrain", lambda b, o: pretrain(b, o, INPUT_AUX=[b.netcdf]),
                                "INPUT_AUX: 'variables' holds 4 variables (subdatasets"),
    "label_raster_is_an_image": ("finetune", lambda b, o: finetune(b, o, LABELS=b.hsi19),
                                 "The label layer 'hsi19' has 19 bands, but a label raster has one band of class "
                                 "values"),
    "label_raster_is_the_hsi": ("finetune", lambda b, o: finetune(b, o, LABELS=str(b.scene.hsi)),
                                "LABELS: {scene.hsi} is also the input INPUT_HSI; each input must be a different "
                                "layer. Choose the right layer for LABELS."),
    "vrt_source_missing": ("redundancy", lambda b, o: redundancy(b, o, INPUT_HSI=b.missing_source, INPUT_AUX=[]),
                           "The hyperspectral layer 'missing_source' is a virtual raster (VRT) whose source file "
                           "{folder}/gone.tif does not exist, so its pixels cannot be read."),
    "zipped_hsi_path": ("classify", lambda b, o: classify(b, o, INPUT_HSI=f"/vsizip/{o}/scene.zip/hsi.tif"),
                        "INPUT_HSI: '/vsizip/{out}/scene.zip/hsi.tif' is a GDAL virtual path or a web address, which "
                        "Processing does not open from a path: add it to the project (Layer > Add Layer, or from the "
                        "Browser) and choose that layer, or give a copy of the file (extracted from its archive, "
                        "downloaded)."),
    "file_address_hsi": ("classify", lambda b, o: classify(b, o, INPUT_HSI=f"file://{b.scene.hsi}"),
                         "INPUT_HSI: 'file://{scene.hsi}' is a file's address, which Processing does not open from "
                         "a path: give the path without 'file://' ({scene.hsi})."),
    "misspelt_parameter": ("classify", lambda b, o: classify(b, o, TILE_SIZ=64),
                           "TILE_SIZ: mrs:classify has no parameter of that name (did you mean TILE_SIZE?); "
                           "'qgis_process help mrs:classify' lists its parameters."),
    # Own bad input of 2026-12-05: suggest's COUNT for its POINTS was said to be no name of the algorithm's.
    "result_given_as_a_parameter": ("finetune", lambda b, o: points_finetune(b, o, str(b.scene.train_points),
                                                                             BEST_EPOCH=3),
                                    "BEST_EPOCH is a result of mrs:finetune, not a parameter; leave it out "
                                    "('qgis_process help mrs:finetune' lists its parameters)."),
    "parameter_given_twice": ("classify", lambda b, o: classify(b, o, OUTPUT=[str(o / "a.tif"), str(o / "b.tif")]),
                              "OUTPUT is given 2 times ('{out}/a.tif', '{out}/b.tif'); give it once."),
    "single_value_as_a_list": ("classify", lambda b, o: classify(b, o, TILE_SIZE=[64]),
                               "TILE_SIZE takes one value, not a list (['64']); give the value itself."),
    "two_sources_of_labels": ("finetune", lambda b, o: points_finetune(b, o, str(b.scene.train_points),
                                                                       LABELS=str(b.scene.train)),
                              SAMPLES_AND_LABELS),
    # Red team of 2026-12-05: qgis_process gives --TILE_SIZE= as a null text QVariant, refused in QGIS's words.
    "empty_number_on_the_command_line": ("classify", lambda b, o: classify(b, o, TILE_SIZE=QVariant(QVariant.String)),
                                         "TILE_SIZE is empty; give a value, or leave TILE_SIZE out for the default, "
                                         "256."),
    "empty_choice_on_the_command_line": ("classify", lambda b, o: classify(b, o, DEVICE=QVariant(QVariant.String)),
                                         "DEVICE is empty; give a value, or leave DEVICE out for the default, auto."),
    # Red team of 2026-12-05: an expression that fails took the parameter's default (100 epochs; auto).
    "expression_without_value": ("finetune", lambda b, o: finetune(b, o, EPOCHS=QgsProperty.fromExpression(
        "@no_such_variable")), "EPOCHS: its expression '@no_such_variable' gives no value (NULL); correct the "
                               "expression, or give the value itself."),
    "expression_not_parsed": ("classify", lambda b, o: classify(b, o, DEVICE=QgsProperty.fromExpression(
        "no_such_function()")), "DEVICE: its expression 'no_such_function()' cannot be read (Function is not known); "
                                "correct the expression, or give the value itself."),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=str)
def test_a_bad_input_stops_with_a_sentence_that_names_it_and_leaves_nothing_behind(bad, tmp_path, case):
    algorithm, parameters, message = BAD_INPUTS[case]
    inputs = {path: Path(path).read_bytes() for path in bad.folder.rglob("*") if path.is_file()}
    expected = message.format(out=tmp_path, **vars(bad))
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as raised:
        run(f"mrs:{algorithm}", parameters(bad, tmp_path), feedback)
    assert expected in str(raised.value)
    assert "Traceback" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []
    assert {path: Path(path).read_bytes() for path in bad.folder.rglob("*") if path.is_file()} == inputs


def test_an_expression_giving_a_field_s_null_is_refused_and_null_leaves_an_optional_parameter_out(bad, tmp_path):
    """A review of 2026-12-05: a field's NULL is a typed NULL, which passed the check and trained the
    default 100 epochs; NULL is QGIS's way of leaving an optional parameter out."""
    layer = QgsVectorLayer("Point?crs=epsg:32632&field=id:integer&field=epochs:integer", "settings", "memory")
    feature = QgsFeature(layer.fields())
    feature.setAttributes([1, None])
    layer.dataProvider().addFeatures([feature])
    QgsProject.instance().addMapLayer(layer)
    try:
        with pytest.raises(QgsProcessingException, match=r"EPOCHS: its expression 'attribute\(get_feature\('settings', "
                                                         r"'id', 1\), 'epochs'\)' gives no value \(NULL\)"):
            run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train), EPOCHS=QgsProperty.fromExpression(
                "attribute(get_feature('settings', 'id', 1), 'epochs')")))
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    algorithm = QgsApplication.processingRegistry().algorithmById("mrs:finetune")
    context = QgsProcessingContext()
    by_field = finetune(bad, tmp_path, LABELS=str(bad.scene.train), EPOCHS=QgsProperty.fromField("class_id"))
    assert algorithm.checkParameterValues(by_field, context) == (
        False, "EPOCHS: its field 'class_id' gives no value (Field 'class_id' not found); give the value itself.")
    # qgis_process's empty --NAME_FIELD= (a null QVariant) leaves an optional parameter out (red team of 2026-12-05)
    assert algorithm.checkParameterValues(finetune(bad, tmp_path, LABELS=str(bad.scene.train),
                                                   NAME_FIELD=QVariant(QVariant.String)), context) == (True, "")
    result = run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train),
                                          PRETRAINED=QgsProperty.fromExpression("if(false, 'a', NULL)")))
    assert model_file.read_metadata(result["OUTPUT"], [model_file.CLASSIFIER])["training"]["pretrained"] is False


@pytest.mark.parametrize("algorithm", ["pretrain", "finetune"])
def test_a_finished_model_given_as_resume_is_refused_before_the_scene_is_read(bad, tmp_path, algorithm):
    """Red team of 2026-12-04: it was refused after the scene's statistics."""
    parameters = (pretrain(bad, tmp_path, RESUME=bad.pretrained) if algorithm == "pretrain"
                  else finetune(bad, tmp_path, LABELS=str(bad.scene.train), RESUME=bad.classifier))
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as refused:
        run(f"mrs:{algorithm}", parameters, feedback)
    assert str(refused.value).splitlines()[-1].startswith("RESUME: ")
    assert not any("statistics" in line for line in feedback.infos)


def test_a_damaged_checkpoint_resumed_where_the_run_keeps_it_is_said_as_resume_s(bad, tmp_path):
    """A helper's red team of 2026-12-06: a truncated checkpoint resumed at the place the cancel
    message gives was refused as "OUTPUT's checkpoint ... is not an MRS model file"."""
    checkpoint = tmp_path / "cls.checkpoint.safetensors"
    checkpoint.write_bytes(Path(bad.classifier).read_bytes()[:30000])
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train), RESUME=str(checkpoint)))
    assert re.fullmatch(rf"RESUME: '{re.escape(str(checkpoint))}' is truncated: [0-9,]+ bytes shorter than its header "
                        r"says \(a copy or download that stopped early\)\. Re-create it, or copy it again\.",
                        str(refused.value).splitlines()[-1])
    assert sorted(path.name for path in tmp_path.iterdir()) == [checkpoint.name]


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


def test_samples_of_geometry_collections_keep_the_crs_of_their_file(bad, tmp_path):
    """QGIS 3.22 gives a layer of geometry collections no CRS (its provider has the file's): such
    samples in EPSG:4326 were copied without a CRS, taken to be in the grid's, and fell outside
    it (red team of 2026-12-04)."""
    collections = str(tmp_path / "collections.gpkg")
    gdal.VectorTranslate(collections, bad.geographic, layerName="collections", geometryType="GEOMETRYCOLLECTION")
    written = ogr.Open(collections)
    assert written.GetLayer(0).GetNextFeature().GetGeometryRef().GetGeometryName() == "GEOMETRYCOLLECTION"
    written = None
    feedback = RecordingFeedback()
    run("mrs:finetune", points_finetune(bad, tmp_path, collections), feedback)
    assert labelled_pixel_count(feedback) == "'collections': 56 labelled pixels in 7 classes."
    assert not any("has no CRS" in line for line in feedback.infos + feedback.warnings)


def test_a_delimited_text_source_given_as_a_string_is_named_after_its_file(bad, tmp_path):
    """A source with a provider's prefix ('delimitedtext://file:///...csv?...') makes a layer QGIS
    names '': the log and the reports said "'': 56 labelled pixels" (red team of 2026-12-04)."""
    source = ogr.Open(str(bad.scene.train_points))
    rows = [(f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY(), f.GetField("class_id")) for f in source.GetLayer(0)]
    source = None
    table = tmp_path / "field survey.csv"
    table.write_text("x;y;class_id\n" + "".join(f"{x!r};{y!r};{value}\n" for x, y, value in rows))
    uri = f"delimitedtext://{table.as_uri()}?type=csv&delimiter=;&xField=x&yField=y&crs=EPSG:32632"
    feedback = RecordingFeedback()
    run("mrs:finetune", points_finetune(bad, tmp_path, uri), feedback)
    assert labelled_pixel_count(feedback) == "'field survey': 56 labelled pixels in 7 classes."


def test_samples_in_a_memory_layer_are_read(bad, tmp_path):
    layer = drawn_points(bad, "field=class_id:integer", lambda value: [value])
    feedback = RecordingFeedback()
    results = run("mrs:finetune", points_finetune(bad, tmp_path, layer), feedback)
    assert labelled_pixel_count(feedback) == "'drawn': 56 labelled pixels in 7 classes."
    assert os.path.isfile(results["OUTPUT"])


def drawn_points(bad, fields: str, values) -> QgsVectorLayer:
    """A memory layer of a point at each labelled pixel of the scene's training raster, with the
    attributes `values(class value)`."""
    layer = QgsVectorLayer(f"Point?crs=EPSG:32632&{fields}", "drawn", "memory")
    x0, y0 = ORIGIN
    labels = read_raster(bad.scene.train).values
    features = []
    for row, col in np.argwhere(labels > 0):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x0 + col + 0.5, y0 - row - 0.5)))
        feature.setAttributes(values(int(labels[row, col])))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


def test_samples_of_a_copied_layer_with_repeated_fid_values_or_a_geom_field_are_all_read(bad, tmp_path):
    """A helper's red team of 2026-12-05: a layer QGIS copies before the plugin reads it (a memory or
    CSV layer, a selection, a filter) went into a GeoPackage keyed on its 'fid' field, and every feature
    whose fid repeated was left out unsaid (Multipart to singleparts: 12 pixels of 36; a CSV of 210
    points read as 30 of one class); a field named 'geom' or a text 'fid' was refused as unreadable."""
    for fields, values in (("field=fid:integer&field=class_id:integer", lambda value: [1, value]),
                           ("field=fid:string&field=geom:string&field=class_id:integer",
                            lambda value: ["a", "x", value])):
        feedback = RecordingFeedback()
        run("mrs:finetune", points_finetune(bad, tmp_path, drawn_points(bad, fields, values)), feedback)
        assert labelled_pixel_count(feedback) == "'drawn': 56 labelled pixels in 7 classes."


def test_a_layer_of_a_file_opened_by_its_number_is_read_as_qgis_shows_it(bad, tmp_path):
    """Review of 2026-12-05: 'two.gpkg|layerid=1' was read as the file's first layer (its 56 pixels),
    with a warning that no layer had been chosen."""
    from osgeo import gdal as gdal_module

    two = tmp_path / "two.gpkg"
    gdal_module.VectorTranslate(str(two), str(bad.scene.train_points), layerName="first")
    decoy = drawn_points(bad, "field=class_id:integer", lambda value: [value])
    decoy.selectByIds([feature.id() for feature in decoy.getFeatures()][:7])
    from qgis.core import QgsVectorFileWriter as Writer

    options = Writer.SaveVectorOptions()
    options.layerName, options.actionOnExistingFile, options.onlySelectedFeatures = (
        "second", Writer.CreateOrOverwriteLayer, True)
    assert Writer.writeAsVectorFormatV3(decoy, str(two), QgsProject.instance().transformContext(), options)[0] == 0
    layer = QgsVectorLayer(f"{two}|layerid=1", "second of two", "ogr")
    assert layer.isValid() and layer.featureCount() == 7
    feedback = RecordingFeedback()
    run("mrs:finetune", points_finetune(bad, tmp_path, layer), feedback)
    assert labelled_pixel_count(feedback).startswith("'second of two': 7 labelled pixels in ")


def test_a_copied_layer_with_fields_named_alike_but_for_case_is_refused_as_such(bad, tmp_path):
    """Such fields cannot be told apart in the GeoPackage the layer is copied into: the refusal said
    the class field was not a field of the layer ('its fields: none'; red team of 2026-12-05)."""
    layer = drawn_points(bad, "field=class_id:integer&field=CLASS_ID:integer", lambda value: [value, value])
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", points_finetune(bad, tmp_path, layer))
    assert str(refused.value).splitlines()[-1] == (
        "SAMPLES: 'drawn' has fields whose names differ only in case ('class_id', 'CLASS_ID'), which its copy for "
        "reading (a GeoPackage) cannot tell apart: rename one of them (Layer Properties > Fields), or save the "
        "layer to a file and give that.")


def test_samples_are_read_as_qgis_shows_them_with_unsaved_edits_and_added_fields(bad, tmp_path):
    """Processing hands a layer over as its file: classes changed in the edit buffer, the samples
    just added and fields QGIS computes were not seen (red team of 2026-12-04)."""
    layer = QgsVectorLayer(str(bad.scene.train_points), "edited", "ogr")
    QgsProject.instance().addMapLayer(layer)
    try:
        layer.addExpressionField('"class_id" + 10', QgsField("shifted", QVariant.Int))
        assert layer.startEditing()
        index = layer.fields().indexOf("class_id")
        for number, feature in enumerate(layer.getFeatures()):
            layer.changeAttributeValue(feature.id(), index, 1 + number % 2)
        row, col = np.argwhere(read_raster(bad.scene.train).values == 0)[0]
        added = QgsFeature(layer.fields())
        added.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(ORIGIN[0] + col + 0.5, ORIGIN[1] - row - 0.5)))
        added["class_id"] = 2
        assert layer.addFeature(added)
        for field, values in (("class_id", [1, 2]), ("shifted", [11, 12])):
            feedback = RecordingFeedback()
            results = run("mrs:finetune", points_finetune(bad, tmp_path, layer.id(), CLASS_FIELD=field,
                                                          OUTPUT=str(tmp_path / f"{field}.safetensors")), feedback)
            assert labelled_pixel_count(feedback) == "'edited': 57 labelled pixels in 2 classes."
            metadata = model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])
            assert [item["value"] for item in metadata["classes"]] == values
    finally:
        layer.rollBack()
        QgsProject.instance().removeAllMapLayers()


def test_an_edited_feature_qgis_cannot_reproject_is_said_as_such(bad, tmp_path):
    """A feature added at longitude 200, latitude 95 was said to have no geometry (helpers' review of
    2026-12-04): QGIS's own reprojection of a request leaves it without one."""
    layer = QgsVectorLayer(bad.geographic, "geographic", "ogr")
    QgsProject.instance().addMapLayer(layer)
    feedback = RecordingFeedback()
    try:
        assert layer.startEditing()
        beyond = QgsFeature(layer.fields())
        beyond.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(200, 95)))
        beyond["class_id"] = 1
        assert layer.addFeature(beyond)
        run("mrs:finetune", points_finetune(bad, tmp_path, layer.id()), feedback)
    finally:
        layer.rollBack()
        QgsProject.instance().removeAllMapLayers()
    assert feedback.warnings == ["1 feature of 'geographic' could not be reprojected into EPSG:32632; it is left "
                                 "out. Check the layer's CRS (Layer Properties > Source)."]
    assert labelled_pixel_count(feedback) == "'geographic': 56 labelled pixels in 7 classes."
    assert not any("have no geometry" in line for line in feedback.infos)


def test_samples_none_of_which_can_be_reprojected_are_said_to_be_so_not_to_be_no_features(bad, tmp_path):
    """A helper's red team of 2026-12-05: a memory layer of UTM coordinates, which QGIS labels
    EPSG:4326, was 'a layer that has no features' for SAMPLES and REFERENCE; the cause was an info line."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=class_id:integer", "utm as degrees", "memory")
    features = []
    for number, (x, y) in enumerate([(664_000.0, 5_103_000.0), (664_010.0, 5_103_010.0)]):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature["class_id"] = number + 1
        features.append(feature)
    features.append(QgsFeature(layer.fields()))  # one without a geometry: not counted (a review of 2026-12-05)
    assert layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:finetune", points_finetune(bad, tmp_path, layer.id()))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(refused.value) == ("SAMPLES: none of the 2 features with a geometry of 'utm as degrees' can be "
                                  "reprojected from "
                                  "EPSG:4326 into EPSG:32632: their coordinates lie outside the area of EPSG:4326. "
                                  "Check the layer's CRS (Layer Properties > Source: UTM coordinates in a layer said "
                                  "to be EPSG:4326, say), then run again.")


def test_a_shapefile_s_encoding_chosen_in_qgis_is_the_one_read(bad, tmp_path):
    """A Windows-1251 shapefile without a .cpg, whose encoding the analyst chose in the layer's
    properties, trained 'Âîäà' where QGIS showed 'Вода' (helpers' review of 2026-12-04)."""
    names = ["Поле", "Луг", "Почва", "Лес", "Дома", "Дороги", "Вода"]
    points = ogr.Open(str(bad.scene.train_points))
    samples = points.GetLayer(0)
    encoding = gdal.GetConfigOption("SHAPE_ENCODING")
    gdal.SetConfigOption("SHAPE_ENCODING", None)  # QGIS sets it empty, which writes the UTF-8 bytes as they are
    shapefile = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(str(tmp_path / "cyrillic.shp"))
    written = shapefile.CreateLayer("cyrillic", samples.GetSpatialRef(), ogr.wkbPoint, ["ENCODING=CP1251"])
    written.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    written.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for feature in samples:
        copy = ogr.Feature(written.GetLayerDefn())
        copy.SetField("class_id", feature.GetField("class_id"))
        copy.SetField("name", names[feature.GetField("class_id") - 1])
        copy.SetGeometry(feature.GetGeometryRef().Clone())
        written.CreateFeature(copy)
    shapefile = points = None
    gdal.SetConfigOption("SHAPE_ENCODING", encoding)
    (tmp_path / "cyrillic.cpg").unlink()
    assert "Вода".encode("cp1251") in (tmp_path / "cyrillic.dbf").read_bytes()
    layer = QgsVectorLayer(str(tmp_path / "cyrillic.shp"), "cyrillic", "ogr")
    layer.setProviderEncoding("windows-1251")
    QgsProject.instance().addMapLayer(layer)
    try:
        results = run("mrs:finetune", points_finetune(bad, tmp_path, layer.id(), NAME_FIELD="name"))
    finally:
        QgsProject.instance().removeAllMapLayers()
    metadata = model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])
    assert [item["name"] for item in metadata["classes"]] == names
    # the layer given, not the plugin's temporary copy of it (a helper's red team of 2026-12-05)
    assert metadata["trained_on"] == str(tmp_path / "cyrillic.shp")


def test_a_memory_layer_or_a_selection_is_recorded_as_what_was_read_not_as_a_temporary_file(bad, tmp_path):
    """A helper's red team of 2026-12-05: a memory layer was recorded as the temporary GeoPackage QGIS
    deletes, a selection of 90 of 210 points as the whole file, in models and in reports."""
    from qgis.core import QgsProcessingFeatureSourceDefinition

    drawn = drawn_points(bad, "field=class_id:integer", lambda value: [value])
    QgsProject.instance().addMapLayer(drawn)
    points = QgsVectorLayer(str(bad.scene.train_points), "points", "ogr")
    QgsProject.instance().addMapLayer(points)
    points.selectByIds([feature.id() for feature in points.getFeatures()][:30])
    selection = QgsProcessingFeatureSourceDefinition(points.id(), True)
    feedback = RecordingFeedback()
    try:
        trained = run("mrs:finetune", points_finetune(bad, tmp_path, drawn.id()))["OUTPUT"]
        report = run("mrs:accuracy", {"INPUT": bad.classified, "REFERENCE": selection, "REFERENCE_FIELD": "class_id",
                                      "OUTPUT_HTML": str(tmp_path / "r.html"),
                                      "OUTPUT_JSON": str(tmp_path / "r.json")}, feedback)["OUTPUT_JSON"]
    finally:
        QgsProject.instance().removeAllMapLayers()
    # the log says it too (a desktop helper of 2026-12-05: '150 labelled pixels', of 150 of 210 points selected)
    assert "'points' is read as given: its 30 selected features." in feedback.infos
    assert model_file.read_metadata(trained, [model_file.CLASSIFIER])["trained_on"] == (
        "'drawn' (a memory layer, not saved to a file)")
    assert json.loads(Path(report).read_text(encoding="utf-8"))["reference_file"] == (
        f"{bad.scene.train_points} (its 30 selected features)")
    # its kind and its file kept beside what was taken (a review of 2026-12-05)
    csv_path = tmp_path / "pts.csv"
    csv_path.write_text("x,y,class_id\n" + "".join(f"{ORIGIN[0] + col + 0.5},{ORIGIN[1] - row - 0.5},{value}\n"
                                                   for (row, col), value in zip([(1, 1), (5, 5), (9, 9)], (1, 2, 1))))
    table = QgsVectorLayer(f"file://{csv_path}?delimiter=,&xField=x&yField=y&crs=EPSG:32632", "pts", "delimitedtext")
    assert table.isValid()
    QgsProject.instance().addMapLayer(table)
    table.selectByIds([feature.id() for feature in table.getFeatures()][:2])
    try:
        trained = run("mrs:finetune", points_finetune(bad, tmp_path, QgsProcessingFeatureSourceDefinition(
            table.id(), True), OUTPUT=str(tmp_path / "t.safetensors")))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert model_file.read_metadata(trained["OUTPUT"], [model_file.CLASSIFIER])["trained_on"] == (
        f"'pts' (a delimitedtext layer of {csv_path}; its 2 selected features)")
    from mrs.mrs_qgis_plugin.job_inputs import same_layer

    assert same_layer(f"{bad.scene.train_points} (its 30 selected features)", str(bad.scene.train_points))


def test_an_output_over_a_layer_read_through_a_copy_is_refused_as_over_its_file(bad, tmp_path):
    """A layer with unsaved edits goes to the engine as a copy, so an OUTPUT written over its own
    file was no longer found to be an input: the suggestions replaced the mask (helpers' review of
    2026-12-04)."""
    x0, y0 = ORIGIN
    mask = write_vector(tmp_path / "area.gpkg", [(f"POLYGON (({x0} {y0}, {x0 + 40} {y0}, {x0 + 40} {y0 - 40}, "
                                                   f"{x0} {y0 - 40}, {x0} {y0}))", {"name": "a"})],
                        {"name": ogr.OFTString}, layer="area")
    layer = QgsVectorLayer(f"{mask}|layername=area", "area", "ogr")
    QgsProject.instance().addMapLayer(layer)
    try:
        assert layer.startEditing() and layer.changeAttributeValue(next(layer.getFeatures()).id(), 1, "edited")
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:suggest", {"MODEL": bad.classifier, **scene_layers(bad.scene), "MASK": layer.id(), "POINTS": 3,
                                "OUTPUT": mask})
    finally:
        layer.rollBack()
        QgsProject.instance().removeAllMapLayers()
    assert str(refused.value).splitlines()[-1].startswith(f"OUTPUT: {mask} is the input MASK ({mask}")
    written = ogr.Open(mask)  # QGIS's editing touches the file's header; its layers and features are as they were
    assert [written.GetLayer(i).GetName() for i in range(written.GetLayerCount())] == ["area"]
    assert [feature.GetField("name") for feature in written.GetLayer(0)] == ["a"]


def test_samples_reprojected_by_qgis_land_on_their_pixels_with_qgis_own_datum_shift(bad, tmp_path):
    """Samples reprojected into ED50 with QGIS, read back with GDAL's choice of datum shift, lay
    two pixels off (red team of 2026-12-04): QGIS reprojects them, as it draws them."""
    import processing

    ed50 = processing.run("native:reprojectlayer", {"INPUT": str(bad.scene.train_points),
                                                    "TARGET_CRS": "EPSG:23032",
                                                    "OUTPUT": str(tmp_path / "ed50.gpkg")})["OUTPUT"]
    records = []
    for name, samples in (("utm", str(bad.scene.train_points)), ("ed50", ed50)):
        feedback = RecordingFeedback()
        results = run("mrs:finetune", points_finetune(bad, tmp_path, samples, VALIDATION_FRACTION=0.0,
                                                      OUTPUT=str(tmp_path / f"{name}.safetensors")), feedback)
        records.append(model_file.read_metadata(results["OUTPUT"], [model_file.CLASSIFIER])["trained_pixels"])
    assert "'ed50' is reprojected from EPSG:23032 to EPSG:32632." in feedback.infos
    assert labelled_pixel_count(feedback) == "'ed50': 56 labelled pixels in 7 classes."
    assert records[0] == records[1]


def test_rasters_in_another_crs_are_handed_over_with_the_coordinate_operation_qgis_draws_them_with(bad, tmp_path):
    """As samples are: the engine warps them through it (red team of 2026-12-04: an ED50 raster was
    warped with GDAL's choice of datum shift, 2 m from where QGIS draws it, and a project's own
    operation was ignored for rasters only)."""
    from qgis.core import QgsApplication, QgsCoordinateTransformContext, QgsProcessingContext, QgsProcessingFeedback

    ed50 = str(tmp_path / "lidar_ed50.tif")
    gdal.Warp(ed50, str(bad.scene.lidar), dstSRS="EPSG:23032")
    shifted = ("+proj=pipeline +step +inv +proj=utm +zone=32 +ellps=intl +step +proj=utm +zone=32 +ellps=WGS84 "
               "+step +proj=affine +xoff=2")
    transforms = QgsCoordinateTransformContext()
    assert transforms.addCoordinateOperation(QgsCoordinateReferenceSystem("EPSG:23032"),
                                             QgsCoordinateReferenceSystem("EPSG:32632"), shifted)
    context = QgsProcessingContext()
    context.setTransformContext(transforms)
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("mrs:finetune")
    parameters = finetune(bad, tmp_path, INPUT_AUX=[ed50, str(bad.scene.lidar)], LABELS=ed50)
    read = {name: algorithm.value(algorithm.JOB.parameter(name), parameters, context, QgsProcessingFeedback())
            for name in ("INPUT_HSI", "INPUT_AUX", "LABELS")}
    assert [item.operation for item in read["INPUT_AUX"]] == [shifted, ""]
    assert (read["LABELS"].operation, read["INPUT_HSI"].operation) == (shifted, "")


def test_a_crs_or_no_data_set_only_in_qgis_is_refused_with_what_to_do(bad, tmp_path):
    """The algorithms read a raster's file: a label raster's 255 set as no-data in QGIS trained as a
    class, and a CRS set in QGIS was not the map's (red team of 2026-12-04)."""
    labels = QgsRasterLayer(str(bad.scene.train), "labels", "gdal")
    labels.dataProvider().setUserNoDataValue(1, [QgsRasterRange(255, 255)])
    hsi = QgsRasterLayer(str(bad.scene.hsi), "hsi", "gdal")
    hsi.setCrs(QgsCoordinateReferenceSystem("EPSG:32633"))
    try:
        QgsProject.instance().addMapLayer(labels)
        with pytest.raises(QgsProcessingException) as nodata:
            run("mrs:finetune", finetune(bad, tmp_path, LABELS=labels.id()))
        QgsProject.instance().addMapLayer(hsi)  # from now on the file's path means this layer
        with pytest.raises(QgsProcessingException) as crs:
            run("mrs:pretrain", pretrain(bad, tmp_path, INPUT_HSI=hsi.id()))
        unplaced = QgsRasterLayer(bad.no_crs, "no crs", "gdal")
        unplaced.setCrs(QgsCoordinateReferenceSystem("EPSG:32632"))  # what the file lacks, QGIS lends it
        QgsProject.instance().addMapLayer(unplaced)
        with pytest.raises(QgsProcessingException) as lent:
            run("mrs:pretrain", pretrain(bad, tmp_path, INPUT_HSI=unplaced.id()))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(nodata.value) == (
        "LABELS: the layer 'labels' has no-data values set in QGIS (band 1: 255) that its file does not hold, and "
        "the algorithms read the file. Write them into a copy of the file (Raster > Conversion > Translate, 'Assign "
        "a specified nodata value to output bands') and choose that, or clear them in the layer's properties "
        "(Transparency).")
    assert str(crs.value) == (
        "INPUT_HSI: the layer 'hsi' is given the CRS EPSG:32633 in QGIS, but its file holds EPSG:32632, and the "
        "algorithms read the file. Set the layer's CRS back to the file's, or write the CRS into a copy of the file "
        "(Raster > Projections > Assign Projection) and choose that.")
    assert str(lent.value) == (
        "INPUT_HSI: the layer 'no crs' is given the CRS EPSG:32632 in QGIS, but its file holds none, and the algorithms "
        "read the file. Write the CRS into a copy of the file (Raster > Projections > Assign Projection) and choose "
        "that.")
    assert list(tmp_path.iterdir()) == []


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
    rows = list(csv.reader(Path(results["OUTPUT_CSV"]).read_text(encoding="utf-8-sig").splitlines()))[1:]
    similarity = np.array([[float(cell) for cell in row[1:]] for row in rows])
    assert np.isfinite(similarity).all() and similarity.shape == (N_HSI + 2, N_HSI + 2)


def test_band_similarity_warns_of_the_layers_values_as_the_other_jobs_do(bad, tmp_path):
    """Red team of 2026-12-05: a LiDAR whose nodata 0 was the ground's height, and one holding infinite
    values, were warned of by classify, pretrain and finetune, but redundancy dropped those pixels
    from its sample without a word (and its groups changed)."""
    lidar = read_bands(bad.scene.lidar)[0]
    lidar[0, :10, :] = 0.0
    ground = write_raster(tmp_path / "ground.tif", lidar, *read_bands(bad.scene.lidar)[1:], nodata=0)
    feedback = RecordingFeedback()
    run("mrs:redundancy", redundancy(bad, tmp_path, INPUT_AUX=[ground], SAMPLE_SIZE=2000), feedback)
    assert len(feedback.warnings) == 1
    assert re.match(r"'ground' declares 0 as its nodata value, and [\d.]+ % of its pixels hold it in some bands "
                    r"\(band 1 of 'ground'\) but data in others: those pixels are left out\.", feedback.warnings[0])


def test_band_similarity_of_few_valid_pixels_is_warned_of(bad, tmp_path):
    """A helper's red team of 2026-12-05: a LiDAR with data on 60 of the scene's pixels left the band
    similarity to those pixels, said in an info line only."""
    lidar = read_bands(bad.scene.lidar)[0]
    lidar[:] = -1.0
    lidar[:, :6, :10] = 5.0
    patchy = write_raster(tmp_path / "patchy.tif", lidar, *read_bands(bad.scene.lidar)[1:], nodata=-1)
    feedback = RecordingFeedback()
    run("mrs:redundancy", redundancy(bad, tmp_path, INPUT_AUX=[patchy], SAMPLE_SIZE=2000), feedback)
    assert [warning for warning in feedback.warnings if warning.startswith("Only")] == [
        f"Only 60 of the {lidar.shape[1] * lidar.shape[2]:,} pixels of the hyperspectral layer 'hsi' have valid values "
        "in every layer ('hsi', 'patchy'): too few to compare the bands of the scene. Check that the layers cover the "
        "same area, and their nodata values."]


@pytest.mark.parametrize("job", ["classify", "suggest"])
def test_a_scene_with_a_band_of_nan_everywhere_is_refused_before_the_map(bad, tmp_path, job):
    """A helper's red team of 2026-12-05: a band of NaN everywhere was classified tile by tile into a map
    of nodata, then warned of; the README lists such inputs among those refused in one sentence."""
    values, *grid = read_bands(bad.scene.hsi)
    values[2] = np.nan
    hsi = write_raster(tmp_path / "nanband.tif", values, *grid)
    parameters = (classify if job == "classify" else suggest)(bad, tmp_path, INPUT_HSI=hsi)
    with pytest.raises(QgsProcessingException) as refused:
        run(f"mrs:{job}", parameters)
    assert str(refused.value) == ("No pixel has valid values in every layer, as there is no valid value (nodata, NaN "
                                  "or infinite at every pixel) in band 3 of 'nanband'. Repair the band: the "
                                  "classifier needs every band it was trained on.")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["nanband.tif"]


def test_a_file_s_path_that_is_also_another_layer_s_name_is_refused(bad, tmp_path):
    """A helper's red team of 2026-12-05: a project layer of another file named after the path of the
    hyperspectral raster was read in its place, and the map differed without a word."""
    other = QgsRasterLayer(str(bad.two_bands), str(bad.scene.hsi), "gdal")
    QgsProject.instance().addMapLayer(other)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:classify", classify(bad, tmp_path))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(refused.value).splitlines()[-1] == (
        f"INPUT_HSI: '{bad.scene.hsi}' is a file, and also the name of a project layer of another source "
        f"({bad.two_bands}), which Processing would read in its place. Rename that layer (or remove it from the "
        "project), or choose the layer you mean from the list (on the command line, write the file's path another "
        "way: in full, or beginning with ./).")
    assert list(tmp_path.iterdir()) == []
    same = QgsRasterLayer(str(bad.scene.hsi), str(bad.scene.hsi), "gdal")  # named after its own file: read as meant
    vector = QgsVectorLayer(str(bad.scene.train_points), str(bad.scene.hsi), "ogr")  # of another kind: not read
    QgsProject.instance().addMapLayers([same, vector])
    try:
        assert Path(run("mrs:classify", classify(bad, tmp_path))["OUTPUT"]).exists()
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_a_layer_named_after_another_file_s_path_is_refused_where_its_own_file_was_given(bad, tmp_path):
    """A desktop helper of 2026-12-05: a dialog opened with a path (History's re-run) put in its place the
    project layer named that path, and the run read that layer's own file, logged under the path's name;
    the algorithm is given the file read (the layer's own), of a layer named after another file."""
    trap = QgsRasterLayer(str(bad.two_bands), str(bad.scene.hsi), "gdal")
    QgsProject.instance().addMapLayer(trap)
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:classify", classify(bad, tmp_path, INPUT_HSI=str(bad.two_bands)))
    finally:
        QgsProject.instance().removeAllMapLayers()
    assert str(refused.value).splitlines()[-1] == (
        f"INPUT_HSI: '{bad.two_bands}' is the file of a project layer named after another file, '{bad.scene.hsi}', "
        "which a dialog may have taken it for. Rename that layer (or remove it from the project), and choose the "
        "layer or file you mean again.")
    assert list(tmp_path.iterdir()) == []


def test_a_path_qgis_process_could_not_read_as_utf8_is_said_to_be_so(bad, tmp_path):
    """A helper's red team of 2026-12-05: a folder named in Latin-1 reached the plugin as 'Donn\ufffdes'
    through qgis_process, and was said not to exist."""
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, INPUT_HSI=f"{tmp_path}/Donn\ufffdes/hsi.tif"))
    assert str(refused.value).splitlines()[-1] == (
        f"INPUT_HSI: '{tmp_path}/Donn\ufffdes/hsi.tif' holds a character that could not be read (shown \ufffd): a "
        "folder's or the file's name is not valid UTF-8 text (as names from old archives can be); rename it, and run "
        "again.")


def test_a_path_given_through_python_that_is_not_utf8_is_said_to_be_so(bad, tmp_path):
    """A helper's red team of 2026-12-07: a file in a folder named in Latin-1, given through processing.run (its
    odd byte a lone surrogate), was said not to open as a raster layer, the surrogate in the message."""
    folder = os.path.join(os.fsencode(str(tmp_path)), b"Donn\xe9es")
    os.mkdir(folder)
    shutil.copy(str(bad.scene.hsi), os.path.join(folder, b"hsi.tif"))
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, INPUT_HSI=os.fsdecode(os.path.join(folder, b"hsi.tif"))))
    assert str(refused.value).splitlines()[-1] == (
        f"INPUT_HSI: the file name {tmp_path}/Donn\\xe9es/hsi.tif is not valid UTF-8 text (as names from old archives "
        "can be), which the plugin cannot open or write; rename the file (or folder) and run again.")


@pytest.mark.parametrize("extent", ["nosuch.gpkg", "661010;661030;5100960;5100990", "661010,661030,5100960"])
def test_an_extent_that_is_neither_numbers_nor_a_layer_says_the_forms_it_may_take(bad, tmp_path, extent):
    """A helper's red team of 2026-12-07: 'EXTENT (Extent): the value ... is not accepted; see the parameter's help'."""
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, EXTENT=extent))
    assert str(refused.value).splitlines()[-1] == (
        f"EXTENT: '{extent}' is neither an extent written as xmin,xmax,ymin,ymax [EPSG:code] (four numbers with commas "
        "between) nor a layer of the project or an existing file; give one of those.")


def test_rasters_joined_by_a_semicolon_are_told_to_be_given_one_by_one(bad, tmp_path):
    """A helper's red team of 2026-12-07: qgis_process's --INPUT_AUX='a.tif;b.tif' was said to be neither a layer nor
    an existing file, with no word of repeating the parameter."""
    joined_paths = f"{bad.scene.lidar};{bad.scene.lidar}"
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, INPUT_AUX=joined_paths))
    assert str(refused.value).splitlines()[-1] == (
        f"INPUT_AUX: '{joined_paths}' names several files joined by ';'; give each as a value of its own (on the "
        "command line, repeat --INPUT_AUX=FILE; in Python, a list).")


@pytest.mark.parametrize("kind, hints", [("raster", ["Raster", "Vector"]), ("vector", ["Vector", "Raster"])])
def test_a_layer_is_looked_for_as_a_raster_or_a_vector_never_of_any_kind(monkeypatch, tmp_path, kind, hints):
    """A helper's red team of 2026-12-07: a lookup of any kind tries meshes too, whose reader printed 'ERROR: Status 2:
    File ... could not be found' twice under qgis_process before the plugin's sentence."""
    from qgis.core import QgsProcessingContext, QgsProcessingUtils

    from mrs.algorithms.layers import layer_of

    asked = []
    monkeypatch.setattr(QgsProcessingUtils, "mapLayerFromString",
                        lambda value, context, load=True, hint=None: asked.append(hint) or None)
    assert layer_of(str(tmp_path / "missing.gpkg"), QgsProcessingContext(), kind) is None
    assert asked == [getattr(QgsProcessingUtils.LayerHint, name) for name in hints]


def test_a_name_that_several_project_layers_of_other_files_bear_is_refused(bad, tmp_path):
    """A helper's red team of 2026-12-05: two flights both named 'hsi' in the project were read one or
    the other by chance (30 or 63 bands), the log naming neither file."""
    first = QgsRasterLayer(str(bad.scene.hsi), "flight", "gdal")
    second = QgsRasterLayer(str(bad.two_bands), "flight", "gdal")
    QgsProject.instance().addMapLayers([first, second])
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:classify", classify(bad, tmp_path, INPUT_HSI="flight"))
    finally:
        QgsProject.instance().removeAllMapLayers()
    files = ", ".join(sorted([str(bad.scene.hsi), str(bad.two_bands)]))
    assert str(refused.value).splitlines()[-1] == (
        f"INPUT_HSI: 'flight' is the name of 2 project layers of other sources ({files}), of which Processing would "
        "take one by chance. Rename them apart, or choose the layer you mean from the list (on the command line, give "
        "the path of its file).")
    assert list(tmp_path.iterdir()) == []
    from osgeo import gdal

    tables = tmp_path / "tables.gpkg"  # two tables of one file, one name: two layers (a review of 2026-12-05)
    gdal.VectorTranslate(str(tables), str(bad.scene.train_points), layerName="a")
    gdal.VectorTranslate(str(tables), str(bad.scene.train_points), layerName="b", accessMode="append")
    QgsProject.instance().addMapLayers([QgsVectorLayer(f"{tables}|layername={table}", "points", "ogr")
                                        for table in ("a", "b")])
    try:
        with pytest.raises(QgsProcessingException, match="'points' is the name of 2 project layers of other sources"):
            run("mrs:accuracy", {"INPUT": bad.classified, "REFERENCE": "points", "REFERENCE_FIELD": "class_id",
                                 "OUTPUT_HTML": str(tmp_path / "r.html")})
    finally:
        QgsProject.instance().removeAllMapLayers()
    tables.unlink()
    same = QgsRasterLayer(str(bad.scene.hsi), "flight", "gdal")  # one file twice: no matter which
    QgsProject.instance().addMapLayers([QgsRasterLayer(str(bad.scene.hsi), "flight", "gdal"), same])
    try:
        assert Path(run("mrs:classify", classify(bad, tmp_path, INPUT_HSI="flight"))["OUTPUT"]).exists()
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_labelled_pixels_whose_patches_exceed_the_memory_are_refused_before_they_are_cut(bad, tmp_path, monkeypatch):
    """A helper's red team of 2026-12-05: every pixel of a scene labelled asked for 7.1 GiB of patches,
    and the message said to lower BATCH_SIZE, which changed nothing."""
    from mrs.mrs_qgis_plugin import jobs

    monkeypatch.setattr(jobs, "memory_headroom", lambda: 2 ** 10)
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train)))
    assert re.fullmatch(r"The 56 labelled pixels of 'train' take about 308 KB of memory as the model's "
                        r"patches \(\d+ bands of \d+ x \d+ pixels each\), more than the 1 KB available: label fewer "
                        r"pixels \(the neighbouring pixels of one field teach the model little that a few of them do "
                        r"not\), or run on a machine with more memory\.",
                        str(refused.value).splitlines()[-1]), str(refused.value)
    assert list(tmp_path.iterdir()) == []


# Inputs are never written, outputs are whole or absent ------------------------------------------------


def test_no_algorithm_writes_anything_beside_its_inputs(mrs, tmp_path):
    scene = write_test_scene(tmp_path / "inputs")
    before = folder_state(scene.directory)
    out = tmp_path / "out"
    out.mkdir()
    layers = scene_layers(scene)
    pretrained = run("mrs:pretrain", {**layers, **QUICK, "OUTPUT": str(out / "pre.safetensors")})["OUTPUT"]
    classifier = run("mrs:finetune", {**layers, **QUICK_FINETUNE, "EPOCHS": 1, "PRETRAINED": pretrained,
                                      "LABELS": str(scene.train), "OUTPUT": str(out / "c.safetensors")})["OUTPUT"]
    run("mrs:finetune", {**layers, **QUICK_FINETUNE, "EPOCHS": 1, "SAMPLES": str(scene.train_points),
                         "CLASS_FIELD": "class_id", "OUTPUT": str(out / "c2.safetensors")})
    class_map = run("mrs:classify", {"MODEL": classifier, **layers, "OUTPUT": str(out / "map.tif")})["OUTPUT"]
    run("mrs:suggest", {"MODEL": classifier, **layers, "POINTS": 3, "OUTPUT": str(out / "next.gpkg")})
    run("mrs:redundancy", {**layers, "SAMPLE_SIZE": 200, "OUTPUT_PNG": str(out / "s.png"),
                           "OUTPUT_CSV": str(out / "s.csv")})
    maps = folder_state(out)
    run("mrs:accuracy", {"INPUT": class_map, "REFERENCE_LABELS": str(scene.test), "OUTPUT_HTML": str(tmp_path / "r.html")})
    assert folder_state(scene.directory) == before
    assert folder_state(out) == maps


def test_an_output_that_is_an_input_through_a_link_is_refused_before_any_work(bad, tmp_path):
    """And by the parameters' check, before the run (a helper's desktop check of 2026-12-06: the dialog
    said it in the log of a run that then 'finished', where other bad values get a message box)."""
    from qgis.core import QgsProcessingContext

    link = tmp_path / "link.tif"
    link.symlink_to(bad.scene.hsi)
    hsi = bad.scene.hsi.read_bytes()
    said = f"OUTPUT: {link} is the input INPUT_HSI ({bad.scene.hsi}); writing it would destroy that input."
    with pytest.raises(QgsProcessingException) as raised:
        run("mrs:classify", classify(bad, tmp_path, OUTPUT=str(link)))
    assert str(raised.value).splitlines()[-1].startswith(said)
    checked = QgsApplication.processingRegistry().createAlgorithmById("mrs:classify").checkParameterValues(
        classify(bad, tmp_path, OUTPUT=str(link)), QgsProcessingContext())
    assert checked[0] is False and checked[1].startswith(said)
    assert bad.scene.hsi.read_bytes() == hsi and sorted(tmp_path.iterdir()) == [link]


def test_a_map_may_share_its_name_with_its_model(bad, tmp_path):
    """A model file has no side files: 'forest.tif' beside 'forest.safetensors' takes nothing of the model's."""
    model = tmp_path / "forest.safetensors"
    model.write_bytes(Path(bad.classifier).read_bytes())
    run("mrs:classify", classify(bad, tmp_path, MODEL=str(model), OUTPUT=str(tmp_path / "forest.tif")))
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "forest.qml", "forest.safetensors", "forest.tif", "forest.tif.aux.xml"]


def test_an_algorithm_removes_the_temporary_files_a_killed_run_left_for_its_outputs_and_no_others(bad, tmp_path):
    stale = [".map.tif.ab12cd_9.partial", ".map.tif.ab12cd_9.partial.aux.xml", ".map.tif.ab12cd_9.partial.qml",
             ".map.qml.zz99yy00.partial.qml"]
    others = [".map.tif.notes", ".other.tif.ab12cd_9.partial", "map.tif.ab12cd_9.partial", ".map.tif.toolong99.partial"]
    for name in stale + others:
        (tmp_path / name).write_text("left")
    run("mrs:classify", classify(bad, tmp_path))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(others + ["map.qml", "map.tif", "map.tif.aux.xml"])


def test_the_checkpoint_of_a_training_run_may_not_be_one_of_its_inputs_but_may_be_what_it_resumes(bad, tmp_path):
    """The checkpoint written every two minutes and on cancel replaced PRETRAINED when that was
    named as OUTPUT's checkpoint (red team of 2026-12-04)."""
    pretrained = tmp_path / "cls.checkpoint.safetensors"
    pretrained.write_bytes(Path(bad.pretrained).read_bytes())
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train), PRETRAINED=str(pretrained)))
    assert str(refused.value).splitlines()[-1] == (
        f"OUTPUT's checkpoint: {pretrained} is the input PRETRAINED ({pretrained}); writing it would destroy that "
        "input. Choose another output file name.")
    assert pretrained.read_bytes() == Path(bad.pretrained).read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == [pretrained.name]


def test_a_checkpoint_path_that_is_a_folder_is_refused_before_the_training(bad, tmp_path):
    """The whole training ran, then its end raised IsADirectoryError (red team of 2026-12-04)."""
    (tmp_path / "cls.checkpoint.safetensors").mkdir()
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train)))
    assert str(refused.value).splitlines()[-1] == (
        f"OUTPUT's checkpoint: {tmp_path / 'cls.checkpoint.safetensors'}, which a training on "
        f"{tmp_path / 'cls.safetensors'} writes, is a folder; move it away or choose another output file name.")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cls.checkpoint.safetensors"]


def test_an_extent_s_unknown_crs_is_refused_whatever_the_project_s_crs(bad, tmp_path):
    """Desktop helper of 2026-12-05: QGIS gives the project's CRS for one it does not know, so in a
    project of the data's CRS the numbers were taken as they stood."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsProject

    project = QgsProject.instance()
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:32632"))
    try:
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:classify", classify(bad, tmp_path, EXTENT="661010,661030,5100960,5100980 [EPSG:99999]"))
    finally:
        project.setCrs(QgsCoordinateReferenceSystem())
    assert str(refused.value).splitlines()[-1] == "EXTENT: the CRS 'EPSG:99999' is not known; write it as EPSG:code."
    assert list(tmp_path.iterdir()) == []


def test_an_extent_in_a_crs_that_cannot_be_transformed_into_the_hyperspectral_one_is_refused(bad, tmp_path):
    """False-alarm hunt of 2026-12-05: on a hyperspectral layer in a local CRS (an ENVI header's map
    info 'Arbitrary'), QGIS took an extent in EPSG:32632 as the numbers stood, where bin/mrs refused it."""
    local = 'LOCAL_CS["Arbitrary",UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    copies = {}
    for name in ("hsi", "lidar"):
        copies[name] = str(tmp_path / f"{name}.tif")
        dataset = gdal.Translate(copies[name], str(getattr(bad.scene, name)))
        dataset.SetProjection(local)
        dataset = None
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:pretrain", pretrain(bad, tmp_path, INPUT_HSI=copies["hsi"], INPUT_AUX=[copies["lidar"]],
                                     EXTENT="661010,661030,5100960,5100980 [EPSG:32632]"))
    assert str(refused.value).splitlines()[-1] == (
        "EXTENT: its CRS (EPSG:32632) cannot be transformed into that of the hyperspectral layer 'hsi' (Arbitrary): no "
        "transformation between them is known, as a local CRS (an ENVI header's map info 'Arbitrary', say) lies "
        "nowhere on Earth. Write the extent in the layer's own coordinates, without a CRS.")
    assert not (tmp_path / "pre.safetensors").exists()
    # Review of 2026-12-05: a layer without a CRS takes the numbers as they stand, as bin/mrs does.
    for name in ("hsi", "lidar"):
        dataset = gdal.Open(copies[name], gdal.GA_Update)
        dataset.SetProjection("")
        dataset = None
    run("mrs:pretrain", pretrain(bad, tmp_path, INPUT_HSI=copies["hsi"], INPUT_AUX=[copies["lidar"]],
                                 EXTENT="661010,661030,5100960,5100980 [EPSG:32632]"))
    assert (tmp_path / "pre.safetensors").exists()


def test_a_path_object_given_to_processing_run_is_said_to_be_one(bad, tmp_path):
    """Red team of 2026-12-05: pathlib's paths got 'the value PosixPath(...) is not accepted'."""
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, MODEL=Path(bad.classifier)))
    assert str(refused.value).splitlines()[-1] == (
        f"MODEL (Classifier model): {Path(bad.classifier)!r} is a Python path object, which Processing does not "
        "take; give the path as text, str(path).")


@pytest.mark.parametrize("job", ["classify", "suggest"])
def test_a_run_holds_its_map_from_its_start(bad, tmp_path, monkeypatch, job):
    """Red team of 2026-12-05: two classifications started within a second on one map both ran (the
    map was held only once its tiles were being written), and the later one replaced the other's."""
    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin import jobs
    from mrs.mrs_qgis_plugin.raster.outputs import claim_outputs

    output = tmp_path / ("map.tif" if job == "classify" else "next.gpkg")
    refusals = []
    opened = jobs.Layers.open

    def second_run_starts(layers, hooks):
        try:
            claim_outputs({"OUTPUT": str(output)}, {})
        except InputError as error:
            refusals.append(str(error))
        return opened(layers, hooks)

    monkeypatch.setattr(jobs.Layers, "open", second_run_starts)
    run(f"mrs:{job}", classify(bad, tmp_path) if job == "classify" else suggest(bad, tmp_path))
    assert refusals == [f"OUTPUT: {output} is being written by another run now; wait until it has ended, or choose "
                        "another output file name."]


@pytest.mark.parametrize("job", ["accuracy", "redundancy"])
def test_a_report_is_held_from_its_start(bad, tmp_path, job):
    """Two accuracy (or redundancy) runs on one report at once both ran and the last one's files won
    (closing note of 2026-12-05): a report is held from the run's start, as maps are."""
    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin.raster.outputs import claim_outputs

    parameters = accuracy(bad, tmp_path) if job == "accuracy" else redundancy(bad, tmp_path)
    report = parameters["OUTPUT_HTML" if job == "accuracy" else "OUTPUT_CSV"]
    refusals = []

    class SecondRunStarts(RecordingFeedback):
        def setProgress(self, progress: float) -> None:  # noqa: N802 - QGIS API name
            super().setProgress(progress)
            if not refusals and 0 < progress < 100:
                try:
                    claim_outputs({"OUTPUT": report}, {})
                    refusals.append("claimed")
                except InputError as error:
                    refusals.append(str(error))

    run(f"mrs:{job}", parameters, SecondRunStarts())
    assert refusals == [f"OUTPUT: {report} is being written by another run now; wait until it has ended, or choose "
                        "another output file name."]


def test_a_model_file_going_to_qgis_temporary_folder_is_warned_of(bad, tmp_path):
    """Red team of 2026-12-05: a classifier given TEMPORARY_OUTPUT (a modeler model's output left
    temporary, processing.run) went to QGIS's temporary folder, deleted when QGIS closes, without a word."""
    feedback = RecordingFeedback()
    results = run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train), OUTPUT="TEMPORARY_OUTPUT"),
                  feedback)
    assert feedback.warnings == [
        f"OUTPUT: {results['OUTPUT']} is in QGIS's temporary folder, which QGIS deletes when it closes; save the "
        "classifier model to a file of your own to keep it."]
    feedback = RecordingFeedback()
    run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train)), feedback)
    assert feedback.warnings == []


def test_a_model_file_is_known_by_what_it_holds_not_by_its_extension(bad, tmp_path):
    """Red team of 2026-12-05: a classifier renamed .pt was refused as 'not a .safetensors file', and
    so was a real pickle named .pt, which did not get the sentence of a pickle."""
    import pickle
    import shutil

    shutil.copy(bad.classifier, tmp_path / "classifier.pt")
    assert run("mrs:classify", classify(bad, tmp_path, MODEL=str(tmp_path / "classifier.pt")))["OUTPUT"]
    (tmp_path / "pickled.pt").write_bytes(pickle.dumps({"weights": [1.0]}))
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, MODEL=str(tmp_path / "pickled.pt"), OUTPUT=str(tmp_path / "m.tif")))
    assert "is a Python pickle or PyTorch archive, not an MRS model file" in str(refused.value)


def test_a_confidence_raster_is_not_written_over_an_earlier_map(bad, tmp_path):
    """Red team of 2026-12-05: a batch's second row wrote its confidence over the first row's map."""
    run("mrs:classify", classify(bad, tmp_path, OUTPUT_CONFIDENCE=str(tmp_path / "conf.tif")))
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, OUTPUT=str(tmp_path / "map2.tif"),
                                     OUTPUT_CONFIDENCE=str(tmp_path / "map.tif")))
    assert str(refused.value).splitlines()[-1] == (
        f"OUTPUT_CONFIDENCE: {tmp_path / 'map.tif'} is a land-cover map this plugin wrote, not a confidence raster; "
        "choose a new file name, or delete that file first.")


def test_a_map_written_over_one_with_a_confidence_raster_says_that_raster_is_the_earlier_map_s(bad, tmp_path):
    """A desktop helper's red team of 2026-12-06: a map written again without OUTPUT_CONFIDENCE left
    the earlier map's confidence raster beside it in the project, unsaid, as if it were the new map's."""
    confidence = tmp_path / "conf.tif"
    said = "The earlier map at OUTPUT was written with the confidence raster "

    def warned(**changes) -> list:
        run("mrs:classify", classify(bad, tmp_path, OUTPUT_CONFIDENCE=str(confidence)))
        feedback = RecordingFeedback()
        run("mrs:classify", classify(bad, tmp_path, **changes), feedback)
        return [warning for warning in feedback.warnings if warning.startswith(said)]

    stale = [f"{said}{confidence}, which this run leaves as it was: it is the earlier map's, not this one's. Give it "
             "as OUTPUT_CONFIDENCE to write this map's, or delete it."]
    assert warned() == stale
    assert warned(OUTPUT_CONFIDENCE=str(tmp_path / "conf2.tif")) == stale
    assert warned(OUTPUT_CONFIDENCE=str(confidence)) == []  # replaced with the map
    # written since with another map, it is that map's (a desktop helper's red team of 2026-12-06: 'or delete it')
    run("mrs:classify", classify(bad, tmp_path, OUTPUT_CONFIDENCE=str(confidence)))
    run("mrs:classify", classify(bad, tmp_path, OUTPUT=str(tmp_path / "other.tif"), OUTPUT_CONFIDENCE=str(confidence)))
    feedback = RecordingFeedback()
    run("mrs:classify", classify(bad, tmp_path), feedback)
    assert not [warning for warning in feedback.warnings if warning.startswith(said)]
    run("mrs:classify", classify(bad, tmp_path, OUTPUT_CONFIDENCE=str(confidence)))
    confidence.unlink()
    feedback = RecordingFeedback()  # gone: nothing to say
    run("mrs:classify", classify(bad, tmp_path), feedback)
    assert not [warning for warning in feedback.warnings if warning.startswith(said)]


def test_a_second_run_on_an_output_another_run_is_writing_is_refused_and_removes_nothing(bad, tmp_path):
    """A run removed every temporary file of its output, also that of a run still writing it,
    which then failed with no map (red team of 2026-12-04); the second run now says why it stops."""
    from mrs.model_core.atomic import make_temporary

    lock, partial = make_temporary(str(tmp_path / "map.tif"))
    try:
        Path(partial + ".aux.xml").write_text("side file")
        with pytest.raises(QgsProcessingException) as refused:
            run("mrs:classify", classify(bad, tmp_path))
        assert str(refused.value).splitlines()[-1] == (
            f"OUTPUT: {tmp_path / 'map.tif'} is being written by another run now; wait until it has ended, or "
            "choose another output file name.")
        assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
            [Path(partial).name, Path(partial).name + ".aux.xml"])
    finally:
        os.close(lock)
    run("mrs:classify", classify(bad, tmp_path))  # the run ended (killed, say): its files are stale now
    assert sorted(path.name for path in tmp_path.iterdir()) == ["map.qml", "map.tif", "map.tif.aux.xml"]


def test_outputs_get_the_permissions_of_a_normal_file_and_keep_those_of_the_file_they_replace(bad, tmp_path):
    previous = os.umask(0o022)
    try:
        run("mrs:classify", classify(bad, tmp_path, OUTPUT_CONFIDENCE=str(tmp_path / "conf.tif")))
        run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train)))
        run("mrs:accuracy", accuracy(bad, tmp_path, OUTPUT_CSV=str(tmp_path / "r.csv"),
                                     OUTPUT_JSON=str(tmp_path / "r.json")))
        modes = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()}
        assert modes == dict.fromkeys(["map.tif", "map.tif.aux.xml", "map.qml", "conf.tif", "conf.qml",
                                       "cls.safetensors", "r.html", "r.csv", "r.json"], 0o644)
        for name in ("map.tif", "map.qml", "cls.safetensors", "r.html"):
            (tmp_path / name).chmod(0o640)
        run("mrs:classify", classify(bad, tmp_path))
        run("mrs:finetune", finetune(bad, tmp_path, LABELS=str(bad.scene.train)))
        run("mrs:accuracy", accuracy(bad, tmp_path))
    finally:
        os.umask(previous)
    assert {name: (tmp_path / name).stat().st_mode & 0o777 for name in ("map.tif", "map.qml", "cls.safetensors",
                                                                       "r.html", "map.tif.aux.xml")} == {
        "map.tif": 0o640, "map.qml": 0o640, "cls.safetensors": 0o640, "r.html": 0o640, "map.tif.aux.xml": 0o644}


DISK_FULL_CASES = {
    "model file": ("finetune", lambda b, o: finetune(b, o, LABELS=str(b.scene.train)), "cls.safetensors"),
    "report": ("accuracy", lambda b, o: accuracy(b, o), "r.html"),
    "map and style": ("classify", lambda b, o: classify(b, o), "map.tif"),
}


@pytest.mark.parametrize("case", DISK_FULL_CASES)
def test_a_full_disk_stops_with_one_sentence_and_keeps_the_earlier_output(bad, tmp_path, monkeypatch, case):
    algorithm, parameters, name = DISK_FULL_CASES[case]
    run(f"mrs:{algorithm}", parameters(bad, tmp_path))
    earlier = folder_state(tmp_path)
    contents = {path: Path(path).read_bytes() for path in earlier}

    def disk_full(_descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(QgsProcessingException) as raised:
        run(f"mrs:{algorithm}", parameters(bad, tmp_path))
    assert str(raised.value) == (
        f"Could not write {tmp_path / name}: the disk is full. Nothing was replaced (an earlier {name} is "
        "unchanged); free some space or choose another folder, and run again.")
    assert folder_state(tmp_path) == earlier
    assert {path: Path(path).read_bytes() for path in earlier} == contents


# Figures are right or absent ---------------------------------------------------------------------------


def test_accuracy_is_the_same_with_or_without_the_maps_style_and_stops_when_names_cannot_be_matched(bad, tmp_path):
    reference = {"REFERENCE": str(bad.scene.train_points), "REFERENCE_FIELD": "class_name", "REFERENCE_LABELS": None}
    beside = run("mrs:accuracy", accuracy(bad, tmp_path, **reference))
    copied = tmp_path / "copy"
    copied.mkdir()
    for suffix in (".tif", ".tif.aux.xml"):
        (copied / f"map{suffix}").write_bytes(Path(bad.classified[:-4] + suffix).read_bytes())
    alone = run("mrs:accuracy", accuracy(bad, tmp_path, INPUT=str(copied / "map.tif"), **reference))
    by_value = run("mrs:accuracy", accuracy(bad, tmp_path, **{**reference, "REFERENCE_FIELD": "class_id"}))
    assert alone["OVERALL_ACCURACY"] == beside["OVERALL_ACCURACY"] == by_value["OVERALL_ACCURACY"]

    (copied / "map.tif.aux.xml").unlink()  # the map keeps its classes in its GeoTIFF too
    assert run("mrs:accuracy", accuracy(bad, tmp_path, INPUT=str(copied / "map.tif"), **reference))[
        "OVERALL_ACCURACY"] == beside["OVERALL_ACCURACY"]
    mapped = read_raster(copied / "map.tif")
    write_raster(copied / "bare.tif", mapped.values[None], mapped.geotransform, nodata=0)
    with pytest.raises(QgsProcessingException) as raised:
        run("mrs:accuracy", accuracy(bad, tmp_path, INPUT=str(copied / "bare.tif"), **reference))
    assert str(raised.value).startswith(
        "The reference classes of 'train_points' are names, and 'Bare soil', 'Buildings', 'Crop', 'Grassland', "
        "'Roads', 'Trees', 'Water' cannot be found in the map 'bare': its class names cannot be read")


def test_class_names_with_control_characters_or_formulas_make_well_formed_styles_and_inert_reports(bad, tmp_path):
    labelled = np.argwhere(read_raster(bad.scene.train).values > 0)
    classes = read_raster(bad.scene.train).values[tuple(labelled.T)]
    names = {1: "Crop\x07", 2: "=HYPERLINK(\"http://x\")", 3: "@SUM(A1)", 4: "Trees\r\nand <shrubs> & co",
             5: "Bâti;=cmd|' /C calc'!A0;x"}  # split at ';' by Excel in some locales (a helper, 2026-12-05)
    x0, y0 = ORIGIN
    samples = write_vector(tmp_path / "named.gpkg", [
        (f"POINT ({x0 + col + 0.5} {y0 - row - 0.5})", {"class_id": int(value), "name": names.get(int(value), "x")})
        for (row, col), value in zip(labelled, classes)], {"class_id": ogr.OFTInteger, "name": ogr.OFTString})
    model = run("mrs:finetune", points_finetune(bad, tmp_path, samples, NAME_FIELD="name"))["OUTPUT"]
    class_map = run("mrs:classify", classify(bad, tmp_path, MODEL=model))["OUTPUT"]
    import xml.etree.ElementTree as ET

    labels = [entry.get("label") for entry in ET.parse(tmp_path / "map.qml").getroot().iter("paletteEntry")]
    assert labels[:4] == ["Crop", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "Trees and <shrubs> & co"]
    run("mrs:accuracy", accuracy(bad, tmp_path, INPUT=class_map, OUTPUT_CSV=str(tmp_path / "r.csv"),
                                 OUTPUT_JSON=str(tmp_path / "r.json")))
    # with a byte-order mark, which Excel needs to read UTF-8 (a helper's red team of 2026-12-05)
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbfclass_value,")
    rows = list(csv.reader((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [row[1] for row in rows[1:6]] == ["Crop", "'=HYPERLINK(\"http://x\")", "'@SUM(A1)",
                                             "Trees and <shrubs> & co", "Bâti;'=cmd|' /C calc'!A0;x"]
    assert "Trees and &lt;shrubs&gt; &amp; co" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '"name": "Bâti;=cmd|' in (tmp_path / "r.json").read_text(encoding="utf-8")  # not 'B\u00e2ti'


# Memory and time bounded whatever the raster ------------------------------------------------------------


def test_the_statistics_pass_on_a_huge_sparse_raster_reads_only_the_blocks_with_data(bad, tmp_path):
    """A 50,000 x 50,000 pixel VRT whose only data is the 48 x 48 scene in its corner: the
    pass reads the one block with data and skips the others without reading them."""
    vrt = str(tmp_path / "huge.vrt")
    x0, y0 = ORIGIN
    gdal.BuildVRT(vrt, [str(bad.scene.hsi)], outputBounds=(x0, y0 - 50000, x0 + 50000, y0), VRTNodata=-9999)
    feedback = RecordingFeedback()
    run("mrs:redundancy", redundancy(bad, tmp_path, INPUT_HSI=vrt, INPUT_AUX=[], SAMPLE_SIZE=100), feedback)
    assert feedback.log_with("Statistics sample:") == [
        "Statistics sample: 100 valid pixels from 1 of 38,416 blocks (38,415 without data skipped)."]


def test_an_extent_from_a_layer_of_no_area_is_refused_naming_the_layer(bad, tmp_path):
    """A helper's review of 2026-12-05: in QGIS a layer of one point given as EXTENT was 'empty or
    inverted: draw the extent again', where bin/mrs named the layer."""
    x0, y0 = ORIGIN
    point = write_vector(tmp_path / "onept.gpkg", [(point_wkt(x0 + 5.5, y0 - 5.5), {})], {})
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, EXTENT=str(point)))
    from mrs.mrs_qgis_plugin.raster.grid import format_bounds

    assert str(refused.value).splitlines()[-1] == (
        f"EXTENT: the features of the layer 'onept' ({point}) span no area "
        f"({format_bounds((x0 + 5.5, y0 - 5.5, x0 + 5.5, y0 - 5.5))}); give a layer of an area, or xmin,xmax,ymin,ymax.")
    assert not (tmp_path / "map.tif").exists()
    empty = write_vector(tmp_path / "empty.gpkg", [], {})  # no feature: QGIS's null extent (review of 2026-12-05)
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:classify", classify(bad, tmp_path, EXTENT=str(empty)))
    assert str(refused.value).splitlines()[-1] == (
        f"EXTENT: the layer 'empty' ({empty}) has no feature with a geometry, so no extent; give another layer, or "
        "xmin,xmax,ymin,ymax.")


def test_a_cancel_once_the_work_is_done_keeps_the_outputs_and_says_so(bad, tmp_path):
    """A helper's red team of 2026-12-05: Cancel pressed once the progress read 100 % (a training's
    last validation and writes, a map's publishing) was ignored without a word, and QGIS's dialog
    then said the run failed, over whole outputs."""

    class LateCancel(RecordingFeedback):
        def setProgress(self, progress: float) -> None:  # noqa: N802 - QGIS API name
            super().setProgress(progress)
            if progress >= 100:
                self.cancel()

    feedback = LateCancel()
    results = run("mrs:classify", classify(bad, tmp_path), feedback)
    assert feedback.isCanceled() and read_raster(results["OUTPUT"]).values.any()
    assert feedback.warnings[-1] == ("Cancel came once the work was done: its outputs are written whole and kept "
                                     "(QGIS may still say that the run failed, and not load them: open them "
                                     "from their files).")

    from test_workflow_model import _model_of_one_step  # a step of a model ends it 'OK' (a helper's red team, 12-06)

    class CancelOnceWritten(RecordingFeedback):  # a model's step tells its progress to the model's feedback only
        def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS API name
            super().pushInfo(info)
            if info.startswith("Wrote "):
                self.cancel()

    feedback = CancelOnceWritten()
    run(_model_of_one_step("mrs:classify", classify(bad, tmp_path, OUTPUT=str(tmp_path / "step.tif"))), {}, feedback)
    assert feedback.warnings[-1] == ("Cancel came once the work was done: its outputs are written whole and kept "
                                     "(QGIS may still say that the run failed, and not load them: open them "
                                     "from their files, and the model's later steps do not run).")


@pytest.mark.parametrize("job", ["finetune", "accuracy"])
def test_a_field_name_holding_a_semicolon_that_names_no_field_is_said_to_be_no_field_of_the_layer(bad, tmp_path, job):
    """A helper's red team of 2026-12-06: 'class_id;class_name', as qgis_process's help offers for a field
    ('; delimited list of existing field names'), was said to be a field to rename, which the layer lacks."""
    points = str(bad.scene.train_points)
    parameters = (points_finetune(bad, tmp_path, points, CLASS_FIELD="class_id;class_name") if job == "finetune" else
                  accuracy(bad, tmp_path, REFERENCE=points, REFERENCE_FIELD="class_id;class_name"))
    parameters.pop("REFERENCE_LABELS", None)
    with pytest.raises(QgsProcessingException) as refused:
        run(f"mrs:{job}", parameters)
    field = "CLASS_FIELD" if job == "finetune" else "REFERENCE_FIELD"
    assert str(refused.value).splitlines()[-1] == (
        f"{field}: 'class_id;class_name' is not a field of 'train_points'; its fields: 'fid', 'class_id', "
        "'class_name'. Choose one of them.")
    assert list(tmp_path.iterdir()) == []


def test_a_field_name_two_fields_differing_in_letter_case_may_be_is_said_so(bad, tmp_path):
    """A review of 2026-12-06: 'class' beside 'Class' and 'CLASS' was said to be no field of the layer."""
    points = str(tmp_path / "cased.geojson")  # a GeoPackage's column names are one in any letter case
    (tmp_path / "cased.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"Class": 1, "CLASS": 2}, '
        '"geometry": {"type": "Point", "coordinates": [661000.5, 5100999.5]}}]}')
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", points_finetune(bad, out, points, CLASS_FIELD="class"))
    assert str(refused.value).splitlines()[-1] == (
        "CLASS_FIELD: 'class' names 2 fields of 'cased' in other letter cases ('Class', 'CLASS'); give one as it "
        "is spelt.")
    assert list(out.iterdir()) == []


def test_a_class_field_whose_name_holds_a_semicolon_is_said_to_be_renamed(bad, tmp_path):
    """A helper's red team of 2026-12-06: a GeoPackage field 'Klasse;Nr' gave QGIS's 'Incorrect parameter
    value for CLASS_FIELD', without a word of why (QGIS 3.22 reads ';' as a list of fields)."""
    points = write_vector(tmp_path / "odd.gpkg", [(point_wkt(661000.5, 5100999.5), {"Klasse;Nr": 1})],
                          {"Klasse;Nr": ogr.OFTInteger})
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", finetune(bad, tmp_path, SAMPLES=points, CLASS_FIELD="Klasse;Nr"))
    assert str(refused.value).splitlines()[-1] == (
        "CLASS_FIELD: the field name 'Klasse;Nr' holds ';', which QGIS 3.22 reads as a list of fields, so it cannot be "
        "chosen; rename the field (Processing Toolbox > Vector table > Rename field), and run again.")


def write_two_layers(points: str, path: str) -> str:
    """A GeoPackage of a layer 'other' (field 'kind', one point) and then a copy of `points` as 'points'."""
    source = ogr.Open(points)
    target = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    other = target.CreateLayer("other", source.GetLayer(0).GetSpatialRef(), ogr.wkbPoint)
    other.CreateField(ogr.FieldDefn("kind", ogr.OFTInteger))
    feature = ogr.Feature(other.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt(point_wkt(661000.5, 5100999.5)))
    other.CreateFeature(feature)  # a layer is made in the file at its first feature
    target.CopyLayer(source.GetLayer(0), "points")
    return path


@pytest.mark.parametrize("option, said", [("", True), ('|subset="fid" > 0', True), ("|layername=points", False),
                                          ("|layerid=0", False)])
def test_a_file_of_several_layers_naming_none_is_said_to_be_read_as_its_first(bad, tmp_path, option, said):
    """The review of 2026-12-06's mend: a subset alone names no layer, and the first is read."""
    from mrs.mrs_qgis_plugin.raster.vector_labels import unnamed_layer_clause

    points = write_two_layers(str(bad.scene.train_points), str(tmp_path / "layers.gpkg"))
    assert unnamed_layer_clause(points + option) == ("holds 2 layers and names none, so its first, 'other', is read "
                                                     "(the others: 'points')" if said else None)
    assert unnamed_layer_clause(str(tmp_path)) is None  # a folder


@pytest.mark.parametrize("field, changes, said", [
    ("class_id", {}, "CLASS_FIELD: 'class_id' is not a field of '{points}', which holds 2 layers and names none, so "
                     "its first, 'other', is read (the others: 'points'); its fields: 'fid', 'kind'. Choose one of "
                     "them; to read another layer, add it to the project and choose it, or give it as "
                     "FILE|layername=NAME."),
    # a desktop helper of 2026-12-06: the dialog's field box offers the first layer's fields alone
    (None, {}, "CLASS_FIELD is empty: choose the field of SAMPLES that holds the class of each feature (a label "
               "raster goes in LABELS instead). SAMPLES ('{points}') holds 2 layers and names none, so its first, "
               "'other', is read (the others: 'points'), whose fields the field box offers; to read another layer, "
               "add it to the project and choose it, or give it as FILE|layername=NAME."),
    (None, {"LABELS": "train"}, "Give either SAMPLES (with CLASS_FIELD) or LABELS, not both; "),  # no layers said
])
def test_a_class_field_of_a_file_of_several_layers_is_said_with_the_layer_read(bad, tmp_path, field, changes, said):
    """A review of 2026-12-06: a GeoPackage of several layers, named without one, is read as its first;
    a field of its other layer was said to be no field of the file, its first layer left unnamed."""
    points = write_two_layers(str(bad.scene.train_points), str(tmp_path / "layers.gpkg"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", points_finetune(bad, out, points, CLASS_FIELD=field,
                                            **{name: str(bad.scene.train) for name in changes}))
    message = str(refused.value).splitlines()[-1]
    assert message == said.format(points=points) if said.endswith(".") else (
        message.startswith(said) and "layers" not in message)
    assert list(out.iterdir()) == []
