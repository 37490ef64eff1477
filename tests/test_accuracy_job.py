"""What an accuracy assessment counts, and says it counts, with crafted maps and references
(red team of 2026-12-04): every figure worked out by hand."""

import json

import numpy as np
import pytest
from osgeo import gdal, ogr
from rasters import GEOTRANSFORM, pixel_centre, point_wkt, write_raster, write_vector

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.names import share_text
from mrs.mrs_qgis_plugin import analysis, jobs


def _name_classes(path: str, names: dict[int, str], attribute_table: bool) -> str:
    """Names classes in category names, or in an attribute table as NLCD and CORINE products do."""
    dataset = gdal.Open(path, gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    if attribute_table:
        table = gdal.RasterAttributeTable()
        table.CreateColumn("Value", gdal.GFT_Integer, gdal.GFU_MinMax)
        table.CreateColumn("Class", gdal.GFT_String, gdal.GFU_Name)
        for row, (value, name) in enumerate(sorted(names.items())):
            table.SetValueAsInt(row, 0, value)
            table.SetValueAsString(row, 1, name)
        band.SetDefaultRAT(table)
    else:
        band.SetCategoryNames([names.get(value, "") for value in range(max(names) + 1)])
    band = dataset = None
    return path


def _assess(tmp_path, class_map: str, reference: jobs.LabelSource) -> dict:
    report = analysis.accuracy_job(class_map, "map", reference, out_json=str(tmp_path / "a.json"),
                                   out_html=str(tmp_path / "a.html"))
    assert json.loads((tmp_path / "a.json").read_text())["warnings"] == report["warnings"]
    return report


def test_a_map_whose_classes_are_named_in_an_attribute_table_is_matched_by_name(tmp_path):
    """The map's 11, 42, 90 are Water, Forest, Wetland in its attribute table, the reference's are
    Forest, Water, Wetland: right everywhere by name, right on the 90s only by value (it scored 25 %
    for a map 81 % right)."""
    mapped = np.array([[[11, 42, 90, 11]] * 4], np.uint8)
    truth = np.select([mapped == 11, mapped == 42], [42, 11], mapped).astype(np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {11: "Water", 42: "Forest", 90: "Wetland"},
                              attribute_table=True)
    reference = _name_classes(write_raster(tmp_path / "reference.tif", truth),
                              {11: "Forest", 42: "Water", 90: "Wetland"}, attribute_table=False)

    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))

    assert (report["overall_accuracy"], report["pixels"]) == (1.0, 16)
    assert [item["name"] for item in report["classes"]] == ["Water", "Forest", "Wetland"]
    # the JSON says which way its matrix reads, as the page and the CSV do (a helper's audit of 2026-12-05)
    assert json.loads((tmp_path / "a.json").read_text())["confusion_matrix_axes"] == {"rows": "reference",
                                                                                       "columns": "map"}


def test_a_map_numbered_from_class_names_matched_by_value_to_a_reference_of_values_is_warned_of(tmp_path):
    """Red team of 2026-12-04: a classifier trained on a text class field numbers its classes by
    their names (1 'Bare soil' ...); against a reference coded by class_id the map scored 4 % for
    a map 90 % right, without a word; the advice named a name field, which mrs:accuracy has not (a
    helper's desktop check of the ninth session of 2026-12-06)."""
    assert jobs._training_tags({"class_field": {"name": "class_name", "text": True}}) == {
        jobs.NUMBERED_FROM_NAMES_TAG: "yes"}
    assert jobs._training_tags({"class_field": {"name": "class_id", "text": False}}) == {}
    mapped = np.array([[[1, 2, 2, 1]] * 4], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Bare soil", 2: "Water"},
                              attribute_table=False)
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.SetMetadataItem(jobs.NUMBERED_FROM_NAMES_TAG, "yes")
    dataset = None
    values_only = write_raster(tmp_path / "values.tif", mapped)
    report = _assess(tmp_path, class_map, jobs.LabelSource("values", raster_path=values_only))
    assert report["warnings"] == [
        "The classes of the map 'map' were numbered from their names when its classifier was trained (1 'Bare "
        "soil', 2 'Water'), but those of the reference 'values' have values only: they were matched by value, "
        "which says nothing of the map unless the reference was numbered from the same names. Give the reference "
        "its class names (points or polygons: a field of the names as REFERENCE_FIELD; a label raster: category "
        "names, or a paletted style saved beside it as a .qml file), so that they are matched by name."]
    named = _name_classes(write_raster(tmp_path / "named.tif", mapped), {1: "Bare soil", 2: "Water"},
                          attribute_table=True)
    assert _assess(tmp_path, class_map, jobs.LabelSource("named", raster_path=named))["warnings"] == []
    styled = write_raster(tmp_path / "styled.tif", 3 - mapped)  # red team of 2026-12-05: the advised style was unread
    (tmp_path / "styled.qml").write_text("<qgis><paletteEntry value='1' label='Water' color='#0000ff'/><paletteEntry "
                                         "value='2' label='Bare soil' color='#aa8800'/></qgis>", encoding="utf-8")
    report = _assess(tmp_path, class_map, jobs.LabelSource("styled", raster_path=styled))
    assert report["overall_accuracy"] == 1.0
    assert [warning[:80] for warning in report["warnings"]] == [
        "The classes of the reference 'styled' were matched to those of the map 'map' by "]


def test_reference_samples_sharing_a_pixel_are_counted_in_the_reports(tmp_path):
    """Three points of class 1 on one pixel count once, a pixel holding points of classes 1 and 2 is
    left out: the report said 'on 2 reference pixels', left out none and warned of nothing, so 4
    of the 6 samples were nowhere."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8))
    x, y = pixel_centre(0, 0)
    points = [(point_wkt(x + offset, y), {"class_id": 1}) for offset in (-0.2, 0.0, 0.2)]
    x, y = pixel_centre(1, 1)
    points += [(point_wkt(x - 0.2, y), {"class_id": 1}), (point_wkt(x + 0.2, y), {"class_id": 2})]
    points.append((point_wkt(*pixel_centre(2, 2)), {"class_id": 2}))
    reference = write_vector(tmp_path / "points.gpkg", points, {"class_id": ogr.OFTInteger})

    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=reference, class_field="class_id"))

    assert (report["pixels"], report["overall_accuracy"]) == (2, 0.5)
    assert ("6 reference samples of 'points' fall on 3 pixels of the layer 'map': 2 count once with another sample "
            "of their class on the same pixel, and 2 on 1 pixel holding samples of different classes are left out. "
            "The figures count pixels.") in report["warnings"]
    assert "count once" in (tmp_path / "a.html").read_text()


def test_a_reference_finer_than_the_map_says_how_many_of_its_pixels_are_compared(tmp_path):
    """A 1 m reference over a 2 m map: each map pixel takes the reference class at its centre,
    16 of the 64 labelled pixels, and the other 48 went unused without a word."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8),
                             geotransform=(664000.0, 2.0, 0.0, 5102000.0, 0.0, -2.0))
    reference = write_raster(tmp_path / "reference.tif", np.ones((1, 8, 8), np.uint8))

    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))

    assert report["pixels"] == 16
    assert ("Each pixel of the layer 'map' takes the label of 'reference' at its centre, so 48 of the 64 labelled "
            "pixels of 'reference' over it are not used (a label raster finer than that grid). To use them all, "
            "resample 'reference' onto that grid first (by majority: gdalwarp -r mode).") in report["warnings"]


