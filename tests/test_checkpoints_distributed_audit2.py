"""Edges of checkpoints, of the torchrun launcher and process group, of the samples' fingerprint and of gradient
accumulation that no test pinned, found by a second mutation audit of 2026-12-07 (`model_core`'s checkpoints,
distributed, launcher, train_data and accumulation): each test here failed on one change to them that the suite
let pass. The process group's exchanges are those of one process, torch.distributed's calls replaced by what the
other ranks would give: the two-process runs of test_distributed.py are slow."""

import contextlib

import pytest
import torch
import torch.distributed as dist
from torch import nn

from model_core import accumulation, distributed
from model_core.checkpoints import Checkpointer, LoopState, _loop_state
from model_core.distributed import Context
from model_core.errors import DeviceError, ModelFileError
from model_core.launcher import ENVIRONMENT, launched, local_rank
from model_core.names import Names
from model_core.train_data import TensorSamples, data_fingerprint

from test_model_file_edges import CHECKPOINT_SETTINGS, _model_and_optimizer
from test_model_files_audit import _restored
from test_training import DESCRIPTION

# ---- checkpoints: what a refusal says


def _checkpointer(path, description=DESCRIPTION, names=Names(resume="RESUME"), **options):
    return Checkpointer(path, options.pop("phase", "pretraining"), CHECKPOINT_SETTINGS,
                        options.pop("fingerprint", "fingerprint"), description, names=names, **options)


@pytest.mark.parametrize("saved, here, said", [
    ({"fingerprint": "other", "description": {**DESCRIPTION, "sample_settings": {"samples": 100,
                                                                                 "validation_fraction": 0.1}}},
     {"description": {**DESCRIPTION, "sample_settings": {"samples": 200, "validation_fraction": 0.2}}},
     "its training samples differ from this run's (samples: 100 in the checkpoint, 200 here; validation_fraction: "
     "0.1 in the checkpoint, 0.2 here)"),
    ({"fingerprint": "other", "description": {**DESCRIPTION, "sample_settings": {"mask": "m" * 50}}},
     {"description": {**DESCRIPTION, "sample_settings": {"mask": "n" * 50}}},
     f"its training samples differ from this run's (mask: {'m' * 40} in the checkpoint, {'n' * 40} here)"),
    ({"phase": None}, {}, "it belongs to 'None', not pretraining"),
    ({"phase": "p" * 50}, {}, f"it belongs to '{'p' * 40}', not pretraining"),
    ({"description": {**DESCRIPTION, "preset": "p" * 50, "config": {"dim": 1}}},
     {"description": {**DESCRIPTION, "config": {"dim": 2}}},
     f"its model differs (preset: '{'p' * 40}' in the checkpoint, 'tiny' here)"),
    ({}, {"description": {**DESCRIPTION, "class_weighting": False}},
     "class_weighting differs (unknown in the checkpoint, false here)"),
    ({}, {"description": {**DESCRIPTION, "pretrained_from": {"created": "2026-12-05", "metadata_sha256": "ab"}}},
     "it started from no pretrained model, this run from one (the pretrained model)"),
    ({"description": {**DESCRIPTION, "masking": {key: 1 for key in "edcba"}}}, {},
     "its pretext task differs (a, b, c, d, e)"),
    ({"fingerprint": "other", "description": {**DESCRIPTION, "n_hsi": 6, "n_aux": 1}},
     {"description": {**DESCRIPTION, "n_hsi": 6, "n_aux": 2}},
     "it was made for 6 HSI bands and 1 SAR/LiDAR band, the layers give 6 HSI bands and 2 SAR/LiDAR bands"),
    # a checkpoint that records no band counts is compared by its samples alone
    ({"fingerprint": "other"}, {"description": {**DESCRIPTION, "n_hsi": 6, "n_aux": 1}},
     "its training samples differ from this run's (other layers, mask, extent, number of samples or seed)"),
], ids=["two sample settings", "long value", "no phase", "long phase", "long preset", "class weighting unknown",
        "pretrained now", "pretext keys sorted", "other sar/lidar count", "no band counts"])
