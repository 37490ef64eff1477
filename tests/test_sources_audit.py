"""Edges of the aligned reader and of a scene's grid (raster/sources.py, raster/grid.py) that a second mutation audit
(2026-12-07) found no test pinned: each test fails on a small, plausible bug that the suite let pass, and passes
without it."""

import math
import re

import numpy as np
import pytest
from osgeo import gdal, osr
from rasters import ORIGIN_X, ORIGIN_Y, point_wkt, write_raster, write_vector
from test_raster_samples import INT_FIELDS, _pixels, scene  # noqa: F401 (the fixture)
from test_raster_sources import UTM32_FROM_LONLAT, _envi, _hsi, _logger, _refusal

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster.grid import Grid, Window, crs_label
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene, window_from_extent
from mrs.mrs_qgis_plugin.raster.vector_labels import labels_from_vector

DEGREES = (9.0, 1e-4, 0.0, 46.0, 0.0, -1e-4)
"""A grid of 1e-4 degree pixels from 9 E, 46 N."""

# ---- grid.py


def test_a_coordinate_operation_of_one_step_is_applied_in_longitude_latitude_order(tmp_path):
    """An operation that is no pipeline (+proj=affine, say) is wrapped in one with the axis swaps EPSG:4326's
    latitude-first order needs: applied as it stands, its shift of two pixels east moved the data two rows."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32), DEGREES, crs="EPSG:4258")
    rows, cols = np.mgrid[0:6, 0:6]
    aux = write_raster(tmp_path / "aux.tif", (10 * rows + cols).astype(np.float32), DEGREES, crs="EPSG:4326")
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux", "+proj=affine +xoff=2e-4")]) as scene:
        values, valid = scene.read(0, 0, 6, 6)
    assert (valid[:, :2] == 0).all() and valid[:, 2:].all()
    np.testing.assert_allclose(values[3][:, 2:], (10 * rows + cols)[:, :4], atol=1e-4)


def test_samples_in_longitude_and_latitude_are_placed_through_the_operation_given(tmp_path, scene):
    """QGIS's pipeline from EPSG:4326 takes x = longitude: handed to GDAL with the layer's axes in GIS order
    around it, latitudes were read as longitudes."""
    from rasters import pixel_centre, transform_points

    cells = [(1, 2), (4, 9), (7, 3)]
    lonlat = transform_points([pixel_centre(row, col) for row, col in cells], "EPSG:32632", "EPSG:4326")
    features = [(point_wkt(x, y), {"class": 1 + number % 2}) for number, (x, y) in enumerate(lonlat)]
    path = write_vector(tmp_path / "lonlat.gpkg", features, INT_FIELDS, crs="EPSG:4326")
    labels = labels_from_vector(scene, f"{path}|layername=samples|operation={UTM32_FROM_LONLAT}", None, "class", None,
                                "lonlat")
    assert _pixels(labels) == [(1, 2, 1), (4, 9, 2), (7, 3, 1)]


def _wkt(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


LOCAL = 'LOCAL_CS["Arbitrary",UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'


@pytest.mark.parametrize("grid, sides", [
    # a local CRS's rotated pixel: 5 across (3, 4 a column on) and the root of 5 down (1, -2 a row on)
    (Grid(4, 4, (0.0, 3.0, 1.0, 0.0, 4.0, -2.0), LOCAL), (5.0, math.sqrt(5.0))),
    # Web Mercator pixels of 1000 map metres, measured at the grid's centre at 50 degrees north, not at its corner
    (Grid(1000, 1000, (0.0, 1000.0, 0.0, 6446275.841017161 + 500000.0, 0.0, -1000.0), _wkt(3857)),
     (1000.0 * math.cos(math.radians(50)) * 6371008.8 / 6378137.0,) * 2),
], ids=["local, rotated", "web mercator"])
def test_a_pixel_s_sides_on_the_ground_follow_its_rows_and_columns_at_the_grid_s_centre(grid, sides):
    assert grid.ground_pixel_sides() == pytest.approx(sides, rel=2e-3)


def _on_the_sphere(lon, lat, other_lon, other_lat):
    """The great-circle distance in metres, by the chord between the points' unit vectors."""
    def unit(lon, lat):
        lon, lat = math.radians(lon), math.radians(lat)
        return np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])

    return 2 * 6371008.8 * math.asin(np.linalg.norm(unit(lon, lat) - unit(other_lon, other_lat)) / 2)


