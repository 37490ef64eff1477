"""What the accuracy and band redundancy jobs, their reports and the accuracy figures give at their edges, each
pinned where a mutation audit of 2026-12-06 planted a bug no test saw: every figure worked out by hand."""

import csv
import json

import numpy as np
import pytest
from osgeo import ogr
from rasters import pixel_centre, point_wkt, write_raster, write_vector
from test_accuracy_job import _assess, _name_classes, _small_report

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.metrics import Accuracy, confusion_matrix
from mrs.mrs_qgis_plugin import analysis, jobs, reports
from mrs.mrs_qgis_plugin.raster.sources import RasterInput


def _by_value(tmp_path, mapped: np.ndarray, truth: np.ndarray, map_names=None, reference_names=None) -> dict:
    """The report of a map against a label raster, each named where names are given."""
    class_map = write_raster(tmp_path / "map.tif", mapped)
    reference = write_raster(tmp_path / "reference.tif", truth)
    if map_names:
        _name_classes(class_map, map_names, attribute_table=False)
    if reference_names:
        _name_classes(reference, reference_names, attribute_table=False)
    return _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))


def test_a_reference_class_the_map_lacks_is_scored_as_wrong_beside_a_value_the_map_gives_unnamed(tmp_path):
    """A mutation audit of 2026-12-06: the free value of 'C' (the map lacks it) was the map's unnamed 4, OA 100 %."""
    mapped = np.array([[2, 1, 4, 4]] * 4, np.uint8)
    truth = np.array([[1, 2, 3, 3]] * 4, np.uint8)
    report = _by_value(tmp_path, mapped, truth, {1: "A", 2: "B"}, {1: "B", 2: "A", 3: "C"})

    right = np.where(truth == 1, mapped == 2, np.where(truth == 2, mapped == 1, False))  # 'C' is never right
    assert report["overall_accuracy"] == right.mean() == 0.5
    assert report["class_values"] == [1, 2, 4, None]
    assert [item["name"] for item in report["classes"]] == ["A", "B", "4", "C"]
    assert report["confusion_matrix"] == [[4, 0, 0, 0], [0, 4, 0, 0], [0, 0, 0, 0], [0, 0, 8, 0]]
    assert report["warnings"] == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'B' (1 in the reference, 2 in the map); 'A' (2 in the reference, 1 in the map). If a name is "
        "wrong, correct it in the reference. The map has no class named 'C': its pixels count as errors."]


def test_reference_features_left_out_are_counted_feature_by_feature(tmp_path):
    """A mutation audit of 2026-12-06: the features left out were counted as the reasons (3), not the features (2)."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    class_map = write_raster(tmp_path / "map.tif", mapped)
    points = [(point_wkt(*pixel_centre(row, col)), {"class_id": int(mapped[row, col])})
              for row, col in [(0, 0), (0, 1), (1, 0), (2, 3), (3, 2)]]
    points += [(point_wkt(*pixel_centre(row, col)), {"class_id": None}) for row, col in [(3, 3), (3, 0)]]
    vector = write_vector(tmp_path / "points.gpkg", points, {"class_id": ogr.OFTInteger})

    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=vector, class_field="class_id"))

    assert (report["reference_features_left_out"], report["pixels"]) == (2, 5)
    assert ("<tr><td class='name'>Features of the reference without a class, a geometry or a pixel centre (left "
            "out)</td><td>2</td></tr>") in (tmp_path / "a.html").read_text()
    assert "2 of the 7 features of the reference 'points' are left out of the figures: 2 have no class." in " ".join(
        report["warnings"])


def test_a_map_holding_a_value_one_past_the_largest_class_value_is_refused(tmp_path):
    """A mutation audit of 2026-12-06: a map holding 2**32, one past the largest class value, was scored."""
    mapped = np.ones((4, 4), np.float64)
    mapped[0, 0] = 2.0 ** 32
    with pytest.raises(InputError) as raised:
        _by_value(tmp_path, mapped, np.ones((4, 4), np.uint8))
    assert str(raised.value) == ("INPUT: 'map' holds the value 4294967296; class values must be at most 4294967295, "
                                 "the largest a class raster can hold. Recode the classes with smaller values.")
    assert not (tmp_path / "a.json").exists()


def test_a_map_naming_its_value_0_unclassified_is_not_warned_of_naming_0(tmp_path):
    """A mutation audit of 2026-12-06: a map naming 0 'Unclassified' (what no data is) was warned of naming 0."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    truth = mapped.copy()
    mapped[0, 0] = 0
    report = _by_value(tmp_path, mapped, truth, {0: "Unclassified", 1: "Forest", 2: "Crop"}, {1: "Forest", 2: "Crop"})

    assert (report["overall_accuracy"], report["unmapped_reference_pixels"]) == (1.0, 1)
    assert report["warnings"] == [
        "1 of the 16 reference pixels of 'reference' (6 %) lies where the map 'map' has no class (nodata); the "
        "figures leave it out and describe the mapped pixels only."]  # 'them' (a helper's red team of 2026-12-07)


