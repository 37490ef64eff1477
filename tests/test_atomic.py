"""The sentence of a failed write: what it says of an earlier file, and what to do."""

import errno
import os

import pytest

from mrs.model_core import atomic
from mrs.model_core.atomic import says_too_large, write_error
from mrs.model_core.errors import WriteError


def test_a_failed_write_says_whether_an_earlier_file_was_kept_and_what_to_do(tmp_path):
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(write_error(str(tmp_path / "new.tif"), full)) == (
        f"Could not write {tmp_path / 'new.tif'}: the disk is full. Nothing was written; free some space or "
        "choose another folder, and run again.")
    (tmp_path / "old.tif").write_bytes(b"map")
    denied = OSError(errno.EACCES, os.strerror(errno.EACCES))
    assert str(write_error(str(tmp_path / "old.tif"), denied)) == (
        f"Could not write {tmp_path / 'old.tif'}: Permission denied. Nothing was replaced (an earlier old.tif is "
        "unchanged); choose another folder, and run again.")


def test_a_folder_gone_during_a_run_is_said_to_be_gone(tmp_path):
    """Red team of 2026-12-05: an output folder deleted or moved during a training was said as 'No such
    file or directory' at its end."""
    gone = OSError(errno.ENOENT, os.strerror(errno.ENOENT))
    assert str(write_error(str(tmp_path / "moved" / "m.safetensors"), gone)) == (
        f"Could not write {tmp_path / 'moved' / 'm.safetensors'}: its folder {tmp_path / 'moved'} is gone (moved or "
        "deleted during the run). Nothing was written; choose another folder, and run again.")


def test_a_file_larger_than_the_process_may_write_is_not_called_a_full_disk(tmp_path):
    """Red team of 2026-12-04: under `ulimit -f`, 'the disk is full' with 75 GB free."""
    too_large = OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    assert str(write_error(str(tmp_path / "model.safetensors"), too_large)) == (
        f"Could not write {tmp_path / 'model.safetensors'}: the file would be larger than this process may write (a "
        "file-size limit such as ulimit -f, or the file system's largest file). Nothing was written; raise the limit "
        "or choose another folder, and run again.")


def test_a_process_out_of_open_files_is_told_to_raise_its_limit(tmp_path):
    """A helper's red team of 2026-12-07: under ulimit -n, 'Too many open files' came with advice on folders, from
    Python's writes and GDAL's alike."""
    from mrs.mrs_qgis_plugin.raster.writers import _gdal_errors

    said = (f"Could not write {tmp_path / 'map.tif'}: this process has as many files open as it may (a limit such as "
            "ulimit -n). Nothing was written; raise the limit of open files (ulimit -n 1024, say), and run again.")
    assert str(write_error(str(tmp_path / "map.tif"), OSError(errno.EMFILE, os.strerror(errno.EMFILE)))) == said
    with pytest.raises(WriteError) as refused, _gdal_errors("OUTPUT", str(tmp_path / "map.tif")):
        raise RuntimeError(f"Attempt to create new tiff file `{tmp_path / 'map.tif'}' failed: Too many open files")
    assert str(refused.value) == said


def test_a_disk_out_of_file_entries_is_not_said_to_be_full(tmp_path, monkeypatch):
    """A helper's red team of 2026-12-07: a file system out of inodes (or a quota of files, common on shared
    servers) was said to be full with 20 MB free."""
    real = os.statvfs(tmp_path)
    entries = os.statvfs_result((*real[:6], 0, 0, *real[8:10]))  # f_ffree and f_favail: no file entry left
    monkeypatch.setattr(atomic.os, "statvfs", lambda path: entries)
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(write_error(str(tmp_path / "map.tif"), full)) == (
        f"Could not write {tmp_path / 'map.tif'}: the disk has no file entries left (inodes, or a quota of files), "
        "though it may have space. Nothing was written; delete some files or choose another folder, and run again.")


def _files(folder) -> dict:
    """The outputs in the folder (temporary files, named with a leading dot, aside)."""
    return {path.name: path.read_text() for path in sorted(folder.iterdir())
            if path.is_file() and not path.name.startswith(".")}


