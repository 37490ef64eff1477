import math
import os
import re

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from rasters import GEOTRANSFORM, ORIGIN_X, ORIGIN_Y, UTM32, pixel_centre, transform_points, write_raster, write_vector

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import stats
from mrs.mrs_qgis_plugin.raster.grid import Window, format_bounds, tiles
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
from mrs.mrs_qgis_plugin.raster.sources import BLOCK_CACHE_BYTES, SIGNED_BYTE_ADVICE, RasterInput, Scene, window_from_extent

SHIFTED_UTM32 = "+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=400000 +y_0=-1000 +datum=WGS84 +units=m +no_defs"
"""UTM 32N with false easting and northing moved: x' = x - 100000, y' = y - 1000."""


def _hsi(tmp_path, bands=4, height=20, width=30, **kwargs):
    data = np.arange(bands * height * width, dtype=np.float32).reshape(bands, height, width)
    return data, write_raster(tmp_path / "hsi.tif", data, **kwargs)


def _refusal(hsi: str, dsm: str) -> str:
    """Why Scene.open refuses the rasters 'hsi' and 'dsm'."""
    with pytest.raises(InputError) as refused:
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")])
    return str(refused.value)


def _logger():
    lines = []
    return lines, Hooks(log=lines.append)


def test_band_names_and_wavelengths_come_from_band_descriptions_and_metadata(tmp_path):
    _data, hsi = _hsi(
        tmp_path,
        descriptions=["blue", "green", "red", ""],
        band_metadata=[{"wavelength": str(w), "wavelength_units": "Nanometers"} for w in (450, 550, 650, 850)],
    )
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((20, 30), np.float32))
    with Scene.open(RasterInput(hsi, "my hsi"), [RasterInput(dsm, "dsm")]) as scene:
        assert (scene.n_hsi, scene.n_aux, scene.n_bands) == (4, 1, 5)
        assert scene.band_names == ["blue", "green", "red", "my hsi band 4", "dsm band 1"]
        assert scene.wavelengths == [450.0, 550.0, 650.0, 850.0]
        assert (scene.hsi_name, scene.aux_names) == ("my hsi", ["dsm"])
        assert (scene.width, scene.height, scene.geotransform) == (30, 20, GEOTRANSFORM)


def test_envi_wavelength_list_in_micrometres_is_converted_to_nm(tmp_path):
    _data, hsi = _hsi(tmp_path, metadata={"wavelength": "{0.45, 0.55,0.65 , 0.85}", "wavelength_units": "Micrometers"})
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths == pytest.approx([450.0, 550.0, 650.0, 850.0])


def test_wavelengths_in_band_descriptions_are_read_and_win_over_a_list_the_bands_were_reordered_after(tmp_path):
    """Red team of 2026-12-05: a GeoTIFF's dataset-wide wavelength list stays in the old order when its
    bands are reordered (gdal_translate -b), while each band's description moves with it: the reversed
    copy was read as 405-995 nm and mapped 8.7 % right; descriptions alone ('Band 12 (612.5 nm)')
    gave no wavelengths, so a reversed copy of them went unchecked."""
    lines, warnings = [], []
    hooks = Hooks(log=lines.append, warn=warnings.append)
    _data, hsi = _hsi(tmp_path, descriptions=["b4 0.85 um", "b3 650 nm", "b2 550.0 nm", "b1 (450 nm)"],
                      metadata={"wavelength": "{450, 550, 650, 850}", "wavelength_units": "Nanometers"})
    with Scene.open(RasterInput(hsi, "hsi"), [], hooks) as scene:
        assert scene.wavelengths == [850.0, 650.0, 550.0, 450.0]
    assert warnings == ["The wavelengths 'hsi' lists (450-850 nm) disagree with its band descriptions (band 1: "
                        "450 nm listed, 'b4 0.85 um' described): its bands were most likely reordered after the list "
                        "was written, so the descriptions' wavelengths are used (450-850 nm, descending)."]
    data = np.arange(4 * 20 * 30, dtype=np.float32).reshape(4, 20, 30)
    described = write_raster(tmp_path / "described.tif", data,
                             descriptions=[f"Band {n} ({w} nm)" for n, w in enumerate((450, 550, 650, 850), 1)])
    with Scene.open(RasterInput(described, "described"), [], hooks) as scene:
        assert scene.wavelengths == [450.0, 550.0, 650.0, 850.0]
    assert "'described': wavelengths from its band descriptions (450-850 nm)." in lines
    plain = write_raster(tmp_path / "plain.tif", data, descriptions=["blue", "green 2", "red (3)", "nir"])
    with Scene.open(RasterInput(plain, "plain"), [], hooks) as scene:
        assert scene.wavelengths is None
    from mrs.model_core.wavelengths import described_wavelengths

    assert described_wavelengths(["b001 404.8 nm", "Band 12 (0.6125 um)", "B8A 865nm (20 m)"]) == [404.8, 612.5, 865.0]
    for vague in (["400-410 nm"], ["612,5 nm"], ["band 3"], ["b1 450 nm or 460 nm"]):  # no one centre each
        assert described_wavelengths(vague) is None


def test_a_list_that_disagrees_with_its_descriptions_otherwise_than_by_order_is_used_and_warned_of(tmp_path):
    """A helper's red team of 2026-12-05: a list shifted by 12 nm (a recalibration) beside the old
    descriptions was said to be 'most likely reordered' and the stale descriptions were used, while the
    same list without descriptions was refused by the model; a list of another count than the bands gave
    no wavelengths, though each band's description held one."""
    lines, warnings = [], []
    hooks = Hooks(log=lines.append, warn=warnings.append)
    _data, hsi = _hsi(tmp_path, descriptions=["b1 450 nm", "b2 550 nm", "b3 650 nm", "b4 850 nm"],
                      metadata={"wavelength": "{462, 562, 662, 862}", "wavelength_units": "Nanometers"})
    with Scene.open(RasterInput(hsi, "hsi"), [], hooks) as scene:
        assert scene.wavelengths == [462.0, 562.0, 662.0, 862.0]
    assert warnings == ["The wavelengths 'hsi' lists (462-862 nm) disagree with its band descriptions (band 1: "
                        "462 nm listed, 'b1 450 nm' described) otherwise than by the bands' order: the descriptions "
                        "are most likely older than the list, so the listed wavelengths are used."]
    micro = write_raster(tmp_path / "micro.tif", np.ones((4, 20, 30), np.float32),  # review: nm labelled µm
                         descriptions=["b1 450 nm", "b2 550 nm", "b3 650 nm", "b4 850 nm"],
                         metadata={"wavelength": "{450, 550, 650, 850}", "wavelength_units": "Micrometers"})
    with Scene.open(RasterInput(micro, "micro"), [], hooks) as scene:
        assert scene.wavelengths == [450.0, 550.0, 650.0, 850.0]
    assert warnings[-1] == ("The wavelengths 'micro' lists (450000-850000 nm) disagree with its band descriptions (band "
                            "1: 450000 nm listed, 'b1 450 nm' described): the list's unit is most likely wrong, as no "
                            "imaging spectrometer measures there, so the descriptions' wavelengths are used (450-850 "
                            "nm).")
    subset = write_raster(tmp_path / "subset.tif", np.ones((4, 20, 30), np.float32),
                          descriptions=["b1 450 nm", "b2 550 nm", "b3 650 nm", "b4 850 nm"],
                          metadata={"wavelength": "{450, 500, 550, 650, 850}", "wavelength_units": "Nanometers"})
    with Scene.open(RasterInput(subset, "subset"), [], hooks) as scene:
        assert scene.wavelengths == [450.0, 550.0, 650.0, 850.0]
    assert ("'subset' lists 5 wavelengths for 4 bands; the list is ignored and the wavelengths of its band "
            "descriptions are used (450-850 nm).") in lines


def test_band_numbers_given_as_wavelengths_are_no_wavelengths(tmp_path):
    """Red team of 2026-12-05: an ENVI header's 'wavelength units = Index' over 1, 2, ..., 20 was read
    as 1000-20000 nm, which then went into the model file."""
    lines = []
    for number, metadata in enumerate(({"wavelength": "{1, 2, 3, 4}", "wavelength_units": "Index"},
                                       {"wavelength": "{1, 2, 3, 4}", "wavelength_units": "Unknown"})):
        data = np.ones((4, 20, 30), np.float32)
        hsi = write_raster(tmp_path / f"index{number}.tif", data, metadata=metadata)
        with Scene.open(RasterInput(hsi, "index"), [], Hooks(log=lines.append)) as scene:
            assert scene.wavelengths is None
    assert lines.count("'index' lists band numbers, not wavelengths (1, 2, ...); the wavelengths are ignored.") == 2


def test_layer_names_are_one_line_of_plain_text():
    assert RasterInput("/data/a\nb.tif", "a\nb\u202e").name == "a b"


def test_band_names_are_one_line_of_plain_text(tmp_path):
    """Red team of 2026-12-04: a line break in a band description split the GROUPS result line
    of bin/mrs redundancy in two; a right-to-left override turned the rest of a log line around."""
    _data, hsi = _hsi(tmp_path, descriptions=["line\nbreak", "tab\there", "\u202eevil\u2066x\u2069", "ok"])
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.band_names == ["line break", "tab here", "evilx", "ok"]


def test_each_bands_wavelength_is_read_in_its_own_units(tmp_path):
    """Red team of 2026-12-04: only band 1's units were read, so bands given in µm became 0.7 nm."""
    _data, hsi = _hsi(tmp_path, band_metadata=[{"wavelength": "450", "wavelength_units": "Nanometers"},
                                               {"wavelength": "550", "wavelength_units": "nm"},
                                               {"wavelength": "0.65", "wavelength_units": "Micrometers"},
                                               {"wavelength": "0.85", "wavelength_units": "\u03bcm"}])
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths == pytest.approx([450.0, 550.0, 650.0, 850.0])


def test_gdal_s_central_wavelength_of_each_band_is_read(tmp_path):
    """GDAL 3.10's standard item (domain IMAGERY), which the demo scene writes too, was not read:
    such a raster was said to give no wavelengths (red team of 2026-12-04)."""
    _data, hsi = _hsi(tmp_path)
    dataset = gdal.Open(hsi, gdal.GA_Update)
    for number, micrometres in enumerate(("0.45", "0.55", "0.65", "0.85"), start=1):
        dataset.GetRasterBand(number).SetMetadata({"CENTRAL_WAVELENGTH_UM": micrometres, "FWHM_UM": "0.01"}, "IMAGERY")
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths == pytest.approx([450.0, 550.0, 650.0, 850.0])


@pytest.mark.parametrize("dimension, units, values, expected", [
    ("wavelength", "nm", ("450", "550", "650", "850"), [450.0, 550.0, 650.0, 850.0]),
    ("wavelengths", "micrometers", ("0.45", "0.55", "0.65", "0.85"), [450.0, 550.0, 650.0, 850.0]),
    ("wavelength", None, ("450", "550", "650", "850"), [450.0, 550.0, 650.0, 850.0]),
])
def test_a_netcdf_cube_s_wavelength_dimension_gives_the_wavelengths(tmp_path, dimension, units, values, expected):
    """Red team of 2026-12-05: a cube whose bands are a wavelength dimension (GDAL's NETCDF_DIM_
    items) was said to give no wavelengths."""
    _data, hsi = _hsi(tmp_path, metadata={f"{dimension}#units": units} if units else None)
    dataset = gdal.Open(hsi, gdal.GA_Update)
    for number, value in enumerate(values, start=1):
        dataset.GetRasterBand(number).SetMetadataItem(f"NETCDF_DIM_{dimension}", value)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths == pytest.approx(expected)


def _envi(tmp_path, name: str, data: np.ndarray, header: str) -> str:
    """An ENVI raster of `data` (bands, rows, cols) whose header gets the lines `header` too."""
    path = str(tmp_path / f"{name}.img")
    dataset = gdal.GetDriverByName("ENVI").Create(path, data.shape[2], data.shape[1], data.shape[0], gdal.GDT_Float32)
    dataset.SetGeoTransform(GEOTRANSFORM)
    dataset.WriteArray(data)
    dataset = None
    with open(str(tmp_path / f"{name}.hdr"), "a") as file:
        file.write(header)
    return path


def test_bands_an_envi_header_marks_bad_are_left_out_and_said(tmp_path):
    """Red team of 2026-12-05: an AVIRIS-NG-style header's bad-band list (bbl) was not read: its
    water-absorption bands, NaN over water, trained as data, and the water class was lost whole."""
    data = np.random.default_rng(0).uniform(0.1, 0.5, (8, 20, 30)).astype(np.float32)
    data[[3, 4, 6]] = np.nan
    hsi = _envi(tmp_path, "rfl", data, "wavelength units = Nanometers\n"
                "wavelength = {400, 500, 600, 1400, 1450, 1600, 1900, 2100}\nbbl = {1, 1, 1, 0, 0, 1, 0, 1}\n")
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "rfl"), [], hooks) as scene:
        assert scene.n_hsi == 5 and scene.wavelengths == pytest.approx([400, 500, 600, 1600, 2100])
        block, valid = scene.read(0, 0, 30, 20)
        assert valid.all() and block[:, 0, 0] == pytest.approx(data[[0, 1, 2, 5, 7], 0, 0])
    assert lines[0] == "'rfl': 3 bands its ENVI header marks bad (bbl: bands 4, 5, 7) are left out."
    assert lines[1] == "Scene: 30 x 20 pixels, 5 bands from 'rfl', 400-2100 nm."


