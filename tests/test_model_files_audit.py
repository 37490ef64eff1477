"""Edges of saving and loading model files and checkpoints, of atomic writes and their cleanup, of path checks
and of the wording of messages that no test pinned, found by a mutation audit of 2026-12-06 (`model_core`'s
atomic, checkpoints, model_file, paths, names and errors): each test here failed on one change to them that the
suite let pass."""

import errno
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch

from model_core import atomic, model_file, paths
from model_core.checkpoints import Checkpointer, LoopState
from model_core.errors import ModelFileError, canceled_with_the_others
from model_core.names import Names, agreeing, byte_size, mismatch_outcome, plural, share_text
from model_core.paths import checkpoint_path_for, file_state, not_a_readable_file, output_path_of, why_gone

from conftest import ROOT
from test_model_file_edges import CHECKPOINT_SETTINGS, _model_and_optimizer
from test_training import DESCRIPTION


# ---- names


@pytest.mark.parametrize("pretrained, likely, said", [
    (True, False, "its pretraining will help the classifier less"),
    (True, True, "its pretraining may help the classifier less"),
    (False, False, "the map will be wrong"),
    (False, True, "the map may be worse")])
def test_what_layers_unlike_a_model_s_cost_is_said_as_certain_or_likely(pretrained, likely, said):
    assert mismatch_outcome(pretrained, likely) == said


@pytest.mark.parametrize("count, said", [(0, "0 bytes were"), (1, "1 byte was"), (2, "2 bytes were")])
def test_the_verb_agrees_with_its_count_none_is_plural(count, said):
    assert f"{plural(count, 'byte')} {agreeing(count, 'was', 'were')}" == said


@pytest.mark.parametrize("count, said", [
    (4_000, "4 KB"), (1_000_000, "1.0 MB"), (12_345_678, "12.3 MB"), (1_000_000_000, "1.0 GB"),
    (999_999, "1.0 MB"), (999_999_999, "1.0 GB"), (400, "400 bytes"), (1, "1 byte"), (1_499, "1 KB")])
def test_sizes_are_written_in_powers_of_1000(count, said):
    assert byte_size(count) == said


@pytest.mark.parametrize("share, decimals, said", [
    (0.0, 0, "0 %"), (1.0, 0, "100 %"), (0.004, 0, "<1 %"), (0.995, 0, ">99 %"), (0.372, 1, "37.2 %")])
def test_a_share_rounded_to_none_or_all_is_said_to_be_less_or_more(share, decimals, said):
    assert share_text(share, decimals) == said


# ---- errors


@pytest.mark.parametrize("own, said", [
    (True, "Canceled by the user."),
    (False, "Stopped as another process of this torchrun run was stopped (its message says why).")])
def test_a_process_stopped_with_the_others_says_whether_it_was_canceled_itself(own, said):
    canceled = canceled_with_the_others(own)
    assert (str(canceled), canceled.voted) == (said, True)


# ---- checkpoints


def _restored(path, saved, here):
    """What restoring a checkpoint that a Checkpointer of `saved` (its arguments changed from a pretraining's) wrote
    says to one of `here`: 'resumed', or the refusal's words less its frame."""
    def checkpointer(target, changes):
        arguments = {"phase": "pretraining", "settings": CHECKPOINT_SETTINGS, "fingerprint": "fingerprint",
                     "description": DESCRIPTION, **changes}
        return Checkpointer(target, arguments.pop("phase"), arguments.pop("settings"), arguments.pop("fingerprint"),
                            arguments.pop("description"), names=Names(resume="RESUME"), **arguments)

    checkpointer(path, saved).save(*_model_and_optimizer(), LoopState(), None, None)
    try:
        checkpointer(None, here).restore(path, *_model_and_optimizer())
    except ModelFileError as error:
        said = str(error)
        frame = f"RESUME: the checkpoint '{path}' does not continue this run: "
        assert said.startswith(frame) and said.endswith(". Resume with the same layers and settings, or start "
                                                         "without RESUME.")
        return said[len(frame):-len(". Resume with the same layers and settings, or start without RESUME.")]
    return "resumed"


