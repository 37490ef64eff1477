"""Edges of the map writers, the output checks and the atomic replace of files (writers.py, outputs.py,
atomic.py) that a second mutation audit of 2026-12-07 found no test pinned."""

import errno
import os
import xml.etree.ElementTree as ET
from collections import namedtuple

import numpy as np
import pytest
from osgeo import gdal
from rasters import write_raster
from test_raster_writers import CLASSES, GEOTRANSFORM, _crs_wkt, _write_map, read_raster

from mrs.model_core import atomic
from mrs.model_core.errors import InputError, WriteError
from mrs.mrs_qgis_plugin.raster import outputs, writers
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo


_usage = namedtuple("usage", "total used free")
"""What `shutil.disk_usage` answers."""


def _renderer(style: str) -> ET.Element:
    """The raster renderer of a style the plugin writes."""
    return ET.fromstring(style.split("\n", 1)[1]).find("pipe/rasterrenderer")


def _write_confidence(path, class_map, values):
    with writers.confidence_raster(str(path), "OUTPUT_CONFIDENCE", values.shape[::-1], GEOTRANSFORM, _crs_wkt(),
                                   str(class_map)) as out:
        out.write(values, 0, 0)
        out.close()
        writers.publish_rasters([out])


def test_a_map_is_a_classic_tiff_not_a_bigtiff(tmp_path):
    """BIGTIFF=IF_SAFER: a small map stays a classic TIFF (magic 42), which every reader opens."""
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3], [4, 0]], np.uint8))
    assert (tmp_path / "map.tif").read_bytes()[:4] == b"II*\x00"


def test_blocks_are_written_at_their_column_and_row(tmp_path):
    """`write(array, col, row)`: a block written off the diagonal lands where it was told."""
    path = tmp_path / "map.tif"
    with writers.class_raster(str(path), "OUTPUT", (6, 4), GEOTRANSFORM, _crs_wkt(), CLASSES) as out:
        out.write(np.full((4, 6), 1, np.uint8), 0, 0)
        out.write(np.array([[3, 4, 3]], np.uint8), 2, 1)
        out.write(np.array([[4], [4]], np.uint8), 5, 2)
        out.close()
        writers.publish_rasters([out])
    np.testing.assert_array_equal(read_raster(path).values, [[1, 1, 1, 1, 1, 1], [1, 1, 3, 4, 3, 1],
                                                            [1, 1, 1, 1, 1, 4], [1, 1, 1, 1, 1, 4]])


def test_an_error_other_than_gdal_s_passes_through_the_writer_s_guard(tmp_path):
    """Only GDAL's RuntimeError becomes the output's sentence: a Ctrl-C or a bug inside is not swallowed."""
    for raised in (KeyboardInterrupt(), ValueError("a bug")):
        with pytest.raises(type(raised)):
            with writers._gdal_errors("OUTPUT", str(tmp_path / "map.tif")):
                raise raised


@pytest.mark.parametrize("free, said", [
    ((1 << 20) - 1, "Could not write {path}: the disk is full. Nothing was written; free some space or choose another "
                    "folder, and run again."),
    (1 << 20, "OUTPUT: could not write {path} (TIFFAppendToStrip failed); check the folder's free space and "
              "permissions.")])
def test_a_gdal_failure_on_a_disk_with_less_than_a_mebibyte_free_is_said_to_be_a_full_disk(tmp_path, monkeypatch,
                                                                                           free, said):
    """GDAL names no cause of a full disk: under 1 MiB free (FULL_DISK_BYTES) a failure is put down to it."""
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda _folder: _usage(1 << 40, (1 << 40) - free, free))
    path = tmp_path / "map.tif"
    with pytest.raises((WriteError, InputError)) as refused:
        with writers._gdal_errors("OUTPUT", str(path)):
            raise RuntimeError("TIFFAppendToStrip failed")
    assert str(refused.value) == said.format(path=path)


def test_a_file_system_that_tells_no_size_is_not_said_to_be_full(tmp_path, monkeypatch):
    """Some FUSE file systems say 0 bytes free of 0: that tells nothing, and is no full disk."""
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda _folder: _usage(0, 0, 0))
    assert atomic.free_bytes(str(tmp_path)) is None and not atomic.disk_full(str(tmp_path / "map.tif"))


