"""Edges of the alignment, footprint, wavelength and statistics-sample code of the raster pipeline
(grid.py, sources.py, gdal_io.py, stats.py) that a mutation audit of 2026-12-06 found no test pinned."""

import math
import re

import numpy as np
import pytest
from osgeo import gdal
from rasters import ORIGIN_X, ORIGIN_Y, write_raster
from test_raster_sources import _indexed_hsi, _logger

from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import stats
from mrs.mrs_qgis_plugin.raster.grid import Grid, Window
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene, window_from_extent


def _ones_hsi(tmp_path, height=10, width=10):
    return write_raster(tmp_path / "hsi.tif", np.ones((3, height, width), np.float32))


def test_an_aux_raster_a_twentieth_of_a_pixel_off_the_grid_is_warped_and_interpolated(tmp_path):
    """A mutation audit of 2026-12-06: grids taken to match within a tenth of a pixel read a LiDAR 5 cm
    east of the 1 m hyperspectral grid pixel for pixel, 5 cm off, without a word."""
    hsi = write_raster(tmp_path / "hsi.tif", np.zeros((3, 6, 6), np.float32))
    ramp = np.tile(np.arange(6, dtype=np.float32) * 10, (6, 1))  # 0, 10, ..., 50 along x
    dsm = write_raster(tmp_path / "dsm.tif", ramp, (ORIGIN_X + 0.05, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")], hooks) as scene:
        values, valid = scene.read(0, 0, 6, 6)
    assert ("'dsm' (EPSG:32632, 6 x 6 pixels) is warped on the fly onto the grid of 'hsi' (EPSG:32632, 6 x 6 "
            "pixels), bilinear resampling.") in lines
    assert valid.all()
    np.testing.assert_allclose(values[3], np.tile([0.0, 9.5, 19.5, 29.5, 39.5, 49.5], (6, 1)), atol=1e-4)


def test_an_alpha_band_of_a_warped_aux_raster_hides_the_grid_pixels_of_its_hidden_pixels_only(tmp_path):
    """A mutation audit of 2026-12-06: an alpha band warped bilinearly (as data are) would hide other
    grid pixels than those under the 2 x 2 LiDAR pixels it hides, or none."""
    hsi = _ones_hsi(tmp_path)
    alpha = np.full((5, 5), 255, np.float32)
    alpha[1:3, 1:3] = 0  # 2 m pixels: 4 x 4 of the 1 m grid
    dsm = write_raster(tmp_path / "dsm.tif", np.stack([alpha, np.ones((5, 5), np.float32)]),
                       (ORIGIN_X + 0.5, 2.0, 0.0, ORIGIN_Y, 0.0, -2.0))  # half a grid pixel east
    dataset = gdal.Open(dsm, gdal.GA_Update)
    dataset.GetRasterBand(1).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        _values, valid = scene.read(0, 0, 10, 10)
    expected = np.ones((10, 10), bool)
    expected[2:6, 2:6] = False  # grid columns 2-5: centres 2.5-5.5 m, in the LiDAR's 2.5-6.5 m
    np.testing.assert_array_equal(valid, expected)
    assert np.count_nonzero(~valid) == 16


def test_the_rows_between_the_tiles_of_a_vrt_mosaic_without_nodata_are_exactly_those_invalid(tmp_path):
    """A mutation audit of 2026-12-06: a footprint reaching a row past its tiles' bottom edge took the
    first row of the gap between them for data (0 in every band)."""
    hsi = write_raster(tmp_path / "hsi.tif", np.arange(3 * 20 * 30, dtype=np.float32).reshape(3, 20, 30) + 1)
    top, bottom = str(tmp_path / "top.tif"), str(tmp_path / "bottom.tif")
    gdal.Translate(top, hsi, srcWin=[0, 0, 30, 8])
    gdal.Translate(bottom, hsi, srcWin=[0, 14, 30, 6])
    mosaic = str(tmp_path / "mosaic.vrt")
    gdal.BuildVRT(mosaic, [top, bottom])  # rows 8-13 lie in no tile; no -vrtnodata
    with Scene.open(RasterInput(mosaic, "mosaic"), []) as scene:
        _values, valid = scene.read(0, 0, 30, 20)
    expected = np.ones((20, 30), bool)
    expected[8:14] = False
    np.testing.assert_array_equal(valid, expected)


@pytest.mark.parametrize("placed, expected", [
    ('xOff="2.4" yOff="0" xSize="7.6" ySize="10"', np.tile(np.arange(10) >= 2, (10, 1))),
    ('xOff="0" yOff="0" xSize="10" ySize="2.5"', np.tile(np.arange(10) < 2, (10, 1)).T),
])
def test_a_vrt_tile_placed_off_the_pixel_grid_holds_the_pixels_whose_centre_it_covers(tmp_path, placed, expected):
    """A mutation audit of 2026-12-06: a footprint tested at the pixels' corners, not their centres,
    left out column 2 of a tile that starts 2.4 pixels in (as gdalbuildvrt writes a tile off the
    mosaic's pixel grid); and one of the ninth session: a footprint is half-open, the pixels whose
    centre lies on its bottom edge (row 2 of a tile 2.5 rows high) lie in the gap below it."""
    hsi = write_raster(tmp_path / "hsi.tif", np.arange(3 * 10 * 10, dtype=np.float32).reshape(3, 10, 10) + 1)
    vrt = tmp_path / "mosaic.vrt"
    gdal.Translate(str(vrt), hsi, format="VRT")
    text, count = re.subn(r'<DstRect xOff="0" yOff="0" xSize="10" ySize="10"', f"<DstRect {placed}", vrt.read_text())
    assert count == 3
    vrt.write_text(text)
    with Scene.open(RasterInput(str(vrt), "mosaic"), []) as scene:
        _values, valid = scene.read(0, 0, 10, 10)
    np.testing.assert_array_equal(valid, expected)


def test_a_wavelength_list_of_every_band_gives_the_data_bands_theirs_around_an_inner_alpha_band(tmp_path):
    """A mutation audit of 2026-12-06: the list's first wavelengths given to the data bands in turn gave
    band 3 (650 nm) the alpha band's 550 nm, and every band after it its neighbour's."""
    data = np.random.default_rng(0).uniform(0.1, 0.5, (5, 6, 6)).astype(np.float32)
    hsi = write_raster(tmp_path / "hsi.tif", data,
                       metadata={"wavelength": "{450, 550, 650, 850, 950}", "wavelength_units": "nm"})
    dataset = gdal.Open(hsi, gdal.GA_Update)
    dataset.GetRasterBand(2).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.n_hsi == 4
        assert scene.wavelengths == [450.0, 650.0, 850.0, 950.0]


def test_wavelengths_without_a_unit_all_below_30_are_read_as_micrometres(tmp_path):
    """A mutation audit of 2026-12-06: a list without a unit, 0.45, 0.55, 0.65, read as nm gave a
    model wavelengths no spectrometer measures."""
    warnings = []
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32), metadata={"wavelength": "0.45,0.55,0.65"})
    with Scene.open(RasterInput(hsi, "hsi"), [], Hooks(warn=warnings.append)) as scene:
        assert scene.wavelengths == pytest.approx([450.0, 550.0, 650.0])
    assert warnings == []