def test_a_coarser_reference_s_count_is_explained_in_the_report(tmp_path):
    """4 labelled pixels were reported as 16 reference pixels without a word; then said in the log
    only, while the report's count is what an analyst quotes as the samples (audit of 2026-12-05)."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8))
    reference = write_raster(tmp_path / "reference.tif", np.ones((1, 2, 2), np.uint8),
                             geotransform=(664000.0, 2.0, 0.0, 5102000.0, 0.0, -2.0))

    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))

    assert (report["pixels"], report["warnings"]) == (16, [
        "The 4 labelled pixels of 'reference' over the layer 'map' cover 16 of its pixels: each counts as the pixels "
        "of that grid whose centres it holds, so the figures count 16 pixels for 4 reference pixels (and those "
        "outside the map in the reference's own)."])


def test_kappa_is_absent_when_the_map_and_the_reference_hold_one_class(tmp_path):
    """Chance agreement is then 1, and kappa 0 / 0: it was given as 1.0."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8))
    reference = write_raster(tmp_path / "reference.tif", np.ones((1, 4, 4), np.uint8))

    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))

    assert (report["overall_accuracy"], report["kappa"]) == (1.0, None)
    assert json.loads((tmp_path / "a.json").read_text())["kappa"] is None
    assert "<td class='name'>Cohen's kappa</td><td>undefined (one class only)</td>" in (tmp_path / "a.html").read_text()


def test_a_reference_of_the_maps_resolution_in_another_crs_is_not_called_finer(tmp_path):
    """A nearest-neighbour warp at the grid's own resolution skips a pixel here and there: 2 of 78
    were warned of as a finer raster's (review of 2026-12-04)."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 60, 60), np.uint8))
    rng = np.random.default_rng(1)  # 80 labelled pixels, 78 of them taken by the warp
    labels = np.zeros((60, 60), np.uint8)
    labels.flat[rng.choice(60 * 60, 80, replace=False)] = rng.integers(1, 4, 80)
    utm = write_raster(tmp_path / "labels_utm.tif", labels)
    reference = str(tmp_path / "labels.tif")
    gdal.Warp(reference, utm, dstSRS="EPSG:32633", xRes=1.0, yRes=1.0, resampleAlg="near")

    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))

    assert (report["pixels"], report["warnings"]) == (78, [])


def test_reference_classes_that_share_a_map_class_s_name_are_said_to_be_scored_as_one(tmp_path):
    """Red team of 2026-12-05: a reference whose Grassland (2) was renamed 'Crop' was scored with its
    469 Grassland pixels as Crop (OA 28.8 -> 43.1 %), under a warning that 'the map's legend will not
    tell them apart'."""
    mapped = np.array([[[1, 2, 3, 1]] * 4], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Crop", 2: "Grassland", 3: "Water"},
                              attribute_table=False)
    truth = np.array([[[1, 2, 3, 2]] * 4], np.uint8)
    reference = _name_classes(write_raster(tmp_path / "reference.tif", truth), {1: "Crop", 2: "crop", 3: "Water"},
                              attribute_table=False)
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert not [warning for warning in report["warnings"] if "legend" in warning]  # a training's words (review)
    assert report["warnings"][-1] == (
        "Classes 1, 2 of the reference 'reference' share the name of the map's class 'Crop' (1), so they are scored "
        "as that one class: 12 reference pixels, 8 of them of class 2. If they are different classes, name each "
        "after a class of the map.")
    assert report["overall_accuracy"] == 1.0 - 4 / 16
    # text classes by their names, not their numbers, which are their order (a helper's audit of 2026-12-05)
    x, y = pixel_centre(0, 0)
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(x, y), {"name": "Crop"}),
                                                     (point_wkt(x + 3, y), {"name": "CROP"})], {"name": ogr.OFTString})
    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=points, class_field="name"))
    assert [warning for warning in report["warnings"] if warning.startswith("Classes")] == [
        "Classes 'CROP', 'Crop' of the reference 'points' share the name of the map's class 'Crop' (1), so they are "
        "scored as that one class: 2 reference pixels. If they are different classes, name each after a class of the "
        "map."]


def test_a_reference_class_that_could_be_several_of_the_map_s_is_said_in_the_map_s_spellings(tmp_path):
    """A helper's red team of 2026-12-06: 'The map has more than one class named 'FOREST'' of a map
    whose classes were 'Forest' and 'forest'."""
    class_map = _name_classes(write_raster(tmp_path / "map.tif", np.array([[[1, 2, 3, 3]] * 4], np.uint8)),
                              {1: "Forest", 2: "forest", 3: "Water"}, attribute_table=False)
    reference = _name_classes(write_raster(tmp_path / "reference.tif", np.array([[[1, 1, 2, 0]] * 4], np.uint8)),
                              {1: "FOREST", 2: "Water"}, attribute_table=False)
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert [warning for warning in report["warnings"] if "FOREST" in warning][0].endswith(
        "The reference's class 'FOREST' could be any of the map's classes 'Forest' (1) and 'forest' (2): its pixels "
        "count as errors.")
    assert report["overall_accuracy"] == 4 / 12


def test_a_reference_wholly_on_nodata_is_refused_as_the_map_s_and_says_the_pixels_outside_it(tmp_path):
    """Helpers' red team and audit of 2026-12-06: 'All 342 sample pixels of 'test' are nodata in 'c'' of a
    reference whose other 690 pixels lay outside the map, unsaid; a map of Classify's (0 its nodata) got
    that sentence, one without nodata the INPUT one."""
    class_map = write_raster(tmp_path / "map.tif", np.zeros((1, 4, 4), np.uint8), nodata=0)
    west = (GEOTRANSFORM[0] - 4, *GEOTRANSFORM[1:])  # 4 columns west of the map, then 4 over it
    reference = write_raster(tmp_path / "reference.tif", np.ones((1, 4, 8), np.uint8), west, nodata=0)
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == ("INPUT: 'map' gives no class (only no data) at any of the 16 pixels of the reference "
                                  "'reference', and 16 pixels of 'reference' lie outside the layer 'map'. Choose the "
                                  "map of the area the reference covers.")