def test_a_rotated_pixel_in_degrees_is_measured_along_the_great_circle():
    """Its neighbours across and down lie at other latitudes: the haversine takes the cosine of each."""
    step = 1e-3 * math.sqrt(0.5)
    grid = Grid(2, 2, (10.0, step, step, 60.0, step, -step), _wkt(4326))  # centre at 10.0014 E, 60 N
    centre = (10.0 + 2 * step, 60.0)
    assert grid.ground_pixel_sides() == pytest.approx(
        (_on_the_sphere(*centre, centre[0] + step, centre[1] + step),
         _on_the_sphere(*centre, centre[0] + step, centre[1] - step)), rel=1e-9)


def test_a_raster_with_a_crs_but_no_geotransform_has_no_pixel_size_on_the_ground():
    """Its grid lies in pixel space: the CRS's metres would make its pixels 1 m a side."""
    dataset = gdal.GetDriverByName("MEM").Create("", 4, 4, 1)
    dataset.SetProjection(_wkt(32632))
    grid = Grid.of(dataset)
    assert not grid.georeferenced and grid.ground_pixel_sides() is None and grid.ground_pixel_size() is None


def test_a_crs_whose_authority_has_no_name_is_said_by_its_name_not_by_its_code_alone():
    wkt = _wkt(32632).replace('AUTHORITY["EPSG","32632"]]', 'AUTHORITY["","32632"]]')
    assert crs_label(wkt) == "WGS 84 / UTM zone 32N"


@pytest.mark.parametrize("geotransform, layout", [
    # a geotransform's row rotation (its fifth term) alone: said to be flipped, with a pixel size of 1 x -1
    ((ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.2, -1.0), "a rotated grid"),
    # oblong pixels south-up: the size across, then the size down
    ((ORIGIN_X, 2.0, 0.0, ORIGIN_Y - 3.0, 0.0, 0.5),
     "a flipped grid (pixel size 2 x 0.5: rows from south to north, or columns from east to west)"),
], ids=["rows skewed", "oblong south-up"])
def test_a_grid_no_layer_can_be_warped_onto_is_said_to_lie_as_it_does(tmp_path, geotransform, layout):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32), geotransform)
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((6, 6), np.float32),
                       (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    assert _refusal(hsi, dsm) == (f"The layer 'hsi' has {layout}, onto which 'dsm' cannot be warped. Warp 'hsi' to a "
                                  "north-up grid first (Raster > Projections > Warp).")


def test_two_layers_without_georeferencing_of_different_sizes_are_refused_naming_the_auxiliary_one(tmp_path):
    for name, width, count in (("hsi", 5, 3), ("dsm", 6, 1)):
        gdal.GetDriverByName("GTiff").Create(str(tmp_path / f"{name}.tif"), width, 4, count, gdal.GDT_Float32)
    assert _refusal(str(tmp_path / "hsi.tif"), str(tmp_path / "dsm.tif")) == (
        "The layer 'dsm' has no georeferencing and its size differs from the other layer ('hsi' 5 x 4, 'dsm' 6 x 4 "
        "pixels), so they cannot be aligned. Georeference it or resample it onto the grid of 'hsi'.")


@pytest.mark.parametrize("corner, covers", [
    ((ORIGIN_X, ORIGIN_Y + 4), "x 664000..664004, y 5102000..5102004"),  # above
    ((ORIGIN_X - 4, ORIGIN_Y), "x 663996..664000, y 5101996..5102000"),  # left of it
], ids=["above", "left"])
def test_an_aux_raster_that_only_touches_the_grid_along_an_edge_does_not_overlap_it(tmp_path, corner, covers):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 4), np.float32), (corner[0], 1.0, 0.0, corner[1], 0.0, -1.0))
    assert _refusal(hsi, dsm) == (
        f"The layers 'hsi' and 'dsm' do not overlap: 'hsi' covers x 664000..664004, y 5101996..5102000 and 'dsm' "
        f"covers {covers} (in the CRS of 'hsi', EPSG:32632). Choose layers of the same area, and check that each has "
        "the right CRS.")