def test_files_replaced_together_are_all_replaced_or_none(tmp_path, monkeypatch):
    """A map published while its confidence's style could not be replaced kept the new map beside
    the old style, and lost its old side files (red team of 2026-12-04)."""
    import pytest

    from mrs.model_core import atomic

    for name in ("map.tif", "map.qml", "map.tif.ovr"):
        (tmp_path / name).write_text(f"old {name}")
    new = {}
    for name in ("map.tif", "map.qml", "conf.tif"):
        new[name] = tmp_path / f".{name}.new"
        new[name].write_text(f"new {name}")
    moves = [(str(new["map.tif"]), str(tmp_path / "map.tif")), (str(new["map.qml"]), str(tmp_path / "map.qml")),
             (None, str(tmp_path / "map.tif.ovr")), (str(new["conf.tif"]), str(tmp_path / "conf.tif"))]
    before = _files(tmp_path)
    real = os.replace

    def failing(source, target):
        if str(target).endswith("conf.tif"):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        real(source, target)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(atomic.ReplaceError) as failed:
        atomic.replace_together(moves)
    assert failed.value.path == str(tmp_path / "conf.tif")
    assert _files(tmp_path) == before and not list(tmp_path.glob("*.partial.old"))
    monkeypatch.setattr(atomic.os, "replace", real)
    (tmp_path / "conf.tif").mkdir()  # a folder cannot be moved aside onto a file: found before anything moves
    with pytest.raises(atomic.ReplaceError):
        atomic.replace_together(moves)
    assert _files(tmp_path) == before
    (tmp_path / "conf.tif").rmdir()
    for name in ("map.tif", "map.qml"):  # the failed attempt removed what it had put in place
        new[name].write_text(f"new {name}")
    atomic.replace_together(moves)
    assert _files(tmp_path) == {"conf.tif": "new conf.tif", "map.qml": "new map.qml", "map.tif": "new map.tif"}


def test_reports_written_together_are_all_new_or_all_old(tmp_path):
    """A new HTML report stood beside an old JSON one, and the run said nothing was replaced."""
    import pytest

    from mrs.mrs_qgis_plugin.reports import write_together

    for name in ("r.html", "r.json"):
        (tmp_path / name).write_text(f"old {name}")

    def fails(_temporary):
        raise OSError(errno.ENOSPC, "No space left on device", _temporary)

    with pytest.raises(Exception, match=r"^Could not write .*r\.json: the disk is full\. Nothing was replaced"):
        write_together([(str(tmp_path / "r.html"), lambda path: open(path, "w").write("new")),
                        (str(tmp_path / "r.json"), fails)])
    assert _files(tmp_path) == {"r.html": "old r.html", "r.json": "old r.json"}

    def fails_unnamed(_temporary):  # as a write or close does (a helper's review of 2026-12-06: the HTML was named)
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(Exception, match=r"^Could not write .*r\.csv: the disk is full\. Nothing was written"):
        write_together([(str(tmp_path / "r.html"), lambda path: open(path, "w").write("new")),
                        (str(tmp_path / "r.csv"), fails_unnamed)])


def test_a_run_whose_output_folder_was_moved_leaves_no_file_of_its_own_there(tmp_path):
    """A helper's red team of 2026-12-06: OUTPUT's folder moved during a pretraining; the run said
    'Nothing was written' and left its two hidden files in the moved folder."""
    import pytest

    from mrs.model_core.atomic import atomic_output, held

    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(WriteError, match=r"is gone \(moved or deleted during the run\)\. Nothing was written"):
        with held(str(folder / "model.safetensors")), atomic_output(str(folder / "model.safetensors")) as temporary:
            os.rename(folder, tmp_path / "moved")
            open(temporary, "wb").write(b"weights")  # the folder is gone from where it was
    assert os.listdir(tmp_path / "moved") == []


def test_a_run_refused_as_another_s_output_being_written_leaves_that_run_s_data_file(tmp_path):
    """A helper's mutation audit of 2026-12-06: a second run on a model file being written deleted the
    live run's '.model.safetensors.x.partial.safetensors' (only the '.partial' that marks the output was
    taken for live), and the live run failed at its end, its training lost."""
    from mrs.model_core.atomic import atomic_output, held, remove_stale_temporaries

    output = str(tmp_path / "model.safetensors")
    with held(output) as mark, atomic_output(output, ".safetensors") as temporary:
        open(temporary, "wb").write(b"weights")
        assert sorted(remove_stale_temporaries(output)) == sorted([mark, temporary])  # what claim_outputs refuses on
        assert os.path.isfile(temporary)
    assert open(output, "rb").read() == b"weights" and os.listdir(tmp_path) == ["model.safetensors"]