def test_a_map_s_files_are_synced_before_they_are_put_in_place(tmp_path, monkeypatch):
    """Each temporary file (GeoTIFF, its .aux.xml, its style) reaches the disk before a rename makes it the output."""
    synced = []
    monkeypatch.setattr(writers, "fsync_file", lambda path: synced.append(os.path.basename(path)))
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3]], np.uint8))
    assert sorted(name.split(".partial", 1)[1] for name in synced) == ["", ".aux.xml", ".qml"]
    assert all(name.startswith(".map.tif.") for name in synced)


def test_a_style_that_cannot_be_written_is_said_as_a_failed_write_and_leaves_nothing(tmp_path, monkeypatch):
    """A full disk as the map's style is written: the output's sentence, not an OSError's traceback."""
    def full(_path, _text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writers, "_write_text", full)
    path = tmp_path / "map.tif"
    with pytest.raises(WriteError) as refused:
        _write_map(path, CLASSES, np.array([[1, 3]], np.uint8))
    assert str(refused.value) == (f"Could not write {path}: the disk is full. Nothing was written; free some space or "
                                  "choose another folder, and run again.")
    assert os.listdir(tmp_path) == []


def test_a_map_written_or_discarded_leaves_no_descriptor_open(tmp_path):
    """The locks of a map's temporary file and of its style's name are closed with it (a first map is written
    before the count: GDAL and PROJ keep files of their own open once used)."""
    _write_map(tmp_path / "first.tif", CLASSES, np.array([[1, 3]], np.uint8))
    before = len(os.listdir("/proc/self/fd"))
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3]], np.uint8))
    with writers.class_raster(str(tmp_path / "other.tif"), "OUTPUT", (2, 1), GEOTRANSFORM, "", CLASSES):
        pass
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("held_file", ["conf.tif", "conf.qml"])
def test_a_confidence_raster_that_cannot_be_put_in_place_is_said_of_its_own_parameter(tmp_path, monkeypatch, held_file):
    """A map and its confidence published together: the refusal names the parameter of the file that failed, its
    side file (conf.qml) too, not the first raster of the set (third audit)."""
    real = os.replace
    _write_confidence(tmp_path / "conf.tif", tmp_path / "map.tif", np.array([[0.5]], np.float32))

    def held(source, target):
        if str(target) == str(tmp_path / held_file) and not str(source).endswith(".old"):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        real(source, target)

    with writers.class_raster(str(tmp_path / "map.tif"), "OUTPUT", (1, 1), GEOTRANSFORM, "", CLASSES) as out, \
            writers.confidence_raster(str(tmp_path / "conf.tif"), "OUTPUT_CONFIDENCE", (1, 1), GEOTRANSFORM, "",
                                      str(tmp_path / "map.tif")) as conf:
        out.write(np.array([[1]], np.uint8), 0, 0)
        conf.write(np.array([[0.75]], np.float32), 0, 0)
        out.close()
        conf.close()
        monkeypatch.setattr(atomic.os, "replace", held)
        with pytest.raises(InputError) as refused:
            writers.publish_rasters([out, conf])
        monkeypatch.undo()
    assert str(refused.value) == (f"OUTPUT_CONFIDENCE: could not replace {tmp_path / held_file} (Permission denied); "
                                  "close it in other programs and run again. Nothing was replaced.")
    assert sorted(os.listdir(tmp_path)) == ["conf.qml", "conf.tif"]
    assert read_raster(tmp_path / "conf.tif").values.tolist() == [[0.5]]


def test_the_class_style_lists_classes_by_value_opaque_whatever_their_order(tmp_path):
    """QGIS's legend follows the palette's order; every class is drawn opaque (alpha 255)."""
    classes = [ClassInfo(7, "Water", "#0000FF"), ClassInfo(2, "Crop", "#ffff00"), ClassInfo(5, "Road", "#808080")]
    entries = [(entry.get("value"), entry.get("label"), entry.get("color"), entry.get("alpha"))
               for entry in _renderer(writers.class_qml(classes)).iter("paletteEntry")]
    assert entries == [("2", "Crop", "#ffff00", "255"), ("5", "Road", "#808080", "255"),
                       ("7", "Water", "#0000ff", "255")]


