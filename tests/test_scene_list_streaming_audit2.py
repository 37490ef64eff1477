"""Lists of scenes (MORE_SCENES) and pretraining patches streamed from scenes, as a second mutation audit of
2026-12-07 found them unpinned: each test here failed on a small bug planted in mrs_qgis_plugin/scene_list.py or
streaming.py that the other tests let pass."""

import os
import unicodedata
from types import SimpleNamespace

import numpy as np
import pytest
import test_multi_scene
from rasters import write_raster
from test_classification_path_edges import UNIT, open_scene
from test_multi_scene import layers_of, write_scene_files

from mrs.model_core.errors import Canceled, InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.preprocessing import Normalizer
from mrs.model_core.training import MaskingSettings, TrainSettings
from mrs.mrs_qgis_plugin import jobs, scene_list
from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene
from mrs.mrs_qgis_plugin.scene_list import check_same_bands, read_scene_list, say_same_values
from mrs.mrs_qgis_plugin.streaming import NormalisedBlocks, ScenePatches, normalised_patches, sample_digest, \
    say_how_many_positions

ADVICE = ("Write each scene as its hyperspectral raster, then its SAR/LiDAR rasters in the order of INPUT_AUX, "
          "separated by commas.")

# Lists of scenes: reading -----------------------------------------------------------------------


def _listing(tmp_path, text: str) -> str:
    path = tmp_path / "scenes.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _refusal(path: str, aux_count: int = 1) -> str:
    with pytest.raises(InputError) as refused:
        read_scene_list(path, aux_count)
    return str(refused.value)


@pytest.mark.parametrize("text, aux_count, said", [
    # semicolons in a line of two fields are a name's, not its separator: no word of them
    ("a;1.tif, b.tif\n", 3, "lists 1 SAR/LiDAR raster, but INPUT_AUX has 3. "),
    ("a.tif;b.tif\tc.tif\n", 2, "lists 0 SAR/LiDAR rasters, but INPUT_AUX has 2; it separates its rasters by "
                                "semicolons. "),
])
def test_a_line_of_another_count_of_rasters_tells_of_other_separators_only_where_it_is_one_field(tmp_path, text,
                                                                                               aux_count, said):
    """Pins the one-field guard and order of `_other_separator`, and '1 SAR/LiDAR raster' in the singular."""
    assert _refusal(_listing(tmp_path, text), aux_count) == (
        f"MORE_SCENES: the scene on line 1 of 'scenes.txt' {said}{ADVICE}")


def test_a_quote_left_open_in_a_later_field_is_refused_naming_the_line(tmp_path):
    """Pins the quote check of a field after a comma, not only of a line's first field."""
    assert _refusal(_listing(tmp_path, 'hsi.tif, "my\nlidar.tif"\n')) == (
        "MORE_SCENES: line 1 of 'scenes.txt' opens a double quote that it does not close. Write each scene on one "
        "line, a path that holds a comma in double quotes.")


def test_a_list_of_comments_only_is_refused_by_its_path(tmp_path):
    """Pins the whole sentence of a list that names no scene, its full path included."""
    path = _listing(tmp_path, "# hyperspectral, lidar\n\n   \n")
    assert _refusal(path) == (
        f"MORE_SCENES: '{path}' lists no scene. Write one scene per line (the hyperspectral raster, then its "
        "SAR/LiDAR rasters, separated by commas), or leave MORE_SCENES empty.")


def test_a_list_that_does_not_exist_is_refused_by_its_path(tmp_path):
    """Pins the refusal of a missing list, its path and advice."""
    path = str(tmp_path / "none.txt")
    assert _refusal(path) == (f"MORE_SCENES: '{path}' does not exist. Give a text file with one scene per line: the "
                              "hyperspectral raster, then its SAR/LiDAR rasters.")


def test_a_listed_raster_written_with_composed_accents_is_the_file_named_decomposed(tmp_path):
    """Pins the NFD form tried after the NFC one: a file named as macOS writes names, listed as typed elsewhere."""
    decomposed = unicodedata.normalize("NFD", "Zürich hsi.tif")
    for name in (decomposed, "lidar.tif"):
        (tmp_path / name).write_bytes(b"a raster")
    if not os.path.lexists(tmp_path / unicodedata.normalize("NFD", decomposed)) or os.path.lexists(
            tmp_path / "Zürich hsi.tif"):
        pytest.skip("the file system normalises names")
    listing = _listing(tmp_path, "Zürich hsi.tif, lidar.tif\n")
    assert [item.paths() for item in read_scene_list(listing, 1)] == [[str(tmp_path / decomposed),
                                                                      str(tmp_path / "lidar.tif")]]


