"""Edges of the grids, GDAL reading, writers, outputs, sources and statistics sample of the raster pipeline
(grid.py, gdal_io.py, writers.py, outputs.py, sources.py, stats.py) that a mutation audit of 2026-12-06 (round 6)
found no test pinned."""

import math
import os

import numpy as np
import pytest
from osgeo import gdal, osr
from rasters import ORIGIN_X, ORIGIN_Y, write_raster
from test_raster_sources import _logger

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin.raster.grid import Grid
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene


def _wkt(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


@pytest.mark.parametrize("offset, warped", [(1e-4, True), (1e-7, False)])
def test_an_aux_raster_off_the_grid_by_more_than_a_millionth_of_a_pixel_is_warped(tmp_path, offset, warped):
    """Grids match within a millionth of a pixel: a tenth of a millimetre off a 1 m grid is another grid."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 4), np.float32),
                       (ORIGIN_X + offset, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    lines, hooks = _logger()
    Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")], hooks).close()
    assert any(line.startswith("'dsm' (EPSG:32632, 4 x 4 pixels) is warped on the fly") for line in lines) is warped


def test_a_pixel_s_side_on_the_ground_is_measured_on_a_sphere_of_the_earth_s_mean_radius():
    """A thousandth of a degree at the equator is 6371008.8 m x pi / 180 000 = 111.1951 m both ways."""
    sides = Grid(10, 10, (10.0, 1e-3, 0.0, 0.005, 0.0, -1e-3), _wkt(4326)).ground_pixel_sides()
    assert sides == pytest.approx((6371008.8 * math.pi / 180000,) * 2, rel=1e-7)


def _table_map(path, columns, rows):
    """A Byte raster with an attribute table of `columns` ((name, type, usage)) and `rows`."""
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 2, 2, 1, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(np.array([[1, 2], [2, 1]], np.uint8))
    table = gdal.RasterAttributeTable()
    for name, kind, usage in columns:
        table.CreateColumn(name, kind, usage)
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            (table.SetValueAsInt if isinstance(value, int) else table.SetValueAsString)(row, column, value)
    dataset.GetRasterBand(1).SetDefaultRAT(table)
    dataset = None
    return str(path)


def test_an_attribute_table_s_column_called_name_names_the_classes_before_one_called_class(tmp_path):
    """A table marking none as the names: the text column named 'name' is taken before a 'CLASS_CODE' column
    of text that comes first."""
    from mrs.mrs_qgis_plugin.raster.writers import read_classes

    path = _table_map(tmp_path / "map.tif", [("Value", gdal.GFT_Integer, gdal.GFU_Generic),
                                             ("CLASS_CODE", gdal.GFT_String, gdal.GFU_Generic),
                                             ("NAME", gdal.GFT_String, gdal.GFU_Generic)],
                      [(1, "W1", "Water"), (2, "F2", "Forest")])
    assert [(info.value, info.name) for info in read_classes(path, "MAP")] == [(1, "Water"), (2, "Forest")]


def test_an_aux_raster_in_degrees_is_found_over_a_grid_under_the_bulge_of_its_edge(tmp_path):
    """A parallel bows across a UTM zone: the bottom edge of a raster of 46-46.02 degrees north from 8 to 10
    degrees east lies 486 m further south at 9 degrees east (the central meridian) than at its corners. A grid
    there lies within the raster, which its corners alone would say it does not overlap."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 20, 20), np.float32),
                       (499990.0, 1.0, 0.0, 5094220.0, 0.0, -1.0))
    dsm = write_raster(tmp_path / "dsm.tif", np.full((4, 20), 7.0, np.float32), (8.0, 0.1, 0.0, 46.02, 0.0, -0.005),
                       crs="EPSG:4326")
    lines, hooks = _logger()
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")], hooks) as scene:
        values, valid = scene.read(0, 0, 20, 20)
    assert valid.all() and np.all(values[3] == 7.0)
    assert not any("covers only part" in line for line in lines)


def test_an_aux_raster_that_only_touches_the_grid_along_an_edge_does_not_overlap_it(tmp_path):
    """Sharing an edge is no overlap: the layer beside the grid is refused, not warped into nodata."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 4, 4), np.float32))
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((4, 4), np.float32),
                       (ORIGIN_X + 4.0, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    with pytest.raises(InputError) as refused:
        Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")])
    assert str(refused.value).startswith("The layers 'hsi' and 'dsm' do not overlap: 'hsi' covers x 664000..664004, "
                                         "y 5101996..5102000 and 'dsm' covers x 664004..664008")


def test_a_class_whose_colour_table_entry_is_transparent_is_grey_not_black(tmp_path):
    """A fully transparent entry of a colour table (which a VRT keeps, a GeoTIFF not) is no colour: the class it
    names takes the default grey."""
    from mrs.mrs_qgis_plugin.raster.writers import read_classes

    path = write_raster(tmp_path / "map.tif", np.array([[1, 2]], np.uint8), category_names=["", "Water", "Forest"])
    dataset = gdal.Translate(str(tmp_path / "map.vrt"), path, format="VRT")
    table = gdal.ColorTable()
    table.SetColorEntry(1, (0, 0, 255, 255))
    table.SetColorEntry(2, (0, 0, 0, 0))
    dataset.GetRasterBand(1).SetColorTable(table)
    dataset = None
    assert [(info.value, info.name, info.color) for info in read_classes(str(tmp_path / "map.vrt"), "MAP")] == [
        (1, "Water", "#0000ff"), (2, "Forest", "#808080")]


def test_category_names_are_stripped_and_blank_ones_name_no_class(tmp_path):
    """What the accuracy report and the label reading take the names from (`class_names`)."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import class_names

    path = write_raster(tmp_path / "map.tif", np.array([[1, 2, 3]], np.uint8),
                        category_names=["", " Water ", "  ", "Forest"])
    dataset = gdal.Open(path)
    assert class_names(dataset.GetRasterBand(1)) == {1: "Water", 3: "Forest"}


