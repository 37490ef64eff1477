"""Pretraining patches read from the rasters batch by batch: the same training as with
every patch in memory, and memory that does not grow with SAMPLES."""

import os
import time
import tracemalloc

import numpy as np
import pytest
import torch
from rasters import write_raster

from mrs.model_core import model_file
from mrs.model_core.config import PRESETS
from mrs.model_core.errors import Canceled, InputError, ModelFileError
from mrs.model_core.hooks import Hooks
from mrs.model_core.preprocessing import Normalizer
from mrs.model_core.training import MaskingSettings, TrainSettings, checkpoint_path_for, pretrain
from mrs.mrs_qgis_plugin import analysis, jobs
from mrs.mrs_qgis_plugin.raster import TILE_SIZE
from mrs.mrs_qgis_plugin.raster.samples import random_valid_positions
from mrs.mrs_qgis_plugin.raster.sources import RasterInput
from mrs.mrs_qgis_plugin.raster.stats import sample_valid_pixels
from mrs.mrs_qgis_plugin.streaming import MAX_POSITIONS, ScenePatches, normalised_patches

TINY = PRESETS["tiny"]


def scene_layers(tmp_path, size: int, n_hsi: int = 6) -> jobs.Layers:
    rng = np.random.default_rng(0)
    hsi = write_raster(tmp_path / "hsi.tif", rng.normal(size=(n_hsi, size, size)).astype(np.float32))
    aux = write_raster(tmp_path / "aux.tif", rng.normal(size=(1, size, size)).astype(np.float32))
    return jobs.Layers(RasterInput(hsi, "hsi"), [RasterInput(aux, "aux")])


def test_streamed_pretraining_equals_pretraining_on_patches_held_in_memory(tmp_path):
    settings = TrainSettings(epochs=2, batch_size=40, lr=2e-3, seed=3, device="cpu", precision="fp32")
    with scene_layers(tmp_path, 100).open(Hooks()) as scene:
        normalizer = Normalizer.fit(sample_valid_pixels(scene, 2000, 0))
        rows, cols = random_valid_positions(scene, 120, 0)
        streamed = ScenePatches(scene, rows, cols, TINY.patch, normalizer, {})
        held = normalised_patches(scene, rows, cols, TINY.patch, normalizer)
        assert streamed.shape == held.shape == (120, 7, TINY.patch, TINY.patch)
        order = torch.randperm(120, generator=torch.Generator().manual_seed(1))
        fetched, targets = streamed.fetch(order, torch.device("cpu"))
        assert targets is None
        np.testing.assert_array_equal(fetched.numpy(), held[order.numpy()].astype(np.float32))
        one_block = ScenePatches(scene, rows, cols, TINY.patch, normalizer, {}, budget=1)
        np.testing.assert_array_equal(one_block.fetch(order, torch.device("cpu"))[0].numpy(), fetched.numpy())
        assert len(one_block.blocks.cache) == 1
        models = {}
        for name, patches in (("streamed", streamed), ("held", held)):
            path = str(tmp_path / f"{name}.safetensors")
            trained = pretrain(patches, n_hsi=6, config=TINY, masking_settings=MaskingSettings(),
                               settings=settings, description={})
            assert trained.metadata["training"]["samples"] == 120
            trained.write(path)
            models[name] = model_file.load(path, [model_file.PRETRAINED])[0]
    assert all(torch.equal(models["streamed"][key], models["held"][key]) for key in models["held"])


def test_the_fingerprint_follows_the_positions(tmp_path):
    with scene_layers(tmp_path, 40).open(Hooks()) as scene:
        normalizer = Normalizer.fit(sample_valid_pixels(scene, 500, 0))
        rows, cols = random_valid_positions(scene, 50, 0)
        same = [ScenePatches(scene, rows, cols, 5, normalizer, {"hsi_layer": "hsi"}).fingerprint() for _ in range(2)]
        moved = ScenePatches(scene, rows, (cols + 1) % 40, 5, normalizer, {"hsi_layer": "hsi"}).fingerprint()
        renamed = ScenePatches(scene, rows, cols, 5, normalizer, {"hsi_layer": "hsi copy"}).fingerprint()
        described = ScenePatches(scene, rows, cols, 5, normalizer, {
            "hsi_layer": "hsi", "aux_band_counts": [1], "pixel_size_m": 1.0, "pixel_sides_m": [1.0, 1.0],
            "sample_settings": {"samples": 50}}).fingerprint()  # the last two recorded from the night of 2026-12-05
    assert same[0] == same[1] == renamed != moved  # a renamed layer resumes (it was refused as other samples)
    assert described == same[0]  # a checkpoint written before models recorded these resumes (review of 2026-12-05)