def test_a_grey_style_shows_its_own_band_black_to_white_stretched_over_its_range():
    """The demo's LiDAR and SAR styles (`grey_qml`): the band asked for, stretched min-max over low..high."""
    renderer = _renderer(writers.grey_qml(3, -21.5, 0.123456789))
    assert (renderer.get("type"), renderer.get("grayBand"), renderer.get("gradient")) == (
        "singlebandgray", "3", "BlackToWhite")
    stretch = renderer.find("contrastEnhancement")
    assert [stretch.find(tag).text for tag in ("minValue", "maxValue", "algorithm")] == [
        "-21.5", "0.12345679", "StretchToMinimumMaximum"]


def test_a_colour_composite_stretches_each_colour_min_max():
    """Each colour of the demo's true-colour style is stretched min-max, over its own band's range."""
    renderer = _renderer(writers.colour_composite_qml([30, 20, 10], [(1, 2), (3, 4), (5, 6)]))
    assert [renderer.get(f"{colour}Band") for colour in ("red", "green", "blue")] == ["30", "20", "10"]
    assert [[renderer.find(f"{colour}ContrastEnhancement/{tag}").text
             for tag in ("minValue", "maxValue", "algorithm")] for colour in ("red", "green", "blue")] == [
        ["1", "2", "StretchToMinimumMaximum"], ["3", "4", "StretchToMinimumMaximum"],
        ["5", "6", "StretchToMinimumMaximum"]]


def test_the_confidence_style_interpolates_viridis_over_0_to_1():
    """The confidence ramp: interpolated (not stepped) between viridis's five colours."""
    shader = _renderer(writers.confidence_qml()).find("rastershader/colorrampshader")
    assert (shader.get("colorRampType"), shader.get("minimumValue"), shader.get("maximumValue")) == (
        "INTERPOLATED", "0", "1")
    assert [(item.get("value"), item.get("color"), item.get("alpha")) for item in shader.iter("item")] == [
        ("0", "#440154", "255"), ("0.25", "#3b528b", "255"), ("0.5", "#21918c", "255"), ("0.75", "#5ec962", "255"),
        ("1", "#fde725", "255")]


def test_a_uint16_map_carries_its_colour_table_and_category_names(tmp_path):
    """GeoTIFF holds colour tables for Byte and UInt16: a map with class values up to 65535 carries one."""
    classes = [ClassInfo(2, "Low", "#000080"), ClassInfo(300, "High", "#ff8000")]
    path = tmp_path / "map.tif"
    _write_map(path, classes, np.array([[2, 300, 0]], np.uint16))
    raster = read_raster(path)
    assert raster.data_type == gdal.GDT_UInt16 and raster.interpretation == gdal.GCI_PaletteIndex
    assert (raster.colors[2], raster.colors[300], raster.colors[0], raster.colors[299][:3]) == (
        (0, 0, 128, 255), (255, 128, 0, 255), (0, 0, 0, 0), (0, 0, 0))
    assert (len(raster.names), raster.names[2], raster.names[300], raster.names[299]) == (301, "Low", "High", "")


@pytest.mark.parametrize("kind", [writers.CLASS_MAP, writers.CONFIDENCE])
def test_a_raster_the_plugin_wrote_without_a_kind_may_be_replaced_by_either_kind(tmp_path, kind):
    """A raster tagged as the plugin's whose band names no kind (an earlier version's) is refused as neither."""
    path = write_raster(tmp_path / "old.tif", np.ones((2, 2), np.uint8), metadata={writers.WRITER_TAG: writers.WRITER})
    writers.check_replaceable(path, "OUTPUT", kind)


@pytest.mark.parametrize("entries, classes", [
    ('<paletteEntry value="3" alpha="255" label="Water"/>', [(3, "Water", True, "#808080")]),
    ('<paletteEntry value="2" color="#ff0000"/><paletteEntry value="3" color="#00ff00" label="Grass"/>',
     [(2, "", False, "#ff0000"), (3, "Grass", True, "#00ff00")]),
], ids=["no colour", "no label"])
def test_a_style_entry_without_a_colour_is_grey_and_one_without_a_label_a_class_of_no_name(tmp_path, entries,
                                                                                          classes):
    """A paletted entry edited by hand to have no colour is read as grey (#808080), as elsewhere; one without a label
    is a class without a name, which names nothing otherwise (a helper's second audit of 2026-12-07)."""
    style = tmp_path / "map.qml"
    style.write_text(f'<qgis><pipe><rasterrenderer type="paletted" band="1"><colorPalette>{entries}</colorPalette>'
                     "</rasterrenderer></pipe></qgis>")
    assert [(info.value, info.name, info.named, info.color) for info in writers.style_classes(str(style))] == classes


