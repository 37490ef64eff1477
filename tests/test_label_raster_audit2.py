"""Label rasters (raster/label_raster.py): behaviour that no test held after the first audit, each test failing on a
small, plausible bug that the suite let pass (a helper's second mutation audit of 2026-12-07, each checked to fail on
its bug and pass without it)."""
import numpy as np
import pytest
from osgeo import gdal
from rasters import ORIGIN_X, ORIGIN_Y, UTM32, crs_wkt, transform_points, write_raster
from test_labels_audit import HEIGHT, WIDTH, _read

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import label_raster
from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster, one_negative_code_problem
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene



@pytest.fixture
def scene(tmp_path):
    """A 3-band scene of 12 x 16 one-metre pixels."""
    with Scene.open(RasterInput(write_raster(tmp_path / "hsi.tif", np.ones((3, HEIGHT, WIDTH), np.float32)), "hsi"),
                    []) as opened:
        yield opened


@pytest.mark.parametrize("name", ["Unlabelled", "Unlabeled", "Nodata", "no_data", "No-Data", "Background",
                                  "Unclassified", "Not classified", "None", "Void", "Empty", "Null", "Masked", "Fill",
                                  "Ignore", "Ignored", "No class", "not-labeled", "Unknown", "0 - No data",
                                  "Background / unlabelled pixels", "Null value", "Ignored classes"])
def test_every_word_that_names_0_as_unlabelled_keeps_a_0_beside_another_nodata_value_unsaid(tmp_path, scene, name):
    """The words of UNLABELLED, each, and names of them with numbers, punctuation and FILLER: a 0 so named is what 0
    means here, not a class lost."""
    values = np.full((HEIGHT, WIDTH), 255, np.uint8)
    values[0, :3], values[1, :4] = 0, 1
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "zero.tif", values, nodata=255,
                                                          category_names=[name, "Crop"]))
    assert warnings == []


@pytest.mark.parametrize("name", ["Unknown crop", "Empty lot", "Fill material"])
def test_a_class_named_with_a_word_of_no_class_among_others_is_a_class(tmp_path, scene, name):
    """A helper's audit of 2026-12-07: a class 0 named 'Unknown crop', or a nodata value 7 named 'Fill material', was
    left out unsaid, for a word of UNLABELLED in its name."""
    values = np.full((HEIGHT, WIDTH), 255, np.uint8)
    values[0, :3], values[1, :4] = 0, 1
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "zero.tif", values, nodata=255,
                                                          category_names=[name, "Crop"]), "zero")
    assert warnings == [f"The label layer 'zero' names its value 0 '{name}' and declares 255 as its nodata value, but "
                        "0 means unlabelled here, so its pixels of value 0 (3) are left out. If 0 is a class, recode "
                        "the classes from 1."]
    values = np.where(values == 0, 7, np.where(values == 255, 0, values)).astype(np.uint8)
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "seven.tif", values, nodata=7,
                                                          category_names=["", "Crop", *[""] * 5, name]), "seven")
    assert warnings == [f"The label layer 'seven' declares 7 as its nodata value, but names that value '{name}' as a "
                        f"class: its pixels are left out as unlabelled. If '{name}' is a class, declare another nodata "
                        "value, or none (0 means unlabelled here)."]


@pytest.mark.parametrize("nodata, declared", [(255, "declares 255 as its nodata value"),
                                              (None, "declares no nodata value")])
def test_a_named_class_0_is_said_with_its_nodata_value_and_its_pixels_counted_with_thousands(
        tmp_path, scene, nodata, declared):
    """A 40 x 40 raster over the scene, 0 named 'Water' in 1,595 of its pixels: the count is the raster's own, with a
    thousands separator, and the nodata value, or none, is said."""
    values = np.zeros((40, 40), np.uint8)
    values[0, :5] = 1
    path = write_raster(tmp_path / "water.tif", values, (ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0), nodata=nodata,
                        category_names=["Water", "Crop"])
    _labels, warnings, _lines = _read(scene, path, "water")
    assert warnings == [f"The label layer 'water' names its value 0 'Water' and {declared}, but 0 means unlabelled "
                        "here, so its pixels of value 0 (1,595) are left out. If 0 is a class, recode the classes "
                        "from 1."]