def test_a_billion_samples_neither_allocates_the_patches_nor_waits_before_training(tmp_path):
    """200 x 200 pixels of 9 bands: holding every 5 x 5 patch would take 18 MB; the streamed
    run stays far below, and its first batch trains at once."""
    layers = scene_layers(tmp_path, 200, n_hsi=8)
    lines, progress = [], []
    hooks = Hooks(progress=progress.append, log=lines.append, is_canceled=lambda: bool(progress) and progress[-1] > 0.06)
    tracemalloc.start()
    try:
        with pytest.raises(Canceled):
            jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=10 ** 9,
                              settings=TrainSettings(epochs=1, batch_size=64, device="cpu", precision="fp32"),
                              output=str(tmp_path / "model.safetensors"), hooks=hooks)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 9e6, f"peak {peak / 1e6:.1f} MB"
    assert f"SAMPLES is 1,000,000,000; pretraining draws at most {MAX_POSITIONS:,} positions" in " ".join(lines)
    assert any(line.startswith("Pretraining: 40,000 samples, 1 epoch of 625 batches") for line in lines)
    checkpoint = model_file.read_metadata(str(tmp_path / "model.checkpoint.safetensors"), [model_file.CHECKPOINT])
    assert checkpoint["checkpoint"]["state"]["step"] == 1


@pytest.mark.parametrize("samples,extent,expected", [
    (10, None, ["SAMPLES is 10, fewer than one batch (BATCH_SIZE 64): every epoch takes the same 10 patches in one "
                "step, too few for pretrained features that help a classifier; the default draws 10,000."]),
    (64, None, []),
    # A helper's red team of 2026-12-05: an EXTENT of 3 x 3 pixels gave 9 patches, said in info lines only.
    (300, (1.2, 3.8), ["Only 9 patches can be drawn (the valid pixels of EXTENT), fewer than one batch (BATCH_SIZE "
                       "64): every epoch takes the same 9 patches in one step, too few for pretrained features that "
                       "help a classifier. Give a larger EXTENT."]),
    (64, (1.2, 18.8), [])])
def test_a_pretraining_of_fewer_samples_than_one_batch_is_warned_of(tmp_path, samples, extent, expected):
    """Own bad input of 2026-12-05: SAMPLES 1 pretrained a model on one patch, said in an info line only."""
    from rasters import ORIGIN_X, ORIGIN_Y

    warnings, lines = [], []
    hooks = Hooks(log=lines.append, warn=warnings.append,
                  is_canceled=lambda: any(line.startswith("Statistics sample") for line in lines))
    window = extent and (ORIGIN_X + extent[0], ORIGIN_Y - extent[1], ORIGIN_X + extent[1], ORIGIN_Y - extent[0])
    with pytest.raises(Canceled):
        jobs.pretrain_job(scene_layers(tmp_path, 24), preset="tiny", masking=MaskingSettings(), samples=samples,
                          settings=TrainSettings(epochs=1, batch_size=64, device="cpu"),
                          output=str(tmp_path / "m.safetensors"), hooks=hooks, extent=window)
    assert [line for line in warnings if line.startswith(("SAMPLES", "Only"))] == expected


@pytest.mark.parametrize("preset,size,epochs,expected", [
    ("paper", 100, 5, ["9,600 samples x 5 epochs take about 10 min 00 s (as measured on 2 cores)"]),
    ("paper", 40, 5, ["1,600 samples x 5 epochs take about 1 min 40 s (as measured on 2 cores)"]),
    ("paper", 40, 1, ["1,600 samples x 1 epoch take about 20 s (as measured on 2 cores)"]),  # '1 epochs' (12-06)
    ("small", 100, 5, [])])