def test_a_checkpoint_of_another_run_is_refused_saying_exactly_what_differs(tmp_path, saved, here, said):
    """Pins the words of each difference a refused checkpoint names, as the caller calls them."""
    assert _restored(str(tmp_path / "run.checkpoint.safetensors"), saved, here) == said


def test_another_arithmetic_names_the_device_and_precision_settings_as_the_caller_calls_them(tmp_path):
    """Pins the settings named after another device or precision: the caller's words, not torch's."""
    path = str(tmp_path / "run.checkpoint.safetensors")
    names = Names(resume="RESUME", settings={"device": "DEVICE", "precision": "PRECISION"})
    _checkpointer(path, arithmetic={"device": "cpu", "precision": "bf16"}).save(*_model_and_optimizer(), LoopState(),
                                                                             None, None)
    with pytest.raises(ModelFileError) as refused:
        _checkpointer(None, names=names, arithmetic={"device": "cuda", "precision": "bf16"}).restore(
            path, *_model_and_optimizer())
    assert str(refused.value) == (
        f"RESUME: the checkpoint '{path}' does not continue this run: it computed on cpu in bf16, this run would "
        "compute on cuda in bf16 (DEVICE, PRECISION), into other weights than an uninterrupted run's. Resume with the "
        "same layers and settings, or start without RESUME.")


# ---- checkpoints: what is written and read back


def test_a_checkpoint_restores_its_state_generator_and_best_epoch_s_weights(tmp_path):
    """Pins the round trip of a checkpoint with a kept best epoch: its state, generator and best weights."""
    path = str(tmp_path / "run.checkpoint.safetensors")
    model, optimizer = _model_and_optimizer()
    best = {name: tensor + 1 for name, tensor in model.state_dict().items()}
    state = LoopState(epoch=1, batch=0, step=4, loss_sum=2.5, samples=64, seconds=3.0, history=[{"loss": 1.0}],
                      best_epoch=1, best_score=0.75)
    _checkpointer(path).save(model, optimizer, state, torch.Generator().manual_seed(5), best)
    restored, generator, kept = _checkpointer(None).restore(path, *_model_and_optimizer())
    assert restored == state
    assert torch.equal(generator, torch.Generator().manual_seed(5).get_state())
    assert sorted(kept) == ["bias", "weight"] and all(torch.equal(kept[name], best[name]) for name in best)


def test_a_checkpointer_without_a_path_writes_nothing(tmp_path, monkeypatch):
    """Pins that the processes other than rank 0 (no path) save nothing, without an error."""
    from model_core import checkpoints

    monkeypatch.setattr(checkpoints.model_file, "save", lambda *args: pytest.fail("written"))
    _checkpointer(None).save(*_model_and_optimizer(), LoopState(), None, None)


GOOD = {"epoch": 1, "batch": 0, "step": 4, "loss_sum": 0.0, "samples": 0, "seconds": 1.0, "history": [{}],
        "best_epoch": 1, "best_score": 0.5}


@pytest.mark.parametrize("changes, error", [
    ({"epoch": True}, "invalid position in the run"),
    ({"seconds": -1.0}, "invalid training history"),
    ({"loss_sum": True}, "invalid training history"),
    ({"best_score": "0.5"}, "invalid training history"),
])
def test_a_checkpoint_s_training_state_of_the_wrong_type_is_refused(changes, error):
    """Pins the type checks of a checkpoint's loop state: its counters, its clock, its loss and best score."""
    with pytest.raises(ValueError, match=f"^{error}$"):
        _loop_state({**GOOD, **changes})


def test_a_checkpoint_s_training_state_is_read_its_time_unknown_where_it_kept_none():
    """Pins that a state of the best epoch just done is valid and one written before the clock was kept has None."""
    assert _loop_state(GOOD) == LoopState(**GOOD)
    assert _loop_state({key: value for key, value in GOOD.items() if key != "seconds"}).seconds is None
    with pytest.raises(TypeError, match="^no training state$"):
        _loop_state(None)


# ---- the launcher's variables