@pytest.mark.parametrize("zeros, said", [
    (1, "holds 1 pixel of value 0, which means unlabelled here too, so it is left out."),
    (2, "holds 2 pixels of value 0, which means unlabelled here too, so they are left out."),
])
def test_an_unnamed_0_beside_another_nodata_value_is_said_in_the_singular_or_plural(tmp_path, scene, zeros, said):
    """One pixel of value 0 'is' left out; two 'are'."""
    values = np.full((HEIGHT, WIDTH), 255, np.uint8)
    values[0, :zeros], values[1, :4] = 0, 1
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "zero.tif", values, nodata=255))
    assert warnings == [f"The label layer 'labels' declares 255 as its nodata value and {said} If 0 is a class, "
                        "recode the classes from 1."]


@pytest.mark.parametrize("found", [[1, -1, -2, 2], [-1, -2]])
def test_two_negative_codes_get_no_advice_to_declare_one_nodata(found):
    """The map's check (analysis.py) gives the whole map: the way out is for one negative code only."""
    assert one_negative_code_problem(np.array(found, np.float64), "INPUT: 'map'", "no data") is None


def test_a_uint32_label_raster_s_largest_value_as_its_background_is_warned_of(tmp_path, scene):
    """4294967295, the largest UInt32, the most common value and undeclared: taken as a class, said so."""
    top = 4294967295
    values = np.full((HEIGHT, WIDTH), top, np.uint32)
    values[0, :3] = 1
    _labels, warnings, _lines = _read(scene, write_raster(tmp_path / "wide_type.tif", values))
    assert warnings == [
        f"The label layer 'labels' declares no nodata value, and its most common value, {top} (the largest its data "
        f"type holds, named by no class), is taken as a class: 189 of its 192 labelled pixels. If {top} marks "
        f"unlabelled pixels, declare it the layer's nodata value (gdal_edit -a_nodata {top}, or in QGIS Raster > "
        "Conversion > Translate, 'Assign a specified nodata value to output bands')."]


def test_unused_pixels_of_a_finer_label_raster_are_said_of_those_over_the_grid_only(scene):
    """110 labelled pixels, 10 outside the scene, 50 pixels of the grid covered: 50 of the 100 over it unused."""
    warnings, lines = [], []
    label_raster._say_finer(110, 10, 50, scene, "fine", Hooks(warn=warnings.append, log=lines.append))
    assert (warnings, lines) == ([
        "Each pixel of the hyperspectral layer 'hsi' takes the label of 'fine' at its centre, so 50 of the 100 "
        "labelled pixels of 'fine' over it are not used (a label raster finer than that grid). To use them all, "
        "resample 'fine' onto that grid first (by majority: gdalwarp -r mode)."], [])


def test_a_label_raster_of_tall_pixels_reaching_into_the_scene_s_first_row_lies_over_it(tmp_path, scene):
    """Pixels 1 m wide and 3 m tall, the first row from 2.4 m north of the scene to 0.6 m into it: it holds the
    centres of the scene's first row, so none lies outside (a pixel's half height, not its half width, decides)."""
    values = np.full((5, WIDTH), 2, np.uint8)
    values[0] = 1
    path = write_raster(tmp_path / "tall.tif", values, (ORIGIN_X, 1.0, 0.0, ORIGIN_Y + 2.4, 0.0, -3.0))
    labels, _warnings, lines = _read(scene, path, "tall")
    assert (labels.outside, labels.counts()) == (0, {1: WIDTH, 2: (HEIGHT - 1) * WIDTH})
    assert [line for line in lines if "outside" in line] == []