def test_a_link_to_a_list_reads_its_paths_from_the_folder_of_the_list_itself(tmp_path):
    """Pins the list's folder as its resolved one: a link to the list elsewhere names the rasters beside the list."""
    (tmp_path / "flights").mkdir()
    (tmp_path / "links").mkdir()
    real = tmp_path / "flights" / "scenes.txt"
    real.write_text("f2/hsi.tif, f2/dsm.tif\n")
    (tmp_path / "links" / "scenes.txt").symlink_to(real)
    assert [item.paths() for item in read_scene_list(str(tmp_path / "links" / "scenes.txt"), 1)] == [
        [str(tmp_path / "flights" / "f2" / "hsi.tif"), str(tmp_path / "flights" / "f2" / "dsm.tif")]]


def test_a_list_in_another_encoding_cut_mid_character_where_it_is_looked_at_names_no_line(tmp_path, monkeypatch):
    """Pins the last line looked at as left out where the look stopped mid-character: it was no line to name."""
    monkeypatch.setattr(scene_list, "TEXT_LOOKED_AT", 15)
    listing = tmp_path / "scenes.txt"
    # line 2's 'ü' in UTF-8 spans bytes 15 and 16: the look ends between them; line 3 is in Windows' ANSI
    listing.write_bytes(b"a.tif, b.tif\nZ" + "ürich.tif, c.tif\n".encode() + "Zürich.tif, d.tif\n".encode("cp1252"))
    assert _refusal(str(listing)) == (
        f"MORE_SCENES: '{listing}' is a text file in another encoding than UTF-8 or UTF-16. Save it as UTF-8 (in "
        "Notepad: Save as, Encoding UTF-8) and run again.")


# Lists of scenes: the scenes' bands ------------------------------------------------------------


def _bands(n_hsi=6, aux=(2, 4), wavelengths=None, bad=None, with_bad=None, name="hsi"):
    """A stand-in for a Scene as `check_same_bands` reads it."""
    return SimpleNamespace(n_hsi=n_hsi, n_aux=sum(aux), aux_band_counts=list(aux), aux_names=["sar", "lidar"],
                           hsi_name=name, wavelengths=wavelengths, marked_bad=bad or {},
                           counts_with_marked_bad=with_bad or (n_hsi, sum(aux)),
                           marked_bad_listed="; ".join(f"'{key}': bands {value}" for key, value in (bad or {}).items()))


NM = [400.0, 500.0, 600.0, 700.0]


@pytest.mark.parametrize("first, listed, said", [
    # the band counts are said, not the order of the SAR/LiDAR rasters that a count differing leaves in doubt
    (_bands(), _bands(n_hsi=5, aux=(4, 2), name="f2"),
     "has 5 hyperspectral and 6 SAR/LiDAR bands, but INPUT_HSI and INPUT_AUX ('hsi') have 6 hyperspectral and 6 "
     "SAR/LiDAR bands. List only scenes of the same sensor, bands and SAR/LiDAR rasters as INPUT_HSI and INPUT_AUX."),
    # the order of the rasters is said, not the wavelengths
    (_bands(n_hsi=4, wavelengths=NM), _bands(n_hsi=4, aux=(4, 2), wavelengths=[500.0, 600.0, 700.0, 800.0], name="f2"),
     "has SAR/LiDAR rasters of 4 and 2 bands, but INPUT_AUX's ('sar', 'lidar') have 2 and 4 bands. List its "
     "SAR/LiDAR rasters in the order of INPUT_AUX."),
    # both scenes' bad-band lists, where both have one
    (_bands(n_hsi=4, bad={"hsi": "2, 3"}, with_bad=(6, 6)),
     _bands(n_hsi=5, bad={"f2": "4"}, with_bad=(6, 6), name="f2"),
     "has 5 hyperspectral and 6 SAR/LiDAR bands, but INPUT_HSI and INPUT_AUX ('hsi') have 4 hyperspectral and 6 "
     "SAR/LiDAR bands. The bands an ENVI header's bad-band list (bbl) leaves out make the difference ('hsi': bands "
     "2, 3; 'f2': bands 4): give the scenes the same list, or GeoTIFF copies, which keep every band (gdal_translate "
     "-of GTiff)."),
    # INPUT_HSI's list alone
    (_bands(n_hsi=4, bad={"hsi": "2, 3"}, with_bad=(6, 6)), _bands(name="f2"),
     "has 6 hyperspectral and 6 SAR/LiDAR bands, but INPUT_HSI and INPUT_AUX ('hsi') have 4 hyperspectral and 6 "
     "SAR/LiDAR bands. The bands an ENVI header's bad-band list (bbl) leaves out make the difference ('hsi': bands "
     "2, 3): give the scenes the same list, or GeoTIFF copies, which keep every band (gdal_translate -of GTiff)."),
    # a bad-band list that does not make the difference is not said to
    (_bands(n_hsi=4, bad={"hsi": "2, 3"}, with_bad=(6, 6)), _bands(n_hsi=7, name="f2"),
     "has 7 hyperspectral and 6 SAR/LiDAR bands, but INPUT_HSI and INPUT_AUX ('hsi') have 4 hyperspectral and 6 "
     "SAR/LiDAR bands. List only scenes of the same sensor, bands and SAR/LiDAR rasters as INPUT_HSI and INPUT_AUX."),
], ids=["counts-before-order", "order-before-wavelengths", "both-bad-band-lists", "first-bad-band-list",
        "bad-band-list-not-the-difference"])