def test_a_reference_whose_labels_all_lie_outside_the_map_is_told_so(tmp_path):
    """A helper's audit of 2026-12-06: 'has no labelled pixel over the layer 'map' (all are 0 or nodata).
    Choose a label raster with class values from 1.' of a reference whose labels lay beside the map."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8), nodata=0)
    west = (GEOTRANSFORM[0] - 4, *GEOTRANSFORM[1:])
    labels = np.zeros((1, 4, 8), np.uint8)
    labels[0, :, :4] = 1  # its 16 pixels west of the map
    reference = write_raster(tmp_path / "reference.tif", labels, west, nodata=0)
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == ("REFERENCE_LABELS: the 16 labelled pixels of 'reference' all lie outside the layer "
                                  "'map'. Choose the map of the area they cover, or check the layers' CRSs.")


@pytest.mark.parametrize("bare, advice", [("map", "resample 'reference' to its size"),
                                          ("reference", "resample it onto the grid of 'map'")])
def test_a_layer_without_georeferencing_of_another_size_is_refused_with_advice_for_the_other(tmp_path, bare, advice):
    """A helper's red team of 2026-12-07: a map without georeferencing was to be resampled 'onto the
    grid of' itself."""
    sizes = {"map": (30, 20), "reference": (60, 40)}
    paths = {name: write_raster(tmp_path / f"{name}.tif", np.ones((1, height, width), np.uint8), nodata=0)
             for name, (width, height) in sizes.items()}
    bare_raster = gdal.GetDriverByName("GTiff").Create(paths[bare], *sizes[bare], 1, gdal.GDT_Byte)
    bare_raster.GetRasterBand(1).Fill(1)
    bare_raster = None
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, paths["map"], jobs.LabelSource("reference", raster_path=paths["reference"]))
    assert str(refused.value) == (f"The layer '{bare}' has no georeferencing and its size differs from the other layer "
                                  "('map' 30 x 20, 'reference' 60 x 40 pixels), so they cannot be aligned. "
                                  f"Georeference it or {advice}.")


def test_the_report_page_shows_paths_with_control_and_reordering_characters_escaped(tmp_path):
    """Red team of 2026-12-05: a reference file named 'ref\\n=1+2,x\\u202e.tif' was shown as written on
    the page, whose override reversed the rest of the paragraph (class names were cleaned already)."""
    mapped = np.array([[[1, 2, 2, 1]] * 4], np.uint8)
    class_map = write_raster(tmp_path / "map.tif", mapped)
    reference = write_raster(tmp_path / "ref\n=1+2,x\u202e.tif", mapped)
    _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "\u202e" not in page and "ref\n" not in page
    assert f"({tmp_path}/ref\\n=1+2,x\\u202e.tif)" in page


def test_a_map_class_name_too_long_for_a_report_is_refused(tmp_path):
    """Review of 2026-12-05: a map category name of 140,006 characters went into a CSV that Python's
    csv module could not read (reference names of that length were refused already)."""
    mapped = np.array([[[1, 2, 2, 1]] * 4], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Crop", 2: "W" * 300},
                              attribute_table=False)
    with pytest.raises(InputError, match=r"^The name of class 2 of 'map' is 300 characters long"):
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=write_raster(tmp_path / "r.tif", mapped)))


def test_reference_classes_the_map_has_no_class_for_are_warned_of(tmp_path):
    """Red team of 2026-12-05: a classifier trained without 'Bare soil' was scored on a reference with
    57 such pixels, all errors, without a word (the report said 0 reference pixels left out)."""
    mapped = np.array([[[1, 2, 2, 1]] * 4], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Crop", 2: "Water"},
                              attribute_table=False)
    truth = np.array([[[1, 2, 3, 3]] * 4], np.uint8)
    reference = _name_classes(write_raster(tmp_path / "reference.tif", truth), {1: "Crop", 2: "Water", 3: "Bare soil"},
                              attribute_table=False)
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert report["warnings"] == [
        "The map 'map' has no class for 'Bare soil' (8 reference pixels) of the reference 'reference': those pixels "
        "count as errors, as a classifier maps only the classes it was trained on. Train with samples of it, or "
        "leave it out of the reference to assess the classes the map has."]
    assert report["overall_accuracy"] == 0.5
    # a class the map gives, though its table does not name it, is one of its classes (review of 2026-12-05)
    unnamed = _name_classes(write_raster(tmp_path / "unnamed.tif", truth), {1: "Crop", 2: "Water"}, attribute_table=False)
    report = _assess(tmp_path, unnamed, jobs.LabelSource("reference", raster_path=reference))
    assert report["overall_accuracy"] == 1.0 and not [text for text in report["warnings"] if "has no class" in text]


def test_reference_polygons_reaching_beyond_the_map_are_warned_of_in_the_report(tmp_path):
    """A helper's red team of 2026-12-05: the parts beyond the map were left out of the figures with a
    log line only, missing from the report's warnings (JSON, CSV, HTML)."""
    from rasters import ORIGIN_X, ORIGIN_Y, box_wkt

    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8))
    inside = box_wkt(ORIGIN_X, ORIGIN_Y - 2, ORIGIN_X + 2, ORIGIN_Y)  # 4 pixels, all on the map
    across = box_wkt(ORIGIN_X + 2, ORIGIN_Y - 4, ORIGIN_X + 6, ORIGIN_Y - 2)  # 8 pixel centres, 4 on the map
    reference = write_vector(tmp_path / "plots.gpkg", [(inside, {"class_id": 1}), (across, {"class_id": 1})],
                             {"class_id": ogr.OFTInteger})

    lines: list = []
    report = analysis.accuracy_job(class_map, "map", jobs.LabelSource("plots", vector_path=reference,
                                                                      class_field="class_id"),
                                   out_json=str(tmp_path / "a.json"), out_html=str(tmp_path / "a.html"),
                                   hooks=Hooks(log=lines.append, warn=lambda _warning: None))
    assert not [line for line in lines if "beyond" in line]  # the warning alone says it (a red team of 2026-12-06)

    assert report["pixels"] == 8
    assert report["warnings"] == ["1 of the 2 features of the reference 'plots' reaches beyond the map 'map'; the "
                                  "figures leave its parts outside the map out and describe the area the map covers "
                                  "only."]
    assert "reaches beyond the map" in (tmp_path / "a.html").read_text()
    assert report["reference_features_partly_outside"] == 1
    # with a feature wholly outside too, both are said (a helper's red team of 2026-12-05: only that one was)
    away = box_wkt(ORIGIN_X + 10, ORIGIN_Y - 4, ORIGIN_X + 12, ORIGIN_Y - 2)
    reference = write_vector(tmp_path / "more.gpkg", [(inside, {"class_id": 1}), (across, {"class_id": 1}),
                                                      (away, {"class_id": 1})], {"class_id": ogr.OFTInteger})
    report = _assess(tmp_path, class_map, jobs.LabelSource("more", vector_path=reference, class_field="class_id"))
    assert report["warnings"] == ["1 feature of the reference 'more' lies outside the map 'map', and 1 of its 3 "
                                  "features reaches beyond the map; the figures leave out the feature outside and the "
                                  "parts beyond the map, and describe the area the map covers only."]
    assert (report["outside_map"], report["reference_features_partly_outside"]) == (1, 1)
    html = (tmp_path / "a.html").read_text()
    assert "Features of the reference reaching beyond the map (their parts beyond left out)" in html


