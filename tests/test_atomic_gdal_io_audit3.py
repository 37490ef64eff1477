"""Third-round audit of model_core/atomic.py (what lands on disk) and raster/gdal_io.py (GDAL reading helpers)."""

import errno
import os

import numpy as np
import pytest

from mrs.model_core import atomic
from mrs.model_core.atomic import make_temporary, remove_stale_temporaries, write_error
from rasters import write_raster
from test_fuzz_samples import gdal_exceptions
from test_raster_io_audit import _table_map


def _left(handle: int, path: str) -> str:
    """A temporary file as a killed run leaves it: closed, unlocked."""
    os.close(handle)
    return path


def test_a_failed_write_over_a_dangling_link_says_nothing_was_replaced(tmp_path):
    """An output that is a link to nothing is an earlier file at that name: 'Nothing was replaced', not written."""
    (tmp_path / "map.tif").symlink_to(tmp_path / "gone.tif")
    denied = OSError(errno.EACCES, os.strerror(errno.EACCES))
    assert str(write_error(str(tmp_path / "map.tif"), denied)) == (
        f"Could not write {tmp_path / 'map.tif'}: Permission denied. Nothing was replaced (an earlier map.tif is "
        "unchanged); choose another folder, and run again.")


@pytest.mark.parametrize("other", [".map.tif.backup.partial", ".map.tif.abcdefghi.partial", ".map_tif.abcdefgh.partial",
                                   ".mapXtif.abcdefgh.partial.old"])
def test_a_file_not_named_as_a_temporary_file_of_the_output_is_left_alone(tmp_path, other):
    """Only `.<name>.<8 characters>.partial...` is a leftover: another length or another output's name stays."""
    (tmp_path / other).write_text("someone's")
    assert remove_stale_temporaries(str(tmp_path / "map.tif")) == []
    assert os.listdir(tmp_path) == [other]


@pytest.mark.parametrize("name", ["map (1).tif", "map+.tif", "a[b].tif"])
def test_leftovers_of_an_output_whose_name_holds_pattern_characters_are_removed(tmp_path, name):
    """A name such as 'map (1).tif' is matched as written: its killed run's leftovers, side files too, go."""
    partial = _left(*make_temporary(str(tmp_path / name)))
    open(partial + ".aux.xml", "w").close()
    (tmp_path / name).write_text("map")
    assert remove_stale_temporaries(str(tmp_path / name)) == []
    assert os.listdir(tmp_path) == [name]


def test_a_file_left_aside_beside_an_output_in_place_does_not_replace_it(tmp_path):
    """An aside a killed run left while an output is in place is stale: the output keeps its content."""
    (tmp_path / "map.tif").write_text("current map")
    aside = _left(*make_temporary(str(tmp_path / "map.tif"), ".old"))
    with open(aside, "w") as stream:
        stream.write("older map")
    assert atomic.recover_set_aside(str(tmp_path / "map.tif")) is False
    remove_stale_temporaries(str(tmp_path / "map.tif"))
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "current map"}


def test_a_set_s_journal_beside_a_live_run_is_kept_with_its_aside(tmp_path):
    """While a run is live on an output, the unlocked journal and aside of its set are its own, not leftovers."""
    live, partial = make_temporary(str(tmp_path / "map.tif"))
    try:
        journal = _left(*make_temporary(str(tmp_path / "map.tif"), ".set"))
        aside = _left(*make_temporary(str(tmp_path / "map.tif"), ".old"))
        stale = _left(*make_temporary(str(tmp_path / "map.tif"), ".qml"))
        assert atomic._remove_leftovers(str(tmp_path / "map.tif")) == [partial]
        assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(path) for path in (partial, journal, aside))
        assert not os.path.exists(stale)
    finally:
        atomic.remove_own(live, partial)


def test_a_set_whose_journals_cannot_be_named_is_put_in_place_whole_without_them(tmp_path, monkeypatch):
    """Journals that cannot name their set (Windows: two drives, relpath's ValueError) leave the set put in place."""
    for name in ("map.tif", "map.qml"):
        (tmp_path / name).write_text(f"old {name}")
        (tmp_path / f"new.{name}").write_text(f"new {name}")

    def across_drives(*_args):
        raise ValueError("path is on mount 'D:', start on mount 'C:'")

    monkeypatch.setattr(atomic.os.path, "relpath", across_drives)
    atomic.replace_together([(str(tmp_path / f"new.{name}"), str(tmp_path / name)) for name in ("map.tif", "map.qml")])
    monkeypatch.undo()
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "new map.tif",
                                                                           "map.qml": "new map.qml"}