@pytest.mark.parametrize("values, units, read", [
    (("450", "550", "650", "850"), "Micrometers", "450000-850000 nm in its unit ('Micrometers')"),
    (("0.45", "0.55", "0.65", "0.85"), "Nanometers", "0.45-0.85 nm in its unit ('Nanometers')"),
    (("40", "90", "140", "240"), None, "40-240 nm without a unit (taken as nm)"),
])
def test_wavelengths_no_imaging_spectrometer_measures_are_warned_of_as_a_wrong_unit(tmp_path, values, units, read):
    """Red team of 2026-12-05: nanometres labelled micrometres (and the reverse) trained a model on
    bands said to lie at 450000 nm without a word."""
    _data, hsi = _hsi(tmp_path, band_metadata=[{"wavelength": value, **({"wavelength_units": units} if units else {})}
                                               for value in values])
    warnings = []
    with Scene.open(RasterInput(hsi, "hsi"), [], Hooks(warn=warnings.append)):
        pass
    assert warnings == [f"'hsi' gives wavelengths that read as {read}, where no imaging spectrometer measures (about "
                        "350-2500 nm, thermal bands to 14000 nm): its wavelength unit is most likely wrong. Set the "
                        "layer's wavelength_units to the unit its values are in."]


@pytest.mark.parametrize("bbl", ["{1, 0, 1}", "{1, 0, 2, 1}", "{0, 0, 0, 0}"])
def test_a_bad_band_list_that_is_no_flag_per_band_is_said_to_be_ignored(tmp_path, bbl):
    """False-alarm hunt of 2026-12-05: a list of the wrong length was ignored without a word."""
    hsi = _envi(tmp_path, "b", np.ones((4, 5, 6), np.float32), f"bbl = {bbl}\n")
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "b"), [], hooks) as scene:
        assert scene.n_hsi == 4
    assert lines[0] == ("'b': its ENVI header's bad-band list (bbl) is not one 0 or 1 for each of its 4 bands, or "
                        "marks every band bad, so it is ignored and every band is read.")


def test_a_refusal_for_too_few_bands_follows_the_line_of_the_bands_an_envi_header_marks_bad(tmp_path):
    """Session of 2026-12-05: 'has 1 band; at least 3 are needed' for a file of 4 bands, 3 marked
    bad, came without the line that says so."""
    hsi = _envi(tmp_path, "b", np.ones((4, 5, 6), np.float32), "bbl = {1, 0, 0, 0}\n")
    lines, hooks = _logger()
    with pytest.raises(InputError, match="^The hyperspectral layer 'b' has 1 band; at least 3 are needed"):
        Scene.open(RasterInput(hsi, "b"), [], hooks)
    assert lines == ["'b': 3 bands its ENVI header marks bad (bbl: bands 2, 3, 4) are left out."]


def test_a_model_refused_for_its_band_count_is_told_of_the_bands_an_envi_header_leaves_out(tmp_path):
    """False-alarm hunt of 2026-12-05: a model trained on all 8 bands (before bbl was read, or on a
    GeoTIFF copy) was told to use the layers it was made with, the very layer it was given."""
    from mrs.model_core.errors import BandCountError
    from mrs.model_core.loading import check_bands
    from mrs.mrs_qgis_plugin.jobs import bands_explained

    hsi = _envi(tmp_path, "rfl", np.ones((8, 5, 6), np.float32), "bbl = {1, 1, 1, 0, 0, 1, 0, 1}\n")
    aux = [RasterInput(write_raster(tmp_path / "dsm.tif", np.ones((1, 5, 6), np.float32), crs=None), "dsm")]
    with Scene.open(RasterInput(hsi, "rfl"), aux) as scene:
        with pytest.raises(BandCountError) as refused:
            with bands_explained(scene):
                check_bands({"n_hsi": 8, "n_aux": 1, "hsi_layer": "rfl", "aux_layers": ["dsm"]}, scene.n_hsi, 1,
                            "m.safetensors", "MODEL")
    assert str(refused.value) == (
        "MODEL: 'm.safetensors' was made for 8 HSI bands and 1 SAR/LiDAR band (HSI 'rfl', SAR/LiDAR 'dsm'), but the "
        "layers give 5 HSI bands and 1 SAR/LiDAR band. Give rasters of the bands it was made for, in the same order, "
        "or train a model on these rasters. Of these layers' bands, those their ENVI header's bad-band list (bbl) "
        "marks are left out ('rfl': bands 4, 5, 7); for a model trained with them, give a GeoTIFF copy of the layer, "
        "which has no such list (gdal_translate -of GTiff).")
    # Review of 2026-12-05: nor is it said where those bands do not make up the difference.
    with Scene.open(RasterInput(hsi, "rfl"), aux) as scene:
        with pytest.raises(BandCountError) as refused:
            with bands_explained(scene):
                check_bands({"n_hsi": 9, "n_aux": 1, "hsi_layer": "rfl", "aux_layers": ["dsm"]}, scene.n_hsi, 1,
                            "m.safetensors", "MODEL")
    assert "bbl" not in str(refused.value)


def test_a_list_of_wavelengths_for_every_band_gives_the_data_bands_theirs(tmp_path):
    """Review of 2026-12-05: a dataset-level list of one wavelength per band, an alpha band among
    them, was ignored (4 data bands, 5 wavelengths); the data bands take theirs."""
    data = np.random.default_rng(0).uniform(0.1, 0.5, (5, 20, 30)).astype(np.float32)
    hsi = write_raster(tmp_path / "hsi.tif", data, metadata={"wavelength": "{450, 550, 650, 850, 0}",
                                                              "wavelength_units": "nm"})
    dataset = gdal.Open(hsi, gdal.GA_Update)
    dataset.GetRasterBand(5).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.n_hsi == 4 and scene.wavelengths == pytest.approx([450.0, 550.0, 650.0, 850.0])


def test_an_envi_reflectance_scale_factor_is_said_to_be_left_unapplied(tmp_path):
    """Red team of 2026-12-05: reflectance stored as 0-10000 with the header's 'reflectance scale
    factor = 10000', given to a model trained on 0-1 reflectance, was warned of as far values only."""
    data = np.random.default_rng(0).uniform(1000, 5000, (4, 20, 30)).astype(np.float32)
    hsi = _envi(tmp_path, "rfl", data, "reflectance scale factor = 10000.00\n")
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "rfl"), [], hooks) as scene:
        block, _valid = scene.read(0, 0, 30, 20)
        assert block[:, 0, 0] == pytest.approx(data[:, 0, 0])
    assert lines[0] == ("'rfl': its ENVI header gives a reflectance scale factor of 10000, which is not applied (nor "
                        "does QGIS apply it): the values are read as the file stores them. For reflectance, use a copy "
                        "with that scale (gdal_translate -a_scale 0.0001).")
    # A helper's red team of 2026-12-05: where the header's data gains scale the values already, as
    # GDAL reads them, the copy advised would scale them twice; nothing is said.
    hsi = _envi(tmp_path, "gained", data, "reflectance scale factor = 10000.00\n"
                "data gain values = {0.0001, 0.0001, 0.0001, 0.0001}\n")
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "gained"), [], hooks) as scene:
        block, _valid = scene.read(0, 0, 30, 20)
        assert block[:, 0, 0] == pytest.approx(data[:, 0, 0] / 10000)
    assert not any("scale factor" in line for line in lines)


def test_wavelengths_are_none_without_metadata_or_with_the_wrong_count(tmp_path):
    _data, hsi = _hsi(tmp_path)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths is None
    _data, hsi = _hsi(tmp_path, metadata={"wavelength": "{450, 550}"})
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [], hooks) as scene:
        assert scene.wavelengths is None
    assert any("2 wavelengths for 4 bands" in line for line in lines)


def test_read_gives_values_and_marks_nodata_nan_and_inf_invalid_with_zero_data(tmp_path):
    data = np.arange(3 * 6 * 8, dtype=np.int16).reshape(3, 6, 8) + 1
    data[1, 2, 3] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999, scale=0.5)
    aux = np.full((6, 8), 7.0, np.float32)
    aux[0, 0], aux[5, 7] = np.nan, np.inf
    dsm = write_raster(tmp_path / "dsm.tif", aux)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 8, 6)
    expected_valid = np.ones((6, 8), bool)
    expected_valid[2, 3] = expected_valid[0, 0] = expected_valid[5, 7] = False
    np.testing.assert_array_equal(valid, expected_valid)
    assert values.dtype == np.float32 and values.shape == (4, 6, 8)
    assert np.isfinite(values).all()
    assert (values[:, ~expected_valid] == 0).all()
    np.testing.assert_array_equal(values[:3, expected_valid], data[:, expected_valid] * 0.5)
    assert (values[3, expected_valid] == 7.0).all()


def test_a_band_s_offset_is_added_after_its_scale_so_a_shifted_copy_reads_as_the_original(tmp_path):
    """A helper's coverage round of 2026-12-06: no test read a band with an offset. Values stored 1000
    higher with an offset of -1000 times the scale read as the original, its nodata pixels too, and
    give the same statistics sample, so the same normalised inputs and predictions."""
    data = np.arange(3 * 6 * 8, dtype=np.int16).reshape(3, 6, 8) + 1
    data[1, 2, 3] = -9999
    plain = write_raster(tmp_path / "plain.tif", data, nodata=-9999, scale=0.5)
    shifted = write_raster(tmp_path / "shifted.tif", np.where(data == -9999, data, data + 1000).astype(np.int16),
                           nodata=-9999, scale=0.5)
    dataset = gdal.Open(shifted, gdal.GA_Update)
    for band in range(1, 4):
        dataset.GetRasterBand(band).SetOffset(-500.0)
    dataset = None
    read = {}
    for name, path in (("plain", plain), ("shifted", shifted)):
        with Scene.open(RasterInput(path, name), []) as scene:
            read[name] = (*scene.read(0, 0, 8, 6), stats.sample_valid_pixels(scene, 20, seed=3))
    (values, valid, sample), (shifted_values, shifted_valid, shifted_sample) = read["plain"], read["shifted"]
    assert np.flatnonzero(~shifted_valid).tolist() == [2 * 8 + 3]
    np.testing.assert_array_equal(shifted_valid, valid)
    np.testing.assert_array_equal(shifted_values, values)
    np.testing.assert_array_equal(shifted_values[:, valid], data[:, valid] * 0.5)
    np.testing.assert_array_equal(shifted_sample, sample)


def test_a_nodata_value_beyond_float32_marks_its_pixels_without_a_warning(tmp_path):
    """A Float64 raster's nodata -1e300, read into float32 as GDAL clamps it, became -inf by numpy's
    cast: a RuntimeWarning with a source line on standard error (red team of 2026-12-04)."""
    import warnings

    data = np.full((3, 6, 8), 0.25, np.float64)
    data[:, 1, 2] = -1e300
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
            _values, valid = scene.read(0, 0, 8, 6)
    assert np.flatnonzero(~valid).tolist() == [1 * 8 + 2]


def test_pixels_an_alpha_band_hides_are_invalid_also_where_the_bands_have_a_nodata_value(tmp_path):
    """GDAL gives the alpha band as the mask only without a nodata value: with one, the pixels the
    alpha band hides were read as valid (red team of 2026-12-04, seen on label rasters)."""
    data = np.ones((4, 6, 8), np.float32)
    data[3] = 255
    data[3, 1, 2] = 0  # hidden by the alpha band
    data[:3, 4, 4] = -9999  # nodata
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999)
    dataset = gdal.Open(hsi, gdal.GA_Update)
    dataset.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        _values, valid = scene.read(0, 0, 8, 6)
    assert sorted(zip(*np.nonzero(~valid))) == [(1, 2), (4, 4)]


INT8 = hasattr(gdal, "GDT_Int8")
"""GDAL 3.7 and later have a signed byte type: PIXELTYPE=SIGNEDBYTE makes Int8 bands, read as signed."""


def _signed_bytes(path, values, geotransform=GEOTRANSFORM, nodata=-128):
    """A one-band GeoTIFF of signed bytes: on GDAL 3.6 Byte marked PIXELTYPE=SIGNEDBYTE, later Int8."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), values.shape[1], values.shape[0], 1, gdal.GDT_Byte,
                                                   options=["PIXELTYPE=SIGNEDBYTE"])
    dataset.SetGeoTransform(geotransform)
    crs = osr.SpatialReference()
    crs.SetFromUserInput(UTM32)
    dataset.SetProjection(crs.ExportToWkt())
    signed = values.astype(np.int8)
    dataset.GetRasterBand(1).WriteArray(signed if INT8 else signed.view(np.uint8))
    dataset.GetRasterBand(1).SetNoDataValue(nodata)
    dataset = None
    return str(path)


def test_signed_bytes_are_read_as_signed_numbers_on_the_hsi_grid(tmp_path):
    """Red team of 2026-12-04: a height of -3 m in a signed-byte LiDAR was read as 253 m."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    heights = np.arange(-10, 10, dtype=np.int16).reshape(4, 5)
    heights[0, 0] = -128
    dsm = _signed_bytes(tmp_path / "dsm.tif", heights)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 5, 4)
    assert not valid[0, 0] and valid.sum() == 19
    np.testing.assert_array_equal(values[3][valid], heights[valid])


