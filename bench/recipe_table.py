"""The accuracy table of one pretraining and fine-tuning recipe: none / random / MRS.

The protocol of ../shared/data/README.md (budgets of 5 and 20 labels per class drawn with
its draw, and all of train.tif; identical fine-tuning for the three arms; one pretraining
per arm with --pretrain-seed, shared by the fine-tuning seeds), scored either on every
other pixel of train.tif (`--split val`: the only figures a recipe may be chosen on) or
on every labelled pixel of test.tif (`--split test`: the final table).

Built for a 2-core CPU: the patches are cut once and cached, pretraining runs as in
bench/pretrain_diagnostics.py (same cache, same probe curves), and the test pixels are
classified patch by patch, which gives the values the map of mrs:classify has there
(tests/test_model.py: tile prediction equals the per-patch forward) without mapping
the 70 % of the scene that has no test label. bench/accuracy.py runs the same through
the plugin's jobs, map and report.

    python bench/recipe_table.py --scenes trento_sim,trento_sar_sim --split test --variant norm_targets

Each run is appended to bench/results/<name>_runs.jsonl and reused. Prints JSON and
writes bench/results/<name>.md.
"""

import argparse
import json
import statistics
import time
from typing import Any, Dict, List, Optional

import numpy as np

from common import RESULTS, SHARED_DATA, machine, read_runs, write_json
import pretrain_diagnostics as diagnostics
from accuracy import ARMS, budget_label, plugin

import torch  # noqa: E402

from model_core.config import READOUTS, preset  # noqa: E402
from model_core.device import resolve_device  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402
from model_core.metrics import accuracy  # noqa: E402
from model_core.preprocessing import Normalizer  # noqa: E402


def test_pixels(scene: str, data: "diagnostics.SceneData", log: Hooks) -> tuple:
    """Normalised patches of every labelled test.tif pixel (cached) and their class indices."""
    jobs = plugin()
    from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput
    from mrs.mrs_qgis_plugin.streaming import normalised_patches

    folder = SHARED_DATA / scene
    cache = diagnostics.WORK / f"{scene}-test-p{data.labelled.shape[-1]}.npz"
    layers = jobs.Layers(RasterInput(str(folder / "hsi.tif"), "hsi"), [RasterInput(str(folder / "aux.tif"), "aux")])
    with layers.open(log) as opened:
        labelled = labels_from_raster(opened, str(folder / "test.tif"), "test", log)
        if cache.exists():
            patches = np.load(cache)["patches"]
        else:
            normalizer = Normalizer.fit(jobs._pixel_sample([opened], 0, log))
            patches = normalised_patches(opened, labelled.rows, labelled.cols, data.labelled.shape[-1], normalizer, log)
            np.savez(cache, patches=patches)
    values = np.array([c["value"] for c in data.classes])
    return torch.from_numpy(patches), torch.from_numpy(np.searchsorted(values, labelled.values)).long()


def scored(data, scoring, per_class: Optional[int], seed: int) -> tuple:
    """The patches and labels a run is scored on: test.tif's, or train.tif's outside the draw."""
    if scoring is not None:
        return scoring
    _train, held_out = data.split(per_class, seed)
    return data.labelled[held_out], data.labels[held_out]


def run_scene(scene: str, args, log: Hooks, done: Dict[str, Any], runs_file) -> List[Dict[str, Any]]:
    data = diagnostics.SceneData(scene, preset(args.preset).patch, args.samples, args.holdout, log)
    scoring = test_pixels(scene, data, log) if args.split == "test" else None
    encoders: Dict[str, Optional[dict]] = {"none": None}
    pretraining: Dict[str, float] = {"none": 0.0}
    for arm in [arm for arm in args.arms if arm != "none"]:
        model, info = diagnostics.pretrained_model(data, scene, args.variant, arm, args, log)
        encoders[arm] = {k: v for k, v in model.encoder.state_dict().items()}
        pretraining[arm] = info["seconds"]
    records = []
    for per_class in args.budgets:
        for seed in args.seeds:
            x, y = scored(data, scoring, per_class, seed)
            for arm in args.arms:
                settings = {"scene": scene, "split": args.split, "arm": arm, "budget": budget_label(per_class),
                            "seed": seed, **{k: getattr(args, k) for k in RECIPE}}
                key = run_key(settings)
                if key not in done:
                    started = time.perf_counter()
                    model = diagnostics.finetuned_classifier(data, encoders[arm], per_class, seed, args, log,
                                                             args.fusion, readout=args.readout,
                                                             val_fraction=args.val_fraction)
                    seconds = time.perf_counter() - started
                    figures = accuracy(y.numpy(), diagnostics.predicted(model, x).numpy(), len(data.classes))
                    done[key] = {"key": key, **settings, "oa": 100 * figures.overall,
                                 "aa": 100 * figures.average, "kappa": figures.kappa,
                                 "finetune_seconds": seconds, "pretraining_seconds": pretraining[arm]}
                    with open(runs_file, "a") as handle:
                        handle.write(json.dumps(done[key]) + "\n")
                    print(f"{scene} {args.split} {budget_label(per_class)}/class seed {seed} {arm}: "
                          f"OA {done[key]['oa']:.2f}", flush=True)
                records.append(done[key])
    return records