def test_a_live_run_s_journal_not_yet_written_is_kept(tmp_path):
    """A journal a live run has made and not yet filled is no damaged leftover: it is kept, and reported live."""
    handle, journal = make_temporary(str(tmp_path / "map.tif"), ".set")
    try:
        assert remove_stale_temporaries(str(tmp_path / "map.tif")) == [journal]
        assert os.listdir(tmp_path) == [os.path.basename(journal)]
    finally:
        atomic.remove_own(handle, journal)


def _journal(folder, name, journals, moves, committed=False):
    """A set's journal beside `name` as `_write_journals` writes it (names relative to the folder)."""
    import json

    record = {"journals": journals, "moves": [{"path": path, "aside": aside, "file": None} for path, aside in moves]}
    (folder / name).write_text(json.dumps({**record, "committed": True} if committed else record))
    return folder / name


def test_reading_an_input_removes_a_journal_whose_set_s_first_journal_is_gone(tmp_path):
    """A journal of a set whose first journal is gone tells nothing: reading the input removes it and nothing else."""
    (tmp_path / "map.qml").write_text("style")
    journals = [".map.tif.aaaaaaaa.partial.set", ".map.qml.bbbbbbbb.partial.set"]
    _journal(tmp_path, journals[1], journals, [("map.tif", None), ("map.qml", None)])
    assert atomic.recover_set_aside(str(tmp_path / "map.qml")) is False
    assert os.listdir(tmp_path) == ["map.qml"]


def test_a_set_whose_other_journal_a_live_run_holds_is_not_rolled_back(tmp_path):
    """A set not committed whose other journal is locked is a live run's: its new files are not removed."""
    for name in ("map.tif", "map.qml"):
        (tmp_path / name).write_text(f"new {name}")
    handle, held = make_temporary(str(tmp_path / "map.qml"), ".set")
    try:
        _journal(tmp_path, ".map.tif.aaaaaaaa.partial.set", [".map.tif.aaaaaaaa.partial.set", os.path.basename(held)],
                 [("map.tif", None), ("map.qml", None)])
        remove_stale_temporaries(str(tmp_path / "map.tif"))
        assert sorted(os.listdir(tmp_path)) == sorted(["map.qml", "map.tif", os.path.basename(held)])
    finally:
        atomic.remove_own(handle, held)


def test_a_journal_naming_another_temporary_file_as_the_earlier_one_moves_nothing(tmp_path):
    """A journal whose 'aside' is not an aside's name (.partial.old) is no set of the plugin's: the output stays."""
    (tmp_path / "map.tif").write_text("current map")
    (tmp_path / ".map.tif.cccccccc.partial.qml").write_text("a style being written")
    _journal(tmp_path, ".map.tif.aaaaaaaa.partial.set", [".map.tif.aaaaaaaa.partial.set"],
             [("map.tif", ".map.tif.cccccccc.partial.qml")])
    remove_stale_temporaries(str(tmp_path / "map.tif"))
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "current map"}


@pytest.mark.parametrize("journals, moves", [
    # a journal for the other file that is not beside it, in the output's folder
    ([".map.tif.aaaaaaaa.partial.set", ".precious.tif.aaaaaaaa.partial.set"],
     [("map.tif", None), ("../elsewhere/precious.tif", None)]),
    # more files than journals
    ([".map.tif.aaaaaaaa.partial.set"], [("map.tif", None), ("../elsewhere/precious.tif", None)]),
], ids=["journal-not-beside", "more-files-than-journals"])
def test_a_journal_not_written_by_the_plugin_deletes_no_file_elsewhere(tmp_path, journals, moves):
    """A journal whose names are not each a journal beside its own file is removed alone, deleting nothing."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "precious.tif").write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    for name in journals[1:]:
        (folder / name).write_text("{}")
    _journal(folder, journals[0], journals, moves)
    remove_stale_temporaries(str(folder / "map.tif"))
    assert (tmp_path / "elsewhere" / "precious.tif").read_text() == "keep" and os.listdir(folder) == journals[1:]


def test_a_journal_that_does_not_name_itself_removes_no_output(tmp_path):
    """A journal whose list of journals leaves itself out is no set of the plugin's: the output it names stays."""
    (tmp_path / "map.tif").write_text("current map")
    (tmp_path / ".map.tif.bbbbbbbb.partial.set").write_text("{}")
    _journal(tmp_path, ".map.tif.aaaaaaaa.partial.set", [".map.tif.bbbbbbbb.partial.set"], [("map.tif", None)])
    remove_stale_temporaries(str(tmp_path / "map.tif"))
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "current map"}