def test_signed_bytes_on_another_grid_are_refused_with_a_way_to_convert_them_or_warped_as_int8(tmp_path):
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    dsm = _signed_bytes(tmp_path / "dsm.tif", np.full((2, 3), -3), (ORIGIN_X, 2.0, 0.0, ORIGIN_Y, 0.0, -2.0))
    if INT8:
        with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
            values, valid = scene.read(0, 0, 5, 4)
        assert valid.any() and np.all(values[3][valid] == -3)
        return
    with pytest.raises(InputError, match=r"^The layer 'dsm' holds signed bytes \(PIXELTYPE=SIGNEDBYTE\), which GDAL "
                                         r"would warp onto the hyperspectral grid as 0 to 255. Convert it to 16-bit "
                                         r"integers first: gdal_calc.py -A FILE --allBands=A"):
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")])


def test_signed_byte_labels_on_another_grid_are_refused_or_warped_as_int8(tmp_path):
    """A helper's red team of 2026-12-07: GDAL 3.6 warped a label raster's -1, its declared nodata, as 255: a class
    '255' was trained on the unlabelled pixels, and an accuracy scored 44.79 % where the map was right."""
    from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster

    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    codes = np.full((5, 6), -1)
    codes[1:3, 1:3] = 2
    labels = _signed_bytes(tmp_path / "labels.tif", codes, (ORIGIN_X - 1, 1.0, 0.0, ORIGIN_Y + 1, 0.0, -1.0), nodata=-1)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        if INT8:
            assert labels_from_raster(scene, labels, "labels").values.tolist() == [2, 2, 2, 2]
            return
        with pytest.raises(InputError) as refused:
            labels_from_raster(scene, labels, "labels")
    assert str(refused.value).startswith("The label layer 'labels' holds signed bytes (PIXELTYPE=SIGNEDBYTE), which "
                                         "GDAL would warp onto the hyperspectral grid as 0 to 255. Convert it to "
                                         "16-bit integers first:")


def test_the_advised_conversion_of_signed_bytes_gives_their_values(tmp_path):
    """Red team of 2026-12-04: the first advice (gdal_calc.py --calc=A --type=Int16) kept 0 to 255 here."""
    import shlex
    import subprocess

    heights = np.array([[-3, -1, 0], [5, 23, 100]])
    dsm = _signed_bytes(tmp_path / "dsm.tif", heights, nodata=-128)
    advice = SIGNED_BYTE_ADVICE.split(": ", 1)[1].split(" (")[0].replace("FILE", dsm).replace("NEW.tif",
                                                                                           str(tmp_path / "n.tif"))
    subprocess.run(shlex.split(advice), check=True, capture_output=True)
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "n.tif")).ReadAsArray(), heights)


def test_signed_bytes_behind_a_virtual_raster_of_bytes_are_refused(tmp_path):
    """Red team of 2026-12-04: gdalbuildvrt drops PIXELTYPE, and 2,455 of 3,600 pixels of a map changed
    (GDAL 3.6 reads -3 through such a VRT as 253; GDAL 3.12, whose source is Int8, as 0)."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    dsm = _signed_bytes(tmp_path / "dsm.tif", np.arange(-10, 10).reshape(4, 5))
    gdal.Translate(str(tmp_path / "dsm.vrt"), dsm, format="VRT", outputType=gdal.GDT_Byte).FlushCache()
    with pytest.raises(InputError, match=rf"^The layer 'vrt' is a virtual raster over signed bytes "
                                         rf"\({re.escape(dsm)}\), which GDAL reads through it without their negative "
                                         r"values. Convert it .* Then build the virtual raster again from the converted "
                                         r"file.$"):
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(tmp_path / "dsm.vrt"), "vrt")])


def test_signed_bytes_behind_a_virtual_raster_of_a_virtual_raster_or_as_labels_are_refused(tmp_path):
    """Red team of 2026-12-04: a VRT of a VRT hid the signed bytes again, and a label VRT read class -3 as 253."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    dsm = _signed_bytes(tmp_path / "dsm.tif", np.arange(-10, 10).reshape(4, 5))
    gdal.Translate(str(tmp_path / "inner.vrt"), dsm, format="VRT", outputType=gdal.GDT_Byte).FlushCache()
    gdal.Translate(str(tmp_path / "outer.vrt"), str(tmp_path / "inner.vrt"), format="VRT").FlushCache()
    with pytest.raises(InputError, match=rf"^The layer 'outer' is a virtual raster over signed bytes "
                                         rf"\({re.escape(dsm)}\)"):
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(tmp_path / "outer.vrt"), "outer")])
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene, pytest.raises(
            InputError, match=r"^The label layer 'labels' is a virtual raster over signed bytes"):
        labels_from_raster(scene, str(tmp_path / "inner.vrt"), "labels")


def test_signed_bytes_behind_a_virtual_raster_of_int16_are_refused_where_gdal_reads_them_unsigned(tmp_path):
    """Red team of 2026-12-04: gdal_translate -of VRT -ot Int16 over signed bytes read -3 as 253 on GDAL 3.6."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    heights = np.arange(-10, 10).reshape(4, 5)
    dsm = _signed_bytes(tmp_path / "dsm.tif", heights)
    gdal.Translate(str(tmp_path / "dsm.vrt"), dsm, format="VRT", outputType=gdal.GDT_Int16).FlushCache()
    layers = [RasterInput(str(tmp_path / "dsm.vrt"), "vrt")]
    if not INT8:
        with pytest.raises(InputError, match=r"^The layer 'vrt' is a virtual raster over signed bytes"):
            Scene.open(RasterInput(hsi, "hsi"), layers)
        return
    with Scene.open(RasterInput(hsi, "hsi"), layers) as scene:
        values, valid = scene.read(0, 0, 5, 4)
    np.testing.assert_array_equal(values[3][valid], heights[valid])


def test_a_virtual_raster_of_int8_reads_signed_bytes(tmp_path):
    """GDAL 3.7 and later build a VRT of Int8 over Int8 sources; GDAL 3.6 one of Byte, refused above."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    heights = np.arange(-10, 10).reshape(4, 5)
    gdal.BuildVRT(str(tmp_path / "dsm.vrt"), [_signed_bytes(tmp_path / "dsm.tif", heights)]).FlushCache()
    if not INT8:
        with pytest.raises(InputError, match=r"^The layer 'vrt' is a virtual raster over signed bytes"):
            Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(tmp_path / "dsm.vrt"), "vrt")])
        return
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(tmp_path / "dsm.vrt"), "vrt")]) as scene:
        values, valid = scene.read(0, 0, 5, 4)
    np.testing.assert_array_equal(values[3][valid], heights[valid])



def test_a_virtual_raster_of_a_data_type_this_gdal_lacks_is_told_as_such(tmp_path):
    """Red team of 2026-12-04: GDAL 3.6 opening a VRT of Int8 made by GDAL 3.12 was told to choose
    a raster that GDAL can read (an unknown type here, that every GDAL refuses alike)."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    vrt = tmp_path / "dsm.vrt"
    vrt.write_text(f'<VRTDataset rasterXSize="5" rasterYSize="4"><VRTRasterBand dataType="Int3" band="1">'
                   f'<SimpleSource><SourceFilename>{hsi}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>'
                   f'</VRTRasterBand></VRTDataset>')
    with pytest.raises(InputError, match=rf"^The auxiliary layer 'dsm' has bands of Int3, a data type that this GDAL "
                                         rf"\({re.escape(gdal.__version__)}\) does not know: it was made by a newer "
                                         r"GDAL. Convert it there \(gdal_translate -ot Int16, or -ot Float32\), or run "
                                         r"the plugin with that GDAL.$"):
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(vrt), "dsm")])

def test_read_with_halo_is_reflection_padded_at_the_border(tmp_path):
    data, hsi = _hsi(tmp_path, bands=3, height=9, width=11)
    padded = np.pad(data, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        corner, corner_valid = scene.read(0, 0, 4, 3, halo=2)
        inner, _ = scene.read(3, 2, 5, 4, halo=2)
        whole, _ = scene.read(0, 0, 11, 9, halo=2)
        with pytest.raises(ValueError):
            scene.read(-1, 0, 4, 3, halo=2)
    np.testing.assert_array_equal(corner, padded[:, 0:7, 0:8])
    assert corner_valid.shape == (7, 8) and corner_valid.all()
    np.testing.assert_array_equal(inner, data[:, 0:8, 1:10])
    np.testing.assert_array_equal(whole, padded)


def test_aux_raster_in_another_crs_and_pixel_size_is_warped_onto_the_hsi_grid(tmp_path):
    _data, hsi = _hsi(tmp_path, bands=3, height=20, width=30)
    # 2 m pixels, value 3*col + 7*row at aux pixel centres: bilinear warping reproduces it exactly.
    aux_rows, aux_cols = np.mgrid[0:12, 0:20]
    aux_values = (3.0 * aux_cols + 7.0 * aux_rows).astype(np.float32)
    aux_x0, aux_y0 = ORIGIN_X - 100000 - 10, ORIGIN_Y - 1000 + 10
    dsm = write_raster(tmp_path / "dsm.tif", aux_values, (aux_x0, 2.0, 0.0, aux_y0, 0.0, -2.0), crs=SHIFTED_UTM32)
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")], hooks) as scene:
        values, valid = scene.read(0, 0, 30, 20)
    rows, cols = np.mgrid[0:20, 0:30]
    x, y = pixel_centre(rows, cols)
    aux_col = (x - 100000 - aux_x0) / 2.0 - 0.5
    aux_row = (aux_y0 - (y - 1000)) / 2.0 - 0.5
    interior = (aux_row <= 11) & (aux_col <= 19)
    np.testing.assert_allclose(values[3][interior], (3.0 * aux_col + 7.0 * aux_row)[interior], atol=1e-3)
    assert valid[interior].all()
    assert values[3, 0, 0] == pytest.approx(3 * 4.75 + 7 * 4.75, abs=1e-3)
    assert not valid[14:].any()
    assert (values[:, 14:] == 0).all()
    assert any("'dsm'" in line and "warped" in line for line in lines)
    assert any("covers only part" in line for line in lines)


def test_an_aux_raster_shifted_by_less_than_half_a_pixel_is_not_said_to_leave_pixels_nodata(tmp_path):
    """'covers only part ...; the pixels outside it are nodata' was said of a LiDAR shifted by half a
    pixel, and no pixel was nodata (a helper's red team of 2026-12-05)."""
    _data, hsi = _hsi(tmp_path, bands=3, height=20, width=30)
    said = {}
    for name, shift in (("quarter", 0.25), ("whole", 1.0)):
        dsm = write_raster(tmp_path / f"{name}.tif", np.ones((20, 30), np.float32),
                           (ORIGIN_X + shift, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
        lines, hooks = _logger()
        with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, name)], hooks) as scene:
            _values, valid = scene.read(0, 0, 30, 20)
        said[name] = (any("covers only part" in line for line in lines), int((~valid).sum()))
    assert said == {"quarter": (False, 0), "whole": (True, 20)}
    # oblong pixels: a LiDAR missing the top row of 0.5 m pixels leaves that row nodata, and says so
    oblong = write_raster(tmp_path / "oblong.tif", np.ones((3, 20, 30), np.float32),
                          (ORIGIN_X, 2.0, 0.0, ORIGIN_Y, 0.0, -0.5))
    short = write_raster(tmp_path / "short.tif", np.ones((19, 30), np.float32),
                         (ORIGIN_X, 2.0, 0.0, ORIGIN_Y - 0.5, 0.0, -0.5))
    lines, hooks = _logger()
    with Scene.open(RasterInput(oblong, "oblong"), [RasterInput(short, "short")], hooks) as scene:
        _values, valid = scene.read(0, 0, 30, 20)
    assert (~valid).sum() == 30 and any("covers only part" in line for line in lines)
    # a skew of a billionth of a pixel is no rotated grid to warp onto (a review of 2026-12-05: refused)
    skewed = write_raster(tmp_path / "skewed.tif", np.ones((3, 20, 30), np.float32),
                          (ORIGIN_X, 1.0, 1e-9, ORIGIN_Y, 1e-9, -1.0))
    with Scene.open(RasterInput(skewed, "skewed"), [RasterInput(str(tmp_path / "quarter.tif"), "quarter")]) as scene:
        _values, valid = scene.read(0, 0, 30, 20)
    assert valid.all()