def test_pretraining_the_paper_model_on_a_cpu_logs_the_time_it_takes(tmp_path, preset, size, epochs, expected):
    """The warning counts the samples drawn: a 40 x 40 scene has 1600 valid pixels, not the 9600 asked."""
    lines = []
    hooks = Hooks(log=lines.append, is_canceled=lambda: any(line.startswith("Statistics sample") for line in lines))
    with pytest.raises(Canceled):
        jobs.pretrain_job(scene_layers(tmp_path, size), preset=preset, masking=MaskingSettings(), samples=9600,
                          settings=TrainSettings(epochs=epochs, device="cpu"), output=str(tmp_path / "m.safetensors"),
                          hooks=hooks)
    said = [line.split("these ")[1].split(";")[0] for line in lines if "meant for a GPU" in line]
    assert said == expected
    assert any(line.endswith("the small model learns the same recipe about 8 times faster.") for line in lines) == (
        bool(expected))


@pytest.mark.parametrize("preset,expected", [
    ("paper", ["576 samples x 50 epochs take about 2 min 40 s (as measured on 2 cores); the small model learns the "
               "same recipe about 4 times faster."]),
    ("small", [])])
def test_fine_tuning_the_paper_model_on_a_cpu_logs_the_time_it_takes(tmp_path, preset, expected):
    """A helper's red team of 2026-12-05: 120,000 points x 100 epochs of the paper model on a CPU
    (about 14 hours) gave no estimate until the first epoch ended, 9 minutes in."""
    lines = []
    hooks = Hooks(log=lines.append, is_canceled=lambda: any(line.startswith("Fine-tuning:") for line in lines))
    labels = write_raster(tmp_path / "labels.tif", (np.arange(24 * 24).reshape(1, 24, 24) % 2 + 1).astype(np.uint8))
    with pytest.raises(Canceled):
        jobs.finetune_job(scene_layers(tmp_path, 24), jobs.LabelSource("labels", raster_path=labels), pretrained=None,
                          preset=preset, val_fraction=0.0, settings=TrainSettings(epochs=50, device="cpu"),
                          class_weighting=False, output=str(tmp_path / "m.safetensors"), hooks=hooks)
    assert [line.split("these ")[1] for line in lines if "meant for a GPU" in line] == expected


@pytest.mark.parametrize("job", ["pretrain", "finetune"])
def test_a_training_holds_its_output_so_that_a_second_run_on_it_is_refused(tmp_path, job):
    """A training writes its model file at its end only: a second run on the same OUTPUT started
    and wrote the first one's checkpoint, whose RESUME then refused the first run's settings or,
    with the same settings, took the other run's state (red team of 2026-12-04)."""
    from mrs.mrs_qgis_plugin.raster.outputs import claim_outputs

    layers, output = scene_layers(tmp_path, 24), str(tmp_path / "model.safetensors")
    refusals = []

    def second_run(_fraction):
        for path in (output, checkpoint_path_for(output)):  # the checkpoint too (red team of 2026-12-04)
            with pytest.raises(InputError) as refused:
                claim_outputs({"OUTPUT": path}, {})
            refusals.append(str(refused.value).replace(path, "PATH"))

    hooks = Hooks(progress=second_run)
    settings = TrainSettings(epochs=1, batch_size=16, device="cpu", precision="fp32")
    if job == "pretrain":
        jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64, settings=settings,
                          output=output, hooks=hooks)
    else:
        labels = write_raster(tmp_path / "labels.tif", (np.arange(24 * 24).reshape(1, 24, 24) % 2 + 1).astype(np.uint8))
        jobs.finetune_job(layers, jobs.LabelSource("labels", raster_path=labels), pretrained=None, preset="tiny",
                          val_fraction=0.0, settings=settings, class_weighting=False, output=output, hooks=hooks)
    assert refusals and set(refusals) == {"OUTPUT: PATH is being written by another run now; wait until it has "
                                          "ended, or choose another output file name."}
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["hsi.tif", "aux.tif", "model.safetensors"] + (["labels.tif"] if job == "finetune" else []))
    claim_outputs({"OUTPUT": output}, {})  # the run has ended: the output is free again


