"""Edges of raster/sources.py and raster/grid.py that a third-round mutation audit (2026-12-07, sources_grid) found
no test pinned: each test fails on a small, plausible change of the source that the suite let pass."""

import math

import numpy as np
import pytest
from osgeo import gdal
from rasters import GEOTRANSFORM, ORIGIN_X, ORIGIN_Y, crs_wkt, write_raster
from test_raster_samples import sparse_raster
from test_raster_sources import UTM32_FROM_LONLAT, _envi, _hsi, _in_lonlat, _logger, _refusal

from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.grid import EARTH_RADIUS_M, Grid, Window, align
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene, window_from_extent

# ---- grid.py


def test_a_pixel_s_sides_on_the_ground_are_measured_at_the_grid_s_centre_not_at_a_pixel_corner_near_it():
    """A 3 x 3 grid of 10-degree pixels from 60 N: measured from its centre (15 E, 45 N), not from the corner of its
    middle pixel (10 E, 50 N), where a degree of longitude is shorter."""
    grid = Grid(3, 3, (0.0, 10.0, 0.0, 60.0, 0.0, -10.0), crs_wkt("EPSG:4326"))
    across = 2 * EARTH_RADIUS_M * math.asin(math.cos(math.radians(45)) * math.sin(math.radians(5)))
    assert grid.ground_pixel_sides() == (pytest.approx(across, rel=1e-9),
                                         pytest.approx(EARTH_RADIUS_M * math.radians(10), rel=1e-9))


def test_a_grid_whose_centre_lies_beyond_its_projection_has_no_pixel_size_rather_than_a_math_domain_error(
        tmp_path, capfd):
    """A bug the audit found: a hyperspectral raster in UTM 32N at x = 1e20 opens, but its pixel size on the ground
    raised ValueError ('math domain error': PROJ gives inf for the centre, not an error), so `mrs pretrain` ended in a
    traceback after the statistics sample, below PROJ's 'Point outside of projection domain' lines; none now."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32), (1e20, 1.0, 0.0, 5102000.0, 0.0, -1.0))
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.grid.ground_pixel_sides() is None
        assert scene.grid.ground_pixel_size() is None
    assert Grid(4, 4, (1e20, 1.0, 0.0, 0.0, 0.0, -1.0), crs_wkt("EPSG:32632")).ground_pixel_sides() is None
    assert Grid(4, 4, (10.0, 0.1, 0.0, 200.0, 0.0, -0.1), crs_wkt("EPSG:4326")).ground_pixel_sides() is None  # review
    assert "projection domain" not in capfd.readouterr().err


def test_pixels_too_small_to_tell_apart_on_the_ground_have_no_size():
    """Pixels of 1e-13 m at UTM coordinates: their corners are one point on the Earth, a side of 0 m, so no size."""
    grid = Grid(4, 4, (ORIGIN_X, 1e-13, 0.0, ORIGIN_Y, 0.0, -1e-13), crs_wkt("EPSG:32632"))
    assert grid.ground_pixel_sides() is None and grid.ground_pixel_size() is None


@pytest.mark.parametrize("left, right, window", [
    (6.9994, 7.0006, Window(7, 1, 1, 2)),  # 1.2e-3 pixels across column 7's edge: the column after it
    (4.99905, 5.00095, Window(5, 1, 1, 2)),  # 1.9e-3 pixels
], ids=["1.2e-3", "1.9e-3"])
def test_a_rectangle_thinner_than_two_edge_tolerances_across_a_pixel_edge_takes_the_pixel_after_it(left, right, window):
    """`_touched`: a span up to 2 x `_EDGE` (a thousandth of a pixel on each side) is thin and takes one pixel; taken
    as a span, crossing the edge by less than `_EDGE` on both sides, it touched none, and overlapped nothing."""
    grid = Grid(10, 10, GEOTRANSFORM, "")
    assert grid.pixel_bounds((ORIGIN_X + left, ORIGIN_Y - 3.0, ORIGIN_X + right, ORIGIN_Y - 1.0)) == window


@pytest.mark.parametrize("bounds", [(np.nan, ORIGIN_Y - 3, ORIGIN_X + 3, ORIGIN_Y - 1),
                                    (ORIGIN_X, ORIGIN_Y - 3, np.inf, ORIGIN_Y - 1)], ids=["nan", "inf"])
def test_a_rectangle_whose_pixel_coordinates_are_not_numbers_touches_no_pixel(bounds):
    """`pixel_bounds`: a NaN side, or an infinite one (0 x inf in the inverse geotransform), touches none: None."""
    assert Grid(10, 10, GEOTRANSFORM, "").pixel_bounds(bounds) is None


def test_an_aux_raster_without_georeferencing_of_another_size_than_the_grid_is_refused_as_such(tmp_path):
    """A LiDAR without a pixel grid beside a georeferenced hyperspectral layer of another size: said to lack
    georeferencing, not to lie at pixel coordinates outside the layer."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    dsm = str(tmp_path / "dsm.tif")
    gdal.GetDriverByName("GTiff").Create(dsm, 5, 3, 1, gdal.GDT_Float32)
    assert _refusal(hsi, dsm) == (
        "The layer 'dsm' has no georeferencing and its size differs from the other layer ('hsi' 4 x 4, 'dsm' 5 x 3 "
        "pixels), so they cannot be aligned. Georeference it or resample it onto the grid of 'hsi'.")