def test_a_style_that_labels_classes_by_their_numbers_is_no_other_naming(tmp_path):
    """QGIS's Classify labels a style's entries by their values ('7'): that names no class otherwise, only a
    label of another name does."""
    path = write_raster(tmp_path / "map.tif", np.array([[1, 7]], np.uint8), category_names=[""] + ["Crop"] + [""] * 5
                        + ["Water"])
    entries = "".join(f'<paletteEntry value="{value}" color="#112233" alpha="255" label="{label}"/>'
                      for value, label in ((1, "1"), (7, "7")))
    (tmp_path / "map.qml").write_text(f'<qgis><pipe><rasterrenderer type="paletted" band="1"><colorPalette>{entries}'
                                      "</colorPalette></rasterrenderer></pipe></qgis>")
    assert writers.names_beside(path, "map") == []
    (tmp_path / "map.qml").write_text((tmp_path / "map.qml").read_text().replace('label="7"', 'label="Lake"'))
    assert writers.names_beside(path, "map") == [
        f"The class names of 'map' in its style {tmp_path / 'map.qml'} differ from those the map holds itself, which "
        "are used ('Lake' for 'Water'): QGIS's legend names those classes otherwise. Delete the style and load the "
        "map again to see the names it holds."]


def test_publishing_a_map_removes_an_earlier_map_s_mask(tmp_path):
    """A map.tif.msk of the earlier map would hide the new map's pixels: it goes as the new map is put in place."""
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3]], np.uint8))
    (tmp_path / "map.tif.msk").write_bytes(b"the earlier map's mask")
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[4, 4]], np.uint8))
    assert sorted(os.listdir(tmp_path)) == ["map.qml", "map.tif", "map.tif.aux.xml"]


@pytest.mark.parametrize("side, role", [("hsi.tif.msk", "the mask"), ("hsi.tif.ovr", "the overviews"),
                                        ("hsi.tif.bak", None)])
def test_an_output_named_as_an_input_s_mask_or_overviews_is_said_to_be_that(tmp_path, side, role):
    """The side files GDAL reads beside a raster (RASTER_SIDECARS) are named by what they hold; another is no side."""
    hsi = tmp_path / "hsi.tif"
    hsi.write_bytes(b"")
    (tmp_path / side).write_bytes(b"")
    if role is None:
        outputs.claim_outputs({"OUTPUT_HTML": str(tmp_path / side)}, {"INPUT_HSI": [str(hsi)]})
        return
    with pytest.raises(InputError) as refused:
        outputs.claim_outputs({"OUTPUT_HTML": str(tmp_path / side)}, {"INPUT_HSI": [str(hsi)]})
    assert str(refused.value) == (f"OUTPUT_HTML: {tmp_path / side} is {role} of the input INPUT_HSI ({hsi}); writing "
                                  "it would destroy that file. Choose another output file name.")


@pytest.mark.parametrize("provider", ["spatialite", "SpatiaLite", "postgres", "mssql", "oracle", "hana"])
def test_every_layer_of_a_qgis_data_provider_is_refused_as_an_output(provider):
    """Destinations written through a QGIS data provider are named as such, whichever provider."""
    given = f"{provider}:dbname='/tmp/x.sqlite' table=\"t\""
    with pytest.raises(InputError) as refused:
        outputs.check_output_path(given, "OUTPUT", (".gpkg",))
    assert str(refused.value) == (f"OUTPUT: {given} is a layer of QGIS' {provider} provider, not a file; the MRS "
                                  "algorithms write files: give a file name ending in .gpkg.")


@pytest.mark.parametrize("option", ["|layerid=0", "|subset=\"kind\" = 2", "|geometrytype=Point", "|LayerName=roads"])
def test_every_qgis_layer_option_after_an_output_is_said_to_name_a_layer(tmp_path, option):
    """QGIS's options naming a layer or a part of one, in any letter case, are said so (not as a format option)."""
    given = f"{tmp_path}/next.gpkg{option}"
    with pytest.raises(InputError) as refused:
        outputs.check_output_path(given, "OUTPUT", (".gpkg",))
    written = option.split("=")[0] + "="
    assert str(refused.value) == (f"OUTPUT: {given} names a layer of a file ({written}), which an output cannot take: "
                                  "it is a file of its own. Give the file name alone, ending in .gpkg.")