@pytest.mark.parametrize("value, beside", [(5e9, 1), (1e20, 1), (5e9, -1)])
def test_a_map_of_class_values_beyond_the_largest_is_refused(tmp_path, value, beside):
    """A helper's audit of 2026-12-05: a float map holding 1e20 was scored, with a class
    -9223372036854775808 in the reports (the cast overflowed); 5e9, refused in a reference, was taken;
    one of 2026-12-06: beside -1, which was to be declared no data, as if 5e9 were a class."""
    mapped = np.ones((1, 4, 4), np.float32)
    mapped[0, 0], mapped[0, 1, 1] = value, beside
    class_map = write_raster(tmp_path / "map.tif", mapped)
    reference = write_raster(tmp_path / "reference.tif", np.ones((1, 4, 4), np.uint8))
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == (f"INPUT: 'map' holds the value {float(np.float32(value)):.15g}; class values must be "
                                  "at most 4294967295, the largest a class raster can hold. Recode the classes with "
                                  "smaller values.")


def test_a_map_naming_its_value_0_or_its_nodata_value_as_a_class_is_warned_of(tmp_path):
    """A helper's audit of 2026-12-05: a map of classes 0-2 named Water, Forest, Crop had its 143 Water
    pixels left out as no data, and was said to have no class named 'Water'; one whose nodata value 2
    was named 'Forest' lost those pixels without a word."""
    mapped = np.array([[[0, 1, 2, 0]] * 4], np.uint8)
    class_map = write_raster(tmp_path / "map.tif", mapped)
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.GetRasterBand(1).SetCategoryNames(["Water", "Forest", "Crop"])
    dataset = None
    reference = write_raster(tmp_path / "reference.tif", mapped + 1)
    _name_classes(reference, {1: "Water", 2: "Forest", 3: "Crop"}, attribute_table=False)
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert ("The map 'map' names its value 0 'Water', but 0 means no data in a class map: its 8 reference pixels of "
            "value 0 are left out as unmapped, and the reference's 'Water' finds no class of the map by that name. If "
            "0 is a class, recode the map's classes from 1.") in report["warnings"]
    # a reference of text classes naming 'Water' is refused saying why the map lacks it (audit of 2026-12-05)
    x, y = pixel_centre(0, 0)
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(x, y), {"name": "Water"}),
                                                     (point_wkt(x + 1, y), {"name": "Forest"})],
                          {"name": ogr.OFTString})
    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=points, class_field="name"))
    assert report["warnings"][:3] == [  # assessed on 'Forest' (a helper's red team of 2026-12-06), not refused
        "The map 'map' names its value 0 'Water', but 0 means no data in a class map: its 1 reference pixel of value 0 "
        "is left out as unmapped, and the reference's 'Water' finds no class of the map by that name. If 0 is a "
        "class, recode the map's classes from 1.",
        "The map has no class named 'Water': its pixels count as errors.",
        "1 of the 2 reference pixels of 'points' (50 %) lies where the map 'map' has no class (nodata); the figures "
        "leave it out and describe the mapped pixels only. It leaves out some classes far more than the others: "
        "'Water' 1 of 1 (100 %); 'Water' has no figures at all, and the average accuracy leaves it out."]
    assert report["overall_accuracy"] == 1.0
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.GetRasterBand(1).SetNoDataValue(2)
    dataset = None
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert ("The map 'map' declares 2 as its nodata value, but names that value 'Crop' as a class: its pixels are left "
            "out as unmapped. If 'Crop' is a class, declare another nodata value, or none.") in report["warnings"]
    dataset = gdal.Open(class_map, gdal.GA_Update)  # 0 declared nodata too: its pixels were read as none (an audit)
    dataset.GetRasterBand(1).SetNoDataValue(0)
    dataset = None
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert report["warnings"][0] == ("The map 'map' names its value 0 'Water', but 0 means no data in a class map: its "
                                     "8 reference pixels of value 0 are left out as unmapped. If 0 is a class, recode "
                                     "the map's classes from 1.")


def test_a_figure_below_one_is_never_shown_as_a_whole(tmp_path):
    """A helper's audit of 2026-12-05: one error in 40,000 pixels was shown as 100.00 % overall, average,
    producer's and user's accuracy, in the log and the report."""
    from mrs.mrs_qgis_plugin.reports import kappa_text, percent

    assert [percent(value) for value in (None, 0.88725, 0.99999, 1.0)] == ["", "88.72", "99.99", "100.00"]
    assert [kappa_text(value) for value in (0.99996, 1.0)] == ["0.9999", "1.0000"]
    # nor zero above or below it, nor '-0' (a helper's audit of 2026-12-06: one right pixel in 400,000 was 0.00 %)
    assert [percent(value) for value in (0.0, 1 / 400000, 0.00004999)] == ["0.00", "0.01", "0.01"]
    assert [kappa_text(value) for value in (1e-9, -1e-9, -1e-5, 0.0, -0.0, -0.42)] == [
        "0.0001", "-0.0001", "-0.0001", "0.0000", "0.0000", "-0.4200"]
    mapped = np.ones((1, 200, 200), np.uint8)
    mapped[0, 0, 0] = 2
    truth = np.ones((1, 200, 200), np.uint8)
    truth[0, 199, 199] = 2
    lines = []
    report = analysis.accuracy_job(write_raster(tmp_path / "map.tif", mapped), "map",
                                   jobs.LabelSource("reference", raster_path=write_raster(tmp_path / "r.tif", truth)),
                                   out_html=str(tmp_path / "a.html"), hooks=Hooks(log=lines.append))
    assert 0.9999 < report["overall_accuracy"] < 1
    assert next(line for line in lines if line.startswith("Overall accuracy")).startswith("Overall accuracy 99.99 %")
    assert "100.00" not in (tmp_path / "a.html").read_text().split("Overall accuracy", 1)[1].split("</table>")[0]