@pytest.mark.parametrize("extent", [(6, -2, 9, -1), (1, 0, 2, 3)], ids=["right", "top"])
def test_an_extent_that_only_touches_the_layer_along_an_edge_does_not_overlap_it(tmp_path, extent):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32))
    xmin, ymin, xmax, ymax = extent
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene, pytest.raises(InputError) as refused:
        window_from_extent(scene, (ORIGIN_X + xmin, ORIGIN_Y + ymin, ORIGIN_X + xmax, ORIGIN_Y + ymax))
    assert str(refused.value).endswith("does not overlap the hyperspectral layer 'hsi' (x 664000..664006, y "
                                       "5101994..5102000). Choose an extent inside that layer, or leave it empty to "
                                       "use the whole layer.")


def test_a_rotated_grid_s_tolerance_is_a_millionth_of_its_longest_step(tmp_path):
    """Steps of 0.6 and 0.8: a layer 0.7 millionths off it lies on it, read as it is (not refused as one to warp
    onto a rotated grid)."""
    rotated = (ORIGIN_X, 0.6, 0.8, ORIGIN_Y, 0.8, -0.6)
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32), rotated)
    dsm = write_raster(tmp_path / "dsm.tif", np.arange(16, dtype=np.float32).reshape(4, 4),
                       (ORIGIN_X + 7e-7, *rotated[1:]))
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        values, valid = scene.read(0, 0, 4, 4)
    assert valid.all() and values[3].tolist() == np.arange(16).reshape(4, 4).tolist()


def test_a_layer_without_georeferencing_of_the_grid_s_size_lies_on_its_pixels(tmp_path):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 5), np.float32))
    dsm = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "dsm.tif"), 5, 4, 1, gdal.GDT_Float32)
    dsm.WriteArray(np.arange(20, dtype=np.float32).reshape(4, 5))
    dsm = None
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(str(tmp_path / "dsm.tif"), "dsm")], hooks) as scene:
        values, valid = scene.read(0, 0, 5, 4)
    assert valid.all() and values[3].tolist() == np.arange(20).reshape(4, 5).tolist()
    assert lines[0] == ("'dsm' has no georeferencing (no pixel grid in its file); as it has the size of 'hsi' (5 x 4 "
                        "pixels), it is taken to lie on the same pixels.")


def test_nodata_among_data_is_counted_on_a_warped_layer_s_whole_extent_where_the_grid_cannot_be_carried_into_it(
        tmp_path):
    """A grid in tenths of a millimetre lies at coordinates beyond those reprojected: its bounds are not carried into
    the layer's CRS, and the layer's own pixels are counted whole (not refused as a layer '' far outside its CRS)."""
    tenths = "+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 +to_meter=0.0001 +no_defs"
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32),
                       (ORIGIN_X * 1e4, 1e4, 0.0, ORIGIN_Y * 1e4, 0.0, -1e4), crs=tenths)
    heights = np.ones((2, 6, 6), np.float32)
    heights[0, 2, 2] = -1
    dsm = write_raster(tmp_path / "dsm.tif", heights, (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0), nodata=-1)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        assert scene.nodata_among_data() == [("dsm", pytest.approx(1 / 36), ["band 1 of 'dsm'"], -1.0, True)]


def test_a_hyperspectral_layer_without_georeferencing_is_said_to_lie_on_a_label_raster_of_its_size(tmp_path):
    from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster

    hsi = gdal.GetDriverByName("GTiff").Create(str(tmp_path / "hsi.tif"), 5, 4, 3, gdal.GDT_Float32)
    hsi.WriteArray(np.ones((3, 4, 5), np.float32))
    hsi = None
    labels = write_raster(tmp_path / "labels.tif", np.array([[1, 2, 0, 0, 0]] * 4, np.uint8))
    lines = []
    with Scene.open(RasterInput(str(tmp_path / "hsi.tif"), "hsi"), []) as scene:
        labels_from_raster(scene, labels, "labels", Hooks(log=lines.append))
    assert lines[0] == ("'hsi' has no georeferencing (no pixel grid in its file); as it has the size of 'labels' "
                        "(5 x 4 pixels), it is taken to lie on the same pixels.")


