"""The arithmetic behind the README's "Accuracy" and "Benchmarks" figures: the benchmark scripts' pure
functions (label-budget draws, means and standard deviations over seeds, rates per CPU-second, shares of the
matmul peak, FLOP counts, agreement shares), called on small arrays and fake jobs, never on a real benchmark."""

import argparse
import json
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import gdal

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

import accuracy  # noqa: E402
import common  # noqa: E402
import compile_probe  # noqa: E402
import model_speed  # noqa: E402
import pipeline_speed  # noqa: E402
import precision_agreement  # noqa: E402
import pretrain_diagnostics  # noqa: E402
import pretrain_memory  # noqa: E402
import recipe_table  # noqa: E402
import speed  # noqa: E402
import suggest_gain  # noqa: E402

from model_core.config import PRESETS  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402

# Classes 1, 2, 3 in a 4 x 6 train.tif (0: unlabelled), flat indices row-major.
TRAIN = np.array([[0, 1, 1, 2, 0, 3], [3, 3, 1, 2, 2, 0], [1, 0, 2, 3, 1, 2], [2, 1, 3, 0, 3, 1]], np.uint8)

# trento_sim, 5 labels per class, no pretraining: the README's per-seed OA (seeds 0-4) and its mean ± sd.
README_OA = [87.60, 84.65, 87.96, 85.44, 85.90]


def readme_draw(train, per_class, seed):
    """The draw as ../shared/data/README.md words it."""
    rng = np.random.default_rng(seed)
    chosen = []
    for value in sorted(int(v) for v in set(train.ravel().tolist()) - {0}):
        indices = np.flatnonzero(train.ravel() == value)
        chosen.append(indices if per_class is None else rng.choice(indices, size=per_class, replace=False))
    return np.concatenate(chosen)


def raster(path, array, data_type=gdal.GDT_Byte, nodata=None):
    target = gdal.GetDriverByName("GTiff").Create(str(path), array.shape[1], array.shape[0], 1, data_type)
    target.SetGeoTransform((500000.0, 1.0, 0.0, 5000000.0, 0.0, -1.0))
    if nodata is not None:
        target.GetRasterBand(1).SetNoDataValue(nodata)
    target.GetRasterBand(1).WriteArray(array)
    target = None
    return path


@pytest.mark.parametrize("per_class, seed, expected", [
    (2, 0, [19, 16, 18, 9, 22, 5]),
    (2, 1, [8, 12, 3, 17, 22, 20]),
    (3, 0, [12, 23, 16, 18, 17, 3, 7, 15, 20]),
    (None, 0, [1, 2, 8, 12, 16, 19, 23, 3, 9, 10, 14, 17, 18, 5, 6, 7, 15, 20, 22]),
])
def test_protocol_draw_is_the_data_readme_s(per_class, seed, expected):
    pixels = accuracy.protocol_pixels(TRAIN, per_class, seed)
    assert pixels.tolist() == expected == readme_draw(TRAIN, per_class, seed).tolist()
    values = TRAIN.ravel()[pixels]
    assert 0 not in values and len(set(pixels.tolist())) == len(pixels)
    if per_class is not None:
        assert [int(np.sum(values == v)) for v in (1, 2, 3)] == [per_class] * 3


def test_labels_written_hold_the_drawn_pixels_only_with_names_and_colours(tmp_path):
    like = raster(tmp_path / "train.tif", TRAIN)
    classes = [{"value": "1", "name": "Apple", "color": "#ff0000"}, {"value": "2", "name": "Road", "color": "#00ff00"},
               {"value": "3", "name": "Wood", "color": "#0000ff"}]
    pixels = accuracy.protocol_pixels(TRAIN, 2, 0)
    accuracy.write_labels(tmp_path / "labels.tif", like, TRAIN, pixels, classes)
    written = gdal.Open(str(tmp_path / "labels.tif"))
    band = written.GetRasterBand(1)
    expected = np.zeros(TRAIN.size, np.uint8)
    expected[pixels] = TRAIN.ravel()[pixels]
    assert band.ReadAsArray().ravel().tolist() == expected.tolist()
    assert band.GetNoDataValue() == 0
    assert band.GetCategoryNames()[1:4] == ["Apple", "Road", "Wood"]
    assert band.GetColorTable().GetColorEntry(2) == (0, 255, 0, 255)


def accuracy_record(seed, oa, budget="5", arm="none", pretrain_seconds=0.0):
    return {"scene": "trento_sim", "budget": budget, "arm": arm, "seed": seed, "oa": oa / 100, "aa": (oa + 1) / 100,
            "kappa": oa / 100 - 0.1, "per_class": {"Apple": oa / 100, "Road": 1.0}, "finetune_seconds": 10.0 + seed,
            "pretrain_seconds": pretrain_seconds}


def test_accuracy_summary_is_the_readme_s_mean_and_sample_sd_over_seeds():
    records = [accuracy_record(seed, README_OA[seed]) for seed in (3, 0, 4, 1, 2)]  # as runs finish: any order
    entry = accuracy.summarise(records)["trento_sim"]["5"]["none"]
    assert entry["seeds"] == [0, 1, 2, 3, 4]
    assert entry["oa_per_seed"] == pytest.approx([oa / 100 for oa in README_OA])
    assert round(entry["oa"]["mean"], 2) == 86.31 and round(entry["oa"]["std"], 2) == 1.42  # ddof 1, as the README
    assert entry["aa"] == {"mean": pytest.approx(87.31), "std": pytest.approx(statistics.stdev(README_OA))}
    assert entry["kappa"] == {"mean": pytest.approx(0.7631), "std": pytest.approx(0.014201, abs=1e-6)}
    assert entry["per_class"] == pytest.approx({"Apple": 86.31, "Road": 100.0})
    assert entry["finetune_seconds"] == 12.0 and entry["pretrain_seconds"] == 0.0