def test_a_georeferenced_raster_whose_corner_is_at_0_0_with_1_m_pixels_is_georeferenced(tmp_path):
    """A mutation audit of 2026-12-06: a geotransform equal to QGIS's layout of an ungeoreferenced
    raster, (0, 1, 0, 0, 0, -1), taken for none even with a CRS, made a UTM scene whose corner lies at
    0, 0 ungeoreferenced, and its georeferenced LiDAR refused."""
    geotransform = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 20, 30), np.float32), geotransform)
    dsm = write_raster(tmp_path / "dsm.tif", np.full((1, 10, 15), 7.0, np.float32), (0.0, 2.0, 0.0, 0.0, 0.0, -2.0))
    grid = Grid.of(gdal.Open(hsi))
    assert (grid.georeferenced, grid.geotransform) == (True, geotransform)
    assert grid.ground_pixel_size() == pytest.approx(1.0, rel=1e-3)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        assert scene.grid.georeferenced
        values, valid = scene.read(0, 0, 30, 20)
    assert valid.all()
    np.testing.assert_array_equal(values[3], np.full((20, 30), 7.0, np.float32))


def test_a_warped_layer_s_values_are_not_compared_with_its_declared_nodata(tmp_path):
    """A mutation audit of 2026-12-06: the warp resamples a layer's nodata away (to NaN); comparing the
    warped values with the declared nodata 0 hid every pixel where -1 and 1 average to 0."""
    hsi = _ones_hsi(tmp_path)
    difference = np.tile(np.array([-1, 1], np.float32), (12, 6))  # nodata 0 declared, held nowhere
    diff = write_raster(tmp_path / "diff.tif", difference, (ORIGIN_X - 1.5, 1.0, 0.0, ORIGIN_Y + 1, 0.0, -1.0),
                        nodata=0)  # half a pixel off the grid: each grid pixel lies between a -1 and a 1
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(diff, "diff")]) as scene:
        values, valid = scene.read(0, 0, 10, 10)
    np.testing.assert_array_equal(values[3], np.zeros((10, 10), np.float32))
    assert valid.all()