def test_a_share_is_never_shown_as_none_or_all_when_it_is_not():
    """A helper's review of 2026-12-05: '1 of the 40000 reference pixels of 'r1' (0 %) lie where ...'."""
    assert [share_text(share) for share in (0.0, 1 / 40000, 0.37, 0.9999, 1.0)] == [
        "0 %", "<1 %", "37 %", ">99 %", "100 %"]


def test_a_reference_of_whole_numbers_and_other_texts_is_not_said_to_be_renumbered(tmp_path):
    """A helper's red team of 2026-12-05: a reference field holding 'Forest', '#Water' and '10' was
    warned of as a training's is, "'10' is 2 in the map; write every class as a whole number to keep
    its value", in the reports too, though its classes were matched to the map's by their names
    ('10' is the map's 3) and every figure was right."""
    mapped = np.array([[[1, 2, 3, 1]] * 4], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Forest", 2: "#Water", 3: "10"},
                              attribute_table=False)
    points = write_vector(tmp_path / "points.gpkg", [(point_wkt(*pixel_centre(0, col)), {"c": name})
                                                     for col, name in enumerate(["Forest", "#Water", "10"])],
                          {"c": ogr.OFTString})
    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=points, class_field="c"))
    assert report["overall_accuracy"] == 1.0 and report["pixels"] == 3
    assert not [warning for warning in report["warnings"] if "whole number" in warning]


NAMES = ["Crop", "Grassland", "Bare soil", "Trees", "Buildings", "Roads", "Water"]


def _permuted_map(folder, truth: np.ndarray) -> str:
    """The map of a reference with values 1-7, each class under the value 8 - its own."""
    return write_raster(folder / "map.tif", np.where(truth > 0, 8 - truth, 0).astype(np.uint8))


@pytest.mark.parametrize("with_value_column", [True, False, "code"])
def test_a_reference_named_in_an_attribute_table_without_a_name_usage_is_matched_by_name(tmp_path, with_value_column):
    """A helper's coverage round of 2026-12-06: an ArcGIS table (Value, Count, ClassName, every column of
    generic usage) and one of names only, one row a value, were read by no test; one with a text column
    of codes before its names ('code': a helper's red team of 2026-12-06 had the classes named 'C1' ...
    'C7', OA 0 %) is read by the column named for names; a map numbering the
    same classes the other way round is right everywhere by name."""
    truth = (np.arange(48, dtype=np.uint8).reshape(1, 6, 8) % 7 + 1)
    class_map = _permuted_map(tmp_path, truth)
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.GetRasterBand(1).SetCategoryNames([""] + NAMES[::-1])
    dataset = None
    reference = write_raster(tmp_path / "reference.tif", truth)
    dataset = gdal.Open(reference, gdal.GA_Update)
    table = gdal.RasterAttributeTable()
    if with_value_column:
        coded = with_value_column == "code"
        for column, kind in (("Value", gdal.GFT_Integer), ("Count", gdal.GFT_Integer),
                             *((("CODE", gdal.GFT_String),) if coded else ()), ("ClassName", gdal.GFT_String)):
            table.CreateColumn(column, kind, gdal.GFU_Generic)
        for row, name in enumerate(NAMES):
            table.SetValueAsInt(row, 0, row + 1)
            table.SetValueAsInt(row, 1, int((truth == row + 1).sum()))
            if coded:
                table.SetValueAsString(row, 2, f"C{row + 1}")
            table.SetValueAsString(row, 2 + coded, name)
    else:  # row n names value n
        table.CreateColumn("Label", gdal.GFT_String, gdal.GFU_Generic)
        for row, name in enumerate(["Unlabelled"] + NAMES):
            table.SetValueAsString(row, 0, name)
    dataset.GetRasterBand(1).SetDefaultRAT(table)
    dataset = None

    _assert_matched_by_name_the_other_way_round(tmp_path, class_map, reference)


def _assert_matched_by_name_the_other_way_round(tmp_path, class_map: str, reference: str) -> None:
    """The map of `_permuted_map` against a reference numbered the other way round is every bit right, by name."""
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["overall_accuracy"], report["pixels"]) == (1.0, 48)
    assert [item["name"] for item in report["classes"]] == NAMES[::-1]
    [warning] = report["warnings"]
    assert warning.startswith("The classes of the reference 'reference' were matched to those of the map 'map' by "
                              "name, as their values differ: 'Crop' (1 in the reference, 7 in the map); ")


def test_a_map_named_by_the_paletted_style_beside_it_is_matched_by_name_and_gets_no_side_file(tmp_path):
    """A helper's coverage round of 2026-12-06: a map whose only class names are in its .qml (a map of
    another program styled in QGIS) was read by no test; the names match it to a reference numbered the
    other way round, and reading it writes no .aux.xml beside it."""
    truth = (np.arange(48, dtype=np.uint8).reshape(1, 6, 8) % 7 + 1)
    (tmp_path / "map").mkdir()  # a folder of its own, whose files are all the map's
    class_map = _permuted_map(tmp_path / "map", truth)
    entries = "".join(f'<paletteEntry value="{8 - value}" color="#112233" alpha="255" label="{name}"/>'
                      for value, name in enumerate(NAMES, 1))
    (tmp_path / "map" / "map.qml").write_text(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\"><pipe><rasterrenderer "
        f"type=\"paletted\" band=\"1\"><colorPalette>{entries}</colorPalette></rasterrenderer></pipe></qgis>",
        encoding="utf-8")
    reference = _name_classes(write_raster(tmp_path / "reference.tif", truth), dict(enumerate(NAMES, 1)),
                              attribute_table=False)

    _assert_matched_by_name_the_other_way_round(tmp_path, class_map, reference)
    assert sorted(path.name for path in (tmp_path / "map").iterdir()) == ["map.qml", "map.tif"]


def _small_report() -> dict:
    """An accuracy report of two classes, as `analysis.accuracy_job` builds it."""
    from mrs.model_core.metrics import Accuracy

    return {"class_map": "/m/map.tif", "reference": "reference", "reference_file": "/m/reference.tif",
            "created": "2026-12-06T08:40:00+00:00", "class_values": [1, 2],
            **Accuracy(np.array([[3, 1], [0, 2]])).to_dict(["a", "b"]),
            "unmapped_reference_pixels": 0, "outside_map": 0, "outside_map_unit": "pixels",
            "reference_features_left_out": 0, "reference_features_partly_outside": 0, "warnings": []}


