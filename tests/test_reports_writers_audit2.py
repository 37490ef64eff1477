"""The accuracy and band redundancy reports and the map writers, each test pinned where a second mutation audit
of 2026-12-07 planted a change that no test saw."""

import csv
import errno
import json
import os

import numpy as np
import pytest
from osgeo import gdal
from test_accuracy_job import _small_report
from test_outputs_audit2 import _write_confidence
from test_raster_writers import CLASSES, GEOTRANSFORM, _crs_wkt, _write_map

from mrs.model_core import MAX_CLASS_VALUE
from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin import reports
from mrs.mrs_qgis_plugin.raster import writers
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo


def _page(tmp_path, report) -> str:
    reports.write_html(str(tmp_path / "a.html"), report)
    return (tmp_path / "a.html").read_text(encoding="utf-8")


def test_the_page_gives_when_it_was_made_in_utc_whatever_the_time_zone_the_run_wrote(tmp_path):
    """'Made:' is the time in UTC, to the minute, of a creation time given in another zone."""
    page = _page(tmp_path, {**_small_report(), "created": "2026-12-06T23:40:00-02:00"})
    assert "<br>Made: 2026-12-07 01:40 UTC by the MRS plugin " in page


def test_the_json_report_is_indented_and_writes_names_as_they_are(tmp_path):
    """The JSON report is indented by two and holds 'Forêt', not its escape."""
    report = _small_report()
    report["classes"][0]["name"] = "Forêt"
    reports.write_json(str(tmp_path / "a.json"), report)
    text = (tmp_path / "a.json").read_text(encoding="utf-8")
    assert text.startswith('{\n  "class_map": "/m/map.tif",\n')
    assert '"name": "Forêt"' in text
    assert json.loads(text) == report