def test_a_run_s_own_temporary_files_and_sqlite_s_are_not_opened_to_look_for_a_lock(tmp_path, monkeypatch):
    """A review of 2026-12-06: once every leftover was looked at for a lock, a second run in the same
    process opened and closed the first's GeoPackage being written, which drops the POSIX locks SQLite
    holds on it; this process's own temporary files are live without a look, SQLite's side files never
    locked so."""
    from mrs.model_core.atomic import atomic_output, held, remove_stale_temporaries

    output = str(tmp_path / "points.gpkg")
    with held(output) as mark, atomic_output(output, ".gpkg") as temporary:
        open(temporary + "-journal", "wb").close()
        opened = []
        real_open = os.open
        monkeypatch.setattr(os, "open", lambda path, *rest: opened.append(path) or real_open(path, *rest))
        live = remove_stale_temporaries(output)
        monkeypatch.undo()
        assert sorted(live) == sorted([mark, temporary]) and opened == []
        assert os.path.isfile(temporary + "-journal")  # kept beside its live GeoPackage
        os.remove(temporary + "-journal")


def test_an_output_moved_aside_by_a_killed_run_comes_back(tmp_path):
    """A run killed between moving the earlier output aside and putting its own in place left the
    only copy under a temporary name, which the next run deleted (red team of 2026-12-04)."""
    from mrs.model_core.atomic import make_temporary, remove_stale_temporaries

    output = tmp_path / "map.tif"
    handle, aside = make_temporary(str(output), ".old")
    os.close(handle)
    with open(aside, "w") as stream:
        stream.write("earlier map")
    assert remove_stale_temporaries(str(output)) == []
    assert _files(tmp_path) == {"map.tif": "earlier map"} and os.listdir(tmp_path) == ["map.tif"]
    handle, aside = make_temporary(str(output), ".old")  # one left beside an output in place is stale
    os.close(handle)
    remove_stale_temporaries(str(output))
    assert os.listdir(tmp_path) == ["map.tif"]
    live, partial = make_temporary(str(output))  # a live run's own is kept
    handle, aside = make_temporary(str(output), ".old")
    os.close(handle)
    os.unlink(output)
    try:
        assert remove_stale_temporaries(str(output)) == [partial] and os.path.exists(aside)
    finally:
        os.close(live)


def test_sqlite_s_side_files_of_a_killed_run_s_geopackage_are_removed_too(tmp_path):
    """A killed mrs:suggest left its temporary GeoPackage's -journal, which no later run removed (a
    helper's red team of 2026-12-05)."""
    from mrs.model_core.atomic import make_temporary, remove_stale_temporaries

    output = tmp_path / "next.gpkg"
    handle, partial = make_temporary(str(output), ".gpkg")
    os.close(handle)
    for end in ("-journal", "-wal", "-shm"):
        open(partial + end, "w").close()
    (tmp_path / "next.gpkg-journal").write_text("not ours")
    assert remove_stale_temporaries(str(output)) == []
    assert os.listdir(tmp_path) == ["next.gpkg-journal"]


def test_a_second_ctrl_c_while_files_are_put_in_place_brings_the_earlier_ones_back(tmp_path, monkeypatch):
    """It came between moving the earlier checkpoint aside and putting the new one in place: the
    run said it wrote no new checkpoint, and the earlier one was gone from its name (red team of
    2026-12-04)."""
    import pytest

    from mrs.model_core import atomic

    (tmp_path / "m.checkpoint.safetensors").write_text("earlier")
    new = tmp_path / ".new"
    new.write_text("new")

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "publish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.replace_together([(str(new), str(tmp_path / "m.checkpoint.safetensors"))])
    assert _files(tmp_path) == {"m.checkpoint.safetensors": "earlier"}