ON_CPU = {"device": "cpu", "precision": "fp32"}


@pytest.mark.parametrize("saved, here, said", [
    ({"phase": "some other step"}, {}, "it belongs to 'some other step', not pretraining"),
    # a checkpoint that records no arithmetic is compared by the device and precision settings' words
    ({}, {"arithmetic": ON_CPU}, "resumed"),
    ({"settings": replace(CHECKPOINT_SETTINGS, lr=0.5, clip_norm=2.0)}, {},
     "its settings differ (clip_norm: 2 in the checkpoint, 1 here; lr: 0.5 in the checkpoint, 0.0001 here)"),
    ({"description": {**DESCRIPTION, "masking": None}}, {"description": {**DESCRIPTION, "masking": {}}},
     "its pretext task differs (unknown)"),
    # the sample setting that differs is said, not the seed that differs too
    ({"settings": replace(CHECKPOINT_SETTINGS, seed=1), "fingerprint": "other",
      "description": {**DESCRIPTION, "sample_settings": {"samples": 100}}},
     {"description": {**DESCRIPTION, "sample_settings": {"samples": 200}}},
     "its settings differ (seed: 1 in the checkpoint, 0 here); its training samples differ from this run's "
     "(samples: 100 in the checkpoint, 200 here)"),
], ids=["unknown phase", "no arithmetic recorded", "settings sorted", "pretext task", "samples and seed"])
def test_a_checkpoint_of_another_run_is_refused_naming_what_differs(tmp_path, saved, here, said):
    assert _restored(str(tmp_path / "run.checkpoint.safetensors"), saved, here) == said


def test_a_checkpoint_whose_time_so_far_is_infinite_is_refused_as_damaged(tmp_path):
    path = str(tmp_path / "run.checkpoint.safetensors")
    Checkpointer(path, "pretraining", CHECKPOINT_SETTINGS, "fingerprint", DESCRIPTION).save(
        *_model_and_optimizer(), LoopState(seconds=float("inf")), None, None)
    with pytest.raises(ModelFileError) as refused:
        Checkpointer(None, "pretraining", CHECKPOINT_SETTINGS, "fingerprint", DESCRIPTION).restore(
            path, *_model_and_optimizer())
    assert str(refused.value) == (f"resume_path: the checkpoint '{path}' is incomplete or damaged (invalid training "
                                  "history). Start without resume_path.")


def test_a_checkpoint_rewritten_while_it_is_restored_is_refused_not_mixed(tmp_path, monkeypatch):
    """A helper's red team of 2026-12-07: a run still writing the checkpoint replaced it between the read of its
    history and that of its weights; the resumed run mixed the two, with other weights than any run's."""
    import model_core.model_file as model_file

    path = str(tmp_path / "run.checkpoint.safetensors")
    writer = Checkpointer(path, "pretraining", CHECKPOINT_SETTINGS, "fingerprint", DESCRIPTION)
    writer.save(*_model_and_optimizer(), LoopState(epoch=1), None, None)
    read_metadata = model_file.read_metadata

    def read_then_rewritten(*args, **kwargs):
        meta = read_metadata(*args, **kwargs)
        writer.save(*_model_and_optimizer(), LoopState(epoch=2), None, None)  # the live run's next checkpoint
        return meta

    monkeypatch.setattr(model_file, "read_metadata", read_then_rewritten)
    with pytest.raises(ModelFileError) as refused:
        Checkpointer(None, "pretraining", CHECKPOINT_SETTINGS, "fingerprint", DESCRIPTION).restore(
            path, *_model_and_optimizer())
    assert str(refused.value).endswith("changed while this run was reading it (another run wrote it?). Run again "
                                       "once it is written.")


# ---- atomic writes and their cleanup


def test_a_file_system_that_tells_nothing_of_its_space_is_not_said_to_be_full(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(0, 0, 0))
    assert (atomic.free_bytes(str(tmp_path)), atomic.disk_full(str(tmp_path / "map.tif"))) == (None, False)


@pytest.mark.parametrize("free, full", [(512 * 1024, True), ((1 << 20) - 1, True), (1 << 20, False),
                                        (5 << 20, False)])
