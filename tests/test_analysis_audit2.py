"""The accuracy and band redundancy jobs and their reports at the edges a second mutation audit of 2026-12-07
found no test pinning: each test kills a bug planted by hand, every figure worked out by hand."""

import csv

import numpy as np
import pytest
from rasters import write_raster
from test_accuracy_job import _assess, _small_report

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.mrs_qgis_plugin import analysis, jobs, reports
from mrs.mrs_qgis_plugin.raster.sources import RasterInput


def _csv_rows(path) -> list:
    with open(path, newline="", encoding=reports.CSV_ENCODING) as handle:
        return list(csv.reader(handle))


def test_a_map_holding_the_largest_class_value_is_scored_not_refused(tmp_path):
    """4294967295, the largest class value, is a class of the map: one pixel of it of four is one error."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[1, 4294967295, 1, 1]], np.uint32))
    reference = write_raster(tmp_path / "reference.tif", np.ones((1, 4), np.uint8))
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["overall_accuracy"], report["class_values"]) == (0.75, [1, 4294967295])
    assert report["confusion_matrix"] == [[3, 1], [0, 0]]


def test_the_log_line_gives_overall_and_average_accuracy_kappa_and_the_pixels_assessed(tmp_path):
    """Reference 1, 1, 1, 2, 2 mapped 1, 1, 2, 2, 0: 4 pixels assessed (0 is no data), matrix [[2, 1], [0, 1]]:
    overall 3/4, average (2/3 + 1) / 2, kappa (0.75 - 0.5) / (1 - 0.5), chance (2 x 3 + 2 x 1) / 16."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[1, 1, 2, 2, 0]], np.uint8))
    reference = write_raster(tmp_path / "reference.tif", np.array([[1, 1, 1, 2, 2]], np.uint8))
    lines: list = []
    report = analysis.accuracy_job(class_map, "map", jobs.LabelSource("reference", raster_path=reference),
                                   hooks=Hooks(log=lines.append, warn=lambda _text: None))
    assert (report["pixels"], report["unmapped_reference_pixels"]) == (4, 1)
    assert report["confusion_matrix"] == [[2, 1], [0, 1]]
    assert [line for line in lines if line.startswith("Overall accuracy")] == [
        "Overall accuracy 75.00 %, average accuracy 83.33 %, kappa 0.5000 on 4 reference pixels."]


def test_a_map_whose_nodata_value_0_it_names_is_warned_of_once_as_the_name_of_0(tmp_path):
    """A map of nodata 0 naming 0 'Water': one warning that 0 is no data, not a second of a named nodata value."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[0, 1, 2, 0]], np.uint8), nodata=0,
                             category_names=["Water", "Forest", "Crop"])
    reference = write_raster(tmp_path / "reference.tif", np.array([[1, 2, 3, 1]], np.uint8),
                             category_names=["", "Water", "Forest", "Crop"])
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["pixels"], report["unmapped_reference_pixels"], report["overall_accuracy"]) == (2, 2, 1.0)
    assert [warning[:60] for warning in report["warnings"]] == [
        "The map 'map' names its value 0 'Water', but 0 means no data",
        "The classes of the reference 'reference' were matched to tho",
        "2 of the 4 reference pixels of 'reference' (50 %) lie where "]


@pytest.mark.parametrize("mapped, truth, map_names, reference_names, warnings", [
    ([[2, 1, 1, 2, 1, 2]], [[1, 2, 3, 4, 5, 6]], ["", "A", "B"], ["", "B", "A", "Bog", "Fen"], [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'B' (1 in the reference, 2 in the map); 'A' (2 in the reference, 1 in the map). If a name is wrong, "
        "correct it in the reference. The map has no class named 'Bog', 'Fen': their pixels count as errors. Classes "
        "5, 6 of the reference have no name to match by: their pixels count as errors."]),
    ([[1, 2, 1, 2, 1, 2]], [[1, 2, 3, 4, 4, 1]], ["", "Crop", "Water"], ["", "Crop", "Water", "Bare soil", "Road"], [
        "The map 'map' has no class for 'Bare soil' (1 reference pixel), 'Road' (2 reference pixels) of the reference "
        "'reference': those pixels count as errors, as a classifier maps only the classes it was trained on. Train "
        "with samples of them, or leave them out of the reference to assess the classes the map has."]),
    ([[1] * 16, [1] * 8 + [2, 2] + [0] * 6], [[1] * 16, [1] * 8 + [2] * 4 + [3] * 4], None, None, [
        "6 of the 32 reference pixels of 'reference' (19 %) lie where the map 'map' has no class (nodata); the figures "
        "leave them out and describe the mapped pixels only. It leaves out some classes far more than the others: '2' "
        "2 of 4 (50 %); '3' 4 of 4 (100 %); their figures describe the rest of them only; '3' has no figures at all, "
        "and the average accuracy leaves it out."]),
    ([[1, 2, 1, 2, 1, 1]], [[1, 2, 3, 2, 4, 4]], ["", "Crop", "Water"], ["", "Crop", "Water", "crop", "CROP"], [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'crop' (3 in the reference, 1 in the map); 'CROP' (4 in the reference, 1 in the map). If a name is "
        "wrong, correct it in the reference.",
        "Classes 1, 3, 4 of the reference 'reference' share the name of the map's class 'Crop' (1), so they are scored "
        "as that one class: 4 reference pixels, 3 of them of classes 3, 4. If they are different classes, name each "
        "after a class of the map."]),
], ids=["two classes lacking and two unnamed", "two classes absent, one of one pixel", "two classes left out",
        "three classes of one name"])
def test_warnings_of_several_reference_classes_name_each_and_speak_of_them_in_the_plural(
        tmp_path, mapped, truth, map_names, reference_names, warnings):
    """Each class a warning is of is named, with its count, and the advice speaks of them, not of it."""
    class_map = write_raster(tmp_path / "map.tif", np.array(mapped, np.uint8), category_names=map_names)
    reference = write_raster(tmp_path / "reference.tif", np.array(truth, np.uint8), category_names=reference_names)
    assert _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))["warnings"] == warnings


def test_a_reference_class_the_map_lacks_comes_after_the_map_s_classes_in_the_reports(tmp_path):
    """Its value is one of neither layer (none shown), taken past the largest value of either, not from a gap."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[2, 1, 4, 4]], np.uint8), category_names=["", "A", "B"])
    reference = write_raster(tmp_path / "reference.tif", np.array([[1, 2, 5, 5]], np.uint8),
                             category_names=["", "B", "A", "", "", "C"])
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert ([item["name"] for item in report["classes"]], report["class_values"]) == (["A", "B", "4", "C"],
                                                                                     [1, 2, 4, None])
    assert report["confusion_matrix"] == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 2, 0]]