def test_an_aux_raster_without_a_crs_on_the_grid_is_said_to_be_taken_in_the_grid_s_crs(tmp_path):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 5), np.float32))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 5), np.float32), crs=None)
    lines, hooks = _logger()
    Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")], hooks).close()
    assert lines[0] == "'dsm' has no CRS; it is taken to be in the CRS of 'hsi'."


def test_a_hyperspectral_layer_without_a_crs_is_said_to_be_taken_in_a_label_raster_s(tmp_path):
    from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster

    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 5), np.float32), crs=None)
    labels = write_raster(tmp_path / "labels.tif", np.array([[1, 2, 0, 0, 0]] * 4, np.uint8))
    lines = []
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        labels_from_raster(scene, labels, "labels", Hooks(log=lines.append))
    assert lines[0] == "'hsi' has no CRS; it is taken to be in the CRS of 'labels'."


# ---- sources.py


def test_nodata_among_data_is_counted_on_a_warped_layer_without_a_crs(tmp_path):
    """Its own pixels under the grid are found with the grid's CRS taken for its own."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32))
    heights = np.ones((2, 6, 6), np.float32)
    heights[0, 2, 2] = -1
    dsm = write_raster(tmp_path / "dsm.tif", heights, (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0), crs=None,
                       nodata=-1)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        assert scene.nodata_among_data() == [("dsm", pytest.approx(1 / 36), ["band 1 of 'dsm'"], -1.0, True)]


def test_nodata_among_data_of_a_warped_layer_of_a_million_pixels_in_8_rows_is_counted_in_windows_of_its_rows(tmp_path):
    """8 windows of 8 x 128 pixels spread along its 131,100 columns (not of 128 rows, beyond its 8)."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 1, 1312), np.float32),
                       (ORIGIN_X, 100.0, 0.0, ORIGIN_Y, 0.0, -100.0))
    heights = np.ones((2, 8, 131100), np.uint8)
    heights[0, 0, 0] = 0
    dsm = write_raster(tmp_path / "dsm.tif", heights, nodata=0)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        assert scene.nodata_among_data() == [("dsm", 1 / (8 * 8 * 128), ["band 1 of 'dsm'"], 0.0, True)]


def test_nodata_among_data_and_infinite_values_are_shares_of_the_pixels_they_may_lie_in(tmp_path):
    """Nodata among data: of the pixels where some band holds data (15 of 16: one is nodata in both bands); infinite
    values: of the pixels counted, any band's (two at different pixels), those hidden by a layer's nodata (the
    hyperspectral one's at 0, 0) aside."""
    hsi = np.ones((3, 4, 4), np.float32)
    hsi[:, 0, 0] = -1
    hsi = write_raster(tmp_path / "hsi.tif", hsi, nodata=-1)
    dsm = np.ones((2, 4, 4), np.float32)
    dsm[0, 2, 2] = dsm[:, 3, 3] = -1
    dsm[1, 0, 0] = dsm[1, 1, 1] = dsm[0, 1, 2] = np.inf
    dsm = write_raster(tmp_path / "dsm.tif", dsm, nodata=-1)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        with scene.nodata_counted():
            scene.read(0, 0, 4, 4)
        assert scene.nodata_among_data() == [("dsm", 1 / 15, ["band 1 of 'dsm'"], -1.0, False)]
        assert scene.infinite_values() == [("dsm", 2 / 16, ["band 1 of 'dsm'", "band 2 of 'dsm'"])]