@pytest.mark.parametrize("interrupted_at", range(1, 6))
def test_a_second_ctrl_c_just_after_a_file_is_moved_or_put_in_place_is_undone_too(tmp_path, monkeypatch,
                                                                                   interrupted_at):
    """Red team of 2026-12-05: a Ctrl-C just after a rename, before the rename was noted, left that
    file hidden under its temporary name, where the run said it wrote no output."""
    from mrs.model_core import atomic

    for name in ("map.tif", "conf.tif"):
        (tmp_path / name).write_text(f"old {name}")
    moves = []
    for name in ("map.tif", "map.qml", "conf.tif"):
        (tmp_path / f".{name}.new").write_text(f"new {name}")
        moves.append((str(tmp_path / f".{name}.new"), str(tmp_path / name)))
    before = _files(tmp_path)
    real, renames = os.replace, []

    def interrupting(source, target):
        real(source, target)
        renames.append(target)
        if len(renames) == interrupted_at:
            raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupting)
    with pytest.raises(KeyboardInterrupt):
        atomic.replace_together(moves)
    assert _files(tmp_path) == before and not list(tmp_path.glob("*.partial.old"))


def test_an_earlier_file_comes_back_over_a_new_one_that_could_not_be_removed(tmp_path, monkeypatch):
    """Review of 2026-12-05: a new map that could not be removed on rollback (held open, as on
    Windows) made the rollback take its place for one never moved, and the earlier map was lost."""
    from mrs.model_core import atomic

    for name in ("map.tif", "conf.tif"):
        (tmp_path / name).write_text(f"old {name}")
    moves = []
    for name in ("map.tif", "conf.tif"):
        (tmp_path / f".{name}.new").write_text(f"new {name}")
        moves.append((str(tmp_path / f".{name}.new"), str(tmp_path / name)))
    real_replace, real_unlink = os.replace, os.unlink

    def replace(source, target):
        if str(source).endswith(".conf.tif.new"):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        real_replace(source, target)

    def unlink(path):
        if str(path) == str(tmp_path / "map.tif"):
            raise PermissionError(errno.EACCES, "Permission denied")
        real_unlink(path)

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(atomic.os, "unlink", unlink)
    with pytest.raises(atomic.ReplaceError):
        atomic.replace_together(moves)
    assert _files(tmp_path) == {"conf.tif": "old conf.tif", "map.tif": "old map.tif"}


def test_an_input_a_killed_run_left_aside_is_found_again_when_read(tmp_path):
    """RESUME and PRETRAINED 'did not exist' after a run was killed while publishing: the earlier
    file sat under a temporary name until a run wrote that name again (red team of 2026-12-04)."""
    from mrs.model_core.atomic import make_temporary
    from mrs.model_core.paths import not_a_readable_file

    model = tmp_path / "pretrained.safetensors"
    handle, aside = make_temporary(str(model), ".old")
    os.close(handle)
    with open(aside, "w") as stream:
        stream.write("earlier model")
    assert not_a_readable_file(str(model)) is None
    assert _files(tmp_path) == {"pretrained.safetensors": "earlier model"}
    assert not_a_readable_file(str(tmp_path / "other.safetensors")) == "does not exist"


def test_temporary_files_that_cannot_be_removed_leave_the_run_s_own_error_as_it_is(tmp_path, monkeypatch):
    """Red team of 2026-12-05: an output folder made read-only during a run could not have its
    temporary files removed, and that PermissionError's traceback replaced the sentence that said
    the output could not be written."""
    from mrs.model_core.atomic import held
    from mrs.mrs_qgis_plugin.raster import writers

    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), path)

    raised = RuntimeError("the run's own error")
    with pytest.raises(RuntimeError) as seen:
        with held(str(tmp_path / "model.safetensors")):
            monkeypatch.setattr(os, "unlink", refuse)
            raise raised
    assert seen.value is raised
    monkeypatch.undo()
    monkeypatch.setattr(os, "remove", refuse)
    writers._remove(str(tmp_path / "left.tif"))  # said nothing, raised nothing