@pytest.mark.parametrize("bounds, reprojectable", [
    ((-1e9, -1e9, 1e9, 1e9), True),
    ((-1.5e9, 0.0, 0.0, 1.0), False),  # far west, as far east is
    ((0.0, -1e30, 1.0, 1.0), False),
], ids=["1e9 either side", "-1.5e9 x", "-1e30 y"])
def test_coordinates_beyond_a_billion_either_side_of_0_are_not_handed_to_proj(bounds, reprojectable):
    """`reprojectable`: within +-`MAX_COORDINATE` (1e9) on both axes, negative coordinates measured as positive ones."""
    from mrs.mrs_qgis_plugin.raster.grid import reprojectable as handed_to_proj

    assert handed_to_proj(bounds) is reprojectable


def test_an_aux_raster_with_eastings_of_twenty_million_is_reprojected_onto_the_grid(tmp_path):
    """Coordinates up to `MAX_COORDINATE` (1e9) go to PROJ: a Gauss-Kruger zone with its number before the easting
    (x 20,500,000, as EPSG:28420's) lies on Earth, and its raster is warped, not refused as far outside its CRS."""
    tmerc = "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0={} +y_0=0 +ellps=WGS84 +units=m +no_defs"
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32),
                       (500000.0, 1.0, 0.0, 5000000.0, 0.0, -1.0), crs=tmerc.format(500000))
    columns = np.tile(np.arange(8, dtype=np.float32), (8, 1))
    dsm = write_raster(tmp_path / "dsm.tif", columns, (20499999.0, 1.0, 0.0, 5000001.0, 0.0, -1.0),
                       crs=tmerc.format(20500000))
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 6, 6)
    assert valid.all()
    np.testing.assert_allclose(values[3], columns[1:7, 1:7], atol=1e-3)


def test_an_aux_raster_that_only_touches_the_grid_along_its_bottom_edge_does_not_overlap_it(tmp_path):
    """A LiDAR whose top edge is the grid's bottom edge shares no pixel with it: refused, not warped into nodata."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 4), np.float32),
                       (ORIGIN_X, 1.0, 0.0, ORIGIN_Y - 4, 0.0, -1.0))
    assert _refusal(hsi, dsm) == (
        "The layers 'hsi' and 'dsm' do not overlap: 'hsi' covers x 664000..664004, y 5101996..5102000 and 'dsm' "
        "covers x 664000..664004, y 5101992..5101996 (in the CRS of 'hsi', EPSG:32632). Choose layers of the same "
        "area, and check that each has the right CRS.")


def test_an_aux_raster_without_a_crs_warped_onto_the_grid_is_said_so_and_takes_no_coordinate_operation(tmp_path):
    """A LiDAR without a CRS on another grid: warped in the grid's CRS, said so after the warp's line, and the
    operation given (one QGIS would give for a CRS assigned in the project only) left aside: its 2 m shift is not
    applied. The scene's line counts the LiDAR's bands."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32))
    columns = np.tile(np.arange(8, dtype=np.float32), (8, 1))
    dsm = write_raster(tmp_path / "dsm.tif", columns, (ORIGIN_X - 1, 1.0, 0.0, ORIGIN_Y + 1, 0.0, -1.0), crs=None)
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm", "+proj=pipeline +step +proj=affine +xoff=2")],
                    hooks) as scene:
        values, _valid = scene.read(0, 0, 6, 6)
    np.testing.assert_allclose(values[3], columns[1:7, 1:7], atol=1e-3)
    assert lines == [
        "'dsm' (no CRS, 8 x 8 pixels) is warped on the fly onto the grid of 'hsi' (EPSG:32632, 6 x 6 pixels), "
        "bilinear resampling.",
        "'dsm' has no CRS; it is taken to be in the CRS of 'hsi'.",
        "Scene: 6 x 6 pixels, 3 bands from 'hsi', no wavelengths, 1 from 'dsm'.",
    ]


