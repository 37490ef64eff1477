import itertools

import numpy as np
import pytest

from model_core.redundancy import band_similarity, group_mask_ratio, leakage, redundant_groups


def grouped_pixels() -> np.ndarray:
    rng = np.random.default_rng(0)
    signals = rng.normal(size=(5000, 3))
    bands = np.repeat(signals, [3, 2, 4], axis=1) + 0.01 * rng.normal(size=(5000, 9))
    return bands


def test_similarity_is_the_cosine_between_bands():
    pixels = grouped_pixels()
    similarity = band_similarity(pixels)
    a, b = pixels[:, 0], pixels[:, 5]
    assert similarity[0, 5] == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert np.allclose(similarity, similarity.T) and np.allclose(np.diag(similarity), 1.0)


def test_groups_gather_near_identical_bands():
    groups = redundant_groups(band_similarity(grouped_pixels()), 0.99)
    assert groups == [[0, 1, 2], [3, 4], [5, 6, 7, 8]]
    assert redundant_groups(band_similarity(grouped_pixels()), 1.01) == [[i] for i in range(9)]


def test_a_band_stands_alone_only_when_no_other_band_is_similar_enough_and_groups_do_not_chain():
    """Red team of 2026-12-04: band 9 stood alone beside its 0.99-similar neighbour 8, taken by the
    group of band 7; linking every similar pair instead chained a scene's 20 bands into one group
    whose least similar pair was 0.25 (helpers' review)."""
    similarity = np.full((6, 6), 0.5)
    np.fill_diagonal(similarity, 1.0)
    for first, second in ((0, 1), (1, 2), (2, 3), (4, 5)):
        similarity[first, second] = similarity[second, first] = 0.97
    assert redundant_groups(similarity, 0.95) == [[0, 1], [2, 3], [4, 5]]
    similarity[3, 2] = similarity[2, 3] = 0.5  # band 3's only near-copy is band 2, in the group of band 1
    similarity[1, 2] = similarity[2, 1] = 0.5
    similarity[0, 2] = similarity[2, 0] = 0.97
    assert redundant_groups(similarity, 0.95) == [[0, 1, 2], [3], [4, 5]]
    similarity[3, 1] = similarity[1, 3] = 0.99
    assert redundant_groups(similarity, 0.95) == [[0, 1, 2, 3], [4, 5]]


def test_group_mask_ratio_is_the_share_of_a_random_band_s_group():
    similarity = band_similarity(grouped_pixels())
    # Groups of 3, 2 and 4 of 9 bands: a random band lies in a group of 3, 2 or 4 with
    # chances 3/9, 2/9 and 4/9.
    assert group_mask_ratio(similarity, 0.99) == pytest.approx((3 * 3 + 2 * 2 + 4 * 4) / 81)
    assert group_mask_ratio(similarity, 1.01) == pytest.approx(1 / 9)


def test_leakage_matches_a_count_over_every_random_mask():
    similarity = band_similarity(grouped_pixels())
    n, k = 9, 3
    close = similarity >= 0.99
    leaked = masked = 0
    for chosen in itertools.combinations(range(n), k):
        for band in chosen:
            others = np.flatnonzero(close[band])
            masked += 1
            leaked += any(o not in chosen for o in others if o != band)
    assert leakage(similarity, k / n, 0.99) == pytest.approx(leaked / masked)


def test_band_labels_that_two_bands_share_name_each_band():
    from mrs.mrs_qgis_plugin.reports import band_labels

    assert band_labels(["a", "b", "c", "dsm"], [595.0, 595.0, 600.0], 3) == [
        "595.0 nm (band 1)", "595.0 nm (band 2)", "600.0 nm", "dsm"]


def test_a_band_and_its_exact_copy_share_a_group_at_a_threshold_of_one():
    """Rounding made their similarity 0.9999999999999998: apart at 1 (red team of 2026-12-04)."""
    pixels = np.random.default_rng(0).normal(size=(500, 3))
    pixels = np.concatenate([pixels, pixels[:, 1:2]], axis=1)
    similarity = band_similarity(pixels)
    assert similarity[1, 3] < 1.0
    assert redundant_groups(similarity, 1.0) == [[0], [1, 3], [2]]
    assert leakage(similarity, 0.25, 1.0) == pytest.approx(1.0 / 2)



