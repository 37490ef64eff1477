"""The output checks, the map writers and the styles of loaded layers (outputs.py, writers.py, styling.py), each
test pinned where a third mutation audit (2026-12-08) planted a change that no test saw."""

import errno
import os
from functools import partial

import numpy as np
import pytest
from rasters import write_raster
from test_outputs_audit2 import _renderer
from test_raster_writers import CLASSES, _write_map
from test_styling_model_file_audit2 import _refused

from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin.raster import outputs, writers

_refusal = partial(_refused, error=InputError)


# outputs: check_output_path ------------------------------------------------------------------

def test_an_empty_output_is_asked_for_a_name_ending_in_the_first_extension():
    """No output at all: the sentence proposes the first of the extensions (.tif, not .tiff)."""
    assert _refusal(outputs.check_output_path, "", "OUTPUT") == (
        "OUTPUT: no output file was given; choose a file name ending in .tif.")


@pytest.mark.parametrize("option", ["|NUM_THREADS=ALL_CPUS", "|sparse_ok=TRUE"])
def test_an_option_with_an_underscore_after_the_name_is_said_to_be_an_option(tmp_path, option):
    """GDAL's creation options hold underscores (NUM_THREADS): one after the name is an option, not a name that
    does not end in .tif."""
    given = f"{tmp_path}/co.tif{option}"
    assert _refusal(outputs.check_output_path, given, "OUTPUT") == (
        f"OUTPUT: {given} holds an option after the file name ({option.split('=')[0]}=), which an output cannot take: "
        "the plugin chooses its files' format options (a map is a tiled, compressed GeoTIFF). Give the file name "
        "alone, ending in .tif.")