def test_nodata_among_data_is_said_with_the_nodata_value_of_the_band_that_holds_it(tmp_path):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    dsm = np.ones((2, 4, 4), np.float32)
    dsm[1, 2, 2] = -1
    dataset = gdal.Translate(str(tmp_path / "dsm.vrt"), write_raster(tmp_path / "dsm.tif", dsm, nodata=-1),
                             format="VRT")
    dataset.GetRasterBand(1).SetNoDataValue(-5)  # a VRT holds a nodata value for each band
    dataset, dsm = None, str(tmp_path / "dsm.vrt")
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        with scene.nodata_counted():
            scene.read(0, 0, 4, 4)
        assert scene.nodata_among_data() == [("dsm", 1 / 16, ["band 2 of 'dsm'"], -1.0, False)]


def test_one_band_an_envi_header_marks_bad_is_said_in_the_singular(tmp_path):
    hsi = _envi(tmp_path, "rfl", np.ones((4, 3, 3), np.float32), "bbl = {1, 0, 1, 1}\n")
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "rfl"), [], hooks) as scene:
        assert scene.n_hsi == 3
    assert lines[0] == "'rfl': 1 band its ENVI header marks bad (bbl: band 2) is left out."


def test_a_vrt_tile_whose_top_edge_lies_on_pixel_centres_holds_those_pixels(tmp_path):
    """A footprint is half-open: the pixels whose centre lies on its top edge (row 2 of a tile from row 2.5) are in
    it."""
    hsi = write_raster(tmp_path / "hsi.tif", np.arange(3 * 10 * 10, dtype=np.float32).reshape(3, 10, 10) + 1)
    vrt = tmp_path / "mosaic.vrt"
    gdal.Translate(str(vrt), hsi, format="VRT")
    text, count = re.subn(r'<DstRect xOff="0" yOff="0" xSize="10" ySize="10"',
                          '<DstRect xOff="0" yOff="2.5" xSize="10" ySize="7.5"', vrt.read_text())
    assert count == 3
    vrt.write_text(text)
    with Scene.open(RasterInput(str(vrt), "mosaic"), []) as scene:
        _values, valid = scene.read(0, 0, 10, 10)
    np.testing.assert_array_equal(valid, np.tile(np.arange(10) >= 2, (10, 1)).T)


@pytest.mark.parametrize("header, said", [
    ("reflectance scale factor = 0\n", False),  # no scale: its inverse, advised, was a division by zero
    ("reflectance scale factor = {10000, 10000}\n", False),  # one factor or none
    ("reflectance scale factor = 10100\ndata gain values = {0.0001, 0.0001, 0.0001}\n", True),  # 1 % off the gains
], ids=["zero", "two factors", "gains off by 1 %"])
def test_an_envi_reflectance_scale_factor_is_said_unapplied_only_when_it_is_one_the_gains_do_not_apply(
        tmp_path, header, said):
    hsi = _envi(tmp_path, "rfl", np.ones((3, 4, 5), np.float32), header)
    lines, hooks = _logger()
    Scene.open(RasterInput(hsi, "rfl"), [], hooks).close()
    assert [line for line in lines if "scale factor" in line] == (
        ["'rfl': its ENVI header gives a reflectance scale factor of 10100, which is not applied (nor does QGIS apply "
         "it): the values are read as the file stores them. For reflectance, use a copy with that scale "
         "(gdal_translate -a_scale 9.90099e-05)."] if said else [])


def test_wavelengths_without_a_unit_reaching_30_are_nanometres(tmp_path):
    """Only wavelengths all below 30 are taken as micrometres: 30 um would be a thermal band of 30000 nm."""
    _data, hsi = _hsi(tmp_path, metadata={"wavelength": "{1.5, 2, 2.5, 30}"})
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths == [1.5, 2.0, 2.5, 30.0]


@pytest.mark.parametrize("metadata, said", [
    ({"wavelength": "{450, 550, 650, 850}", "wavelength_units": "GHz"},
     "'hsi' gives wavelengths in 'GHz', which is not nm or µm; the wavelengths are ignored."),
    ({"wavelength": "{0, 550, 650, 850}", "wavelength_units": "nm"},
     "'hsi' lists wavelengths that are not positive numbers; the wavelengths are ignored."),
], ids=["unit", "zero"])
def test_wavelengths_in_another_unit_or_not_positive_are_ignored_and_said_so(tmp_path, metadata, said):
    _data, hsi = _hsi(tmp_path, metadata=metadata)
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [], hooks) as scene:
        assert scene.wavelengths is None
    assert lines[0] == said