def test_the_similarity_csv_gives_six_decimals_and_each_band_s_label_made_text(tmp_path):
    """The similarity matrix's figures have six decimals, its labels (a leading '-' too) are text on top and on the
    left, and the file starts with UTF-8's byte-order mark."""
    path = str(tmp_path / "s.csv")
    reports.write_similarity_csv(path, np.array([[1.0, 0.1234567], [0.1234567, 1.0]]), ["-vv", "vh"])
    with open(path, newline="", encoding=reports.CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    assert rows == [["band", "'-vv", "vh"], ["'-vv", "1.000000", "0.123457"], ["vh", "0.123457", "1.000000"]]
    assert open(path, "rb").read(4) == b"\xef\xbb\xbfb"  # a byte-order mark for Excel
    reports.check_replaceable(path, "OUTPUT_CSV", reports.REDUNDANCY)


def _redundancy_page(tmp_path, summary, groups, title="Band <similarity>", hsi="hsi\n.tif") -> str:
    path = tmp_path / "page.html"
    reports.write_redundancy_html(str(path), title, b"\x89PNG", summary, groups, (hsi, ["a&b.tif", "c.tif"]),
                                  "2026-12-06T08:40:00+00:00")
    return path.read_text(encoding="utf-8")


def test_the_redundancy_page_escapes_its_title_summary_groups_and_layer_names(tmp_path):
    """Every text of the redundancy page is HTML-escaped, and a control character in a layer's name is written as
    its escape; the SAR/LiDAR layers are listed with commas."""
    page = _redundancy_page(tmp_path, [("Bands <all>", "3 & 4")], [("1-2", "<a>, b&c")])
    assert "<h2>Band &lt;similarity&gt;</h2>" in page
    assert "<p>Hyperspectral layer: hsi\\n.tif<br>SAR/LiDAR layers: a&amp;b.tif, c.tif<br>Made: " in page
    assert "<tr><td class='name'>Bands &lt;all&gt;</td><td class='name'>3 &amp; 4</td></tr>" in page
    assert "<tr><td class='name'>1</td><td class='name'>1-2</td><td class='name'>&lt;a&gt;, b&amp;c</td></tr>" in page


def _similarity_csv(path, rows) -> str:
    with open(path, "w", newline="", encoding=reports.CSV_ENCODING) as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


@pytest.mark.parametrize("rows", [
    [["band", "a", "b"]],  # a header alone
    [["band", "a", "b"], ["b", "1", "0"]],  # its first band on top is not its first on the left
])
def test_a_csv_is_taken_for_a_similarity_matrix_only_where_it_names_its_first_band_on_top_and_on_the_left(
        tmp_path, rows):
    """A table of one row headed 'band', or one whose first row and column do not name the same first band, is no
    similarity matrix of ours and is not replaced."""
    path = _similarity_csv(tmp_path / "bands.csv", rows)
    with pytest.raises(InputError, match="is not a report this plugin wrote"):
        reports.check_replaceable(path, "OUTPUT_CSV", reports.REDUNDANCY)


def test_an_accuracy_page_saved_with_a_byte_order_mark_is_still_known_for_one(tmp_path):
    """A page of ours an editor saved with a byte-order mark is still an accuracy report, replaceable by one."""
    page = _page(tmp_path, _small_report())
    (tmp_path / "a.html").write_text("\ufeff" + page, encoding="utf-8")
    reports.check_replaceable(str(tmp_path / "a.html"), "OUTPUT_HTML", reports.ACCURACY)
    with pytest.raises(InputError, match="is a report of mrs:accuracy; choose a new file name"):
        reports.check_replaceable(str(tmp_path / "a.html"), "OUTPUT_HTML", reports.REDUNDANCY)


def _heat_map_figure(monkeypatch, similarity, labels, groups, title):
    """The heat map's Matplotlib figure, caught as it is saved, and the PNG."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    caught = []
    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda figure, *args, **kwargs: (caught.append(figure),
                                                                             save(figure, *args, **kwargs))[1])
    png = reports.heatmap_png(similarity, labels, groups, title)
    return caught[0], png


def test_the_heat_map_s_colours_ticks_outlines_and_text(monkeypatch):
    """The heat map runs its colours from the lowest similarity (below 0) to 1, names at most 12 bands evenly
    spread on each axis, outlines each group, says what its colours are and carries the plugin's PNG text."""
    from matplotlib.patches import Rectangle

    count = 20
    similarity = np.eye(count)
    similarity[0, 1] = similarity[1, 0] = -0.25
    labels = [f"b{index}" for index in range(count)]
    figure, png = _heat_map_figure(monkeypatch, similarity, labels, [[0, 1], [2], [5, 6, 7]], "Title")
    axes, colour_bar = figure.axes
    assert axes.images[0].get_clim() == (-0.25, 1.0)
    shown = [0, 2, 3, 5, 7, 9, 10, 12, 14, 16, 17, 19]
    assert [label.get_text() for label in axes.get_xticklabels()] == [labels[index] for index in shown]
    assert [label.get_text() for label in axes.get_yticklabels()] == [labels[index] for index in shown]
    boxes = [(patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height())
             for patch in axes.patches if isinstance(patch, Rectangle)]
    assert boxes == [(-0.5, -0.5, 2, 2), (4.5, 4.5, 3, 3)]
    assert colour_bar.get_ylabel() == "cosine similarity of normalised bands"
    assert axes.get_title() == "Title"
    assert b"Software\x00" + reports.PNG_SOFTWARE.encode() in png


def test_a_class_value_beyond_the_largest_is_refused_naming_it_and_the_largest():
    """The refusal of a class value too large for a map names that value and the largest one a map holds."""
    with pytest.raises(InputError) as raised:
        writers.class_data_type([ClassInfo(1, "a", "#000000"), ClassInfo(MAX_CLASS_VALUE + 1, "b", "#ffffff")])
    assert str(raised.value) == "The class value 4294967296 is larger than 4294967295; renumber the classes."


def test_a_map_that_may_outgrow_a_classic_tiff_is_a_bigtiff(tmp_path):
    """BIGTIFF=IF_SAFER: a map of 2.5 GB uncompressed is written as a BigTIFF (magic 43) from the start."""
    path = tmp_path / "map.tif"
    with writers.class_raster(str(path), "OUTPUT", (50000, 50000), GEOTRANSFORM, _crs_wkt(), CLASSES) as out:
        out.close()
        writers.publish_rasters([out])
    assert path.read_bytes()[:4] == b"II+\x00"


@pytest.mark.parametrize("number", [errno.EBUSY, errno.ETXTBSY])
def test_a_map_whose_style_is_busy_is_said_to_be_held_by_another_program(tmp_path, monkeypatch, number):
    """A style that cannot be replaced as it is busy is one to close in other programs, not a failed write."""
    from mrs.model_core import atomic

    path = tmp_path / "map.tif"
    _write_map(path, CLASSES, np.array([[1, 1]], dtype=np.uint8))
    real = os.replace

    def failing(source, target):
        if str(target).endswith("map.qml") and not str(source).endswith(".old"):
            raise OSError(number, os.strerror(number))
        real(source, target)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(InputError) as raised:
        _write_map(path, CLASSES, np.array([[2, 2]], dtype=np.uint8))
    assert str(raised.value) == (f"OUTPUT: could not replace {tmp_path / 'map.qml'} ({os.strerror(number)}); close it "
                                 "in other programs and run again. Nothing was replaced.")


def test_a_map_s_class_table_holds_its_names_as_written(tmp_path):
    """The class table item of a map (which gdalinfo shows) holds 'Forêt', not its JSON escape."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import CLASS_TABLE_ITEM

    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3]], dtype=np.uint8))
    dataset = gdal.Open(str(tmp_path / "map.tif"))
    item = dataset.GetRasterBand(1).GetMetadataItem(CLASS_TABLE_ITEM)
    dataset = None
    assert item == '[[1, "Water & <river>", "#1f78b4"], [3, "Forêt", "#33A02C"], [4, "Urban", "#e31a1c"]]'


def test_a_confidence_raster_s_nodata_is_minus_one(tmp_path):
    """Pixels left unclassified are -1 in a confidence raster, its nodata value (confidences lie in 0..1)."""
    path = tmp_path / "confidence.tif"
    _write_confidence(path, tmp_path / "map.tif", np.array([[0.5, -1.0]], np.float32))
    dataset = gdal.Open(str(path))
    nodata = dataset.GetRasterBand(1).GetNoDataValue()
    dataset = None
    assert (writers.CONFIDENCE_NODATA, nodata) == (-1.0, -1.0)


def _map_naming(path, confidence):
    """A class map at `path` whose metadata names `confidence` as the confidence raster written with it."""
    with writers.class_raster(str(path), "OUTPUT", (2, 1), GEOTRANSFORM, _crs_wkt(), CLASSES,
                              tags={writers.CONFIDENCE_TAG: str(confidence)}) as out:
        out.write(np.ones((1, 2), np.uint8), 0, 0)
        out.close()
        writers.publish_rasters([out])


def test_a_confidence_raster_is_a_map_s_only_while_it_names_that_map_back(tmp_path):
    """The confidence raster a map names is that map's while it names the map; written since with another map, it
    is no longer the first map's."""
    confidence = tmp_path / "confidence.tif"
    for name in ("first.tif", "second.tif"):
        _map_naming(tmp_path / name, confidence)
    _write_confidence(confidence, tmp_path / "first.tif", np.array([[0.5, 0.5]], np.float32))
    assert writers.confidence_of(str(tmp_path / "first.tif")) == str(confidence)
    _write_confidence(confidence, tmp_path / "second.tif", np.array([[0.5, 0.5]], np.float32))
    assert writers.confidence_of(str(tmp_path / "first.tif")) is None
    assert writers.confidence_of(str(tmp_path / "second.tif")) == str(confidence)


def test_a_class_that_a_map_s_aux_xml_leaves_unnamed_is_not_said_to_be_named_otherwise(tmp_path):
    """Of the category names an earlier map's layer wrote beside a map, a blank one names no class: only the classes
    named otherwise are warned of."""
    path = tmp_path / "map.tif"
    _write_map(path, CLASSES, np.array([[1, 3]], dtype=np.uint8))
    (tmp_path / "map.tif.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><CategoryNames><Category></Category><Category> </Category>'
        '<Category></Category><Category>Crop</Category></CategoryNames></PAMRasterBand></PAMDataset>')
    assert writers.names_beside(str(path), "map") == [
        "The class names of 'map' in its .aux.xml side file differ from those the map holds itself, which are used "
        f"('Crop' for 'Forêt'): delete {path}.aux.xml, after removing any layer of an earlier map of that name from "
        "QGIS, which writes its names there when it closes."]
