import csv
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal, ogr

from mrs.mrs_qgis_plugin import synthetic_scene as ss

WIDTH, HEIGHT = 64, 48  # not square, so that swapped rows and columns show
TRAIN_PER_CLASS = 8


def read(path) -> np.ndarray:
    ds = gdal.Open(str(path))
    return ds.ReadAsArray()


def band_metadata(path, item: str) -> list[str]:
    ds = gdal.Open(str(path))
    return [ds.GetRasterBand(i + 1).GetMetadataItem(item) for i in range(ds.RasterCount)]


def point_features(path) -> list[tuple[int, str, float, float]]:
    ds = ogr.Open(str(path))
    layer = ds.GetLayerByName("train_points")
    return [(f.GetField("class_id"), f.GetField("class_name"), f.GetGeometryRef().GetX(),
             f.GetGeometryRef().GetY()) for f in layer]


def class_means(cube: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.stack([cube[:, labels == k.value].mean(axis=1) for k in ss.CLASSES])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return ss.write_scene(tmp_path_factory.mktemp("small"), width=WIDTH, height=HEIGHT, n_bands=100,
                          seed=3, sar=True, train_per_class=TRAIN_PER_CLASS)


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """Large enough for class statistics: several buildings, parcels and a long river."""
    return ss.write_scene(tmp_path_factory.mktemp("medium"), width=128, height=128, n_bands=16,
                          seed=0, sar=True, train_per_class=10)


def test_every_raster_is_on_the_same_north_up_utm_grid(small):
    expected = {small.hsi: (100, gdal.GDT_Int16), small.lidar: (2, gdal.GDT_Float32),
                small.sar: (4, gdal.GDT_Float32), small.train: (1, gdal.GDT_Byte),
                small.test: (1, gdal.GDT_Byte)}
    for path, (bands, data_type) in expected.items():
        ds = gdal.Open(str(path))
        assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (WIDTH, HEIGHT, bands), path.name
        assert ds.GetRasterBand(1).DataType == data_type, path.name
        assert ds.GetGeoTransform() == (661000.0, 1.0, 0.0, 5101000.0, 0.0, -1.0), path.name
        srs = ds.GetSpatialRef()
        assert (srs.GetAuthorityName(None), srs.GetAuthorityCode(None)) == ("EPSG", "32632"), path.name
        assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE", path.name
        assert ds.GetRasterBand(1).GetBlockSize() == [128, 128], path.name


def test_hsi_carries_evenly_spaced_wavelengths_in_band_and_envi_metadata(small):
    ds = gdal.Open(str(small.hsi))
    per_band = np.array([float(w) for w in band_metadata(small.hsi, "wavelength")])
    assert per_band[0] == pytest.approx(403.0) and per_band[-1] == pytest.approx(997.0)
    assert np.allclose(np.diff(per_band), 6.0)
    envi = ds.GetMetadataItem("wavelength")
    assert envi.startswith("{") and envi.endswith("}")
    assert np.allclose([float(w) for w in envi[1:-1].split(",")], per_band)
    assert ds.GetMetadataItem("wavelength_units") == "Nanometers"
    band = ds.GetRasterBand(1)
    assert band.GetDescription() == "b001 403.0 nm"
    assert ds.GetRasterBand(100).GetDescription() == "b100 997.0 nm"
    assert band.GetScale() == pytest.approx(1e-4) and band.GetOffset() == 0.0
    assert band.GetNoDataValue() == ss.HSI_NODATA
    assert ss.band_centres(100)[0] == pytest.approx(per_band)


def test_hsi_spectra_have_the_shapes_of_their_materials(small):
    refl = read(small.hsi).astype(np.float64) * 1e-4
    labels = read(small.test)
    assert np.percentile(refl, 1) > -0.01 and np.percentile(refl, 99) < 0.7
    wl = ss.band_centres(100)[0]
    red, nir, blue = (int(np.argmin(np.abs(wl - w))) for w in (670, 850, 480))
    means = class_means(refl, labels)
    for value in (ss.CROP, ss.GRASSLAND, ss.TREES):  # red edge: NIR plateau far above the red
        assert means[value - 1, nir] > 3.0 * means[value - 1, red]
    water = means[ss.WATER - 1]
    assert water[nir] < 0.03 and water[nir] < water[blue]
    soil = means[ss.BARE_SOIL - 1]
    assert soil[blue] < soil[red] < soil[nir]


def test_adjacent_bands_are_strongly_correlated(small):
    pixels = read(small.hsi).reshape(100, -1).astype(np.float64)
    r = [np.corrcoef(pixels[i], pixels[i + 1])[0, 1] for i in range(99)]
    assert min(r) > 0.95


def test_training_points_raster_and_counts_agree(small):
    train = read(small.train)
    test = read(small.test)
    for scene_class in ss.CLASSES:
        assert (train == scene_class.value).sum() == TRAIN_PER_CLASS, scene_class.name
        assert (test == scene_class.value).sum() > 0, scene_class.name
    assert not np.any((train > 0) & (test > 0))
    assert set(np.unique(train)) == set(np.unique(test)) == {0} | {k.value for k in ss.CLASSES}

    names = {k.value: k.name for k in ss.CLASSES}
    features = point_features(small.train_points)
    assert len(features) == len(ss.CLASSES) * TRAIN_PER_CLASS
    for class_id, class_name, x, y in features:
        col, row = x - 661000.0 - 0.5, 5101000.0 - y - 0.5
        assert col == int(col) and row == int(row)  # pixel centres
        assert train[int(row), int(col)] == class_id
        assert class_name == names[class_id]


def test_boundary_pixels_are_left_unlabelled(small):
    labels = read(small.train) + read(small.test)
    padded = np.pad(labels, 1)
    for dr, dc in itertools.product((0, 1, 2), repeat=2):
        neighbour = padded[dr:dr + HEIGHT, dc:dc + WIDTH]
        clash = (labels > 0) & (neighbour > 0) & (neighbour != labels)
        assert not clash.any(), "two differently labelled pixels touch: a boundary pixel is labelled"


def test_class_table_in_csv_and_label_rasters(small):
    with small.classes_csv.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["value"]), r["name"], r["color"]) for r in rows] == [
        (k.value, k.name, k.color) for k in small.classes]
    assert 6 <= len(rows) <= 8
    for path in (small.train, small.test):
        ds = gdal.Open(str(path))
        band = ds.GetRasterBand(1)
        assert band.GetNoDataValue() == 0
        assert band.GetCategoryNames()[1:] == [k.name for k in ss.CLASSES]
        table = band.GetColorTable()
        for k in ss.CLASSES:
            assert "#%02x%02x%02x" % table.GetColorEntry(k.value)[:3] == k.color