RECIPE = ("preset", "variant", "samples", "epochs", "lr", "mask_ratio", "pretrain_seed", "fusion",
          "finetune_lr", "encoder_lr_scale", "freeze_fraction", "readout", "val_fraction")
"""The settings that make a run: a run with the same ones is reused."""

ADDED = {"readout": "class_token", "val_fraction": 0.0}
"""Settings added to RECIPE later, with the value the runs recorded before them had."""


def run_key(settings: Dict[str, Any]) -> str:
    """The key of a run (its scene, split, arm, budget, seed and RECIPE settings)."""
    names = ("scene", "split", "arm", "budget", "seed", *RECIPE)
    return json.dumps({name: settings.get(name, ADDED.get(name)) for name in names}, sort_keys=True)


def summary(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    groups: Dict[tuple, List[Dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["scene"], record["budget"], record["arm"]), []).append(record)
    out: Dict[str, Any] = {}
    for (scene, budget, arm), runs in groups.items():
        entry: Dict[str, Any] = {"seeds": [r["seed"] for r in runs]}
        for metric in ("oa", "aa", "kappa"):
            values = [r[metric] for r in runs]
            entry[metric] = {"mean": statistics.mean(values),
                             "sd": statistics.stdev(values) if len(values) > 1 else 0.0}
        entry["finetune_seconds"] = statistics.mean(r["finetune_seconds"] for r in runs)
        entry["pretraining_seconds"] = runs[0]["pretraining_seconds"]
        out.setdefault(scene, {}).setdefault(budget, {})[arm] = entry
    return out


def markdown(results: Dict[str, Any], args) -> str:
    lines = [f"Recipe: `{ {k: getattr(args, k) for k in RECIPE} }`; split {args.split}; seeds "
             f"{','.join(map(str, args.seeds))}.", ""]
    for scene, budgets in results.items():
        lines += [f"**{scene}**", "", "| labels per class | arm | OA % | AA % | kappa | pretraining s | fine-tuning s |",
                  "|---|---|---|---|---|---|---|"]
        for budget, arms in budgets.items():
            for arm in args.arms:
                e = arms[arm]
                lines.append(f"| {budget} | {arm} | {e['oa']['mean']:.2f} ± {e['oa']['sd']:.2f} | "
                             f"{e['aa']['mean']:.2f} ± {e['aa']['sd']:.2f} | "
                             f"{e['kappa']['mean']:.4f} ± {e['kappa']['sd']:.4f} | "
                             f"{e['pretraining_seconds']:.0f} | {e['finetune_seconds']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default="trento_sim,trento_sar_sim")
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--variant", default="paper", help=f"pretraining recipe: {', '.join(diagnostics.VARIANTS)}")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--holdout", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--mask-ratio", type=float, default=0.3)
    parser.add_argument("--pretrain-seed", type=int, default=0)
    parser.add_argument("--probe-seeds", default="0,1,2")
    parser.add_argument("--budgets", default="5,20")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--fusion", default="sum")
    parser.add_argument("--readout", default="class_token", choices=READOUTS,
                        help="what the classifier reads from the spatial branch (ModelConfig.readout)")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, any of {', '.join(ARMS)}")
    parser.add_argument("--finetune-lr", type=float, default=5e-4)
    parser.add_argument("--encoder-lr-scale", type=float, default=1.0)
    parser.add_argument("--freeze-fraction", type=float, default=0.0)
    parser.add_argument("--val-fraction", type=float, default=0.0,
                        help="validation share of each budget's labels, the best epoch kept (mrs:finetune's "
                             "VALIDATION_FRACTION); 0: every label trains, the last epoch is kept")
    parser.add_argument("--name", default="recipe_table")
    args = parser.parse_args(argv)
    args.budgets = [None if b == "all" else int(b) for b in args.budgets.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.arms = [arm for arm in ARMS if arm in args.arms.split(",")]
    args.probe_seeds = [int(s) for s in args.probe_seeds.split(",")]
    diagnostics.WORK.mkdir(parents=True, exist_ok=True)
    log_file = open(RESULTS / f"{args.name}.log", "a")
    log = Hooks(log=lambda line: print(line, file=log_file, flush=True))
    runs_file = RESULTS / f"{args.name}_runs.jsonl"
    done = {run_key(r): r for r in read_runs(runs_file)}
    started = time.perf_counter()
    records = []
    for scene in args.scenes.split(","):
        records += run_scene(scene, args, log, done, runs_file)
    results = summary(records)
    report = {"benchmark": "recipe_table", "machine": machine(resolve_device(args.device)),
              "settings": {k: v for k, v in vars(args).items()}, "wall_seconds": time.perf_counter() - started,
              "results": results}
    (RESULTS / f"{args.name}.md").write_text(markdown(results, args))
    write_json(args.name, report)
    return report


if __name__ == "__main__":
    main()