def test_a_map_naming_its_value_0_but_holding_no_0_at_the_reference_pixels_is_not_warned_of(tmp_path):
    """A mutation audit of 2026-12-06: a map naming 0 'Water', with no 0 at the reference, was said to leave out 0."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    report = _by_value(tmp_path, mapped, mapped, {0: "Water", 1: "Forest", 2: "Crop"}, {1: "Forest", 2: "Crop"})

    assert (report["overall_accuracy"], report["unmapped_reference_pixels"]) == (1.0, 0)
    assert report["warnings"] == []


def test_unmapped_pixels_of_two_reference_classes_the_page_names_alike_are_added_up(tmp_path):
    """A mutation audit of 2026-12-06: of 'Crop' and 'crop' (both the page's 'Crop') the last one's count was kept."""
    truth = np.array([[1, 1, 1, 1], [3, 3, 3, 3], [2, 2, 2, 2], [2, 2, 2, 2]], np.uint8)
    mapped = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [2, 2, 2, 2], [2, 2, 2, 2]], np.uint8)
    report = _by_value(tmp_path, mapped, truth, {1: "Crop", 2: "Forest"}, {1: "Crop", 2: "Forest", 3: "crop"})

    crop = np.isin(truth, [1, 3])
    assert (int(crop.sum()), int((crop & (mapped == 0)).sum())) == (8, 2)
    assert [(item["name"], item["reference_pixels"]) for item in report["classes"]] == [("Crop", 6), ("Forest", 8)]
    assert report["warnings"] == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ: 'crop' (3 in the reference, 1 in the map). If a name is wrong, correct it in the reference.",
        "Classes 1, 3 of the reference 'reference' share the name of the map's class 'Crop' (1), so they are scored "
        "as that one class: 8 reference pixels, 4 of them of class 3. If they are different classes, name each after "
        "a class of the map.",
        "2 of the 16 reference pixels of 'reference' (12 %) lie where the map 'map' has no class (nodata); the "
        "figures leave them out and describe the mapped pixels only. It leaves out some classes far more than the "
        "others: 'Crop' 2 of 8 (25 %); their figures describe the rest of them only."]


def test_the_shared_pixels_warning_counts_the_pixels_on_the_map_s_no_data(tmp_path):
    """A mutation audit of 2026-12-06: 17 points on 16 pixels were said to fall on 12, those on no data left out."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    mapped[0, :] = 255
    class_map = write_raster(tmp_path / "map.tif", mapped, nodata=255)
    points = [(point_wkt(*pixel_centre(row, col)), {"class_id": 1 + col % 2}) for row in range(4) for col in range(4)]
    x, y = pixel_centre(1, 1)
    points.append((point_wkt(x + 0.2, y + 0.2), {"class_id": 2}))  # a second point of class 2 on pixel (1, 1)
    vector = write_vector(tmp_path / "points.gpkg", points, {"class_id": ogr.OFTInteger})

    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=vector, class_field="class_id"))

    assert (report["pixels"], report["unmapped_reference_pixels"]) == (12, 4)
    assert report["warnings"] == [
        "17 reference samples of 'points' fall on 16 pixels of the layer 'map': 1 counts once with another sample "
        "of its class on the same pixel. The figures count pixels.",
        "4 of the 16 reference pixels of 'points' (25 %) lie where the map 'map' has no class (nodata); the figures "
        "leave them out and describe the mapped pixels only."]