@pytest.mark.parametrize("seconds, expected", [((1159.0, 1159.0), 1159.0), ((1159.0, 1271.0), None)])
def test_accuracy_summary_gives_a_pretraining_time_only_when_the_seeds_share_one(seconds, expected):
    records = [accuracy_record(seed, 90.0, arm="mrs", pretrain_seconds=s) for seed, s in enumerate(seconds)]
    assert accuracy.summarise(records)["trento_sim"]["5"]["mrs"]["pretrain_seconds"] == expected


def test_accuracy_summary_of_one_seed_has_no_spread():
    entry = accuracy.summarise([accuracy_record(0, 90.0)])["trento_sim"]["5"]["none"]
    assert entry["oa"] == {"mean": pytest.approx(90.0), "std": 0.0}


def test_accuracy_markdown_rows_as_the_readme_prints_them():
    records = [accuracy_record(seed, oa) for seed, oa in enumerate(README_OA)]
    records += [accuracy_record(seed, 90.0, arm="mrs", pretrain_seconds=1200.0 + seed) for seed in range(2)]
    args = argparse.Namespace(preset="small", pretrain_samples=10000, pretrain_epochs=60, mask_ratio=0.3,
                              normalized_targets=True, pretrain_seed=None, finetune_epochs={"5": 200},
                              finetune_lr=5e-4, encoder_lr_scale=1.0, seeds=[0, 1, 2, 3, 4])
    text = accuracy.markdown(accuracy.summarise(records), args)
    assert "| 5 | none | 0,1,2,3,4 | 86.31 ± 1.42 | 87.31 ± 1.42 | 0.7631 ± 0.0142 | 0 | 12 |" in text
    assert "| 5 | mrs | 0,1 | 90.00 ± 0.00 | 91.00 ± 0.00 | 0.8000 ± 0.0000 | ? | 10 |" in text
    assert "- 5 per class: none 87.60, 84.65, 87.96, 85.44, 85.90; mrs 90.00, 90.00" in text
    assert "| 5 | none | 86.3 | 100.0 |" in text


def test_saved_runs_are_found_again_by_their_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(accuracy, "RUNS", tmp_path / "runs.jsonl")
    assert accuracy.load_runs() == {}
    settings = {"scene": "trento_sim", "seed": 0, "budget": "5", "arm": "mrs"}
    key = accuracy.run_key(settings)
    assert key == accuracy.run_key(dict(reversed(list(settings.items()))))
    assert key != accuracy.run_key({**settings, "seed": 1})
    accuracy.save_run({"key": key, "oa": 0.9})
    with open(accuracy.RUNS, "a") as runs:  # a blank line ended every later run in a JSONDecodeError (the audit)
        runs.write("\n  \n")
    accuracy.save_run({"key": "other", "oa": 0.8})
    assert accuracy.load_runs() == {key: {"key": key, "oa": 0.9}, "other": {"key": "other", "oa": 0.8}}


def test_rates_are_the_readme_s_fractions_and_ratios():
    # The README's AMX table, `paper` fp32: 53.2 (0.53; 1.30x; 1.03x), 112.1 (2.34x; 1.85x),
    # 341 (0.52; 2.24x; 1.78x), peaks of that run fp32 189.0; 1884.8 MFLOP a pretraining sample, 288 a pixel.
    figures = {"pretrain_samples_per_s": 53.2, "finetune_samples_per_s": 112.1, "classify_pixels_per_s": 341.0}
    work = {"pretrain_step_mflop": 1884.8, "classify_mflop": 288.0, "classify_all_tokens_mflop": 497.0}
    out = model_speed.derived(figures, work, 189.0)
    assert out == {"pretrain_samples_gflops": 100.3, "pretrain_samples_fraction_of_peak": 0.531,
                   "classify_pixels_gflops": 98.2, "classify_pixels_fraction_of_peak": 0.52,
                   "pretrain_samples_vs_reference": 1.3, "finetune_samples_vs_reference": 2.34,
                   "classify_pixels_vs_reference": 2.24}
    assert model_speed.peak_normalised(figures, {"fp32_matmul_gflops": 189.0, "bf16_matmul_gflops": 1142.0}) == {
        "pretrain_samples_vs_reference_peak_normalised": 1.03, "finetune_samples_vs_reference_peak_normalised": 1.85,
        "classify_pixels_vs_reference_peak_normalised": 1.78}


@pytest.mark.parametrize("phase", ["pretrain", "finetune"])
def test_training_rate_counts_the_second_epoch_s_batches_over_their_time(phase, monkeypatch):
    ticks = iter(range(1000))  # a clock that moves one second per read: one read per finished batch
    monkeypatch.setattr(model_speed, "clock", lambda device: lambda: float(next(ticks)))
    assert model_speed.training_rate(PRESETS["tiny"], "fp32", "cpu", phase, batch=4, steps=2) == 4.0
    assert next(ticks) == 4  # two epochs of two batches, one reading each