def test_nominated_pairs_are_alike_in_the_hsi_but_not_in_height(medium):
    labels = read(medium.test)
    means = class_means(read(medium.hsi).astype(np.float64), labels)
    distance = np.linalg.norm(means[:, None] - means[None], axis=2)
    median = np.median(distance[np.triu_indices(len(ss.CLASSES), 1)])
    np.fill_diagonal(distance, np.inf)
    height = read(medium.lidar)[0]
    for a, b in ((ss.TREES, ss.GRASSLAND), (ss.BUILDINGS, ss.ROADS)):
        assert distance[a - 1, b - 1] < 0.5 * median, (a, b)
        assert np.argmin(distance[a - 1]) == b - 1 and np.argmin(distance[b - 1]) == a - 1, (a, b)
        assert height[labels == a].mean() - height[labels == b].mean() > 4.0, (a, b)


def test_lidar_heights_per_class(medium):
    labels = read(medium.test)
    ndsm = read(medium.lidar)[0]
    buildings, trees = ndsm[labels == ss.BUILDINGS], ndsm[labels == ss.TREES]
    assert 4.0 <= np.percentile(buildings, 1) and np.percentile(buildings, 99) <= 20.5
    assert 5.0 <= np.percentile(trees, 5) and np.percentile(trees, 99) <= 27.0
    for value in (ss.GRASSLAND, ss.BARE_SOIL, ss.ROADS, ss.WATER):
        assert abs(np.median(ndsm[labels == value])) < 0.2
    assert 0.2 < np.median(ndsm[labels == ss.CROP]) < 1.3
    ds = gdal.Open(str(medium.lidar))
    assert ds.GetRasterBand(1).GetNoDataValue() == ss.LIDAR_NODATA


def test_sar_backscatter_follows_the_scattering_mechanisms(medium):
    sar = read(medium.sar).astype(np.float64)
    labels = read(medium.test)
    assert np.allclose(sar[2], 10 * np.log10(sar[0]), atol=1e-4)
    assert np.allclose(sar[3], 10 * np.log10(sar[1] / sar[0]), atol=1e-4)
    vv = {k.value: 10 * np.log10(sar[0][labels == k.value].mean()) for k in ss.CLASSES}
    vh = {k.value: 10 * np.log10(sar[1][labels == k.value].mean()) for k in ss.CLASSES}
    assert min(vv, key=vv.get) == ss.WATER
    assert vv[ss.BUILDINGS] > vv[ss.ROADS] + 3.0
    assert vh[ss.TREES] > vh[ss.GRASSLAND] + 4.0  # volume scattering


