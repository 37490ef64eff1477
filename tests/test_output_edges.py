"""Edges of the outputs: GDAL's mode, temporary files of a failed map, compression, styles, virtual paths,
permissions, a failed fsync, suggestion labels, proposed model names and class shades (a mutation audit of
2026-12-06)."""

import colorsys
import errno
import os
import stat
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from osgeo import gdal
from test_raster_writers import CLASSES, GEOTRANSFORM, _crs_wkt, _write_map

from mrs.model_core.atomic import atomic_output
from mrs.model_core.errors import InputError, WriteError
from mrs.mrs_qgis_plugin import destinations
from mrs.mrs_qgis_plugin.raster import writers
from mrs.mrs_qgis_plugin.raster.colours import NAMED_COLOURS, PALETTE, rgb, shade
from mrs.mrs_qgis_plugin.raster.outputs import check_output_path


@pytest.fixture
def umask_022():
    """The process's umask set to 022 for one test, and the one before restored after it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writing_a_map_leaves_gdal_s_exception_mode_as_it_was(tmp_path):
    """A mutation audit of 2026-12-06: a map written with GDAL's exceptions off turned them on for the process."""
    previous = gdal.GetUseExceptions()
    gdal.DontUseExceptions()
    try:
        _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3], [4, 0]], dtype=np.uint8))
        after = gdal.GetUseExceptions()
    finally:
        if previous:
            gdal.UseExceptions()
    assert after == 0
    assert sorted(os.listdir(tmp_path)) == ["map.qml", "map.tif", "map.tif.aux.xml"]


@pytest.mark.parametrize("size, styles_full, refusal, message", [
    ((2, 1), True, WriteError, "Could not write {path}: the disk is full. Nothing was written; free some space or "
                               "choose another folder, and run again."),
    ((0, 1), False, InputError, "OUTPUT: could not write {path} (Attempt to create 0x1 dataset is illegal,sizes must "
                                "be larger than zero.); check the folder's free space and permissions.")],
    ids=["style name not held", "gdal create failed"])
