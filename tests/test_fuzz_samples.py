"""Fuzzing the sample readers: whatever a sample layer holds, labelled pixels or a clear InputError, quickly.

The scene is tiny (8 x 8 pixels, 3 HSI bands with one nodata pixel, 1 auxiliary band
with another). Each example writes a sample layer (or damages one) and reads it; the
reader must give labelled pixels that keep the contract (sorted, unique, valid
pixels, classes from 1, at least two) or raise `InputError` naming the layer. Any
other exception, or an example slower than the profile's deadline, fails the test.
The readers must behave the same whether GDAL raises Python exceptions or not (a
QGIS plugin cannot know what other plugins chose), so the tests that damage files run
in both modes.
"""

import contextlib
import functools
import json
import math
import os
import re
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from osgeo import gdal, ogr
from rasters import GEOTRANSFORM, ORIGIN_X, ORIGIN_Y, UTM32, box_wkt, pixel_centre, point_wkt, write_raster, write_vector

from fuzzing import FUZZ, result_or_refusal
from mrs.model_core import MAX_CLASS_VALUE
from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector

pytestmark = pytest.mark.timeout(120)

SIZE = 8
HSI_NODATA, AUX_NODATA = (6, 1), (2, 5)
"""(row, col) of the pixel that is nodata in the HSI raster, and in the auxiliary one."""
LAYER = "fuzzed samples"
GDAL_MODES = pytest.mark.parametrize("exceptions", [False, True], ids=["gdal-quiet", "gdal-exceptions"])


@functools.lru_cache(maxsize=None)
def folder() -> str:
    return tempfile.mkdtemp(prefix="mrs-fuzz-samples-")


@pytest.fixture(scope="module", autouse=True)
def _remove_the_work_folder():
    yield
    shutil.rmtree(folder(), ignore_errors=True)
    for cached in (folder, scene_files, valid_files):
        cached.cache_clear()


def fresh(name: str) -> str:
    """A path in the work folder where no file is (a previous example's is removed)."""
    path = os.path.join(folder(), name)
    if os.path.exists(path):
        os.remove(path)
    return path