def test_a_nan_nodata_held_by_one_band_of_a_warped_layer_is_found_on_its_own_pixels(tmp_path):
    """A mutation audit of 2026-12-06: a warped layer's own pixels compared with a NaN nodata value by
    equality never hold it, so a band that is NaN where another holds heights went unsaid."""
    hsi = _ones_hsi(tmp_path)
    lidar = np.full((2, 20, 20), 5.0, np.float32)
    lidar[0, :10] = np.nan  # band 1 holds its nodata over the north half, where band 2 holds heights
    dsm = write_raster(tmp_path / "dsm.tif", lidar, (ORIGIN_X, 0.5, 0.0, ORIGIN_Y, 0.0, -0.5), nodata=float("nan"))
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        with scene.nodata_counted():
            scene.read(0, 0, 10, 10)
        found = scene.nodata_among_data()
    assert len(found) == 1
    name, share, bands, nodata, warped = found[0]
    assert (name, share, bands, warped) == ("dsm", 0.5, ["band 1 of 'dsm'"], True)
    assert math.isnan(nodata)


def test_a_float64_nodata_beyond_float32_held_by_one_band_is_nodata_among_data_not_an_infinite_value(tmp_path):
    """A mutation audit of 2026-12-06: a Float64 raster's nodata -1e300 compared, as a double, with the
    float32 reading of its pixels (-inf) never matched: the pixel was taken as data, and its -inf as an
    infinite value the layer holds."""
    data = np.full((3, 6, 8), 0.25, np.float64)
    data[0, 1, 2] = -1e300  # band 1 alone holds the nodata value there
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-1e300)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        with scene.nodata_counted():
            _values, valid = scene.read(0, 0, 8, 6)
        assert np.flatnonzero(~valid).tolist() == [1 * 8 + 2]
        assert scene.nodata_among_data() == [("hsi", 1 / 48, ["band 1 of 'hsi'"], -1e300, False)]
        assert scene.infinite_values() == []


def test_a_vrt_mosaic_with_a_nodata_value_warped_as_an_aux_layer_is_not_said_to_lack_one(tmp_path):
    """A mutation audit of 2026-12-06: the warning for a VRT without a nodata value, whose gaps read 0,
    was given for one with a nodata value, whose gaps are nodata and invalid."""
    full = write_raster(tmp_path / "full.tif", np.arange(3 * 20 * 30, dtype=np.float32).reshape(3, 20, 30) + 1)
    left, right = str(tmp_path / "left.tif"), str(tmp_path / "right.tif")
    gdal.Translate(left, full, srcWin=[0, 0, 12, 20], bandList=[1])
    gdal.Translate(right, full, srcWin=[20, 0, 10, 20], bandList=[1])
    mosaic = str(tmp_path / "mosaic.vrt")
    gdal.BuildVRT(mosaic, [left, right], VRTNodata=-9999)
    hsi = str(tmp_path / "hsi.tif")
    gdal.Translate(hsi, full, srcWin=[0, 0, 25, 18])  # another size: the mosaic is warped
    warnings = []
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(mosaic, "mosaic")], Hooks(warn=warnings.append)) as scene:
        _values, valid = scene.read(0, 0, 25, 18)
    assert warnings == []
    np.testing.assert_array_equal(valid, np.tile((np.arange(25) < 12) | (np.arange(25) >= 20), (18, 1)))


def test_the_hyperspectral_block_is_nan_at_a_nodata_pixel(tmp_path):
    """A mutation audit of 2026-12-06: the block kept the nodata value -9999 as a reflectance."""
    data = np.full((3, 4, 4), 0.3, np.float32)
    data[:, 1, 1] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        block = scene.hyperspectral_block(Window(0, 0, 4, 4))
    expected = np.full((3, 4, 4), 0.3, np.float32)
    expected[:, 1, 1] = np.nan
    np.testing.assert_array_equal(block, expected)


@pytest.mark.parametrize("extent, said", [
    ((ORIGIN_X + 5, ORIGIN_Y - 10, ORIGIN_X + 5, ORIGIN_Y - 2), "x 664005..664005, y 5101990..5101998"),
    ((ORIGIN_X + 5, ORIGIN_Y - 10, ORIGIN_X + 5, ORIGIN_Y - 10), "x 664005..664005, y 5101990..5101990"),
], ids=["zero width", "point"])
def test_an_extent_of_no_area_is_refused_as_empty(tmp_path, extent, said):
    """A mutation audit of 2026-12-06: an extent whose xmin equals its xmax, or a point, was taken as
    the column of pixels (or the pixel) it lies in."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 20, 30), np.float32))
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        with pytest.raises(InputError) as refused:
            window_from_extent(scene, extent)
    assert str(refused.value) == (f"The extent EXTENT ({said}) is empty or inverted: its minimum x and y must be "
                                  "below its maximum x and y. Draw the extent again, or write it as "
                                  "xmin,xmax,ymin,ymax.")


def test_a_cancel_during_the_statistics_sample_stops_it_before_its_first_block(tmp_path):
    """A mutation audit of 2026-12-06: without the check before each block, a cancel went unheard
    until the whole sample was drawn."""
    hsi = _indexed_hsi(tmp_path, 40, 40)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        reads = []
        read = scene.read
        scene.read = lambda *window, **kw: reads.append(window) or read(*window, **kw)
        with pytest.raises(Canceled):
            stats.sample_valid_pixels(scene, 100, 0, Hooks(is_canceled=lambda: True), tile_size=8)
    assert reads == []


def test_the_statistics_sample_reports_its_progress_up_to_the_end(tmp_path):
    """A mutation audit of 2026-12-06: the sample's progress went unreported."""
    hsi = _indexed_hsi(tmp_path, 20, 20)
    seen = []
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        sample = stats.sample_valid_pixels(scene, 50, 0, Hooks(progress=seen.append), tile_size=8)
    assert len(sample) == 50
    assert len(seen) == 9  # 3 x 3 blocks, all read: 50 pixels wanted, 10 times as many sought
    assert seen == sorted(seen) and 0.0 < seen[0] and seen[-1] == 1.0