def traced_peak(work) -> int:
    """Bytes of the largest Python and numpy allocation footprint while `work()` runs."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_accuracy_assessment_holds_a_few_arrays_of_the_reference_pixels(tmp_path):
    """A reference of millions of labelled pixels is read whole; it held about 140 bytes per pixel
    (1.3 GB of resident memory for 9 megapixels: the pixel positions twice, a sort of them with
    their classes, a Python list of every class): now under 80."""
    rng = np.random.default_rng(0)
    truth = rng.integers(1, 8, (1, 600, 600)).astype(np.uint8)
    mapped = np.where(rng.random(truth.shape) < 0.1, 1, truth).astype(np.uint8)
    reference = write_raster(tmp_path / "reference.tif", truth, nodata=0)
    class_map = write_raster(tmp_path / "map.tif", mapped, nodata=0)
    figures = {}
    peak = traced_peak(lambda: figures.update(analysis.accuracy_job(
        class_map, "map", jobs.LabelSource("reference", raster_path=reference), out_json=str(tmp_path / "a.json"))))
    assert figures["overall_accuracy"] == pytest.approx(np.mean(mapped == truth))
    assert peak / truth.size < 80, f"{peak / truth.size:.0f} bytes per reference pixel"


@pytest.mark.parametrize("job", ["pretrain", "finetune"])
def test_a_file_where_the_checkpoint_goes_that_is_no_checkpoint_is_refused_before_the_training(tmp_path, job):
    """A classifier or a text file named like OUTPUT's checkpoint was deleted at the end of the
    run, or written over on cancel (red team of 2026-12-04); a checkpoint there is the run's own."""
    layers, output = scene_layers(tmp_path, 24), str(tmp_path / "model.safetensors")
    checkpoint = tmp_path / "model.checkpoint.safetensors"
    checkpoint.write_text("notes")
    settings = TrainSettings(epochs=1, batch_size=16, device="cpu", precision="fp32")
    with pytest.raises(ModelFileError, match=rf"^OUTPUT's checkpoint: '{checkpoint}' exists and is not an MRS model "
                                             r"file; writing a training checkpoint there would destroy it\."):
        if job == "pretrain":
            jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64, settings=settings,
                              output=output, hooks=Hooks())
        else:
            labels = write_raster(tmp_path / "labels.tif", np.ones((1, 24, 24), np.uint8))
            jobs.finetune_job(layers, jobs.LabelSource("labels", raster_path=labels), pretrained=None, preset="tiny",
                              val_fraction=0.0, settings=settings, class_weighting=False, output=output, hooks=Hooks())
    assert checkpoint.read_text() == "notes" and not os.path.exists(output)


def test_a_checkpoint_within_its_first_epoch_is_said_by_its_batches():
    """A helper's red team of 2026-12-05: a checkpoint of 2 batches refused the next run as holding
    'the progress of an earlier fine-tuning (0 of its 4 epochs done)'."""
    info = {"phase": "fine-tuning", "settings": {"epochs": 4}, "state": {"epoch": 0, "step": 2}}
    assert jobs._progress(info) == ("fine-tuning", "fine-tuning (2 batches of the first of its 4 epochs done)")
    info["state"] = {"epoch": 1, "step": 9}
    assert jobs._progress(info) == ("fine-tuning", "fine-tuning (1 of its 4 epochs done)")


def pretraining_run(tmp_path, epochs: int):
    """A pretraining of a 24 x 24 scene into model.safetensors: its layers, OUTPUT and settings, and a run of
    them (hooks, resume)."""
    layers, output = scene_layers(tmp_path, 24), str(tmp_path / "model.safetensors")
    settings = TrainSettings(epochs=epochs, batch_size=16, device="cpu", precision="fp32")

    def pretrain_job(hooks, resume=None):
        jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64, settings=settings,
                          output=output, hooks=hooks, resume=resume)

    return layers, output, settings, pretrain_job