@pytest.mark.parametrize("crs", [UTM32, None])
def test_aux_raster_with_another_extent_lands_shifted_with_exact_values(tmp_path, crs):
    _data, hsi = _hsi(tmp_path, bands=3, height=6, width=8, crs=crs)
    aux = np.arange(48, dtype=np.float32).reshape(6, 8) + 100
    shifted = (ORIGIN_X + 2, 1.0, 0.0, ORIGIN_Y - 1, 0.0, -1.0)
    dsm = write_raster(tmp_path / "dsm.tif", aux, shifted, crs=crs)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 8, 6)
    expected_valid = np.zeros((6, 8), bool)
    expected_valid[1:, 2:] = True
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_allclose(values[3, 1:, 2:], aux[:5, :6], atol=1e-4)


def test_aux_raster_in_geographic_coordinates_lands_at_the_right_place(tmp_path):
    _data, hsi = _hsi(tmp_path, bands=3, height=40, width=60)
    (lon0, lat1), (lon1, lat0) = transform_points([(ORIGIN_X - 5, ORIGIN_Y + 5), (ORIGIN_X + 65, ORIGIN_Y - 45)], UTM32, "EPSG:4326")
    size = 1e-5
    width, height = int((lon1 - lon0) / size) + 1, int((lat1 - lat0) / size) + 1
    split_col, split_row = width // 3, height // 2
    quadrants = np.ones((height, width), np.float32)
    quadrants[:, split_col:] += 1
    quadrants[split_row:] += 2
    dsm = write_raster(tmp_path / "dsm.tif", quadrants, (lon0, size, 0.0, lat1, 0.0, -size), crs="EPSG:4326")
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 60, 40)
    centres = [pixel_centre(r, c) for r in range(40) for c in range(60)]
    lonlat = np.array(transform_points(centres, UTM32, "EPSG:4326")).reshape(40, 60, 2)
    aux_col = (lonlat[..., 0] - lon0) / size
    aux_row = (lat1 - lonlat[..., 1]) / size
    expected = 1.0 + (aux_col >= split_col) + 2.0 * (aux_row >= split_row)
    away = (np.abs(aux_col - split_col) > 1.5) & (np.abs(aux_row - split_row) > 1.5)
    assert valid.all()
    assert away.sum() > 2000 and (expected[~away] > 0).all()
    np.testing.assert_array_equal(values[3][away], expected[away])
    assert set(np.unique(expected[away])) == {1.0, 2.0, 3.0, 4.0}


def test_sources_that_do_not_overlap_are_an_error_naming_both_layers(tmp_path):
    _data, hsi = _hsi(tmp_path)
    far = (ORIGIN_X + 5000, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((20, 30), np.float32), far)
    with pytest.raises(InputError, match=r"The layers 'my hsi' and 'my dsm' do not overlap"):
        Scene.open(RasterInput(hsi, "my hsi"), [RasterInput(dsm, "my dsm")])


SOUTH_UP = (ORIGIN_X, 1.0, 0.0, ORIGIN_Y - 20, 0.0, 1.0)
"""The grid of `_hsi`'s 20 rows stored south-up: row 0 is the southernmost."""


def test_a_south_up_raster_is_warped_onto_a_north_up_grid_the_right_way_up(tmp_path):
    _data, hsi = _hsi(tmp_path)
    dsm = np.arange(600, dtype=np.float32).reshape(20, 30)
    south_up = write_raster(tmp_path / "dsm.tif", dsm[::-1], SOUTH_UP)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(south_up, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 30, 20)
    assert valid.all()
    np.testing.assert_allclose(values[4], dsm, atol=1e-3)


def test_layers_on_the_same_south_up_grid_are_read_as_they_are(tmp_path):
    data, hsi = _hsi(tmp_path, geotransform=SOUTH_UP)
    dsm = write_raster(tmp_path / "dsm.tif", data[0] + 0.5, SOUTH_UP)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, _valid = scene.read(0, 0, 30, 20)
    np.testing.assert_array_equal(values[4], data[0] + 0.5)


@pytest.mark.parametrize("geotransform, layout", [
    (SOUTH_UP, r"a flipped grid \(pixel size 1 x 1: rows from south to north, or columns from east to west\)"),
    ((ORIGIN_X + 30, -1.0, 0.0, ORIGIN_Y, 0.0, -1.0), r"a flipped grid \(pixel size -1 x -1: "),
    ((ORIGIN_X, 1.0, 0.2, ORIGIN_Y, 0.2, -1.0), "a rotated grid"),
])
def test_a_raster_cannot_be_warped_onto_a_flipped_or_rotated_grid_and_the_sentence_says_which(
        tmp_path, geotransform, layout):
    """GDAL lays a warp to a bounding box out north-up: onto a south-up grid every row of the
    warped layer would land upside down (red team of 2026-12-04: maps at 19-55 % OA, no word)."""
    _data, hsi = _hsi(tmp_path, geotransform=geotransform)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((20, 30), np.float32))
    with pytest.raises(InputError, match=rf"The layer 'my hsi' has {layout}.*onto which 'my dsm' cannot be warped\. "
                                         r"Warp 'my hsi' to a north-up grid first"):
        Scene.open(RasterInput(hsi, "my hsi"), [RasterInput(dsm, "my dsm")])


def test_an_aux_raster_at_absurd_coordinates_in_another_crs_is_an_error_not_a_hang(tmp_path):
    """PROJ never returns when asked to turn x = -4.7e30 in Web Mercator into a longitude."""
    _data, hsi = _hsi(tmp_path, crs="EPSG:4326", geotransform=(9.0, 1e-4, 0.0, 46.0, 0.0, -1e-4))
    absurd = (-4.7e30, 1.0, 0.0, 2.7e16, 0.0, -1.0)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((20, 30), np.float32), absurd, crs="EPSG:3857")
    with pytest.raises(InputError, match=r"The layer 'my dsm' lies at x -4.7e\+30\.\.-4.7e\+30, y .* in EPSG:3857, "
                                         r"far outside the area of that CRS"):
        Scene.open(RasterInput(hsi, "my hsi"), [RasterInput(dsm, "my dsm")])


def test_a_raster_placed_by_ground_control_points_only_is_refused_with_the_way_to_warp_it(tmp_path):
    """Red team of 2026-12-04: the advice was to assign a CRS, which does not place such a raster."""
    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    placed = gdal.Translate(str(tmp_path / "gcp.tif"), hsi, GCPs=[gdal.GCP(ORIGIN_X + x, ORIGIN_Y - y, 0, x, y)
                                                                for x, y in ((0, 0), (5, 0), (0, 4))],
                            outputSRS=UTM32)
    assert placed.GetGeoTransform(can_return_null=True) is None and placed.GetGCPCount() == 3
    placed = None
    with pytest.raises(InputError, match=r"^The hyperspectral layer 'gcp' is georeferenced by 3 ground control points "
                                         r"only, with no pixel grid"):
        Scene.open(RasterInput(str(tmp_path / "gcp.tif"), "gcp"), [])


def _without_pixel_grid(tmp_path, name: str, crs: bool) -> str:
    """A copy of a small hyperspectral raster with no geotransform (and its CRS, or none)."""
    path = str(tmp_path / name)
    dataset = gdal.GetDriverByName("GTiff").Create(path, 5, 4, 3, gdal.GDT_Float32)
    dataset.WriteArray(np.arange(60, dtype=np.float32).reshape(3, 4, 5))
    if crs:
        srs = osr.SpatialReference()
        srs.SetFromUserInput(UTM32)
        dataset.SetProjection(srs.ExportToWkt())
    dataset = None
    return path


@pytest.mark.parametrize("crs", [False, True])
def test_a_hyperspectral_raster_without_a_pixel_grid_beside_a_georeferenced_layer_is_refused(tmp_path, crs):
    """Red team of 2026-12-05: without either, it was said to lack a CRS only, and once given one it
    was mapped at 0, 0 of that CRS (the LiDAR beside it taken to lie on its pixels), with an info line."""
    hsi = _without_pixel_grid(tmp_path, "hsi.tif", crs)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 5), np.float32))
    assert _refusal(hsi, dsm) == (
        "The hyperspectral layer 'hsi' has no georeferencing (no pixel grid in its file), but 'dsm' has; the "
        "hyperspectral grid is the grid of every result, so it must say where it lies. Georeference 'hsi' (Raster > "
        "Georeferencer, or gdal_translate -a_ullr and -a_srs) and run again.")
    Scene.open(RasterInput(hsi, "hsi"), [RasterInput(_without_pixel_grid(tmp_path, "dsm2.tif", False), "dsm")]).close()
    # Review of 2026-12-05: nor is a layer in pixel space written as a geotransform, as the plugin's maps of such
    # scenes and other tools' outputs are (GDAL's rows downwards, QGIS's upwards).
    for number, pixels in enumerate([(0.0, 1.0, 0.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)]):
        written = write_raster(tmp_path / f"pixels{number}.tif", np.ones((4, 5), np.float32), pixels, crs=None)
        if not crs:
            with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(written, "dsm")]) as scene:
                assert scene.geotransform == (0.0, 1.0, 0.0, 0.0, 0.0, -1.0) and not scene.grid.georeferenced


def test_a_hyperspectral_raster_in_gdal_s_pixel_space_beside_a_georeferenced_layer_says_what_its_file_holds(tmp_path):
    """A helper's red team of 2026-12-07: its file holds a geotransform, said to be no pixel grid."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 5), np.float32), (0.0, 1.0, 0.0, 0.0, 0.0, 1.0), crs=None)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 5), np.float32))
    assert _refusal(hsi, dsm).startswith("The hyperspectral layer 'hsi' has no georeferencing (GDAL's pixel space only "
                                         "in its file), but 'dsm' has;")


def test_a_raster_placed_by_rational_polynomial_coefficients_only_is_refused_with_the_way_to_warp_it(tmp_path):
    """Red team of 2026-12-05: QGIS shows such a raster on the ground through its RPCs; the plugin
    mapped it in pixel space at 0, 0 without a word."""
    hsi = _without_pixel_grid(tmp_path, "rpc.tif", False)
    dataset = gdal.Open(hsi, gdal.GA_Update)
    dataset.SetMetadata({"LINE_OFF": "2", "SAMP_OFF": "2", "LAT_OFF": "46", "LONG_OFF": "11", "HEIGHT_OFF": "0",
                         "LINE_SCALE": "2", "SAMP_SCALE": "2", "LAT_SCALE": "0.001", "LONG_SCALE": "0.001",
                         "HEIGHT_SCALE": "1", "LINE_NUM_COEFF": "0 0 -1" + " 0" * 17,
                         "LINE_DEN_COEFF": "1" + " 0" * 19, "SAMP_NUM_COEFF": "0 1" + " 0" * 18,
                         "SAMP_DEN_COEFF": "1" + " 0" * 19}, "RPC")
    dataset = None
    with pytest.raises(InputError) as refused:
        Scene.open(RasterInput(hsi, "rpc"), [])
    assert str(refused.value) == (
        "The hyperspectral layer 'rpc' is georeferenced by rational polynomial coefficients (RPCs) only, with no "
        "pixel grid, which the plugin does not apply (assigning a CRS would not place it). Orthorectify it first "
        "(gdalwarp -rpc FILE NEW.tif, or Raster > Projections > Warp (Reproject)) and choose the warped raster.")


def test_a_file_name_that_is_not_utf8_is_said_to_be_so_for_inputs_and_outputs(tmp_path):
    """Red team of 2026-12-04: a Latin-1 name ('tr\\xe4in.tif', from an old archive) 'cannot be opened
    as a raster (not a string)', though the file is a sound GeoTIFF."""
    from mrs.mrs_qgis_plugin.raster.outputs import check_output_path

    _data, hsi = _hsi(tmp_path, bands=3, height=4, width=5)
    latin = os.path.join(os.fsencode(str(tmp_path)), b"tr\xe4in.tif")
    os.rename(hsi, latin)
    name = os.fsdecode(latin)
    shown = f"{tmp_path}/tr\\xe4in.tif"
    with pytest.raises(InputError, match=rf"^The hyperspectral layer 'hsi': the file name {re.escape(shown)} is not "
                                         r"valid UTF-8 text"):
        Scene.open(RasterInput(name, "hsi"), [])
    with pytest.raises(InputError, match=rf"^OUTPUT: the file name {re.escape(shown.replace('.tif', '2.tif'))} is not"):
        check_output_path(name.replace(".tif", "2.tif"), "OUTPUT")


def test_hsi_with_fewer_than_three_bands_is_an_error(tmp_path):
    _data, hsi = _hsi(tmp_path, bands=2)
    with pytest.raises(InputError, match=r"The hyperspectral layer 'two' has 2 bands; at least 3 are needed"):
        Scene.open(RasterInput(hsi, "two"), [])


def test_a_vector_file_or_a_folder_given_as_a_raster_is_said_to_be_one(tmp_path):
    """Red team of 2026-12-04: GDAL's 'not recognized as a supported file format' was passed on."""
    points = write_vector(tmp_path / "points.gpkg", [("POINT (1 2)", {})], {})
    with pytest.raises(InputError) as refused:
        Scene.open(RasterInput(points, "points"), [])
    assert str(refused.value) == (f"The hyperspectral layer 'points' is a vector layer ({points}), not a raster. "
                                  "Choose a raster layer or file.")
    (tmp_path / "scenes").mkdir()
    with pytest.raises(InputError, match=r"^The hyperspectral layer 'scenes' is a folder \(.*scenes\), not a raster "
                                         r"file\. Choose a raster file\.$"):
        Scene.open(RasterInput(str(tmp_path / "scenes"), "scenes"), [])


