"""Second audit of the benchmark scripts' arithmetic and report keys: roundings, keys and table lines the first
audit's tests (tests/test_bench_audit.py) left unpinned, checked on small fakes, never on a real benchmark."""

import argparse
import json
import statistics
import types

import numpy as np
import pytest
import torch
from osgeo import gdal

from test_bench_audit import (ROOT, SPEED_ENTRY, SPEED_MODEL, TRAIN, accuracy, accuracy_arguments,  # noqa: F401
                              accuracy_record, common, fake_accuracy_jobs, labelled_scene_data, model_speed,
                              pipeline_speed, pretrain_diagnostics, pretrain_memory, raster, recipe_table, speed,
                              suggest_gain)

from model_core.hooks import Hooks


def test_peaks_are_each_precision_s_own_matmul_peak_to_one_decimal(monkeypatch):
    """peaks(): fp32 and bf16 timed in their own dtype, rounded to 0.1 GFLOP/s."""
    monkeypatch.setattr(common, "matmul_peak", lambda device, dtype: {torch.float32: 123.456,
                                                                       torch.bfloat16: 789.04}[dtype])
    assert common.peaks(torch.device("cpu")) == {"fp32_matmul_gflops": 123.5, "bf16_matmul_gflops": 789.0}


def test_machine_gives_torch_s_threads_and_the_gpu_s_memory_in_gib(monkeypatch):
    """machine(): torch's thread count (not the core count) and a GPU's memory in GiB to 0.1."""
    monkeypatch.setattr(torch, "get_num_threads", lambda: 7)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device: types.SimpleNamespace(name="Fake GPU", total_memory=int(79.6 * 2 ** 30)))
    info = common.machine(torch.device("cuda", 0))
    assert (info["threads"], info["device"], info["gpu"], info["gpu_memory_gb"]) == (7, "cuda:0", "Fake GPU", 79.6)


def test_write_json_indents_by_two(tmp_path, monkeypatch):
    """The results file is the document indented by two spaces."""
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    document = {"oa": 0.5, "runs": [1, 2]}
    assert common.write_json("probe", document, echo=False).read_text() == json.dumps(document, indent=2)


def test_model_speed_report_keeps_the_reference_and_rounds_figures_and_flops_to_one_decimal(monkeypatch):
    """model_speed's report: peaks and reference figures, MFLOP and rates rounded to 0.1."""
    figures = {"pretrain_samples_per_s": 41.26, "finetune_samples_per_s": 96.04, "classify_pixels_per_s": 152.35}
    measured = {"fp32_matmul_gflops": 75.0, "bf16_matmul_gflops": 300.0}
    monkeypatch.setattr(model_speed, "peaks", lambda device: measured)
    monkeypatch.setattr(model_speed, "flops", lambda config: {"pretrain_step_mflop": 1000.04, "classify_mflop": 500.06,
                                                              "classify_all_tokens_mflop": 899.96})
    monkeypatch.setattr(model_speed, "measure", lambda name, precision, device, seconds, steps: figures)
    monkeypatch.setattr(model_speed, "write_json", lambda name, document: None)
    report = model_speed.main(["--presets", "tiny", "--precisions", "fp32", "--device", "cpu"])
    assert report["peaks"] == measured and report["reference"] == common.REFERENCE
    entry = report["presets"]["tiny"]
    assert entry["mflop"] == {"pretrain_step_mflop": 1000.0, "classify_mflop": 500.1,
                              "classify_all_tokens_mflop": 900.0}
    assert {k: entry["fp32"][k] for k in figures} == {"pretrain_samples_per_s": 41.3, "finetune_samples_per_s": 96.0,
                                                      "classify_pixels_per_s": 152.3}
    assert list(entry) == ["mflop", "fp32"]