def test_a_listed_scene_of_other_bands_is_refused_for_its_first_difference(first, listed, said):
    """Pins which difference `check_same_bands` says where a scene differs in several ways, and its bbl advice."""
    with pytest.raises(InputError) as refused:
        check_same_bands(first, listed, "the scene on line 2 of 'scenes.txt'")
    assert str(refused.value) == f"MORE_SCENES: the scene on line 2 of 'scenes.txt' ('f2') {said}"


# Lists of scenes: copies by their values -------------------------------------------------------


def _scene(tmp_path, name, values, **kwargs):
    return Scene.open(RasterInput(write_raster(tmp_path / f"{name}.tif", values, **kwargs), name), [])


def _copy_warnings(tmp_path, first, second, first_kwargs=None, second_kwargs=None) -> list:
    warnings, seen = [], {}
    hooks = Hooks(warn=warnings.append)
    with _scene(tmp_path, "a", first, **(first_kwargs or {})) as one, \
            _scene(tmp_path, "b", second, **(second_kwargs or {})) as other:
        say_same_values(seen, one, "INPUT_HSI", hooks)
        say_same_values(seen, other, "the hyperspectral raster of the scene on line 1", hooks)
    return warnings


COPY = ("MORE_SCENES: the hyperspectral raster of the scene on line 1 ('b') holds the same values as INPUT_HSI in "
        "every block compared (5 blocks of up to 32 x 32 pixels of their common grid): is it a copy in another "
        "format, or a VRT of it? The samples would draw on the same pixels from both. Leave it out, unless that is "
        "meant.")


@pytest.mark.parametrize("row, col", [(5, 5), (5, 90), (90, 5), (90, 90), (60, 60)],
                         ids=["top-left", "top-right", "bottom-left", "bottom-right", "centre-edge"])
def test_a_scene_differing_in_any_compared_block_is_no_copy(tmp_path, row, col):
    """Pins each of the five blocks compared: the four corners and the centre one (pixels 32 to 63 of 96)."""
    values = np.random.default_rng(3).normal(size=(3, 96, 96)).astype(np.float32)
    changed = values.copy()
    changed[:, row, col] += 1.0
    assert _copy_warnings(tmp_path, values, changed) == []


def test_a_copy_of_a_scene_smaller_than_the_blocks_and_not_square_is_said(tmp_path):
    """Pins the blocks cut to a scene of 20 x 40 pixels, each side by its own length."""
    values = np.random.default_rng(4).normal(size=(3, 20, 40)).astype(np.float32)
    assert _copy_warnings(tmp_path, values, values.copy()) == [COPY]


def test_scenes_whose_compared_blocks_hold_no_valid_value_are_not_compared(tmp_path):
    """Pins the return of a scene with no valid value in the five blocks (its valid pixels lie between them)."""
    values = np.full((3, 96, 96), -9999.0, np.float32)
    values[:, 32:64, :32] = np.random.default_rng(5).normal(size=(3, 32, 32))
    assert _copy_warnings(tmp_path, values, values.copy(), {"nodata": -9999.0}, {"nodata": -9999.0}) == []