_KILLED_AT = """
import os, sys
sys.path[:0] = [sys.argv[1]]
from mrs.model_core import atomic
folder, stop, stale = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "stale"
real, count = {"replace": os.replace, "unlink": os.unlink}, [0]
def killing(name):
    def step(*args):
        count[0] += 1
        if count[0] == stop:
            os._exit(9)  # as a SIGKILL: no clean-up runs
        real[name](*args)
    return step
moves = []
for name in ("map.tif", "map.qml", "conf.tif"):
    new = os.path.join(folder, "." + name + ".new")
    open(new, "w").write("new " + name)
    moves.append((new, os.path.join(folder, name)))
if stale:
    moves.append((None, os.path.join(folder, "map.tif.ovr")))  # a side file the new map has none of
atomic.os.replace, atomic.os.unlink = killing("replace"), killing("unlink")
atomic.replace_together(moves)
"""


SETS = {"all": {"map.tif": "old map.tif", "map.qml": "old map.qml", "conf.tif": "old conf.tif"},
        "no confidence": {"map.tif": "old map.tif", "map.qml": "old map.qml"},
        "an empty style": {"map.tif": "old map.tif", "map.qml": "", "conf.tif": "old conf.tif"},
        "a stale side file": {"map.tif": "old map.tif", "map.qml": "old map.qml", "map.tif.ovr": "old overviews"}}


def _remounted(folder) -> None:
    """The journals of a killed run as a file system mounted again sees them: other file numbers, here numbers no
    file has (one more than its own was at times another file's: a flaky failure under load, helper of 2026-12-07)."""
    import json

    for journal in folder.glob("*.partial.set"):
        record = json.loads(journal.read_text())
        for move in record["moves"]:
            if move["file"]:
                move["file"][1] = -move["file"][1] - 1
        journal.write_text(json.dumps(record))


@pytest.mark.parametrize("earlier, after_the_kill", [(name, None) for name in SETS]
                         + [("all", "remounted"), ("all", "moved")])
def test_a_set_a_killed_run_was_putting_in_place_comes_back_whole(tmp_path, earlier, after_the_kill):
    """A run killed after it put a new map in place and before its style left the old style aside;
    the next run brought that style back beside the new map (a helper's red team of 2026-12-05: QGIS
    showed each class under another's name). The set comes back whole: all old files, or all new,
    whatever step the kill comes at (an empty earlier file, a stale side file: a review of 2026-12-05)."""
    import shutil
    import subprocess
    import sys

    import mrs
    from mrs.model_core.atomic import remove_stale_temporaries

    importable = os.path.dirname(os.path.dirname(mrs.__file__ if mrs.__file__ else list(mrs.__path__)[0]))
    new = {name: f"new {name}" for name in ("conf.tif", "map.qml", "map.tif")}
    outcomes = set()
    for stop in range(1, 40):
        folder = tmp_path / str(stop)
        folder.mkdir()
        for name, text in SETS[earlier].items():
            (folder / name).write_text(text)
        killed = subprocess.run([sys.executable, "-c", _KILLED_AT, importable, str(folder), str(stop),
                                 "stale" if "map.tif.ovr" in SETS[earlier] else "-"])
        if after_the_kill == "remounted":  # its earlier files were deleted as names never moved to (a review)
            _remounted(folder)
        elif after_the_kill == "moved":  # the journals were taken for another folder's (a review of 2026-12-05)
            folder = folder.rename(tmp_path / f"moved{stop}")
        remove_stale_temporaries(str(folder / "map.tif"))  # a next run without the confidence raster: all go
        files = {path.name: path.read_text() for path in folder.iterdir() if not path.name.endswith(".new")}
        assert files in (SETS[earlier], new), (stop, files)
        outcomes.add("old" if files == SETS[earlier] else "new")
        shutil.rmtree(folder)
        if killed.returncode == 0:  # the run got through: every step was killed at once
            break
    assert killed.returncode == 0 and outcomes == {"old", "new"}