def test_a_raster_gdal_cannot_open_or_that_does_not_exist_is_an_error_naming_the_layer(tmp_path):
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster")
    with pytest.raises(InputError, match=r"The hyperspectral layer 'junk' cannot be opened as a raster"):
        Scene.open(RasterInput(str(junk), "junk"), [])
    _data, hsi = _hsi(tmp_path)
    with pytest.raises(InputError, match=r"The auxiliary layer 'lidar': the file .*missing.tif does not exist"):
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(tmp_path / "missing.tif"), "lidar")])


def test_a_layer_opened_with_gdal_open_options_is_refused_as_such(tmp_path):
    """QGIS keeps a raster's open options in its source ('hsi.tif|option:NUM_THREADS=1'): the
    existing file was said not to exist (red team of 2026-12-04)."""
    _data, hsi = _hsi(tmp_path)
    with pytest.raises(InputError, match=r"^The hyperspectral layer 'hsi': its source .*hsi\.tif\|option:NUM_THREADS=1 "
                                         r"opens .*hsi\.tif with GDAL open options \(NUM_THREADS=1\), which the MRS "
                                         r"algorithms cannot pass on\. Choose the file itself, or save the layer as a "
                                         r"GeoTIFF \(Export > Save As\.\.\.\) and choose that\.$"):
        Scene.open(RasterInput(f"{hsi}|option:NUM_THREADS=1", "hsi"), [])


UTM32_FROM_LONLAT = ("+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
                     "+step +proj=utm +zone=32 +ellps=WGS84")
"""QGIS's coordinate operation from EPSG:4326 to EPSG:32632, x = longitude (as QGIS gives it)."""


def _in_lonlat(tmp_path, name: str, data: np.ndarray, categorical: bool) -> str:
    """`data` on the default UTM grid, warped to longitude and latitude."""
    utm = write_raster(tmp_path / f"{name}_utm.tif", data)
    path = str(tmp_path / f"{name}.tif")
    gdal.Warp(path, utm, dstSRS="EPSG:4326", resampleAlg="near" if categorical else "bilinear",
              xRes=2e-6, yRes=2e-6)
    return path


def test_an_aux_raster_in_another_crs_is_warped_with_the_coordinate_operation_given(tmp_path):
    """QGIS's operation (a PROJ pipeline, x = longitude) drives the warp: GDAL's own choice put an
    ED50 raster 2 m from where QGIS draws it (red team of 2026-12-04). The operation here ends
    with a 2 m shift to the east: the data move 2 columns; without it, they stay."""
    _data, hsi = _hsi(tmp_path, bands=3)
    columns = np.tile(np.arange(30, dtype=np.float32), (20, 1))
    aux = _in_lonlat(tmp_path, "aux", columns, categorical=False)
    read = {}
    for shift in (0, 2):
        operation = UTM32_FROM_LONLAT + (f" +step +proj=affine +xoff={shift}" if shift else "")
        lines, hooks = _logger()
        with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux", operation)], hooks) as scene:
            values, valid = scene.read(0, 0, 30, 20)
        read[shift] = values[3][5:15, 5:25]
        assert any("with the coordinate operation QGIS uses" in line for line in lines)
    np.testing.assert_allclose(read[0], columns[5:15, 5:25], atol=0.05)
    np.testing.assert_allclose(read[2], columns[5:15, 3:23], atol=0.05)


def test_a_label_raster_in_another_crs_is_warped_with_the_coordinate_operation_given(tmp_path):
    _data, hsi = _hsi(tmp_path, bands=3)
    labels = np.zeros((20, 30), np.uint8)
    labels[10, 10] = 3
    path = _in_lonlat(tmp_path, "labels", labels, categorical=True)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        plain = labels_from_raster(scene, path, "labels")
        shifted = labels_from_raster(scene, path, "labels", operation=UTM32_FROM_LONLAT + " +step +proj=affine +xoff=2")
    assert (plain.rows.tolist(), plain.cols.tolist(), plain.values.tolist()) == ([10], [10], [3])
    assert (shifted.rows.tolist(), shifted.cols.tolist(), shifted.values.tolist()) == ([10], [12], [3])


def test_an_aux_raster_without_crs_on_the_same_grid_is_read_as_it_is(tmp_path):
    _data, hsi = _hsi(tmp_path, bands=3, height=5, width=6)
    aux = np.arange(30, dtype=np.float32).reshape(5, 6)
    dsm = write_raster(tmp_path / "dsm.tif", aux, crs=None)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 6, 5)
    np.testing.assert_array_equal(values[3], aux)
    assert valid.all()


def test_window_from_extent_takes_the_touched_pixels_and_rejects_an_extent_outside(tmp_path):
    _data, hsi = _hsi(tmp_path)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert window_from_extent(scene, (ORIGIN_X + 2, ORIGIN_Y - 7, ORIGIN_X + 10, ORIGIN_Y - 3)) == Window(2, 3, 8, 4)
        assert window_from_extent(scene, (ORIGIN_X - 50, ORIGIN_Y - 7.5, ORIGIN_X + 2.5, ORIGIN_Y + 50)) == Window(0, 0, 3, 8)
        with pytest.raises(InputError, match=r"The extent EXTENT .* does not overlap the hyperspectral layer 'hsi'"):
            window_from_extent(scene, (ORIGIN_X + 100, ORIGIN_Y - 7, ORIGIN_X + 110, ORIGIN_Y - 3))


def test_an_extent_thinner_than_the_edge_tolerance_takes_the_pixels_it_lies_in(tmp_path):
    """A helper's red team of 2026-12-05: EXTENT 661020,661020.0000001 (on a pixel edge, inside the
    layer) was said not to overlap it, where one of 1e-6 or one at 661020.4 gave a column."""
    _data, hsi = _hsi(tmp_path)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        for x0, x1 in ((2, 2 + 1e-7), (2 - 1e-7, 2), (2.4, 2.4 + 1e-7)):
            window = window_from_extent(scene, (ORIGIN_X + x0, ORIGIN_Y - 7, ORIGIN_X + x1, ORIGIN_Y - 3))
            assert window == Window(2, 3, 1, 4), (x0, x1)
        width = scene.grid.width  # on the far edge, the last column (a review of 2026-12-05)
        for x0, x1 in ((width - 1e-7, width), (width, width + 1e-7), (0, 1e-7)):
            window = window_from_extent(scene, (ORIGIN_X + x0, ORIGIN_Y - 7, ORIGIN_X + x1, ORIGIN_Y - 3))
            assert window == Window(width - 1 if x0 else 0, 3, 1, 4), (x0, x1)
        assert window_from_extent(scene, (ORIGIN_X + 2, ORIGIN_Y - 5 - 1e-7, ORIGIN_X + 4, ORIGIN_Y - 5)) == \
            Window(2, 5, 2, 1)


def test_an_extent_reaching_beyond_the_layer_is_said_and_one_almost_wholly_outside_is_warned_of(tmp_path):
    """xmin,ymin,xmax,ymax given for QGIS's xmin,xmax,ymin,ymax mapped 38 x 38 pixels for 30 x 30
    without a word (red team of 2026-12-04)."""
    _data, hsi = _hsi(tmp_path)
    lines, warnings = [], []
    hooks = Hooks(log=lines.append, warn=warnings.append)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        layer = format_bounds(scene.grid.bounds())
        assert window_from_extent(scene, (ORIGIN_X + 2, ORIGIN_Y - 7, ORIGIN_X + 10, ORIGIN_Y - 3), hooks=hooks)
        left, bottom, right, top = scene.grid.bounds()
        assert window_from_extent(scene, (left - 0.3, bottom - 0.3, right + 0.3, top + 0.3), hooks=hooks)  # rounded
        assert lines == warnings == []
        wider = (ORIGIN_X - 50, ORIGIN_Y - 7.5, ORIGIN_X + 2.5, ORIGIN_Y + 50)
        assert window_from_extent(scene, wider, hooks=hooks) == Window(0, 0, 3, 8)
        assert lines == [f"The extent EXTENT ({format_bounds(wider)}) reaches beyond the hyperspectral layer 'hsi' "
                         f"({layer}); its part within the layer is used (3 x 8 pixels)."] and warnings == []
        swapped = (ORIGIN_X + 2, ORIGIN_X + 4, ORIGIN_Y - 7, ORIGIN_Y - 3)  # xmin,xmax,ymin,ymax read as bounds
        window = window_from_extent(scene, swapped, hooks=hooks)
        assert warnings == [f"The extent EXTENT ({format_bounds(swapped)}) reaches beyond the hyperspectral layer "
                            f"'hsi' ({layer}); its part within the layer is used ({window.width} x {window.height} "
                            "pixels), but over 99.99 % of it lies outside: check that it is the extent meant, in the "
                            "layer's CRS or with its own, and on the command line in the order xmin,xmax,ymin,ymax."]


def test_a_pixel_a_band_s_own_mask_hides_is_invalid_on_every_band(tmp_path):
    """Per-band masks (a .msk file with one mask per band) were ignored: only a per-dataset mask
    or a one-band raster's own hid pixels, and the map classified what they hid (red team of
    2026-12-04)."""
    _data, hsi = _hsi(tmp_path)
    gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", "NO")
    try:
        dataset = gdal.Open(hsi, gdal.GA_Update)
        for number, hidden in ((2, np.s_[2:5, 3:9]), (4, np.s_[10:12, 0:2])):
            band = dataset.GetRasterBand(number)
            band.CreateMaskBand(0)
            mask = np.full((20, 30), 255, np.uint8)
            mask[hidden] = 0
            band.GetMaskBand().WriteArray(mask)
        dataset = None
    finally:
        gdal.SetConfigOption("GDAL_TIFF_INTERNAL_MASK", None)
    assert gdal.Open(hsi).GetRasterBand(2).GetMaskFlags() == 0  # a mask of its own
    expected = np.ones((20, 30), bool)
    expected[2:5, 3:9] = expected[10:12, 0:2] = False
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        invalid = np.zeros(1, np.int64)
        _values, valid = scene.read(0, 0, 30, 20, invalid=invalid)
    np.testing.assert_array_equal(valid, expected)
    assert invalid.tolist() == [22]


def test_the_gaps_of_a_vrt_mosaic_without_nodata_are_invalid(tmp_path):
    """gdalbuildvrt of tiles with gaps between them, without -vrtnodata: the gaps read 0 in every
    band, and a third of a map was classified from them (red team of 2026-12-04)."""
    _data, hsi = _hsi(tmp_path)
    left, right = str(tmp_path / "left.tif"), str(tmp_path / "right.tif")
    gdal.Translate(left, hsi, srcWin=[0, 0, 12, 20])
    gdal.Translate(right, hsi, srcWin=[20, 0, 10, 20])
    mosaic = str(tmp_path / "mosaic.vrt")
    gdal.BuildVRT(mosaic, [left, right])
    expected = np.ones((20, 30), bool)
    expected[:, 12:20] = False
    lines, warnings = [], []
    with Scene.open(RasterInput(mosaic, "mosaic"), []) as scene:
        invalid = np.zeros(1, np.int64)
        _values, valid = scene.read(0, 0, 30, 20, invalid=invalid)
        np.testing.assert_array_equal(valid, expected)
        assert invalid.tolist() == [160]
    part = str(tmp_path / "part.tif")  # a grid of another size: the mosaic as its auxiliary layer is warped
    gdal.Translate(part, hsi, srcWin=[0, 0, 25, 18])
    with Scene.open(RasterInput(part, "part"), [RasterInput(mosaic, "mosaic")],
                    Hooks(log=lines.append, warn=warnings.append)) as scene:
        assert scene.read(0, 0, 25, 18)[1].all()  # the gaps cannot be told once warped, and are said to be so
    assert warnings == ["The auxiliary layer 'mosaic' is a VRT without a nodata value, so it reads 0 wherever none "
                        "of its sources lies; warped onto the hyperspectral grid, those 0s cannot be told from data. "
                        "Give it a nodata value (gdalbuildvrt -vrtnodata, or in QGIS Raster > Miscellaneous > Build "
                        "Virtual Raster, 'Nodata value')."]
    whole = str(tmp_path / "whole.vrt")  # a VRT without gaps is said nothing of
    gdal.Translate(whole, hsi, format="VRT")
    with Scene.open(RasterInput(part, "part"), [RasterInput(whole, "whole")], Hooks(warn=warnings.append)):
        assert len(warnings) == 1
    stacked = str(tmp_path / "stacked.vrt")  # bands of sources of other extents: each band's gaps count
    gdal.BuildVRT(stacked, [hsi, hsi, left], separate=True)
    with Scene.open(RasterInput(stacked, "stacked"), []) as scene:
        _values, valid = scene.read(0, 0, 30, 20)
    np.testing.assert_array_equal(valid, np.arange(30)[None, :].repeat(20, axis=0) < 12)