def test_the_accuracy_csv_holds_the_overall_and_average_accuracy_and_kappa(tmp_path):
    """The CSV's summary rows give overall and average accuracy and kappa (a mutation audit of 2026-12-06)."""
    import csv

    from mrs.mrs_qgis_plugin.reports import CSV_ENCODING, write_csv

    report = _small_report()
    write_csv(str(tmp_path / "a.csv"), report)
    with open(tmp_path / "a.csv", newline="", encoding=CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    figures = (report["overall_accuracy"], report["average_accuracy"], report["kappa"])
    assert figures == pytest.approx((5 / 6, 7 / 8, 2 / 3))
    for key in ("overall_accuracy", "average_accuracy", "kappa"):
        assert [key, str(report[key])] in rows, key


def test_the_report_page_s_confusion_matrix_ends_each_row_with_its_total(tmp_path):
    """The HTML confusion matrix's last cell of a row is the row's sum (a mutation audit of 2026-12-06)."""
    from mrs.mrs_qgis_plugin.reports import write_html

    write_html(str(tmp_path / "a.html"), _small_report())
    page = (tmp_path / "a.html").read_text()
    assert "<tr><td class='name'>a</td><td class='diagonal'>3</td><td>1</td><td>4</td></tr>" in page
    assert "<tr><td class='name'>b</td><td>0</td><td class='diagonal'>2</td><td>2</td></tr>" in page


def test_a_map_class_absent_at_the_reference_pixels_stays_in_the_report_with_no_reference_pixel(tmp_path):
    """A class the map names but does not give at the reference's pixels is reported with 0 reference pixels
    (a mutation audit of 2026-12-06)."""
    mapped = np.array([[[1, 2, 1, 2]] * 4], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Water", 2: "Forest", 3: "Urban"},
                              attribute_table=False)
    reference = write_raster(tmp_path / "reference.tif", mapped)

    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))

    assert report["class_values"] == [1, 2, 3]
    assert [(item["name"], item["reference_pixels"]) for item in report["classes"]] == [
        ("Water", 8), ("Forest", 8), ("Urban", 0)]


def test_a_share_rounding_to_100_is_shown_as_above_99_and_one_rounding_to_99_as_99():
    """Shares from 0.995 to below 1 are '>99 %', those just below 0.995 their whole percent (a mutation audit
    of 2026-12-06); of one decimal alike (a review of 2026-12-06: '100.0 %' of a share below 1)."""
    assert [share_text(share) for share in (0.994, 0.995, 0.996, 0.999)] == [
        "99 %", ">99 %", ">99 %", ">99 %"]
    assert [share_text(share, 1) for share in (0.0, 0.0004, 0.0005, 0.372, 0.9994, 0.9995, 1.0)] == [
        "0.0 %", "<0.1 %", "0.1 %", "37.2 %", "99.9 %", ">99.9 %", "100.0 %"]


def test_a_reference_class_wholly_on_the_map_s_no_data_is_named_as_the_page_names_it():
    """A helper's red team of 2026-12-06: a reference of class values whose classes 1 and 7 lay wholly
    on the map's no data was warned of as '1' and '7', which the page calls 'Crop' and 'Water'; a
    reference of names keeps its own."""
    from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
    from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels

    map_classes = {value: ClassInfo(value, name, "#000000")
                   for value, name in ((1, "Crop"), (2, "Trees"), (7, "Water"))}
    rows = np.arange(3)
    present = LabelledPixels(rows, rows, np.array([2, 2, 2]), [ClassInfo(2, "2", "#000000")])
    by_class = {"1": (4, 4), "2": (1, 3), "7": (2, 2)}
    assert analysis._as_on_the_page(by_class, present, {2: 2}, map_classes) == {
        "Crop": (4, 4), "Trees": (1, 3), "Water": (2, 2)}
    texts = LabelledPixels(rows, rows, np.array([1, 1, 1]), [ClassInfo(1, "Trees", "#000000")], named_by_text=True)
    assert analysis._as_on_the_page({"Trees": (1, 3), "7": (2, 2)}, texts, {1: 2}, map_classes) == {
        "Trees": (1, 3), "7": (2, 2)}


@pytest.mark.parametrize("georeferenced", [True, False])
def test_training_pixels_found_on_a_map_without_georeferencing_are_said_to_be_matched_by_row_and_column(
        tmp_path, georeferenced):
    """A helper's red team of 2026-12-06: a map of a flipped copy of the (ungeoreferenced) training scene
    was said to hold the classifier's training pixels: without georeferencing, any scene of that size
    matches by row and column."""
    from mrs.mrs_qgis_plugin import training_pixels
    from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels
    from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

    options = {} if georeferenced else {"geotransform": (0.0, 1.0, 0.0, 0.0, 0.0, 1.0), "crs": None}
    class_map = write_raster(tmp_path / "map.tif", np.ones((8, 8), np.uint8), nodata=0, **options)
    rows, cols = np.arange(8), np.arange(8)
    with Scene.single(RasterInput(class_map, "map")) as grid:
        record = training_pixels.record(grid.grid, rows, cols, 0)
        dataset = gdal.Open(class_map, gdal.GA_Update)
        dataset.SetMetadataItem(training_pixels.TAG, json.dumps(record))
        dataset = None
        labelled = LabelledPixels(rows, cols, np.ones(8, np.int64), [ClassInfo(1, "1", "#000000")])
        said = analysis._trained_on_warning(class_map, "map", jobs.LabelSource("ref"), grid.grid, labelled)
    matched = "" if georeferenced else training_pixels.BY_ROW_AND_COLUMN
    assert said == (f"100 % of the pixels of the reference 'ref' lie on pixels the classifier of 'map' was trained "
                    f"on{matched}: if they are its training samples, these figures say how well it learned them, not "
                    "how accurate the map is; assess the map on samples kept apart from training.")


def test_a_class_on_no_data_is_named_by_the_map_only_where_the_classes_were_matched_by_value():
    """A mutation audit of 2026-12-06: where the reference's classes went to other values of the map, a
    class wholly on no data keeps its own name."""
    from mrs.mrs_qgis_plugin.raster.classes import ClassInfo
    from mrs.mrs_qgis_plugin.raster.labels import LabelledPixels

    map_classes = {value: ClassInfo(value, name, "#000000") for value, name in ((1, "Crop"), (3, "Water"))}
    rows = np.arange(2)
    present = LabelledPixels(rows, rows, np.array([1, 2]), [ClassInfo(1, "1", "#000000"), ClassInfo(2, "2", "#000000")])
    assert analysis._as_on_the_page({"1": (0, 1), "2": (0, 1), "3": (2, 2)}, present, {1: 1, 2: 3}, map_classes) == {
        "Crop": (0, 1), "Water": (0, 1), "3": (2, 2)}