def test_class_names_differing_in_letter_case_only_are_not_warned_of_as_names_that_differ(tmp_path):
    """A mutation audit of 2026-12-06: 'water' (reference) and 'Water' (map) were said to be names that differ."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    truth = mapped.copy()
    truth[3, :] = 3
    report = _by_value(tmp_path, mapped, truth, {1: "Water", 2: "Forest"}, {1: "water", 2: "Forest", 3: "Urban"})

    assert report["overall_accuracy"] == (truth == mapped).mean() == 0.75
    assert report["warnings"] == [
        "The map 'map' has no class for 'Urban' (4 reference pixels) of the reference 'reference': those pixels count "
        "as errors, as a classifier maps only the classes it was trained on. Train with samples of it, or leave it out "
        "of the reference to assess the classes the map has."]


def test_the_disjoint_classes_warning_lists_ten_values_then_how_many_more(tmp_path):
    """A mutation audit of 2026-12-06: nine values were listed before 'and 2 more' of twelve."""
    truth = (np.arange(48).reshape(4, 12) % 12 + 1).astype(np.uint8)
    report = _by_value(tmp_path, truth + 20, truth)

    assert report["warnings"] == [
        "None of the classes the map 'map' gives the reference pixels (21, 22, 23, 24, 25, 26, 27, 28, 29, 30 and 2 "
        "more) is a class of the reference 'reference' (1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more): the figures "
        "compare different class codes. If they stand for the same classes, recode one layer to the other's values, "
        "or give both the same class names."]


def _redundancy(tmp_path, bands: np.ndarray, name: str = "hsi", **options) -> tuple:
    """The band redundancy of a scene of `bands`, its warnings and its log lines."""
    hsi = write_raster(tmp_path / f"{name}.tif", bands.astype(np.float32))
    warnings: list = []
    logs: list = []
    settings = {"threshold": 0.95, "sample_size": 20000, "seed": 0, **options}
    result = analysis.redundancy_job(jobs.Layers(RasterInput(hsi, name), []), out_png=str(tmp_path / "r.png"),
                                     out_csv=str(tmp_path / "r.csv"),
                                     hooks=Hooks(warn=warnings.append, log=logs.append), **settings)
    return result, warnings, logs


@pytest.mark.parametrize("option, message", [
    ({"threshold": 1.2}, "THRESHOLD must lie in (0, 1]; got 1.2. A typical value is 0.95."),
    ({"sample_size": 1}, "SAMPLE_SIZE must be at least 2 pixels; got 1.")], ids=["threshold", "sample_size"])
def test_a_threshold_above_1_or_a_sample_of_one_pixel_is_refused(tmp_path, option, message):
    """A mutation audit of 2026-12-06: a THRESHOLD of 1.2 and a SAMPLE_SIZE of 1 were taken."""
    with pytest.raises(InputError) as raised:
        _redundancy(tmp_path, np.random.default_rng(0).normal(size=(4, 10, 10)), **option)
    assert str(raised.value) == message
    assert not (tmp_path / "r.png").exists() and not (tmp_path / "r.csv").exists()


def test_similarities_of_99_valid_pixels_are_warned_of(tmp_path):
    """A mutation audit of 2026-12-06: 99 valid pixels, one fewer than the sample's minimum, went unsaid."""
    _, warnings, _ = _redundancy(tmp_path, np.random.default_rng(0).normal(size=(4, 9, 11)), "hsi99")
    assert warnings == ["The similarities are computed from the 99 valid pixels of 'hsi99' alone: fewer than 100 tell "
                        "little of how alike the bands are. Give a larger scene."]


@pytest.fixture(scope="module")
def grouped(tmp_path_factory) -> tuple:
    """The redundancy of 6 bands in groups {1, 2, 4}, {3} and {5, 6}, with the similarities by hand."""
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(30, 30)) for _ in range(3))
    bands = np.stack([a, a + 0.05 * rng.normal(size=(30, 30)), c, a + 0.05 * rng.normal(size=(30, 30)), b,
                      b + 0.05 * rng.normal(size=(30, 30))]).astype(np.float32)
    flat = bands.reshape(6, -1).astype(np.float64)
    centred = flat - flat.mean(axis=1, keepdims=True)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    return (*_redundancy(tmp_path_factory.mktemp("grouped"), bands, sample_size=900), unit @ unit.T)