def test_redundancy_at_a_threshold_of_1_groups_copies_and_says_them_in_its_warnings_log_and_page(tmp_path):
    """Bands a, 2a, 3a + 1, a constant, noise and two SAR/LiDAR layers, all 1,200 pixels sampled: at a threshold of 1
    (taken, not refused) the three copies are one group; masking 2 of 7 bands leaks wherever it masks one of them
    (the other two cannot both be masked), 3 masks in 7; the page names both layers and every band of each group."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 40))
    bands = np.stack([a, 2 * a, 3 * a + 1, np.full((30, 40), 3.0), rng.normal(size=(30, 40))]).astype(np.float32)
    hsi = write_raster(tmp_path / "hsi.tif", bands)
    aux = [RasterInput(write_raster(tmp_path / f"{name}.tif", rng.normal(size=(30, 40)).astype(np.float32),
                                    descriptions=[name]), name) for name in ("dsm", "vv")]
    warnings: list = []
    logs: list = []
    result = analysis.redundancy_job(jobs.Layers(RasterInput(hsi, "hsi"), aux), threshold=1.0,
                                     sample_size=2000, seed=0, out_png=str(tmp_path / "r.png"),
                                     out_csv=str(tmp_path / "r.csv"), out_html=str(tmp_path / "r.html"),
                                     hooks=Hooks(warn=warnings.append, log=logs.append))
    assert (result["groups"], result["largest_group"], result["group_count"]) == (
        ["1-3 (hsi band 1 - hsi band 3)", "4", "5", "6", "7"], 3, 5)
    assert result["leakage"] == pytest.approx(3 / 7)
    assert warnings == [
        "1 of the 7 bands holds one value in all 1,200 pixels sampled (hsi band 4): it carries nothing to compare, so "
        "it stands alone in the groups with a similarity of 0 to every other band.",
        "Bands that are copies of one another up to a scale (negative too) and an offset (a similarity of 1 or -1 in "
        "the 1,200 pixels sampled): hsi band 1, hsi band 2 and hsi band 3. A copy, as an export or a band stack may "
        "repeat a band, tells nothing new: check the layers' bands."]
    found = ("5 groups of bands at a similarity threshold of 1.0 (each band at least that similar to its group's first "
             "band or to its nearest band; from 1,200 pixels): the largest has 3 bands; 4 bands are like no other.")
    leak = ("Random spectral masking of 30 % of the bands (2 of 7) leaves 42.86 % of the masked bands with a visible "
            "band at least 1.0-similar: the information leak MRS masking avoids.")
    assert logs[-2:] == [found, leak]
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Band similarity of &#x27;hsi&#x27; + &#x27;dsm&#x27; + &#x27;vv&#x27;</h2>" in page
    assert f"<br>SAR/LiDAR layers: {tmp_path / 'dsm.tif'}, {tmp_path / 'vv.tif'}<br>Made: " in page
    assert (f"<table><tr><td class='name'>Groups</td><td class='name'>{found.replace(chr(39), '&#x27;')}</td></tr>"
            f"<tr><td class='name'>Leak of random masking</td><td class='name'>{leak}</td></tr></table>") in page
    assert ("<tr><td class='name'>1</td><td class='name'>1-3 (hsi band 1 - hsi band 3)</td><td class='name'>hsi band "
            "1, hsi band 2, hsi band 3</td></tr>") in page
    assert "<tr><td class='name'>5</td><td class='name'>7</td><td class='name'>vv</td></tr>\n</table>" in page


def _png_of_the_heat_map_s_size() -> bytes:
    """The start of a PNG of 880 x 770 pixels, the heat map's size, that Matplotlib did not make."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (880).to_bytes(4, "big") + (770).to_bytes(4, "big") + b"\x08\x02"


