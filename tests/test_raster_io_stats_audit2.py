"""Second-round audit of raster I/O, statistics, patches, colours and classes: figures and sentences pinned."""

import numpy as np
import pytest
from osgeo import gdal
from rasters import GEOTRANSFORM, write_raster
from test_raster_sources import _indexed_hsi

from mrs.model_core.errors import InputError, ReadError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin.raster import gdal_io, stats
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo, plain_text, printable, recoded_text, spelt_as
from mrs.mrs_qgis_plugin.raster.colours import NAMED_COLOURS, class_colours, colour_from_name, default_colors
from mrs.mrs_qgis_plugin.raster.grid import Window
from mrs.mrs_qgis_plugin.raster.patches import cut_patches
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

BLUE, DARK_GREEN, LIGHT_GREEN, YELLOW, BROWN, RED, GREY = (colour for colour, _ in NAMED_COLOURS)


# colours -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, colour", [
    ("Trees along the river", DARK_GREEN), ("Grass by the road", LIGHT_GREEN), ("Roads through fields", GREY)])
def test_the_first_word_of_a_name_that_names_a_colour_chooses_it(name, colour):
    """The first word naming a colour wins, not the colour listed first in NAMED_COLOURS."""
    assert colour_from_name(name) == colour


def test_colours_past_the_palette_alternate_saturation_and_value_on_the_golden_angle():
    """The 13th to 16th default colours, exactly."""
    assert default_colors(16)[12:] == ["#4b78a6", "#d93658", "#62d96c", "#5829a6"]


def test_eight_water_classes_take_the_named_blue_and_all_six_of_its_shades_before_the_palette():
    """Shades up to the seventh step are tried (SHADE_STEPS) before a palette colour."""
    assert class_colours(["Water"] * 8, [None] * 8) == [
        "#2b7bba", "#559ed8", "#1e5580", "#8fbfe5", "#102e46", "#c9e0f2", "#0b2132", "#e57a2a"]


def test_a_named_colour_34_apart_from_a_given_one_gives_way_to_its_first_shade():
    """MIN_SHADE_DISTANCE is 40: a given colour 34 away from water blue pushes 'Water' to its lighter shade."""
    assert class_colours(["Class A", "Water"], ["#2B8CBA", None]) == ["#2b8cba", "#559ed8"]


# classes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("a\u2028b\u2029c\x85d", "a\\u2028b\\u2029c\\x85d"), ("x\udc80y", "x\\udc80y")])
def test_a_line_separator_a_c1_control_or_a_lone_surrogate_in_a_shown_name_is_written_as_an_escape(text, shown):
    """printable escapes U+2028 and U+2029 (Unicode's line breaks), C1 controls and an undecoded byte's surrogate."""
    assert printable(text) == shown


def test_bytes_that_are_not_utf_8_are_windows_1252_not_latin_1():
    """The en dash and euro sign of Windows-1252 (0x96, 0x80) are read as such, not as C1 controls."""
    assert recoded_text(b"Pr\xe9s \x96 \x80") == "Pr\xe9s \u2013 \u20ac"


def test_the_noncharacters_xml_cannot_hold_become_spaces_in_a_class_name():
    """U+FFFE and U+FFFF are dropped from a name (a .qml style could not hold them)."""
    assert plain_text("A\ufffeB\uffffC") == "A B C"


@pytest.mark.parametrize("names, wanted, positions", [
    (["Class", "CLASS", "class"], "class", [2]), (["CLASS_ID", "x"], "class_id", [0]),
    (["\u0130n\u015faat", "x"], "in\u015faat", [0])])
def test_a_name_is_found_by_its_spelling_before_its_letter_case(names, wanted, positions):
    """spelt_as: the exact spelling alone where there is one; else the names alike but for case (Turkish dotted I)."""
    assert spelt_as(names, wanted) == positions


@pytest.mark.parametrize("value, name, named", [(255, "255", False), (1, "01", False), (2, "01", True), (3, "", False)])
def test_a_class_named_by_a_text_of_its_own_value_has_no_name_of_its_own(value, name, named):
    """ClassInfo.named is False for a blank name or a text of the class's own number."""
    assert ClassInfo(value, name, "#000000").named is named


# stats -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("side, n, line", [
    (20, 50, "50 valid pixels from 9 of 9 blocks."),  # every block read: 500 pixels sought
    (48, 5, "5 valid pixels from 32 of 36 blocks."),  # MIN_BLOCKS read though 50 were sought
    (48, 205, "205 valid pixels from 33 of 36 blocks.")])  # OVERSAMPLING: 2,050 sought, 64 a block