def test_an_attribute_table_whose_only_text_column_is_named_otherwise_still_names_the_classes(tmp_path):
    """A mutation audit of 2026-12-06: without a column named for names, the first text column names them."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import class_names

    path = write_raster(tmp_path / "described.tif", np.array([[1, 2]], np.uint8))
    dataset = gdal.Open(path, gdal.GA_Update)
    table = gdal.RasterAttributeTable()
    table.CreateColumn("Value", gdal.GFT_Integer, gdal.GFU_Generic)
    table.CreateColumn("Descr", gdal.GFT_String, gdal.GFU_Generic)
    for row, name in enumerate(("Crop", "Water")):
        table.SetValueAsInt(row, 0, row + 1)
        table.SetValueAsString(row, 1, name)
    dataset.GetRasterBand(1).SetDefaultRAT(table)
    dataset = None
    assert class_names(gdal.Open(path).GetRasterBand(1)) == {1: "Crop", 2: "Water"}


@pytest.mark.parametrize("rows", ["binning", "binning from 0.5", "code", "code before value"])
def test_an_attribute_table_s_rows_name_the_values_its_binning_or_code_column_gives(tmp_path, rows):
    """A helper's audit of 2026-12-06: a table binned from 1 (GDAL's GetRowOfValue(1) is row 0) named each
    value by its row number, every name one class off (OA 17 % for a map 24 % right); one whose values
    11, 42, 90 stood in an integer column 'code' named values 0, 1, 2 (OA 0 %). A review of the mend: a
    binning from 0.5 is a bin per whole number (rounded half to even, 'Water' went to 0), and a column
    VALUE keys the rows whatever stands before it."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import class_names

    values = [11, 42, 90] if rows == "code" else [1, 2, 3]
    path = write_raster(tmp_path / "map.tif", np.array([values], np.uint8))
    dataset = gdal.Open(path, gdal.GA_Update)
    table = gdal.RasterAttributeTable()
    if rows.startswith("code"):
        table.CreateColumn("CODE", gdal.GFT_Integer, gdal.GFU_Generic)
    if rows == "code before value":
        table.CreateColumn("VALUE", gdal.GFT_Integer, gdal.GFU_Generic)
    table.CreateColumn("Class", gdal.GFT_String, gdal.GFU_Name)
    for row, (value, name) in enumerate(zip(values, ("Water", "Crop", "Forest"))):
        if rows == "code":
            table.SetValueAsInt(row, 0, value)
        if rows == "code before value":
            table.SetValueAsInt(row, 0, [311, 312, 512][row])
            table.SetValueAsInt(row, 1, value)
        table.SetValueAsString(row, table.GetColumnCount() - 1, name)
    if rows.startswith("binning"):
        table.SetLinearBinning(1.0 if rows == "binning" else 0.5, 1.0)
    dataset.GetRasterBand(1).SetDefaultRAT(table)
    dataset = None
    assert class_names(gdal.Open(path).GetRasterBand(1)) == dict(zip(values, ("Water", "Crop", "Forest")))


@pytest.mark.parametrize("scale, offset", [(2.0, 0.0), (1.0, 10.0)])
def test_a_map_that_declares_a_scale_or_an_offset_is_refused_as_a_reference_is(tmp_path, scale, offset):
    """A helper's audit of 2026-12-06: a map of classes 1 to 4 with a scale of 2 was scored as classes 2 to 8
    (OA 12.9 % for a map 23.9 % right), with an offset of 10 at 0 %, without a word."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[[1, 2, 3, 4]]], np.uint8))
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.GetRasterBand(1).SetScale(scale)
    dataset.GetRasterBand(1).SetOffset(offset)
    dataset = None
    reference = write_raster(tmp_path / "reference.tif", np.array([[[1, 2, 3, 4]]], np.uint8))
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == (f"INPUT: 'map' declares a scale of {scale:g} and an offset of {offset:g} for its "
                                  "values, which class values cannot have. If the values stored are the classes, "
                                  "remove them (gdal_edit.py -scale 1 -offset 0); if the values scaled are, write "
                                  "those (gdal_translate -unscale -ot Int32); then choose it again.")
    assert not list(tmp_path.glob("a.*"))


def test_a_map_naming_its_classes_by_their_numbers_takes_the_reference_s_names_without_a_warning(tmp_path):
    """A helper's audit of 2026-12-06: every report of a map trained without NAME_FIELD (classes named '1' to
    '7') warned that the reference's 'Water' was '1' in the map, and named the classes '1' to '7'."""
    truth = np.array([[[1, 2, 3, 4], [1, 2, 3, 3]]], np.uint8)
    mapped = np.array([[[1, 2, 3, 4], [2, 2, 3, 4]]], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "1", 2: "2", 3: "3", 4: "4"},
                              attribute_table=False)
    reference = _name_classes(write_raster(tmp_path / "reference.tif", truth),
                              {1: "Water", 2: "Forest", 3: "Crop"}, attribute_table=False)
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert [item["name"] for item in report["classes"]] == ["Water", "Forest", "Crop", "4"]
    assert (report["overall_accuracy"], report["warnings"]) == (6 / 8, [])
    # a name of its own still differs, and is warned of
    class_map = _name_classes(write_raster(tmp_path / "named.tif", mapped), {1: "Lake", 2: "2", 3: "3", 4: "4"},
                              attribute_table=False)
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert [item["name"] for item in report["classes"]] == ["Lake", "Forest", "Crop", "4"]
    assert report["warnings"] == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by value, though some names "
        "differ: class 1 ('Water' in the reference, 'Lake' in the map). If they are different classes, recode one "
        "layer to the other's values, or give both the same class names."]


def _square(row: int, col: int, side: int) -> str:
    """A polygon covering the pixels (row..row+side-1, col..col+side-1) of the default grid."""
    (x0, y0), (x1, y1) = pixel_centre(row - 0.5, col - 0.5), pixel_centre(row + side - 0.5, col + side - 0.5)
    return f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def test_overlapping_reference_polygons_are_said_as_labels_of_the_pixels_they_cover(tmp_path):
    """A helper's audit of 2026-12-06: the pixels of 5 polygons were said to be '122 reference samples', and the
    page wrote the counts the log writes '1,200' as '1200'."""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 40, 40), np.uint8))
    polygons = [(_square(0, 0, 2), {"class_id": 1}), (_square(0, 1, 2), {"class_id": 2}),
                (_square(2, 0, 38), {"class_id": 1})]
    reference = write_vector(tmp_path / "polygons.gpkg", polygons, {"class_id": ogr.OFTInteger})

    report = _assess(tmp_path, class_map, jobs.LabelSource("polygons", vector_path=reference, class_field="class_id"))

    assert report["pixels"] == 4 + 38 * 38
    assert report["warnings"] == [
        "1,452 reference labels (one per point, one per pixel centre a polygon covers) of 'polygons' fall on 1,450 "
        "pixels of the layer 'map': 4 on 2 pixels holding samples of different classes are left out. The figures "
        "count pixels."]
    assert "<td class='name'>Reference pixels</td><td>1,448</td>" in (tmp_path / "a.html").read_text()