def test_a_map_that_cannot_be_begun_leaves_nothing_behind(tmp_path, monkeypatch, size, styles_full, refusal,
                                                          message):
    """A mutation audit of 2026-12-06: the map's temporary GeoTIFF stayed when its style's name could not be
    held, and it and the style's hold when GDAL could not create the map."""
    taken = writers.make_temporary

    def full_for_styles(path, *args):
        if path.endswith(".qml"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return taken(path, *args)

    if styles_full:
        monkeypatch.setattr(writers, "make_temporary", full_for_styles)
    path = tmp_path / "map.tif"
    with pytest.raises(refusal) as refused:
        writers.class_raster(str(path), "OUTPUT", size, GEOTRANSFORM, _crs_wkt(), CLASSES)
    assert str(refused.value) == message.format(path=path)
    assert os.listdir(tmp_path) == []


def test_the_confidence_is_compressed_with_the_floating_point_predictor_and_the_map_without_one(tmp_path):
    """A mutation audit of 2026-12-06: the confidence raster's PREDICTOR=3 was not checked."""
    _write_map(tmp_path / "map.tif", CLASSES, np.array([[1, 3], [4, 0]], dtype=np.uint8))
    conf = tmp_path / "conf.tif"
    with writers.confidence_raster(str(conf), "OUTPUT_CONFIDENCE", (2, 2), GEOTRANSFORM, _crs_wkt(),
                                   str(tmp_path / "map.tif")) as out:
        out.write(np.array([[0.5, 0.25], [1.0, -1.0]], dtype=np.float32), 0, 0)
        out.close()
        writers.publish_rasters([out])
    structure = {name: gdal.Open(str(tmp_path / name)).GetMetadata("IMAGE_STRUCTURE")
                 for name in ("map.tif", "conf.tif")}
    assert structure["conf.tif"].get("PREDICTOR") == "3"
    assert structure["conf.tif"].get("COMPRESSION") == structure["map.tif"].get("COMPRESSION") == "DEFLATE"
    assert "PREDICTOR" not in structure["map.tif"]


def test_a_style_s_entry_of_a_fraction_is_no_class(tmp_path):
    """A mutation audit of 2026-12-06: a paletted entry of value 2.5 was read as class 2."""
    style = tmp_path / "map.qml"
    style.write_text('<qgis><pipe><rasterrenderer type="paletted" band="1"><colorPalette>'
                     '<paletteEntry value="1" color="#ff0000" alpha="255" label="Water"/>'
                     '<paletteEntry value="2.5" color="#00ff00" alpha="255" label="Half"/>'
                     "</colorPalette></rasterrenderer></pipe></qgis>", encoding="utf-8")
    assert [(info.value, info.name, info.color) for info in writers.style_classes(str(style))] == [
        (1, "Water", "#ff0000")]


@pytest.mark.parametrize("path", ["/vsimem/map.tif", "s3://b/m.tif"])
def test_an_output_map_on_a_gdal_virtual_path_or_a_url_is_refused(path):
    """A mutation audit of 2026-12-06: check_output_path's refusal of virtual paths and URLs was not checked."""
    with pytest.raises(InputError) as refused:
        check_output_path(path, "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: {path} is a GDAL virtual path or a URL, not a file on disk; choose a "
                                  "file on disk (a plain path).")


def test_an_output_in_a_file_is_said_to_be_in_a_file_not_in_a_missing_folder(tmp_path):
    """A helper's red team of 2026-12-07: 'the folder .../file.txt does not exist' of a file that exists."""
    (tmp_path / "file.txt").write_text("a file")
    with pytest.raises(InputError) as refused:
        check_output_path(str(tmp_path / "file.txt" / "map.tif"), "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: {tmp_path / 'file.txt'} is a file, not a folder, so map.tif cannot be put "
                                  "in it; choose a folder.")


@pytest.mark.parametrize("name, param, extensions", [
    ("map.tif", "OUTPUT", (".tif",)), ("model.safetensors", "OUTPUT", (".safetensors",)),
    ("report.html", "OUTPUT_HTML", (".html",)), ("points.gpkg", "OUTPUT", (".gpkg",))])
def test_an_output_that_is_a_link_to_nothing_is_refused(tmp_path, name, param, extensions):
    """Red team of 2026-12-07: a map was refused so, a report or a model written in the link's place."""
    os.symlink(tmp_path / "gone" / name, tmp_path / name)
    with pytest.raises(InputError) as refused:
        check_output_path(str(tmp_path / name), param, extensions)
    assert str(refused.value) == (f"{param}: {tmp_path / name} is a link to {tmp_path / 'gone' / name}, which does not "
                                  "exist; choose a new file name, or remove the link first.")
    assert os.listdir(tmp_path) == [name] and os.path.islink(tmp_path / name)


@pytest.mark.parametrize("name, extensions", [(".tif", (".tif", ".tiff")), (".TIFF", (".tif", ".tiff")),
                                             (".html", (".html",))])
def test_an_output_named_only_its_extension_is_refused(tmp_path, name, extensions):
    """Red team of 2026-12-06: a map named '.tif' was written as a hidden file whose style QGIS did not find."""
    with pytest.raises(InputError) as refused:
        check_output_path(str(tmp_path / name), "OUTPUT", extensions)
    assert str(refused.value) == (f"OUTPUT: {tmp_path / name} has no name before its extension; give a name such as "
                                  f"landcover{extensions[0]}.")
    assert check_output_path(str(tmp_path / f"a{name}"), "OUTPUT", extensions) == str(tmp_path / f"a{name}")


def test_a_replaced_file_keeps_its_permissions(tmp_path, umask_022):
    """A mutation audit of 2026-12-06: a 0640 model file replaced became 0644, readable by every user."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old model")
    path.chmod(0o640)
    with atomic_output(str(path), ".safetensors") as temporary:
        open(temporary, "wb").write(b"new model")
    assert path.read_bytes() == b"new model" and _mode(path) == 0o640


def test_a_new_file_gets_the_permissions_of_the_umask(tmp_path, umask_022):
    """A mutation audit of 2026-12-06: a new output kept its temporary file's 0600 under umask 022."""
    path = tmp_path / "model.safetensors"
    with atomic_output(str(path), ".safetensors") as temporary:
        open(temporary, "wb").write(b"new model")
    assert path.read_bytes() == b"new model" and _mode(path) == 0o644


def test_data_that_cannot_be_stored_when_synced_is_a_full_disk_and_replaces_nothing(tmp_path, monkeypatch):
    """A mutation audit of 2026-12-06: a file whose fsync failed (NFS, a quota) was put in place, perhaps incomplete."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old model")

    def full(_handle):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(WriteError) as refused:
        with atomic_output(str(path), ".safetensors") as temporary:
            open(temporary, "wb").write(b"new model, perhaps incomplete")
    monkeypatch.undo()
    assert str(refused.value) == (f"Could not write {path}: the disk is full. Nothing was replaced (an earlier "
                                  "model.safetensors is unchanged); free some space or choose another folder, and run "
                                  "again.")
    assert path.read_bytes() == b"old model" and os.listdir(tmp_path) == ["model.safetensors"]


def test_suggestions_are_labelled_by_the_plugin_s_rank_not_by_a_rank_field_of_the_samples(qgis_app):
    """A mutation audit of 2026-12-06: suggestions of a layer with its own 'rank' field were labelled by it."""
    from qgis.core import QgsVectorLayer

    from mrs.mrs_qgis_plugin.styling import suggestion_style

    layer = QgsVectorLayer("Point?crs=EPSG:32632&field=rank:integer&field=mrs_rank:integer", "suggestions", "memory")
    assert suggestion_style(layer) == ""
    assert layer.labelsEnabled() and layer.labeling().settings().fieldName == "mrs_rank"
    plain = QgsVectorLayer("Point?crs=EPSG:32632&field=rank:integer", "suggestions", "memory")
    suggestion_style(plain)
    assert plain.labeling().settings().fieldName == "rank"


def test_a_proposed_model_name_in_a_linked_folder_is_refused_once_taken(qgis_app, tmp_path, monkeypatch):
    """A mutation audit of 2026-12-06: a proposed name reached through a linked folder was replaced by Run again."""
    (tmp_path / "real").mkdir()
    (tmp_path / "home").symlink_to(tmp_path / "real", target_is_directory=True)
    monkeypatch.setattr(destinations, "PROPOSED", set())
    monkeypatch.setattr(destinations.QgsApplication, "platform", staticmethod(lambda: "desktop"))
    monkeypatch.setattr(destinations, "persistent_folder", lambda *_: str(tmp_path / "home"))
    proposed = destinations.default_output_path("pretrained_model", "safetensors")
    assert proposed == str(tmp_path / "home" / "pretrained_model.safetensors")
    destinations.refuse_a_proposed_name_taken(proposed, "OUTPUT")  # not written yet
    open(proposed, "wb").write(b"the first run's model")
    with pytest.raises(InputError) as refused:
        destinations.refuse_a_proposed_name_taken(proposed, "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: {proposed} holds the model an earlier run wrote, under the name a dialog "
                                  "proposed for it. Choose another file name to keep both models, or delete that file "
                                  "to replace it.")


def test_the_demo_s_colour_composite_stretches_each_band_over_its_own_range(tmp_path):
    """A mutation audit of 2026-12-06: the demo's true-colour style's green and blue ranges were not checked."""
    from mrs.mrs_qgis_plugin.demo_scene import _write_styles
    from mrs.mrs_qgis_plugin.synthetic_scene import write_scene

    scene = write_scene(tmp_path / "scene", width=48, height=48, n_bands=12, seed=3)
    _write_styles(str(scene.directory))
    renderer = ET.parse(scene.directory / "hsi.qml").getroot().find("pipe/rasterrenderer")
    dataset = gdal.Open(str(scene.directory / "hsi.tif"))
    stretches, ranges = {}, {}
    for colour in ("red", "green", "blue"):
        stretch = renderer.find(f"{colour}ContrastEnhancement")
        stretches[colour] = (float(stretch.find("minValue").text), float(stretch.find("maxValue").text))
        band = dataset.GetRasterBand(int(renderer.get(f"{colour}Band")))
        values = band.ReadAsArray().astype(np.float64)
        if band.GetNoDataValue() is not None:
            values = values[values != band.GetNoDataValue()]
        values = values * (band.GetScale() or 1.0) + (band.GetOffset() or 0.0)
        ranges[colour] = tuple(np.percentile(values, [2.0, 98.0]))
    dataset = None
    assert len({renderer.get(f"{colour}Band") for colour in ranges}) == 3
    assert len({round(high, 6) for _low, high in ranges.values()}) == 3  # distinct: a swap would show
    for colour in ranges:
        assert stretches[colour] == pytest.approx(ranges[colour], rel=1e-7), colour


def test_every_shade_keeps_a_lightness_a_colour_can_be_seen_in():
    """A mutation audit of 2026-12-06: shades of a light colour went past 0.88 lightness, to white."""
    for colour in [named for named, _words in NAMED_COLOURS] + list(PALETTE):
        for step in range(1, 10):
            _hue, lightness, _saturation = colorsys.rgb_to_hls(*(c / 255 for c in rgb(shade(colour, step))))
            assert 0.12 - 1 / 255 <= lightness <= 0.88 + 1 / 255, (colour, step, shade(colour, step))