@functools.lru_cache(maxsize=None)
def scene_files() -> tuple:
    """The HSI and auxiliary rasters of the scene."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    hsi = np.stack([rows, cols, rows * cols])
    hsi[:, HSI_NODATA[0], HSI_NODATA[1]] = -9999
    aux = rows + 100
    aux[AUX_NODATA] = -1
    hsi_path = write_raster(os.path.join(folder(), "hsi.tif"), hsi, nodata=-9999)
    return hsi_path, write_raster(os.path.join(folder(), "aux.tif"), aux, nodata=-1)


@pytest.fixture(scope="module")
def scene():
    hsi, aux = scene_files()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux")]) as opened:
        yield opened


@contextlib.contextmanager
def gdal_exceptions(enabled: bool):
    """GDAL's and OGR's Python exception modes set for a block, and put back afterwards (GDAL
    3.6 keeps them apart; GDAL 3.12's gdal.UseExceptions also makes OGR raise)."""
    previous = [(module, module.GetUseExceptions()) for module in (gdal, ogr)]
    for module, _previous in previous:
        (module.UseExceptions if enabled else module.DontUseExceptions)()
    try:
        yield
    finally:
        for module, was in reversed(previous):  # GDAL 3.6 keeps a stack of handlers: last set, first put back
            (module.UseExceptions if was else module.DontUseExceptions)()


@contextlib.contextmanager
def writing():
    """For the tests' own writing: GDAL's messages about odd data kept quiet, and SQLite
    (GeoPackages) not waiting for the disk."""
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    synchronous = gdal.GetConfigOption("OGR_SQLITE_SYNCHRONOUS")
    gdal.SetConfigOption("OGR_SQLITE_SYNCHRONOUS", "OFF")
    try:
        yield
    finally:
        gdal.SetConfigOption("OGR_SQLITE_SYNCHRONOUS", synchronous)
        gdal.PopErrorHandler()


def check_labels(labels: LabelledPixels) -> None:
    keys = labels.rows * SIZE + labels.cols
    assert labels.rows.dtype == labels.cols.dtype == labels.values.dtype == np.int64
    assert len(keys) == len(labels.values) > 0 and np.all(np.diff(keys) > 0)
    assert labels.rows.min() >= 0 and labels.cols.min() >= 0 and labels.rows.max() < SIZE and labels.cols.max() < SIZE
    assert HSI_NODATA[0] * SIZE + HSI_NODATA[1] not in keys and AUX_NODATA[0] * SIZE + AUX_NODATA[1] not in keys
    values = [info.value for info in labels.classes]
    assert len(values) >= 1 and values == sorted(set(values)) == sorted(set(labels.values.tolist()))
    assert 1 <= values[0] and values[-1] <= MAX_CLASS_VALUE
    assert all(isinstance(info.name, str) and info.name for info in labels.classes)
    assert all(len(info.color) == 7 and int(info.color[1:], 16) >= 0 for info in labels.classes)


def read_vector(scene, path, class_field="class", name_field=None, layer=None):
    labels = result_or_refusal(
        lambda: labels_from_vector(scene, path, layer, class_field, name_field, LAYER), InputError, LAYER)
    if labels is not None:
        check_labels(labels)
    return labels


def read_label_raster(scene, path):
    labels = result_or_refusal(lambda: labels_from_raster(scene, path, LAYER), InputError, LAYER)
    if labels is not None:
        check_labels(labels)
    return labels


def write_bytes(name: str, data: bytes) -> str:
    path = fresh(name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


# Random bytes, whole or behind the signature of a format GDAL reads.

SIGNATURES = [b"", b"II*\x00", b"MM\x00*", b"II+\x00\x08\x00\x00\x00", b"SQLite format 3\x00", b'{"type":"Feature',
              b"class,WKT\n", b"\x00\x00'\n"]


@GDAL_MODES
@settings(FUZZ, max_examples=60)
@given(prefix=st.sampled_from(SIGNATURES), body=st.binary(max_size=600),
       suffix=st.sampled_from([".gpkg", ".tif", ".geojson", ".csv", ".shp", ""]))
def test_random_bytes_are_refused_as_samples(scene, exceptions, prefix, body, suffix):
    path = write_bytes("random" + suffix, prefix + body)
    with gdal_exceptions(exceptions):
        assert read_vector(scene, path) is None
        assert read_label_raster(scene, path) is None


# Damaged copies of a valid GeoPackage and a valid label GeoTIFF.

@functools.lru_cache(maxsize=None)
def valid_files() -> dict:
    """The bytes of a sample GeoPackage (points and polygons) and a label GeoTIFF, both readable."""
    features = [(point_wkt(*pixel_centre(row, col)), {"class": 1 + (row + col) % 3, "name": f"c{row}"})
                for row, col in [(0, 0), (1, 3), (4, 4), (7, 7), (3, 6)]]
    features.append((box_wkt(ORIGIN_X + 1, ORIGIN_Y - 4, ORIGIN_X + 3, ORIGIN_Y - 2), {"class": 2}))
    with writing():
        vector = write_vector(fresh("valid.gpkg"), features, {"class": ogr.OFTInteger, "name": ogr.OFTString})
    labels = np.arange(SIZE * SIZE, dtype=np.uint16).reshape(SIZE, SIZE) % 4
    raster = write_raster(fresh("valid.tif"), labels, nodata=3, category_names=["", "one", "two"],
                          color_table={1: (255, 0, 0), 2: (0, 255, 0)})
    made = {}
    for suffix, path in ((".gpkg", vector), (".tif", raster)):
        with open(path, "rb") as handle:
            made[suffix] = handle.read()
    return made


def test_the_valid_files_give_labels(scene):
    data = valid_files()
    assert read_vector(scene, write_bytes("copy.gpkg", data[".gpkg"])) is not None
    assert read_label_raster(scene, write_bytes("copy.tif", data[".tif"])) is not None


def _read_damaged(scene, suffix: str, data: bytes, exceptions: bool) -> None:
    path = write_bytes("damaged" + suffix, data)
    with gdal_exceptions(exceptions):
        if suffix == ".gpkg":
            read_vector(scene, path, name_field="name")
        else:
            read_label_raster(scene, path)


def test_a_damaged_geopackage_read_with_ogr_exceptions_is_one_sentence_without_sqlites_query(scene):
    """Red team of 2026-12-04: GDAL 3.12 raised a raw RuntimeError here, and SQLite's messages
    quote the whole query before the cause."""
    data = bytearray(valid_files()[".gpkg"])
    start = int(0.75 * (len(data) - 4))
    data[start:start + 4] = bytes(4)
    path = write_bytes("zeroed.gpkg", bytes(data))
    with gdal_exceptions(True), pytest.raises(InputError) as refused:
        labels_from_vector(scene, path, None, "class", "name", LAYER)
    assert str(refused.value) == (f"Reading the sample layer '{LAYER}' failed (database disk image is malformed). "
                                  "Check that the file is complete and readable.")


def test_reading_features_puts_back_exceptions_turned_on_ogr_first(scene):
    """GDAL 3.6 refuses to turn off the exceptions turned on first while the others are on."""
    path = fresh("points-ogr-first.gpkg")
    with writing():
        write_vector(path, [(point_wkt(*pixel_centre(1, 1)), {"class": 1})], {"class": ogr.OFTInteger})
    ogr.UseExceptions()
    gdal.UseExceptions()
    try:
        labels = labels_from_vector(scene, path, None, "class", None, LAYER)
        assert (gdal.GetUseExceptions(), ogr.GetUseExceptions()) == (1, 1)
    finally:
        gdal.DontUseExceptions()
        ogr.DontUseExceptions()
    assert labels.values.tolist() == [1]


@GDAL_MODES
def test_a_feature_whose_geometry_alone_cannot_be_read_is_left_out_and_the_others_kept(scene, exceptions):
    """Red team of 2026-12-04: refusing a layer on any failure while reading refused a CSV or GeoJSON
    with one unreadable geometry, whose other features GDAL reads."""
    points = [{"type": "Feature", "properties": {"class": value},
               "geometry": {"type": "Point", "coordinates": list(pixel_centre(row, 1))}} for row, value in ((1, 1), (2, 2))]
    broken = {"type": "Feature", "properties": {"class": 3}, "geometry": {"type": "Point"}}
    path = fresh("one-broken.geojson")
    with open(path, "w") as handle:
        json.dump({"type": "FeatureCollection", "features": [points[0], broken, points[1]],
                   "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32632"}}}, handle)
    with gdal_exceptions(exceptions):
        labels = labels_from_vector(scene, path, None, "class", None, LAYER)
        assert (gdal.GetUseExceptions(), ogr.GetUseExceptions()) == (exceptions, exceptions)
    assert sorted(zip(labels.rows.tolist(), labels.values.tolist())) == [(1, 1), (2, 2)]