@pytest.mark.parametrize("sides", ["512,1024", "1024,512"])
def test_pipeline_report_passes_tile_and_batch_size_and_rounds_the_growth_to_three_decimals(tmp_path, monkeypatch,
                                                                                             sides):
    """pipeline_speed: --tile-size and --batch-size reach the worker and the report; growth to 0.001, from the
    smallest side to the largest however they are given (--sides 1024,512 gave -0.030)."""
    folders = {side: tmp_path / f"scene-{side}" for side in (512, 1024)}
    monkeypatch.setattr(pipeline_speed, "prepare", lambda presets, sides, device, scene: {
        "scenes": {side: folders[side] for side in sides}, "models": {"tiny": tmp_path / "classifier.safetensors"}})
    monkeypatch.setattr(pipeline_speed, "peaks", lambda device: {"fp32_matmul_gflops": 1.0})
    monkeypatch.setattr(pipeline_speed, "bands", lambda folder: 101)
    monkeypatch.setattr(pipeline_speed, "write_json", lambda name, document: None)
    memory, commands = {str(folders[512]): 400.0, str(folders[1024]): 412.3}, []

    def run(command, **options):
        commands.append(command[5:])
        line = {"pixels": 10, "seconds": 2.0, "wall_seconds": 3.0, "pixels_per_s": 5.0,
                "peak_rss_mb": memory[command[4]]}
        return types.SimpleNamespace(stdout=json.dumps(line) + "\n")

    monkeypatch.setattr(pipeline_speed.subprocess, "run", run)
    report = pipeline_speed.main(["--presets", "tiny", "--sides", sides, "--device", "cpu", "--tile-size", "128",
                                  "--batch-size", "32"])
    assert commands == [["--device", "cpu", "--tile-size", "128", "--batch-size", "32"]] * 2
    assert (report["tile_size"], report["batch_size"], report["reference"]) == (128, 32, common.REFERENCE)
    assert report["presets"]["tiny"]["peak_memory_growth_smallest_to_largest"] == 0.031


def test_tiled_copy_keeps_each_band_s_scale_description_and_metadata(tmp_path):
    """tiled_copy carries band scale, description and metadata over."""
    raster(tmp_path / "base.tif", np.arange(6, dtype=np.uint8).reshape(2, 3))
    dataset = gdal.Open(str(tmp_path / "base.tif"), gdal.GA_Update)
    band = dataset.GetRasterBand(1)
    band.SetScale(0.5)
    band.SetDescription("lidar")
    band.SetMetadata({"wavelength": "450"})
    dataset = band = None
    pipeline_speed.tiled_copy(tmp_path / "base.tif", tmp_path / "tiled.tif", 4)
    tiled = gdal.Open(str(tmp_path / "tiled.tif"))
    copy = tiled.GetRasterBand(1)
    assert (copy.GetScale(), copy.GetDescription(), copy.GetMetadata()) == (0.5, "lidar", {"wavelength": "450"})


def test_bands_counts_the_hsi_and_every_auxiliary_raster(tmp_path, monkeypatch):
    """The report's band count is the HSI's bands plus the auxiliary rasters'."""
    for name, count in (("hsi", 3), ("aux", 2)):
        gdal.GetDriverByName("GTiff").Create(str(tmp_path / f"{name}.tif"), 2, 2, count, gdal.GDT_Byte)
    layers = types.SimpleNamespace(hsi=types.SimpleNamespace(path=tmp_path / "hsi.tif"),
                                   aux=[types.SimpleNamespace(path=tmp_path / "aux.tif")])
    monkeypatch.setattr(pipeline_speed, "layers_of", lambda folder: layers)
    assert pipeline_speed.bands(tmp_path) == 5


def test_speed_report_names_both_reference_peaks_and_prints_the_bf16_rows():
    """speed.md: the reference machine's fp32 / bf16 peaks, and one row per precision measured."""
    model = {**SPEED_MODEL, "presets": {"paper": {"bf16": {**SPEED_ENTRY, "pretrain_samples_fraction_of_peak": 0.36}}}}
    memory = {"presets": {"tiny": {"runs": {}, "peak_memory_growth_smallest_to_largest": 0.0}}}
    lines = speed.summary_lines(model, memory, {"presets": {}})
    assert lines[0].endswith("fp32 88.6 GFLOP/s, bf16 202.7 GFLOP/s (reference machine: 150.0 / 880.0).")
    assert "| paper | bf16 | 32.4 (0.36; 0.79x; 1.34x) | 78.8 (1.64x; 2.78x) | 256 (0.83; 1.68x; 2.85x) |" in lines