def test_an_empty_block_narrower_than_a_tile_counts_its_own_pixels_as_nodata(tmp_path, monkeypatch):
    """A sparse raster of 16 x 40 pixels in blocks of 16, its last block (16 x 8) unwritten: its 128 pixels count as
    the nodata value 255, which with 200 written makes 255 more common than 0 (308), so the 0s are said."""
    monkeypatch.setattr(label_raster, "TILE_SIZE", 16)
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((3, 16, 40), np.float32))
    path = str(tmp_path / "sparse.tif")
    dataset = gdal.GetDriverByName("GTiff").Create(path, 40, 16, 1, gdal.GDT_Byte, options=[
        "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "SPARSE_OK=TRUE"])
    dataset.SetGeoTransform((ORIGIN_X, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    dataset.SetProjection(crs_wkt(UTM32))
    dataset.GetRasterBand(1).SetNoDataValue(255)
    written = np.zeros((16, 32), np.uint8)
    written.flat[:200] = 255
    written[-1, -4:] = 1
    dataset.GetRasterBand(1).WriteArray(written)
    dataset = None
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        labels, warnings, _lines = _read(scene, path, "sparse")
    assert labels.values.tolist() == [1] * 4
    assert warnings == ["The label layer 'sparse' declares 255 as its nodata value and holds 308 pixels of value 0, "
                        "which means unlabelled here too, so they are left out. If 0 is a class, recode the classes "
                        "from 1."]


def test_a_label_raster_with_a_scale_alone_is_refused(tmp_path, scene):
    """A scale of 0.5 and no offset: class values cannot be scaled either."""
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[0, :2] = [2, 4]
    with pytest.raises(InputError) as refused:
        _read(scene, write_raster(tmp_path / "scaled.tif", values, scale=0.5), "scaled")
    assert str(refused.value) == (
        "The label layer 'scaled' declares a scale of 0.5 and an offset of 0 for its values, which class values cannot "
        "have. If the values stored are the classes, remove them (gdal_edit.py -scale 1 -offset 0); if the values "
        "scaled are, write those (gdal_translate -unscale -ot Int32); then choose it again.")


def test_reading_a_label_raster_on_another_grid_says_its_three_passes_in_thirds(tmp_path):
    """Two tiles each: the scene's tiles read through the warp (0 to 1/3), the raster's own values counted for its
    nodata value 255 (1/3 to 2/3), its pixels outside the scene counted (2/3 to 1): progress never goes back."""
    hsi = write_raster(tmp_path / "wide.tif", np.ones((3, 4, 300), np.float32))
    values = np.zeros((4, 300), np.uint8)
    values[0, :50], values[1, :50] = 1, 2
    path = write_raster(tmp_path / "shifted.tif", values, (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0), nodata=255)
    progress = []
    with Scene.open(RasterInput(hsi, "wide"), []) as scene:
        labels_from_raster(scene, path, "shifted", Hooks(progress=progress.append))
    assert progress == pytest.approx([0, 1 / 6, 1 / 3, 1 / 2, 2 / 3, 5 / 6, 1])


def test_a_fine_labelled_pixel_over_the_grid_beside_one_outside_it_is_said_to_hold_no_centre(tmp_path, scene):
    """Two tenth-of-a-metre labelled pixels, one west of the scene and one in its first pixel's corner: not all lie
    outside; the one over it holds no pixel centre."""
    values = np.zeros((4, 14), np.uint8)
    values[0, 0] = values[0, 12] = 1
    path = write_raster(tmp_path / "fine.tif", values, (ORIGIN_X - 1, 0.1, 0.0, ORIGIN_Y, 0.0, -0.1))
    with pytest.raises(InputError) as refused:
        _read(scene, path, "fine")
    assert str(refused.value) == (
        "LABELS: the 1 labelled pixel of 'fine' over the hyperspectral layer 'hsi' holds none of its pixel centres, "
        "which take the label there (a label raster finer than that grid). Resample 'fine' onto that grid first (by "
        "majority: gdalwarp -r mode).")  # 'hold' until the helper's audit of 2026-12-07


@pytest.mark.parametrize("count, said", [(1, "the 1 labelled pixel of 'east' lies outside the hyperspectral layer "
                                             "'hsi'. Choose the rasters of the area it covers"),
                                         (2, "the 2 labelled pixels of 'east' all lie outside the hyperspectral layer "
                                             "'hsi'. Choose the rasters of the area they cover")])
def test_labelled_pixels_all_east_of_the_scene_are_refused_in_the_singular_or_plural(tmp_path, scene, count, said):
    """A label raster over the scene whose only labels lie beyond its east edge ('the area they cover' of one
    pixel until the helper's audit of 2026-12-07)."""
    values = np.zeros((HEIGHT, WIDTH + 4), np.uint8)
    values[:count, -1] = 1
    path = write_raster(tmp_path / "east.tif", values, (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0))
    with pytest.raises(InputError) as refused:
        _read(scene, path, "east")
    assert str(refused.value) == f"LABELS: {said}, or check the layers' CRSs."


SHIFTED = (ORIGIN_X + 0.5, 1.0, 0.0, ORIGIN_Y, 0.0, -1.0)
"""Half a pixel east of the scene: a label raster warped onto its grid."""


def test_a_warped_label_raster_s_own_nodata_value_is_said(tmp_path, scene):
    """Warped onto the scene's grid (which declares no nodata value), the raster's own nodata value is said: 3, named
    'Water'; none or 0, with 255 the most common value."""
    values = np.zeros((HEIGHT, WIDTH), np.uint8)
    values[0, :4] = [1, 2, 3, 3]
    named = write_raster(tmp_path / "named.tif", values, SHIFTED, nodata=3,
                         category_names=["", "Crop", "Grass", "Water"])
    _labels, warnings, _lines = _read(scene, named, "named")
    assert warnings == ["The label layer 'named' declares 3 as its nodata value, but names that value 'Water' as a "
                        "class: its pixels are left out as unlabelled. If 'Water' is a class, declare another nodata "
                        "value, or none (0 means unlabelled here)."]
    values[1:] = 255
    for nodata, declared in ((None, "declares no nodata value"), (0, "declares 0, not 255, as its nodata value")):
        path = write_raster(tmp_path / f"top{nodata}.tif", values, SHIFTED, nodata=nodata)
        _labels, warnings, _lines = _read(scene, path, "top")
        assert [warning for warning in warnings if "most common" in warning] == [
            f"The label layer 'top' {declared}, and its most common value, 255 (the largest its data type holds, named "
            "by no class), is taken as a class: 176 of its 180 labelled pixels. If 255 marks unlabelled pixels, "
            "declare it the layer's nodata value (gdal_edit -a_nodata 255, or in QGIS Raster > Conversion > "
            "Translate, 'Assign a specified nodata value to output bands')."]


@pytest.mark.parametrize("count, said", [(1, "1 labelled pixel of 'wider' lies outside the hyperspectral layer 'hsi'; "
                                             "it is left out."),
                                         (2, "2 labelled pixels of 'wider' lie outside the hyperspectral layer 'hsi'; "
                                             "they are left out.")])
def test_labelled_pixels_beyond_the_scene_are_logged_in_the_singular_or_plural(tmp_path, scene, count, said):
    """A label raster one column wider than the scene, `count` labels in that column."""
    values = np.ones((HEIGHT, WIDTH + 1), np.uint8)
    values[:, -1] = 0
    values[:count, -1] = 2
    labels, _warnings, lines = _read(scene, write_raster(tmp_path / "wider.tif", values), "wider")
    assert labels.outside == count and said in lines


def test_pixels_outside_the_scene_of_a_label_raster_in_another_crs_are_counted_through_the_operation_given(
        tmp_path, scene):
    """A lon/lat raster from 10 m west of the scene to 8 m into it, read through an operation shifting it 2 m east:
    its pixels outside the scene are those the operation leaves there, not those without it."""
    lon, lat = transform_points([(ORIGIN_X, ORIGIN_Y)], UTM32, "EPSG:4326")[0]
    step = 1e-5  # 0.77 m east, 1.11 m north
    path = write_raster(tmp_path / "lonlat.tif", np.ones((14, 24), np.uint8),
                        (lon - 13 * step, step, 0.0, lat + step, 0.0, -step), crs="EPSG:4326")
    shift = ("+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=utm +zone=32 +ellps=WGS84 "
             "+step +proj=affine +xoff=2")
    labels = labels_from_raster(scene, path, "lonlat", operation=shift)
    shifted, plain = (label_raster._source_counts(gdal.Open(path), scene, "lonlat", Hooks(), 256, operation)[1]
                      for operation in (shift, ""))
    assert labels.outside == shifted and shifted < plain