def test_the_statistics_sample_s_log_line_says_how_many_blocks_it_read(tmp_path, side, n, line):
    """The statistics sample stops after MIN_BLOCKS blocks and OVERSAMPLING times n pixels, and says so."""
    lines = []
    with Scene.open(RasterInput(_indexed_hsi(tmp_path, side, side), "hsi"), []) as scene:
        assert len(stats.sample_valid_pixels(scene, n, 0, Hooks(log=lines.append), tile_size=8)) == n
    assert lines == [f"Statistics sample: {line}"]


def test_the_statistics_sample_of_a_sparse_vrt_says_how_many_empty_blocks_it_skipped(tmp_path):
    """Blocks read are counted apart from those skipped (1 of 4 read, 3 skipped); progress counts the blocks passed."""
    tile = write_raster(tmp_path / "tile.tif", np.ones((3, 8, 8), np.float32))
    x, size, _, y, _, _ = GEOTRANSFORM
    vrt = str(tmp_path / "sparse.vrt")
    gdal.BuildVRT(vrt, [tile], outputBounds=(x, y - 32 * size, x + 8 * size, y)).FlushCache()
    lines, progress = [], []
    with Scene.open(RasterInput(vrt, "hsi"), []) as scene:
        stats.sample_valid_pixels(scene, 5, 0, Hooks(log=lines.append, progress=progress.append), tile_size=8)
    assert lines == ["Statistics sample: 5 valid pixels from 1 of 4 blocks (3 without data skipped)."]
    assert progress == [0.5]  # the block with data is the second of the random order


def test_a_random_subset_of_no_item_is_refused():
    """RandomSubset needs n >= 1."""
    with pytest.raises(ValueError, match="^a sample needs at least one item, not 0$"):
        stats.RandomSubset(0, np.random.default_rng(0))


def test_layers_that_both_lack_a_valid_value_are_both_named(tmp_path):
    """Two layers each all nodata: both are named, joined by 'or', and the advice speaks of each (it said 'that layer':
    a helper's audit of 2026-12-07)."""
    hsi = write_raster(tmp_path / "hsi.tif", np.full((3, 6, 6), -1, np.float32), nodata=-1)
    dsm = write_raster(tmp_path / "dsm.tif", np.full((6, 6), -5, np.float32), nodata=-5)
    with Scene.open(RasterInput(hsi, "hsi"), [RasterInput(dsm, "dsm")]) as scene:
        with pytest.raises(InputError) as error:
            stats.sample_valid_pixels(scene, 5, 0)
    assert str(error.value) == (
        "No pixel has valid values in every layer, as there is no valid value (nodata, NaN or infinite at every "
        "pixel) in any band of 'hsi' or 'dsm'. Check the nodata value of each of them, or choose layers with data.")


class _TopRowsMask:
    """A mask whose burn covers the blocks of the first row only."""

    def burn(self, window):
        return np.full((window.height, window.width), window.row == 0)


def test_the_block_walker_keeps_the_mask_s_pixels_and_remembers_that_it_covered_any(tmp_path):
    """BlockWalker: valid pixels limited to the mask, `masked` kept once set, `valid` counted before the mask."""
    with Scene.open(RasterInput(_indexed_hsi(tmp_path, 16, 8), "hsi"), []) as scene:
        walker = stats.BlockWalker(scene, [Window(0, 0, 8, 8), Window(0, 8, 8, 8)], Hooks(), mask=_TopRowsMask())
        assert [len(flat) for _block, _data, flat in walker] == [64, 0]
    assert (walker.masked, walker.valid, walker.done, walker.read, walker.fraction()) == (True, 128, 2, 2, 1.0)


# patches -----------------------------------------------------------------------------------------

def test_an_even_patch_reaches_one_pixel_further_up_and_left_and_is_reflected_at_the_border(tmp_path):
    """A 4 x 4 patch around (row, col) covers rows row - 2 .. row + 1, mirrored without repeating the edge."""
    index = np.arange(100, dtype=np.float32).reshape(10, 10)
    hsi = write_raster(tmp_path / "hsi.tif", np.stack([index, index * 2, index * 3]), nodata=-1)
    with Scene.open(RasterInput(hsi, "hsi"), []) as scene:
        patches = cut_patches(scene, [5, 0], [5, 9], 4, lambda raw, valid: raw[:, 0], tile_size=8)
    assert patches.tolist() == [
        [[33, 34, 35, 36], [43, 44, 45, 46], [53, 54, 55, 56], [63, 64, 65, 66]],
        [[27, 28, 29, 28], [17, 18, 19, 18], [7, 8, 9, 8], [17, 18, 19, 18]]]