def test_the_heat_map_draws_dollar_signs_in_band_and_layer_names_as_written():
    """Red team of 2026-12-05: a band described '$\\undefinedcmd$', or a layer 'flight_$1_$2', was
    read as matplotlib's mathematics, and the redundancy stopped with its traceback."""
    pytest.importorskip("matplotlib")
    from mrs.mrs_qgis_plugin import reports

    png = reports.heatmap_png(np.eye(3), ["$\\undefinedcmd$", "x$y$z", "plain"], [[0], [1], [2]], "flight_$1_$2")
    assert png.startswith(b"\x89PNG")


def test_the_heat_map_of_names_in_scripts_the_font_lacks_warns_nothing_on_standard_error():
    """A helper's red team of 2026-12-05: a layer named in Chinese gave 16 lines of matplotlib's
    'Glyph ... missing from current font' on standard error, through every front end."""
    pytest.importorskip("matplotlib")
    import warnings

    from mrs.mrs_qgis_plugin import reports

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = reports.heatmap_png(np.eye(2), ["高光谱 1", "高光谱 2"], [[0], [1]], "高光谱影像")
    assert png.startswith(b"\x89PNG") and not [item for item in caught if "Glyph" in str(item.message)]


@pytest.mark.parametrize("first_import", [
    "from mrs.mrs_qgis_plugin.dependencies import import_problem; assert import_problem('matplotlib') is None",
    "pass"])
def test_the_heat_map_says_nothing_of_matplotlibs_settings_folder_when_home_is_not_writable(tmp_path, first_import):
    """Noticed in the sixth session of 2026-12-05: on a server whose HOME cannot be written,
    `bin/mrs redundancy` printed matplotlib's four-line advice to set MPLCONFIGDIR before its own
    lines; matplotlib works from a temporary folder then, so the advice is not the analyst's to act on.
    Matplotlib is first imported by the command line's check of what the job needs, and by the heat
    map in QGIS."""
    pytest.importorskip("matplotlib")
    import os
    import subprocess
    import sys

    home = tmp_path / "home-is-a-file"
    home.write_text("")
    env = {key: value for key, value in os.environ.items()
           if key not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    code = (f"{first_import}; import numpy as np; from mrs.mrs_qgis_plugin import reports; "
            "png = reports.heatmap_png(np.eye(2), ['a', 'b'], [[0], [1]], 't'); print(png[:4])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "PNG" in done.stdout
    assert done.stderr == ""


def test_the_leak_of_random_masking_is_never_shown_as_all_of_the_masked_bands_when_it_is_not():
    """99.975 % was shown as '100.0 %' (a helper's README audit of 2026-12-05); the bands the ratio hides are
    said beside it (a helper's red team of 2026-12-06: '1 % of the bands' of 22 hid one, 4.5 %)."""
    from mrs.mrs_qgis_plugin.analysis import leak_text

    assert leak_text(0.3, 20, 0.99975, 0.95).startswith("Random spectral masking of 30 % of the bands (6 of 20) "
                                                        "leaves 99.9")
    assert leak_text(0.3, 20, 1.0, 0.95).startswith("Random spectral masking of 30 % of the bands (6 of 20) leaves "
                                                    "100.00 % of the")
    assert leak_text(0.01, 22, 0.5, 0.9) == ("Random spectral masking of 1 % of the bands (1 of 22) leaves 50.00 % of "
                                             "the masked bands with a visible band at least 0.9-similar: the "
                                             "information leak MRS masking avoids.")
    assert leak_text(0.99, 3, 0.5, 0.9).startswith("Random spectral masking of 99 % of the bands (2 of 3) leaves")


def test_every_group_of_the_heat_map_is_outlined_whether_or_not_its_bands_follow_each_other():
    """A helper's red team of 2026-12-05: of 6 groups, the 2 whose bands were not consecutive
    (12-14 and 19-22; 15-18 and 32) had no outline, unsaid. Each pair of a group's runs of
    consecutive bands is boxed: the cells of the similarities within the group, and none other."""
    from mrs.mrs_qgis_plugin import reports

    boxes = reports.group_boxes([[0], [1, 2, 3, 6, 7], [4, 5], [8, 10]])
    assert sorted(boxes) == sorted([(1, 1, 3, 3), (1, 6, 3, 2), (6, 1, 2, 3), (6, 6, 2, 2), (4, 4, 2, 2),
                                    (8, 8, 1, 1), (8, 10, 1, 1), (10, 8, 1, 1), (10, 10, 1, 1)])
    cells = np.zeros((11, 11), bool)
    for col, row, width, height in boxes:
        assert not cells[row:row + height, col:col + width].any()
        cells[row:row + height, col:col + width] = True
    groups = [[0], [1, 2, 3, 6, 7], [4, 5], [8, 10]]
    expected = np.zeros((11, 11), bool)
    for group in groups[1:]:
        expected[np.ix_(group, group)] = True
    np.testing.assert_array_equal(cells, expected)


def test_similarities_of_fewer_valid_pixels_than_the_sample_s_minimum_are_warned_of(tmp_path):
    """A helper's red team of 2026-12-05: a 3 x 3 scene gave groups and a leak from 9 pixels without
    a word, where SAMPLE_SIZE takes no fewer than 100."""
    from rasters import write_raster

    from mrs.model_core.hooks import Hooks
    from mrs.mrs_qgis_plugin import analysis, jobs
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput

    rng = np.random.default_rng(0)
    warnings: list = []
    for side in (3, 10):
        hsi = write_raster(tmp_path / f"hsi{side}.tif", rng.normal(size=(4, side, side)).astype(np.float32))
        analysis.redundancy_job(jobs.Layers(RasterInput(hsi, f"hsi{side}"), []), threshold=0.95, sample_size=20000,
                                seed=0, out_png=str(tmp_path / f"r{side}.png"), out_csv=str(tmp_path / f"r{side}.csv"),
                                hooks=Hooks(warn=warnings.append))
    sparse = rng.normal(size=(4, 30, 30)).astype(np.float32)
    sparse.reshape(4, -1)[:, 52:] = -9999.0  # said as few valid pixels, once (a review of 2026-12-05: twice)
    hsi = write_raster(tmp_path / "sparse.tif", sparse, nodata=-9999.0)
    analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "sparse"), []), threshold=0.95, sample_size=20000, seed=0,
                            out_png=str(tmp_path / "s.png"), out_csv=str(tmp_path / "s.csv"),
                            hooks=Hooks(warn=warnings.append))
    assert warnings[0] == ("The similarities are computed from the 9 valid pixels of 'hsi3' alone: fewer than 100 "
                           "tell little of how alike the bands are. Give a larger scene.")
    assert [warning[:40] for warning in warnings[1:]] == ["Only 52 of the 900 pixels of the hypersp"]