def test_an_empty_earlier_file_of_another_identity_comes_back_where_its_name_is_free(tmp_path):
    """A stopped set's empty earlier style (its file number changed by a remount) comes back where no file took its
    name: the set is whole and old again."""
    import json

    (tmp_path / ".map.tif.aaaaaaaa.partial.old").write_text("old map")
    (tmp_path / ".map.qml.aaaaaaaa.partial.old").write_text("")
    journals = [".map.tif.aaaaaaaa.partial.set", ".map.qml.aaaaaaaa.partial.set"]
    record = {"journals": journals, "moves": [{"path": name, "aside": f".{name}.aaaaaaaa.partial.old", "file": [1, 2]}
                                              for name in ("map.tif", "map.qml")]}
    for journal in journals:
        (tmp_path / journal).write_text(json.dumps(record))
    remove_stale_temporaries(str(tmp_path / "map.tif"))
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "old map", "map.qml": ""}


def test_an_output_a_killed_run_left_aside_is_back_when_the_next_write_fails(tmp_path):
    """An atomic write first brings back the earlier output a killed run moved aside, so a failed write keeps it."""
    aside = _left(*make_temporary(str(tmp_path / "map.tif"), ".old"))
    with open(aside, "w") as stream:
        stream.write("earlier map")
    with pytest.raises(RuntimeError), atomic.atomic_output(str(tmp_path / "map.tif")) as temporary:
        with open(temporary, "w") as stream:
            stream.write("half a map")
        raise RuntimeError("canceled")
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "earlier map"}


def test_a_quota_of_files_reached_is_said_as_no_file_entries_left(tmp_path, monkeypatch):
    """EDQUOT on a file system with no file entry left is a quota of files, as ENOSPC is out of inodes."""
    real = os.statvfs(tmp_path)
    monkeypatch.setattr(atomic.os, "statvfs", lambda path: os.statvfs_result((*real[:6], 0, 0, *real[8:10])))
    quota = OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
    assert str(write_error(str(tmp_path / "map.tif"), quota)) == (
        f"Could not write {tmp_path / 'map.tif'}: the disk has no file entries left (inodes, or a quota of files), "
        "though it may have space. Nothing was written; delete some files or choose another folder, and run again.")