@GDAL_MODES
def test_a_geopackage_with_an_unreadable_page_of_features_is_refused_not_read_in_part(scene, exceptions):
    """Red team of 2026-12-04: with OGR's exceptions off, a page of features that SQLite cannot read
    was an ERROR line, the features behind it skipped, and a model trained on the rest."""
    features = [(point_wkt(*pixel_centre(index % SIZE, index // SIZE % SIZE)), {"class": 1 + index % 3})
                for index in range(3000)]
    with writing():
        path = write_vector(fresh("pages.gpkg"), features, {"class": ogr.OFTInteger})
    data = bytearray(open(path, "rb").read())
    blobs = [found.start() for found in re.finditer(b"GP\x00", bytes(data))]  # GeoPackage geometries
    page = blobs[len(blobs) * 3 // 5] // 4096 * 4096  # one of the feature table's pages, whatever the layout
    data[page:page + 4096] = b"\xff" * 4096
    damaged = write_bytes("pages-damaged.gpkg", bytes(data))
    with gdal_exceptions(exceptions), pytest.raises(InputError, match=rf"^Reading the sample layer '{LAYER}' failed "
                                                                        r"\(.*malformed.*\)\. Check that the file"):
        labels_from_vector(scene, damaged, None, "class", None, LAYER)


@GDAL_MODES
@settings(FUZZ, max_examples=60)
@given(suffix=st.sampled_from([".gpkg", ".tif"]), fraction=st.floats(0.0, 1.0))
def test_truncated_sample_files_give_labels_or_a_clear_error(scene, exceptions, suffix, fraction):
    data = valid_files()[suffix]
    _read_damaged(scene, suffix, data[:int(fraction * (len(data) - 1))], exceptions)


@GDAL_MODES
@settings(FUZZ, max_examples=40)
@given(suffix=st.sampled_from([".gpkg", ".tif"]),
       edits=st.lists(st.tuples(st.floats(0.0, 1.0), st.binary(min_size=1, max_size=16)), min_size=1, max_size=4))
def test_overwritten_sample_files_give_labels_or_a_clear_error(scene, exceptions, suffix, edits):
    data = bytearray(valid_files()[suffix])
    for fraction, replacement in edits:
        start = int(fraction * (len(data) - len(replacement)))
        data[start:start + len(replacement)] = replacement
    _read_damaged(scene, suffix, bytes(data), exceptions)


# Vector layers with random attributes and geometries.

NAN, INF = float("nan"), float("inf")
X = st.one_of(st.floats(ORIGIN_X - 3, ORIGIN_X + SIZE + 3), st.floats(), st.sampled_from([NAN, INF, -INF, 1e308, 0.0]))
Y = st.one_of(st.floats(ORIGIN_Y - SIZE - 3, ORIGIN_Y + 3), st.floats(), st.sampled_from([NAN, INF, -INF, -1e308, 0.0]))
INSIDE = st.tuples(st.integers(0, SIZE - 1), st.integers(0, SIZE - 1)).map(lambda cell: pixel_centre(*cell))
POINTS = st.one_of(INSIDE, INSIDE, st.tuples(X, Y))
GEOMETRIES = st.one_of(
    st.none(),
    st.tuples(st.just("point"), POINTS),
    st.tuples(st.just("empty"), st.sampled_from(["POINT EMPTY", "POLYGON EMPTY", "MULTIPOINT EMPTY",
                                                  "GEOMETRYCOLLECTION EMPTY", "LINESTRING EMPTY"])),
    st.tuples(st.just("polygon"), st.lists(POINTS, max_size=6)),
    st.tuples(st.just("line"), st.lists(POINTS, max_size=4)),
    st.tuples(st.just("multipoint"), st.lists(POINTS, max_size=4)),
    st.tuples(st.just("collection"), st.lists(st.tuples(st.sampled_from(["point", "polygon"]),
                                                        st.lists(POINTS, min_size=1, max_size=4)), max_size=3)),
)


def _geometry(spec):
    """An OGR geometry from its description (descriptions print well in failing examples)."""
    kind, value = spec
    if kind == "empty":
        return ogr.CreateGeometryFromWkt(value)
    if kind == "point":
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(*value)
        return point
    if kind == "collection":
        collection = ogr.Geometry(ogr.wkbGeometryCollection)
        for part_kind, points in value:
            collection.AddGeometry(_geometry((part_kind, points[0] if part_kind == "point" else points)))
        return collection
    if kind == "multipoint":
        multi = ogr.Geometry(ogr.wkbMultiPoint)
        for point in value:
            multi.AddGeometry(_geometry(("point", point)))
        return multi
    line = ogr.Geometry(ogr.wkbLinearRing if kind == "polygon" else ogr.wkbLineString)
    for x, y in value:
        line.AddPoint_2D(x, y)
    if kind == "line":
        return line
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(line)
    return polygon


def write_layer(name: str, field_type: int, rows: list, crs: str | None) -> str:
    """A GeoPackage of (geometry description, class value, name) features, class field of the given type."""
    with writing():
        path = write_vector(fresh(name), [(None, {}) for _ in rows], {"class": field_type, "name": ogr.OFTString}, crs)
        dataset = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_UPDATE)
        layer = dataset.GetLayer(0)
        layer.StartTransaction()
        for fid, (geometry, value, label) in zip([feature.GetFID() for feature in layer], rows):
            feature = layer.GetFeature(fid)
            if geometry is not None:
                feature.SetGeometry(_geometry(geometry))
            if value is not None:
                feature.SetField("class", value)
            if label is not None:
                feature.SetField("name", label)
            layer.SetFeature(feature)
        layer.CommitTransaction()
        dataset = None
    return path


SMALL_CLASSES = st.integers(0, 4)
VALUES = {
    ogr.OFTInteger: st.one_of(SMALL_CLASSES, SMALL_CLASSES, st.integers(-2 ** 31, 2 ** 31 - 1)),
    ogr.OFTInteger64: st.one_of(SMALL_CLASSES, st.integers(-2 ** 63, 2 ** 63 - 1),
                                st.sampled_from([2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1])),
    ogr.OFTReal: st.one_of(SMALL_CLASSES.map(float), st.floats(), st.sampled_from([1.5, 1e300, 2.0 ** 64, NAN, INF])),
    ogr.OFTString: st.one_of(st.sampled_from(["water", "trees", "roads", "", "  ", "3", " 2", "0", "-1", "1.5", "1e3",
                                              "٣", "NaN", "99999999999999999999999", "4294967296"]),
                             st.text(max_size=12), st.integers(-10 ** 25, 10 ** 25).map(str)),
}


@st.composite
def vector_layers(draw):
    field_type = draw(st.sampled_from(sorted(VALUES)))
    rows = draw(st.lists(st.tuples(GEOMETRIES, st.none() | VALUES[field_type], st.none() | st.text(max_size=8)),
                         max_size=8))
    return field_type, rows, draw(st.sampled_from([UTM32, UTM32, "EPSG:4326", None]))


def _two_classes_and(geometry, value=1, field_type=ogr.OFTInteger, crs=UTM32):
    """A layer of one feature of the given geometry and class value, and two valid points of classes 1 and 2."""
    one, two = ("1", "2") if field_type == ogr.OFTString else (1, 2)
    return field_type, [(geometry, value, None), (("point", pixel_centre(1, 1)), one, None),
                        (("point", pixel_centre(2, 2)), two, None)], crs


@GDAL_MODES
@settings(FUZZ, max_examples=80)
@given(layer=vector_layers())
@example(layer=_two_classes_and(("point", pixel_centre(3, 3)), INF, ogr.OFTReal))
@example(layer=_two_classes_and(("point", pixel_centre(3, 3)), NAN, ogr.OFTReal))
@example(layer=_two_classes_and(("point", pixel_centre(3, 3)), 2 ** 40, ogr.OFTInteger64))
@example(layer=_two_classes_and(("point", pixel_centre(3, 3)), "99999999999999999999999", ogr.OFTString))
@example(layer=_two_classes_and(("polygon", [(NAN, NAN), (NAN, 1.0), (2.0, NAN)])))
@example(layer=_two_classes_and(("polygon", [(INF, ORIGIN_Y), (ORIGIN_X, -INF), (ORIGIN_X + 2, ORIGIN_Y)])))
@example(layer=_two_classes_and(("line", [pixel_centre(1, 1), (NAN, ORIGIN_Y - 3), pixel_centre(5, 5)])))
@example(layer=_two_classes_and(("line", [pixel_centre(1, 1), (ORIGIN_X + 1e10, ORIGIN_Y - 3)])))
@example(layer=_two_classes_and(("point", pixel_centre(3, 3)), crs="EPSG:4326"))
@example(layer=_two_classes_and(("collection", [("point", [pixel_centre(0, 0)]),
                                                ("polygon", [(663997.0, -2215097057.0)])])))  # GDAL 3.12: 5 s
def test_vector_samples_with_random_attributes_and_geometries_give_labels_or_a_clear_error(scene, exceptions, layer):
    path = write_layer("samples.gpkg", *layer)
    with gdal_exceptions(exceptions):
        read_vector(scene, path, name_field="name")


@settings(FUZZ, max_examples=60)
@given(class_field=st.text(max_size=10) | st.just("class"), name_field=st.none() | st.text(max_size=10),
       layer=st.none() | st.text(max_size=10), source_options=st.text(max_size=20))
def test_random_field_and_layer_names_give_labels_or_a_clear_error(scene, class_field, name_field, layer,
                                                                   source_options):
    path = write_bytes("named.gpkg", valid_files()[".gpkg"])
    read_vector(scene, f"{path}|{source_options}" if source_options else path, class_field, name_field, layer)


# Label rasters with random values, data types, nodata values, grids and class tables.

DTYPES = ["uint8", "uint16", "int16", "int32", "float32", "float64"]
OTHER_TYPES = [gdal.GDT_UInt32, gdal.GDT_Int64, gdal.GDT_UInt64, gdal.GDT_CInt16, gdal.GDT_CFloat32]
GEOTRANSFORMS = st.one_of(
    st.just(GEOTRANSFORM),
    st.tuples(st.floats(-2.5, 2.5), st.floats(-2.5, 2.5), st.sampled_from([0.5, 1.0, 2.0, 3.0])).map(
        lambda t: (ORIGIN_X + t[0], t[2], 0.0, ORIGIN_Y + t[1], 0.0, -t[2])),
    st.tuples(st.floats(allow_nan=False) | st.just(NAN), st.floats(-10, 10), st.floats(-1, 1), st.floats(),
              st.floats(-1, 1), st.floats(-10, 10)),
    st.sampled_from([(ORIGIN_X, 1.0, 0.3, ORIGIN_Y, 0.2, -1.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
                     (ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, 1.0), (ORIGIN_X, -1.0, 0.0, ORIGIN_Y, 0.0, -1.0)]),
)


@st.composite
def label_rasters(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    small = st.integers(0, 4).map(dtype.type)
    large = st.sampled_from([2 ** 16 - 1, 2 ** 31 - 1, 2 ** 32, 2 ** 40, 2 ** 63, 2 ** 64 - 1, 1e300]).filter(
        lambda value: np.can_cast(np.min_scalar_type(value), dtype)).map(dtype.type)
    classes = st.one_of(small, small, small, large)
    elements = draw(st.sampled_from([classes, classes, hnp.from_dtype(dtype)]))
    values = draw(hnp.arrays(dtype, draw(st.sampled_from([(SIZE, SIZE), (3, 5), (SIZE, SIZE)])), elements=elements))
    nodata = draw(st.none() | st.sampled_from([0.0, 1.0, 255.0, -9999.0, NAN, 1e300]) | st.floats())
    other_type = draw(st.none() | st.none() | st.sampled_from(OTHER_TYPES))
    return dict(values=values, nodata=nodata, other_type=other_type, geotransform=draw(GEOTRANSFORMS),
                crs=draw(st.sampled_from([UTM32, UTM32, "EPSG:4326", "EPSG:3857", None])),
                category_names=draw(st.none() | st.lists(st.text(max_size=6), max_size=6)),
                color_table=draw(st.none() | st.dictionaries(st.integers(0, 255), st.tuples(
                    *[st.integers(0, 255)] * 3), max_size=4)))


def write_label_raster(values, nodata, other_type, geotransform, crs, category_names, color_table) -> str:
    path = fresh("labels.tif")
    with writing():
        write_raster(path, values, geotransform=geotransform, crs=crs, nodata=nodata, category_names=category_names,
                     color_table=color_table)
        if other_type is not None:
            converted = fresh("labels-other.vrt")
            gdal.Translate(converted, path, format="VRT", outputType=other_type)
            path = converted
    return path


def _classes_1_2_and(value) -> dict:
    """A float64 label raster of classes 1 and 2 and one pixel of the given value."""
    values = np.zeros((SIZE, SIZE))
    values[0, 0], values[1, 1], values[3, 3] = 1, 2, value
    return dict(values=values, nodata=None, other_type=None, geotransform=GEOTRANSFORM, crs=UTM32,
                category_names=None, color_table=None)


@GDAL_MODES
@settings(FUZZ, max_examples=80)
@given(raster=label_rasters())
@example(raster=_classes_1_2_and(2.0 ** 32))
@example(raster=_classes_1_2_and(1e300))
def test_label_rasters_with_random_values_types_nodata_and_grids_give_labels_or_a_clear_error(scene, exceptions,
                                                                                              raster):
    path = write_label_raster(**raster)
    with gdal_exceptions(exceptions):
        read_label_raster(scene, path)


# Hyperspectral and auxiliary rasters with random metadata.

@st.composite
def scene_metadata(draw):
    text = st.text(max_size=12)
    number = st.floats() | st.integers(-10 ** 6, 10 ** 6) | st.sampled_from([0.45, 2.5, 450, 2500.0])
    numbers = st.lists(number, min_size=3, max_size=3) | st.lists(number, max_size=4)
    wavelengths = st.one_of(numbers.map(lambda items: ", ".join(map(str, items))), text,
                            numbers.map(lambda items: "{" + " ".join(map(str, items)) + "}"))
    return dict(
        hsi_geotransform=draw(GEOTRANSFORMS), aux_geotransform=draw(GEOTRANSFORMS),
        hsi_crs=draw(st.sampled_from([UTM32, "EPSG:4326", None])),
        aux_crs=draw(st.sampled_from([UTM32, "EPSG:3857", None])),
        nodata=draw(st.none() | st.floats()), scale=draw(st.none() | st.floats()),
        metadata=draw(st.none() | st.fixed_dictionaries({"wavelength": wavelengths, "wavelength_units": text})),
        band_metadata=draw(st.none() | st.lists(st.fixed_dictionaries({"wavelength": text | number.map(str)}),
                                                min_size=3, max_size=3)),
        descriptions=draw(st.none() | st.lists(text, min_size=3, max_size=3)))


@settings(FUZZ, max_examples=100)
@given(spec=scene_metadata())
def test_scenes_with_random_metadata_open_and_read_or_give_a_clear_error(spec):
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    with writing():
        hsi = write_raster(fresh("meta-hsi.tif"), np.stack([rows, cols, rows + cols]), spec["hsi_geotransform"],
                           spec["hsi_crs"], spec["nodata"], spec["descriptions"], spec["band_metadata"],
                           spec["metadata"], spec["scale"])
        aux = write_raster(fresh("meta-aux.tif"), rows * 2, spec["aux_geotransform"], spec["aux_crs"])
    opened = result_or_refusal(lambda: Scene.open(RasterInput(hsi, "meta hsi"), [RasterInput(aux, "meta aux")]),
                               InputError, "meta ")
    if opened is None:
        return
    with opened:
        assert (opened.width, opened.height, opened.n_hsi, opened.n_aux) == (SIZE, SIZE, 3, 1)
        assert opened.wavelengths is None or (len(opened.wavelengths) == 3
                                              and all(math.isfinite(w) and w > 0 for w in opened.wavelengths))
        read = result_or_refusal(lambda: opened.read(0, 0, SIZE, SIZE, halo=2), InputError, "meta ")
    if read is not None:
        data, valid = read
        assert data.shape == (4, SIZE + 4, SIZE + 4) and valid.shape == (SIZE + 4, SIZE + 4)
        assert np.isfinite(data).all() and not data[:, ~valid].any()