def test_a_path_as_long_as_the_system_s_limit_is_refused_and_one_byte_shorter_is_not(tmp_path):
    """A path may have PC_PATH_MAX bytes less one (its terminating zero)."""
    longest = os.pathconf("/", "PC_PATH_MAX")
    folder = f"{tmp_path}/{'x' * 200}"
    for length in (longest, longest - 1):
        path = f"{folder}/{'y' * (length - len(folder) - 5)}.tif"
        assert len(path) == length
        with pytest.raises(InputError) as refused:
            outputs.check_output_path(path, "OUTPUT")
        said = "the path" if length == longest else "the folder"
        assert str(refused.value).startswith(f"OUTPUT: {said} "), length


def test_root_may_replace_another_user_s_file_in_a_sticky_folder(tmp_path, monkeypatch):
    """The sticky bit binds neither the file's owner, nor the folder's, nor root."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "map.tif").write_bytes(b"someone's map")
    if os.geteuid() == 0:
        os.chown(folder, 4242, -1)
        os.chown(folder / "map.tif", 4243, -1)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert outputs.check_output_path(str(folder / "map.tif"), "OUTPUT") == str(folder / "map.tif")


def test_an_output_others_may_write_is_not_write_protected(tmp_path):
    """Write-protected is writable by no one (chmod a-w); a file only others may write is not kept so."""
    (tmp_path / "map.tif").write_bytes(b"a map")
    (tmp_path / "map.tif").chmod(0o446)
    assert outputs.check_output_path(str(tmp_path / "map.tif"), "OUTPUT") == str(tmp_path / "map.tif")


def test_a_report_named_as_an_input_raster_is_no_geotiff_and_claims_none_of_its_side_files(tmp_path):
    """Only a GeoTIFF output has side files and a style: hsi.html beside hsi.tif, with its style read-only, is fine."""
    write_raster(tmp_path / "hsi.tif", np.ones((2, 2), np.uint8))
    (tmp_path / "hsi.qml").write_text("<qgis><pipe><rasterrenderer/></pipe></qgis>")
    (tmp_path / "hsi.qml").chmod(0o444)
    report = outputs.check_output_path(str(tmp_path / "hsi.html"), "OUTPUT_HTML", (".html",))
    outputs.claim_outputs({"OUTPUT_HTML": report}, {"INPUT_HSI": [str(tmp_path / "hsi.tif")]})
    assert outputs.files_written(report) == [report]


def test_a_map_named_in_capitals_claims_its_style_too(tmp_path):
    """HSI.TIF writes HSI.qml: over the input's style, and said so before the map beside it is."""
    hsi = write_raster(tmp_path / "HSI.tiff", np.ones((2, 2), np.uint8))
    (tmp_path / "HSI.qml").write_text("<qgis><pipe><rasterrenderer/></pipe></qgis>")
    with pytest.raises(InputError) as refused:
        outputs.claim_outputs({"OUTPUT": str(tmp_path / "HSI.TIF")}, {"INPUT_HSI": [hsi]})
    assert str(refused.value) == (f"OUTPUT: {tmp_path / 'HSI.TIF'} would replace {tmp_path / 'HSI.qml'}, the style of "
                                  f"the input INPUT_HSI ({hsi}); writing it would destroy that file. Choose another "
                                  "output file name.")


def test_an_output_that_is_a_hard_link_to_an_input_is_refused(tmp_path):
    """One file under two names: writing the output would replace the input's data."""
    hsi = write_raster(tmp_path / "hsi.tif", np.ones((2, 2), np.uint8))
    os.link(hsi, tmp_path / "copy.tif")
    with pytest.raises(InputError) as refused:
        outputs.claim_outputs({"OUTPUT": str(tmp_path / "copy.tif")}, {"INPUT_HSI": [hsi]})
    assert str(refused.value) == (f"OUTPUT: {tmp_path / 'copy.tif'} is the input INPUT_HSI ({hsi}); writing it would "
                                  "destroy that input. Choose another output file name.")


