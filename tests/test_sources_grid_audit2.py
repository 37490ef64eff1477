"""Edges of raster/sources.py and raster/grid.py that a second-round mutation audit (2026-12-07, sources_grid) found
no test pinned: each test fails on a small, plausible change of the source that the suite let pass."""

import numpy as np
import pytest
from osgeo import gdal
from rasters import GEOTRANSFORM, ORIGIN_X, ORIGIN_Y, write_raster
from test_raster_sources import _logger

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin.raster import stats
from mrs.mrs_qgis_plugin.raster.grid import Grid, Window
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene


@pytest.mark.parametrize("bounds, window", [
    # crossing an edge by a hundredth of a pixel touches the pixel beyond; by a ten-thousandth it does not
    ((2.0, -3.0, 5.01, -1.0), Window(2, 1, 4, 2)),
    ((2.0, -3.0, 5.0001, -1.0), Window(2, 1, 3, 2)),
    ((1.99, -3.0, 5.0, -1.0), Window(1, 1, 4, 2)),
    ((1.9999, -3.0, 5.0, -1.0), Window(2, 1, 3, 2)),
], ids=["right 1e-2", "right 1e-4", "left 1e-2", "left 1e-4"])
def test_a_rectangle_crossing_a_pixel_edge_by_more_than_a_thousandth_touches_the_pixel_beyond(bounds, window):
    """`_EDGE` is a thousandth of a pixel: a hundredth past an edge is a pixel more, a ten-thousandth (the rounding
    of the numbers QGIS's extent widget writes) is not."""
    grid = Grid(10, 10, GEOTRANSFORM, "")
    xmin, ymin, xmax, ymax = bounds
    assert grid.pixel_bounds((ORIGIN_X + xmin, ORIGIN_Y + ymin, ORIGIN_X + xmax, ORIGIN_Y + ymax)) == window


@pytest.mark.parametrize("corner, covered", [
    ((2, 3), Window(1, 2, 6, 6)),  # one pixel more on each side of the 4 x 4 pixels it lies on
    ((0, 0), Window(0, 0, 5, 5)),  # but not beyond the grid
    ((7, 8), Window(6, 7, 4, 3)),
], ids=["inside", "top left", "bottom right"])
def test_the_window_a_warped_layer_can_give_data_in_is_a_pixel_wider_than_it_on_each_side(corner, covered):
    """`covered_window`: the pixels under the layer and one more on each side, clipped to the grid."""
    from mrs.mrs_qgis_plugin.raster.grid import covered_window, window_under

    grid = Grid(10, 10, GEOTRANSFORM, "")
    col, row = corner
    source = Grid(4, 4, (ORIGIN_X + col, 1.0, 0.0, ORIGIN_Y - row, 0.0, -1.0), "")
    assert window_under(source, grid) == grid.pixel_bounds(source.bounds())
    assert covered_window(source, grid, "dsm", "hsi") == covered


def test_a_large_area_is_counted_in_8_by_8_windows_of_128_pixels_spread_over_it_from_its_corner():
    """A window of 1024 x 1024 pixels is read whole; one pixel more is read in 64 windows starting at its corner."""
    from mrs.mrs_qgis_plugin.raster.sources import own_windows

    assert own_windows(Window(5, 7, 1024, 1024)) == [Window(5, 7, 1024, 1024)]
    windows = own_windows(Window(10, 20, 2000, 1500))
    assert len(windows) == 64 and {(w.width, w.height) for w in windows} == {(128, 128)}
    assert windows[0] == Window(10, 20, 128, 128) and windows[-1] == Window(10 + 1872, 20 + 1372, 128, 128)
    assert windows[1].col == 10 + 1872 // 7 and windows[8].row == 20 + 1372 // 7


@pytest.mark.parametrize("geotransform, north_up", [
    ((0.0, 1.0, 1e-7, 0.0, 0.0, -1.0), True),  # a skew of a ten-millionth of a pixel maps as north-up
    ((0.0, 1.0, 1e-4, 0.0, 0.0, -1.0), False),  # one of a ten-thousandth does not
    ((0.0, 1.0, 0.0, 0.0, 1e-4, -1.0), False),
    ((0.0, -1.0, 0.0, 0.0, 0.0, -1.0), False),  # columns from east to west
    ((0.0, 1.0, 0.0, 0.0, 0.0, 1.0), False),  # rows from south to north
], ids=["skew 1e-7", "skew 1e-4", "row skew 1e-4", "east to west", "south to north"])
def test_a_grid_looks_north_up_within_a_millionth_of_a_pixel_with_columns_eastwards_and_rows_southwards(
        geotransform, north_up):
    """`looks_north_up`: skews within a millionth of the step, columns eastwards and rows southwards."""
    assert Grid(4, 4, geotransform, "").looks_north_up is north_up