@pytest.fixture
def environment(monkeypatch):
    """Sets the launcher's variables given, the others unset."""
    for name in (*ENVIRONMENT, "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)

    def given(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return given


LAUNCHED = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}


@pytest.mark.parametrize("values, said", [
    ({"RANK": "1", "WORLD_SIZE": "2"},
     "RANK and WORLD_SIZE are set, as torchrun sets them, but LOCAL_RANK and MASTER_ADDR are not: start the run with "
     "torchrun, or unset RANK and WORLD_SIZE."),
    ({"RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1"},
     "RANK, LOCAL_RANK and MASTER_ADDR are set, as torchrun sets them, but WORLD_SIZE is not: start the run with "
     "torchrun, or unset RANK and LOCAL_RANK."),
    ({"MASTER_ADDR": "127.0.0.1"},
     "MASTER_ADDR is set, as torchrun sets it, but RANK, WORLD_SIZE and LOCAL_RANK are not: start the run with "
     "torchrun, or unset MASTER_ADDR."),
    ({**LAUNCHED, "LOCAL_RANK": "x", "MASTER_PORT": "29500"},
     "RANK (0), WORLD_SIZE (2) and LOCAL_RANK (x) must be whole numbers, RANK below WORLD_SIZE: start the run with "
     "torchrun, or unset those variables."),
    ({**LAUNCHED, "MASTER_PORT": "0"},
     "MASTER_PORT is '0': give the port on which process 0 waits for the others (a whole number from 1 to 65535), or "
     "start the run with torchrun, which sets it."),
    ({**LAUNCHED, "MASTER_PORT": "65536"},
     "MASTER_PORT is '65536': give the port on which process 0 waits for the others (a whole number from 1 to 65535), "
     "or start the run with torchrun, which sets it."),
    ({**LAUNCHED, "RANK": "\u00b2", "MASTER_PORT": "29500"},  # a ValueError's traceback (a helper's audit, 12-07)
     "RANK (\u00b2), WORLD_SIZE (2) and LOCAL_RANK (0) must be whole numbers, RANK below WORLD_SIZE: start the run "
     "with torchrun, or unset those variables."),
    ({**LAUNCHED, "MASTER_PORT": "\u00b2"},
     "MASTER_PORT is '\u00b2': give the port on which process 0 waits for the others (a whole number from 1 to "
     "65535), or start the run with torchrun, which sets it."),
], ids=["two of four", "all but world size", "master address alone", "local rank not a number", "port 0",
        "port 65536", "rank a superscript two", "port a superscript two"])
def test_launcher_variables_set_in_part_or_out_of_range_are_refused_naming_them(environment, values, said):
    """Pins the variables named as set and as missing, their verbs, and the ports refused at either end."""
    environment(**values)
    with pytest.raises(DeviceError) as refused:
        launched()
    assert str(refused.value) == said


def test_launcher_variables_of_spaces_are_unset_and_values_are_read_without_their_spaces(environment):
    """Pins that blank variables launch nothing and that spaces around the values, the port too, are ignored."""
    environment(RANK=" ", LOCAL_RANK="")
    assert not launched() and local_rank() == 0
    environment(**{**LAUNCHED, "RANK": "1", "LOCAL_RANK": " 1 ", "MASTER_PORT": " 65535 "})
    assert launched() and local_rank() == 1
    # a blank LOCAL_RANK is unset, as local_rank reads it: it was refused as no whole number (a helper's audit)
    environment(**{**LAUNCHED, "RANK": "1", "LOCAL_RANK": "", "MASTER_PORT": "29500"})
    assert launched() and local_rank() == 0


# ---- the process group's exchanges, the others' answers given


def test_a_rank_s_share_of_a_batch_is_numbered_by_its_rank_among_all_not_on_its_machine():
    """Pins the share of the second process of the second machine: its rank's, not its local rank's."""
    assert Context(3, 4, 1, True).share(10) == slice(8, 10)


def test_a_gathered_batch_joins_every_rank_s_share_less_its_padding(monkeypatch):
    """Pins the padding of a rank's shorter share to the longest and its removal from every share gathered."""
    sent = []

    def all_gather(parts, padded):
        sent.append(padded.clone())
        for rank, (start, stop) in enumerate(Context(0, 3).shares(7)):
            parts[rank].copy_(padded if rank == 1 else torch.arange(start, start + 3.0) * 10)

    monkeypatch.setattr(dist, "all_gather", all_gather)
    whole = Context(1, 3, 1, True).gather(torch.tensor([30.0, 40.0]), 7)
    assert sent[0].tolist() == [30.0, 40.0, 0.0]
    assert whole.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]