def test_the_statistics_sample_s_progress_never_passes_the_end(tmp_path):
    """A note of 2026-12-06: a sample that found enough pixels one block after its least number of
    blocks reported 1.03 (33 of 32 blocks, 2,112 of 2,050 pixels sought)."""
    hsi = _indexed_hsi(tmp_path, 48, 48)
    seen = []
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        stats.sample_valid_pixels(scene, 205, 0, Hooks(progress=seen.append), tile_size=8)
    assert len(seen) == stats.MIN_BLOCKS + 1
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_the_statistics_sample_is_in_random_order_not_the_raster_s(tmp_path):
    """A mutation audit of 2026-12-06: the sample's pixels came in the order they were read, so its
    first pixels (which some callers take as a smaller sample) were the block's top rows."""
    hsi = _indexed_hsi(tmp_path, 8, 8)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        sample = stats.sample_valid_pixels(scene, 1000, 0, tile_size=8)  # one block, every pixel kept
    index = sample[:, 0].astype(int)
    assert sorted(index.tolist()) == list(range(64))
    assert index.tolist() != list(range(64))
    assert index[:16].max() >= 32  # the first quarter is not the top rows alone


def test_a_statistics_extent_over_nodata_only_is_said_to_be_the_extent_s(tmp_path):
    """A mutation audit of 2026-12-06: an extent over nodata alone was said to leave no valid pixel in
    the whole scene."""
    data = np.ones((3, 20, 20), np.float32)
    data[:, :5, :5] = -9999
    hsi = write_raster(tmp_path / "hsi.tif", data, nodata=-9999)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert len(stats.sample_valid_pixels(scene, 50, 0, tile_size=8)) == 50
        with pytest.raises(InputError) as error:
            stats.sample_valid_pixels(scene, 50, 0, window=Window(0, 0, 5, 5))
    assert str(error.value) == (
        "No pixel of the extent has valid values in every layer ('hsi'): each is nodata, NaN or infinite in at "
        "least one of them, or lies outside one of them. Check the nodata values of the layers and that they "
        "cover the same area.")


def test_reading_beyond_the_grid_s_height_is_refused_as_outside_it(tmp_path):
    """A mutation audit of 2026-12-06: a window's bottom compared with the grid's width let a read of
    rows 15-24 of a 30 x 20 grid through to GDAL."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 20, 30), np.float32))
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        with pytest.raises(ValueError, match=re.escape("window (0, 15, 5, 10) is not inside the 30 x 20 grid")):
            scene.read(0, 15, 5, 10)
        assert scene.read(0, 10, 5, 10)[1].all()


def test_the_data_window_of_aux_layers_that_do_not_meet_is_the_whole_grid(tmp_path):
    """A mutation audit of 2026-12-06: the overlap of a SAR over the west third and a LiDAR over the
    east third, which do not meet, was a window of negative width."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 40, 40), np.float32))
    sar = write_raster(tmp_path / "sar.tif", np.ones((1, 20, 6), np.float32), (ORIGIN_X, 2.0, 0, ORIGIN_Y, 0, -2.0))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((1, 20, 6), np.float32),
                       (ORIGIN_X + 28, 2.0, 0, ORIGIN_Y, 0, -2.0))
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(sar, "sar"), RasterInput(dsm, "dsm")]) as scene:
        assert scene.data_window == Window(0, 0, 40, 40)
        with pytest.raises(InputError) as error:
            stats.sample_valid_pixels(scene, 100, 0)
    assert str(error.value) == (
        "No pixel has valid values in every layer ('hsi', 'sar', 'dsm'): each is nodata, NaN or infinite in at "
        "least one of them, or lies outside one of them. Check the nodata values of the layers and that they "
        "cover the same area.")