def test_a_stopped_run_s_checkpoint_is_kept_until_it_is_resumed(tmp_path):
    """Red team of 2026-12-05: a new training on the same OUTPUT (or a fine-tuning on the
    pretraining's OUTPUT name) deleted a stopped run's checkpoint, its progress, without a word."""
    layers, output, settings, pretrain_job = pretraining_run(tmp_path, epochs=3)
    steps = []
    with pytest.raises(Canceled):
        pretrain_job(Hooks(progress=steps.append, is_canceled=lambda: len(steps) > 6))
    checkpoint = checkpoint_path_for(output)
    kept = open(checkpoint, "rb").read()
    done = model_file.read_metadata(checkpoint, [model_file.CHECKPOINT])["checkpoint"]["state"]["epoch"]
    refusal = (f"OUTPUT's checkpoint: {checkpoint} holds the progress of an earlier pretraining ({done} of its 3 "
               "epochs done), which this run would delete. {}, delete it to start afresh, or choose another output "
               "file name.")
    with pytest.raises(InputError) as refused:
        pretrain_job(Hooks())
    assert str(refused.value) == refusal.format(f"Resume it (RESUME: {checkpoint}; a step of a graphical model that "
                                                "does not offer RESUME: run the step alone with it)")
    labels = write_raster(tmp_path / "labels.tif", (np.arange(24 * 24).reshape(1, 24, 24) % 2 + 1).astype(np.uint8))
    with pytest.raises(InputError) as refused:
        jobs.finetune_job(layers, jobs.LabelSource("labels", raster_path=labels), pretrained=None, preset="tiny",
                          val_fraction=0.0, settings=settings, class_weighting=False, output=output, hooks=Hooks())
    assert str(refused.value) == refusal.format("Resume it with the pretraining that wrote it (its RESUME)")
    assert open(checkpoint, "rb").read() == kept and not os.path.exists(output)
    pretrain_job(Hooks(), resume=checkpoint)
    assert os.path.exists(output) and not os.path.exists(checkpoint)
    # a run killed after it put its model in place, before it deleted its checkpoint, finished: the model
    # is newer than the checkpoint, which is no progress to keep (a helper's red team of 2026-12-05: refused
    # as '1 of its 3 epochs done' ever after)
    with open(checkpoint, "wb") as stream:
        stream.write(kept)
    os.utime(output, (os.path.getmtime(checkpoint) + 5,) * 2)
    pretrain_job(Hooks())
    assert not os.path.exists(checkpoint)
    # a model of another run (other samples) written after the checkpoint does not make it stale (a review)
    steps.clear()
    with pytest.raises(Canceled):
        jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=48, settings=settings,
                          output=output, hooks=Hooks(progress=steps.append, is_canceled=lambda: len(steps) > 6))
    os.utime(output, (os.path.getmtime(checkpoint) + 5,) * 2)
    with pytest.raises(InputError, match="holds the progress of an earlier pretraining"):
        pretrain_job(Hooks())


def test_a_checkpoint_of_no_batch_is_no_progress_to_keep(tmp_path):
    """Session of 2026-12-05: a pretraining canceled at once left a checkpoint of no batch, which a
    new run on the same OUTPUT then refused as the progress of an earlier run."""
    layers, output = scene_layers(tmp_path, 24), str(tmp_path / "model.safetensors")
    settings = TrainSettings(epochs=1, batch_size=16, device="cpu", precision="fp32")

    def pretrain_job(hooks):
        jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=32, settings=settings,
                          output=output, hooks=hooks)

    lines: list = []  # canceled once the training starts, before its first batch
    with pytest.raises(Canceled):
        pretrain_job(Hooks(log=lines.append, is_canceled=lambda: any(line.startswith("Pretraining:") for line in lines)))
    assert model_file.read_metadata(checkpoint_path_for(output), [model_file.CHECKPOINT])["checkpoint"]["state"][
        "step"] == 0
    pretrain_job(Hooks())
    assert os.path.exists(output) and not os.path.exists(checkpoint_path_for(output))