def test_a_reference_of_names_sharing_no_class_with_the_map_is_said_in_names(tmp_path):
    """A helper's audit of 2026-12-06: 'Water' and 'Wetland' against a map giving 'Forest' and 'Crop' at their
    points were said as '(2, 3) ... (1, 4)', 4 being the value 'Wetland' got for the reports, with the advice to
    recode one layer to the other's values."""
    mapped = np.array([[[2, 2, 3, 3]]], np.uint8)
    class_map = _name_classes(write_raster(tmp_path / "map.tif", mapped), {1: "Water", 2: "Forest", 3: "Crop"},
                              attribute_table=False)
    points = [(point_wkt(*pixel_centre(0, col)), {"cover": name}) for col, name in enumerate(["Water", "Wetland"] * 2)]
    reference = write_vector(tmp_path / "points.gpkg", points, {"cover": ogr.OFTString})
    report = _assess(tmp_path, class_map, jobs.LabelSource("points", vector_path=reference, class_field="cover"))
    assert report["overall_accuracy"] == 0.0
    assert report["warnings"][-1] == (
        "None of the classes the map 'map' gives the reference pixels ('Forest', 'Crop') is a class of the reference "
        "'points' ('Water', 'Wetland'): every reference pixel counts as an error. If they stand for the same classes, "
        "give both the same class names.")


def test_a_map_holding_one_negative_code_beside_its_classes_is_told_to_declare_it_no_data(tmp_path):
    """A helper's audit of 2026-12-06: a map whose -1 fill was not declared was told to choose another map, where
    a label raster so is told to declare it nodata."""
    class_map = write_raster(tmp_path / "map.tif", np.array([[[1, 2, -1, -1]]], np.int16))
    reference = write_raster(tmp_path / "reference.tif", np.array([[[1, 2, 1, 2]]], np.uint8))
    with pytest.raises(InputError) as refused:
        _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert str(refused.value) == (
        "INPUT: 'map' holds -1 beside class values from 1: if -1 means no data, declare it the raster's nodata value "
        "(gdal_edit.py -a_nodata -1; in QGIS, Translate with -a_nodata -1 as an additional command-line parameter), "
        "or recode it to 0.")


@pytest.mark.parametrize("labels, said", [
    (("Crop", "Water"), ["The class names of 'map' in its style {qml} differ from those the map holds itself, which "
                         "are used ('Crop' for 'Water', 'Water' for 'Crop'): QGIS's legend names those classes "
                         "otherwise. Delete the style and load the map again to see the names it holds."]),
    (("1", ""), []),
])
def test_another_program_s_map_whose_style_names_its_classes_otherwise_is_warned_of(tmp_path, labels, said):
    """A helper's audit of 2026-12-06: a map naming 1 'Water' and 3 'Crop' itself, beside a style naming them
    the other way round, as QGIS's legend then shows them, was assessed without a word (a map of the plugin's
    is warned of). A review of the mend: a style labelling each entry by its value, as QGIS's Classify does,
    names no class otherwise (every class was said to be, with the advice to delete the style)."""
    mapped = np.array([[[1, 3, 3, 1]]], np.uint8)
    class_map, reference = (_name_classes(write_raster(tmp_path / name, mapped), {1: "Water", 3: "Crop"},
                                          attribute_table=False) for name in ("map.tif", "reference.tif"))
    (tmp_path / "map.qml").write_text(f"<qgis><paletteEntry value='1' label='{labels[0]}' color='#ffff00'/>"
                                      f"<paletteEntry value='3' label='{labels[1]}' color='#0000ff'/></qgis>")
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert (report["overall_accuracy"], report["warnings"]) == (1.0, [text.format(qml=tmp_path / "map.qml")
                                                                      for text in said])


@pytest.mark.parametrize("labelled, said", [(1, "on 1 reference pixel."), (2, "on 2 reference pixels.")])
def test_the_figures_line_counts_its_reference_pixels_in_the_singular_too(tmp_path, labelled, said):
    """Own bad input of 2026-12-07: a reference of one labelled pixel was said '... kappa 0.0000 on 1 reference
    pixels.'"""
    class_map = write_raster(tmp_path / "map.tif", np.ones((1, 4, 4), np.uint8))
    truth = np.zeros((1, 4, 4), np.uint8)
    truth[0, 0, :labelled] = [1, 2][:labelled]
    lines = []
    analysis.accuracy_job(class_map, "map", jobs.LabelSource("reference", raster_path=write_raster(
        tmp_path / "reference.tif", truth)), out_html=str(tmp_path / "a.html"), hooks=Hooks(log=lines.append))
    figures = next(line for line in lines if line.startswith("Overall accuracy"))
    assert figures.endswith(f" {said}"), figures


def test_a_map_numbered_from_names_matched_by_name_to_a_reference_of_values_is_not_said_to_be_matched_by_value(
        tmp_path):
    """A helper's mutation audit of 2026-12-07: a map numbered from the names '10' and 'Water' (1 and 2) against a
    reference of the value 10 alone: its 10 is matched to the map's '10' by name, and said so, but a warning before
    said the classes 'were matched by value, which says nothing of the map'."""
    class_map = _name_classes(write_raster(tmp_path / "map.tif", np.array([[[1, 2, 1, 1]]], np.uint8)),
                              {1: "10", 2: "Water"}, attribute_table=False)
    dataset = gdal.Open(class_map, gdal.GA_Update)
    dataset.SetMetadataItem(jobs.NUMBERED_FROM_NAMES_TAG, "yes")
    dataset = None
    reference = write_raster(tmp_path / "reference.tif", np.full((1, 1, 4), 10, np.uint8))
    report = _assess(tmp_path, class_map, jobs.LabelSource("reference", raster_path=reference))
    assert report["overall_accuracy"] == 0.75
    assert [warning.split(":")[0] for warning in report["warnings"]] == [
        "The classes of the reference 'reference' were matched to those of the map 'map' by name, as their values "
        "differ"]