def test_the_largest_group_of_redundant_bands_is_the_largest(grouped):
    """A mutation audit of 2026-12-06: the largest of groups of 3, 1 and 2 bands was said to have 1 band."""
    result, _, _, similarity = grouped
    assert [list(row) for row in similarity >= 0.95] == [
        [True, True, False, True, False, False], [True, True, False, True, False, False],
        [False, False, True, False, False, False], [True, True, False, True, False, False],
        [False, False, False, False, True, True], [False, False, False, False, True, True]]
    assert (result["largest_group"], result["group_count"]) == (3, 3)
    assert result["groups"] == ["1,2,4", "3", "5-6 (hsi band 5 - hsi band 6)"]


def test_only_the_bands_of_groups_of_one_are_said_to_be_like_no_other(grouped):
    """A mutation audit of 2026-12-06: the 2 bands of a group of two were counted as like no other beside band 3."""
    _, warnings, logs, _ = grouped
    assert warnings == []
    assert logs[-2] == ("3 groups of bands at a similarity threshold of 0.95 (each band at least that similar to its "
                        "group's first band or to its nearest band; from 900 pixels): the largest has 3 bands; 1 band "
                        "is like no other.")


def test_a_group_of_bands_with_a_gap_is_listed_band_by_band(grouped):
    """A mutation audit of 2026-12-06: bands 1, 3 and 4 were shown as the range 1-4, and bands 1, 2 and 4 as 1-4."""
    result, _, _, _ = grouped
    assert result["groups"][0] == "1,2,4"
    assert analysis._band_range([0, 2, 3], ["b1", "b2", "b3", "b4"]) == "1,3,4"
    assert analysis._band_range([1, 2, 3], ["b1", "b2", "b3", "b4"]) == "2-4 (b2 - b4)"


def test_a_band_of_tiny_variation_is_not_warned_of_as_constant(tmp_path):
    """A mutation audit of 2026-12-06: a band varying by 1e-4 about 0.5 was said to hold one value."""
    rng = np.random.default_rng(0)
    bands = rng.normal(size=(4, 20, 20))
    bands[3] = 0.5 + 1e-4 * rng.normal(size=(20, 20))
    sampled = bands.astype(np.float32).reshape(4, -1)
    assert 0 < sampled[3].max() - sampled[3].min() < 1e-3
    _, warnings, _ = _redundancy(tmp_path, bands, sample_size=400)
    assert warnings == []