def test_labels_written_carry_each_class_s_colour_as_red_green_blue(tmp_path):
    """write_labels reads "#rrggbb" in that order (red stays red, blue stays blue)."""
    like = raster(tmp_path / "train.tif", TRAIN)
    classes = [{"value": "1", "name": "Apple", "color": "#ff0010"}, {"value": "3", "name": "Wood", "color": "#2000ff"}]
    accuracy.write_labels(tmp_path / "labels.tif", like, TRAIN, accuracy.protocol_pixels(TRAIN, 1, 0), classes)
    written = gdal.Open(str(tmp_path / "labels.tif"))
    table = written.GetRasterBand(1).GetColorTable()
    assert (table.GetColorEntry(1), table.GetColorEntry(3)) == ((255, 0, 16, 255), (32, 0, 255, 255))


@pytest.mark.parametrize("pretrain_seed, words", [(None, "seed as fine-tuning"), (0, "seed 0")])
def test_accuracy_markdown_header_and_the_all_labels_budget(pretrain_seed, words):
    """accuracy.md: the pretraining seed in words, and the budget 'all' listed as 'all labels'."""
    records = [accuracy_record(seed, oa, budget="all") for seed, oa in enumerate((90.0, 91.5))]
    args = argparse.Namespace(preset="small", pretrain_samples=10000, pretrain_epochs=60, mask_ratio=0.3,
                              normalized_targets=True, pretrain_seed=pretrain_seed, finetune_epochs={"all": 40},
                              finetune_lr=5e-4, encoder_lr_scale=1.0, seeds=[0, 1])
    text = accuracy.markdown(accuracy.summarise(records), args)
    assert text.splitlines()[0] == (
        f"Preset `small`; pretraining 10000 samples x 60 epochs (mask ratio 0.3, normalised targets True, {words}); "
        "fine-tuning epochs {'all': 40}, lr 0.0005, encoder factor 1.0; seeds 0,1.")
    assert "- all labels: none 90.00, 91.50" in text


def test_resumed_accuracy_runs_keep_their_pretraining_time(tmp_path, monkeypatch):
    """Runs found among the saved ones carry the pretraining seconds as fresh ones do (summarise needs them)."""
    jobs, scene = fake_accuracy_jobs(tmp_path, monkeypatch, [])
    args = accuracy_arguments(budgets=[2], seeds=[1])
    records = accuracy.scene_runs(jobs, scene, args, Hooks(), {}, tmp_path)
    again = accuracy.scene_runs(jobs, scene, args, Hooks(), accuracy.load_runs(), tmp_path)
    assert [(r["arm"], r["pretrain_seconds"]) for r in again] == [(r["arm"], r["pretrain_seconds"]) for r in records]
    assert again[0]["pretrain_seconds"] == 0.0 and again[1]["pretrain_seconds"] > 0
    assert accuracy.summarise(again)["scene"]["2"]["mrs"]["pretrain_seconds"] == records[1]["pretrain_seconds"]