def test_a_set_s_file_that_cannot_be_put_in_place_is_the_one_named(tmp_path, monkeypatch):
    """Of outputs written together, the failure to put the second in place names the second, and keeps the first."""
    from mrs.model_core.errors import WriteError

    (tmp_path / "map.tif").write_text("old map")
    real = os.replace

    def refusing(source, target):
        if str(target).endswith("conf.tif"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real(source, target)

    with pytest.raises(WriteError) as refused:
        with atomic.atomic_outputs([(str(tmp_path / "map.tif"), ""), (str(tmp_path / "conf.tif"), "")]) as written:
            for temporary in written:
                with open(temporary, "w") as stream:
                    stream.write("new")
            monkeypatch.setattr(atomic.os, "replace", refusing)
    monkeypatch.undo()
    assert str(refused.value) == (f"Could not write {tmp_path / 'conf.tif'}: Permission denied. Nothing was written; "
                                  "choose another folder, and run again.")
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == {"map.tif": "old map"}



@pytest.mark.parametrize("writing", [atomic.held, atomic.atomic_output], ids=["held", "atomic_output"])
def test_an_output_whose_folder_is_gone_before_its_temporary_file_is_made_is_said_so(tmp_path, writing):
    """No temporary file can be made beside an output in a folder gone: a WriteError naming the folder."""
    from mrs.model_core.errors import WriteError

    with pytest.raises(WriteError) as refused, writing(str(tmp_path / "gone" / "m.safetensors")):
        pass
    assert str(refused.value) == (
        f"Could not write {tmp_path / 'gone' / 'm.safetensors'}: its folder {tmp_path / 'gone'} is gone (moved or "
        "deleted during the run). Nothing was written; choose another folder, and run again.")


# ---- mrs_qgis_plugin/raster/gdal_io.py

@pytest.fixture
def pam_on():
    """GDAL's .aux.xml files on process-wide, as in QGIS, and the setting before put back after."""
    from osgeo import gdal

    previous = gdal.GetConfigOption("GDAL_PAM_ENABLED")
    gdal.SetConfigOption("GDAL_PAM_ENABLED", "YES")
    yield
    gdal.SetConfigOption("GDAL_PAM_ENABLED", previous)


def _statistics_written(path: str) -> bool:
    """Whether QGIS's reading of a layer (its statistics computed) writes an .aux.xml beside it."""
    from osgeo import gdal

    dataset = gdal.Open(path)
    dataset.GetRasterBand(1).ComputeStatistics(False)
    dataset = None
    return os.path.exists(path + ".aux.xml")


def test_a_layer_read_inside_the_block_after_the_pipeline_s_own_read_gets_no_aux_xml(tmp_path, pam_on):
    """The pipeline's read (PAM on) inside `inputs_left_untouched` puts the block's 'off' back, not the default."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import inputs_left_untouched, open_raster

    layer = write_raster(tmp_path / "hsi.tif", np.arange(12, dtype="float32").reshape(3, 4))
    with inputs_left_untouched():
        open_raster(write_raster(tmp_path / "other.tif", np.ones((2, 2), dtype="uint8")), "The layer 'other'")
        assert not _statistics_written(layer)
    assert _statistics_written(layer)  # outside it, as QGIS does


def test_a_process_that_only_runs_algorithms_writes_no_aux_xml_beside_its_layers(tmp_path, pam_on):
    """qgis_process running an MRS algorithm turns PAM off process-wide: a layer it loads gets no .aux.xml."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import leave_inputs_untouched_in_this_process

    layer = write_raster(tmp_path / "hsi.tif", np.arange(12, dtype="float32").reshape(3, 4))
    leave_inputs_untouched_in_this_process()
    assert not _statistics_written(layer)


@pytest.mark.parametrize("message, said", [
    ("  Cannot write x.tif: Input/output error\n", "Cannot write x.tif: Input/output error"),
    ("sqlite3_exec(CREATE TABLE t (\n a INT)) failed: database or disk is full", "database or disk is full"),
    ("sqlite3_prepare_v2(SELECT a FROM t) failed: no such table: t; sqlite3_exec(DROP TABLE u) failed: locked",
     "no such table: t; locked"),
], ids=["blanks", "statement-across-lines", "two-statements"])
def test_gdal_s_message_loses_only_the_sql_statements_quoted_before_each_cause(message, said):
    """`concise`: surrounding blanks go, a statement across lines goes, and each of two statements goes alone."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import concise

    assert concise(message) == said


def test_only_gdal_s_failures_are_recorded_each_without_its_sql_statement():
    """`failures_recorded` lists failures (not warnings) made concise, and none reaches standard error."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import failures_recorded

    with failures_recorded() as failures:
        gdal.Error(gdal.CE_Warning, 1, "TIFFReadDirectory: unknown field")
        gdal.Error(gdal.CE_Failure, 3, "sqlite3_exec(INSERT INTO t VALUES (1)) failed: database or disk is full")
    assert failures == ["database or disk is full"]


def test_gdal_and_ogr_exceptions_a_caller_turned_on_are_on_again_after_the_block():
    """`exceptions_off` turns both off inside, and puts back the exceptions a QGIS console had turned on."""
    from osgeo import gdal, ogr

    from mrs.mrs_qgis_plugin.raster.gdal_io import exceptions_off

    with gdal_exceptions(True):
        with exceptions_off():
            assert (gdal.GetUseExceptions(), ogr.GetUseExceptions()) == (0, 0)
        assert (gdal.GetUseExceptions(), ogr.GetUseExceptions()) == (1, 1)


def test_the_shapefile_encoding_qgis_set_is_put_back_after_the_plugin_s_own_reading():
    """`declared_encodings` clears SHAPE_ENCODING inside the block and puts QGIS's empty value back after it."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import declared_encodings

    previous = gdal.GetConfigOption("SHAPE_ENCODING")
    gdal.SetConfigOption("SHAPE_ENCODING", "")
    try:
        with declared_encodings():
            assert gdal.GetConfigOption("SHAPE_ENCODING") is None
        assert gdal.GetConfigOption("SHAPE_ENCODING") == ""
    finally:
        gdal.SetConfigOption("SHAPE_ENCODING", previous)


def _multi_page_tiff(path) -> str:
    """A TIFF of two pages, which GDAL opens as its first page's band and lists as two subdatasets."""
    from PIL import Image

    pages = [Image.fromarray(np.full((4, 5), value, dtype="uint8")) for value in (1, 2)]
    pages[0].save(str(path), save_all=True, append_images=pages[1:])
    return str(path)


def test_a_multi_page_tiff_is_a_raster_of_its_first_page_not_a_file_of_variables(tmp_path):
    """A file with bands of its own is no file of variables, though GDAL lists its pages as subdatasets."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import open_raster, variables_problem

    path = _multi_page_tiff(tmp_path / "pages.tif")
    assert variables_problem(path, "INPUT_HSI: 'pages'") is None
    assert open_raster(path, "The layer 'pages'").RasterCount == 1


def test_an_existing_file_whose_name_looks_like_a_subdataset_name_is_a_file(tmp_path, monkeypatch):
    """A file named 'ab:cd.tif' in the working folder is that file, not a GDAL subdataset name."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import subdataset_name_problem

    monkeypatch.chdir(tmp_path)
    write_raster(tmp_path / "ab:cd.tif", np.ones((2, 2), dtype="uint8"))
    assert subdataset_name_problem("ab:cd.tif", "INPUT_HSI: 'ab:cd.tif'") is None


def test_a_web_address_is_not_opened_to_look_for_a_subdataset(monkeypatch):
    """A web address ('https://...') is no subdataset name, and GDAL is not asked to open it (no network wait)."""
    from mrs.mrs_qgis_plugin.raster import gdal_io

    opened = []
    monkeypatch.setattr(gdal_io, "gdal_call", lambda *args: opened.append(args) or (None, ""))
    assert gdal_io.subdataset_name_problem("https://example.org/hsi.tif", "INPUT_HSI") is None and opened == []


def test_only_several_existing_files_joined_by_a_semicolon_are_said_to_be_joined(tmp_path):
    """One file, or a list naming a file that is not there, is no list of files; two existing ones are."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import joined_files_problem

    (tmp_path / "a.tif").write_text("a")
    assert joined_files_problem(str(tmp_path / "a.tif"), "INPUT_AUX") is None
    assert joined_files_problem(f"{tmp_path / 'a.tif'};{tmp_path / 'gone.tif'}", "INPUT_AUX") is None
    assert joined_files_problem(f"{tmp_path / 'a.tif'}; {tmp_path / 'a.tif'}", "INPUT_AUX: 'x'", "INPUT_AUX") == (
        "INPUT_AUX: 'x' names several files joined by ';'; give each as a value of its own (on the command line, "
        "repeat --INPUT_AUX=FILE; in Python, a list).")


def test_every_gdal_open_option_of_a_layer_s_source_is_named(tmp_path):
    """A source opening a file with two GDAL open options names both in its refusal."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import missing_file_problem

    path = write_raster(tmp_path / "hsi.tif", np.ones((2, 2), dtype="uint8"))
    assert missing_file_problem(f"{path}|option:NUM_THREADS=2|option:GEOREF_SOURCES=PAM", "INPUT_HSI") == (
        f"INPUT_HSI: its source {path}|option:NUM_THREADS=2|option:GEOREF_SOURCES=PAM opens {path} with GDAL open "
        "options (NUM_THREADS=2, GEOREF_SOURCES=PAM), which the MRS algorithms cannot pass on. Choose the file itself, "
        "or save the layer as a GeoTIFF (Export > Save As...) and choose that.")


def test_a_path_with_spaces_around_it_of_no_file_at_all_is_said_not_to_exist(tmp_path):
    """Spaces around a path are only pointed out where the path without them is a file."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import missing_file_problem

    path = f"{tmp_path / 'gone.tif'} "
    assert missing_file_problem(path, "INPUT_HSI") == (
        f"INPUT_HSI: the file '{path}' does not exist. Check the path, or choose it again.")


def _geopackage(path, raster: bool, points: bool) -> str:
    """A GeoPackage of a raster table, a layer of points, or both."""
    from osgeo import gdal, ogr

    if raster:
        gdal.Translate(str(path), write_raster(str(path) + ".tif", np.ones((2, 2), dtype="uint8")), format="GPKG")
    if points:
        source = ogr.Open(str(path), 1) if raster else ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
        source.CreateLayer("points", None, ogr.wkbPoint)
        source = None
    return str(path)


@pytest.mark.parametrize("raster, points, kind", [(True, False, "raster"), (False, True, "vector"),
                                                  (True, True, None)], ids=["raster", "points", "both"])
def test_a_geopackage_is_a_raster_or_vector_file_by_what_it_holds(tmp_path, raster, points, kind):
    """`file_kind`: a GeoPackage of a raster table only is a raster, of points only a vector, of both neither."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import file_kind

    assert file_kind(_geopackage(tmp_path / "layers.gpkg", raster, points)) == kind


def test_a_gdal_virtual_path_is_left_to_gdal_not_said_to_be_missing():
    """A /vsizip/ path names no file of the file system: `missing_file_problem` leaves it to GDAL to open."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import missing_file_problem

    assert missing_file_problem("/vsizip//nowhere/scene.zip/hsi.tif", "INPUT_HSI") is None


def _vrt(path, sources, relative=True) -> str:
    """A one-band VRT of 2 x 2 pixels reading each of `sources` (names as written in it)."""
    items = "".join(f'<SimpleSource><SourceFilename relativeToVRT="{int(relative)}">{name}</SourceFilename>'
                    '<SourceBand>1</SourceBand></SimpleSource>' for name in sources)
    path.write_text(f'<VRTDataset rasterXSize="2" rasterYSize="2"><VRTRasterBand dataType="Byte" band="1">{items}'
                    '</VRTRasterBand></VRTDataset>')
    return str(path)


def test_a_source_missing_from_a_vrt_a_vrt_reads_is_named(tmp_path):
    """The missing source of a VRT that another VRT reads is found and named when the outer one is opened."""
    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin.raster.gdal_io import open_raster

    _vrt(tmp_path / "inner.vrt", ["tile.tif"])
    outer = _vrt(tmp_path / "outer.vrt", ["inner.vrt"])
    with pytest.raises(InputError) as refused:
        open_raster(outer, "The layer 'outer'")
    assert str(refused.value) == (
        f"The layer 'outer' is a virtual raster (VRT) whose source file {tmp_path / 'tile.tif'} does not exist, so its "
        "pixels cannot be read. Put the files back where the VRT names them, or build the virtual raster again from "
        "the files there are.")


def test_a_vrt_source_named_relative_to_the_working_folder_is_looked_for_there(tmp_path, monkeypatch):
    """A source with relativeToVRT="0" and a relative name is where GDAL reads it: from the working folder."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import missing_vrt_sources

    (tmp_path / "work").mkdir()
    (tmp_path / "vrts").mkdir()
    write_raster(tmp_path / "work" / "tile.tif", np.ones((2, 2), dtype="uint8"))
    monkeypatch.chdir(tmp_path / "work")
    assert missing_vrt_sources(_vrt(tmp_path / "vrts" / "mosaic.vrt", ["tile.tif"], relative=False)) == []
    assert missing_vrt_sources(_vrt(tmp_path / "vrts" / "mosaic.vrt", ["tile.tif"])) == [
        str(tmp_path / "vrts" / "tile.tif")]


@pytest.mark.parametrize("built", [True, False], ids=["gdalbuildvrt", "by-hand"])
def test_a_vrt_whose_statistics_and_histogram_qgis_computed_is_the_same_vrt(tmp_path, built):
    """What GDAL writes into a VRT when QGIS asks for statistics and a histogram (statistics, histograms, sources'
    properties, block sizes, layout) leaves its stamp as it was."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import file_stamps, gdal_pam, stamp_now

    tile = write_raster(tmp_path / "tile.tif", np.arange(4, dtype="uint8").reshape(2, 2))
    vrt = str(tmp_path / "mosaic.vrt")
    if built:
        gdal.BuildVRT(vrt, [tile]).FlushCache()
    else:
        (tmp_path / "mosaic.vrt").write_text(open(_vrt(tmp_path / "mosaic.vrt", ["tile.tif"])).read().replace(
            "><", ">\n  <"))
    before = file_stamps(vrt)
    with gdal_pam("YES"):
        dataset = gdal.Open(vrt)
        band = dataset.GetRasterBand(1)
        band.ComputeStatistics(False)
        band.GetHistogram(approx_ok=0)
        band.SetMetadataItem("STATISTICS_VALID_PERCENT", "100")
        dataset = band = None
    assert "Histograms" in open(vrt).read()  # GDAL did rewrite it
    assert stamp_now(vrt, before[vrt]) == before[vrt] and before[vrt][0] == "VRT"


def test_a_vrt_read_through_another_vrt_keeps_its_stamp_when_qgis_computes_its_statistics(tmp_path):
    """A source VRT of a VRT is stamped by what it says: statistics GDAL writes into it change no stamp."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import file_stamps, gdal_pam, stamp_now

    write_raster(tmp_path / "tile.tif", np.arange(4, dtype="uint8").reshape(2, 2))
    inner = _vrt(tmp_path / "inner.vrt", ["tile.tif"])
    before = file_stamps(_vrt(tmp_path / "outer.vrt", ["inner.vrt"]))
    with gdal_pam("YES"):
        dataset = gdal.Open(inner)
        dataset.GetRasterBand(1).ComputeStatistics(False)
        dataset = None
    assert "STATISTICS_MEAN" in open(inner).read()
    assert sorted(before) == sorted([str(tmp_path / name) for name in ("outer.vrt", "inner.vrt", "tile.tif")])
    assert stamp_now(inner, before[inner]) == before[inner]


def test_a_vrt_removed_since_it_was_stamped_is_said_to_be_gone(tmp_path):
    """`stamp_now` of a VRT: None once the file is gone (not a VRT that cannot be read)."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import file_stamps, stamp_now

    write_raster(tmp_path / "tile.tif", np.ones((2, 2), dtype="uint8"))
    vrt = _vrt(tmp_path / "mosaic.vrt", ["tile.tif"])
    stamp = file_stamps(vrt)[vrt]
    os.remove(vrt)
    assert stamp[0] == "VRT" and stamp_now(vrt, stamp) is None


def _band(path):
    """Band 1 of `path` opened afresh as the pipeline opens it (PAM on: the .aux.xml read)."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import gdal_pam

    with gdal_pam("YES"):
        dataset = gdal.Open(str(path))
        return dataset, dataset.GetRasterBand(1)


def test_a_geotiff_s_category_names_are_read_from_its_aux_xml_and_blank_ones_name_no_class(tmp_path):
    """GDAL 3.6 answers None when category names are asked of a GeoTIFF first; blank names name no class."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import category_names, class_names, gdal_pam

    with gdal_pam("YES"):
        path = write_raster(tmp_path / "map.tif", np.zeros((2, 2), dtype="uint8"), category_names=["", " ", "Water"])
    _dataset, band = _band(path)
    assert category_names(band) == ["", "", "Water"]
    assert class_names(band) == {2: "Water"}


@pytest.mark.parametrize("written, names, colors", [
    ('[[1, "  ", "#000000"], [2, " Water ", "#0000ff"]]', {2: "Water"}, {1: "#000000", 2: "#0000ff"}),
    ("[1, 2]", {}, {}),  # edited by hand: no triples
], ids=["blank-name", "not-triples"])
def test_the_classes_a_map_keeps_in_its_file_name_and_colour_them(tmp_path, written, names, colors):
    """`written_classes`: a blank name names no class but keeps its colour; a list of no triples is none."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import CLASS_TABLE_ITEM, class_colors, class_names

    path = write_raster(tmp_path / "map.tif", np.zeros((2, 2), dtype="uint8"),
                        band_metadata=[{CLASS_TABLE_ITEM: written}])
    _dataset, band = _band(path)
    assert (class_names(band), class_colors(band)) == (names, colors)


def _rat(kind, usage=None):
    from osgeo import gdal

    return getattr(gdal, f"GFT_{kind}"), getattr(gdal, f"GFU_{usage or 'Generic'}")


@pytest.mark.parametrize("columns, rows, binning, names", [
    ([("Value", *_rat("Integer")), ("Landcover", *_rat("String"))], [(1, "Water"), (2, "Forest")], None,
     {1: "Water", 2: "Forest"}),  # the first text column, whatever its name
    ([("Value", *_rat("Integer")), ("Label", *_rat("String")), ("Desc", *_rat("String", "Name"))],
     [(1, "W", "Water"), (2, "F", "Forest")], None, {1: "Water", 2: "Forest"}),  # the column marked as the names
    ([("From", *_rat("Integer", "Min")), ("To", *_rat("Integer", "Max")), ("Desc", *_rat("String", "Name"))],
     [(5, 5, "Water"), (9, 9, "Forest")], None, {5: "Water", 9: "Forest"}),  # a value by its usage 'minimum'
    ([("CODE", *_rat("String")), ("Name", *_rat("String"))], [("C1", "Water"), ("C2", "Forest")], None,
     {0: "Water", 1: "Forest"}),  # a code of text is no value: row numbers
    ([("Name", *_rat("String"))], [("Water",), ("Forest",), ("Urban",)], (0.5, 1.0),
     {1: "Water", 2: "Forest", 3: "Urban"}),  # bins from 0.5: the whole number inside each, not the row
], ids=["first-text-column", "usage-name", "usage-min", "code-of-text", "binning"])
def test_an_attribute_table_s_names_are_keyed_by_its_value_column_or_rows(tmp_path, columns, rows, binning, names):
    """`class_names` of an attribute table: which column names the classes, and which value each row is."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import class_names

    path = _table_map(tmp_path / "map.tif", columns, rows)
    if binning:
        dataset = gdal.Open(path, gdal.GA_Update)
        table = dataset.GetRasterBand(1).GetDefaultRAT().Clone()
        table.SetLinearBinning(*binning)
        dataset.GetRasterBand(1).SetDefaultRAT(table)
        dataset = table = None
    _dataset, band = _band(path)
    assert class_names(band) == names


def test_an_alpha_band_that_is_the_bands_mask_is_selected_once_as_itself(tmp_path):
    """Bands whose mask is the alpha band: the alpha band ('4') alone hides pixels, not also each band's mask."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import data_bands, hiding_selectors

    path = write_raster(tmp_path / "rgba.tif", np.ones((4, 2, 2), dtype="uint8"))
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    dataset = gdal.Open(path)
    assert data_bands(dataset) == [1, 2, 3] and hiding_selectors(dataset, [1, 2, 3]) == ["4"]


def test_signed_bytes_two_virtual_rasters_down_are_found(tmp_path):
    """A VRT that names only another VRT (gdalbuildvrt of a VRT) hides signed bytes: the file under both is found."""
    from osgeo import gdal
    from test_raster_sources import _signed_bytes

    from mrs.mrs_qgis_plugin.raster.gdal_io import signed_byte_source

    dsm = _signed_bytes(tmp_path / "dsm.tif", np.arange(-10, 10).reshape(4, 5))
    gdal.BuildVRT(str(tmp_path / "inner.vrt"), [dsm]).FlushCache()
    gdal.BuildVRT(str(tmp_path / "outer.vrt"), [str(tmp_path / "inner.vrt")]).FlushCache()
    assert gdal.Open(str(tmp_path / "outer.vrt")).GetFileList()[1:] == [str(tmp_path / "inner.vrt")]
    assert signed_byte_source(gdal.Open(str(tmp_path / "outer.vrt"))) == dsm


def test_a_quiet_gdal_call_gives_its_result_and_gdal_s_last_message_made_concise():
    """`gdal_call`: the function's result, and the failure it reported without the quoted SQL statement."""
    from osgeo import gdal

    from mrs.mrs_qgis_plugin.raster.gdal_io import gdal_call

    def failing():
        gdal.Error(gdal.CE_Failure, 1, "sqlite3_exec(INSERT INTO t VALUES (1)) failed: database or disk is full")
        return "result"

    assert gdal_call(failing) == ("result", "database or disk is full")


@pytest.mark.skipif(os.name == "nt", reason="on Windows a file that cannot be removed is open in a live run")
def test_a_stale_leftover_another_user_left_in_a_sticky_folder_is_not_said_to_be_a_live_run(tmp_path, monkeypatch):
    """In a sticky shared folder (1777) a killed run of another user left `.map.tif.<8>.partial`, which this
    user may not remove (EPERM). It was reported as a live run's, so every run on map.tif was refused 'is being
    written by another run now; wait until it has ended' for ever, though no run was live (a helper's audit)."""
    handle, leftover = atomic.make_temporary(str(tmp_path / "map.tif"))
    os.close(handle)  # no process holds it: a killed run's
    real = os.unlink

    def not_ours(path, *rest):
        if path == leftover:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), path)
        real(path, *rest)

    monkeypatch.setattr(atomic.os, "unlink", not_ours)
    assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif")) == []