def test_a_warped_aux_raster_s_mask_is_placed_through_the_same_coordinate_operation_as_its_data(tmp_path):
    """A LiDAR in longitude and latitude with a mask hiding UTM columns 10-12: through QGIS's operation with a 2 m
    shift east, data and mask both move 2 columns; the mask warped with GDAL's own choice stayed, hiding others."""
    _data, hsi = _hsi(tmp_path, bands=3)
    columns = np.tile(np.arange(30, dtype=np.float32), (20, 1))
    aux = _in_lonlat(tmp_path, "aux", columns, categorical=False)
    dataset = gdal.Open(aux, gdal.GA_Update)
    values = dataset.GetRasterBand(1).ReadAsArray()
    dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
    dataset.GetRasterBand(1).GetMaskBand().WriteArray(np.where((values >= 9.75) & (values < 12.75), 0, 255)
                                                      .astype(np.uint8))
    dataset = None
    hidden = {}
    for shift in (0, 2):
        operation = UTM32_FROM_LONLAT + f" +step +proj=affine +xoff={shift}"
        with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux", operation)]) as scene:
            _values, valid = scene.read(0, 0, 30, 20)
        hidden[shift] = sorted(set(np.nonzero(~valid[5:15, 5:25])[1] + 5))
    assert hidden == {0: [10, 11, 12], 2: [12, 13, 14]}


def test_a_label_raster_warped_onto_the_grid_declares_no_nodata_and_reads_0_outside_it(tmp_path):
    """`align` of labels: nearest neighbour, their own type, no nodata value (GDAL 3.11 turns a source 0 into 1
    under a destination nodata of 0), 0 outside the source."""
    grid = Grid(6, 6, GEOTRANSFORM, crs_wkt("EPSG:32632"))
    labels = np.arange(1, 17, dtype=np.uint8).reshape(4, 4)
    labels[0, 0] = 0
    path = write_raster(tmp_path / "labels.tif", labels, (ORIGIN_X + 1, 1.0, 0.0, ORIGIN_Y - 1, 0.0, -1.0))
    warped = align(gdal.Open(path), "labels", grid, "hsi", Hooks(), categorical=True)
    band = warped.GetRasterBand(1)
    assert (band.GetNoDataValue(), band.DataType) == (None, gdal.GDT_Byte)
    expected = np.zeros((6, 6), np.uint8)
    expected[1:5, 1:5] = labels
    np.testing.assert_array_equal(warped.ReadAsArray(), expected)


# ---- sources.py