def test_a_vrt_whose_source_file_is_missing_is_refused_on_opening(tmp_path):
    """Own bad input of 2026-12-05: a mosaic VRT missing one of its tiles opened, and its read failed
    later, "GDAL gives no reason" (on a large mosaic, part way through a classification); a warped VRT
    failed on opening in GDAL's words, and a tile that is a link to nothing on reading (review)."""
    _data, hsi = _hsi(tmp_path)
    os.mkdir(tmp_path / "tiles")
    left, right = str(tmp_path / "tiles" / "left.tif"), str(tmp_path / "tiles" / "right.tif")
    gdal.Translate(left, hsi, srcWin=[0, 0, 15, 20])
    gdal.Translate(right, hsi, srcWin=[15, 0, 15, 20])
    mosaic = str(tmp_path / "mosaic.vrt")
    gdal.BuildVRT(mosaic, [left, right]).FlushCache()  # sources relative to the VRT
    outer = str(tmp_path / "outer.vrt")
    gdal.Translate(outer, mosaic, format="VRT").FlushCache()
    warped = str(tmp_path / "warped.vrt")
    gdal.Warp(warped, right, format="VRT", dstSRS="EPSG:32632").FlushCache()
    with Scene.open(RasterInput(outer, "outer"), []) as scene:
        assert scene.read(0, 0, 30, 20)[1].all()
    os.makedirs(tmp_path / "links" / "deep")  # relative sources are found from the folder of the VRT a link names
    os.symlink(mosaic, tmp_path / "links" / "deep" / "mosaic.vrt")
    with Scene.open(RasterInput(str(tmp_path / "links" / "deep" / "mosaic.vrt"), "linked"), []) as scene:
        assert scene.read(0, 0, 30, 20)[1].all()
    os.rename(right, right + ".moved")
    expected = (r"The hyperspectral layer 'mosaic' is a virtual raster \(VRT\) whose source file "
                rf"{re.escape(right)} does not exist, so its pixels cannot be read\. Put the files back where the VRT "
                r"names them, or build the virtual raster again from the files there are\.$")
    with pytest.raises(InputError, match="^" + expected):
        Scene.open(RasterInput(mosaic, "mosaic"), [])
    for name in ("outer", "warped"):  # a VRT of a VRT; a warped VRT
        with pytest.raises(InputError, match=rf"^The hyperspectral layer '{name}' is a virtual raster \(VRT\) whose "
                                             rf"source file {re.escape(right)} does not exist"):
            Scene.open(RasterInput(str(tmp_path / f"{name}.vrt"), name), [])
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene, pytest.raises(
            InputError, match=r"^The label layer 'labels' is a virtual raster \(VRT\) whose source file"):
        labels_from_raster(scene, mosaic, "labels")
    declared = str(tmp_path / "declared.vrt")  # after an XML declaration, as some tools write (review)
    open(declared, "w").write('<?xml version="1.0" encoding="UTF-8"?>\n' + open(mosaic).read())
    with pytest.raises(InputError, match=rf"^The hyperspectral layer 'declared' is a virtual raster \(VRT\) whose "
                                         rf"source file {re.escape(right)} does not exist"):
        Scene.open(RasterInput(declared, "declared"), [])
    os.symlink(str(tmp_path / "nowhere.tif"), right)
    os.remove(left)
    with pytest.raises(InputError, match=rf"source files {re.escape(left)} and 1 other do not exist"):
        Scene.open(RasterInput(mosaic, "mosaic"), [])


def test_a_file_changed_after_the_last_read_of_it_leaves_the_run_whole_and_one_changed_before_a_read_stops_it(
        tmp_path, monkeypatch):
    """A helper's red team of 2026-12-06: a file touched (or given overviews by gdaladdo) in a
    pretraining's first minute threw away every epoch at the run's end, though the scene had been
    read whole before. A read now ends by looking at the files, so a run that reads on stops at the
    next read after a change, whatever the file's time says (a review of 2026-12-06: a writer's
    last bytes after the last read put its time after it, and a read that took new contents went
    unsaid)."""
    from mrs.mrs_qgis_plugin.raster import sources

    monkeypatch.setattr(sources, "CHEAP_LOOK_SECONDS", 60.0)  # a look on a loaded machine waited (a helper, 2026-12-06)
    _data, hsi = _hsi(tmp_path)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        scene.read(0, 0, 30, 20)
        stamp = os.stat(hsi)
        os.utime(hsi, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))  # a time in the past, set after the read
        scene.check_unchanged()
        assert scene.changed() is None
        with pytest.raises(InputError) as refused:
            scene.read(0, 0, 30, 20)
        assert str(refused.value).startswith(f"The layer 'hsi' changed while this run read it: its file {hsi} has "
                                             "another time of change, at the same size")
        assert scene.changed() == str(refused.value)  # and at the end


def test_a_change_met_by_processes_sharing_the_work_or_between_costly_looks_is_said_at_the_end(tmp_path, monkeypatch):
    """Reviews of 2026-12-06: under torchrun one process stopping alone at a read was taken by its
    partners for lost (they kept a checkpoint of the mixed reads), so it keeps what it saw for the
    end check; and a look at a mosaic of a thousand files took 2.2 ms at each of 200,000 reads an
    epoch, so a costly look waits, and the end check, not knowing whether a read came after the
    change, says it."""
    from mrs.mrs_qgis_plugin.raster import sources

    _data, hsi = _hsi(tmp_path)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        scene.shares_work = True
        scene.read(0, 0, 30, 20)
        stamp = os.stat(hsi)
        os.utime(hsi, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))
        scene.read(0, 0, 30, 20)  # no stop alone
        assert scene.changed().startswith("The layer 'hsi' changed while this run read it")
    monkeypatch.setattr(sources, "CHEAP_LOOK_SECONDS", -1.0)  # every look costly,
    monkeypatch.setattr(sources, "LOOK_COST_FACTOR", 1e12)  # the next one far off
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        scene.read(0, 0, 30, 20)  # looks
        stamp = os.stat(hsi)
        os.utime(hsi, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))
        scene.read(0, 0, 30, 20)  # does not look
        assert scene.changed().startswith("The layer 'hsi' changed while this run read it")


def test_a_layer_written_by_another_program_while_a_run_reads_it_is_said_to_have_changed(tmp_path):
    """Red team of 2026-12-05: a raster rewritten in place at 30 % of a classification gave a map
    half of the old scene and half of the new, and a VRT's tiles replaced (by mv) did the same,
    without a word; a read that then failed was said to need a complete file."""
    data, hsi = _hsi(tmp_path)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((20, 30), np.float32))
    tile = str(tmp_path / "tile.tif")
    gdal.Translate(tile, dsm).FlushCache()
    mosaic = str(tmp_path / "mosaic.vrt")
    gdal.BuildVRT(mosaic, [tile]).FlushCache()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(mosaic, "mosaic")]) as scene:
        before = os.path.getsize(mosaic)
        shown = gdal.Open(mosaic)  # as QGIS asks for statistics: GDAL writes them into the VRT
        shown.GetRasterBand(1).ComputeStatistics(False)
        shown = None
        assert os.path.getsize(mosaic) != before
        scene.check_unchanged()  # its pixels are the same (review of 2026-12-05)
        write_raster(tmp_path / "new.tif", data + 1)
        os.replace(tmp_path / "new.tif", tile)
        with pytest.raises(InputError) as refused:
            scene.check_unchanged()
    assert str(refused.value) == (f"The layer 'mosaic' changed while this run read it: another program wrote its file "
                                  f"{tile}, so what was read may mix its old and new contents, and nothing was written. "
                                  "Run again once the file is as it should be.")
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        with open(hsi, "r+b") as handle:
            handle.truncate(400)
        with pytest.raises(InputError, match=r"^The layer 'hsi' changed while this run read it"):
            scene.read(0, 0, 30, 20)
    # Its time alone set again (touch, a copy tool) is said as that (a helper's red team of 2026-12-06: 'another
    # program wrote its file' of a touch).
    with Scene.open(RasterInput(tile, "tile"), []) as scene:
        stamp = os.stat(tile)
        os.utime(tile, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))  # before the read: it may mix
        with pytest.raises(InputError) as refused:
            scene.check_unchanged()
    assert str(refused.value) == (f"The layer 'tile' changed while this run read it: its file {tile} has another time "
                                  "of change, at the same size (written in place, or only its time set), so what was "
                                  "read may mix its old and new contents, and nothing was written. Run again once the "
                                  "file is as it should be.")
    # A warped VRT whose source is removed: the source is named, not the VRT GDAL cannot read now (review).
    _data, hsi = _hsi(tmp_path)  # written again, whole
    source = write_raster(tmp_path / "source.tif", np.ones((20, 30), np.float32))
    warped = str(tmp_path / "warped.vrt")
    gdal.Warp(warped, source, format="VRT", dstSRS="EPSG:32632").FlushCache()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(warped, "warped")]) as scene:
        os.remove(source)
        assert scene.changed().startswith(f"The layer 'warped' changed while this run read it: its file {source} was "
                                          "removed or moved")


def test_a_layer_s_file_that_can_no_longer_be_reached_is_said_so_not_removed(tmp_path, monkeypatch):
    """A review of 2026-12-06: a folder made unreadable, or a file server's stale handle, was said as
    a file removed or moved."""
    _data, hsi = _hsi(tmp_path)
    real = os.stat

    def denied(path, *arguments, **options):
        if os.fspath(path) == hsi:
            raise PermissionError(13, "Permission denied", hsi)
        return real(path, *arguments, **options)

    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        monkeypatch.setattr(os, "stat", denied)
        assert scene.changed().startswith(f"The layer 'hsi' changed while this run read it: its file {hsi} can no "
                                          "longer be reached (Permission denied), so what was read")


@pytest.mark.parametrize("kind", ["mosaic", "separate", "translated", "by hand"])
def test_a_vrt_of_many_bands_is_the_same_after_qgis_asks_for_statistics_of_some(tmp_path, kind):
    """Review of 2026-12-05: GDAL rewrites a VRT whose statistics or histogram QGIS asks for, with
    other source properties, block sizes and layout too, and a run on a hyperspectral VRT, three of
    whose bands QGIS drew, was refused as changed."""
    _data, hsi = _hsi(tmp_path, bands=10)
    path = str(tmp_path / "scene.vrt")
    if kind == "mosaic":
        gdal.BuildVRT(path, [hsi]).FlushCache()
    elif kind == "separate":
        bands = [gdal.Translate(str(tmp_path / f"b{n}.tif"), hsi, bandList=[n]).GetDescription() for n in (1, 2, 3)]
        gdal.BuildVRT(path, bands, separate=True).FlushCache()
    elif kind == "translated":
        gdal.Translate(path, hsi, format="VRT").FlushCache()
    else:
        gdal.BuildVRT(path, [hsi]).FlushCache()
        text = open(path).read().replace("><", ">\n   <").replace("0.0000000000000000e+00", "0")
        open(path, "w").write(text)
    with Scene.open(RasterInput(path, "scene"), []) as scene:
        shown = gdal.Open(path)
        for number in (1, 2):
            shown.GetRasterBand(number).ComputeStatistics(False)
        shown.GetRasterBand(3).GetHistogram()
        shown = None
        scene.check_unchanged()
        text = open(path).read()
        open(path, "w").write(text.replace("<SourceBand>1</SourceBand>", "<SourceBand>2</SourceBand>", 1))
        with pytest.raises(InputError, match=r"^The layer 'scene' changed while this run read it"):
            scene.check_unchanged()


def test_a_vrt_whose_overview_file_is_missing_opens(tmp_path):
    """A VRT reads its full resolution without its overviews (review of 2026-12-05)."""
    _data, hsi = _hsi(tmp_path)
    mosaic = str(tmp_path / "mosaic.vrt")
    gdal.BuildVRT(mosaic, [hsi]).FlushCache()
    text = open(mosaic).read().replace("</VRTRasterBand>", "<Overview><SourceFilename relativeToVRT=\"1\">gone.tif"
                                       "</SourceFilename><SourceBand>1</SourceBand></Overview></VRTRasterBand>", 1)
    open(mosaic, "w").write(text)
    with Scene.open(RasterInput(mosaic, "mosaic"), []) as scene:
        assert scene.read(0, 0, 30, 20)[1].all()


def test_an_alpha_band_before_data_bands_is_warned_of(tmp_path):
    """A GeoTIFF written with ALPHA=YES marks its second band as alpha: a reflectance band was taken
    for the mask and every later band moved up one place without a word (red team of 2026-12-04)."""
    path = str(tmp_path / "alpha.tif")
    data = np.random.default_rng(0).random((5, 10, 10)).astype(np.float32)
    dataset = gdal.GetDriverByName("GTiff").Create(path, 10, 10, 5, gdal.GDT_Float32, ["ALPHA=YES"])
    dataset.SetGeoTransform(GEOTRANSFORM)
    dataset.WriteArray(data)
    dataset = None
    assert gdal.Open(path).GetRasterBand(2).GetColorInterpretation() == gdal.GCI_AlphaBand
    warnings = []
    with Scene.open(RasterInput(path, "alpha"), [], Hooks(warn=warnings.append)) as scene:
        assert scene.n_hsi == 4
    assert warnings == ["Band 2 of 'alpha' is marked as an alpha band (a mask of the others), so it is read as a "
                        "mask, not as data, and the bands after it move up. If it holds data, copy the raster with the "
                        "band marked as data (gdal_translate -colorinterp_2 undefined), or move the mask to the last "
                        "band."]
    fixed = str(tmp_path / "fixed.tif")
    gdal.Translate(fixed, path, options="-colorinterp_2 undefined")
    with Scene.open(RasterInput(fixed, "fixed"), [], Hooks(warn=warnings.append)) as scene:
        assert scene.n_hsi == 5 and len(warnings) == 1


