"""'Create demo scene': the synthetic scene from the Toolbox, loaded into the project, without torch."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingException, QgsProject

from mrs.mrs_qgis_plugin.raster.gdal_io import category_names, gdal_pam
from mrs.mrs_qgis_plugin.synthetic_scene import CLASSES, write_scene
from processing_helpers import run, run_and_load
from test_raster_writers import read_raster


STYLES = ["hsi.qml", "lidar.qml", "test.qml", "train.qml"]
"""The styles QGIS applies to the layers of a demo scene, which the generator itself does not write."""


def scene_files(folder: Path) -> list:
    """The files of a scene folder, without the .aux.xml that QGIS writes beside the rasters it displays."""
    return sorted(path.name for path in folder.iterdir() if not path.name.endswith(".aux.xml"))


def test_the_demo_scene_is_written_and_loaded_into_the_project(provider, tmp_path):
    folder = tmp_path / "scene"
    project = QgsProject.instance()
    project.removeAllMapLayers()
    results = run_and_load("mrs:demoscene", {"SIZE": 48, "BANDS": 12, "SEED": 3, "OUTPUT": str(folder)})
    loaded = {layer.name(): layer for layer in project.mapLayers().values()}
    names = {name: layer.source().split("|")[0] for name, layer in loaded.items()}
    points = loaded["Demo training points"].featureCount()
    bands = loaded["Demo hyperspectral"].bandCount()
    # Styled as an analyst expects (helpers' review of 2026-12-04: the labels showed 256 entries
    # named 0 to 255, the hyperspectral raster bands 1-3, all blue): the classes with their names and
    # colours, true colour, the height in grey.
    styles = {name: loaded[name].renderer() for name in ("Demo training labels", "Demo test labels",
                                                         "Demo hyperspectral", "Demo LiDAR")}
    labels = {name: [(int(c.value), c.label, c.color.name()) for c in styles[name].classes()]
              for name in ("Demo training labels", "Demo test labels")}
    composite = styles["Demo hyperspectral"]
    rgb = (composite.type(), composite.redBand(), composite.greenBand(), composite.blueBand(),
           composite.redContrastEnhancement().maximumValue())
    grey = (styles["Demo LiDAR"].type(), styles["Demo LiDAR"].grayBand())
    by_class = loaded["Demo training points"].renderer()
    point_classes = (by_class.type(), by_class.classAttribute(),
                     [(int(c.value()), c.label(), c.symbol().color().name()) for c in by_class.categories()])
    project.removeAllMapLayers()

    assert names == {
        "Demo hyperspectral": str(folder / "hsi.tif"),
        "Demo LiDAR": str(folder / "lidar.tif"),
        "Demo training points": str(folder / "train_points.gpkg"),
        "Demo training labels": str(folder / "train.tif"),
        "Demo test labels": str(folder / "test.tif"),
    }
    assert results["HSI"] == str(folder / "hsi.tif") and results["SAR"] is None
    assert bands == 12 and points == 30 * len(CLASSES)
    expected = [(item.value, item.name, item.color) for item in CLASSES]
    assert labels == {"Demo training labels": expected, "Demo test labels": expected}
    centres = 400 + 50 * (np.arange(12) + 0.5)  # 12 bands over 400-1000 nm
    assert rgb[:4] == ("multibandcolor", *(int(np.argmin(abs(centres - nm))) + 1 for nm in (640, 550, 470)))
    assert 0 < rgb[4] < 1  # reflectance, as QGIS shows the band with its scale
    assert grey == ("singlebandgray", 1)
    assert point_classes == ("categorizedSymbol", "class_id", expected)  # one yellow symbol for all, before
    # The same scene as the generator writes for the same options: the algorithm adds only the styles.
    reference = write_scene(tmp_path / "reference", width=48, height=48, n_bands=12, seed=3)
    assert (read_raster(folder / "test.tif").values == read_raster(reference.test).values).all()
    assert scene_files(folder) == sorted(scene_files(reference.directory) + STYLES)
    # Class names and descriptions too, which GeoTIFF keeps in .aux.xml files: the Toolbox's scene
    # had none, bin/mrs's had them (red team of 2026-12-05).
    for labels in ("train.tif", "test.tif"):
        with gdal_pam("YES"):  # as QGIS reads them (the tests run with it off, as qgis_process does)
            written, generated = (gdal.Open(str(path)) for path in (folder / labels, reference.directory / labels))
        band, expected_band = written.GetRasterBand(1), generated.GetRasterBand(1)
        assert category_names(band) == category_names(expected_band) == ["Unlabelled", *[c.name for c in CLASSES]]
        assert band.GetDescription() == expected_band.GetDescription()


def test_an_earlier_scene_is_never_overwritten(provider, tmp_path):
    folder = tmp_path / "scene"
    folder.mkdir()
    (folder / "hsi.tif").write_bytes(b"an analyst's file")
    with pytest.raises(QgsProcessingException, match="already holds hsi.tif; choose a new folder, or one without a scene"):
        run("mrs:demoscene", {"SIZE": 48, "BANDS": 12, "OUTPUT": str(folder)})
    assert (folder / "hsi.tif").read_bytes() == b"an analyst's file"
    assert [path.name for path in folder.iterdir()] == ["hsi.tif"]


@pytest.mark.parametrize("where, message", [
    ("a file", "OUTPUT: {folder} is a file, not a folder; choose a new folder, or one without a scene."),
    ("under a file", "OUTPUT: the folder {folder} cannot be created or written (Not a directory); "
                     "choose a folder you can write to."),
    ("read-only", "OUTPUT: the folder {folder} cannot be created or written (Read-only file system); "
                  "choose a folder you can write to."),
    ("a dangling link", "OUTPUT: {folder} is a link to {folder}-gone, which does not exist; choose a new folder, or "
                        "remove the link first."),
    ("a Latin-1 name", "OUTPUT: the file name {shown} is not valid UTF-8 text (as names from old archives can be), "
                       "which the plugin cannot open or write; rename the file (or folder) and run again."),
])
def test_a_folder_that_cannot_be_made_or_written_is_one_sentence(provider, tmp_path, monkeypatch, where, message):
    (tmp_path / "notes.txt").write_text("an analyst's file")
    folder = {"a file": tmp_path / "notes.txt", "under a file": tmp_path / "notes.txt" / "scene",
              "read-only": tmp_path / "scene", "a dangling link": tmp_path / "link",
              "a Latin-1 name": Path(os.fsdecode(os.path.join(os.fsencode(str(tmp_path)), b"sc\xe8ne")))}[where]
    if where == "a dangling link":
        folder.symlink_to(f"{folder}-gone")
    if where == "read-only":  # the tests run as root, whom permissions do not stop
        def refused(*_args, **_kwargs):
            raise OSError(30, "Read-only file system")
        monkeypatch.setattr("mrs.mrs_qgis_plugin.demo_scene.tempfile.mkdtemp", refused)
    with pytest.raises(QgsProcessingException) as raised:
        run("mrs:demoscene", {"SIZE": 48, "BANDS": 12, "OUTPUT": str(folder)})
    shown = os.fsencode(str(folder)).decode("utf-8", "backslashreplace")
    assert str(raised.value).splitlines()[-1] == message.format(folder=folder, shown=shown)
    assert (tmp_path / "notes.txt").read_text() == "an analyst's file"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["notes.txt"] + (["link"] * folder.is_symlink()))


def test_bin_mrs_writes_the_same_scene_without_qgis_or_torch(tmp_path):
    from test_cli import mrs, results_of

    shim = tmp_path / "shim"
    for package in ("qgis", "torch"):
        (shim / package).mkdir(parents=True)
        (shim / package / "__init__.py").write_text(f'raise ImportError("{package} is not installed here")\n')
    env = {**os.environ, "PYTHONPATH": str(shim)}
    results = results_of(mrs(env, "demoscene", "--SIZE=48", "--BANDS=12", "--SEED=3", f"--OUTPUT={tmp_path / 'scene'}"))
    assert results["HSI"] == str(tmp_path / "scene" / "hsi.tif") and "SAR" not in results
    reference = write_scene(tmp_path / "reference", width=48, height=48, n_bands=12, seed=3)
    assert (read_raster(results["TEST_LABELS"]).values == read_raster(reference.test).values).all()
    assert scene_files(tmp_path / "scene") == sorted(scene_files(reference.directory) + STYLES)


def test_every_file_of_the_demo_scene_gets_the_permissions_the_umask_gives_a_new_file(tmp_path):
    """A helper's red team of 2026-12-05: under umask 002 every file was 0664 but train_points.gpkg,
    0644 as SQLite makes its files, so that colleagues could not fill in the points."""
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    previous = os.umask(0o002)
    try:
        write_new_scene(str(tmp_path / "scene"), size=48, n_bands=4, seed=0, sar=False)
    finally:
        os.umask(previous)
    modes = {path.name: path.stat().st_mode & 0o777 for path in (tmp_path / "scene").iterdir()}
    assert "train_points.gpkg" in modes and set(modes.values()) == {0o664}


@pytest.mark.parametrize("limit_kb", [2, 20])
def test_a_file_size_limit_stops_the_demo_scene_in_one_sentence(tmp_path, limit_kb):
    """Red team of 2026-12-05: under `ulimit -f` the styles read the rasters a failed write left, and
    the run ended in a traceback ('NoneType' object has no attribute 'RasterCount')."""
    import resource
    import subprocess
    import sys

    from test_cli import MRS

    limit = (limit_kb * 1024, limit_kb * 1024)
    done = subprocess.run([sys.executable, str(MRS), "demoscene", "--SIZE=64", "--BANDS=20",
                           f"--OUTPUT={tmp_path / 'scene'}"], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, limit))
    assert done.returncode != 0 and "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        f"OUTPUT: the demo scene could not be written into {tmp_path / 'scene'}: the file would be larger than this "
        "process may write (a file-size limit such as ulimit -f, or the file system's largest file); nothing was "
        "written. Raise the limit or choose another folder, or ask for a smaller SIZE or fewer BANDS, and run again.")
    assert not (tmp_path / "scene").exists()


def test_cancel_stops_the_demo_scene_between_its_stages_and_leaves_no_folder(tmp_path):
    """Cancel was honoured only once the whole scene was simulated and written (30 s for a large
    one), and the folder made for it stayed behind, empty (red team of 2026-12-04)."""
    from mrs.model_core.errors import Canceled
    from mrs.model_core.hooks import Hooks
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    progress = []
    hooks = Hooks(progress=progress.append, is_canceled=lambda: len(progress) >= 2)
    with pytest.raises(Canceled):
        write_new_scene(str(tmp_path / "scene"), size=64, n_bands=8, seed=0, sar=False, hooks=hooks)
    assert progress == [0.1, 0.2]
    assert list(tmp_path.iterdir()) == []
    progress.clear()  # the folders made above it go too (red team of 2026-12-05: a/ and a/b/ stayed)
    with pytest.raises(Canceled):
        write_new_scene(str(tmp_path / "a" / "b" / "scene"), size=64, n_bands=8, seed=0, sar=False, hooks=hooks)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_another_demo_scene_run_writes_is_refused_and_a_killed_run_s_leftovers_are_removed(tmp_path):
    """Red team of 2026-12-05: two runs into one folder both said they had written their scene, which
    was half of each (a 64-pixel scene beside the other's 48-pixel SAR); a killed run's hidden
    folder of 145 MB stayed after the next run."""
    from mrs.model_core.atomic import held
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    folder = tmp_path / "scene"
    folder.mkdir()
    with held(str(folder / "hsi.tif")):  # a run writing into it now
        with pytest.raises(Exception, match=r"^OUTPUT: the folder .*scene is being written by another run now; "
                                            r"wait until it has ended, or choose another folder\.$"):
            write_new_scene(str(folder), size=48, n_bands=4, seed=0, sar=False)
    (folder / ".demo-scene-killed").mkdir()
    (folder / ".demo-scene-killed" / "hsi.tif").write_bytes(b"half a scene")
    write_new_scene(str(folder), size=48, n_bands=4, seed=0, sar=False)
    assert not [name for name in os.listdir(folder) if name.startswith(".")]
    # a run refused leaves the folders alone that another run made as it started (review of 2026-12-05: the
    # refused run deleted them, with the other's scene)
    from mrs.mrs_qgis_plugin.demo_scene import _make_folders

    assert _make_folders(str(tmp_path / "a" / "b")) == str(tmp_path / "a")
    assert _make_folders(str(tmp_path / "a" / "b")) is None
    assert _make_folders(str(tmp_path / "a" / "c" / "d")) == str(tmp_path / "a" / "c")


def test_a_scene_a_killed_run_was_putting_in_place_is_finished_by_the_next_run(tmp_path):
    """A run killed between the moves of its files left three of them in the folder and the rest in a
    hidden folder; the next run refused the folder as holding a scene and left both halves (a helper's
    red team of 2026-12-05)."""
    import json
    import shutil

    from mrs.model_core.hooks import Hooks
    from mrs.mrs_qgis_plugin.demo_scene import MOVING, FolderTaken, write_new_scene

    whole = tmp_path / "whole"
    names = sorted(os.path.basename(path) for path in
                   write_new_scene(str(whole), size=48, n_bands=4, seed=0, sar=False))
    folder, hidden = tmp_path / "scene", tmp_path / "scene" / ".demo-scene-killed"
    hidden.mkdir(parents=True)
    for index, name in enumerate(names):
        shutil.copy(whole / name, (folder if index < 3 else hidden) / name)
    (hidden / MOVING).write_text(json.dumps(names))
    warnings = []
    with pytest.raises(FolderTaken, match=r"^OUTPUT: the folder .*scene already holds hsi\.tif, lidar\.tif"):
        write_new_scene(str(folder), size=48, n_bands=4, seed=1, sar=False, hooks=Hooks(warn=warnings.append))
    assert sorted(os.listdir(folder)) == names
    assert all((folder / name).read_bytes() == (whole / name).read_bytes() for name in names)
    assert warnings == [f"OUTPUT: a run stopped while it put its scene in place in {folder}; its scene is now there "
                        f"whole ({len(names) - 3} of its {len(names)} files moved in place now)."]
    # the files moved deleted since (by the analyst), the hidden rest goes and a new scene is written, unsaid
    # (a helper's red team of 2026-12-05: half a scene came back, called whole)
    shutil.rmtree(folder)
    hidden.mkdir(parents=True)
    for index, name in enumerate(names):
        if index >= 3:
            shutil.copy(whole / name, hidden / name)
    (hidden / MOVING).write_text(json.dumps(names))
    warnings.clear()
    write_new_scene(str(folder), size=48, n_bands=4, seed=1, sar=False, hooks=Hooks(warn=warnings.append))
    assert warnings == [] and sorted(os.listdir(folder)) == names


def test_a_scene_whose_files_cannot_all_be_moved_in_place_leaves_none(tmp_path, monkeypatch):
    from mrs.mrs_qgis_plugin import demo_scene

    real = os.replace

    def failing(source, target):
        if os.path.basename(target) == "sar.qml" or os.path.basename(target) == "test.tif":
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(demo_scene.os, "replace", failing)
    (tmp_path / "scene").mkdir()
    with pytest.raises(OSError):
        demo_scene.write_new_scene(str(tmp_path / "scene"), size=48, n_bands=4, seed=0, sar=False)
    assert os.listdir(tmp_path / "scene") == []


@pytest.mark.parametrize("given", ["/vsimem/scene", "/vsizip/{tmp}/scene.zip/scene", "file://{tmp}/scene"])
def test_a_scene_folder_that_is_no_folder_on_disk_is_refused(tmp_path, monkeypatch, given):
    """Red team of 2026-12-05: /vsimem/ said success and lost the scene with the process, /vsizip/
    ended in a traceback, file:// made a folder named 'file:' in the current one; each left
    folders of those names on disk."""
    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    monkeypatch.chdir(tmp_path)
    given = given.format(tmp=tmp_path)
    with pytest.raises(InputError) as refused:
        write_new_scene(given, size=48, n_bands=4, seed=0, sar=False)
    assert str(refused.value) == (f"OUTPUT: {given} is a GDAL virtual path or a URL, not a folder on disk; choose a "
                                  "folder on disk (a plain path).")
    assert list(tmp_path.iterdir()) == [] and not os.path.exists("/vsimem/scene")


def test_a_scene_folder_named_with_a_layer_option_is_refused(tmp_path):
    """A helper's red team of 2026-12-07: a folder 'scene|layername=x' was written, and its training points could
    not be opened ('is neither a layer of the project nor an existing file')."""
    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    given = str(tmp_path / "scene|layername=x")
    with pytest.raises(InputError) as refused:
        write_new_scene(given, size=48, n_bands=4, seed=0, sar=False)
    assert str(refused.value) == (f"OUTPUT: {given} holds '|layername=', which QGIS reads as a layer's option in the "
                                  "paths of the scene's files; choose a folder name without it.")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_holds_label_statistics_of_the_analyst_is_not_written_into(tmp_path):
    """Red team of 2026-12-05: bin/mrs replaced test.tif.aux.xml and train.tif.aux.xml in a folder
    of the analyst's, which the scene's label rasters write."""
    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    (tmp_path / "test.tif.aux.xml").write_text("<PAMDataset/>")
    with pytest.raises(InputError, match=r"already holds test\.tif\.aux\.xml; choose a new folder, or one without a scene\.$"):
        write_new_scene(str(tmp_path), size=48, n_bands=4, seed=0, sar=False)
    assert (tmp_path / "test.tif.aux.xml").read_text() == "<PAMDataset/>"


def test_the_sar_raster_of_a_demo_scene_is_styled_as_vv_backscatter_in_db(tmp_path):
    """Desktop helper of 2026-12-05: sar.tif had no style, where every other layer had one."""
    from mrs.mrs_qgis_plugin.demo_scene import write_new_scene

    written = write_new_scene(str(tmp_path / "scene"), size=48, n_bands=4, seed=0, sar=True)
    assert str(tmp_path / "scene" / "sar.qml") in written
    style = (tmp_path / "scene" / "sar.qml").read_text()
    assert 'type="singlebandgray" grayBand="3"' in style
    sar = gdal.Open(str(tmp_path / "scene" / "sar.tif"))
    band = sar.GetRasterBand(3).ReadAsArray()
    low, high = (float(text) for text in re.findall(r"<(?:min|max)Value>([-0-9.e]+)<", style))
    assert low < high and band.min() <= low and high <= band.max()


@pytest.mark.parametrize("failing", ["gdal", "gdal with exceptions", "file"])
def test_a_demo_scene_that_cannot_be_written_whole_is_one_sentence_and_leaves_nothing(tmp_path, monkeypatch, capfd,
                                                                                       failing):
    """Red team of 2026-12-05: on a full disk the scene printed GDAL's 'No space left on device'
    dozens of times and ended in a traceback quoting an SQL statement."""
    from mrs.model_core.errors import WriteError
    from mrs.mrs_qgis_plugin import demo_scene

    real = demo_scene.write_scene

    def full_disk(folder, **options):
        real(folder, **options)
        if failing.startswith("gdal"):  # a GeoTIFF's write fails as GDAL says it, and the file is left short
            gdal.GetDriverByName("GTiff").Create("/nonexistent/x.tif", 1, 1)
        else:
            raise OSError(f"Cannot create {folder}/train_points.gpkg: sqlite3_exec(CREATE TABLE x) failed: "
                          "database or disk is full")

    monkeypatch.setattr(demo_scene, "write_scene", full_disk)
    exceptions = gdal.GetUseExceptions()
    if failing == "gdal with exceptions":  # as a QGIS console may have them (review of 2026-12-05: a traceback)
        gdal.UseExceptions()
    try:
        with pytest.raises(WriteError) as refused:
            demo_scene.write_new_scene(str(tmp_path / "scene"), size=48, n_bands=8, seed=0, sar=False)
    finally:
        if not exceptions:
            gdal.DontUseExceptions()
    assert re.fullmatch(rf"OUTPUT: the demo scene could not be written into {tmp_path / 'scene'} \(.+\); nothing was "
                        r"written\. Free some space \(the disk may be full\) or choose another folder, and run again\.",
                        str(refused.value)), str(refused.value)
    assert "CREATE TABLE" not in str(refused.value)
    assert "ERROR" not in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []
