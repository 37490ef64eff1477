"""Second audit of the synthetic scene generator: behaviour of its split, files, signals and layout that the
first audit's tests (test_synthetic_scene.py, test_synthetic_scene_audit.py) left unpinned."""

import re

import numpy as np
import pytest
from osgeo import gdal, ogr

from mrs.mrs_qgis_plugin import synthetic_scene as ss
from mrs.mrs_qgis_plugin.synthetic_scene import fields, signals
from mrs.mrs_qgis_plugin.synthetic_scene.layout import _Layout, _layout
from test_synthetic_scene import read
from test_synthetic_scene_audit import block_layout, layout_of, pure_pixels


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A small scene without SAR."""
    return ss.write_scene(tmp_path_factory.mktemp("scene2"), width=48, height=48, n_bands=3, seed=2,
                          train_per_class=3)


def test_a_class_with_exactly_its_training_count_of_pure_pixels_is_refused_for_want_of_a_test_set(tmp_path):
    """train_per_class equal to a class's pure pixels would leave that class no test pixel: refused, named."""
    classes = layout_of(0, 48, 64).classes
    pure = pure_pixels(classes)
    counts = {k.name: int((pure & (classes == k.value)).sum()) for k in ss.CLASSES}
    name, fewest = min(counts.items(), key=lambda item: item[1])
    with pytest.raises(ValueError, match=re.escape(
            f"The synthetic scene of 64 x 48 pixels has only {fewest} pure pixels of class '{name}', "
            f"not enough for train_per_class={fewest} and a test set")):
        ss.write_scene(tmp_path / "s", width=64, height=48, n_bands=2, seed=0, train_per_class=fewest)
    assert not (tmp_path / "s").exists()


def test_the_ndsm_band_states_its_unit_in_metres_and_the_intensity_none(scene):
    """lidar.tif: band 1 in 'm', band 2 (relative intensity) without a unit."""
    ds = gdal.Open(str(scene.lidar))
    assert (ds.GetRasterBand(1).GetUnitType(), ds.GetRasterBand(2).GetUnitType()) == ("m", "")


def test_the_class_table_is_that_of_the_documentation():
    """Values, names and colours of classes.csv as the package docstring and the demo styles give them."""
    assert [(k.value, k.name, k.color) for k in ss.CLASSES] == [
        (1, "Crop", "#e3c84b"), (2, "Grassland", "#98d46b"), (3, "Bare soil", "#b07c4f"), (4, "Trees", "#1e6b2a"),
        (5, "Buildings", "#d62728"), (6, "Roads", "#6f6f6f"), (7, "Water", "#2b7bba")]


def test_the_label_rasters_palette_is_transparent_for_unlabelled_and_opaque_for_classes(scene):
    """Label rasters: entry 0 (0, 0, 0, 0) named 'Unlabelled', every class opaque; a palette interpretation."""
    for path in (scene.train, scene.test):
        ds = gdal.Open(str(path))
        band = ds.GetRasterBand(1)
        table = band.GetColorTable()
        assert table.GetColorEntry(0) == (0, 0, 0, 0)
        assert [table.GetColorEntry(k.value)[3] for k in ss.CLASSES] == [255] * 7
        assert band.GetCategoryNames()[0] == "Unlabelled"
        assert band.GetColorInterpretation() == gdal.GCI_PaletteIndex


@pytest.mark.parametrize("name, predictor", [("hsi", "2"), ("lidar", "3"), ("train", "2")])
def test_rasters_use_the_deflate_predictor_of_their_data_type(scene, name, predictor):
    """Integer rasters: horizontal differencing (2); float rasters: floating-point predictor (3)."""
    ds = gdal.Open(str(getattr(scene, name)))
    assert ds.GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE") == predictor
    assert ds.GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "BAND"


def test_the_training_points_class_name_field_is_32_characters_wide(scene):
    """train_points.gpkg: class_id an integer, class_name a string of width 32."""
    ds = ogr.Open(str(scene.train_points))
    definition = ds.GetLayerByName("train_points").GetLayerDefn()
    fields = {field.GetName(): field for field in map(definition.GetFieldDefn, range(definition.GetFieldCount()))}
    assert fields["class_id"].GetType() == ogr.OFTInteger
    assert (fields["class_name"].GetType(), fields["class_name"].GetWidth()) == (ogr.OFTString, 32)