def test_a_style_that_cannot_be_read_is_not_written_over(tmp_path, monkeypatch):
    """A map's style that cannot be read may be anything: it is refused as no raster style, not replaced."""
    (tmp_path / "map.qml").write_text("<qgis><pipe><rasterrenderer/></pipe></qgis>")

    def unreadable(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(outputs, "open", unreadable, raising=False)
    with pytest.raises(InputError) as refused:
        outputs.claim_outputs({"OUTPUT": str(tmp_path / "map.tif")}, {})
    assert str(refused.value) == (f"OUTPUT: {tmp_path / 'map.qml'}, the style file of {tmp_path / 'map.tif'}, exists "
                                  "and is not a raster style (it may style another layer of that name); choose another "
                                  "name, or delete that file first.")


def test_a_name_that_begins_with_a_quote_alone_is_a_name(tmp_path, monkeypatch):
    """Only a name within quotes ('map.tif') is refused as quoted: 'map.tif with one apostrophe is a file's name."""
    monkeypatch.chdir(tmp_path)
    assert outputs.check_output_path("'map.tif", "OUTPUT") == str(tmp_path / "'map.tif")


def test_two_layers_of_one_geopackage_are_two_inputs_and_one_layer_twice_is_refused(tmp_path):
    """'f.gpkg|layername=a' and '|layername=b' differ; the same layer however its options are ordered does not."""
    data = tmp_path / "data.gpkg"
    data.write_bytes(b"")
    outputs.claim_outputs({}, {"INPUT_AUX": [f"{data}|layername=a", f"{data}|layername=b"]})
    twice = f"{tmp_path}/./data.gpkg|subset=x|layername=a"
    with pytest.raises(InputError) as refused:
        outputs.claim_outputs({}, {"INPUT_AUX": [f"{data}|layername=a|subset=x"], "MASK": [twice]})
    assert str(refused.value) == (f"MASK: {twice} is also the input INPUT_AUX; each input must be a different layer. "
                                  "Choose the right layer for MASK.")


@pytest.mark.parametrize("rank, writes", [(None, True), ("", True), ("0", True), (" 0\n", True), ("1", False)])
def test_only_the_process_of_rank_0_writes_the_outputs(monkeypatch, rank, writes):
    """Under torchrun RANK is set for each process; a value written with spaces is read as the number it is."""
    if rank is None:
        monkeypatch.delenv("RANK", raising=False)
    else:
        monkeypatch.setenv("RANK", rank)
    assert outputs.writes_outputs() is writes


@pytest.mark.parametrize("rank, left", [("1", True), ("0", False)])
def test_only_rank_0_removes_what_a_killed_run_left_beside_an_output(tmp_path, monkeypatch, rank, left):
    """Under torchrun the other ranks remove no temporary file: rank 0 may be writing it (and they refuse nothing)."""
    handle, leftover = atomic.make_temporary(str(tmp_path / "map.tif"))
    os.close(handle)  # as a killed run leaves it: unlocked
    monkeypatch.setenv("RANK", rank)
    outputs.claim_outputs({"OUTPUT": str(tmp_path / "map.tif")}, {})
    assert os.path.exists(leftover) is left


@pytest.mark.parametrize("number, why, advice", [
    (errno.EDQUOT, "the disk is full", "free some space or choose another folder"),
    (errno.ENFILE, "the system has as many files open as it may", "close other programs or raise the system's limit"),
    (errno.ENOENT, "No such file or directory", "choose another folder")])
def test_a_failed_write_says_why_in_an_analyst_s_words(tmp_path, number, why, advice):
    """A quota is a full disk, the system's open files its own limit; a file gone from a folder still there is not
    a folder gone."""
    path = tmp_path / "map.tif"
    assert str(atomic.write_error(str(path), OSError(number, os.strerror(number)))) == (
        f"Could not write {path}: {why}. Nothing was written; {advice}, and run again.")


def test_a_file_system_that_counts_no_file_entries_is_full_not_out_of_them(tmp_path, monkeypatch):
    """Some file systems (btrfs) say 0 file entries of 0: that tells nothing of them, and a full disk is full."""
    real = os.statvfs(tmp_path)
    monkeypatch.setattr(atomic.os, "statvfs", lambda path: os.statvfs_result((*real[:5], 0, 0, 0, *real[8:10])))
    path = tmp_path / "map.tif"
    assert str(atomic.write_error(str(path), OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))) == (
        f"Could not write {path}: the disk is full. Nothing was written; free some space or choose another folder, "
        "and run again.")