@pytest.mark.parametrize("name, content, kind", [
    ("photo.png", _png_of_the_heat_map_s_size(), reports.REDUNDANCY),
    ("table.csv", b"band,a,b\nx,1,2\n", reports.REDUNDANCY),  # its first row's band is not its first column's
    ("matrix.json", b'{"confusion_matrix": [[1]]}', reports.ACCURACY),  # no class map
    ("classes.csv", b"class_value,name\n1,Water\n", reports.ACCURACY),  # not the accuracy table's header
    ("notes.png", b"Notes on " + reports.PNG_SOFTWARE.encode() + b"\n", reports.REDUNDANCY),  # its text, but no PNG
    ("list.csv", b"band\n\nb1\n", reports.REDUNDANCY),  # one column headed 'band' and a blank line
    ("table.csv", b"id,a\na,1\n", reports.REDUNDANCY),  # names its first item atop and on the left, but no 'band'
    ("huge.csv", b"x" * 200_000 + b"\n", reports.ACCURACY),  # a field beyond the csv module's limit
    ("broken.json", b'{"class_map": ', reports.ACCURACY),  # no JSON
    ("keys.json", b'["class_map", "confusion_matrix"]', reports.ACCURACY),  # a list of the report's keys
    ("list.json", b'[{"class_map": "m.tif"}]', reports.ACCURACY),  # a list of objects
    ("classes.csv", "code;Forêt\n".encode("cp1252"), reports.ACCURACY),  # no UTF-8
], ids=["png of the heat map's size", "csv of another table", "json of a matrix only", "csv of a class table",
        "text named png", "one column", "no corner", "huge field", "no json", "list of keys", "list of objects",
        "latin-1 csv"])
def test_another_file_that_looks_like_a_report_of_ours_in_part_is_not_replaced(tmp_path, name, content, kind):
    """A file alike a report of ours in one feature only (its size, its corner cell, a key, a first cell) is not one;
    nor a text carrying the heat map's PNG text, a table that is no similarity matrix, a CSV the csv module cannot
    read, a broken JSON file, a JSON list or a CSV of another encoding (not replaced, nor a traceback: third audit)."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        reports.check_replaceable(str(path), "OUTPUT", kind)
    assert str(raised.value) == (f"OUTPUT: {path} exists and is not a report this plugin wrote; choose a new file "
                                 "name, or delete that file first.")


def test_the_report_page_gives_each_count_left_out_each_warning_and_a_class_the_map_lacks(tmp_path):
    """3 pixels unmapped, 5 features outside, 2 reaching beyond, 1 left out, two warnings and a class of no value."""
    report = {**_small_report(), "class_values": [1, None], "unmapped_reference_pixels": 3, "outside_map": 5,
              "outside_map_unit": "features", "reference_features_partly_outside": 2,
              "reference_features_left_out": 1, "warnings": ["First <one>.", "Second."]}
    reports.write_html(str(tmp_path / "a.html"), report)
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    rows = [("Reference pixels", "6"), ("Reference pixels without a class in the map (left out)", "3"),
            ("Features of the reference outside the map (left out)", "5"),
            ("Features of the reference reaching beyond the map (their parts beyond left out)", "2"),
            ("Features of the reference without a class, a geometry or a pixel centre (left out)", "1")]
    assert "".join(f"<tr><td class='name'>{key}</td><td>{value}</td></tr>" for key, value in rows) + "</table>" in page
    assert ("<p class='warning'>Warning: First &lt;one&gt;.</p>\n<p class='warning'>Warning: Second.</p>\n<table>"
            in page)
    assert "<tr><td class='name'>b</td><td>none in the map</td><td>2</td>" in page


def test_a_map_of_two_bands_is_refused_as_no_class_map(tmp_path):
    """Two bands are no one band of class values: refused before anything is written."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((2, 4, 4), np.uint8))
    reference = write_raster(tmp_path / "reference.tif", np.ones((4, 4), np.uint8))
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == ("INPUT: 'map' has 2 bands, but a land-cover map has one band of class values. Choose "
                                  "the map made by 'Classify' (or another one-band class map).")
    assert not list(tmp_path.glob("a.*"))


def test_class_names_are_inert_in_every_csv_row_and_escaped_on_the_page(tmp_path):
    """A class named '=cmd|x' is text in the CSV's class rows too, and '<b>' is no tag on the page."""
    report = _small_report()
    report["classes"][0]["name"], report["classes"][1]["name"] = "=cmd|x", "<b>"
    reports.write_csv(str(tmp_path / "a.csv"), report)
    assert [row[:2] for row in _csv_rows(tmp_path / "a.csv")[1:3]] == [["1", "'=cmd|x"], ["2", "<b>"]]
    reports.write_html(str(tmp_path / "a.html"), report)
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "<b>" not in page and "<tr><td class='name'>&lt;b&gt;</td><td>2</td><td>2</td>" in page