def test_the_hsi_states_its_data_type_and_units_per_band(scene):
    """hsi.tif: data_type sentence, per-band wavelength units and the IMAGERY domain's micrometres."""
    ds = gdal.Open(str(scene.hsi))
    assert ds.GetMetadataItem("data_type") == "surface reflectance x 10000 (simulated)"
    band = ds.GetRasterBand(1)
    assert band.GetMetadataItem("wavelength_units") == "Nanometers"
    assert band.GetMetadataItem("wavelength") == "500.00"
    assert band.GetMetadataItem("CENTRAL_WAVELENGTH_UM", "IMAGERY") == "0.50000"


def test_a_geotiff_sar_of_another_origin_is_kept_when_a_scene_without_sar_is_written_beside_it(tmp_path):
    """Only a sar.tif whose metadata name this generator is removed; another GeoTIFF there stays as it was."""
    other = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "sar.tif"), 4, 4, 1, gdal.GDT_Float32)
    other.SetMetadata({"generator": "someone else"})
    other.GetRasterBand(1).Fill(7.0)
    other = None
    ss.write_scene(tmp_path, width=48, height=48, n_bands=2, seed=0, train_per_class=2)
    assert (read(tmp_path / "sar.tif") == 7.0).all()


def test_a_too_small_scene_is_refused_with_its_width_then_height():
    """The refusal names the size asked for as width x height."""
    with pytest.raises(ValueError, match=re.escape("at least 48 x 48 pixels; got 64 x 40.")):
        ss.write_scene("/nonexistent/never", width=64, height=40)


@pytest.mark.parametrize("value, vv_db, vh_db, object_sd, pixel_sd", [
    (ss.CROP, -10.0, -16.0, 1.5, 0.8), (ss.GRASSLAND, -12.0, -20.0, 1.0, 0.8), (ss.BARE_SOIL, -13.0, -23.0, 2.0, 0.6),
    (ss.TREES, -8.0, -13.0, 0.8, 1.0), (ss.BUILDINGS, -11.0, -20.0, 2.0, 0.5), (ss.ROADS, -19.0, -28.0, 0.5, 0.5),
    (ss.WATER, -22.0, -30.0, 0.0, 0.0)])
def test_each_class_s_backscatter_in_db_has_the_mean_and_texture_of_its_scattering(value, vv_db, vh_db, object_sd,
                                                                                   pixel_sd):
    """Flat ground of one class, one object per pixel, nearly no speckle: VV and VH in dB above the noise floor,
    and the spread of VV between pixels (texture between and inside objects)."""
    size = 60
    flat = _Layout(np.full((size, size), value, np.uint8), np.arange(size * size, dtype=np.int32).reshape(size, size),
                   np.zeros((size, size)), size * size)
    vv, vh = signals._sar(np.random.default_rng(0), flat, 1e4)[:2].astype(np.float64)
    floor = 10 ** (ss.SAR_NESZ_DB / 10)
    assert np.mean(10 * np.log10(vv - floor)) == pytest.approx(vv_db, abs=0.25)
    assert np.mean(10 * np.log10(vh - floor)) == pytest.approx(vh_db, abs=0.25)
    assert np.std(10 * np.log10(vv - floor)) == pytest.approx(np.hypot(object_sd, pixel_sd), rel=0.1, abs=0.1)


@pytest.fixture(scope="module")
def layouts():
    """Layouts of 200 x 200 pixels for seeds 0-2: several dozen buildings."""
    return [_layout(np.random.default_rng(seed), 200, 200) for seed in range(3)]


def test_the_village_has_gabled_roofs_low_flat_roofs_and_tall_flat_roofs(layouts):
    """Buildings: gabled (height varies, eaves 3.5 m up), flat of 4-12 m and flat of 12-20 m, all present."""
    kinds = []
    for layout in layouts:
        for building in np.unique(layout.objects[layout.classes == ss.BUILDINGS]):
            roof = layout.height[layout.objects == building]
            kinds.append("gabled" if np.ptp(roof) > 0 else "low" if roof[0] < 12.0 else "tall")
    counts = {kind: kinds.count(kind) for kind in ("gabled", "low", "tall")}
    assert all(counts.values()), counts
    assert counts["low"] > counts["tall"], counts