def test_a_hyperspectral_layer_without_a_crs_beside_a_layer_with_one_is_refused_naming_that_crs(tmp_path):
    """The refusal names the CRS the auxiliary layer has, the one to assign."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32), crs=None)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 4), np.float32), crs="EPSG:32633")
    assert _refusal(hsi, dsm) == (
        "The hyperspectral layer 'hsi' has no CRS, but 'dsm' has one (EPSG:32633); the hyperspectral grid is the grid "
        "of every result, so it must say where it lies. Assign 'hsi' its CRS (Layer Properties > Source, or "
        "gdal_edit.py -a_srs) and run again.")


@pytest.mark.parametrize("extent, said, warned", [
    ((-0.7, -3.0, 3.0, -1.0), "The extent EXTENT (x 663999.3..664003, y 5101997..5101999) reaches beyond the "
     "hyperspectral layer 'hsi' (x 664000..664006, y 5101994..5102000); its part within the layer is used (3 x 2 "
     "pixels).", False),
    ((-0.4, -3.0, 3.0, -1.0), None, False),  # within half a pixel: a rounded corner
    ((1.0, -1e5, 3.0, -1.0), "The extent EXTENT (x 664001..664003, y 5002000..5101999) reaches beyond the "
     "hyperspectral layer 'hsi' (x 664000..664006, y 5101994..5102000); its part within the layer is used (2 x 5 "
     "pixels), but over 99.99 % of it lies outside: check that it is the extent meant, in the layer's CRS or with its "
     "own, and on the command line in the order xmin,xmax,ymin,ymax.", True),
], ids=["0.7 pixel left", "0.4 pixel left", "far below"])
def test_an_extent_beyond_the_layer_is_said_from_half_a_pixel_and_warned_of_when_it_lies_nearly_all_below(
        tmp_path, extent, said, warned):
    """`_say_clipped`: half a pixel of 1 m is forgiven on the left; an extent reaching 100 km below a 6 m layer lies
    over 99.99 % outside it, counted with its part below the layer left out of the part inside."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32))
    lines, warnings = [], []
    xmin, ymin, xmax, ymax = extent
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        window_from_extent(scene, (ORIGIN_X + xmin, ORIGIN_Y + ymin, ORIGIN_X + xmax, ORIGIN_Y + ymax),
                           Hooks(log=lines.append, warn=warnings.append))
    assert (lines, warnings) == (([], [said]) if warned else ([said] if said else [], []))


def test_the_bands_an_envi_header_marks_bad_are_left_out_of_an_aux_raster_warped_onto_the_grid(tmp_path):
    """ENVI rasters: a SAR of 3 bands on another grid whose header marks band 2 bad: bands 1 and 3 are read (a
    warped copy has no ENVI header, and took all three)."""
    hsi = _envi(tmp_path, "hsi", np.ones((3, 3, 3), np.float32), "")
    sar = _envi(tmp_path, "sar", np.arange(1, 4, dtype=np.float32)[:, None, None] * np.ones((3, 4, 5), np.float32),
                "bbl = {1, 0, 1}\n")
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(sar, "sar")]) as scene:
        values, _valid = scene.read(0, 0, 3, 3)
        assert scene._sources[1].warped and scene.aux_band_counts == [2]
    assert values[3:].tolist() == [[[1.0] * 3] * 3, [[3.0] * 3] * 3]


def test_whether_a_block_holds_data_is_told_by_the_hyperspectral_layer_not_an_auxiliary_one(tmp_path):
    """A sparse hyperspectral layer with data in one block beside a dense LiDAR: the blocks the hyperspectral layer
    never wrote hold no data, whatever the LiDAR holds there."""
    hsi = sparse_raster(tmp_path)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((64, 64), np.float32), crs=None)
    with Scene.open(RasterInput(hsi, "sparse"), [RasterInput(dsm, "dsm")]) as scene:
        assert [scene.holds_data(window) for window in (Window(0, 0, 16, 16), Window(32, 16, 16, 16))] == [False, True]


@pytest.mark.parametrize("corner, rows, cols", [
    ((28, 18), [17, 18, 19, 18], [27, 28, 29, 28]),  # bottom right: the last row and column mirrored
    ((5, 0), [1, 0, 1, 2], [4, 5, 6, 7]),  # on the top edge only: the first row mirrored, the columns read
], ids=["bottom right", "top"])
def test_a_halo_beyond_the_grid_is_reflection_padded_on_the_sides_it_crosses_only(tmp_path, corner, rows, cols):
    """A 2 x 2 window with a halo of 1 is 4 x 4 wherever it lies, mirrored where the halo leaves the 30 x 20 grid."""
    data, hsi = _hsi(tmp_path, bands=3)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        values, valid = scene.read(*corner, 2, 2, halo=1)
    assert values.shape == (3, 4, 4) and valid.shape == (4, 4) and valid.all()
    np.testing.assert_array_equal(values, data[:, rows][:, :, cols])
