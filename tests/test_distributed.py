"""torchrun with two processes (gloo, CPU) trains the model one process trains and
makes the map one process makes.

Every test launches `torchrun --standalone --nproc-per-node 2 bin/mrs JOB ...` and
compares with the same job in one process, with the same settings, seed and global
batch. The processes share each batch (25 samples: 13 + 12, so the uneven split is
exercised), gather it, and sum their gradients: the models agree up to the order of
floating-point sums. TOLERANCE bounds every weight's difference; the steps of the run
move the weights far more, so the comparison can fail.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import gdal

from mrs.model_core import model_file
from mrs.model_core.errors import Canceled
from mrs.model_core.hooks import Hooks
from mrs.model_core.training import MaskingSettings, TrainSettings, checkpoint_path_for
from mrs.mrs_qgis_plugin import jobs
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.synthetic_scene import write_scene
from processing_helpers import QUICK_FINETUNE, algorithms_ready, run, scene_layers
from test_cli import arguments
from test_raster_writers import read_raster

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).parent / "torchrun"
TOLERANCE = 1e-2
"""Largest relative difference allowed between what two processes and one process
change in the weights: |w2 - w1| / |w1 - w0| over all weights (w0 the starting weights)."""

TRAINING = {"PRESET": "tiny", "EPOCHS": 2, "BATCH_SIZE": 25, "LEARNING_RATE": 0.001, "SEED": 3,
            "DEVICE": "cpu", "PRECISION": "fp32"}
PRETRAIN = {**TRAINING, "SAMPLES": 120}
MASKING = MaskingSettings(normalized_targets=True)
"""mrs:pretrain's default pretext task, which the command-line runs here use."""
FINETUNE = {**TRAINING, "VALIDATION_FRACTION": 0.25, "CLASS_WEIGHTING": True, "ENCODER_LR_FACTOR": 0.5}


def settings(**changes) -> TrainSettings:
    values = dict(epochs=TRAINING["EPOCHS"], batch_size=TRAINING["BATCH_SIZE"], lr=TRAINING["LEARNING_RATE"],
                  seed=TRAINING["SEED"], device="cpu", precision="fp32")
    return TrainSettings(**{**values, **changes})


def torchrun_command(job: str, script: Path = ROOT / "bin" / "mrs", **parameters) -> list:
    return [str(TORCHRUN), "--standalone", "--nproc-per-node", "2", str(script), job, *arguments(**parameters)]


ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1"}