@pytest.mark.parametrize("looks", [4.0, 9.0])
def test_sar_speckle_on_calm_water_has_the_spread_of_its_looks(tmp_path, looks):
    paths = ss.write_scene(tmp_path, width=96, height=128, n_bands=4, seed=1, sar=True,
                           train_per_class=5, sar_looks=looks)
    water = read(paths.test) == ss.WATER
    for band in read(paths.sar)[:2]:
        values = band[water].astype(np.float64)
        assert values.std() / values.mean() == pytest.approx(1.0 / np.sqrt(looks), rel=0.15)


def test_same_seed_gives_identical_files_and_another_seed_another_scene(tmp_path):
    options = dict(width=48, height=48, n_bands=16, sar=True, train_per_class=5)
    first = ss.write_scene(tmp_path / "a", seed=7, **options)
    again = ss.write_scene(tmp_path / "b", seed=7, **options)
    other = ss.write_scene(tmp_path / "c", seed=8, **options)
    for name in ("hsi.tif", "lidar.tif", "sar.tif", "train.tif", "test.tif", "classes.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert point_features(first.train_points) == point_features(again.train_points)
    for name in ("hsi", "lidar", "sar", "test"):
        assert not np.array_equal(read(getattr(first, name)), read(getattr(other, name))), name


def test_band_count_and_sar_option_leave_layout_and_labels_unchanged(tmp_path):
    a = ss.write_scene(tmp_path / "a", width=48, height=48, n_bands=8, seed=2, train_per_class=5)
    b = ss.write_scene(tmp_path / "b", width=48, height=48, n_bands=24, seed=2, sar=True, train_per_class=5)
    for name in ("lidar", "train", "test"):
        assert np.array_equal(read(getattr(a, name)), read(getattr(b, name))), name
    assert a.sar is None and not (tmp_path / "a" / "sar.tif").exists()


def test_nodata_corner_blanks_the_upper_right_of_the_hsi_only(tmp_path):
    paths = ss.write_scene(tmp_path, width=64, height=64, n_bands=8, seed=0, train_per_class=5,
                           nodata_corner=True)
    cube = read(paths.hsi)
    blank = cube == ss.HSI_NODATA
    assert np.array_equal(blank.all(axis=0), blank.any(axis=0))  # all bands or none
    blank = blank[0]
    assert blank[0, -1] and not blank[-1, 0] and not blank[0, 0] and not blank[-1, -1]
    assert 0.02 < blank.mean() < 0.1
    assert not ((read(paths.train) > 0) | (read(paths.test) > 0))[blank].any()
    assert not np.any(read(paths.lidar) == ss.LIDAR_NODATA)


def test_default_hsi_has_no_nodata_pixels(small):
    assert not np.any(read(small.hsi) == ss.HSI_NODATA)


@pytest.mark.parametrize("options, words", [
    (dict(width=40, height=64), "at least 48"),
    (dict(n_bands=1), "n_bands=1"),
    (dict(train_per_class=2000), "train_per_class=2000"),
    (dict(sar_looks=0.5), "sar_looks"),
])
def test_unusable_options_are_refused_with_a_message(tmp_path, options, words):
    options = dict(dict(width=48, height=48, n_bands=4), **options)
    with pytest.raises(ValueError, match=words):
        ss.write_scene(tmp_path, **options)


def test_command_line_runs_as_a_standalone_script(tmp_path):
    script = os.path.dirname(ss.__file__)  # the package's folder, run by its __main__.py
    done = subprocess.run([sys.executable, script, str(tmp_path / "scene"), "--size", "48", "--bands", "6",
                           "--train-per-class", "4", "--no-intensity", "--seed", "5"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "scene" / "hsi.tif").as_posix() in done.stdout
    ds = gdal.Open(str(tmp_path / "scene" / "hsi.tif"))
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (48, 48, 6)
    assert gdal.Open(str(tmp_path / "scene" / "lidar.tif")).RasterCount == 1
    assert (read(tmp_path / "scene" / "train.tif") > 0).sum() == 4 * len(ss.CLASSES)

    refused = subprocess.run([sys.executable, script, str(tmp_path / "tiny"), "--size", "20"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "at least 48" in refused.stderr