@pytest.mark.parametrize("hiding", ["mask", "float alpha last", "alpha first"])
def test_a_warped_auxiliary_layer_hides_the_pixels_its_mask_or_alpha_band_hides(tmp_path, hiding):
    """Warped onto the hyperspectral grid, a .msk mask and an alpha band before the data were
    ignored, and a float alpha of 0 and 1 hid every pixel (gdalwarp weighs alpha as 0-255): red team
    of 2026-12-04. The same pixels are hidden as on the layer's own grid."""
    _data, hsi = _hsi(tmp_path)
    hidden = np.zeros((24, 34), bool)
    hidden[5:8, 6:10] = True
    values = np.random.default_rng(0).random((24, 34)).astype(np.float32)
    path = str(tmp_path / "aux.tif")
    geotransform = (ORIGIN_X - 2, 1.0, 0.0, ORIGIN_Y + 2, 0.0, -1.0)  # two pixels wider each way: warped
    if hiding == "mask":
        write_raster(path, values[None], geotransform)
        dataset = gdal.Open(path, gdal.GA_Update)
        dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
        dataset.GetRasterBand(1).GetMaskBand().WriteArray(np.where(hidden, 0, 255).astype(np.uint8))
    else:
        alpha = np.where(hidden, 0, 1 if hiding == "float alpha last" else 255).astype(np.float32)
        write_raster(path, np.stack([values, alpha] if hiding == "float alpha last" else [alpha, values]),
                     geotransform)
        dataset = gdal.Open(path, gdal.GA_Update)
        dataset.GetRasterBand(2 if hiding == "float alpha last" else 1).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    expected = ~hidden[2:22, 2:32]
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(path, "aux")]) as scene:
        assert scene.n_aux == 1
        invalid = np.zeros(2, np.int64)
        _values, valid = scene.read(0, 0, 30, 20, invalid=invalid)
    np.testing.assert_array_equal(valid, expected)
    assert invalid.tolist() == [0, 12]


def test_a_geopackage_band_s_height_is_no_description(tmp_path):
    """The GeoPackage driver calls every gridded-coverage band 'Height': compared with a model's
    band descriptions, a LiDAR band in a GeoPackage was warned of as another kind (red team of
    2026-12-04)."""
    _data, hsi = _hsi(tmp_path)
    elevation = write_raster(tmp_path / "dsm.tif", np.random.default_rng(0).random((1, 20, 30)).astype(np.float32))
    packaged = str(tmp_path / "dsm.gpkg")
    gdal.Translate(packaged, elevation, format="GPKG")
    assert gdal.Open(packaged).GetRasterBand(1).GetDescription() == "Height"
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(packaged, "dsm")]) as scene:
        assert scene.band_names[-1] == "dsm band 1"


def test_a_warped_alpha_band_keeps_hidden_values_out_of_the_blend_and_ignores_the_raster_s_nodata(tmp_path):
    """Two mends of this session's own first version (helpers' review of 2026-12-04): warped without
    gdalwarp's own alpha rule, a hidden -9999 blended into its visible neighbours (-2424.75); and an
    alpha band copied with the raster's nodata of 255 hid every pixel."""
    _data, hsi = _hsi(tmp_path)
    values = np.full((40, 60), 100.0, np.float32)
    alpha = np.full((40, 60), 255.0, np.float32)
    values[:, :30], alpha[:, :30] = -9999.0, 0.0
    path = write_raster(tmp_path / "aux.tif", np.stack([values, alpha]), (ORIGIN_X + 0.25, 0.5, 0.0, ORIGIN_Y - 0.25,
                                                                          0.0, -0.5), nodata=255)
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(2).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(path, "aux")]) as scene:
        data, valid = scene.read(0, 0, 30, 20)
    assert 100 < valid.sum() < 600
    assert set(np.unique(data[-1][valid]).tolist()) == {100.0}


def test_tiles_cover_the_window_exactly_once():
    covered = np.zeros((30, 40), int)
    for tile in tiles(Window(3, 2, 25, 19), 8):
        assert tile.width <= 8 and tile.height <= 8
        covered[tile.row : tile.row + tile.height, tile.col : tile.col + tile.width] += 1
    expected = np.zeros((30, 40), int)
    expected[2:21, 3:28] = 1
    np.testing.assert_array_equal(covered, expected)


def _indexed_hsi(tmp_path, height, width, nodata_mask=None):
    index = np.arange(height * width, dtype=np.float32).reshape(height, width)
    data = np.stack([index, index * 2, index * 3])
    if nodata_mask is not None:
        data[:, nodata_mask] = -1
    return write_raster(tmp_path / "hsi.tif", data, nodata=-1)


def test_statistics_sample_holds_distinct_valid_pixels_and_reads_block_by_block(tmp_path):
    invalid = np.zeros((40, 48), bool)
    invalid[:, :10] = True
    hsi = _indexed_hsi(tmp_path, 40, 48, invalid)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        reads = []
        read = scene.read
        scene.read = lambda *window, **kw: reads.append(window) or read(*window, **kw)
        sample = stats.sample_valid_pixels(scene, 100, seed=3, tile_size=8)
        again = stats.sample_valid_pixels(scene, 100, seed=3, tile_size=8)
        everything = stats.sample_valid_pixels(scene, 10000, seed=3, tile_size=8)
    assert sample.dtype == np.float32 and sample.shape == (100, 3)
    np.testing.assert_array_equal(sample, again)
    index = sample[:, 0].astype(int)
    assert len(np.unique(index)) == 100
    assert (index % 48 >= 10).all()
    np.testing.assert_array_equal(sample[:, 2], sample[:, 0] * 3)
    assert all(w[2] <= 8 and w[3] <= 8 for w in reads)
    assert everything.shape == (40 * 38, 3)
    assert sorted(everything[:, 0].astype(int)) == sorted(np.flatnonzero(~invalid))


def test_statistics_sample_stops_reading_once_it_has_enough_pixels(tmp_path, monkeypatch):
    hsi = _indexed_hsi(tmp_path, 80, 80)
    monkeypatch.setattr(stats, "MIN_BLOCKS", 10)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        reads = []
        read = scene.read
        scene.read = lambda *window, **kw: reads.append(window) or read(*window, **kw)
        sample = stats.sample_valid_pixels(scene, 20, seed=0, tile_size=8)
    assert len(reads) == 10
    assert len(sample) == 20


def _no_valid_pixel_message(hsi, dsm) -> str:
    """The error of drawing the statistics sample of the scene of `hsi` and `dsm`."""
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        with pytest.raises(InputError) as error:
            stats.sample_valid_pixels(scene, 50, seed=0)
    return str(error.value)


def test_an_input_without_valid_pixels_is_an_error_naming_the_layer(tmp_path):
    hsi = _indexed_hsi(tmp_path, 10, 12, np.ones((10, 12), bool))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((10, 12), np.float32))
    assert _no_valid_pixel_message(hsi, dsm) == (
        "No pixel has valid values in every layer, as there is no valid value (nodata, NaN or infinite at every "
        "pixel) in any band of 'hsi'. Check the nodata value of that layer, or choose one with data.")


def test_a_band_without_valid_values_is_named(tmp_path):
    data = np.ones((4, 10, 12), np.float32)
    data[2] = np.nan
    hsi = write_raster(tmp_path / "hsi.tif", data)
    lidar = np.ones((2, 10, 12), np.float32)
    lidar[1] = -5
    dsm = write_raster(tmp_path / "dsm.tif", lidar, nodata=-5)
    assert _no_valid_pixel_message(hsi, dsm) == (
        "No pixel has valid values in every layer, as there is no valid value (nodata, NaN or infinite at every "
        "pixel) in band 3 of 'hsi' or band 2 of 'dsm'. Repair the band, or leave it out of the layer.")
    assert sorted(os.listdir(tmp_path)) == ["dsm.tif", "hsi.tif"]


def test_layers_whose_valid_pixels_do_not_meet_are_both_named(tmp_path):
    left = np.zeros((10, 12), bool)
    left[:, 6:] = True
    hsi = _indexed_hsi(tmp_path, 10, 12, left)
    dsm = write_raster(tmp_path / "dsm.tif", np.where(left, 1.0, -5.0).astype(np.float32), nodata=-5)
    assert _no_valid_pixel_message(hsi, dsm).startswith(
        "No pixel has valid values in every layer ('hsi', 'dsm'): each is nodata, NaN or infinite in at least one")


def test_nan_and_inf_everywhere_count_as_nodata(tmp_path):
    data = np.full((3, 4, 5), np.nan, np.float32)
    data[1] = np.inf
    hsi = write_raster(tmp_path / "hsi.tif", data)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        values, valid = scene.read(0, 0, 5, 4)
        assert not valid.any() and (values == 0).all()
        with pytest.raises(InputError, match=r"No pixel has valid values"):
            stats.sample_valid_pixels(scene, 5, seed=0)



def test_an_open_scene_bounds_the_gdal_block_cache_and_restores_it(tmp_path):
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(1 << 30)
    try:
        path = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
        scene = Scene.open(RasterInput(str(path), "hsi"), [])
        assert gdal.GetCacheMax() == BLOCK_CACHE_BYTES
        scene.close()
        assert gdal.GetCacheMax() == 1 << 30
    finally:
        gdal.SetCacheMax(before)


LOCAL_CRS = ('LOCAL_CS["Arbitrary",UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],'
             'AXIS["Northing",NORTH]]')
"""The CRS GDAL reads from an ENVI header's map info 'Arbitrary': a local engineering CRS, placed nowhere on Earth."""


def test_layers_between_whose_crss_no_transformation_is_known_are_refused_naming_both(tmp_path):
    """Found 2026-12-05: a hyperspectral raster in a local CRS (an ENVI header's map info
    'Arbitrary') beside a LiDAR, a label raster or samples in UTM ended in GDAL's TypeError."""
    from rasters import point_wkt

    from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
    from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector

    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 5, 6), np.float32), crs=LOCAL_CRS)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((1, 5, 6), np.float32))
    assert _refusal(hsi, dsm) == (
        "The layer 'dsm' (EPSG:32632) cannot be placed on the grid of 'hsi' (Arbitrary): no transformation between "
        "their CRSs is known, as a local CRS (an ENVI header's map info 'Arbitrary', say) lies nowhere on Earth. Give "
        "each layer the CRS it is in (in QGIS, Layer Properties > Source; for a raster file, gdal_edit -a_srs).")
    labels = write_raster(tmp_path / "labels.tif", np.ones((1, 5, 6), np.uint8))
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(*pixel_centre(1, 1)), {"class": 1})],
                          {"class": ogr.OFTInteger})
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        with pytest.raises(InputError, match=r"^The layer 'labels' \(EPSG:32632\) cannot be placed on the grid of "):
            labels_from_raster(scene, labels, "labels")
        with pytest.raises(InputError, match=r"^The layer 'points' \(EPSG:32632\) cannot be placed on the grid of "
                                             r"'hsi' \(Arbitrary\): no transformation"):
            labels_from_vector(scene, points, None, "class", None, "points")
    # Two local CRSs alike but for their units are told apart (false-alarm hunt of 2026-12-05).
    feet = write_raster(tmp_path / "feet.tif", np.ones((1, 5, 6), np.float32), crs=LOCAL_CRS.replace(
        'UNIT["metre",1,AUTHORITY["EPSG","9001"]]', 'UNIT["US survey foot",0.304800609601219]'))
    assert _refusal(hsi, feet).startswith("The layer 'dsm' (Arbitrary, in US survey foot) cannot be placed on the "
                                          "grid of 'hsi' (Arbitrary, in metre): ")


def test_a_finer_raster_is_warped_from_its_own_pixels_not_its_overviews(tmp_path):
    """A helper's red team of 2026-12-05: GDAL's warp reads a finer source's overviews (pyramids)
    by default, so a LiDAR, label or reference raster edited after its pyramids were built was
    read as it had been (a reference of one class scored 8.7 % where the map was 97.7 % right),
    and even current pyramids changed 4.3 % of a map."""
    from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster

    _data, hsi = _hsi(tmp_path, bands=3, height=20, width=30)
    fine = (ORIGIN_X, 0.25, 0.0, ORIGIN_Y, 0.0, -0.25)
    dsm = write_raster(tmp_path / "dsm.tif", np.zeros((1, 80, 120), np.float32), fine)
    labels = write_raster(tmp_path / "labels.tif", np.ones((1, 80, 120), np.uint8), fine)
    for path, now in ((dsm, np.full((80, 120), 5.0, np.float32)), (labels, np.full((80, 120), 2, np.uint8))):
        dataset = gdal.Open(path, gdal.GA_Update)
        dataset.BuildOverviews("NEAREST", [2, 4])  # built before the data were edited: stale
        dataset.GetRasterBand(1).WriteArray(now)
        dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 30, 20)
        labelled = labels_from_raster(scene, labels, "labels")
    assert valid.all() and (values[3] == 5.0).all()
    assert set(labelled.values.tolist()) == {2}