def test_the_facade_laid_over_westwards_brightens_vh_by_a_fifth_of_vv():
    """Layover west of a 10 m building adds 0.05 to VV and 0.01 to VH (linear sigma0)."""
    layout = block_layout(60, (24, 36, 30, 42))
    vv, vh = signals._sar(np.random.default_rng(0), layout, 1e4)[:2].astype(np.float64)
    assert vh[24:36, 16:29].mean() - vh[2:10, 16:29].mean() == pytest.approx(0.01, abs=0.006)


def test_band_values_weigh_the_spectrum_by_a_gaussian_response_of_fwhm_equal_to_the_band_spacing():
    """Six bands of 100 nm: each endmember's band value is its curve weighed by exp(-4 ln 2 ((wl - c) / 100)^2)."""
    centres, fwhm = ss.band_centres(6)
    fine = np.arange(350.0, 1051.0)
    weights = np.exp(-4.0 * np.log(2.0) * ((fine[None, :] - centres[:, None]) / fwhm) ** 2)
    weights /= weights.sum(axis=1, keepdims=True)
    expected = np.stack([weights @ np.interp(fine, *zip(*anchors)) for anchors in signals._ENDMEMBERS.values()])
    assert signals._endmember_spectra(centres, fwhm) == pytest.approx(expected, abs=0.003)


@pytest.mark.parametrize("value, first, second, ratio_of_priors, object_sd, pixel_sd", [
    (ss.CROP, "crop_vigorous", "crop_sparse", 6.0, 0.6, 0.5),
    (ss.GRASSLAND, "grass_green", "grass_dry", 4 / 1.2, 0.6, 0.6),
    (ss.BARE_SOIL, "soil_dry", "soil_moist", 2.0, 1.0, 0.5),
    (ss.TREES, "canopy_broadleaf", "grass_green", 2.0, 0.7, 0.6),
    (ss.BUILDINGS, "roof_bitumen", "roof_gravel", 2 / 1.2, 0.6, 0.2),
    (ss.ROADS, "asphalt", "asphalt_aged", 2 / 1.2, 0.6, 0.4),
    (ss.WATER, "water_clear", "water_turbid", 2.0, 0.0, 0.8)])
def test_each_class_mixes_its_first_two_endmembers_in_the_ratio_and_spread_of_its_material(
        value, first, second, ratio_of_priors, object_sd, pixel_sd):
    """Logistic-normal mixing: log(a1 / a2) has the median log(prior1 / prior2) and the spread
    sqrt(2) x hypot(object sd, pixel sd) over one object per pixel (four seeds)."""
    size = 64
    layout = _Layout(np.full((size, size), value, np.uint8), np.arange(size * size, dtype=np.int32).reshape(size, size),
                     np.zeros((size, size)), size * size)
    names = signals._ENDMEMBER_NAMES
    ratio = np.concatenate([np.log(abundance[names.index(first)] / abundance[names.index(second)]).ravel()
                            for abundance in (signals._abundances(np.random.default_rng(seed), layout)
                                              for seed in range(4))])
    assert np.median(ratio) == pytest.approx(np.log(ratio_of_priors), abs=0.45)
    assert ratio.std() == pytest.approx(np.sqrt(2) * np.hypot(object_sd, pixel_sd), rel=0.1)


def test_the_riparian_tree_row_has_gaps(layouts):
    """About 70 % of the riparian crowns are planted: on average 40-70 % of bank rows have a tree within 9 px."""
    shares = []
    for layout in layouts:
        classes = layout.classes
        bank = [int(np.flatnonzero(row).max()) for row in classes == ss.WATER if row.any()]
        shares.append(np.mean([(classes[i, end + 1:end + 10] == ss.TREES).any() for i, end in enumerate(bank)]))
    assert 0.4 < np.mean(shares) < 0.7


def test_the_gaussian_filter_reaches_three_sigma_with_normalised_taps():
    """A unit impulse blurred by sigma 1 px becomes exp(-k^2 / 2) for |k| <= 3, normalised, and 0 beyond."""
    impulse = np.zeros(15)
    impulse[7] = 1.0
    taps = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    expected = np.zeros(15)
    expected[4:11] = taps / taps.sum()
    assert fields._blur_axis(impulse, 1.0, 0) == pytest.approx(expected, abs=1e-12)