def test_a_disk_is_said_to_be_full_below_one_mebibyte_free(tmp_path, monkeypatch, free, full):
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(1 << 30, 0, free))
    assert atomic.disk_full(str(tmp_path / "map.tif")) is full


def test_a_folder_named_as_a_temporary_file_is_left_alone(tmp_path):
    (tmp_path / ".map.tif.abcdefgh.partial").mkdir()
    (tmp_path / ".map.tif.abcdefgh.partial.old").mkdir()
    assert atomic.remove_stale_temporaries(str(tmp_path / "map.tif")) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == [".map.tif.abcdefgh.partial",
                                                                ".map.tif.abcdefgh.partial.old"]


def test_of_two_outputs_a_killed_run_left_aside_the_newest_comes_back(tmp_path):
    for name, age in ((".m.safetensors.aaaaaaaa.partial.old", 100), (".m.safetensors.bbbbbbbb.partial.old", 10)):
        (tmp_path / name).write_text(f"{age} s old")
        os.utime(tmp_path / name, (time.time() - age, time.time() - age))
    assert atomic.recover_set_aside(str(tmp_path / "m.safetensors"))
    assert (tmp_path / "m.safetensors").read_text() == "10 s old"


_HOLDS = """
import sys, time
sys.path[:0] = [sys.argv[1]]
from model_core import atomic
handle, temporary = atomic.make_temporary(sys.argv[2])
print(temporary, flush=True)
time.sleep(60)
"""


def test_a_temporary_file_another_live_process_writes_is_kept_and_removed_once_it_is_gone(tmp_path):
    """The lock a run holds on its temporary file tells another process's run it is live."""
    path = str(tmp_path / "m.safetensors")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDS, str(ROOT), path], stdout=subprocess.PIPE, text=True)
    try:
        temporary = holder.stdout.readline().strip()
        assert atomic.remove_stale_temporaries(path) == [temporary] and os.path.isfile(temporary)
    finally:
        holder.kill()
        holder.communicate()
    assert atomic.remove_stale_temporaries(path) == [] and os.listdir(tmp_path) == []


@pytest.mark.parametrize("identity, earlier, same", [((3, 7), (3, 7), True), ((3, 7), (3, 8), False),
                                                     ((3, 0), (3, 0), False), ((3, 7), None, False)])
def test_a_file_is_known_again_by_its_number_unless_its_file_system_numbers_none(identity, earlier, same):
    assert atomic._same_file(identity, earlier) is same


def test_a_write_removes_what_a_killed_run_left_for_the_same_file(tmp_path):
    (tmp_path / ".m.txt.abcdefgh.partial").write_text("a killed run's")
    with atomic.atomic_output(str(tmp_path / "m.txt")) as temporary:
        open(temporary, "w").write("new")
    assert os.listdir(tmp_path) == ["m.txt"]


# ---- model files


def test_a_header_of_the_right_length_that_the_library_cannot_read_is_said_damaged_not_longer(tmp_path):
    path = str(tmp_path / "m.safetensors")
    model_file.save(path, {"w": torch.zeros(2)}, {"kind": model_file.CLASSIFIER})
    data = open(path, "rb").read()
    open(path, "wb").write(data.replace(b'"dtype":"F32"', b'"dtype":"X32"'))
    with pytest.raises(ModelFileError) as refused:
        model_file.read_metadata(path, [model_file.CLASSIFIER], "MODEL")
    said = str(refused.value)
    assert said.startswith(f"MODEL: '{path}' is not a readable MRS model file; it may be truncated or damaged (")
    assert said.endswith("). Re-create it, or copy it again.")


# ---- paths


def test_a_folder_or_pipe_is_said_to_be_what_it_is_a_folder_unless_folders_are_read(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "file").write_text("x")
    assert [not_a_readable_file(str(tmp_path)), not_a_readable_file(str(tmp_path), folders=True),
            not_a_readable_file(str(tmp_path / "pipe"), folders=True), not_a_readable_file(str(tmp_path / "file"))] == [
        "is a folder, not a file", None, "is a named pipe (FIFO), not a file", None]