def test_a_rate_is_per_cpu_second_on_a_cpu_and_per_second_on_a_gpu():
    assert common.clock() is common.clock("cpu") is common.clock(torch.device("cpu")) is time.process_time
    assert common.clock("cuda") is common.clock(torch.device("cuda", 0)) is time.perf_counter


def test_timed_rate_leaves_out_the_warm_up_call(monkeypatch):
    now = [0.0]

    def work():
        now[0] += 1.0 + (9.0 if now[0] == 0.0 else 0.0)  # a slow first call (warm-up), then a second a call

    monkeypatch.setattr(common, "clock", lambda device=None: lambda: now[0])
    assert common.timed_rate(work, 10.0, seconds=3.0) == 10.0
    assert now[0] == 13.0


def test_matmul_peak_is_the_best_of_three_timings_of_two_flops_per_multiply_add(monkeypatch):
    seconds = iter([2.0, 1.0, 4.0])  # each timing's seconds per product
    monkeypatch.setattr(common, "timed_rate", lambda work, units, duration, device: units / next(seconds))
    assert common.matmul_peak(torch.device("cpu"), torch.float32, size=16) == pytest.approx(2 * 16 ** 3 / 1e9)


def test_peak_memory_is_the_process_high_water_mark_in_mib():
    import resource

    np.ones(100 << 20, np.uint8).sum()  # 100 MiB touched and given back: the peak stays, the resident memory falls
    assert common.peak_rss_mb() == pytest.approx(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rel=0.01)