def test_the_lengths_of_an_output_s_path_and_name_are_counted_in_bytes(tmp_path):
    """An accented letter takes two bytes of the system's limits: a path or a name within them in letters but beyond
    them in bytes is refused as too long."""
    longest_path = os.pathconf("/", "PC_PATH_MAX")
    folder = os.path.join(str(tmp_path), *["é" * 120] * (longest_path // 240))
    path = f"{folder}/map.tif"
    assert len(path) < longest_path <= len(os.fsencode(path))
    assert _refusal(outputs.check_output_path, path, "OUTPUT").startswith(
        f"OUTPUT: the path {path[:60]}... is longer than the {longest_path:,} bytes a path may have here")
    longest = os.pathconf(tmp_path, "PC_NAME_MAX") - outputs.TEMPORARY_NAME_MARGIN
    name = "é" * (longest // 2) + ".tif"
    assert len(name) <= longest < len(os.fsencode(name))
    assert _refusal(outputs.check_output_path, str(tmp_path / name), "OUTPUT") == (
        f"OUTPUT: the file name {name[:40]}... is longer than the {longest} bytes an output's name may have in this "
        "folder; choose a shorter name.")


def test_a_read_only_folder_in_the_place_of_a_map_s_style_is_said_to_be_a_folder(tmp_path):
    """A folder map.qml (read-only too) is in the way as a folder, not a write-protected file nor a style of another
    layer (bin/mrs checks the outputs against the inputs before their names)."""
    (tmp_path / "map.qml").mkdir()
    (tmp_path / "map.qml").chmod(0o555)
    outputs.outputs_spare_inputs({"OUTPUT": str(tmp_path / "map.tif")}, {})
    assert _refusal(outputs.check_output_path, str(tmp_path / "map.tif"), "OUTPUT") == (
        f"OUTPUT: {tmp_path / 'map.qml'}, which belongs to the output {tmp_path / 'map.tif'}, is a folder; move it "
        "away or give another file name.")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="gives a link to another user (root)")
def test_another_user_s_link_to_nothing_in_a_sticky_folder_is_theirs_too(tmp_path, monkeypatch):
    """In a sticky folder a link of another user in the place of a map's style cannot be replaced, whether or not it
    leads anywhere: it is refused before the work."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    os.symlink(str(tmp_path / "nowhere.qml"), folder / "map.qml")
    os.lchown(folder / "map.qml", 4243, 4243)
    monkeypatch.setattr(os, "geteuid", lambda: 4244)
    assert _refusal(outputs.check_output_path, str(folder / "map.tif"), "OUTPUT") == (
        f"OUTPUT: {folder / 'map.qml'} belongs to another user, in a folder where only a file's owner may replace it "
        "(sticky, as /tmp is); choose another file name.")


# outputs: the style beside a map -------------------------------------------------------------

def test_a_raster_style_whose_renderer_comes_after_a_long_header_is_a_raster_style(tmp_path):
    """QGIS saves custom properties and more before the renderer: a style whose <rasterrenderer> lies some KiB in is
    still a raster style, which a new map replaces."""
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3]], np.uint8))
    properties = "".join(f'<Option name="property{index}" value="{"x" * 40}" type="QString"/>' for index in range(100))
    (tmp_path / "map.qml").write_text(f"<qgis><customproperties>{properties}</customproperties><pipe>"
                                      '<rasterrenderer type="singlebandgray"/></pipe></qgis>')
    assert os.path.getsize(tmp_path / "map.qml") > 6000
    outputs.claim_outputs({"OUTPUT": str(tmp_path / "map.tif")}, {})


# outputs: outputs against inputs -------------------------------------------------------------

def test_an_input_whose_name_looks_like_a_driver_s_prefix_is_still_its_own_file(tmp_path, monkeypatch):
    """'scene:2024:hsi.tif' reads as GDAL's 'DRIVER:file:table' but no file '2024' exists: it is a file of its own
    name, which an output of that name would replace."""
    monkeypatch.chdir(tmp_path)
    write_raster(tmp_path / "scene:2024:hsi.tif", np.ones((2, 2), np.uint8))
    assert _refusal(outputs.claim_outputs, {"OUTPUT": str(tmp_path / "scene:2024:hsi.tif")},
                    {"INPUT_HSI": ["scene:2024:hsi.tif"]}) == (
        f"OUTPUT: {tmp_path / 'scene:2024:hsi.tif'} is the input INPUT_HSI ({tmp_path / 'scene:2024:hsi.tif'}); "
        "writing it would destroy that input. Choose another output file name.")


def test_a_layer_whose_options_are_written_with_spaces_around_them_is_the_same_layer(tmp_path):
    """'f.gpkg| layername=a ' is the layer 'f.gpkg|layername=a': given twice, it is refused."""
    data = tmp_path / "data.gpkg"
    data.write_bytes(b"")
    spaced = f"{data}| layername=a "
    assert _refusal(outputs.claim_outputs, {}, {"INPUT_AUX": [f"{data}|layername=a"], "MASK": [spaced]}) == (
        f"MASK: {spaced} is also the input INPUT_AUX; each input must be a different layer. Choose the right layer "
        "for MASK.")


def test_an_empty_optional_layer_and_a_layer_read_over_the_network_are_no_files_to_compare(tmp_path):
    """An optional layer left empty (None) and a /vsicurl/ layer have no file on disk: they are passed over, not a
    traceback."""
    outputs.claim_outputs({"OUTPUT": str(tmp_path / "map.tif")},
                          {"INPUT_AUX": [None], "MASK": ["/vsicurl/https://example.com/mask.tif"]})


def test_of_three_outputs_the_last_is_compared_with_each_before_it(tmp_path):
    """Every pair of a run's outputs is compared: a third output in the first one's file is refused, named with what
    the first is."""
    given = {"OUTPUT": str(tmp_path / "map.tif"), "OUTPUT_CONFIDENCE": str(tmp_path / "conf.tif"),
             "OUTPUT_HTML": str(tmp_path / "map.qml")}
    assert _refusal(outputs.refuse_shared_outputs, given, {"OUTPUT": "the class map"}) == (
        f"OUTPUT_HTML: {tmp_path / 'map.qml'} would take the place of the class map {tmp_path / 'map.tif'} or of its "
        "side files; choose another name.")


@pytest.mark.parametrize("rank, holds", [("0", 1), ("1", 0)])
def test_only_rank_0_holds_the_outputs_while_a_run_lasts(tmp_path, monkeypatch, rank, holds):
    """Under torchrun the process of rank 0 marks the outputs as being written; the others, which write nothing,
    leave no mark beside them."""
    monkeypatch.setenv("RANK", rank)
    with outputs.held_outputs(str(tmp_path / "map.tif"), str(tmp_path / "report.html")):
        beside = sorted(os.listdir(tmp_path))
    assert len(beside) == 2 * holds and all(name.startswith((".map.tif.", ".report.html.")) for name in beside)
    assert os.listdir(tmp_path) == []


# writers -------------------------------------------------------------------------------------

def test_the_confidence_legend_labels_its_stops_and_its_ramp_clips_nothing():
    """The confidence style's legend shows each stop's value as its label; values outside 0..1 are not clipped away
    (clip 0), and the ramp's stops are kept as given (classification mode 1, continuous)."""
    shader = _renderer(writers.confidence_qml()).find("rastershader/colorrampshader")
    assert (shader.get("clip"), shader.get("classificationMode")) == ("0", "1")
    assert [item.get("label") for item in shader.iter("item")] == ["0", "0.25", "0.5", "0.75", "1"]


def test_a_side_file_that_says_the_plugin_wrote_a_raster_does_not_make_it_replaceable(tmp_path):
    """Whether the plugin wrote a raster is read from the raster alone: labels whose .aux.xml carries the plugin's
    writer tag (copied beside them, or edited) are still refused, not replaced by a map."""
    labels = write_raster(tmp_path / "labels.tif", np.ones((2, 2), np.uint8))
    (tmp_path / "labels.tif.aux.xml").write_text(
        f'<PAMDataset><Metadata><MDI key="{writers.WRITER_TAG}">{writers.WRITER}</MDI></Metadata></PAMDataset>')
    assert _refusal(writers.check_replaceable, labels, "OUTPUT", writers.CLASS_MAP) == (
        f"OUTPUT: {labels} exists and is not a raster this plugin wrote (it may be labels or an image that another "
        "step reads); choose a new file name, or delete that file first.")


@pytest.mark.parametrize("style, kind", [(writers.class_qml(CLASSES), "paletted"),
                                         (writers.confidence_qml(), "singlebandpseudocolor")])
def test_the_styles_show_band_1_opaque_without_an_alpha_band_and_end_with_a_line_break(style, kind):
    """A map's and a confidence raster's styles draw their one band fully opaque (opacity 1, no alpha band), and their
    file is the plugin's opening, one <pipe> and a closing line."""
    renderer = _renderer(style)
    assert (renderer.get("type"), renderer.get("band"), renderer.get("opacity"), renderer.get("alphaBand")) == (
        kind, "1", "1", "-1")
    assert style.startswith(outputs.PLUGIN_STYLE_START + "<pipe><rasterrenderer ") and style.endswith(
        "</rasterrenderer></pipe></qgis>\n")


# styling -------------------------------------------------------------------------------------

def test_a_style_beside_a_map_that_qgis_cannot_read_is_said_with_qgis_s_reason(qgis_app, tmp_path):
    """A .qml cut short (a full disk, an editor's crash) is not applied, and the sentence gives QGIS's reason (where
    in the file it failed), not silence."""
    from qgis.core import QgsRasterLayer

    from mrs.mrs_qgis_plugin import styling

    path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))
    (tmp_path / "map.qml").write_text("<qgis><pipe><rasterrenderer")
    said = styling.sidecar_style(path)(QgsRasterLayer(path, "Land-cover map"))
    assert said.startswith(f"The style {tmp_path / 'map.qml'} could not be applied to 'Land-cover map': ")
    assert "line 1" in said.split("': ", 1)[1]


def test_an_output_in_a_folder_that_may_be_written_but_not_listed_is_claimed(tmp_path, monkeypatch):
    """A drop-box folder (chmod 0733: write and enter, no listing) passed check_output_path, then claiming the output
    ended in a raw PermissionError from the shared-style check's os.listdir: the map can be written there."""
    folder = tmp_path / "drop"
    folder.mkdir()
    real = os.listdir

    def unlisted(path="."):
        if os.fspath(path) == str(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        return real(path)

    output = outputs.check_output_path(str(folder / "map.tif"), "OUTPUT")
    monkeypatch.setattr(os, "listdir", unlisted)
    outputs.claim_outputs({"OUTPUT": output}, {})
    assert output == str(folder / "map.tif")
