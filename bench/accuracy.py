"""Accuracy benchmark: no pretraining, SS-MAE random spectral pretraining, MRS pretraining.

On each benchmark scene of ../shared/data (hsi.tif, aux.tif, train.tif, test.tif,
classes.csv), with the protocol of its README: label budgets of 5 and 20 pixels per
class drawn from train.tif with numpy's default_rng(seed), and all of train.tif;
pretraining on the whole scene without labels, shared by every budget of one seed (or,
with --pretrain-seed, one pretraining shared by every seed);
identical fine-tuning for the three arms; the epoch kept is chosen on a validation
split of the training pixels; test.tif is used only to score the finished map.
Everything runs through the plugin's own jobs (the code the Processing algorithms
call): pretrain, fine-tune, classify the whole scene, assess accuracy.

    python bench/accuracy.py [--scenes trento_sim] [--seeds 0,1,2] [--preset small]

Each finished run is appended to bench/results/accuracy_runs.jsonl and skipped when
the benchmark is started again with the same settings, so a long run can be resumed, or
split into processes that run side by side (--arms, --seeds) and then summed up by one
with --report-only. Each pretraining's wall time is kept beside its model. Prints JSON
and writes bench/results/accuracy.md. MRS_BENCH_DATA names the scenes' folder where
../shared/data is not beside the checkout.
"""

import argparse
import csv
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from common import RESULTS, SHARED_DATA, machine, read_runs, write_json

from osgeo import gdal  # noqa: E402

from model_core.device import resolve_device  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402
from model_core.training import MaskingSettings, TrainSettings  # noqa: E402

ARMS = ("none", "random", "mrs")
RUNS = RESULTS / "accuracy_runs.jsonl"


def plugin():
    """The plugin's jobs module, imported as the package `mrs` (as QGIS does)."""
    import importlib
    import os
    import sys

    root = Path(__file__).resolve().parents[1]
    # One folder per checkout, so that two checkouts never import each other's code.
    folder = Path(tempfile.gettempdir()) / f"mrs-bench-import-{hashlib.sha1(str(root).encode()).hexdigest()[:8]}"
    folder.mkdir(exist_ok=True)
    link = folder / "mrs"
    if not link.exists():
        os.symlink(root, link)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module("mrs.mrs_qgis_plugin.jobs")