def test_a_netcdf_cube_s_wavelength_dimension_is_read_in_its_own_unit(tmp_path):
    _data, hsi = _hsi(tmp_path, metadata={"wavelength#units": "GHz"})
    dataset = gdal.Open(hsi, gdal.GA_Update)
    for number, value in enumerate(("450", "550", "650", "850"), start=1):
        dataset.GetRasterBand(number).SetMetadataItem("NETCDF_DIM_wavelength", value)
    dataset = None
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [], hooks) as scene:
        assert scene.wavelengths is None
    assert lines[0] == "'hsi' gives wavelengths in 'GHz', which is not nm or µm; the wavelengths are ignored."


def _aux_alpha_first(tmp_path):
    """A 3-band auxiliary raster of the grid whose second band GDAL marks as alpha (ALPHA=YES)."""
    path = str(tmp_path / "dsm.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(path, 5, 4, 3, gdal.GDT_Float32, ["ALPHA=YES"])
    dataset.SetGeoTransform((ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    dataset.SetProjection(_wkt(32632))
    dataset.WriteArray(np.ones((3, 4, 5), np.float32))
    return path


def _aux_vrt_on_the_grid(tmp_path):
    """A VRT without a nodata value on the grid itself, with a gap at column 2: read as it is, its gap is told apart."""
    tiles = [write_raster(tmp_path / f"tile{col}.tif", np.ones((4, 2), np.float32),
                          (ORIGIN_X + col, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0)) for col in (0, 3)]
    gdal.BuildVRT(str(tmp_path / "dsm.vrt"), tiles)
    return str(tmp_path / "dsm.vrt")


def _aux_envi_with_a_bad_band(tmp_path):
    """An ENVI raster of the grid whose header marks its second band bad."""
    dataset = gdal.GetDriverByName("ENVI").Create(str(tmp_path / "dsm.img"), 5, 4, 3, gdal.GDT_Float32)
    dataset.SetGeoTransform((ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    dataset.SetProjection(_wkt(32632))
    dataset.WriteArray(np.ones((3, 4, 5), np.float32))
    dataset = None
    with open(tmp_path / "dsm.hdr", "a") as header:
        header.write("bbl = {1, 0, 1}\n")
    return str(tmp_path / "dsm.img")


def _aux_alpha_only(tmp_path):
    path = write_raster(tmp_path / "dsm.tif", np.ones((4, 5), np.uint8))
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(1).SetColorInterpretation(gdal.GCI_AlphaBand)
    return path


@pytest.mark.parametrize("aux, said", [
    (_aux_alpha_first, ["warning: Band 2 of 'dsm' is marked as an alpha band (a mask of the others), so it is read as "
                        "a mask, not as data, and the bands after it move up. If it holds data, copy the raster with "
                        "the band marked as data (gdal_translate -colorinterp_2 undefined), or move the mask to the "
                        "last band."]),
    (_aux_envi_with_a_bad_band, ["'dsm': 1 band its ENVI header marks bad (bbl: band 2) is left out."]),
    (_aux_vrt_on_the_grid, []),  # the warning of a warped VRT without a nodata value: its gaps are told apart here
], ids=["inner alpha", "envi bad band", "vrt on the grid"])
def test_what_is_said_of_an_auxiliary_layer(tmp_path, aux, said):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 5), np.float32))
    lines = []
    hooks = Hooks(log=lines.append, warn=lambda text: lines.append(f"warning: {text}"))
    Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux(tmp_path), "dsm")], hooks).close()
    assert [line for line in lines if not line.startswith("Scene:")] == said


def test_an_auxiliary_layer_of_an_alpha_band_alone_is_refused_as_one_without_data(tmp_path):
    assert _refusal(write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 5), np.float32)), _aux_alpha_only(tmp_path)) == (
        "The auxiliary layer 'dsm' has no data band. Choose a SAR or LiDAR raster.")