def test_a_failure_gdal_reports_as_it_closes_a_map_is_said_and_publishes_nothing(tmp_path, monkeypatch):
    """A GeoTIFF writes its last directory as it closes: a failure there (a full disk) is the output's, not a
    map published incomplete."""
    from test_raster_writers import CLASSES, GEOTRANSFORM

    from mrs.mrs_qgis_plugin.raster import writers

    with writers.class_raster(str(tmp_path / "map.tif"), "OUTPUT", (4, 4), GEOTRANSFORM, "", CLASSES) as out:
        out.write(np.ones((4, 4), np.uint8), 0, 0)
        monkeypatch.setattr(writers.gdal, "GetLastErrorType", lambda: gdal.CE_Failure)
        monkeypatch.setattr(writers.gdal, "GetLastErrorMsg", lambda: "TIFFWriteDirectory failed")
        with pytest.raises(InputError) as refused:
            out.close()
        monkeypatch.undo()
    assert str(refused.value) == (f"OUTPUT: could not write {tmp_path / 'map.tif'} (TIFFWriteDirectory failed); check "
                                  "the folder's free space and permissions.")
    assert os.listdir(tmp_path) == []


def test_a_style_that_names_a_class_otherwise_in_letter_case_alone_is_warned_of(tmp_path):
    """QGIS's legend shows the style's 'water', the map holds 'Water': a name that differs is said, case too."""
    from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
    from mrs.mrs_qgis_plugin.raster.writers import class_qml, names_beside

    path = write_raster(tmp_path / "map.tif", np.array([[1, 2]], np.uint8), category_names=["", "Water", "Forest"])
    (tmp_path / "map.qml").write_text(class_qml([ClassInfo(1, "water", "#0000ff"), ClassInfo(2, "Forest", "#00ff00")]))
    assert names_beside(path, "map") == [
        f"The class names of 'map' in its style {tmp_path / 'map.qml'} differ from those the map holds itself, which "
        "are used ('water' for 'Water'): QGIS's legend names those classes otherwise. Delete the style and load the "
        "map again to see the names it holds."]


def test_an_output_its_group_may_write_is_not_write_protected(tmp_path):
    """Write-protected is writable by no one (chmod a-w); a file only its group may write is not kept so."""
    from mrs.mrs_qgis_plugin.raster.outputs import check_output_path

    (tmp_path / "map.tif").write_bytes(b"a map")
    (tmp_path / "map.tif").chmod(0o464)
    assert check_output_path(str(tmp_path / "map.tif"), "OUTPUT") == str(tmp_path / "map.tif")


def test_the_owner_of_a_sticky_folder_may_replace_another_user_s_file_in_it(tmp_path, monkeypatch):
    from mrs.mrs_qgis_plugin.raster.outputs import check_output_path

    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "map.tif").write_bytes(b"someone's map")
    user = os.stat(folder / "map.tif").st_uid + 4242
    os.chown(folder, user, -1)  # the folder is this user's, the file another's
    monkeypatch.setattr(os, "geteuid", lambda: user)
    assert check_output_path(str(folder / "map.tif"), "OUTPUT") == str(folder / "map.tif")


def test_an_envi_reflectance_scale_factor_of_1_is_not_said_to_be_left_unapplied(tmp_path):
    """A factor of 1 scales nothing: nothing is said of it, whatever gains the header's bands have."""
    from test_raster_sources import _envi

    hsi = _envi(tmp_path, "rfl", np.ones((3, 4, 5), np.float32),
                "reflectance scale factor = 1.0\ndata gain values = {0.0001, 0.0001, 0.0001}\n")
    lines, hooks = _logger()
    Scene.open(RasterInput(hsi, "rfl"), [], hooks).close()
    assert lines == ["Scene: 5 x 4 pixels, 3 bands from 'rfl', no wavelengths."]


def test_wavelengths_without_a_unit_are_micrometres_only_when_all_lie_below_30(tmp_path):
    from test_raster_sources import _hsi

    _data, hsi = _hsi(tmp_path, metadata={"wavelength": "{12, 450, 550, 650}"})
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        assert scene.wavelengths == [12.0, 450.0, 550.0, 650.0]



def _with_alpha(path, data, alpha, shift):
    path = write_raster(path, np.stack([data, alpha]), (ORIGIN_X + shift, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(2).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    return path


@pytest.mark.parametrize("dtype, size, rows", [(np.float32, 1000, (500, 510)), (np.uint8, 10, (0, 10))])
def test_an_aux_raster_s_alpha_hides_the_same_pixels_warped_as_on_the_grid(tmp_path, dtype, size, rows):
    """A mutation audit of 2026-12-06: a float alpha of 1 on ten rows of a thousand was missed by GDAL's
    approximate largest value, and a byte alpha of 0 and 1 was weighed as 0-255: once warped, every pixel was
    hidden (on the grid, those of alpha 1 were valid), and the run said no pixel was valid in every layer."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, size, size), np.float32))
    alpha = np.zeros((size, size), dtype)
    alpha[rows[0]:rows[1], 3:] = 1
    valid = {}
    for shift in (0.0, 0.5):
        aux = _with_alpha(tmp_path / f"dsm_{shift}.tif", np.full((size, size), 7, dtype), alpha, shift)
        with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(aux, "dsm")]) as scene:
            _values, mask = scene.read(0, rows[0], size, rows[1] - rows[0])
        valid[shift] = mask[:, 4:-1]  # away from the columns a half-pixel shift blends
    assert valid[0.0].all() and valid[0.5].all()