def test_a_scene_whose_nodata_lies_where_the_other_holds_zero_is_no_copy(tmp_path):
    """Pins the pixels' validity in the digest: NaN where one scene is nodata, 0 where the other holds 0."""
    values = np.random.default_rng(6).normal(size=(3, 40, 40)).astype(np.float32)
    values[:, 3, 3] = 0.0
    holed = values.copy()
    holed[:, 3, 3] = -9999.0
    assert _copy_warnings(tmp_path, values, holed, second_kwargs={"nodata": -9999.0}) == []


def test_a_scene_of_the_same_values_and_grid_in_another_crs_is_no_copy(tmp_path):
    """Pins the CRS in the digest: the same numbers of geotransform in UTM 33N are another place."""
    values = np.random.default_rng(7).normal(size=(3, 40, 40)).astype(np.float32)
    assert _copy_warnings(tmp_path, values, values.copy(), second_kwargs={"crs": "EPSG:32633"}) == []


# Streamed patches -------------------------------------------------------------------------------


FEW = "every epoch takes the same 9 patches in one step, too few for pretrained features that help a classifier"


@pytest.mark.parametrize("samples, drawn, batch, limits, scenes, said", [
    (10, 9, 64, [], 1, f"Only 9 patches can be drawn (the valid pixels of the scene), fewer than one batch (BATCH_SIZE "
                       f"64): {FEW}. Pretrain on a larger scene, or add scenes (MORE_SCENES)."),
    (1, 1, 64, [], 1, "SAMPLES is 1, fewer than one batch (BATCH_SIZE 64): every epoch takes the same 1 patch in one "
                      "step, too few for pretrained features that help a classifier; the default draws 10,000."),
    (1500, 1500, 4096, [], 1, "SAMPLES is 1,500, fewer than one batch (BATCH_SIZE 4,096): every epoch takes the same "
                              "1,500 patches in one step, too few for pretrained features that help a classifier; the "
                              "default draws 10,000."),
    (300, 9, 64, ["MASK"], 1, f"Only 9 patches can be drawn (the valid pixels of MASK), fewer than one batch "
                              f"(BATCH_SIZE 64): {FEW}. Give a larger MASK."),
    (300, 9, 64, [], 2, f"Only 9 patches can be drawn (the valid pixels of the 2 scenes), fewer than one batch "
                        f"(BATCH_SIZE 64): {FEW}. Add scenes, or larger ones, to MORE_SCENES."),
    (300, 9, 64, ["EXTENT", "MASK"], 3, f"Only 9 patches can be drawn (the valid pixels of the 3 scenes, EXTENT and "
                                        f"MASK limiting the first), fewer than one batch (BATCH_SIZE 64): {FEW}. Add "
                                        "scenes, or larger ones, to MORE_SCENES, or give a larger EXTENT or MASK."),
])
def test_too_few_patches_for_a_batch_are_warned_of_with_their_figures_and_limits(samples, drawn, batch, limits,
                                                                                 scenes, said):
    """Pins the warning of a scene with no EXTENT or MASK, one patch in the singular, figures of thousands, and
    several scenes said as such (a helper's audit of 2026-12-07: 'the valid pixels of the scene', and 'add scenes
    (MORE_SCENES)' to a run that had them)."""
    warnings, lines = [], []
    say_how_many_positions(samples, drawn, batch, limits, Hooks(warn=warnings.append, log=lines.append), scenes)
    assert (warnings, lines) == ([said], [])


def test_a_pretraining_on_several_scenes_too_few_for_a_batch_says_how_many_scenes(tmp_path):
    """Two scenes of 32 valid pixels each give 64 patches, fewer than a batch of 128: the pretraining tells the
    warning how many scenes it draws from."""
    first = write_scene_files(tmp_path, "first", 10.0, valid_rows=1)
    second = write_scene_files(tmp_path / "flight2", "hsi", 10.0, valid_rows=1)
    warnings, lines = [], []
    hooks = Hooks(log=lines.append, warn=warnings.append,
                  is_canceled=lambda: any(line.startswith("Statistics sample") for line in lines))
    with pytest.raises(Canceled):
        jobs.pretrain_job(layers_of(first), preset="tiny", masking=MaskingSettings(), samples=300,
                          settings=TrainSettings(epochs=1, batch_size=128, device="cpu"),
                          output=str(tmp_path / "m.safetensors"), hooks=hooks,
                          more_scenes=test_multi_scene.scene_list(tmp_path, second))
    assert [warning.split(":")[0] for warning in warnings if "can be drawn" in warning] == [
        "Only 64 patches can be drawn (the valid pixels of the 2 scenes), fewer than one batch (BATCH_SIZE 128)"]