def test_the_accuracy_csv_gives_producer_s_then_user_s_accuracy(tmp_path):
    """A mutation audit of 2026-12-06: the CSV's producer's and user's accuracy columns were swapped unseen."""
    report = _small_report()
    reports.write_csv(str(tmp_path / "a.csv"), report)
    with open(tmp_path / "a.csv", newline="", encoding=reports.CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    matrix = np.array([[3, 1], [0, 2]])
    assert (np.diag(matrix) / matrix.sum(axis=1)).tolist() == [0.75, 1.0]  # producer's, by reference row
    assert (np.diag(matrix) / matrix.sum(axis=0)).tolist() == [1.0, 2 / 3]  # user's, by map column
    assert rows[:3] == [
        ["class_value", "class_name", "reference_pixels", "producers_accuracy", "users_accuracy", "f1"],
        ["1", "a", "4", "0.75", "1.0", str(6 / 7)],
        ["2", "b", "2", "1.0", str(2 / 3), "0.8"]]


def test_the_report_page_gives_the_average_accuracy_the_totals_and_user_s_accuracy(tmp_path):
    """A mutation audit of 2026-12-06: the page's average accuracy, Total row and user's accuracy could show others."""
    reports.write_html(str(tmp_path / "a.html"), _small_report())
    page = (tmp_path / "a.html").read_text()
    assert "<tr><td class='name'>Average accuracy</td><td>87.50 %</td></tr>" in page  # (3/4 + 2/2) / 2
    assert "<tr><td class='name'>Overall accuracy</td><td>83.33 %</td></tr>" in page  # 5/6
    assert "<tr><td class='name'>Total</td><td>3</td><td>3</td><td>6</td></tr>" in page
    assert "<tr><td class='name'>a</td><td>1</td><td>4</td><td>75.00</td><td>100.00</td><td>85.71</td></tr>" in page
    assert "<tr><td class='name'>b</td><td>2</td><td>2</td><td>100.00</td><td>66.67</td><td>80.00</td></tr>" in page


def test_the_report_page_gives_the_features_reaching_beyond_the_map_apart_from_those_left_out(tmp_path):
    """A mutation audit of 2026-12-06: the page's row of features reaching beyond the map could show those left out."""
    report = {**_small_report(), "outside_map_unit": "features", "reference_features_left_out": 5,
              "reference_features_partly_outside": 2}
    reports.write_html(str(tmp_path / "a.html"), report)
    page = (tmp_path / "a.html").read_text()
    assert ("<tr><td class='name'>Features of the reference reaching beyond the map (their parts beyond left out)"
            "</td><td>2</td></tr>") in page
    assert ("<tr><td class='name'>Features of the reference without a class, a geometry or a pixel centre (left out)"
            "</td><td>5</td></tr>") in page


def test_the_similarity_csv_gives_six_decimals(tmp_path):
    """A mutation audit of 2026-12-06: similarities rounded to three decimals went unseen."""
    similarity = np.array([[1.0, 0.12345678], [0.12345678, 1.0]])
    reports.write_similarity_csv(str(tmp_path / "s.csv"), similarity, ["b1", "b2"])
    with open(tmp_path / "s.csv", newline="", encoding=reports.CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    assert rows[1:] == [["b1", "1.000000", "0.123457"], ["b2", "0.123457", "1.000000"]]
    assert abs(float(rows[1][2]) - similarity[0, 1]) <= 1e-6


def test_an_empty_file_at_the_report_path_is_replaced_by_the_report(tmp_path):
    """A mutation audit of 2026-12-06: an empty file (as a file dialog may leave) at OUTPUT_HTML was refused."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    class_map = write_raster(tmp_path / "map.tif", mapped)
    reference = write_raster(tmp_path / "reference.tif", mapped)
    (tmp_path / "empty.html").write_text("")

    analysis.accuracy_job(class_map, "map", jobs.LabelSource("reference", raster_path=reference),
                          out_html=str(tmp_path / "empty.html"))

    page = (tmp_path / "empty.html").read_text()
    assert "<h2>Accuracy assessment</h2>" in page
    assert "<tr><td class='name'>Overall accuracy</td><td>100.00 %</td></tr>" in page


def test_another_program_s_json_object_at_the_json_output_path_is_refused_and_kept(tmp_path):
    """A mutation audit of 2026-12-06: any JSON object at OUTPUT_JSON was taken for a report and overwritten."""
    mapped = np.array([[1, 2, 1, 2]] * 4, np.uint8)
    class_map = write_raster(tmp_path / "map.tif", mapped)
    reference = write_raster(tmp_path / "reference.tif", mapped)
    settings = tmp_path / "settings.json"
    settings.write_text('{"project": "my settings"}')

    with pytest.raises(InputError) as raised:
        analysis.accuracy_job(class_map, "map", jobs.LabelSource("reference", raster_path=reference),
                              out_json=str(settings))

    assert str(raised.value) == (f"OUTPUT_JSON: {settings} exists and is not a report this plugin wrote; choose a new "
                                 "file name, or delete that file first.")
    assert json.loads(settings.read_text()) == {"project": "my settings"}


def test_the_confusion_matrix_has_reference_rows_and_map_columns():
    """A mutation audit of 2026-12-06: the matrix of reference 0, 0, 1 mapped 1, 1, 1 was free to be transposed."""
    matrix = confusion_matrix(np.array([0, 0, 1]), np.array([1, 1, 1]), 2)
    assert matrix.tolist() == [[0, 2], [0, 1]]  # reference class 0: both pixels mapped as 1
    assert Accuracy(matrix).to_dict(["a", "b"])["classes"][0]["reference_pixels"] == 2


def test_kappa_of_a_matrix_whose_row_and_column_sums_differ_is_cohen_s():
    """A mutation audit of 2026-12-06: chance agreement of column sums squared went unseen (a matrix of like sums)."""
    matrix = np.array([[5, 1], [2, 2]])
    total = matrix.sum()
    observed = np.trace(matrix) / total  # 0.7
    chance = float(np.dot(matrix.sum(axis=0), matrix.sum(axis=1))) / total ** 2  # (7 x 6 + 3 x 4) / 100 = 0.54
    assert (observed, chance) == pytest.approx((0.7, 0.54))
    kappa = Accuracy(matrix).kappa
    assert kappa == pytest.approx((observed - chance) / (1 - chance)) and kappa == pytest.approx(8 / 23)
    assert reports.kappa_text(kappa) == "0.3478"