def test_a_temporary_file_is_locked_against_other_processes_while_it_is_written(tmp_path):
    """Another process (not this one, which knows its own) takes a locked temporary file for a live run's."""
    handle, temporary = atomic.make_temporary(str(tmp_path / "map.tif"))
    try:
        atomic._HELD.pop(temporary)  # as another process sees it
        assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif")) == [temporary]
        assert os.path.exists(temporary)
    finally:
        os.close(handle)
    assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif")) == [] and os.listdir(tmp_path) == []


def test_of_two_outputs_a_killed_run_left_aside_the_latest_comes_back(tmp_path):
    """Two runs killed while publishing left two earlier files aside: the newer one is the output."""
    output = tmp_path / "model.safetensors"
    for age, text in ((200, "older model"), (100, "newer model")):
        handle, aside = atomic.make_temporary(str(output), ".old")
        os.write(handle, text.encode())
        os.close(handle)
        os.utime(aside, (1e9 - age, 1e9 - age))
    assert atomic.remove_stale_temporaries(str(output)) == []
    assert os.listdir(tmp_path) == ["model.safetensors"] and output.read_text() == "newer model"


def test_an_atomic_output_first_removes_what_a_killed_run_left_for_it(tmp_path):
    """A killed run's temporary file of the same output goes when a new one is written (not only when claimed)."""
    handle, leftover = atomic.make_temporary(str(tmp_path / "report.html"), ".html")
    os.close(handle)
    atomic._HELD.pop(leftover)
    with atomic.atomic_output(str(tmp_path / "report.html"), ".html") as temporary:
        open(temporary, "w").write("new report")
    assert os.listdir(tmp_path) == ["report.html"]