def test_bands_copied_up_to_a_scale_and_an_offset_are_warned_of_and_near_copies_are_not(tmp_path):
    """A helper's red team of 2026-12-06: bands 13 and 14, copies of band 5, were shown only in a group of natural
    neighbours (535-805 nm); an export or a band stack that repeats a band says nothing new."""
    from rasters import write_raster

    from model_core.redundancy import copied_bands
    from mrs.model_core.hooks import Hooks
    from mrs.model_core.preprocessing import Normalizer
    from mrs.mrs_qgis_plugin import analysis, jobs
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput

    rng = np.random.default_rng(4)
    bands = rng.normal(size=(6, 20, 20)).astype(np.float32)
    bands[4] = 2 * bands[1] + 100  # a copy, scaled
    bands[5] = bands[1]
    bands[3] = bands[0] + 1e-3 * rng.normal(size=(20, 20)).astype(np.float32)  # a near copy, 0.9999995-similar
    pixels = bands.reshape(6, -1).T
    assert copied_bands(band_similarity(Normalizer.fit(pixels).apply_pixels(pixels))) == [[1, 4, 5]]
    hsi = write_raster(tmp_path / "hsi.tif", bands)
    warnings: list = []
    analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), []), threshold=0.95, sample_size=20000, seed=0,
                            out_png=str(tmp_path / "r.png"), out_csv=str(tmp_path / "r.csv"),
                            hooks=Hooks(warn=warnings.append))
    assert warnings == ["Bands that are copies of one another up to a scale (negative too) and an offset (a "
                        "similarity of 1 or -1 in the 400 pixels sampled): hsi band 2, hsi band 5 and hsi band 6. A "
                        "copy, as an export or a band stack may repeat a band, tells nothing new: check the layers' "
                        "bands."]


def test_a_band_and_its_negative_are_warned_of_as_copies_but_not_grouped():
    """A helper's red team of 2026-12-07: band 5 = 1000 - band 4 went unsaid in the warning of copies
    'up to a scale'; the groups stay signed, as MRS ranks bands by signed similarity."""
    from model_core.redundancy import copied_bands
    from mrs.model_core.preprocessing import Normalizer

    bands = np.random.default_rng(5).normal(size=(4, 400)).astype(np.float32)
    bands[3] = 10 - 3 * bands[2]
    pixels = Normalizer.fit(bands.T).apply_pixels(bands.T)
    similarity = band_similarity(pixels)
    assert similarity[2, 3] == pytest.approx(-1.0)
    assert copied_bands(similarity) == [[2, 3]]
    assert redundant_groups(similarity, 0.95) == [[0], [1], [2], [3]]