def test_a_sum_over_the_ranks_is_taken_in_double_precision_and_no_flag_is_none_raised(monkeypatch):
    """Pins the float64 sum of the ranks' losses and that a flag raised on no rank is False."""
    monkeypatch.setattr(dist, "all_reduce", lambda tensor: tensor.mul_(2))  # two ranks of the same value
    assert Context(0, 2, 0, True).total(0.1, torch.device("cpu")) == 0.2
    assert Context(0, 2, 0, True).any(False, torch.device("cpu")) is False
    assert Context(0, 2, 0, True).any(True, torch.device("cpu")) is True


def test_exchanged_items_reach_rank_0_alone_and_the_first_found_skips_empty_ones(monkeypatch):
    """Pins what exchange, first_found and broadcast give each rank, from the ranks' items."""
    others = {"items": ["rank 0's", "rank 1's"]}

    def all_gather_object(items, item):
        items[:] = others["items"]

    broadcast_from = []
    monkeypatch.setattr(dist, "all_gather_object", all_gather_object)
    monkeypatch.setattr(dist, "broadcast_object_list", lambda box, src: broadcast_from.append(src))
    assert Context(0, 2, 0, True).exchange("rank 0's") == ["rank 0's", "rank 1's"]
    assert Context(1, 2, 1, True).exchange("rank 1's") is None
    others["items"] = [[], "rank 1's"]
    assert Context(0, 2, 0, True).first_found([]) == "rank 1's"
    assert Context(1, 3, 1, True).broadcast("mine") == "mine" and broadcast_from == [0]


def test_the_log_names_every_rank_s_device_and_the_backend(monkeypatch):
    """Pins the devices line of a multi-process run: its count, backend and each rank's device in rank order."""
    def all_gather_object(names, device):
        names[:] = ["cpu (1 thread)", "cpu (2 threads)"][:len(names)]

    monkeypatch.setattr(dist, "all_gather_object", all_gather_object)
    monkeypatch.setattr(dist, "get_backend", lambda: "gloo")
    assert distributed.devices_line(Context(0, 2, 0, True), "cpu (1 thread)") == (
        "2 processes (gloo): rank 0 on cpu (1 thread); rank 1 on cpu (2 threads)")
    assert distributed.devices_line(Context(0, 1, 0, True), "cpu (1 thread)") == "1 process (gloo): rank 0 on cpu " \
                                                                                  "(1 thread)"


def test_a_lost_exchange_names_the_run_s_processes_and_the_error_s_first_line(monkeypatch):
    """Pins the sentence of a failed exchange, of the processes given, and the errors taken for a partner gone."""
    assert distributed.lost_exchange("classification", RuntimeError("gloo said\nmore"), "; nothing written.",
                                     world=3) == (
        "The exchange with the other processes of this 3-process classification failed, most likely because another "
        "process stopped (gloo said); nothing written.")
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    for words in distributed.LOST_PARTNER_WORDS:
        assert distributed.lost_partner(RuntimeError(f"[{words}] at 127.0.0.1"))
    assert distributed.LOST_PARTNER_WORDS == ("Connection closed by peer", "Connection reset by peer",
                                              "gloo/transport", "NCCL error")
    assert not distributed.lost_partner(RuntimeError("out of memory"))
    assert not distributed.lost_partner(OSError("Connection reset by peer"))


class _Timer:
    """threading.Timer's stand-in, which records what it was given and whether it was canceled."""
    made = []

    def __init__(self, seconds, function, arguments):
        self.seconds, self.arguments, self.canceled, self.daemon = seconds, arguments, False, False
        _Timer.made.append(self)

    def start(self):
        pass

    def cancel(self):
        self.canceled = True