def test_each_layer_s_own_valid_pixels_its_infinite_values_and_the_hyperspectral_block_s_nan(tmp_path):
    """The hyperspectral layer: nodata at (0, 0), infinite at (1, 1) in band 1, NaN at (2, 2) in band 2; the LiDAR:
    infinite at (2, 2), where the NaN beside it hides it from the count, and at (3, 3)."""
    hsi = np.ones((3, 4, 4), np.float32)
    hsi[:, 0, 0], hsi[0, 1, 1], hsi[1, 2, 2] = -1, np.inf, np.nan
    hsi = write_raster(tmp_path / "hsi.tif", hsi, nodata=-1)
    dsm = np.ones((4, 4), np.float32)
    dsm[2, 2] = dsm[3, 3] = np.inf
    dsm = write_raster(tmp_path / "dsm.tif", dsm)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        layers_valid = np.zeros((2, 4, 4), bool)
        with scene.nodata_counted():
            scene.read(0, 0, 4, 4, layers_valid=layers_valid)
        assert np.argwhere(~layers_valid[1]).tolist() == [[2, 2], [3, 3]]  # the hyperspectral layer's (0, 0) aside
        assert scene.infinite_values() == [("hsi", 1 / 16, ["band 1 of 'hsi'"]), ("dsm", 1 / 16, ["band 1 of 'dsm'"])]
        block = scene.hyperspectral_block(Window(0, 0, 4, 4))
    assert np.isnan(block[0, 1, 1]) and block[1:, 1, 1].tolist() == [1.0, 1.0]


def test_an_extent_of_which_99_99_percent_lies_outside_the_layer_is_warned_of(tmp_path):
    """100 x 100 m of which 1 m² lies over the layer: at the share warned of, a warning, not an info line."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32))
    lines, warnings = [], []
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        window = window_from_extent(scene, (ORIGIN_X + 5, ORIGIN_Y - 1, ORIGIN_X + 105, ORIGIN_Y + 99),
                                    Hooks(log=lines.append, warn=warnings.append))
    assert window == Window(5, 0, 1, 1) and lines == []
    assert len(warnings) == 1 and warnings[0].endswith(
        "(1 x 1 pixels), but over 99.99 % of it lies outside: check that it is the extent meant, in the layer's CRS or "
        "with its own, and on the command line in the order xmin,xmax,ymin,ymax.")


def test_samples_outside_a_map_read_on_its_own_grid_are_said_to_lie_outside_the_map_not_a_hyperspectral_layer(
        tmp_path):
    path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))
    samples = write_vector(tmp_path / "pts.gpkg", [(point_wkt(ORIGIN_X + 50.5, ORIGIN_Y - 0.5), {"class": 1})],
                           INT_FIELDS)
    with Scene.single(RasterInput(path, "map")) as scene, pytest.raises(InputError) as refused:
        labels_from_vector(scene, samples, None, "class", None, "pts")
    assert str(refused.value).startswith("None of the samples of 'pts' falls inside the layer 'map'. ")


def test_a_band_is_labelled_by_its_description_and_its_place_and_an_empty_window_is_not_read(tmp_path):
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32), descriptions=["blue", "", "red"])
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.band_labels == ["'blue' (band 1 of 'hsi')", "band 2 of 'hsi'", "'red' (band 3 of 'hsi')"]
        with pytest.raises(ValueError, match=r"^window \(1, 0, 0, 4\) is not inside the 4 x 4 grid$"):
            scene.read(1, 0, 0, 4)


@pytest.mark.parametrize("step", [1.0, 0.5])
def test_an_extent_reaching_beyond_any_number_of_pixels_is_clipped_to_the_layer(tmp_path, step):
    """The audit's real bug: to x = 1e308, the pixels of 0.5 m overflowed to infinity, and the extent was said not to
    overlap the layer it covers; on 1 m pixels it was cut to the layer."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 6, 6), np.float32), (ORIGIN_X, step, 0, ORIGIN_Y, 0, -step))
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        window = window_from_extent(scene, (ORIGIN_X + 1, ORIGIN_Y - 2 * step, 1e308, ORIGIN_Y - step))
    assert (window.col, window.row, window.width, window.height) == (int(1 / step), 1, 6 - int(1 / step), 1)