@pytest.mark.parametrize("shift, matches", [(5e-7, True), (5e-5, False)])
def test_two_grids_match_when_their_geotransforms_differ_by_at_most_a_millionth_of_a_pixel(shift, matches):
    """Pixels of 2 m: a shift of 1e-6 m matches, one of 1e-4 m (5e-5 pixels) is another grid, to be warped."""
    grid = Grid(4, 4, (ORIGIN_X, 2.0, 0.0, ORIGIN_Y, 0.0, -2.0), "")
    other = Grid(4, 4, (ORIGIN_X + 2 * shift, 2.0, 0.0, ORIGIN_Y, 0.0, -2.0), "")
    assert grid.matches(other) is matches and other.matches(grid) is matches


@pytest.mark.parametrize("bounds, said", [
    ((0.1234567, -2.5, 1.0000004, 3.0), "x 0.123457..1, y -2.5..3"),  # six decimals, trailing zeros dropped
    ((2e6, 999999999999.0, 1e12, 1.5e15), "x 2000000..1e+12, y 999999999999..1.5e+15"),  # from 1e12, six figures
], ids=["decimals", "large"])
def test_bounds_are_said_to_six_decimals_below_a_trillion_and_to_six_figures_from_it(bounds, said):
    """`format_bounds`: the figures a refusal gives of an extent or a layer."""
    from mrs.mrs_qgis_plugin.raster.grid import format_bounds

    assert format_bounds(bounds) == said


@pytest.mark.parametrize("bounds, said", [
    ((0.0, 5.0, 1.0, 4.0), "has no feature with a geometry, so no extent"),  # inverted y: QGIS's null extent
    ((1.0, 0.0, 0.0, 1.0), "has no feature with a geometry, so no extent"),
    ((0.0, 2.0, 3.0, 2.0), "span no area (x 0..3, y 2..2)"),
], ids=["inverted y", "inverted x", "a line"])
def test_a_layer_given_as_extent_without_an_area_is_refused_as_empty_or_as_a_line(bounds, said):
    """`layer_without_area`: inverted bounds on either axis are no geometry; a line spans no area."""
    from mrs.mrs_qgis_plugin.raster.grid import layer_without_area

    assert said in str(layer_without_area("roi", "/data/roi.gpkg", bounds))


def test_alpha_bands_before_data_bands_the_first_among_them_are_warned_of_in_the_plural(tmp_path):
    """Bands 1 and 3 of 6 marked alpha: both named, the advice's gdal_translate options for each."""
    from mrs.model_core.hooks import Hooks

    path = write_raster(tmp_path / "hsi.tif", np.ones((6, 4, 4), np.float32))
    dataset = gdal.Open(path, gdal.GA_Update)
    for number in (1, 3):
        dataset.GetRasterBand(number).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    warnings = []
    with Scene.open(RasterInput(path, "hsi"), [], Hooks(warn=warnings.append)) as scene:
        assert scene.n_hsi == 4
    assert warnings == ["Bands 1, 3 of 'hsi' are marked as alpha bands (a mask of the others), so they are read as a "
                        "mask, not as data, and the bands after them move up. If they hold data, copy the raster with "
                        "those bands marked as data (gdal_translate -colorinterp_1 undefined -colorinterp_3 "
                        "undefined), or move the mask to the last band."]


@pytest.mark.parametrize("values, said", [
    ((100, 200, 300, 400), None),
    ((8000, 10000, 12000, 20000), None),  # thermal bands
    ((90, 200, 300, 400), "90-400 nm"),
    ((8000, 10000, 12000, 21000), "8000-21000 nm"),
], ids=["from 100", "to 20000", "from 90", "to 21000"])
def test_wavelengths_are_plausible_from_100_to_20000_nm(tmp_path, values, said):
    """`PLAUSIBLE_NM`: 100 and 20000 nm pass without a warning, 90 and 21000 nm are warned of."""
    from mrs.model_core.hooks import Hooks

    hsi = write_raster(tmp_path / "hsi.tif", np.ones((4, 3, 3), np.float32), band_metadata=[
        {"wavelength": str(value), "wavelength_units": "nm"} for value in values])
    warnings = []
    with Scene.open(RasterInput(hsi, "hsi"), [], Hooks(warn=warnings.append)) as scene:
        assert scene.wavelengths == list(map(float, values))
    assert warnings == ([] if said is None else [
        f"'hsi' gives wavelengths that read as {said} in its unit ('nm'), where no imaging spectrometer measures "
        "(about 350-2500 nm, thermal bands to 14000 nm): its wavelength unit is most likely wrong. Set the layer's "
        "wavelength_units to the unit its values are in."])