def test_samples_of_one_class_on_one_pixel_are_said_to_count_once_in_training(tmp_path):
    """Red team of 2026-12-05: 420 points, each given twice 0.3 m apart, trained 210 pixels, and the
    log said 210 labelled pixels without a word of the others (mrs:accuracy says so of a reference)."""
    from rasters import pixel_centre, point_wkt, write_vector
    from osgeo import ogr

    layers = scene_layers(tmp_path, 24)
    features = [(point_wkt(x + shift, y), {"class": 1 + row % 2}) for row in range(8)
                for x, y in [pixel_centre(row, 3)] for shift in (0.0, 0.3)]
    points = write_vector(tmp_path / "points.gpkg", features, {"class": ogr.OFTInteger})
    lines: list = []
    jobs.finetune_job(layers, jobs.LabelSource("points", vector_path=points, class_field="class"), pretrained=None,
                      preset="tiny", val_fraction=0.0, settings=TrainSettings(epochs=1, batch_size=8, device="cpu"),
                      class_weighting=False, output=str(tmp_path / "model.safetensors"), hooks=Hooks(log=lines.append))
    assert "8 samples of 'points' fall on a pixel that another sample of their class holds: each such pixel is " \
           "trained on once." in lines


def test_labels_read_on_many_bands_do_not_hold_the_bands_of_every_labelled_pixel(tmp_path):
    """Which labelled pixels hold data was found by reading every band of every one of them into
    one array: 240 bytes per pixel on 60 bands. Now the peak is one tile of the scene read (its
    60 bands) and under 150 bytes per labelled pixel (about 90: the positions and classes as
    read, sorted, and the result)."""
    size, bands = 400, 60
    layers = scene_layers(tmp_path, size, n_hsi=bands - 1)
    labels = write_raster(tmp_path / "labels.tif",
                          np.random.default_rng(1).integers(1, 5, (1, size, size)).astype(np.uint8))
    with layers.open(Hooks()) as scene:
        found = []
        peak = traced_peak(lambda: found.append(jobs.LabelSource("labels", raster_path=labels).read(scene, Hooks())))
    assert len(found[0].values) == size * size
    one_tile = 1.3 * bands * TILE_SIZE ** 2 * 4
    assert (peak - one_tile) / size ** 2 < 150, f"{(peak - one_tile) / size ** 2:.0f} bytes per labelled pixel"


def test_a_pretraining_whose_input_is_touched_after_it_was_read_writes_its_model(tmp_path):
    """A helper's red team of 2026-12-06: `touch hsi.tif` (or gdaladdo) 6 s into a pretraining, its
    scene read whole in the first epoch, threw every epoch away at the end ('another program wrote
    its file'). A file written before a read the run makes is refused as before (test_raster_sources)."""
    layers = scene_layers(tmp_path, 24)
    touched = []

    def progress(fraction: float) -> None:
        if fraction > 0.5 and not touched:  # epochs after the first read nothing from the files
            stamp = os.stat(layers.hsi.path)
            os.utime(layers.hsi.path, ns=(stamp.st_atime_ns, time.time_ns() + 60 * 10 ** 9))
            touched.append(fraction)

    output = str(tmp_path / "p.safetensors")
    jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64,
                      settings=TrainSettings(epochs=3, batch_size=16, device="cpu", precision="fp32"),
                      output=output, hooks=Hooks(progress=progress))
    assert touched and os.path.isfile(output)


def test_a_checkpoint_does_not_resume_a_pretraining_on_pixels_edited_since(tmp_path):
    """Two areas of the scene swapped between the runs leave its medians and percentiles: the run resumed them
    without a word (a helper's red team of 2026-12-06)."""
    from osgeo import gdal

    layers, output, _settings, pretrain_job = pretraining_run(tmp_path, epochs=2)
    steps = []
    with pytest.raises(Canceled):
        pretrain_job(Hooks(progress=steps.append, is_canceled=lambda: len(steps) > 6))
    checkpoint = checkpoint_path_for(output)
    dataset = gdal.Open(layers.hsi.path, gdal.GA_Update)
    values = dataset.ReadAsArray()
    values[:, :5, :5], values[:, 10:15, 10:15] = values[:, 10:15, 10:15].copy(), values[:, :5, :5].copy()
    dataset.WriteArray(values)
    dataset = None
    with pytest.raises(ModelFileError) as refused:
        pretrain_job(Hooks(), resume=checkpoint)
    assert str(refused.value) == (
        f"RESUME: the checkpoint '{checkpoint}' does not continue this run: its training samples differ from this "
        "run's (other layers or values in them, another MASK, EXTENT, SAMPLES or SEED, or MORE_SCENES). Resume with "
        "the same layers and settings, or start without RESUME.")