def test_outputs_written_together_name_the_one_that_could_not_be_put_in_place(tmp_path, monkeypatch):
    """Of a report's HTML and JSON, the file whose rename failed is named, and neither is replaced."""
    for name in ("r.html", "r.json"):
        (tmp_path / name).write_text(f"old {name}")
    real = os.replace

    def held(source, target):
        if str(target) == str(tmp_path / "r.html") and not str(source).endswith(".old"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(source, target)

    monkeypatch.setattr(atomic.os, "replace", held)
    with pytest.raises(WriteError) as refused:
        with atomic.atomic_outputs([(str(tmp_path / "r.html"), ".html"), (str(tmp_path / "r.json"), ".json")]) as paths:
            for path in paths:
                open(path, "w").write("new")
    assert str(refused.value) == (f"Could not write {tmp_path / 'r.html'}: the disk is full. Nothing was replaced (an "
                                  "earlier r.html is unchanged); free some space or choose another folder, and run "
                                  "again.")
    assert sorted(os.listdir(tmp_path)) == ["r.html", "r.json"]
    assert [(tmp_path / name).read_text() for name in ("r.html", "r.json")] == ["old r.html", "old r.json"]


def test_layers_that_need_not_differ_may_be_one_file(tmp_path):
    """`distinct` names the layers that must differ: scenes of an archive may share one elevation raster."""
    dsm = write_raster(tmp_path / "dsm.tif", np.ones((2, 2), np.float32))
    outputs.claim_outputs({}, {"INPUT_AUX": [dsm], "MORE_AUX": [dsm]}, distinct={"INPUT_AUX": [dsm]})
    with pytest.raises(InputError, match=r"^MORE_AUX: .*dsm\.tif is also the input INPUT_AUX; "):
        outputs.claim_outputs({}, {"INPUT_AUX": [dsm], "MORE_AUX": [dsm]})


def test_a_model_file_input_has_no_style_for_a_map_of_its_name_to_replace(tmp_path):
    """A model file is no layer: m.tif (whose style is m.qml) beside the input m.safetensors is fine."""
    (tmp_path / "m.safetensors").write_bytes(b"model")
    outputs.claim_outputs({"OUTPUT": str(tmp_path / "m.tif")}, {}, {"CLASSIFIER": str(tmp_path / "m.safetensors")})
    with pytest.raises(InputError, match=r"^OUTPUT: .*m\.safetensors is the input CLASSIFIER \("):
        outputs.claim_outputs({"OUTPUT": str(tmp_path / "m.safetensors")}, {},
                              {"CLASSIFIER": str(tmp_path / "m.safetensors")})


def test_a_map_whose_name_differs_from_another_raster_s_in_letter_case_has_a_style_of_its_own(tmp_path):
    """Map.tif's style is Map.qml, not map.tif's map.qml, where letter case counts (Linux)."""
    write_raster(tmp_path / "map.tif", np.ones((2, 2), np.uint8))
    outputs.claim_outputs({"OUTPUT": outputs.check_output_path(str(tmp_path / "Map.tif"), "OUTPUT")}, {})


def test_a_set_of_two_files_keeps_a_journal_beside_each_while_it_is_put_in_place(tmp_path, monkeypatch):
    """A map and its style alone are a set too: a run killed between their renames leaves what brings it back."""
    for name in ("r.html", "r.json"):
        (tmp_path / name).write_text(f"old {name}")
        (tmp_path / f".{name}.new").write_text(f"new {name}")
    real, journals = os.replace, []

    def looking(source, target):
        journals.append(sorted(name.split(".")[1] for name in os.listdir(tmp_path) if name.endswith(".partial.set")))
        real(source, target)

    monkeypatch.setattr(atomic.os, "replace", looking)
    atomic.replace_together([(str(tmp_path / f".{name}.new"), str(tmp_path / name)) for name in ("r.html", "r.json")])
    assert journals[0] == ["r", "r"] and sorted(os.listdir(tmp_path)) == ["r.html", "r.json"]
    assert [(tmp_path / name).read_text() for name in ("r.html", "r.json")] == ["new r.html", "new r.json"]


def test_a_folder_that_cannot_be_listed_holds_no_leftovers(tmp_path, monkeypatch):
    """A folder one may enter but not list (0711): nothing is found to remove, and no traceback."""
    def unlisted(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(atomic.os, "scandir", unlisted)
    assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif")) == []


@pytest.mark.parametrize("identity, earlier, same", [((7, 12), (7, 12), True), ((7, 12), (7, 13), False),
                                                     ((7, 0), (7, 0), False), ((7, 12), None, False)])
def test_a_file_is_known_by_its_number_only_where_the_file_system_numbers_files(identity, earlier, same):
    """Some SMB shares number every file 0: that identity tells nothing."""
    assert atomic._same_file(identity, earlier) is same


def test_a_stale_side_file_a_committed_set_removed_does_not_come_back(tmp_path, monkeypatch):
    """A run killed after its set was committed left the earlier map's overviews aside: a next run on that side
    file alone deletes them, not brings them back beside the new map."""
    (tmp_path / "map.tif").write_text("old map")
    (tmp_path / "map.tif.ovr").write_text("old overviews")
    (tmp_path / ".map.tif.new").write_text("new map")
    monkeypatch.setattr(atomic.os, "unlink", lambda *_args, **_kwargs: None)  # killed once committed: nothing removed
    atomic.replace_together([(str(tmp_path / ".map.tif.new"), str(tmp_path / "map.tif")),
                             (None, str(tmp_path / "map.tif.ovr"))])
    monkeypatch.undo()
    assert len([name for name in os.listdir(tmp_path) if name.endswith(atomic.ASIDE)]) == 2
    assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif.ovr")) == []
    assert os.listdir(tmp_path) == ["map.tif"] and (tmp_path / "map.tif").read_text() == "new map"


def test_a_stopped_set_s_leftovers_beside_its_other_files_go_with_it(tmp_path, monkeypatch):
    """A run killed before it moved its map and confidence left their temporary files: a next run writing the map
    alone removes the confidence's too, and the earlier files stay as they were."""
    temporaries = []
    for name in ("map.tif", "conf.tif"):
        (tmp_path / name).write_text(f"old {name}")
        handle, temporary = atomic.make_temporary(str(tmp_path / name))
        os.write(handle, f"new {name}".encode())
        os.close(handle)
        atomic._HELD.pop(temporary)
        temporaries.append(temporary)

    def killed(*_args):
        raise SystemExit(9)

    monkeypatch.setattr(atomic.os, "replace", killed)
    monkeypatch.setattr(atomic.os, "unlink", lambda *_args, **_kwargs: None)  # a kill removes nothing
    with pytest.raises(SystemExit):
        atomic.replace_together([(temporary, str(tmp_path / name))
                                 for temporary, name in zip(temporaries, ("map.tif", "conf.tif"))])
    monkeypatch.undo()
    assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif")) == []
    assert {name: (tmp_path / name).read_text() for name in os.listdir(tmp_path)} == {"map.tif": "old map.tif",
                                                                                     "conf.tif": "old conf.tif"}