def read_classes(scene: Path) -> List[Dict[str, str]]:
    with open(scene / "classes.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def protocol_pixels(train: np.ndarray, per_class: Optional[int], seed: int) -> np.ndarray:
    """Flat indices of the training pixels of a label budget, drawn as the data README says."""
    rng = np.random.default_rng(seed)
    chosen = []
    for value in sorted(v for v in np.unique(train) if v != 0):
        indices = np.flatnonzero(train.ravel() == value)
        chosen.append(indices if per_class is None else rng.choice(indices, size=per_class, replace=False))
    return np.concatenate(chosen)


def write_labels(path: Path, like: Path, values: np.ndarray, pixels: np.ndarray,
                 classes: List[Dict[str, str]]) -> None:
    """A label raster on the grid of `like` holding `values` at `pixels` only, with class names."""
    source = gdal.Open(str(like))
    labels = np.zeros(source.RasterYSize * source.RasterXSize, np.uint8)
    labels[pixels] = values.ravel()[pixels]
    target = gdal.GetDriverByName("GTiff").Create(str(path), source.RasterXSize, source.RasterYSize, 1, gdal.GDT_Byte)
    target.SetGeoTransform(source.GetGeoTransform())
    target.SetProjection(source.GetProjection())
    band = target.GetRasterBand(1)
    band.WriteArray(labels.reshape(source.RasterYSize, source.RasterXSize))
    band.SetNoDataValue(0)
    names = [""] * (max(int(c["value"]) for c in classes) + 1)
    table = gdal.ColorTable()
    for item in classes:
        names[int(item["value"])] = item["name"]
        color = item["color"].lstrip("#")
        table.SetColorEntry(int(item["value"]), tuple(int(color[i:i + 2], 16) for i in (0, 2, 4)) + (255,))
    band.SetCategoryNames(names)
    band.SetColorTable(table)
    target = None


def pretrain_time_file(model: Path) -> Path:
    return model.with_suffix(".seconds.json")


def run_key(settings: Dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def load_runs() -> Dict[str, Dict[str, Any]]:
    return {record["key"]: record for record in read_runs(RUNS)}


def save_run(record: Dict[str, Any]) -> None:
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    with open(RUNS, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def budget_label(per_class: Optional[int]) -> str:
    return "all" if per_class is None else str(per_class)


def benchmark_scene(jobs, scene: Path, args, log: Hooks, done: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The scene's runs, with its label rasters, classifiers and maps in a folder removed after."""
    with tempfile.TemporaryDirectory(prefix=f"mrs-accuracy-{scene.name}-") as work:
        return scene_runs(jobs, scene, args, log, done, Path(work))


def scene_runs(jobs, scene: Path, args, log: Hooks, done: Dict[str, Dict[str, Any]], work: Path
               ) -> List[Dict[str, Any]]:
    from mrs.mrs_qgis_plugin.analysis import accuracy_job
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput

    layers = jobs.Layers(RasterInput(str(scene / "hsi.tif"), "hsi"), [RasterInput(str(scene / "aux.tif"), "aux")])
    classes = read_classes(scene)
    train = gdal.Open(str(scene / "train.tif")).ReadAsArray()
    records = []
    for seed in args.seeds:
        pretrained: Dict[str, str] = {}
        pretrain_seconds: Dict[str, Optional[float]] = {}
        pretrain_seed = args.pretrain_seed if args.pretrain_seed is not None else seed
        for arm in (arm for arm in args.arms if arm != "none"):
            common_settings = {"scene": scene.name, "preset": args.preset, "seed": pretrain_seed, "arm": arm,
                               "samples": args.pretrain_samples, "epochs": args.pretrain_epochs,
                               "ratio": args.mask_ratio, "lr": args.pretrain_lr, "batch": args.pretrain_batch,
                               "normalized_targets": args.normalized_targets}
            path = RESULTS / "models" / f"{scene.name}-{args.preset}-{arm}-seed{pretrain_seed}-{run_key(common_settings)}.safetensors"
            if not path.exists() and not args.report_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                jobs.pretrain_job(layers, preset=args.preset, samples=args.pretrain_samples,
                                  masking=MaskingSettings(arm, args.mask_ratio, args.mask_ratio,
                                                          normalized_targets=args.normalized_targets),
                                  settings=TrainSettings(epochs=args.pretrain_epochs, batch_size=args.pretrain_batch,
                                                         lr=args.pretrain_lr, seed=pretrain_seed,
                                                         device=args.device),
                                  output=str(path), hooks=log)
                seconds = time.perf_counter() - started
                pretrain_time_file(path).write_text(json.dumps({"seconds": seconds}))
                print(f"{scene.name} seed {pretrain_seed}: {arm} pretraining took {seconds:.0f} s", flush=True)
            pretrained[arm] = str(path)
            timing = pretrain_time_file(path)
            pretrain_seconds[arm] = json.loads(timing.read_text())["seconds"] if timing.exists() else None
        for per_class in args.budgets:
            pixels = protocol_pixels(train, per_class, seed)
            labels = work / f"labels-{budget_label(per_class)}-{seed}.tif"
            write_labels(labels, scene / "train.tif", train, pixels, classes)
            for arm in args.arms:
                settings = {"scene": scene.name, "preset": args.preset, "seed": seed, "budget": budget_label(per_class),
                            "arm": arm, "pretrained": None if arm == "none" else Path(pretrained[arm]).name,
                            "epochs": args.finetune_epochs[budget_label(per_class)], "lr": args.finetune_lr,
                            "encoder_lr_scale": args.encoder_lr_scale,
                            "batch": args.finetune_batch, "val_fraction": args.val_fraction}
                key = run_key(settings)
                if key in done:
                    records.append({**done[key], "pretrain_seconds": pretrain_seconds.get(arm, 0.0)})
                    continue
                if args.report_only:
                    continue
                started = time.perf_counter()
                model = work / f"classifier-{key}.safetensors"
                meta = jobs.finetune_job(
                    layers, jobs.LabelSource(labels.name, raster_path=str(labels)),
                    pretrained=None if arm == "none" else pretrained[arm], preset=args.preset,
                    val_fraction=args.val_fraction, class_weighting=True, output=str(model), hooks=log,
                    settings=TrainSettings(epochs=settings["epochs"], batch_size=args.finetune_batch,
                                           lr=args.finetune_lr, encoder_lr_scale=args.encoder_lr_scale, seed=seed,
                                           device=args.device))
                trained = time.perf_counter()
                class_map = work / f"map-{key}.tif"
                jobs.classify_job(str(model), layers, output=str(class_map), confidence=None, tile_size=256,
                                  batch_size=None, device=args.device, hooks=log)
                report = accuracy_job(str(class_map), "map", jobs.LabelSource("test", raster_path=str(scene / "test.tif")),
                                      hooks=log)
                record = {"key": key, **settings, "oa": report["overall_accuracy"], "aa": report["average_accuracy"],
                          "kappa": report["kappa"],
                          "per_class": {c["name"]: c["producers_accuracy"] for c in report["classes"]},
                          "best_epoch": meta["training"]["best_epoch"], "val_accuracy": meta["training"]["val_accuracy"],
                          "finetune_seconds": trained - started, "classify_seconds": time.perf_counter() - trained}
                save_run(record)
                records.append({**record, "pretrain_seconds": pretrain_seconds.get(arm, 0.0)})
                print(f"{scene.name} seed {seed} budget {budget_label(per_class)} {arm}: OA {100 * record['oa']:.2f} %, "
                      f"kappa {record['kappa']:.4f} (epoch {record['best_epoch']}, {record['finetune_seconds']:.0f} s)",
                      flush=True)
    return records


def summarise(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    summary: Dict[str, Any] = {}
    for record in records:
        group = summary.setdefault(record["scene"], {}).setdefault(record["budget"], {}).setdefault(record["arm"], [])
        group.append(record)
    out: Dict[str, Any] = {}
    for scene, budgets in summary.items():
        for budget, arms in budgets.items():
            for arm, runs in arms.items():
                runs = sorted(runs, key=lambda r: r["seed"])
                entry = {"seeds": [r["seed"] for r in runs], "oa_per_seed": [r["oa"] for r in runs]}
                for metric in ("oa", "aa", "kappa"):
                    values = [100 * r[metric] if metric != "kappa" else r[metric] for r in runs]
                    entry[metric] = {"mean": statistics.mean(values),
                                     "std": statistics.stdev(values) if len(values) > 1 else 0.0}
                entry["per_class"] = {name: statistics.mean(100 * r["per_class"][name] for r in runs)
                                      for name in runs[0]["per_class"]}
                entry["finetune_seconds"] = statistics.mean(r["finetune_seconds"] for r in runs)
                entry["pretrain_seconds"] = runs[0]["pretrain_seconds"] if len(
                    {r["pretrain_seconds"] for r in runs}) == 1 else None
                out.setdefault(scene, {}).setdefault(budget, {})[arm] = entry
    return out


def budget_text(budget: str) -> str:
    return "all labels" if budget == "all" else f"{budget} per class"


def markdown(summary: Dict[str, Any], args) -> str:
    lines = [f"Preset `{args.preset}`; pretraining {args.pretrain_samples} samples x {args.pretrain_epochs} epochs "
             f"(mask ratio {args.mask_ratio}, normalised targets {args.normalized_targets}, seed {'as fine-tuning' if args.pretrain_seed is None else args.pretrain_seed}); "
             f"fine-tuning epochs {args.finetune_epochs}, lr {args.finetune_lr}, encoder factor {args.encoder_lr_scale}; "
             f"seeds {','.join(map(str, args.seeds))}.", ""]
    for scene, budgets in summary.items():
        lines += [f"**{scene}**", "", "| labels per class | arm | seeds | OA % | AA % | kappa | pretraining s | "
                  "fine-tuning s (per run) |", "|---|---|---|---|---|---|---|---|"]
        for budget, arms in budgets.items():
            for arm in ARMS:
                if arm in arms:
                    e = arms[arm]
                    pretraining = "?" if e["pretrain_seconds"] is None else f"{e['pretrain_seconds']:.0f}"
                    lines.append(f"| {budget} | {arm} | {','.join(map(str, e['seeds']))} | "
                                 f"{e['oa']['mean']:.2f} ± {e['oa']['std']:.2f} | "
                                 f"{e['aa']['mean']:.2f} ± {e['aa']['std']:.2f} | "
                                 f"{e['kappa']['mean']:.4f} ± {e['kappa']['std']:.4f} | {pretraining} | "
                                 f"{e['finetune_seconds']:.0f} |")
        lines += ["", "OA % per seed:", ""]
        for budget, arms in budgets.items():
            lines.append(f"- {budget_text(budget)}: " + "; ".join(
                f"{arm} " + ", ".join(f"{100 * oa:.2f}" for oa in arms[arm]["oa_per_seed"]) for arm in ARMS if arm in arms))
        names = next(iter(next(iter(budgets.values())).values()))["per_class"]
        lines += ["", "Per-class accuracy (%), mean over seeds:", "",
                  "| labels per class | arm | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        for budget, arms in budgets.items():
            for arm in ARMS:
                if arm in arms:
                    lines.append(f"| {budget} | {arm} | " + " | ".join(f"{arms[arm]['per_class'][n]:.1f}" for n in names) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default="trento_sim")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budgets", default="5,20,all")
    parser.add_argument("--arms", default=",".join(ARMS), help="arms to run, of none,random,mrs")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: sum up the runs already saved for these settings")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--pretrain-samples", type=int, default=10000)
    parser.add_argument("--pretrain-epochs", type=int, default=60)
    parser.add_argument("--pretrain-batch", type=int, default=128)
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--mask-ratio", type=float, default=0.3)
    parser.add_argument("--normalized-targets", action=argparse.BooleanOptionalAction, default=True,
                        help="normalised reconstruction targets (mrs:pretrain's NORMALIZED_TARGETS)")
    parser.add_argument("--pretrain-seed", type=int, default=None,
                        help="one pretraining (per arm) with this seed, shared by every fine-tuning seed; "
                             "by default each seed pretrains its own")
    parser.add_argument("--finetune-epochs", default="5:200,20:100,all:40",
                        help="epochs per label budget")
    parser.add_argument("--finetune-lr", type=float, default=5e-4)
    parser.add_argument("--encoder-lr-scale", type=float, default=1.0,
                        help="the encoder's fraction of the fine-tuning learning rate (ENCODER_LR_FACTOR)")
    parser.add_argument("--finetune-batch", type=int, default=64)
    parser.add_argument("--val-fraction", type=float, default=0.0,
                        help="validation share of each budget's labels; 0: all train, the last epoch is kept "
                             "(better at 5 and 20 labels per class on held-out train.tif pixels)")
    args = parser.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.budgets = [None if b == "all" else int(b) for b in args.budgets.split(",") if b]
    args.arms = args.arms.split(",")
    if not set(args.arms) <= set(ARMS):
        parser.error(f"--arms takes some of {','.join(ARMS)}")
    missing = [name for name in args.scenes.split(",") if not (SHARED_DATA / name / "hsi.tif").is_file()]
    if missing:
        parser.error(f"no scene {', '.join(missing)} in {SHARED_DATA} (MRS_BENCH_DATA names another folder)")
    args.finetune_epochs = dict((k, int(v)) for k, v in (item.split(":") for item in args.finetune_epochs.split(",")))
    jobs = plugin()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_file = open(RESULTS / "accuracy.log", "a")
    log = Hooks(log=lambda line: print(line, file=log_file, flush=True))
    done = load_runs()
    started = time.perf_counter()
    records = []
    for name in args.scenes.split(","):
        records += benchmark_scene(jobs, SHARED_DATA / name, args, log, done)
    summary = summarise(records)
    report = {"benchmark": "accuracy", "machine": machine(resolve_device(args.device)),
              "settings": {k: v for k, v in vars(args).items()}, "wall_seconds": time.perf_counter() - started,
              "results": summary}
    (RESULTS / "accuracy.md").write_text(markdown(summary, args))
    write_json("accuracy", report)
    return report


if __name__ == "__main__":
    main()