def test_the_data_window_of_aux_layers_whose_reach_only_meets_along_a_column_edge_is_the_whole_grid(tmp_path):
    """A SAR reaching (a pixel beyond its edge) to column 13 and a LiDAR reaching from it share no pixel: the
    whole grid, not a window of no width."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 40, 40), np.float32))
    sar = write_raster(tmp_path / "sar.tif", np.ones((20, 6), np.float32), (ORIGIN_X, 2.0, 0, ORIGIN_Y, 0, -2.0))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((20, 13), np.float32), (ORIGIN_X + 14, 2.0, 0, ORIGIN_Y, 0, -2.0))
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(sar, "sar"), RasterInput(dsm, "dsm")]) as scene:
        assert [source.covered for source in scene._sources[1:]] == [Window(0, 0, 13, 40), Window(13, 0, 27, 40)]
        assert scene.data_window == Window(0, 0, 40, 40)


def test_layers_and_bands_without_a_valid_value_are_named_each_as_a_whole_or_by_their_bands(tmp_path):
    """An all-NaN LiDAR is a layer; the HSI's two all-nodata bands and the SAR's all-NaN one are bands, in the plural
    or not; 'at least one of' only with auxiliary layers."""
    values = np.ones((4, 3, 3), np.float32)
    values[[1, 2]] = -1
    hsi = write_raster(tmp_path / "hsi.tif", values, nodata=-1)
    dsm = write_raster(tmp_path / "dsm.tif", np.full((3, 3), np.nan, np.float32))
    sar = np.ones((2, 3, 3), np.float32)
    sar[1] = np.nan
    sar = write_raster(tmp_path / "sar.tif", sar)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm"), RasterInput(sar, "sar")]) as scene:
        assert scene.empty_bands() == (["'dsm'"], ["bands 2, 3 of 'hsi'", "band 2 of 'sar'"])
        assert scene.any_layer == "at least one of 'hsi', 'dsm', 'sar'"
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.any_layer == "'hsi'"



def test_bands_envi_headers_mark_bad_are_counted_back_and_listed_for_each_layer(tmp_path):
    """Two bands of the HSI's and one of the SAR's header marked bad: counts (5, 3), listed layer by layer."""
    from test_raster_sources import _envi

    hsi = _envi(tmp_path, "rfl", np.ones((5, 3, 4), np.float32), "bbl = {1, 0, 1, 0, 1}\n")
    sar = _envi(tmp_path, "sar", np.ones((3, 3, 4), np.float32), "bbl = {1, 1, 0}\n")
    with Scene.open(RasterInput(hsi, "rfl"), [RasterInput(sar, "sar")]) as scene:
        assert (scene.n_hsi, scene.n_aux) == (3, 2)
        assert scene.marked_bad == {"rfl": [2, 4], "sar": [3]}
        assert scene.counts_with_marked_bad == (5, 3)
        assert scene.marked_bad_listed == "'rfl': bands 2, 4; 'sar': bands 3"


def test_invalid_pixels_are_counted_in_the_window_read_not_in_its_halo(tmp_path):
    """A nodata pixel at (0, 0) lies in the halo of the window from (1, 1): counted only when the window holds it."""
    values = np.ones((3, 4, 4), np.float32)
    values[:, 0, 0] = -1
    hsi = write_raster(tmp_path / "hsi.tif", values, nodata=-1)
    invalid = np.zeros(1, np.int64)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        _data, valid = scene.read(1, 1, 2, 2, halo=1, invalid=invalid)
        assert valid.shape == (4, 4) and not valid[0, 0] and invalid.tolist() == [0]
        scene.read(0, 0, 2, 2, halo=1, invalid=invalid)
    assert invalid.tolist() == [1]


def test_a_warped_layer_is_said_with_its_own_and_the_grid_s_size_across_then_down(tmp_path):
    """Oblong rasters: the LiDAR's 5 x 3 pixels and the grid's 6 x 4, width first, in the warp's log line."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 6), np.float32))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((3, 5), np.float32),
                       (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")], hooks):
        pass
    assert lines[0] == ("'dsm' (EPSG:32632, 5 x 3 pixels) is warped on the fly onto the grid of 'hsi' (EPSG:32632, "
                        "6 x 4 pixels), bilinear resampling.")


@pytest.mark.parametrize("gains, said", [("0.0001, 0.0001, 0.0001", False), ("0.0001, 1, 0.0001", True)],
                         ids=["every band", "one band not"])
def test_an_envi_reflectance_scale_factor_is_said_unapplied_unless_every_band_s_gain_applies_it(tmp_path, gains, said):
    """A factor the gains of some bands only apply is said unapplied; one every band's gain applies is not."""
    from test_raster_sources import _envi

    hsi = _envi(tmp_path, "rfl", np.ones((3, 4, 5), np.float32),
                f"reflectance scale factor = 10000\ndata gain values = {{{gains}}}\n")
    lines, hooks = _logger()
    Scene.open(RasterInput(hsi, "rfl"), [], hooks).close()
    assert [line for line in lines if "scale factor" in line] == (
        ["'rfl': its ENVI header gives a reflectance scale factor of 10000, which is not applied (nor does QGIS apply "
         "it): the values are read as the file stores them. For reflectance, use a copy with that scale "
         "(gdal_translate -a_scale 0.0001)."] if said else [])


@pytest.mark.parametrize("cell, found", [((18, 18), False), ((9, 9), True)], ids=["beyond the scene", "under it"])
def test_nodata_among_data_of_a_warped_layer_is_counted_only_on_its_pixels_under_the_grid(tmp_path, cell, found):
    """A LiDAR of 20 x 20 pixels reaching 7 m beyond a 6 x 6 scene on each side: a nodata pixel of one band beyond the
    scene is no false alarm, one under it is found among the 7 x 6 pixels the scene covers (half a pixel off)."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32))
    heights = np.ones((2, 20, 20), np.float32)
    heights[(0, *cell)] = -1
    dsm = write_raster(tmp_path / "dsm.tif", heights, (ORIGIN_X - 7.5, 1.0, 0.0, ORIGIN_Y + 7, 0.0, -1.0), nodata=-1)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        assert scene.nodata_among_data() == (
            [("dsm", pytest.approx(1 / 42), ["band 1 of 'dsm'"], -1.0, True)] if found else [])


@pytest.mark.parametrize("fill", [np.inf, -np.inf, "inf and nan"])
def test_a_band_infinite_at_every_pixel_is_named_as_one_without_a_valid_value(tmp_path, fill):
    """`Scene.empty_bands` promises bands 'nodata, NaN or infinite everywhere', but took GDAL's extremes, which are
    (1.8e308, inf) for an all-inf band: the refusal fell back to the generic 'each is nodata, NaN or infinite in at
    least one of them, or lies outside one of them', naming no band (a bug the audit found)."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    sar = np.ones((3, 4, 4), np.float32)
    sar[1] = np.inf if fill == "inf and nan" else fill
    if fill == "inf and nan":
        sar[1, :2] = np.nan
    sar[2, 0, 0] = np.inf  # a band with valid values beside infinite ones is not named
    sar = write_raster(tmp_path / "sar.tif", sar)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(sar, "sar")]) as scene:
        assert scene.empty_bands() == ([], ["band 2 of 'sar'"])
        with pytest.raises(InputError) as refused:
            stats.sample_valid_pixels(scene, 10, 0)
    assert str(refused.value).startswith("No pixel has valid values in every layer, as there is no valid value "
                                         "(nodata, NaN or infinite at every pixel) in band 2 of 'sar'.")


def test_an_extent_reaching_almost_two_rows_beyond_a_grid_of_oblong_pixels_is_said_to_reach_beyond_it(tmp_path):
    """`_say_clipped` forgives half a pixel for rounded corners, but took the half of the x step for y too: on pixels
    2 m wide and 0.5 m tall, an extent 0.9 m (1.8 rows) above the layer was cut to it without a word (a bug the audit
    found); half a row beyond is still forgiven."""
    from mrs.model_core.hooks import Hooks
    from mrs.mrs_qgis_plugin.raster.sources import window_from_extent

    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 8, 4), np.float32), (ORIGIN_X, 2.0, 0.0, ORIGIN_Y, 0.0, -0.5))
    said = {}
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        for top in (0.9, 0.2):
            lines = said.setdefault(top, [])
            window = window_from_extent(scene, (ORIGIN_X, ORIGIN_Y - 2.0, ORIGIN_X + 4.0, ORIGIN_Y + top),
                                        Hooks(log=lines.append))
            assert (window.row, window.height) == (0, 4)
    assert len(said[0.9]) == 1 and "reaches beyond the hyperspectral layer 'hsi'" in said[0.9][0] and not said[0.2]