def test_a_subdataset_name_is_told_apart_from_a_web_address(tmp_path):
    """False-alarm hunt of 2026-12-05: a GeoTIFF served over http was called a GDAL subdataset
    name, its copy advised as 'tile_aux.tif.tif'."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import subdataset_name_problem

    tables = str(tmp_path / "tables.gpkg")
    for table in ("first", "second"):
        gdal.Translate(tables, write_raster(tmp_path / f"{table}.tif", np.ones((1, 4, 5), np.uint8)), format="GPKG",
                       creationOptions=[f"RASTER_TABLE={table}", "APPEND_SUBDATASET=YES"])
    assert subdataset_name_problem(f"GPKG:{tables}:second", "LABELS") == (
        f"LABELS is a GDAL subdataset name, which QGIS's Processing does not take as a layer. Copy it to a file of its "
        f"own (gdal_translate GPKG:{tables}:second second.tif) and choose that, or, in QGIS, add it to the project "
        "(Layer > Add Raster Layer) and choose the layer.")
    assert subdataset_name_problem("http://127.0.0.1:9/tile_aux.tif", "INPUT_AUX") is None
    assert subdataset_name_problem(str(tmp_path / "first.tif"), "INPUT_AUX") is None


def test_a_subdataset_name_of_a_table_the_file_lacks_is_said_so(tmp_path):
    """Own bad input of 2026-12-05: 'GPKG:both.gpkg:nosuch' was said to be a vector layer."""
    tables = str(tmp_path / "tables.gpkg")
    for table in ("first", "second"):
        gdal.Translate(tables, write_raster(tmp_path / f"{table}.tif", np.ones((1, 4, 5), np.uint8)), format="GPKG",
                       creationOptions=[f"RASTER_TABLE={table}", "APPEND_SUBDATASET=YES"])
    with pytest.raises(InputError) as refused:
        Scene.open(RasterInput(f"GPKG:{tables}:nosuch", "hsi"), [])
    assert str(refused.value) == (
        f"The hyperspectral layer 'hsi' (GPKG:{tables}:nosuch) names no raster of '{tables}', whose rasters are "
        f"GPKG:{tables}:first, GPKG:{tables}:second. Choose one of them.")
    # Review of 2026-12-05: a file of one raster table, beside a vector layer, was still called a vector layer.
    one = write_vector(tmp_path / "one.gpkg", [(f"POINT ({ORIGIN_X + 1} {ORIGIN_Y - 1})", {})], {}, layer="points")
    gdal.Translate(one, str(tmp_path / "first.tif"), format="GPKG",
                   creationOptions=["RASTER_TABLE=dsm", "APPEND_SUBDATASET=YES"])
    with pytest.raises(InputError) as refused:
        Scene.open(RasterInput(f"GPKG:{one}:nosuch", "hsi"), [])
    assert str(refused.value) == (f"The hyperspectral layer 'hsi' (GPKG:{one}:nosuch) names no raster of '{one}', whose "
                                  f"one raster is the file itself: choose '{one}'.")


@pytest.mark.parametrize("name, part", [
    ("GPKG:/data/lidar.gpkg:dsm.2019", "dsm.2019"), ('NETCDF:"/data/cube.nc":reflectance', "reflectance"),
    ("HDF5:/data/scene.h5", "scene"), ("GPKG:/data/x.gpkg:", "subdataset"),
])
def test_a_subdataset_s_own_name_keeps_a_table_s_dots(name, part):
    """Review of 2026-12-05: tables 'dsm.2019' and 'dsm.2020' were listed as 'dsm, dsm'."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import _last_part

    assert _last_part(name) == part


def test_samples_of_a_scene_read_only_the_part_a_partial_layer_covers(tmp_path):
    """Red team of 2026-12-05: with a LiDAR covering 2.5 % of a 2 GB hyperspectral raster, the statistics
    sample read all 256 of its blocks (18 s) before any work; the positions drawn for pretraining too."""
    from mrs.mrs_qgis_plugin.raster.samples import random_valid_positions

    hsi = write_raster(tmp_path / "hsi.tif", np.random.default_rng(0).uniform(0.1, 0.5, (3, 64, 64)).astype(np.float32))
    corner = (GEOTRANSFORM[0] + 40.0, 2.0, 0.0, GEOTRANSFORM[3] - 8.0, 0.0, -2.0)  # 2 m pixels over cols 40-63, rows 8-31
    aux = write_raster(tmp_path / "aux.tif", np.ones((1, 12, 12), np.float32), corner)
    lines = []
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux")]) as scene:
        assert scene.data_window == Window(39, 7, 25, 26)
        sample = stats.sample_valid_pixels(scene, 10000, 0, Hooks(log=lines.append), tile_size=8)
        rows, cols = random_valid_positions(scene, 10000, 0, tile_size=8)
    assert any(line.startswith(f"Statistics sample: {len(sample):,} valid pixels from ") and line.endswith(" of 16 blocks.")
               for line in lines), lines
    assert len(sample) == len(rows) == 24 * 24
    assert rows.min() == 8 and cols.min() == 40
    with Scene.open(RasterInput(hsi, "hsi"), []) as whole:
        assert whole.data_window == whole.window


def test_a_grid_s_ground_pixel_size_is_in_metres_whatever_its_crs():
    """What a model records and compares (`loading.check_pixel_size`): metres in UTM, feet in a
    US State Plane CRS, degrees at the grid's latitude, nothing without a CRS."""
    from osgeo import osr

    from mrs.mrs_qgis_plugin.raster.grid import Grid

    def wkt(epsg):
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        return srs.ExportToWkt()

    utm = Grid(10, 10, (664000.0, 2.0, 0.0, 5102000.0, 0.0, -2.0), wkt(32632)).ground_pixel_size()
    assert utm == pytest.approx(2.0, rel=5e-3)
    feet = Grid(10, 10, (984000.0, 10.0, 0.0, 200000.0, 0.0, -10.0), wkt(2263)).ground_pixel_size()  # New York, ftUS
    assert feet == pytest.approx(3.048, rel=5e-3)
    at_60 = Grid(10, 10, (11.0, 1e-5, 0.0, 60.00005, 0.0, -1e-5), wkt(4326)).ground_pixel_size()
    assert at_60 == pytest.approx(1.112 * math.sqrt(0.5), rel=5e-3)  # 1.11 m north-south, half of it east-west
    sides = Grid(10, 10, (11.0, 1e-5, 0.0, 60.00005, 0.0, -1e-5), wkt(4326)).ground_pixel_sides()
    assert sides == pytest.approx((0.556, 1.112), rel=5e-3)  # across (east-west), down (north-south)
    assert Grid(10, 10, (664000.0, 2.0, 0.0, 5102000.0, 0.0, -0.5), wkt(32632)).ground_pixel_sides() == pytest.approx(
        (2.0, 0.5), rel=5e-3)
    # Web Mercator at 55 degrees north: 1.74 m on its map, 1 m on the ground (review of 2026-12-05)
    mercator = Grid(10, 10, (1113195.0, 1.7434, 0.0, 7361866.0, 0.0, -1.7434), wkt(3857)).ground_pixel_size()
    assert mercator == pytest.approx(1.0, rel=5e-3)
    rotated = Grid(10, 10, (664000.0, 0.6, 0.8, 5102000.0, 0.8, -0.6), wkt(32632)).ground_pixel_size()
    assert rotated == pytest.approx(1.0, rel=5e-3)
    assert Grid(10, 10, (0.0, 1.0, 0.0, 0.0, 0.0, -1.0), "").ground_pixel_size() is None


def test_a_scene_in_a_local_crs_in_feet_records_its_pixel_size_in_metres(tmp_path):
    """A helper's coverage round of 2026-12-06: no test opened a scene in a local (engineering) CRS, whose
    pixels are measured in its own unit, not on the Earth: 2 by 3 feet are 0.6096 by 0.9144 m in the
    grid and in the description a model file records, and 2 by 3 metres stay so."""
    from mrs.model_core.preprocessing import Normalizer
    from mrs.mrs_qgis_plugin import jobs

    data = np.ones((3, 5, 6), np.float32)
    recorded = {}
    for name, unit in (("feet", 'UNIT["Foot",0.3048]'), ("metres", 'UNIT["metre",1,AUTHORITY["EPSG","9001"]]')):
        crs = LOCAL_CRS.replace('UNIT["metre",1,AUTHORITY["EPSG","9001"]]', unit)
        hsi = write_raster(tmp_path / f"{name}.tif", data, (1000.0, 2.0, 0.0, 5000.0, 0.0, -3.0), crs=crs)
        with Scene.open(RasterInput(hsi, name), []) as scene:
            assert scene.grid.ground_pixel_sides() == pytest.approx(
                (2.0, 3.0) if name == "metres" else (0.6096, 0.9144), rel=1e-12)
            description = jobs._description(scene, Normalizer(np.zeros(3), np.ones(3)), "tiny")
        recorded[name] = (*description["pixel_sides_m"], description["pixel_size_m"])
    assert recorded["feet"] == pytest.approx((0.6096, 0.9144, math.sqrt(0.6096 * 0.9144)), rel=1e-12)
    assert recorded["metres"] == pytest.approx((2.0, 3.0, math.sqrt(6.0)), rel=1e-12)


def test_pixel_positions_are_placed_at_their_pixels_centres():
    """Row 0, column 0 lies at its pixel's centre, half a pixel in from the corner (a mutation audit of 2026-12-06)."""
    from mrs.mrs_qgis_plugin.raster.grid import pixel_centres

    xs, ys = pixel_centres((100.0, 2.0, 0.0, 200.0, 0.0, -2.0), np.array([0, 1]), np.array([0, 3]))
    assert (xs.tolist(), ys.tolist()) == ([101.0, 107.0], [199.0, 197.0])


def test_a_rectangle_on_pixel_edges_touches_no_pixel_beyond_them_despite_rounding():
    """Bounds on pixel edges that float division puts a hair across them take no pixel beyond (a mutation audit
    of 2026-12-06)."""
    from mrs.mrs_qgis_plugin.raster.grid import Grid

    grid = Grid(10, 10, (100.0, 0.3, 0.0, 200.0, 0.0, -0.3), "")
    # the edges of columns 1 and 6 and rows 1 and 6: columns 0.99999999999994 and 5.99999999999994, rows
    # 1.0000000000001 and 6.0000000000001
    assert grid.pixel_bounds((100.3, 198.2, 101.8, 199.7)) == Window(1, 1, 5, 5)


def test_a_crs_without_a_code_or_a_name_is_said_by_its_definition():
    """A helper's red team of 2026-12-06: a map in a CRS made from a PROJ string was said to be
    reprojected 'to unknown'."""
    from mrs.mrs_qgis_plugin.raster.grid import crs_label

    srs = osr.SpatialReference()
    srs.ImportFromProj4("+proj=tmerc +lat_0=0 +lon_0=11 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs")
    assert crs_label(srs.ExportToWkt()) == (
        "a custom CRS (+proj=tmerc +lat_0=0 +lon_0=11 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 ...)")
    srs.ImportFromEPSG(32632)
    assert crs_label(srs.ExportToWkt()) == "EPSG:32632"
    assert crs_label("") == "no CRS"


def test_a_crs_named_unknown_in_any_letter_case_is_said_by_its_definition():
    """A mutation audit of 2026-12-06."""
    from mrs.mrs_qgis_plugin.raster.grid import crs_label

    srs = osr.SpatialReference()
    srs.ImportFromProj4("+proj=tmerc +lat_0=0 +lon_0=11 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs")
    wkt = srs.ExportToWkt().replace('PROJCS["unknown"', 'PROJCS["Unknown"')
    assert 'PROJCS["Unknown"' in wkt and crs_label(wkt).startswith("a custom CRS (+proj=tmerc")


@pytest.mark.parametrize("length", [300, 400])
def test_a_raster_file_cut_short_in_its_tags_is_refused_as_damaged(tmp_path, length):
    """A GeoTIFF cut short (a copy stopped early) opened with its nodata tag left out, and at 300 bytes with
    its grid too: its nodata pixels would have been read as values, or it was said to lack georeferencing
    (bad inputs of 2026-12-06)."""
    whole = write_raster(tmp_path / "whole.tif", np.ones((4, 20, 30), np.float32), nodata=-9999)
    cut = tmp_path / "cut.tif"
    cut.write_bytes(open(whole, "rb").read()[:length])
    with pytest.raises(InputError, match=r"^The hyperspectral layer 'cut' cannot be read whole: its file is damaged or "
                                         r"incomplete \(.*cut\.tif: TIFFFetchNormalTag:IO error during reading of "
                                         r"\"GDALNoDataValue\"; tag ignored\)\. Check that the file is complete and "
                                         r"readable \(copy it again\)\.$"):
        Scene.open(RasterInput(str(cut), "cut"), [])