def test_a_checkpoint_resumed_into_another_output_is_said_to_be_kept(tmp_path):
    """A helper's red team of 2026-12-05: resumed into b.safetensors, a.checkpoint.safetensors stayed
    without a word, and refused every later run on a as the progress of an earlier pretraining."""
    layers, first = scene_layers(tmp_path, 24), str(tmp_path / "a.safetensors")
    settings = TrainSettings(epochs=2, batch_size=16, device="cpu", precision="fp32")
    steps: list = []
    with pytest.raises(Canceled):
        jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64, settings=settings,
                          output=first, hooks=Hooks(progress=steps.append, is_canceled=lambda: len(steps) > 3))
    checkpoint, lines = checkpoint_path_for(first), []
    jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64, settings=settings,
                      output=str(tmp_path / "b.safetensors"), hooks=Hooks(log=lines.append), resume=checkpoint)
    assert os.path.isfile(checkpoint) and lines[-1] == (
        f"The checkpoint resumed, {checkpoint}, is kept: it is OUTPUT {first}'s, and refuses the runs on that "
        f"OUTPUT as their progress. This run's model, {tmp_path / 'b.safetensors'}, holds its progress now: delete the "
        "checkpoint unless it is to be resumed again.")


def test_a_checkpoint_s_model_file_is_found_whatever_the_case_of_its_extension(tmp_path):
    """A helper's red team of 2026-12-06: the model file of 'UP2.checkpoint.safetensors' was taken to be
    'UP2.safetensors' beside the 'UP2.SAFETENSORS' there was."""
    from mrs.model_core.paths import output_path_of

    checkpoint = str(tmp_path / "UP2.checkpoint.safetensors")
    assert output_path_of(checkpoint) == str(tmp_path / "UP2.safetensors")  # none yet: the lower-case one
    (tmp_path / "UP2.SAFETENSORS").write_bytes(b"model")
    (tmp_path / "UP2.safetensors.txt").write_bytes(b"other")
    assert output_path_of(checkpoint) == str(tmp_path / "UP2.SAFETENSORS")
    (tmp_path / "UP2.safetensors").write_bytes(b"model")
    assert output_path_of(checkpoint) == str(tmp_path / "UP2.safetensors")
    assert output_path_of(str(tmp_path / "UP2.safetensors")) is None


def test_a_file_changed_under_a_pretraining_of_one_process_is_said_by_that_process(tmp_path, monkeypatch):
    """A review of 2026-12-06: a change one process alone meets is its own to say (a ChangedFileError, which
    every process of a torchrun run says), not a refusal said by the first process of a machine only."""
    from mrs.model_core.errors import ChangedFileError
    from mrs.mrs_qgis_plugin import streaming

    monkeypatch.setattr(streaming.BlockCache, "get", lambda self, key, make: make())  # every batch reads
    layers = scene_layers(tmp_path, 24)
    touched = []

    def progress(fraction: float) -> None:
        if fraction > 0.2 and not touched:
            stamp = os.stat(layers.hsi.path)
            os.utime(layers.hsi.path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10 ** 10))
            touched.append(fraction)

    with pytest.raises(ChangedFileError) as refused:
        jobs.pretrain_job(layers, preset="tiny", masking=MaskingSettings(), samples=64,
                          settings=TrainSettings(epochs=3, batch_size=16, device="cpu", precision="fp32"),
                          output=str(tmp_path / "p.safetensors"), hooks=Hooks(progress=progress))
    assert str(refused.value).startswith("The layer 'hsi' changed while this run read it")