def test_accuracy_run_times_fine_tuning_and_classification_apart(tmp_path, monkeypatch):
    """A run's finetune_seconds and classify_seconds are each its own span of the clock."""
    ticks = iter([0.0, 5.0, 7.0])  # started, trained, classified
    monkeypatch.setattr(accuracy, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    jobs, scene = fake_accuracy_jobs(tmp_path, monkeypatch, [])
    args = accuracy_arguments(budgets=[2], seeds=[1], arms=["none"])
    [record] = accuracy.scene_runs(jobs, scene, args, Hooks(), {}, tmp_path)
    assert (record["finetune_seconds"], record["classify_seconds"], record["pretrain_seconds"]) == (5.0, 2.0, 0.0)


def test_suggest_gain_spread_of_two_seeds_is_their_sample_sd():
    """Two seeds already have a spread (sample sd), in points for OA."""
    records = [{"seed": seed, **{arm: {"oa": oa, "aa": oa, "kappa": oa} for arm in suggest_gain.ARMS}}
               for seed, oa in ((0, 0.80), (1, 0.84))]
    records[1]["random"]["oa"] = 0.80
    out = suggest_gain.summary(records)
    assert out["base"]["oa"]["std"] == pytest.approx(statistics.stdev([80.0, 84.0]))
    assert out["base"]["kappa"] == {"mean": pytest.approx(0.82), "std": pytest.approx(statistics.stdev([0.8, 0.84]))}
    assert out["gain_oa_points"] == {"mean": pytest.approx(2.0), "std": pytest.approx(statistics.stdev([0.0, 4.0]))}


def suggest_run(tmp_path, jobs):
    run = object.__new__(suggest_gain.SeedRun)
    run.jobs, run.layers, run.log, run.scene, run.work = jobs, None, Hooks(), tmp_path, tmp_path
    run.train, run.seed = TRAIN, 0
    run.classes = [{"value": str(value), "name": name, "color": "#000000"}
                   for value, name in ((1, "Apple"), (2, "Road"), (3, "Wood"))]
    run.args = argparse.Namespace(min_distance=10.0, device="cpu", pretrained=None, preset="tiny", epochs=1, lr=1e-3,
                                  encoder_lr_scale=1.0)
    return run


def test_suggest_gain_arm_figures_count_labels_per_class(tmp_path, monkeypatch):
    """fit_and_score: the labels used, per class by value, and the map's OA, AA, kappa."""
    import mrs.mrs_qgis_plugin.analysis as analysis
    from mrs.mrs_qgis_plugin.job_inputs import LabelSource

    raster(tmp_path / "train.tif", TRAIN)
    monkeypatch.setattr(analysis, "accuracy_job", lambda *a, **k: {"overall_accuracy": 0.9, "average_accuracy": 0.8,
                                                                   "kappa": 0.7})
    jobs = types.SimpleNamespace(finetune_job=lambda *a, **k: None, classify_job=lambda *a, **k: None,
                                 LabelSource=LabelSource)
    pixels = np.concatenate([accuracy.protocol_pixels(TRAIN, 2, 0), [1]])  # 2, 2, 2 and a third of class 1
    out = suggest_run(tmp_path, jobs).fit_and_score("base", pixels)
    assert (out["labels"], out["labels_per_class"]) == (7, {"Apple": 3, "Road": 2, "Wood": 2})
    assert (out["oa"], out["aa"], out["kappa"]) == (0.9, 0.8, 0.7)


def test_suggested_mean_confidence_is_the_mean(tmp_path):
    """mean_confidence is the arithmetic mean of the suggestions' confidence."""
    raster(tmp_path / "train.tif", TRAIN)

    def suggest_job(model, layers, count, **options):
        return {"rows": np.array([0, 0, 0]), "cols": np.array([1, 2, 3]), "confidence": np.array([0.1, 0.2, 0.9])}

    result = suggest_run(tmp_path, types.SimpleNamespace(suggest_job=suggest_job)).suggested("model", np.array([5]), 3)
    assert result["pixels"].tolist() == [1, 2, 3] and result["mean_confidence"] == pytest.approx(0.4)


def test_recipe_table_mean_fine_tuning_time_and_markdown_rows():
    """recipe_table: fine-tuning seconds are the mean over seeds; its table prints 2 decimals of OA/AA, 4 of kappa."""
    records = [{"scene": "trento_sim", "budget": "5", "arm": "mrs", "seed": seed, "oa": oa, "aa": oa + 1,
                "kappa": oa / 100, "finetune_seconds": 10.0 + 4 * seed, "pretraining_seconds": 1200.4}
               for seed, oa in enumerate((86.0, 88.0))]
    results = recipe_table.summary(records)
    assert results["trento_sim"]["5"]["mrs"]["finetune_seconds"] == 12.0
    args = argparse.Namespace(arms=["mrs"], split="val", seeds=[0, 1], **{k: 1 for k in recipe_table.RECIPE})
    row = "| 5 | mrs | 87.00 ± 1.41 | 88.00 ± 1.41 | 0.8700 ± 0.0141 | 1200 | 12 |"
    assert row in recipe_table.markdown(results, args).splitlines()


def test_probes_report_percentages_over_seeds(monkeypatch):
    """probe_all: accuracy in %, keyed probe/features/budget, mean and sd over the seeds' splits."""
    shares = {"linear": iter([0.5, 0.75]), "knn": iter([1.0, 1.0])}
    monkeypatch.setattr(pretrain_diagnostics, "linear_probe", lambda *a: next(shares["linear"]))
    monkeypatch.setattr(pretrain_diagnostics, "knn", lambda *a: next(shares["knn"]))
    data = types.SimpleNamespace(classes=[{}, {}], labels=None, split=lambda per_class, seed: (None, None))
    out = pretrain_diagnostics.probe_all({"raw": None}, data, [5], [0, 1])
    assert out == {"linear/raw/5": {"mean": 62.5, "sd": pytest.approx(12.5 * 2 ** 0.5)},
                   "knn/raw/5": {"mean": 100.0, "sd": 0.0}}


def test_raw_centre_pixel_is_the_patch_s_middle():
    """centre_pixels takes row and column patch // 2."""
    patches = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).reshape(2, 3, 5, 5)
    assert pretrain_diagnostics.centre_pixels(patches)["raw_centre_pixel"].tolist() == patches[:, :, 2, 2].tolist()