def test_write_json_writes_and_prints_the_document(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    path = common.write_json("probe", {"oa": 0.5})
    assert path == tmp_path / "results" / "probe.json" and json.loads(path.read_text()) == {"oa": 0.5}
    assert json.loads(capsys.readouterr().out) == {"oa": 0.5}


def test_flops_per_pixel_and_per_pretraining_step():
    from torch.utils.flop_counter import FlopCounterMode

    from model_core.masking import mrs_mask, spatial_mask
    from model_core.model import SSMAE, SSMAEClassifier

    config = PRESETS["small"]
    work = model_speed.flops(config)
    x = torch.randn(3, model_speed.N_HSI + model_speed.N_AUX, config.patch, config.patch)
    with FlopCounterMode(display=False) as classify, torch.no_grad():
        SSMAEClassifier(config, model_speed.N_HSI, model_speed.N_AUX, model_speed.N_CLASSES).eval()(x)
    generator = torch.Generator().manual_seed(0)
    with FlopCounterMode(display=False) as forward, torch.no_grad():
        SSMAE(config, model_speed.N_HSI, model_speed.N_AUX)(x, spatial_mask(x, 0.3, generator),
                                                            mrs_mask(x, 0.3, generator))
    assert work["classify_mflop"] == pytest.approx(classify.get_total_flops() / 3 / 1e6, rel=0.01)  # MFLOP a pixel
    assert work["classify_mflop"] < work["classify_all_tokens_mflop"] < 2 * work["classify_mflop"]
    # a step is the forward pass and its backward (about twice the forward's products)
    assert 2.5 < work["pretrain_step_mflop"] / (forward.get_total_flops() / 3 / 1e6) < 4


def test_pipeline_rate_is_per_cpu_second_of_every_pixel(tmp_path, monkeypatch):
    def classify_job(model, layers, **options):
        time.sleep(0.5)  # waiting (on a crowded core, or on the disk) is not the job's work
        started = time.process_time()
        while time.process_time() - started < 0.2:
            pass
        return {"classified_pixels": 900, "nodata_pixels": 100}

    monkeypatch.setattr(pipeline_speed, "plugin", lambda: types.SimpleNamespace(classify_job=classify_job))
    monkeypatch.setattr(pipeline_speed, "layers_of", lambda folder: None)
    monkeypatch.setattr(pipeline_speed, "WORK", tmp_path)
    result = pipeline_speed.worker(str(tmp_path / "model.safetensors"), str(tmp_path), "cpu", 256, None)
    assert result["pixels"] == 1000
    assert 0.2 <= result["seconds"] < 0.4 and result["wall_seconds"] >= 0.7
    assert result["pixels_per_s"] == pytest.approx(1000 / result["seconds"], rel=0.03)
    assert result["peak_rss_mb"] == pytest.approx(common.peak_rss_mb(), rel=0.05)


def test_precision_agreement_figures(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    fp32 = rng.integers(1, 4, (10, 30)).astype(np.uint8)
    bf16 = fp32.copy()
    differ = np.zeros(300, bool)
    differ[rng.choice(300, 61, replace=False)] = True
    bf16.ravel()[differ] = fp32.ravel()[differ] % 3 + 1
    confidence = rng.permutation(np.linspace(0.3, 0.99, 300)).reshape(10, 30).astype(np.float32)
    test = np.where(rng.random((10, 30)) < 0.4, fp32, 0).astype(np.uint8)
    test.ravel()[np.flatnonzero(test.ravel())[:5]] %= 3
    test.ravel()[np.flatnonzero(test.ravel())[:5]] += 1  # five test pixels the fp32 map gets wrong
    fp32[-1], bf16[-1], confidence[-1] = 0, 0, -1.0  # a row of no data, whose test pixels the maps do not score
    test[-1] = 2
    differ.reshape(10, 30)[-1] = False
    scene = tmp_path / "scene"
    scene.mkdir()
    raster(scene / "test.tif", test)

    def classify_job(model, layers, output, confidence, precision, **options):
        raster(Path(output), fp32 if precision == "fp32" else bf16)
        raster(Path(confidence), maps_confidence, gdal.GDT_Float32, -1.0)

    maps_confidence = confidence
    history = [{"loss": 1.65}, {"loss": 0.0012}]
    jobs = types.SimpleNamespace(finetune_job=lambda *a, **k: {"training": {"history": history}},
                                 classify_job=classify_job, LabelSource=lambda *a, **k: None)
    written = {}
    monkeypatch.setattr(precision_agreement, "plugin", lambda: jobs)
    monkeypatch.setattr(precision_agreement, "layers_of", lambda folder: None)
    monkeypatch.setattr(precision_agreement, "WORK", tmp_path / "work")
    monkeypatch.setattr(precision_agreement, "write_json", lambda name, document: written.update({name: document}))
    report = precision_agreement.main(["--scene", str(scene)])
    assert written["precision_agreement"] is report
    assert (report["pixels"], report["pixels_differing"]) == (270, differ.sum())
    assert report["agreement"] == round(1 - differ.sum() / 270, 5)
    least_sure = sorted(round(float(c), 3) for c in confidence.ravel()[differ])[:50]
    assert report["fp32_confidence_where_differing"] == least_sure
    scored = (test > 0) & (fp32 > 0)
    assert report["test_oa_fp32"] == round(float((fp32[scored] == test[scored]).mean()), 4) < 1
    assert report["test_oa_bf16"] == round(float((bf16[scored] == test[scored]).mean()), 4)
    assert (report["first_training_loss"], report["final_training_loss"]) == (1.65, 0.0012)


def suggest_record(seed, base, suggested, random):
    return {"seed": seed, **{arm: {"oa": oa, "aa": oa - 0.01, "kappa": oa - 0.1}
                              for arm, oa in (("base", base), ("suggested", suggested), ("random", random))}}


def test_suggest_gain_is_suggested_minus_random_in_points():
    records = [suggest_record(0, 0.80, 0.86, 0.83), suggest_record(1, 0.82, 0.85, 0.84),
               suggest_record(2, 0.78, 0.84, 0.80)]
    out = suggest_gain.summary(records)
    assert out["gain_oa_points"]["mean"] == pytest.approx(8 / 3)
    assert out["gain_oa_points"]["std"] == pytest.approx(statistics.stdev([3.0, 1.0, 4.0]))
    assert out["suggested"]["oa"]["mean"] == pytest.approx(85.0)
    assert out["suggested"]["kappa"]["mean"] == pytest.approx(0.75)
    assert out["base"]["aa"]["std"] == pytest.approx(2.0)


def test_suggest_gain_random_arm_draws_anew_from_the_unused_pixels():
    run = object.__new__(suggest_gain.SeedRun)
    run.train, run.seed = TRAIN, 0
    used = accuracy.protocol_pixels(TRAIN, 2, 0)
    more = run.random(used, 2)
    assert not set(more.tolist()) & set(used.tolist())
    remaining = TRAIN.copy()
    remaining.ravel()[used] = 0
    assert more.tolist() == readme_draw(remaining, 2, 0).tolist()


def test_recipe_table_keys_settings_added_later_as_the_old_runs_had_them():
    settings = {"scene": "trento_sim", "split": "val", "arm": "mrs", "budget": "5", "seed": 0,
                **{name: 1 for name in recipe_table.RECIPE if name not in recipe_table.ADDED}}
    old = recipe_table.run_key(settings)
    assert old == recipe_table.run_key({**settings, "readout": "class_token", "val_fraction": 0.0})
    assert old != recipe_table.run_key({**settings, "val_fraction": 0.1})
    assert old != recipe_table.run_key({**settings, "split": "test"})
    assert old != recipe_table.run_key({**settings, "finetune_lr": 2})


def test_recipe_table_summary_is_mean_and_sample_sd_of_percentages():
    records = [{"scene": "trento_sim", "budget": "5", "arm": "none", "seed": seed, "oa": oa, "aa": oa + 1,
                "kappa": oa / 100, "finetune_seconds": 16.0, "pretraining_seconds": 0.0}
               for seed, oa in enumerate(README_OA)]
    entry = recipe_table.summary(records)["trento_sim"]["5"]["none"]
    assert round(entry["oa"]["mean"], 2) == 86.31 and round(entry["oa"]["sd"], 2) == 1.42
    assert entry["kappa"]["mean"] == pytest.approx(0.8631) and entry["seeds"] == [0, 1, 2, 3, 4]


def test_recipe_table_scores_the_test_split_on_test_pixels_and_the_val_split_on_held_out_train_pixels():
    data = types.SimpleNamespace(labelled=torch.arange(10), labels=torch.arange(10) % 2,
                                 split=lambda per_class, seed: (np.array([0, 1]), np.array([2, 5, 7])))
    test = (torch.tensor([42]), torch.tensor([1]))
    assert recipe_table.scored(data, test, 5, 0) is test
    x, y = recipe_table.scored(data, None, 5, 0)
    assert x.tolist() == [2, 5, 7] and y.tolist() == [0, 1, 1]


def scene_data():
    data = object.__new__(pretrain_diagnostics.SceneData)
    rows, cols = np.nonzero(TRAIN)
    data.flat, data.train = rows.astype(np.int64) * TRAIN.shape[1] + cols, TRAIN
    return data


@pytest.mark.parametrize("per_class, seed", [(2, 0), (3, 1)])
def test_diagnostics_split_is_the_draw_and_every_other_train_pixel(per_class, seed):
    data = scene_data()
    train, held_out = data.split(per_class, seed)
    assert sorted(data.flat[train].tolist()) == sorted(readme_draw(TRAIN, per_class, seed).tolist())
    assert sorted(train.tolist() + held_out.tolist()) == list(range(len(data.flat)))


def test_probes_standardise_with_the_training_pixels_statistics_only():
    features = torch.tensor([[1.0, 10.0], [3.0, 30.0], [100.0, -50.0]])
    x = pretrain_diagnostics.standardise(features, np.array([0, 1]))
    # the training rows' means 2 and 20, sd 2 ** 0.5 and 10 * 2 ** 0.5
    assert x.flatten().tolist() == pytest.approx([-0.5 ** 0.5, -0.5 ** 0.5, 0.5 ** 0.5, 0.5 ** 0.5,
                                                  98 / 2 ** 0.5, -70 / (10 * 2 ** 0.5)])


def test_knn_votes_of_the_nearest_training_pixels():
    features = torch.tensor([[0.95, 0.02], [0.05, 0.97], [1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    labels = torch.tensor([0, 1, 0, 0, 1, 1])  # the first two are the scored pixels
    train = np.array([4, 2, 5, 3])
    assert pretrain_diagnostics.knn(features, labels, train, np.array([0, 1]), 2, k=1) == 1.0
    assert pretrain_diagnostics.knn(features, labels, train, np.array([1, 0]), 2, k=3) == 1.0
    assert pretrain_diagnostics.summary([1.0, 2.0, 6.0]) == {"mean": 3.0, "sd": pytest.approx(7 ** 0.5)}


def test_diagnostics_fine_tune_as_the_accuracy_benchmark():
    assert pretrain_diagnostics.FINETUNE_EPOCHS == {5: 200, 20: 100, None: 40}  # README: 200 / 100 / 40 epochs


@pytest.mark.parametrize("variant, strategy, expected", [
    ("paper", "mrs", {"spectral_ratio": 0.3, "spatial_ratio": 0.3, "similarity": "cosine",
                      "normalized_targets": False}),
    ("correlation", "random", {"similarity": "cosine"}),
    ("correlation", "mrs", {"similarity": "correlation"}),
    ("norm_targets_ratio_0.7", "mrs", {"spectral_ratio": 0.7, "spatial_ratio": 0.3, "normalized_targets": True}),
    ("norm_targets_spatial_0.5", "random", {"spectral_ratio": 0.3, "spatial_ratio": 0.5}),
    ("norm_targets_ratio_groups", "mrs", {"spectral_ratio": 0.375}),  # groups of 2, 1 and 1 of 4 bands
])
def test_variant_settings(variant, strategy, expected):
    data = types.SimpleNamespace(band_pixels=np.array([[1.0, 1.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0],
                                                       [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]))
    settings = pretrain_diagnostics.variant_settings(variant, strategy, 0.3, data).to_dict()
    assert settings["strategy"] == strategy and {k: settings[k] for k in expected} == expected


def fake_accuracy_jobs(tmp_path, monkeypatch, calls):
    """A scene folder (TRAIN as train.tif, a test.tif) and jobs that record what they are given."""
    import mrs.mrs_qgis_plugin.analysis as analysis
    from mrs.mrs_qgis_plugin.job_inputs import LabelSource

    scene = tmp_path / "scene"
    scene.mkdir()
    raster(scene / "train.tif", TRAIN)
    raster(scene / "test.tif", np.where(TRAIN == 0, 2, 0).astype(np.uint8))
    (scene / "classes.csv").write_text("value,name,color\n1,Apple,#ff0000\n2,Road,#00ff00\n3,Wood,#0000ff\n")

    def pretrain_job(layers, **options):
        calls.append(("pretrain", options["settings"].seed))
        Path(options["output"]).write_bytes(b"model")

    def finetune_job(layers, labels, **options):
        dataset = gdal.Open(labels.raster_path)
        drawn = np.flatnonzero(dataset.ReadAsArray().ravel()).tolist()
        calls.append(("finetune", options["settings"].seed, options["settings"].epochs, drawn, options["pretrained"]))
        return {"training": {"best_epoch": options["settings"].epochs, "val_accuracy": None}}

    def accuracy_job(map_path, map_name, reference, hooks):
        calls.append(("score", Path(reference.raster_path).name))
        return {"overall_accuracy": 0.9, "average_accuracy": 0.8, "kappa": 0.7,
                "classes": [{"name": "Apple", "producers_accuracy": 0.5}]}

    jobs = types.SimpleNamespace(Layers=lambda *a: None, LabelSource=LabelSource,
                                 pretrain_job=pretrain_job, finetune_job=finetune_job,
                                 classify_job=lambda *a, **k: calls.append(("classify",)))
    monkeypatch.setattr(analysis, "accuracy_job", accuracy_job)
    monkeypatch.setattr(accuracy, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(accuracy, "RUNS", tmp_path / "results" / "runs.jsonl")
    return jobs, scene


def accuracy_arguments(**changes):
    arguments = dict(seeds=[1, 2], pretrain_seed=0, arms=["none", "mrs"], budgets=[2, None], report_only=False,
                     preset="small", pretrain_samples=100, pretrain_epochs=1, pretrain_batch=16, mask_ratio=0.3,
                     pretrain_lr=1e-3, normalized_targets=True, finetune_epochs={"2": 200, "all": 40},
                     finetune_lr=5e-4, encoder_lr_scale=1.0, finetune_batch=64, val_fraction=0.0, device="cpu")
    return argparse.Namespace(**{**arguments, **changes})


def test_accuracy_runs_draw_each_seed_s_labels_and_score_on_test_tif_only(tmp_path, monkeypatch):
    calls = []
    jobs, scene = fake_accuracy_jobs(tmp_path, monkeypatch, calls)
    records = accuracy.scene_runs(jobs, scene, accuracy_arguments(), Hooks(), {}, tmp_path)
    # one pretraining per arm with --pretrain-seed, shared by the fine-tuning seeds
    assert [call for call in calls if call[0] == "pretrain"] == [("pretrain", 0)]
    finetunes = [call for call in calls if call[0] == "finetune"]
    expected = [(seed, epochs, sorted(readme_draw(TRAIN, per_class, seed).tolist()), arm)
                for seed in (1, 2) for per_class, epochs in ((2, 200), (None, 40)) for arm in ("none", "mrs")]
    assert [(seed, epochs, drawn, "none" if pretrained is None else "mrs")
            for _, seed, epochs, drawn, pretrained in finetunes] == expected
    assert {call for call in calls if call[0] == "score"} == {("score", "test.tif")}
    assert [(r["seed"], r["budget"], r["arm"], r["oa"], r["kappa"]) for r in records] == [
        (seed, budget, arm, 0.9, 0.7) for seed in (1, 2) for budget in ("2", "all") for arm in ("none", "mrs")]
    # started again, every run is found among the saved ones and nothing trains
    calls.clear()
    again = accuracy.scene_runs(jobs, scene, accuracy_arguments(), Hooks(), accuracy.load_runs(), tmp_path)
    assert [call[0] for call in calls] == [] and [r["key"] for r in again] == [r["key"] for r in records]
    # another pretraining batch is another pretraining, and other fine-tunings (the audit: the first was reused)
    other = accuracy.scene_runs(jobs, scene, accuracy_arguments(pretrain_batch=32), Hooks(), accuracy.load_runs(),
                                tmp_path)
    assert [call[0] for call in calls if call[0] == "pretrain"] == ["pretrain"]
    assert not {r["key"] for r in other if r["arm"] == "mrs"} & {r["key"] for r in records}


def test_model_speed_shares_are_of_each_precision_s_own_peak(monkeypatch):
    figures = {"pretrain_samples_per_s": 41.0, "finetune_samples_per_s": 96.0, "classify_pixels_per_s": 152.0}
    monkeypatch.setattr(model_speed, "peaks", lambda device: {"fp32_matmul_gflops": 75.0, "bf16_matmul_gflops": 300.0})
    monkeypatch.setattr(model_speed, "flops", lambda config: {"pretrain_step_mflop": 1000.0, "classify_mflop": 500.0})
    monkeypatch.setattr(model_speed, "measure", lambda name, precision, device, seconds, steps: figures)
    monkeypatch.setattr(model_speed, "write_json", lambda name, document: None)
    report = model_speed.main(["--presets", "tiny", "--device", "cpu"])
    fp32, bf16 = report["presets"]["tiny"]["fp32"], report["presets"]["tiny"]["bf16"]
    assert (fp32["pretrain_samples_fraction_of_peak"], bf16["pretrain_samples_fraction_of_peak"]) == (0.547, 0.137)
    assert (fp32["classify_pixels_fraction_of_peak"], bf16["classify_pixels_fraction_of_peak"]) == (1.013, 0.253)
    # normalised to the reference's fp32 peak (150) in both precisions: it runs in fp32
    assert fp32["finetune_samples_vs_reference_peak_normalised"] == bf16[
        "finetune_samples_vs_reference_peak_normalised"] == 4.0


def test_classify_rate_counts_the_tile_s_pixels_not_its_halo(monkeypatch):
    counted = {}

    def timed_rate(work, units, seconds, device):
        counted["units"] = units
        work()
        return units / seconds

    monkeypatch.setattr(model_speed, "timed_rate", timed_rate)
    assert model_speed.classify_rate(PRESETS["tiny"], "fp32", "cpu", 0.5, tile=8) == 128.0
    assert counted["units"] == 64


def test_tiled_copy_repeats_the_scene_to_the_side(tmp_path):
    base = np.arange(6, dtype=np.uint8).reshape(2, 3)
    raster(tmp_path / "base.tif", base, nodata=5)
    pipeline_speed.tiled_copy(tmp_path / "base.tif", tmp_path / "tiled.tif", 5)
    tiled = gdal.Open(str(tmp_path / "tiled.tif"))
    assert tiled.ReadAsArray().tolist() == np.tile(base, (3, 2))[:5, :5].tolist()
    assert tiled.GetRasterBand(1).GetNoDataValue() == 5 and tiled.GetGeoTransform()[0] == 500000.0


SPEED_ENTRY = {"pretrain_samples_per_s": 32.4, "finetune_samples_per_s": 78.8, "classify_pixels_per_s": 256,
               "pretrain_samples_fraction_of_peak": 0.82, "classify_pixels_fraction_of_peak": 0.83,
               "pretrain_samples_vs_reference": 0.79, "finetune_samples_vs_reference": 1.64,
               "classify_pixels_vs_reference": 1.68, "pretrain_samples_vs_reference_peak_normalised": 1.34,
               "finetune_samples_vs_reference_peak_normalised": 2.78,
               "classify_pixels_vs_reference_peak_normalised": 2.85}
"""One preset and precision's figures in bench/model_speed.py's report."""
SPEED_MODEL = {"machine": {"cpu": "AMD EPYC", "threads": 1, "torch": "2.13.0", "device": "cpu"},
               "peaks": {"fp32_matmul_gflops": 88.6, "bf16_matmul_gflops": 202.7}}


def test_speed_report_rows_as_the_readme_prints_them():
    model = {**SPEED_MODEL, "presets": {"paper": {"fp32": SPEED_ENTRY}}}
    runs = {"512x512": {"megapixels": 0.26, "pixels_per_s": 1805.0, "peak_rss_mb": 452.0}}
    memory = {"presets": {"tiny": {"runs": runs, "peak_memory_growth_smallest_to_largest": 0.031}}}
    lines = speed.summary_lines(model, memory, {"presets": {"small": {"runs": runs}}})
    assert "| paper | fp32 | 32.4 (0.82; 0.79x; 1.34x) | 78.8 (1.64x; 2.78x) | 256 (0.83; 1.68x; 2.85x) |" in lines
    assert "| small | 512x512 (0.26 MP) | 1805.0 | 452.0 |" in lines
    assert "\nPeak memory growth from the smallest to the largest scene (tiny): 3.1 %." in lines


def test_suggested_pixels_are_flat_row_major_indices():
    assert suggest_gain.flat_pixels(np.array([0, 2, 3], np.int32), np.array([4, 0, 5], np.int32), 6).tolist() == [
        4, 12, 23]


def labelled_scene_data():
    """`scene_data` with every pixel labelled (three classes) and no validation pixels, as the fine-tuning reads it."""
    data = scene_data()
    data.labelled, data.labels = torch.arange(len(data.flat)), torch.arange(len(data.flat)) % 3
    data.pca_pixels, data.n_hsi, data.classes = np.zeros((4, 4)), 4, []
    data.validation_split = lambda indices, fraction, seed: (indices, indices[:0])
    return data


def test_diagnostics_fine_tune_the_draw_of_the_seed_with_the_budget_s_epochs(monkeypatch):
    seen = {}

    def finetune(x, y, x_val, y_val, **options):
        seen.update(x=x.tolist(), y=y.tolist(), validation=len(x_val), settings=options["settings"])
        return types.SimpleNamespace(model="classifier")

    monkeypatch.setattr(pretrain_diagnostics, "finetune", finetune)
    monkeypatch.setattr(pretrain_diagnostics, "fit_pca", lambda pixels, components: None)
    data = labelled_scene_data()
    args = argparse.Namespace(preset="tiny", finetune_lr=5e-4, device="cpu", encoder_lr_scale=0.5,
                              freeze_fraction=0.1)
    for per_class, seed, epochs in ((5, 0, 200), (5, 1, 200), (None, 2, 40)):
        assert pretrain_diagnostics.finetuned_classifier(data, {"w": 1}, per_class, seed, args, Hooks()) == "classifier"
        assert sorted(data.flat[seen["x"]].tolist()) == sorted(readme_draw(TRAIN, per_class, seed).tolist())
        assert (seen["validation"], seen["settings"].seed, seen["settings"].epochs) == (0, seed, epochs)
        assert (seen["settings"].encoder_lr_scale, seen["settings"].freeze_encoder_epochs) == (0.5, epochs // 10)


def test_pretrain_memory_times_the_batches_after_the_first(monkeypatch):
    from mrs.model_core.errors import Canceled

    batches = []

    def pretrain_job(layers, hooks, **options):
        hooks.log("Pretraining: 100 samples")
        while not hooks.is_canceled():
            time.sleep(0.05)
            batches.append(1)
            hooks.progress(len(batches) / 100)
        raise Canceled("canceled")

    monkeypatch.setattr(pretrain_memory, "jobs_of", lambda root: types.SimpleNamespace(
        Layers=lambda *a: None, pretrain_job=pretrain_job))
    result = pretrain_memory.worker(ROOT, 100, "tiny", 3, "cpu")
    assert len(batches) == 4  # the first, then the three timed
    assert result["samples_per_s_after_first_batch"] == pytest.approx(3 * 128 / 0.15, rel=0.25)
    assert result["samples"] == 100 and result["peak_rss_mb"] >= result["peak_rss_mb_before_training"] > 0


def test_pipeline_report_of_every_scene_and_the_memory_growth_from_the_first_to_the_last(tmp_path, monkeypatch):
    folders = {side: tmp_path / f"scene-{side}" for side in (512, 1024)}
    monkeypatch.setattr(pipeline_speed, "prepare", lambda presets, sides, device, scene: {
        "scenes": dict(folders), "models": {"tiny": tmp_path / "classifier.safetensors"}})
    monkeypatch.setattr(pipeline_speed, "peaks", lambda device: {"fp32_matmul_gflops": 1.0})
    monkeypatch.setattr(pipeline_speed, "bands", lambda folder: 101)
    monkeypatch.setattr(pipeline_speed, "write_json", lambda name, document: None)
    memory = {str(folders[512]): 400.0, str(folders[1024]): 420.0}

    def run(command, **options):
        side = int(Path(command[4]).name.split("-")[1])
        line = {"pixels": side * side, "seconds": 2.0, "wall_seconds": 3.0, "pixels_per_s": side * side / 2.0,
                "peak_rss_mb": memory[command[4]]}
        return types.SimpleNamespace(stdout=f"some log\n{json.dumps(line)}\n")

    monkeypatch.setattr(pipeline_speed.subprocess, "run", run)
    report = pipeline_speed.main(["--presets", "tiny", "--sides", "512,1024", "--device", "cpu"])
    entry = report["presets"]["tiny"]
    assert list(entry["runs"]) == ["512x512", "1024x1024"] and report["bands"] == 101
    assert entry["runs"]["1024x1024"]["megapixels"] == 1.05 and entry["runs"]["512x512"]["peak_rss_mb"] == 400.0
    assert entry["peak_memory_growth_smallest_to_largest"] == 0.05


def test_suggestions_are_sought_among_the_labelled_pixels_not_yet_used(tmp_path):
    raster(tmp_path / "train.tif", TRAIN)
    used = accuracy.protocol_pixels(TRAIN, 2, 0)
    seen = {}

    def suggest_job(model, layers, count, mask_path, **options):
        area = gdal.GetDriverByName("MEM").Create("", TRAIN.shape[1], TRAIN.shape[0], 1, gdal.GDT_Byte)
        area.SetGeoTransform((500000.0, 1.0, 0.0, 5000000.0, 0.0, -1.0))
        gdal.Rasterize(area, mask_path, burnValues=[1])
        seen["area"] = area.ReadAsArray()
        rows, cols = np.nonzero(seen["area"])
        return {"rows": rows[:count], "cols": cols[:count], "confidence": np.linspace(0.2, 0.4, count)}

    run = object.__new__(suggest_gain.SeedRun)
    run.jobs, run.layers, run.log = types.SimpleNamespace(suggest_job=suggest_job), None, Hooks()
    run.scene, run.work, run.train, run.seed = tmp_path, tmp_path, TRAIN, 0
    run.args = argparse.Namespace(min_distance=10.0, device="cpu")
    result = run.suggested("model", used, 3)
    allowed = TRAIN > 0
    allowed.ravel()[used] = False
    assert seen["area"].tolist() == allowed.astype(np.uint8).tolist()
    assert result["pixels"].tolist() == np.flatnonzero(allowed)[:3].tolist() and result["mean_confidence"] == 0.3


def test_diagnostics_fine_tuning_scored_on_the_held_out_train_pixels(monkeypatch):
    data = scene_data()
    drawn = np.isin(data.flat, readme_draw(TRAIN, 5, 0))
    data.labelled, data.labels = torch.arange(len(data.flat)), torch.from_numpy(drawn.astype(np.int64))
    monkeypatch.setattr(pretrain_diagnostics, "finetuned_classifier", lambda *a, **k: "classifier")
    monkeypatch.setattr(pretrain_diagnostics, "predicted", lambda model, patches: torch.zeros_like(patches))
    # every held-out pixel is of class 0, every drawn one of class 1: a classifier of class 0 alone scores 100
    assert pretrain_diagnostics.finetune_accuracy(data, None, "sum", 5, 0, argparse.Namespace(), Hooks()) == 100.0


@pytest.mark.parametrize("bands, leaked", [("near-duplicates", 100.0), ("unlike", 0.0)])
def test_leak_is_the_share_of_masked_bands_with_a_visible_twin(bands, leaked):
    from model_core.model import SSMAE

    torch.manual_seed(0)
    config = PRESETS["tiny"]
    generator = torch.Generator().manual_seed(0)
    if bands == "unlike":
        patches = torch.randn(6, 5, config.patch, config.patch, generator=generator)
    else:
        patches = torch.rand(6, 1, config.patch, config.patch, generator=generator).expand(-1, 5, -1, -1).clone()
    settings = {"spatial_ratio": 0.3, "spectral_ratio": 0.4, "similarity": "cosine"}
    out = pretrain_diagnostics.leak_errors(SSMAE(config, 4, 1), patches, settings, 0.95)
    for strategy in ("random", "mrs"):
        figures = out[strategy]
        assert figures["masked_with_visible_twin_pct"] == leaked
        assert (figures["error_with_visible_twin"] is None) == (leaked == 0.0)
        assert (figures["error_without_visible_twin"] is None) == (leaked == 100.0)


def probe_clock(monkeypatch):
    ticks = iter(range(10 ** 6))  # a clock that moves one second per reading
    monkeypatch.setattr(compile_probe, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    monkeypatch.setattr(torch, "compile", lambda function, **options: function)  # no compiler on a test machine


def test_compile_probe_classification_rate_is_the_tile_s_pixels_per_second(monkeypatch, capsys):
    probe_clock(monkeypatch)
    compile_probe.classify(argparse.Namespace(preset="tiny", device="cpu", tile=8, batch=64, repeats=4,
                                              modes="default"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [{"what": "classify", "how": "eager", "px_per_s": 256.0, "batch": 64},
                     {"what": "classify", "how": "default", "first_call_s": 1.0, "agreement": 1.0},
                     {"what": "classify", "how": "default", "px_per_s": 256.0, "batch": 64}]


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")  # the probe's float(loss)
def test_compile_probe_pretraining_rate_leaves_out_the_warm_up_steps(monkeypatch, capsys):
    probe_clock(monkeypatch)
    compile_probe.pretrain(argparse.Namespace(preset="tiny", device="cpu", batch=4, steps=2, modes="default"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["how"], line["warmup_s"], line["samples_per_s"], line["batch"]) for line in lines] == [
        ("eager", 1.0, 8.0, 4), ("default", 1.0, 8.0, 4)]