def test_a_file_rewritten_in_place_at_its_size_has_another_state(tmp_path):
    path = tmp_path / "layer.tif"
    path.write_bytes(b"old")
    before = file_state(str(path))
    with open(path, "r+b") as handle:
        handle.write(b"new")
    os.utime(path, ns=(before[2] + 10**9, before[2] + 10**9))
    assert file_state(str(path))[:2] == before[:2] and file_state(str(path)) != before


def test_a_file_that_can_no_longer_be_reached_is_not_said_to_be_removed(tmp_path, monkeypatch):
    assert why_gone(str(tmp_path / "gone.tif")) == "was removed or moved"

    def stale(path, *args, **options):
        raise OSError(errno.ESTALE, "Stale file handle")

    monkeypatch.setattr(paths.os, "stat", stale)
    assert why_gone(str(tmp_path / "layer.tif")) == "can no longer be reached (Stale file handle)"


@pytest.mark.parametrize("existing, said", [
    ([], "UP2.safetensors"), (["UP2.SAFETENSORS"], "UP2.SAFETENSORS"),
    (["UP2.SAFETENSORS", "UP2.safetensors"], "UP2.safetensors")])
def test_a_checkpoint_s_model_file_is_the_one_there_is_of_any_case_the_lower_case_one_first(tmp_path, existing, said):
    for name in existing:
        (tmp_path / name).write_bytes(b"")
    checkpoint = checkpoint_path_for(str(tmp_path / "UP2.safetensors"))
    assert checkpoint == str(tmp_path / "UP2.checkpoint.safetensors")
    assert output_path_of(checkpoint) == str(tmp_path / said)


def test_a_folder_one_may_enter_but_not_list_holds_no_leftovers_and_takes_outputs(tmp_path, monkeypatch):
    """A mutation audit of 2026-12-06: a folder of mode 0711 or 0333 (a home folder, a drop box) ended a missing
    model's check and every output there in a PermissionError traceback from the look for a killed run's files."""
    listed = os.scandir

    def scandir(folder="."):
        if os.path.abspath(folder) == str(tmp_path):
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return listed(folder)

    monkeypatch.setattr(atomic.os, "scandir", scandir)
    assert not_a_readable_file(str(tmp_path / "missing.safetensors")) == "does not exist"
    with atomic.atomic_output(str(tmp_path / "map.txt")) as temporary:
        with open(temporary, "w") as handle:
            handle.write("x")
    assert (tmp_path / "map.txt").read_text() == "x"


def test_a_file_s_address_is_told_to_be_given_as_a_path(tmp_path):
    """A helper's red team of 2026-12-07: MODEL 'file:///.../model.safetensors' was said not to exist; a layer's
    'file://' in a list of scenes got GDAL's 'No such file or directory'."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import missing_file_problem

    model = tmp_path / "model.safetensors"
    model.write_bytes(b"a model")
    assert not_a_readable_file(f"file://{model}") == (f"is a file's address, not a path: give the path without "
                                                      f"'file://' ({model})")
    assert missing_file_problem(f"file://{model}", "The hyperspectral layer 'hsi'") == (
        f"The hyperspectral layer 'hsi': file://{model} is a file's address, not a path: give the path without "
        f"'file://' ({model}).")  # and no second advice (a helper's audit of 2026-12-07)


def test_files_joined_by_a_semicolon_are_told_to_be_given_one_by_one(tmp_path):
    """Own bad input of 2026-12-07: bin/mrs's --INPUT_AUX='a.tif;b.tif' was said not to exist."""
    from mrs.mrs_qgis_plugin.raster.gdal_io import missing_file_problem

    for name in ("a.tif", "b.tif"):
        (tmp_path / name).write_bytes(b"a raster")
    joined_paths = f"{tmp_path / 'a.tif'};{tmp_path / 'b.tif'}"
    assert missing_file_problem(joined_paths, "The auxiliary layer 'a'") == (
        f"The auxiliary layer 'a': {joined_paths} names several files joined by ';'; give each as a value of its own "
        "(on the command line, repeat the parameter).")