def test_diagnostics_frozen_epochs_are_the_rounded_share(monkeypatch):
    """The frozen encoder epochs are the freeze share of the epochs rounded, not truncated."""
    seen = {}
    monkeypatch.setattr(pretrain_diagnostics, "finetune",
                        lambda *a, **options: seen.update(options) or types.SimpleNamespace(model=None))
    monkeypatch.setattr(pretrain_diagnostics, "fit_pca", lambda pixels, components: None)
    data = labelled_scene_data()
    args = argparse.Namespace(preset="tiny", finetune_lr=5e-4, device="cpu", encoder_lr_scale=0.5,
                              freeze_fraction=0.013)
    pretrain_diagnostics.finetuned_classifier(data, {"w": 1}, 5, 0, args, Hooks())
    assert seen["settings"].freeze_encoder_epochs == 3  # 200 x 0.013 = 2.6


def test_diagnostics_markdown_lines():
    """pretrain_diagnostics.md: probe, leak, curve and fine-tuning lines with their decimals."""
    result = {"probes": {"raw": {"linear/raw/5": {"mean": 50.04, "sd": 1.25}}},
              "leak": {"paper/mrs": {"mrs": {"masked_with_visible_twin_pct": 12.34, "error_with_visible_twin": 0.5,
                                             "error_without_visible_twin": None}}},
              "curves": {"paper/mrs": [{"epoch": 1, "loss": 0.12345, "linear/both/5": 60.04, "linear/both/20": 70.06}]},
              "pretraining_seconds": {"paper/mrs": 99.6}, "finetune": {"none/sum/5": {"mean": 80.0, "sd": 2.0}}}
    lines = pretrain_diagnostics.markdown({"settings": {}, "results": {"trento_sim": result}}).splitlines()
    for line in ("| raw | 50.0 ± 1.2 |", "| paper/mrs | mrs | 12.3 | 0.5000 |  |",
                 "- paper/mrs (100 s): 1: 0.1235 / 60.0 / 70.1", "| none/sum/5 | 80.00 ± 2.00 |"):
        assert line in lines


def test_pretrain_memory_time_to_training_ends_at_the_pretraining_line(monkeypatch):
    """seconds_to_training runs to the "Pretraining:" log line, not to the first batch."""
    from mrs.model_core.errors import Canceled

    now = [0.0]

    def clock():  # 10 ms a reading: no real time, so a loaded machine cannot fail it
        now[0] += 0.01
        return now[0]

    def pretrain_job(layers, hooks, **options):
        hooks.log("Pretraining: 100 samples")
        now[0] += 0.3  # the first batch
        while not hooks.is_canceled():
            hooks.progress(0.5)
        raise Canceled("canceled")

    monkeypatch.setattr(pretrain_memory.time, "perf_counter", clock)
    monkeypatch.setattr(pretrain_memory, "jobs_of", lambda root: types.SimpleNamespace(
        Layers=lambda *a: None, pretrain_job=pretrain_job))
    result = pretrain_memory.worker(ROOT, 100, "tiny", 3, "cpu")
    assert result["seconds_to_training"] == 0.01 and result["log"] == ["Pretraining: 100 samples"]