# gdal_io -----------------------------------------------------------------------------------------

def test_a_complex_band_after_a_real_one_is_named_by_its_number():
    """check_real names the first complex band (band 2), not band 1."""
    dataset = gdal.GetDriverByName("MEM").Create("", 2, 2, 0)
    dataset.AddBand(gdal.GDT_Float32)
    dataset.AddBand(gdal.GDT_CFloat32)
    with pytest.raises(InputError, match=r"^The layer 'slc' holds complex numbers \(band 2 is CFloat32\), of which"):
        gdal_io.check_real(dataset, [1, 2], "The layer 'slc'")


class _Metadata:
    """A dataset's metadata alone: `items` of every domain, the ENVI header's bad-band list `bbl`."""

    RasterCount = 3

    def __init__(self, items=None, bbl=None):
        self.items, self.bbl = items or {}, bbl

    def GetMetadata(self, _domain):
        return self.items

    def GetMetadataItem(self, _key, _domain):
        return self.bbl


def test_subdatasets_are_listed_in_the_order_of_their_numbers_not_of_their_keys():
    """SUBDATASET_10 comes after SUBDATASET_2 (the first is the one a message gives as an example)."""
    items = {f"SUBDATASET_{number}_NAME": f"v{number}" for number in (10, 2, 1)} | {"SUBDATASET_1_DESC": "v1 [..]"}
    assert gdal_io._subdatasets(_Metadata(items)) == ["v1", "v2", "v10"]


@pytest.mark.parametrize("bbl, bad", [("{0, 0, 0}", None), ("{1, 0, 1}", [2]), ("{1, 0}", None), ("{1, 2, 0}", None),
                                      ("{1, x, 0}", None), ("", [])])
def test_a_bad_band_list_that_marks_every_band_or_is_no_list_of_flags_is_ignored(bbl, bad):
    """marked_bad: None (ignored) for every band bad, a wrong count, a flag not 0 or 1, or a word; [] for no list."""
    assert gdal_io.marked_bad(_Metadata(bbl=bbl)) == bad


def _failing(message):
    """A read that reports a GDAL failure with `message` and still returns an array (as a VRT missing a source)."""
    gdal.Error(gdal.CE_Failure, 1, message)
    return np.zeros(2)


def _warning():
    gdal.Error(gdal.CE_Warning, 1, "a warning")
    return 5


def test_a_read_that_reports_a_failure_fails_and_one_that_warns_does_not():
    """read_call: None for a GDAL failure even with a result; the result, and GDAL's words, for a warning."""
    assert gdal_io.read_call(_failing, "boom") == (None, "boom")
    assert gdal_io.read_call(_warning) == (5, "a warning")


@pytest.mark.parametrize("message, reason", [("", "GDAL gives no reason"), ("boom", "boom")])
def test_a_failed_read_is_told_with_gdal_s_reason_or_that_it_gave_none(message, reason):
    """read_or_refuse's sentence names what was read and GDAL's reason, or says GDAL gave none."""
    with pytest.raises(ReadError) as error:
        gdal_io.read_or_refuse(_failing, "the layer 'hsi'", message)
    assert str(error.value) == (f"Reading the layer 'hsi' failed ({reason}). Check that the file is complete "
                                "and readable.")


def test_a_per_dataset_mask_is_selected_once_and_an_alpha_band_beside_a_band_s_own_mask():
    """hiding_selectors: one 'mask,1' for a mask shared by all bands; a per-band mask and the alpha band by number."""
    shared = gdal.GetDriverByName("MEM").Create("", 2, 2, 3)
    shared.CreateMaskBand(gdal.GMF_PER_DATASET)
    assert gdal_io.hiding_selectors(shared, [1, 2, 3]) == ["mask,1"]
    own = gdal.GetDriverByName("MEM").Create("", 2, 2, 3)
    own.GetRasterBand(2).CreateMaskBand(0)
    own.GetRasterBand(3).SetColorInterpretation(gdal.GCI_AlphaBand)
    assert gdal_io.hiding_selectors(own, [1, 2]) == ["mask,2", "3"]