def test_a_journal_the_plugin_did_not_write_there_removes_nothing_else(tmp_path):
    """A review of 2026-12-05: a journal put in an output folder named files elsewhere, which the next
    run deleted."""
    import json

    from mrs.model_core.atomic import remove_stale_temporaries

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.tif").write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    journal = folder / ".map.tif.abcdefgh.partial.set"
    journal.write_text(json.dumps({"journals": [str(journal), str(elsewhere / ".x.abcdefgh.partial.set")],
                                   "moves": [{"path": str(folder / "map.tif"), "aside": None, "file": None},
                                             {"path": str(elsewhere / "precious.tif"), "aside": None,
                                              "file": None}]}))
    (elsewhere / ".x.abcdefgh.partial.set").write_text("")
    remove_stale_temporaries(str(folder / "map.tif"))
    assert (elsewhere / "precious.tif").read_text() == "keep" and os.listdir(folder) == []
    # names relative to the journal, and a journal named for the other file that is not there (a review)
    (elsewhere / "thesis.docx").write_text("keep too")
    journal.write_text(json.dumps({"journals": [journal.name, "../elsewhere/.thesis.docx.abcdefgh.partial.set"],
                                   "moves": [{"path": "map.tif", "aside": None, "file": None},
                                             {"path": "../elsewhere/thesis.docx", "aside": None, "file": None}]}))
    remove_stale_temporaries(str(folder / "map.tif"))
    assert (elsewhere / "thesis.docx").read_text() == "keep too" and os.listdir(folder) == []


def test_journals_that_cannot_be_removed_end_no_run_in_recursion(tmp_path, monkeypatch):
    """A review of 2026-12-05: a set's cleanup went from one path to the other and back for ever
    where its journals could not be removed (open on Windows, a virus scanner)."""
    import subprocess
    import sys

    import mrs
    from mrs.model_core import atomic

    for name in ("map.tif", "map.qml", "conf.tif"):
        (tmp_path / name).write_text(f"old {name}")
    importable = os.path.dirname(os.path.dirname(mrs.__file__ if mrs.__file__ else list(mrs.__path__)[0]))
    subprocess.run([sys.executable, "-c", _KILLED_AT, importable, str(tmp_path), "5", "-"])
    real = os.unlink

    def held(path, *args, **kwargs):
        if str(path).endswith(".partial.set"):
            raise PermissionError(13, "Permission denied")
        real(path, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "unlink", held)
    atomic.remove_stale_temporaries(str(tmp_path / "map.tif"))
    assert _files(tmp_path) == {name: f"old {name}" for name in ("conf.tif", "map.qml", "map.tif")}


def test_a_path_another_run_moved_away_gets_no_empty_file_from_this_run(tmp_path, monkeypatch):
    """A review of 2026-12-05: a run whose move aside found the path gone (another run had moved it)
    put its own empty name there as it undid its moves."""
    from mrs.model_core import atomic

    (tmp_path / "map.tif").write_text("old map")
    (tmp_path / "map.tif.msk").write_text("old mask")
    new = tmp_path / ".map.tif.new"
    new.write_text("new map")
    real = os.replace

    def raced(source, target):
        if str(source).endswith("map.tif.msk"):
            os.unlink(source)  # the other run took it first
            raise FileNotFoundError(2, "No such file or directory")
        real(source, target)

    monkeypatch.setattr(atomic.os, "replace", raced)
    with pytest.raises(atomic.ReplaceError):
        atomic.replace_together([(str(new), str(tmp_path / "map.tif")), (None, str(tmp_path / "map.tif.msk"))])
    assert _files(tmp_path) == {"map.tif": "old map"}


def test_a_file_size_limit_is_told_in_english_and_in_the_words_of_the_locale_qgis_sets(monkeypatch):
    """A helper's red team of 2026-12-06: in German GDAL's '_tiffWriteProc:Die Datei ist zu groß' got the advice
    for a full disk."""
    monkeypatch.setattr(atomic.os, "strerror", lambda number: "Die Datei ist zu groß" if number == errno.EFBIG else "")
    assert says_too_large("_tiffWriteProc:Die Datei ist zu groß")
    assert says_too_large("_tiffWriteProc:File too large")
    assert not says_too_large("_tiffWriteProc:No space left on device")


def test_a_run_s_temporary_files_leave_no_descriptor_open(tmp_path):
    """A mutation audit of 2026-12-06: `remove_own` closes what it removes."""
    from mrs.model_core.atomic import atomic_output, held

    before = len(os.listdir("/proc/self/fd"))
    with held(str(tmp_path / "model.safetensors")), atomic_output(str(tmp_path / "model.safetensors")) as temporary:
        open(temporary, "wb").write(b"weights")
    assert len(os.listdir("/proc/self/fd")) == before and os.listdir(tmp_path) == ["model.safetensors"]