def test_blocks_of_a_scene_wider_than_high_cut_the_patches_of_the_scene(tmp_path):
    """Pins each block's width, height and place, patches cut block by block, and a window ending on a block's
    edge, on a scene of 3 x 2 blocks of 16 x 16 pixels, wider than high."""
    with open_scene(tmp_path, "wide", 28, 45) as scene:
        rows, cols = np.meshgrid(np.arange(28), np.arange(45), indexing="ij")
        streamed = ScenePatches(scene, rows.ravel(), cols.ravel(), 5, UNIT, {})
        blocks = streamed.blocks = NormalisedBlocks(scene, UNIT, halo=2, block=16)
        np.testing.assert_array_equal(streamed.patches(np.arange(rows.size)),
                                      normalised_patches(scene, rows.ravel(), cols.ravel(), 5, UNIT))
        assert len(blocks.cache) == 6
        data, valid = blocks.read(16, 0, 16, 16, halo=1)
        assert data.shape == (3, 18, 18) and valid.shape == (18, 18)
        np.testing.assert_array_equal(data[:, 1:-1, 1:-1], scene.read(16, 0, 16, 16)[0].astype(np.float16))


def test_the_fingerprint_follows_the_rows_the_patch_and_the_normalisation(tmp_path):
    """Pins the rows, the patch size, the normalisation and the grid's height among what a resumed run must share."""
    with open_scene(tmp_path, "a", 40, 40) as scene:
        rows, cols = np.array([10, 12]), np.array([20, 21])

        def fingerprint(rows=rows, patch=5, normalizer=UNIT):
            return ScenePatches(scene, rows, cols, patch, normalizer, {}).fingerprint()

        others = [fingerprint(rows=rows + 1), fingerprint(patch=7),
                  fingerprint(normalizer=Normalizer(np.zeros(3), np.full(3, 2.0)))]
        assert len({fingerprint(), *others}) == 4
    with open_scene(tmp_path, "b", 41, 40) as higher:  # the grid's height too
        assert ScenePatches(higher, rows, cols, 5, UNIT, {}).fingerprint() != fingerprint()


def test_the_fingerprint_leaves_out_the_auxiliary_layers_and_band_names(tmp_path):
    """Pins 'aux_layers' and 'band_names' among the entries a renamed layer may change and still resume."""
    with open_scene(tmp_path, "a", 40, 40) as scene:
        named, renamed = (ScenePatches(scene, [5], [7], 5, UNIT, {"hsi_layer": "hsi", "aux_layers": [aux],
                                                                 "band_names": [f"{aux} 1"]}).fingerprint()
                          for aux in ("lidar", "lidar copy"))
    assert named == renamed


def test_a_statistics_sample_edited_in_its_last_pixel_has_another_digest():
    """Pins every value of the sample in its digest."""
    sample = np.random.default_rng(8).normal(size=(5000, 4)).astype(np.float32)
    edited = sample.copy()
    edited[-1, -1] += 1.0
    assert sample_digest(sample) != sample_digest(edited) and sample_digest(sample) == sample_digest(sample.copy())


def test_a_listed_geopackage_of_two_raster_tables_is_refused_naming_its_line_and_text(tmp_path):
    """Pins the line and the text as written in the refusal of a listed file of several rasters."""
    from osgeo import gdal

    source = write_raster(tmp_path / "one.tif", np.ones((3, 4, 4), np.uint8))
    for table, options in (("flight1", []), ("flight2", ["APPEND_SUBDATASET=YES"])):
        gdal.Translate(str(tmp_path / "two.gpkg"), source, format="GPKG",
                       creationOptions=[f"RASTER_TABLE={table}", *options])
    assert _refusal(_listing(tmp_path, "# hsi, lidar\ntwo.gpkg, one.tif\n")).startswith(
        "MORE_SCENES: the scene on line 2 of 'scenes.txt', 'two.gpkg' holds 2 raster tables (flight1, flight2) and no "
        "raster of its own. Copy the one you want ")