def torchrun(job: str, script: Path = ROOT / "bin" / "mrs", **parameters) -> subprocess.CompletedProcess:
    done = subprocess.run(torchrun_command(job, script, **parameters), capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert done.returncode == 0, done.stderr
    return done


def flat(weights: dict) -> torch.Tensor:
    return torch.cat([weights[name].float().flatten() for name in sorted(weights)])


def weights_of(path, kind: str) -> torch.Tensor:
    return flat(model_file.load(str(path), [kind])[0])


def relative_difference(trained: torch.Tensor, reference: torch.Tensor, start: torch.Tensor) -> float:
    return float((trained - reference).norm() / (reference - start).norm())


def cancel_after(batches: int, phase: str) -> Hooks:
    """Hooks that cancel a job after `batches` training batches of `phase` (0: before the first)."""
    seen = []
    return Hooks(log=lambda line: seen.append("start") if line.startswith(phase) else None,
                 progress=lambda _fraction: seen and seen.append("batch"),
                 is_canceled=lambda: bool(seen) and seen.count("batch") == batches)


def checkpointed_weights(output) -> torch.Tensor:
    return flat(model_file.prefixed(model_file.load(checkpoint_path_for(str(output)), [model_file.CHECKPOINT])[0],
                                    "model"))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    paths = write_scene(folder, width=48, height=48, n_bands=8, seed=2, train_per_class=6)
    layers = jobs.Layers(RasterInput(str(paths.hsi), "hsi"), [RasterInput(str(paths.lidar), "lidar")])
    return paths, layers, folder


@pytest.fixture(scope="module")
def more_scenes(scene):
    """A MORE_SCENES list of a second scene with the same bands and a corner of nodata."""
    second = write_scene(scene[2] / "second", width=48, height=48, n_bands=8, seed=5, train_per_class=2,
                         nodata_corner=True)
    listing = scene[2] / "more_scenes.txt"
    listing.write_text(f"{second.hsi},{second.lidar}\n")
    return str(listing)


@pytest.fixture(scope="module")
def pretrained(scene, more_scenes):
    """One process: the reference pretraining on two scenes, and the checkpoint of the same run canceled
    after 3 batches."""
    _paths, layers, folder = scene
    reference = folder / "reference.safetensors"
    jobs.pretrain_job(layers, preset="tiny", masking=MASKING, samples=PRETRAIN["SAMPLES"],
                      settings=settings(), output=str(reference), hooks=Hooks(), more_scenes=more_scenes)
    with pytest.raises(Canceled):
        jobs.pretrain_job(layers, preset="tiny", masking=MASKING, samples=PRETRAIN["SAMPLES"],
                          settings=settings(), output=str(folder / "resumed.safetensors"),
                          hooks=cancel_after(3, "Pretraining:"), more_scenes=more_scenes)
    return reference, folder / "resumed.safetensors"


@pytest.fixture(scope="module")
def resumed_on_two(scene, more_scenes, pretrained):
    """Two processes resume the canceled run: their log and the weights they resumed from."""
    checkpoint = checkpoint_path_for(str(pretrained[1]))
    assert model_file.read_metadata(checkpoint, [model_file.CHECKPOINT])["checkpoint"]["state"]["step"] == 3
    start = checkpointed_weights(pretrained[1])
    done = torchrun("pretrain", **scene_layers(scene[0]), **PRETRAIN, MORE_SCENES=more_scenes, RESUME=checkpoint,
                    OUTPUT=pretrained[1])
    return done, start


def test_two_processes_resume_a_one_process_pretraining_on_two_scenes_into_the_same_model(pretrained,
                                                                                          resumed_on_two):
    reference, resumed = pretrained
    done, start = resumed_on_two
    assert "2 processes (gloo): rank 0 on cpu" in done.stderr and "; rank 1 on cpu" in done.stderr
    assert re.search(r"Samples from 2 scenes: \d+ from 'hsi' \(2,304 valid pixels\); \d+ from '.*second/hsi.tif' "
                     r"\([\d,]+ valid pixels\)", done.stderr)
    assert "batches of 25 samples, 12 or 13 per process" in done.stderr
    assert relative_difference(weights_of(resumed, model_file.PRETRAINED), weights_of(reference, model_file.PRETRAINED),
                               start) < TOLERANCE
    assert not os.path.exists(checkpoint_path_for(str(resumed)))


MICRO_BATCHES = """
import runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.model_core import accumulation
accumulation.CPU_BUDGET = 350_000
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end(sys.argv[1:]))
"""
"""bin/mrs with a budget that cuts each process' share of 12 or 13 `tiny` samples (about 100 kB
of activations each) into micro-batches of at most 3."""


def test_two_processes_in_micro_batches_pretrain_the_model_one_process_pretrains_on_whole_batches(
        scene, more_scenes, pretrained, tmp_path):
    _paths, layers, _folder = scene
    script = tmp_path / "mrs_in_micro_batches.py"
    script.write_text(MICRO_BATCHES.format(mrs=str(ROOT / "bin" / "mrs")))
    output = tmp_path / "micro.safetensors"
    done = torchrun("pretrain", script, **scene_layers(scene[0]), **PRETRAIN, MORE_SCENES=more_scenes, OUTPUT=output)
    assert "Batches taken in micro-batches of at most 3 samples" in done.stderr
    with pytest.raises(Canceled):
        jobs.pretrain_job(layers, preset="tiny", masking=MASKING, samples=PRETRAIN["SAMPLES"], settings=settings(),
                          output=str(tmp_path / "start.safetensors"), hooks=cancel_after(0, "Pretraining:"),
                          more_scenes=more_scenes)
    assert relative_difference(weights_of(output, model_file.PRETRAINED), weights_of(pretrained[0], model_file.PRETRAINED),
                               checkpointed_weights(tmp_path / "start.safetensors")) < TOLERANCE


def finetune_one_process(scene, pretrained, output, hooks: Hooks) -> None:
    paths, layers, _folder = scene
    jobs.finetune_job(layers, jobs.LabelSource("train", raster_path=str(paths.train)), pretrained=str(pretrained[0]),
                      preset="tiny", val_fraction=FINETUNE["VALIDATION_FRACTION"], class_weighting=True,
                      settings=settings(encoder_lr_scale=FINETUNE["ENCODER_LR_FACTOR"]), output=str(output),
                      hooks=hooks)


@pytest.fixture(scope="module")
def classifier(scene, pretrained):
    """One process: the reference fine-tuning."""
    reference = scene[2] / "classifier.safetensors"
    finetune_one_process(scene, pretrained, reference, Hooks())
    return reference


@pytest.fixture(scope="module")
def classifier_on_two(scene, pretrained):
    two = scene[2] / "classifier-two.safetensors"
    torchrun("finetune", **scene_layers(scene[0]), **FINETUNE, LABELS=scene[0].train, PRETRAINED=pretrained[0],
             OUTPUT=two)
    return two


def test_two_processes_fine_tune_the_model_one_process_fine_tunes(scene, pretrained, classifier, classifier_on_two,
                                                                  tmp_path):
    reference, two = classifier, classifier_on_two
    with pytest.raises(Canceled):
        finetune_one_process(scene, pretrained, tmp_path / "start.safetensors", cancel_after(0, "Fine-tuning:"))
    start = checkpointed_weights(tmp_path / "start.safetensors")
    assert relative_difference(weights_of(two, model_file.CLASSIFIER), weights_of(reference, model_file.CLASSIFIER),
                               start) < TOLERANCE
    ours, theirs = (model_file.read_metadata(str(path), [model_file.CLASSIFIER])["training"] for path in (reference, two))
    assert ours["best_epoch"] == theirs["best_epoch"]
    assert [h["loss"] for h in ours["history"]] == pytest.approx([h["loss"] for h in theirs["history"]], rel=1e-4)


def test_a_last_batch_smaller_than_the_processes_trains_as_one_process_does(scene, pretrained, classifier, tmp_path):
    """Red team of 2026-12-04: with a last batch of one sample, the process left without a sample
    never ran the model, so DistributedDataParallel's gradient exchange waited for ever."""
    batch = model_file.read_metadata(str(classifier), [model_file.CLASSIFIER])["training"]["train_samples"] - 1
    two = tmp_path / "two.safetensors"
    done = subprocess.run(torchrun_command("finetune", **scene_layers(scene[0]), **{**FINETUNE, "BATCH_SIZE": batch},
                                           LABELS=scene[0].train, PRETRAINED=pretrained[0], OUTPUT=two),
                          capture_output=True, text=True, timeout=150, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert done.returncode == 0, done.stderr
    # Each process printed torch's UserWarning on the empty share's gradient layout (review of 2026-12-05).
    assert "UserWarning" not in done.stderr and "Grad strides" not in done.stderr
    one = tmp_path / "one.safetensors"
    paths, layers, _folder = scene
    jobs.finetune_job(layers, jobs.LabelSource("train", raster_path=str(paths.train)), pretrained=str(pretrained[0]),
                      preset="tiny", val_fraction=FINETUNE["VALIDATION_FRACTION"], class_weighting=True,
                      settings=settings(encoder_lr_scale=FINETUNE["ENCODER_LR_FACTOR"], batch_size=batch),
                      output=str(one), hooks=Hooks())
    ours, theirs = (model_file.read_metadata(str(path), [model_file.CLASSIFIER])["training"] for path in (one, two))
    assert [h["loss"] for h in ours["history"]] == pytest.approx([h["loss"] for h in theirs["history"]], rel=1e-4)


def test_two_processes_classify_the_scene_into_the_map_one_process_makes(scene, classifier, tmp_path):
    """Nine tiles of 16 x 16 pixels: the second process has none in the last round. The one process runs on one
    thread, as each of torchrun's two does: on a CPU without AVX-512 a sum split between two threads moved
    confidences in their last digits (a fresh machine's suite, 2026-12-06)."""
    import torch

    paths, layers, _folder = scene
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        jobs.classify_job(str(classifier), layers, output=str(tmp_path / "one.tif"),
                          confidence=str(tmp_path / "one-c.tif"), tile_size=16, batch_size=None, device="cpu",
                          hooks=Hooks())
    finally:
        torch.set_num_threads(threads)
    done = torchrun("classify", MODEL=classifier, **scene_layers(paths), TILE_SIZE=16, DEVICE="cpu",
                    OUTPUT=tmp_path / "two.tif", OUTPUT_CONFIDENCE=tmp_path / "two-c.tif")
    assert "2 processes (gloo): rank 0 on cpu" in done.stderr
    for one, two in (("one.tif", "two.tif"), ("one-c.tif", "two-c.tif")):
        ours, theirs = read_raster(tmp_path / one), read_raster(tmp_path / two)
        np.testing.assert_array_equal(ours.values, theirs.values)
        assert (ours.geotransform, ours.names) == (theirs.geotransform, theirs.names)
    assert len(np.unique(read_raster(tmp_path / "two.tif").values)) >= 2
    names = {path.name for path in tmp_path.iterdir()}
    assert {name.replace("one", "two") for name in names if name.startswith("one")} == names - {
        name for name in names if name.startswith("one")}


def test_the_algorithms_take_the_models_two_processes_trained(qgis_processing, scene, pretrained, resumed_on_two,
                                                              classifier_on_two, tmp_path):
    paths = scene[0]
    with algorithms_ready():
        tuned = run("mrs:finetune", {**scene_layers(paths), **QUICK_FINETUNE, "EPOCHS": 1, "LABELS": str(paths.train),
                                     "PRETRAINED": str(pretrained[1]), "OUTPUT": str(tmp_path / "tuned.safetensors")})
        mapped = run("mrs:classify", {**scene_layers(paths), "MODEL": str(classifier_on_two),
                                      "OUTPUT": str(tmp_path / "map.tif")})
    assert model_file.read_metadata(tuned["OUTPUT"], [model_file.CLASSIFIER])["training"]["pretrained"] is True
    classes = {info["value"] for info in model_file.read_metadata(str(classifier_on_two),
                                                                  [model_file.CLASSIFIER])["classes"]}
    assert set(np.unique(read_raster(mapped["OUTPUT"]).values)) <= classes


DYING = """
import os, runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.model_core import loop
real = loop.train_step
def dying(run, x, y, generator, step, share):
    if os.environ["RANK"] == "1" and step == 3:
        os._exit(1)
    return real(run, x, y, generator, step, share)
loop.train_step = dying
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end(sys.argv[1:]))
"""
"""bin/mrs whose rank 1 dies at its fourth batch, as a process the system kills."""


def test_when_a_process_dies_rank_0_says_so_and_keeps_a_checkpoint_of_the_batches_done(scene, tmp_path):
    """Red team of 2026-12-04: rank 0 ended in a gloo traceback and the epochs done were lost."""
    paths, layers, _folder = scene
    script = tmp_path / "mrs_dying.py"
    script.write_text(DYING.format(mrs=str(ROOT / "bin" / "mrs")))
    longer = {**PRETRAIN, "SAMPLES": 150, "EPOCHS": 3}
    output = tmp_path / "model.safetensors"
    done = subprocess.run(torchrun_command("pretrain", script, **scene_layers(paths), **longer, OUTPUT=output),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    checkpoint = checkpoint_path_for(str(output))
    assert done.returncode != 0 and not output.exists()
    # rank 0 finds its partner gone, or torchrun's SIGTERM to it comes first on a loaded machine (a fresh
    # clone's run of 2026-12-06), which it says; the checkpoint of the batches done is kept either way
    assert (("most likely because another process stopped" in done.stderr
             or "Stopped by SIGTERM, as on Cancel (torchrun sends it to every process" in done.stderr)
            and (f"after 3 of 18 batches; the checkpoint '{checkpoint}' resumes the run: run it again with the same "
                 "parameters and RESUME set to that file.") in done.stderr), done.stderr
    assert model_file.read_metadata(checkpoint, [model_file.CHECKPOINT])["checkpoint"]["state"]["step"] == 3
    jobs.pretrain_job(layers, preset="tiny", masking=MASKING, samples=longer["SAMPLES"],
                      settings=settings(epochs=longer["EPOCHS"]), output=str(output), hooks=Hooks(), resume=checkpoint)
    assert len(model_file.read_metadata(str(output), [model_file.PRETRAINED])["training"]["history"]) == 3


CHANGED_BY_RANK_1 = """
import os, runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.model_core import loop
from mrs.model_core.checkpoints import Checkpointer
from mrs.mrs_qgis_plugin import streaming
from mrs.mrs_qgis_plugin.raster import sources
streaming.BlockCache.get = lambda self, key, make: make()  # every batch reads the file
sources.CHEAP_LOOK_SECONDS = 60.0  # and looks at it, however long a look takes on a loaded machine
if {checkpoint_every_batch!r}:
    Checkpointer.due = lambda self: self.path is not None
real = loop.train_step
def changing(run, x, y, generator, step, share):
    if os.environ["RANK"] == "1" and step == 3:
        stamp = os.stat({hsi!r})
        os.utime({hsi!r}, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))
    return real(run, x, y, generator, step, share)
loop.train_step = changing
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end(sys.argv[1:]))
"""
"""bin/mrs whose rank 1 sets the hyperspectral file's time back in its fourth batch (after both
processes read it), as another program writing it in place, with the scene read at every batch,
and (`checkpoint_every_batch`) a checkpoint due after every batch."""


@pytest.mark.parametrize("checkpoint_every_batch", [False, True])
def test_a_file_changed_under_a_pretraining_stops_both_processes_at_the_next_batch_and_is_said_once(
        scene, tmp_path, checkpoint_every_batch):
    """A review of 2026-12-06: a change one process saw was kept for the end check, so a cancel, a
    lost process or a divergence before the end went around it, and a run resumed from the checkpoint
    went on from mixed reads unsaid; the processes now vote on it with the cancel at every batch. A
    second review: a checkpoint due after the batch whose read saw the change held it (step 5); the
    last one written is of the batches read before."""
    paths, _layers, _folder = scene
    hsi = tmp_path / "hsi.tif"
    gdal.Translate(str(hsi), str(paths.hsi)).FlushCache()
    script = tmp_path / "mrs_changing.py"
    script.write_text(CHANGED_BY_RANK_1.format(mrs=str(ROOT / "bin" / "mrs"), hsi=str(hsi),
                                               checkpoint_every_batch=checkpoint_every_batch))
    longer = {**PRETRAIN, "SAMPLES": 150, "EPOCHS": 3}
    output = tmp_path / "model.safetensors"
    done = subprocess.run(torchrun_command("pretrain", script, **{**scene_layers(paths), "INPUT_HSI": str(hsi)},
                                           **longer, OUTPUT=output),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    said = (f"The layer 'hsi' changed while this run read it: its file {hsi} has another time of change, at the same "
            "size (written in place, or only its time set), so what was read may mix its old and new contents, and "
            "nothing was written. Run again once the file is as it should be.")
    checkpoint = checkpoint_path_for(str(output))
    if checkpoint_every_batch:
        said += (f" Start afresh rather than resume its checkpoint {checkpoint}, which holds what was read before "
                 "(delete it).")
    assert done.returncode != 0 and done.stderr.count(said) == 1, done.stderr
    assert "Pretraining epoch 1/3" not in done.stderr and not output.exists()
    assert (model_file.read_metadata(checkpoint, [model_file.CHECKPOINT])["checkpoint"]["state"]["step"] == 4
            if checkpoint_every_batch else not os.path.exists(checkpoint))


def _signalled_in_the_first_epoch(paths, parameters: dict, output: Path, signal_sent) -> str:
    """The log of a 2-process pretraining to whose launcher's process id `signal_sent` is applied once
    the first epoch is said (torchrun passes a SIGTERM it gets on to both processes)."""
    process = subprocess.Popen(torchrun_command("pretrain", **scene_layers(paths), **parameters, OUTPUT=output),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               env=ENVIRONMENT)
    for line in process.stderr:
        if line.startswith("Pretraining epoch 1/"):
            signal_sent(process.pid)
            break
    log = process.stderr.read()
    process.wait(timeout=120)
    return log


def test_sigterm_stops_both_processes_at_one_batch_and_one_process_resumes_rank_0s_checkpoint(scene, tmp_path):
    paths, layers, _folder = scene
    longer = {**PRETRAIN, "SAMPLES": 150, "EPOCHS": 3}
    output = tmp_path / "model.safetensors"
    log = _signalled_in_the_first_epoch(paths, longer, output, lambda launcher: os.kill(launcher, signal.SIGTERM))
    stopped = re.search(r"Canceled after (\d+) of 18 batches", log)
    assert stopped and ("(rank 1) Stopped by SIGTERM, as on Cancel (torchrun sends it to every process when the run is "
                        "stopped, and when another of its processes has ended: that one's message says why).") in log, log
    assert not output.exists()
    checkpoint = checkpoint_path_for(str(output))
    assert model_file.read_metadata(checkpoint, [model_file.CHECKPOINT])["checkpoint"]["state"]["step"] == int(
        stopped.group(1))
    start = checkpointed_weights(output)
    for path, resume in ((output, checkpoint), (tmp_path / "reference.safetensors", None)):
        jobs.pretrain_job(layers, preset="tiny", masking=MASKING, samples=longer["SAMPLES"],
                          settings=settings(epochs=longer["EPOCHS"]), output=str(path), hooks=Hooks(), resume=resume)
    assert relative_difference(weights_of(output, model_file.PRETRAINED),
                               weights_of(tmp_path / "reference.safetensors", model_file.PRETRAINED), start) < TOLERANCE


def _worker_of_rank(launcher: int, rank: int) -> int:
    """The process id of torchrun's worker of `rank`, among the descendants of `launcher`."""
    waiting, found = [launcher], []
    while waiting:
        pid = waiting.pop()
        for task in Path(f"/proc/{pid}/task").iterdir():
            waiting += [int(child) for child in (task / "children").read_text().split()]
        if pid != launcher:
            found.append(pid)
    return next(pid for pid in found
                if f"RANK={rank}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))


def test_a_process_stopped_as_another_was_says_so_not_that_the_user_canceled(scene, tmp_path):
    """A helper's red team of 2026-12-05: SIGTERM to rank 1 alone, and rank 0 said 'Canceled by the user.'"""
    paths, _layers, _folder = scene
    longer = {**PRETRAIN, "SAMPLES": 150, "EPOCHS": 3}
    output = tmp_path / "model.safetensors"
    log = _signalled_in_the_first_epoch(paths, longer, output,
                                        lambda launcher: os.kill(_worker_of_rank(launcher, 1), signal.SIGTERM))
    assert "(rank 1) Stopped by SIGTERM, as on Cancel" in log, log
    assert "\nStopped as another process of this torchrun run was stopped (its message says why).\n" in log, log
    assert "Canceled by the user." not in log and not output.exists()


OTHER_ON_RANK_1 = """
import os, runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end([argument.replace({mine!r}, {other!r}) if os.environ["RANK"] == "1" else argument
               for argument in sys.argv[1:]]))
"""
"""bin/mrs whose rank 1 is given another file than rank 0 (a stale copy on one machine)."""


def test_processes_given_other_inputs_than_rank_0_are_refused_before_any_work(scene, classifier, classifier_on_two,
                                                                              tmp_path):
    """Red team of 2026-12-05: a stale classifier on one machine mixed two models in one map (exit 0),
    other SAMPLES ended in a gloo crash, another HSI in a DistributedDataParallel traceback."""
    paths, _layers, _folder = scene
    script = tmp_path / "mrs_other.py"
    script.write_text(OTHER_ON_RANK_1.format(mine=str(classifier), other=str(classifier_on_two),
                                             mrs=str(ROOT / "bin" / "mrs")))
    output = tmp_path / "mixed.tif"
    done = subprocess.run(torchrun_command("classify", script, MODEL=classifier, **scene_layers(paths), DEVICE="cpu",
                                           OUTPUT=output),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert done.returncode != 0 and not output.exists()
    assert ("Under torchrun every process must be given the same inputs, but process 1 was given another MODEL "
            "than process 0 (another file, or a copy that differs, side files such as .aux.xml or .dbf included); "
            "give every process the same files and values."
            ) in done.stderr.splitlines(), done.stderr
    assert "mrs_qgis_plugin" not in done.stderr  # no traceback of ours (torchrun prints its own on a failure)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mrs_other.py"]
    # said once on a machine: its processes open the same files (a helper's red team of 2026-12-06: twice)
    assert sum("every process must be given the same inputs" in line for line in done.stderr.splitlines()) == 1
    # a file missing on one machine is said as such (a helper's red team of 2026-12-05: 'another INPUT_HSI')
    missing = tmp_path / "elsewhere" / "classifier.safetensors"
    script.write_text(OTHER_ON_RANK_1.format(mine=str(classifier), other=str(missing), mrs=str(ROOT / "bin" / "mrs")))
    done = subprocess.run(torchrun_command("classify", script, MODEL=classifier, **scene_layers(paths), DEVICE="cpu",
                                           OUTPUT=output),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert done.returncode != 0 and not output.exists()
    assert ("Under torchrun every process opens its inputs on its own machine, and process 1 cannot: MODEL: the file "
            f"{missing} does not exist. Check the path, or choose it again.") in done.stderr.splitlines(), \
        done.stderr


AS_BIN_MRS_WITH_RANK_1_GIVEN_OTHER = """
import os, runpy, sys
if os.environ["RANK"] == "1":
    sys.argv = [argument.replace({mine!r}, {other!r}) for argument in sys.argv]
    os.environ["LOCAL_RANK"] = "0"
runpy.run_path({mrs!r}, run_name="__main__")
"""
"""bin/mrs as a whole (its ending included), whose rank 1 is given another value than rank 0, as
on another machine (the first process there: the processes of one machine are given the same)."""


def test_a_process_refusing_what_only_it_was_given_ends_the_run_at_once_not_after_30_minutes(scene, tmp_path):
    """A helper's red team of 2026-12-05: rank 1's OUTPUT folder missing on its machine (rank 1 never
    writes, so outputs are not compared) was refused by rank 1, which then waited for rank 0 in a
    barrier while rank 0 waited for it in DistributedDataParallel's first exchange: 30 minutes, then
    gloo's traceback."""
    paths, _layers, _folder = scene
    script = tmp_path / "mrs_elsewhere.py"
    output = tmp_path / "model.safetensors"
    script.write_text(AS_BIN_MRS_WITH_RANK_1_GIVEN_OTHER.format(mine=str(output), mrs=str(ROOT / "bin" / "mrs"),
                                                                 other=str(tmp_path / "gone" / "model.safetensors")))
    started = time.monotonic()
    done = subprocess.run(torchrun_command("pretrain", script, **scene_layers(paths), **PRETRAIN, OUTPUT=output),
                          capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert time.monotonic() - started < 120 and done.returncode != 0 and not output.exists()
    lines = done.stderr.splitlines()
    assert f"(rank 1) OUTPUT: the folder {tmp_path / 'gone'} does not exist; choose an existing folder." in lines
    # rank 0 finds its partner gone, or torchrun stops it first, which it says (a review of 2026-12-05)
    assert any(line.startswith("The exchange with the other processes of this 2-process run failed, most likely "
                               "because another process stopped (") or line == (
        "Stopped by SIGTERM, as on Cancel (torchrun sends it to every process when the run is stopped, and when "
        "another of its processes has ended: that one's message says why).") for line in lines), lines
    assert "mrs_qgis_plugin" not in done.stderr  # no traceback of ours


CANCELED_IN_THE_START_UP = """
import os, runpy, sys
runpy.run_path({mrs!r})["import_package"]()
if os.environ["RANK"] == "1":
    from mrs.model_core.errors import Canceled
    from mrs.mrs_qgis_plugin import jobs
    def canceled(*_arguments, **_options):
        raise Canceled()
    jobs.random_positions_in_scenes = canceled
runpy.run_path({mrs!r}, run_name="__main__")
"""
"""bin/mrs as a whole, whose rank 1 is canceled as it draws its samples, before the processes vote."""


def test_a_process_canceled_before_the_others_voted_leaves_without_waiting_for_them(scene, tmp_path):
    """A helper's red team of 2026-12-06: SIGTERM to torchrun in a pretraining's start-up stopped one
    process at its own look at cancel, which then waited for the others to leave while they waited
    in another exchange (DistributedDataParallel's first): torchrun killed both 30 s later, leaving
    temporary files; without torchrun's kill, gloo's 30 minutes."""
    paths, _layers, _folder = scene
    script = tmp_path / "mrs_canceled.py"
    output = tmp_path / "model.safetensors"
    script.write_text(CANCELED_IN_THE_START_UP.format(mrs=str(ROOT / "bin" / "mrs")))
    started = time.monotonic()
    done = subprocess.run(torchrun_command("pretrain", script, **scene_layers(paths), **PRETRAIN, OUTPUT=output),
                          capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert time.monotonic() - started < 60 and done.returncode != 0, done.stderr
    lines = done.stderr.splitlines()
    assert "(rank 1) Canceled by the user." in lines
    assert "forcefully" not in done.stderr and "mrs_qgis_plugin" not in done.stderr, done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mrs_canceled.py"]


def test_lists_of_scenes_are_compared_by_the_rasters_they_name_not_by_their_text(scene, more_scenes, tmp_path):
    """A helper's red team of 2026-12-05: the same list on two machines named another raster on one (its
    paths relative to the list), and that process pretrained on it without a word; lists naming the same
    rasters by other paths were refused as 'another MORE_SCENES'."""
    import shutil

    second = Path(more_scenes).parent / "second"
    here, there = tmp_path / "here", tmp_path / "there"
    shutil.copytree(second, here / "s")
    shutil.copytree(second, there / "s")
    dataset = gdal.Open(str(there / "s" / "hsi.tif"), gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    band.WriteArray(band.ReadAsArray()[::-1])  # another raster, of the same bands and size
    dataset = band = None
    for folder in (here, there):
        (folder / "l.txt").write_text("s/hsi.tif,s/lidar.tif\n")
    script = tmp_path / "mrs_lists.py"
    output = tmp_path / "model.safetensors"
    script.write_text(OTHER_ON_RANK_1.format(mine=str(here), other=str(there), mrs=str(ROOT / "bin" / "mrs")))
    done = subprocess.run(torchrun_command("pretrain", script, **scene_layers(scene[0]), **PRETRAIN, OUTPUT=output,
                                           MORE_SCENES=here / "l.txt"),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert done.returncode != 0 and not output.exists()
    assert any(line.startswith("Under torchrun every process must be given the same inputs, but process 1 was given "
                               "another MORE_SCENES than process 0") for line in done.stderr.splitlines()), done.stderr
    (there / "l.txt").write_text(f"{here / 's' / 'hsi.tif'}, {here / 's' / 'lidar.tif'}\n")  # the same rasters
    torchrun("pretrain", script, **scene_layers(scene[0]), **PRETRAIN, OUTPUT=output, MORE_SCENES=here / "l.txt")
    assert output.exists()


def test_a_job_that_runs_in_one_process_runs_on_rank_0_alone_under_torchrun(scene, tmp_path):
    """Red team of 2026-12-05: redundancy and the demo scene ran on every process, which raced to
    write the same files (one failed now and then, exit 1)."""
    paths, _layers, _folder = scene
    done = torchrun("redundancy", **scene_layers(paths), OUTPUT_PNG=tmp_path / "r.png", OUTPUT_CSV=tmp_path / "r.csv")
    assert "(rank 1) redundancy runs in one process, rank 0's; this process has nothing to do." in done.stderr
    assert done.stdout.count("OUTPUT_CSV:") == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["r.csv", "r.png"]


DYING_IN_A_MAP = """
import os, runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.mrs_qgis_plugin.raster import predict
real, done = predict._classify_tile, []
def dying(*arguments):
    done.append(1)
    if os.environ["RANK"] == "1" and len(done) == 2:
        os._exit(1)
    return real(*arguments)
predict._classify_tile = dying
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end(sys.argv[1:]))
"""
"""bin/mrs whose rank 1 dies in its second tile, as a process the system kills."""


def test_when_a_process_dies_in_a_classification_rank_0_says_so_in_one_sentence(scene, classifier, tmp_path):
    """Red team of 2026-12-05: rank 0 ended in gloo's traceback ('Connection reset by peer')."""
    paths, _layers, _folder = scene
    script = tmp_path / "mrs_dying.py"
    script.write_text(DYING_IN_A_MAP.format(mrs=str(ROOT / "bin" / "mrs")))
    output = tmp_path / "map.tif"
    done = subprocess.run(torchrun_command("classify", script, MODEL=classifier, **scene_layers(paths), TILE_SIZE=16,
                                           DEVICE="cpu", OUTPUT=output),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    assert done.returncode != 0 and not output.exists()
    assert any(line.startswith("The exchange with the other processes of this 2-process classification failed, most "
                               "likely because another process stopped (") and line.endswith("); no map was written.")
               for line in done.stderr.splitlines()), done.stderr
    assert "mrs_qgis_plugin" not in done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mrs_dying.py"]


CHANGED_IN_A_MAP = """
import os, runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.mrs_qgis_plugin.raster import predict
real, done = predict._classify_tile, []
def changing(*arguments):
    done.append(1)
    open(os.path.join({tiles!r}, os.environ["RANK"] + "-" + str(len(done))), "w").close()
    if os.environ["RANK"] == "1" and len(done) == 2:
        stamp = os.stat({hsi!r})
        os.utime({hsi!r}, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))
    return real(*arguments)
predict._classify_tile = changing
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end(sys.argv[1:]))
"""
"""bin/mrs whose rank 1 sets the hyperspectral file's time back in its second tile, as another
program writing it in place; every process marks its tiles in a folder."""


def test_a_file_changed_under_a_classification_stops_both_processes_at_the_round_s_end(scene, classifier, tmp_path):
    """A review of 2026-12-06: a change one process saw was said at the end, once the rest of the
    scene was classified for nothing; the processes now take it to the round's vote."""
    paths, _layers, _folder = scene
    hsi, tiles = tmp_path / "hsi.tif", tmp_path / "tiles"
    gdal.Translate(str(hsi), str(paths.hsi)).FlushCache()
    tiles.mkdir()
    script = tmp_path / "mrs_changing.py"
    script.write_text(CHANGED_IN_A_MAP.format(mrs=str(ROOT / "bin" / "mrs"), hsi=str(hsi), tiles=str(tiles)))
    output = tmp_path / "map.tif"
    done = subprocess.run(torchrun_command("classify", script, MODEL=classifier,
                                           **{**scene_layers(paths), "INPUT_HSI": str(hsi)}, TILE_SIZE=16,
                                           DEVICE="cpu", OUTPUT=output),
                          capture_output=True, text=True, timeout=200, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    said = (f"The layer 'hsi' changed while this run read it: its file {hsi} has another time of change, at the same "
            "size (written in place, or only its time set), so what was read may mix its old and new contents, and "
            "nothing was written. Run again once the file is as it should be.")
    assert done.returncode != 0 and done.stderr.count(said) == 1, done.stderr
    assert sorted(path.name for path in tiles.iterdir()) == ["0-1", "0-2", "1-1", "1-2"]  # of 9 tiles
    assert sorted(path.name for path in tmp_path.iterdir()) == ["hsi.tif", "mrs_changing.py", "tiles"]


@pytest.mark.parametrize("environment,said", [
    ({"RANK": "1"}, "RANK is set, as torchrun sets it, but WORLD_SIZE, LOCAL_RANK and MASTER_ADDR are not: start the "
                    "run with torchrun, or unset RANK."),
    ({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"},
     "RANK (2), WORLD_SIZE (2) and LOCAL_RANK (0) must be whole numbers, RANK below WORLD_SIZE: start the run with "
     "torchrun, or unset those variables."),
    ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"},
     "MASTER_PORT is not set: give the port on which process 0 waits for the others (a whole number from 1 to 65535), "
     "or start the run with torchrun, which sets it."),
    ({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "abc"},
     "MASTER_PORT is 'abc': give the port on which process 0 waits for the others (a whole number from 1 to 65535), "
     "or start the run with torchrun, which sets it."),
])
def test_launcher_variables_set_in_part_or_out_of_range_are_refused_in_one_sentence(monkeypatch, environment, said):
    """A helper's red team of 2026-12-05: RANK alone left set made bin/mrs silent; no MASTER_PORT, or
    'abc', gave a traceback."""
    from mrs.model_core.errors import DeviceError
    from mrs.model_core.launcher import ENVIRONMENT, launched

    for name in (*ENVIRONMENT, "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(DeviceError) as refused:
        launched()
    assert str(refused.value).startswith(said)


def test_kubeflow_s_variables_without_local_rank_launch_one_process_per_machine(monkeypatch):
    """Kubeflow's PyTorchJob sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, not LOCAL_RANK, which
    torch's rendezvous does not need (review of 2026-12-05: they were refused)."""
    from mrs.model_core.launcher import launched, local_rank

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    for name, value in {"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "master-0", "MASTER_PORT": "23456"}.items():
        monkeypatch.setenv(name, value)
    assert launched() and local_rank() == 0


WAITING = """
import runpy, signal, sys
runpy.run_path({mrs!r})["import_package"]()
import torch
from osgeo import gdal
from mrs.model_core import distributed
from mrs.model_core.hooks import Hooks, cancel_on_sigterm
with cancel_on_sigterm(Hooks()):
    print("waiting", flush=True)
    distributed.start(torch.device("cpu"))
"""
"""A process of a 2-process run whose partner never comes, with the handlers of a job (cancel on SIGTERM)."""


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_process_waiting_for_its_partners_ends_at_once_on_sigterm_or_ctrl_c(tmp_path, number):
    """A helper's red team of 2026-12-05: a process whose partner was never started ignored SIGTERM and
    Ctrl-C, then after 30 minutes ended in a traceback."""
    import socket
    import time

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    script = tmp_path / "waiting.py"
    script.write_text(WAITING.format(mrs=str(ROOT / "bin" / "mrs")))
    environment = {**os.environ, "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                   "MASTER_PORT": str(port)}
    process = subprocess.Popen([sys.executable, str(script)], env=environment, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "waiting\n"
        time.sleep(2.0)
        assert process.poll() is None  # waiting
        process.send_signal(number)
        assert process.wait(timeout=15) == -number
    finally:
        process.kill()
        process.wait()


WAITING_BY_HAND = """
import runpy, sys
runpy.run_path({mrs!r})["import_package"]()
from mrs.model_core import distributed
distributed.JOIN_NOTICE_SECONDS = 1.0
from mrs.mrs_qgis_plugin.cli import run_to_the_end
sys.exit(run_to_the_end(sys.argv[1:]))
"""
"""bin/mrs that says after a second that its partners have not joined."""


@pytest.mark.parametrize("rank", [0, 1])
def test_a_process_started_by_hand_whose_partners_do_not_come_says_that_it_waits_for_them(scene, tmp_path, rank):
    """A review of 2026-12-06: a process whose RANK and WORLD_SIZE were set by hand printed nothing
    after its CPU threads while it waited for a partner never started; a second review: rank 1's
    notice went to the log that only rank 0 prints."""
    import socket

    paths, _layers, _folder = scene
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    script = tmp_path / "waiting.py"
    script.write_text(WAITING_BY_HAND.format(mrs=str(ROOT / "bin" / "mrs")))
    environment = {**ENVIRONMENT, "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank),
                   "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    process = subprocess.Popen([sys.executable, str(script), "pretrain", *arguments(
        **scene_layers(paths), **PRETRAIN, OUTPUT=tmp_path / "model.safetensors")], env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(60, process.kill)  # a process that never says it fails the test, not hangs it
    watchdog.start()
    try:
        said = next((line for line in process.stderr if "Waiting" in line), "nothing said")
        assert said == ("" if rank == 0 else "(rank 1) ") + (
            f"Waiting for the other processes of this 2-process run to join at MASTER_ADDR 127.0.0.1:{port}; Ctrl-C "
            "ends the wait. Start every process with the same torchrun command, MASTER_ADDR and MASTER_PORT.\n")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == -signal.SIGINT
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()


LEAVING = """
import os, runpy, sys, time
runpy.run_path({mrs!r})["import_package"]()
import torch
from mrs.model_core import distributed
distributed.start(torch.device("cpu"))
if os.environ["RANK"] == "1":
    time.sleep(60)  # never at the leaving's barrier: held in another exchange, say
    os._exit(0)
from mrs.mrs_qgis_plugin.terminal import end_at_once_on_signals
end_at_once_on_signals(0)  # as bin/mrs does once the run is over
print("leaving", flush=True)
distributed.end_process(0)
"""
"""Two processes of a run, rank 0 leaving (as after its results) while rank 1 never comes to leave."""


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_process_waiting_for_its_partners_to_leave_ends_at_once_on_sigterm_or_ctrl_c(tmp_path, number):
    """A helper's review of 2026-12-06: with Python's handlers set once the run was over, SIGTERM to a
    process waiting for the others at the end waited for gloo's timeout (30 minutes by default)."""
    import socket
    import time

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    script = tmp_path / "leaving.py"
    script.write_text(LEAVING.format(mrs=str(ROOT / "bin" / "mrs")))
    processes = [subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env={
        **os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank), "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port)}) for rank in (0, 1)]
    try:
        assert processes[0].stdout.readline() == "leaving\n"
        time.sleep(2.0)
        assert processes[0].poll() is None  # waiting
        processes[0].send_signal(number)
        assert processes[0].wait(timeout=15) == -number
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_a_rendezvous_that_fails_is_said_in_one_sentence(monkeypatch):
    """A helper's red team of 2026-12-05: 1/2 clients joined after 1801 s ended in torch's traceback."""
    import torch.distributed as dist

    from mrs.model_core import distributed
    from mrs.model_core.errors import DeviceError

    for name, value in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": "29511"}.items():
        monkeypatch.setenv(name, value)

    def timed_out(backend):
        raise RuntimeError("Timed out after 1801 seconds waiting for clients. 1/2 clients joined.\nmore")

    monkeypatch.setattr(dist, "init_process_group", timed_out)
    with pytest.raises(DeviceError) as refused:
        distributed.start(torch.device("cpu"))
    assert str(refused.value) == (
        "The 2 processes of this run did not all meet at MASTER_ADDR 127.0.0.1:29511 (Timed out after 1801 seconds "
        "waiting for clients. 1/2 clients joined.): start every process with the same torchrun command, the same "
        "MASTER_ADDR and MASTER_PORT and a WORLD_SIZE of the processes started.")