def test_a_process_joining_its_group_says_after_20_s_that_it_waits_and_leaves_the_group_at_exit(
        environment, monkeypatch):
    """Pins the joining: its context from the variables, NCCL on GPUs, the notice's delay and words, its cancel, and
    the group left at the interpreter's exit."""
    environment(RANK="1", WORLD_SIZE="3", LOCAL_RANK="0", MASTER_ADDR="10.0.0.1", MASTER_PORT="29500")
    backends, registered = [], []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", backends.append)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    monkeypatch.setattr(distributed.threading, "Timer", _Timer)
    monkeypatch.setattr(distributed.atexit, "register", registered.append)
    _Timer.made.clear()
    context = distributed.start(torch.device("cuda"), waiting=print)
    assert context == Context(1, 3, 0, True) and backends == ["nccl"] and registered == [distributed._leave]
    (notice,) = _Timer.made
    assert (notice.seconds, notice.daemon, notice.canceled) == (20.0, True, True)
    assert notice.arguments == [
        "Waiting for the other processes of this 3-process run to join at MASTER_ADDR 10.0.0.1:29500; Ctrl-C ends the "
        "wait. Start every process with the same torchrun command, MASTER_ADDR and MASTER_PORT."]


def test_a_process_that_failed_alone_leaves_its_group_without_waiting_and_ends_with_its_code(monkeypatch):
    """Pins end_process: nothing without a group; else the group left, waiting for the others unless it failed
    alone, and the process ended with its own code."""
    calls = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.os, "_exit", lambda code: calls.append(("exit", code)))
    distributed.end_process(3)
    assert calls == []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("left"))
    distributed.end_process(3, alone=True)
    distributed.end_process(4)
    assert calls == ["left", ("exit", 3), "barrier", "left", ("exit", 4)]


# ---- the samples' fingerprint


FINGERPRINT = "24cdfd47629361d26d7d0a53a642fd34"
"""The fingerprint of `torch.arange(24, dtype=torch.float16).view(2, 3, 2, 2)`, as checkpoints record it."""


def test_the_samples_fingerprint_is_that_of_earlier_checkpoints_and_covers_the_targets():
    """Pins the fingerprint's digest, which checkpoints written before must still match, and its targets."""
    data = torch.arange(24, dtype=torch.float16).view(2, 3, 2, 2)
    assert data_fingerprint(data, None) == FINGERPRINT
    assert data_fingerprint(data, torch.tensor([0, 1])) != data_fingerprint(data, torch.tensor([1, 0]))
    assert TensorSamples(data, torch.tensor([0, 1])).fingerprint() == data_fingerprint(data, torch.tensor([0, 1]))



# ---- gradient accumulation


def test_a_cuda_gpu_s_budget_is_half_its_free_memory(monkeypatch):
    """Pins GPU_SHARE: half the free memory at the start of the run, whatever the total."""
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (1000, 8000))
    assert accumulation.budget(torch.device("cuda")) == 500


def test_a_probe_whose_samples_save_nothing_more_counts_one_byte_per_sample():
    """Pins the floor of one byte per sample, which keeps the micro-batch size's division defined."""
    weight = nn.Parameter(torch.ones(3))
    assert accumulation.bytes_per_sample(lambda count: (weight * 2).sum()) == 1


class _Parallel(nn.parallel.DistributedDataParallel):
    """A DistributedDataParallel without a process group, whose no_sync is recorded."""

    def __init__(self):
        nn.Module.__init__(self)

    def no_sync(self):
        return "no sync"


def test_under_distributed_data_parallel_only_the_last_micro_batch_exchanges_gradients():
    """Pins synchronised: no_sync for every micro-batch but the last, and never for a plain model."""
    assert accumulation.synchronised(_Parallel(), last=False) == "no sync"
    assert isinstance(accumulation.synchronised(_Parallel(), last=True), contextlib.nullcontext)
    assert isinstance(accumulation.synchronised(nn.Linear(1, 1), last=False), contextlib.nullcontext)
