"""Where does pretraining lose its value? Diagnostics on the benchmark scenes.

For each scene of ../shared/data and each pretraining recipe (a named variant of the
pretext task), with random spectral masking and with MRS:

- pretraining curves: the reconstruction loss of every epoch and, after every epoch,
  a linear probe and a k-nearest-neighbour classifier on the frozen encoder's class
  tokens (spatial, spectral, both concatenated), so one sees whether the features still
  improve when pretraining stops;
- probes of a randomly initialised encoder and of the raw centre pixel, for reference;
- reconstruction error of masked bands, split by whether a band at least THRESHOLD-
  similar to it (cosine over the patch, as MRS ranks bands) stayed visible: the leak
  MRS exists to close, measured on the model, under both maskings;
- fine-tuning with and without the CNN branch, with and without each pretraining.

Every figure is an overall accuracy on held-out pixels of train.tif: the labels of a
budget (5 or 20 per class) are drawn with the data README's protocol and the probe or
classifier is scored on every other pixel of train.tif. test.tif is never read.

    python bench/pretrain_diagnostics.py [--scenes trento_sim,trento_sar_sim] [--variants paper]

Prints JSON and writes bench/results/pretrain_diagnostics.{json,md}. Pretrained
models and patches are kept under bench/results/diagnostics/ and reused.
"""

import argparse
import json
import statistics
import time
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from common import RESULTS, SHARED_DATA, machine, read_runs, write_json
from accuracy import plugin, protocol_pixels

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from osgeo import gdal  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from model_core import masking  # noqa: E402
from model_core.choices import MASK_RATIO  # noqa: E402
from model_core.config import preset  # noqa: E402
from model_core.device import resolve_device  # noqa: E402
from model_core.hooks import Hooks  # noqa: E402
from model_core.model import SSMAE, SSEncoder, SSMAEClassifier, band_tokens  # noqa: E402
from model_core.preprocessing import Normalizer, fit_pca  # noqa: E402
from model_core.redundancy import band_similarity, group_mask_ratio  # noqa: E402
from model_core.training import (MaskingSettings, PretrainPhase, TensorSamples, TrainSettings,  # noqa: E402
                                 finetune, predict_logits, run_training)

WORK = RESULTS / "diagnostics"
GROUP_RATIO = "groups"
"""A variant's spectral ratio taken from each scene's band-redundancy groups (`group_mask_ratio`)."""
GROUP_THRESHOLD = 0.95
"""The similarity that puts two bands in one group: mrs:redundancy's default THRESHOLD."""
VARIANTS: Dict[str, Dict[str, Any]] = {
    # The paper's pretext task: ratio 0.3, raw targets, cosine over the raw patch.
    "paper": {},
    "norm_targets": {"normalized_targets": True},
    "correlation": {"similarity": "correlation"},
    "norm_targets_correlation": {"normalized_targets": True, "similarity": "correlation"},
    "ratio_0.5": {"spectral_ratio": 0.5},
    "norm_targets_ratio_0.5": {"normalized_targets": True, "spectral_ratio": 0.5},
    "norm_targets_ratio_0.7": {"normalized_targets": True, "spectral_ratio": 0.7},
    "norm_targets_ratio_groups": {"normalized_targets": True, "spectral_ratio": GROUP_RATIO},
    "norm_targets_spatial_0.5": {"normalized_targets": True, "spatial_ratio": 0.5},
    "norm_targets_spatial_0.75": {"normalized_targets": True, "spatial_ratio": 0.75},
}


class SceneData:
    """Normalised patches of one scene: pretraining samples, held-out samples and every train.tif pixel."""

    def __init__(self, name: str, patch: int, samples: int, holdout: int, log: Hooks) -> None:
        jobs = plugin()
        from mrs.mrs_qgis_plugin.raster.label_raster import labels_from_raster
        from mrs.mrs_qgis_plugin.raster.samples import random_valid_positions
        from mrs.mrs_qgis_plugin.raster.sources import RasterInput
        from mrs.mrs_qgis_plugin.streaming import normalised_patches

        folder = SHARED_DATA / name
        cache = WORK / f"{name}-p{patch}-{samples}-{holdout}.npz"
        layers = jobs.Layers(RasterInput(str(folder / "hsi.tif"), "hsi"), [RasterInput(str(folder / "aux.tif"), "aux")])
        with layers.open(log) as scene:
            self.n_hsi = scene.n_hsi
            sample = jobs._pixel_sample([scene], 0, log)
            normalizer = Normalizer.fit(sample)
            labelled = labels_from_raster(scene, str(folder / "train.tif"), "train", log)
            if cache.exists():
                stored = np.load(cache)
                pretraining, labelled_patches = stored["pretraining"], stored["labelled"]
            else:
                rows, cols = random_valid_positions(scene, samples + holdout, 0, log)
                pretraining = normalised_patches(scene, rows, cols, patch, normalizer, log)
                labelled_patches = normalised_patches(scene, labelled.rows, labelled.cols, patch, normalizer, log)
                WORK.mkdir(parents=True, exist_ok=True)
                np.savez(cache, pretraining=pretraining, labelled=labelled_patches)
            width = scene.grid.width
        self.band_pixels = normalizer.apply_pixels(sample)
        self.pca_pixels = self.band_pixels[:, :self.n_hsi]
        self.pretraining = torch.from_numpy(pretraining[:samples])
        self.holdout = torch.from_numpy(pretraining[samples:]).float()
        self.labelled = torch.from_numpy(labelled_patches)
        values = np.array([info.value for info in labelled.classes])
        self.classes = [{"value": int(info.value), "name": info.name, "color": info.color} for info in labelled.classes]
        self.labels = torch.from_numpy(np.searchsorted(values, labelled.values)).long()
        self.flat = labelled.rows.astype(np.int64) * width + labelled.cols
        self.pixels = labelled
        self.train = gdal.Open(str(folder / "train.tif")).ReadAsArray()

    def split(self, per_class: int, seed: int) -> tuple:
        """Indices into the labelled pixels: the protocol's draw, and every other train.tif pixel."""
        chosen = np.isin(self.flat, protocol_pixels(self.train, per_class, seed))
        return np.flatnonzero(chosen), np.flatnonzero(~chosen)

    def validation_split(self, indices: np.ndarray, fraction: float, seed: int) -> tuple:
        """Those labelled pixels split as `mrs:finetune` splits its samples with VALIDATION_FRACTION
        `fraction` and SEED `seed`: (training indices, validation indices). The pixels' rows carry
        their indices through the split, which keeps rows, cols and values of each pixel together."""
        from mrs.mrs_qgis_plugin.raster.labels import stratified_split

        fit, validation = stratified_split(replace(self.pixels.take(indices), rows=indices), fraction, seed)
        return fit.rows, validation.rows


def standardise(features: torch.Tensor, train: np.ndarray) -> torch.Tensor:
    mean, std = features[train].mean(0), features[train].std(0).clamp_min(1e-6)
    return (features - mean) / std


def linear_probe(features: torch.Tensor, labels: torch.Tensor, train: np.ndarray, test: np.ndarray,
                 n_classes: int, weight_decay: float = 1e-2) -> float:
    """Accuracy of a multinomial logistic regression (L2, LBFGS) on standardised features."""
    x = standardise(features, train)
    weights = torch.zeros(x.shape[1], n_classes, requires_grad=True)
    bias = torch.zeros(n_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x[train] @ weights + bias, labels[train]) + weight_decay * weights.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return float(((x[test] @ weights + bias).argmax(1) == labels[test]).float().mean())


def knn(features: torch.Tensor, labels: torch.Tensor, train: np.ndarray, test: np.ndarray,
        n_classes: int, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote (cosine on standardised features, votes weighted by similarity)."""
    x = F.normalize(standardise(features, train), dim=1)
    similarity = x[test] @ x[train].T
    top, index = similarity.topk(min(k, len(train)), dim=1)
    votes = torch.zeros(len(test), n_classes).scatter_add_(1, labels[train][index], top.clamp_min(0) + 1e-6)
    return float((votes.argmax(1) == labels[test]).float().mean())


@torch.no_grad()
def encoder_features(encoder: SSEncoder, patches: torch.Tensor, batch: int = 512) -> Dict[str, torch.Tensor]:
    encoder.eval()
    parts = [encoder(patches[start:start + batch].float()) for start in range(0, len(patches), batch)]
    spatial = torch.cat([p[0] for p in parts]).float()
    spectral = torch.cat([p[1] for p in parts]).float()
    return {"spatial": spatial, "spectral": spectral, "both": torch.cat([spatial, spectral], 1)}


def centre_pixels(patches: torch.Tensor) -> Dict[str, torch.Tensor]:
    middle = patches.shape[-1] // 2
    return {"raw_centre_pixel": patches[:, :, middle, middle].float()}


def probe_all(features: Dict[str, torch.Tensor], data: SceneData, budgets: Sequence[int],
              seeds: Sequence[int]) -> Dict[str, Any]:
    """Linear-probe and kNN accuracy (%) per feature set and budget: mean and sd over seeds."""
    out: Dict[str, Any] = {}
    n_classes = len(data.classes)
    for per_class in budgets:
        splits = [data.split(per_class, seed) for seed in seeds]
        for name, values in features.items():
            for probe, function in (("linear", linear_probe), ("knn", knn)):
                scores = [100 * function(values, data.labels, train, test, n_classes) for train, test in splits]
                out[f"{probe}/{name}/{per_class}"] = summary(scores)
    return out


def summary(values: List[float]) -> Dict[str, float]:
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0}


class ProbedPretraining(PretrainPhase):
    """Pretraining whose per-epoch 'validation' is a probe of the frozen encoder. Its score is
    constant, so the loop keeps the last epoch as plain pretraining does."""

    def __init__(self, settings: MaskingSettings, data: SceneData, seeds: Sequence[int]) -> None:
        super().__init__(settings)
        self.data, self.seeds = data, seeds

    def validate(self, model) -> Optional[Dict[str, float]]:
        features = encoder_features(model.encoder, self.data.labelled)
        figures = probe_all({"both": features["both"]}, self.data, (5, 20), self.seeds)
        model.train()
        return {"score": 0.0, **{key: value["mean"] for key, value in figures.items()}}


def variant_settings(variant: str, strategy: str, ratio: float, data: SceneData) -> MaskingSettings:
    options = {"spectral_ratio": ratio, "spatial_ratio": ratio, **VARIANTS[variant]}
    if options["spectral_ratio"] == GROUP_RATIO:
        options["spectral_ratio"] = round(group_mask_ratio(band_similarity(data.band_pixels), GROUP_THRESHOLD), 3)
    if strategy != "mrs":
        options.pop("similarity", None)
    return MaskingSettings(strategy=strategy, **options)


def pretrained_model(data: SceneData, scene: str, variant: str, strategy: str, args, log: Hooks) -> tuple:
    """An SSMAE pretrained with one recipe (cached), and its history of loss and probes."""
    config = preset(args.preset)
    settings = variant_settings(variant, strategy, args.mask_ratio, data)
    ratio = "" if args.mask_ratio == MASK_RATIO else f"-ratio{args.mask_ratio}"
    name = (f"{scene}-{args.preset}-{variant}-{strategy}{ratio}-{args.samples}x{args.epochs}-lr{args.lr}"
            f"-seed{args.pretrain_seed}")
    path = WORK / f"{name}.safetensors"
    model = SSMAE(config, data.n_hsi, data.pretraining.shape[1] - data.n_hsi, settings.normalized_targets)
    if path.exists():
        model.load_state_dict(load_file(str(path)))
        return model, json.loads((WORK / f"{name}.json").read_text())
    torch.manual_seed(args.pretrain_seed)
    model = SSMAE(config, data.n_hsi, data.pretraining.shape[1] - data.n_hsi, settings.normalized_targets)
    started = time.perf_counter()
    result = run_training(model, ProbedPretraining(settings, data, args.probe_seeds), TensorSamples(data.pretraining),
                          TrainSettings(epochs=args.epochs, batch_size=128, lr=args.lr, seed=args.pretrain_seed,
                                        device=args.device), log, {"config": config.to_dict()})
    info = {"settings": settings.to_dict(), "seconds": time.perf_counter() - started,
            "history": [{k: v for k, v in record.items() if k != "score"} for record in result.history]}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    (WORK / f"{name}.json").write_text(json.dumps(info))
    print(f"{scene} {variant} {strategy}: pretrained in {info['seconds']:.0f} s, final loss "
          f"{info['history'][-1]['loss']:.4f}", flush=True)
    return model, info


@torch.no_grad()
def leak_errors(model: SSMAE, patches: torch.Tensor, settings: Dict[str, Any], threshold: float) -> Dict[str, Any]:
    """Spectral-branch reconstruction error of masked bands, with and without a visible near-duplicate,
    under both maskings at the ratios of `settings` (MaskingSettings.to_dict of the model's pretraining)."""
    model.eval()
    out = {}
    for strategy, function in (("random", masking.random_spectral_mask), ("mrs", masking.mrs_mask)):
        generator = torch.Generator().manual_seed(1234)
        spatial = masking.spatial_mask(patches, settings["spatial_ratio"], generator)
        options = {"similarity": settings.get("similarity", "cosine")} if strategy == "mrs" else {}
        spectral = function(patches, settings["spectral_ratio"], generator, **options)
        _spatial, reconstruction = model.reconstruct(patches, spatial, spectral)
        target = model.targets(patches)[1]
        errors = (reconstruction.flatten(2).float() - target).pow(2).mean(-1)
        bands = F.normalize(band_tokens(patches).float(), dim=2)
        near = (bands @ bands.transpose(1, 2)) >= threshold
        near &= ~torch.eye(near.shape[1], dtype=torch.bool)
        leaked = (near & ~spectral[:, None, :]).any(-1) & spectral
        clean = spectral & ~leaked
        out[strategy] = {"masked_with_visible_twin_pct": 100 * float(leaked.sum() / spectral.sum()),
                         "error_with_visible_twin": float(errors[leaked].mean()) if leaked.any() else None,
                         "error_without_visible_twin": float(errors[clean].mean()) if clean.any() else None}
    return out


FINETUNE_EPOCHS = {5: 200, 20: 100, None: 40}
"""Fine-tuning epochs per label budget, as the accuracy benchmark runs them; any other budget
(a plentiful one that leaves held-out pixels to choose on, e.g. 80 per class) trains as `all`."""


def finetuned_classifier(data: SceneData, encoder_state: Optional[dict], per_class: Optional[int], seed: int, args,
                         log: Hooks, fusion: str = "sum", encoder_lr_scale: Optional[float] = None,
                         freeze_fraction: Optional[float] = None, readout: str = "class_token",
                         val_fraction: float = 0.0) -> SSMAEClassifier:
    """A classifier fine-tuned on one budget's draw (every label trains and the last epoch is kept;
    with val_fraction, that share of each class validates and the best epoch is kept, as in
    `mrs:finetune`); the encoder factor and the frozen share of the epochs default to args' and
    apply to a pretrained encoder only."""
    config = replace(preset(args.preset), fusion=fusion, readout=readout)
    train, validation = data.validation_split(data.split(per_class, seed)[0], val_fraction, seed)
    pca = fit_pca(data.pca_pixels, min(config.pca_components, data.n_hsi))
    epochs = FINETUNE_EPOCHS.get(per_class, FINETUNE_EPOCHS[None])
    pretrained = encoder_state is not None
    scale = args.encoder_lr_scale if encoder_lr_scale is None else encoder_lr_scale
    frozen = round(epochs * (args.freeze_fraction if freeze_fraction is None else freeze_fraction))
    settings = TrainSettings(epochs=epochs, batch_size=64, lr=args.finetune_lr, seed=seed, device=args.device,
                             encoder_lr_scale=scale if pretrained else 1.0,
                             freeze_encoder_epochs=frozen if pretrained else 0)
    return finetune(data.labelled[train], data.labels[train], data.labelled[validation], data.labels[validation],
                    n_hsi=data.n_hsi, config=config,
                    classes=data.classes, pca=pca, settings=settings, description={},
                    pretrained_encoder=encoder_state, hooks=log).model


def predicted(model: SSMAEClassifier, patches: torch.Tensor) -> torch.Tensor:
    return predict_logits(model, patches, 512, torch.device("cpu")).argmax(1)


def finetune_accuracy(data: SceneData, encoder_state: Optional[dict], fusion: str, per_class: int, seed: int,
                      args, log: Hooks) -> float:
    """Fine-tune on one budget's draw and score on every other train.tif pixel (OA %)."""
    model = finetuned_classifier(data, encoder_state, per_class, seed, args, log, fusion)
    _train, held_out = data.split(per_class, seed)
    return 100 * float((predicted(model, data.labelled[held_out]) == data.labels[held_out]).float().mean())


PARTIAL: Dict[str, Any] = {}
"""Every scene's figures so far, written after each step, so that a run stopped by its time limit keeps them."""


OUTPUT = {"name": "pretrain_diagnostics"}


def save_partial() -> None:
    (RESULTS / f"{OUTPUT['name']}.partial.json").write_text(json.dumps(PARTIAL, indent=1))


def finetune_grid(data: SceneData, scene: str, encoders: Dict[str, Optional[dict]], args, log: Hooks,
                  tuned: Dict[str, Any]) -> None:
    """OA % of every (budget, fusion, encoder) over the fine-tuning seeds; each run is kept in
    finetune_runs.jsonl and reused, so an interrupted grid resumes."""
    runs_file = WORK / "finetune_runs.jsonl"
    done = {r["key"]: r["oa"] for r in read_runs(runs_file)}
    for per_class in args.finetune_budgets:
        for fusion in args.fusions:
            for arm, state in encoders.items():
                scores = []
                for seed in args.finetune_seeds:
                    key = json.dumps([scene, args.preset, arm, args.samples, args.epochs, args.lr, fusion, per_class,
                                      seed, args.finetune_lr, args.encoder_lr_scale, args.freeze_fraction])
                    if key not in done:
                        done[key] = finetune_accuracy(data, state, fusion, per_class, seed, args, log)
                        with open(runs_file, "a") as handle:
                            handle.write(json.dumps({"key": key, "oa": done[key]}) + "\n")
                        print(f"{scene} fine-tune {arm} {fusion} {per_class}/class seed {seed}: {done[key]:.2f}",
                              flush=True)
                    scores.append(done[key])
                tuned[f"{arm}/{fusion}/{per_class}"] = summary(scores)
                save_partial()
                print(f"{scene} fine-tune {arm} {fusion} {per_class}/class: {tuned[f'{arm}/{fusion}/{per_class}']}",
                      flush=True)


def run_scene(scene: str, args, log: Hooks, result: Dict[str, Any]) -> Dict[str, Any]:
    """Fill `result` section by section (a part of PARTIAL)."""
    config = preset(args.preset)
    data = SceneData(scene, config.patch, args.samples, args.holdout, log)
    result.update({"pretraining_samples": args.samples, "labelled_pixels": len(data.labels)})
    probes = {"raw": probe_all(centre_pixels(data.labelled), data, args.budgets, args.probe_seeds)}
    torch.manual_seed(args.pretrain_seed)
    random_init = SSMAE(config, data.n_hsi, data.labelled.shape[1] - data.n_hsi)
    probes["init"] = probe_all(encoder_features(random_init.encoder, data.labelled), data, args.budgets, args.probe_seeds)
    encoders: Dict[str, Optional[dict]] = {"none": None}
    curves: Dict[str, Any] = {}
    leaks: Dict[str, Any] = {}
    times: Dict[str, float] = {}
    result.update({"probes": probes, "curves": curves, "leak": leaks, "pretraining_seconds": times})
    for variant in args.variants:
        for strategy in args.strategies:
            arm = f"{variant}/{strategy}"
            model, info = pretrained_model(data, scene, variant, strategy, args, log)
            curves[arm] = info["history"]
            times[arm] = info["seconds"]
            probes[arm] = probe_all(encoder_features(model.encoder, data.labelled), data, args.budgets, args.probe_seeds)
            leaks[arm] = leak_errors(model, data.holdout, info["settings"], args.threshold)
            encoders[arm] = {k: v for k, v in model.encoder.state_dict().items()}
            save_partial()
    if args.finetune:
        result["finetune"] = {}
        finetune_grid(data, scene, encoders, args, log, result["finetune"])
    return result


def markdown(report: Dict[str, Any]) -> str:
    lines = [f"Settings: `{report['settings']}`", ""]
    for scene, result in report["results"].items():
        lines += [f"## {scene}", "", "Probes on frozen features, OA % on held-out train.tif pixels (mean ± sd over seeds):", ""]
        keys = sorted({k for probes in result["probes"].values() for k in probes})
        lines += ["| encoder | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        for arm, probes in result["probes"].items():
            lines.append(f"| {arm} | " + " | ".join(
                f"{probes[k]['mean']:.1f} ± {probes[k]['sd']:.1f}" if k in probes else "" for k in keys) + " |")
        lines += ["", "Masked-band reconstruction error (spectral branch), by visible near-duplicate:", "",
                  "| model | masking | masked with visible twin % | error with twin | error without |", "|---|---|---|---|---|"]
        for arm, leak in result["leak"].items():
            for strategy, figures in leak.items():
                fmt = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
                lines.append(f"| {arm} | {strategy} | {figures['masked_with_visible_twin_pct']:.1f} | "
                             f"{fmt(figures['error_with_visible_twin'])} | {fmt(figures['error_without_visible_twin'])} |")
        lines += ["", "Pretraining curves (loss; linear probe on both class tokens, 5 and 20 per class):", ""]
        for arm, history in result["curves"].items():
            points = ", ".join(f"{h['epoch']}: {h['loss']:.4f} / {h['linear/both/5']:.1f} / {h['linear/both/20']:.1f}"
                               for h in history)
            lines.append(f"- {arm} ({result['pretraining_seconds'][arm]:.0f} s): {points}")
        if "finetune" in result:
            lines += ["", "Fine-tuning, OA % on held-out train.tif pixels:", "", "| encoder / fusion / labels per class | OA % |", "|---|---|"]
            lines += [f"| {key} | {v['mean']:.2f} ± {v['sd']:.2f} |" for key, v in result["finetune"].items()]
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", default="trento_sim,trento_sar_sim")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--variants", default="paper", help=f"pretraining recipes: {', '.join(VARIANTS)}")
    parser.add_argument("--strategies", default="random,mrs")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--holdout", type=int, default=1024, help="pretraining-like patches kept for the leak figures")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--mask-ratio", type=float, default=0.3)
    parser.add_argument("--pretrain-seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=GROUP_THRESHOLD)
    parser.add_argument("--budgets", default="5,20")
    parser.add_argument("--probe-seeds", default="0,1,2")
    parser.add_argument("--finetune", action="store_true", help="also fine-tune every encoder")
    parser.add_argument("--fusions", default="sum,no_cnn")
    parser.add_argument("--finetune-budgets", default="5,20")
    parser.add_argument("--finetune-seeds", default="0,1,2")
    parser.add_argument("--name", default="pretrain_diagnostics", help="report file name under bench/results")
    parser.add_argument("--finetune-lr", type=float, default=5e-4)
    parser.add_argument("--encoder-lr-scale", type=float, default=1.0)
    parser.add_argument("--freeze-fraction", type=float, default=0.0,
                        help="share of the fine-tuning epochs a pretrained encoder stays frozen")
    args = parser.parse_args(argv)
    args.variants, args.strategies = args.variants.split(","), args.strategies.split(",")
    args.fusions = args.fusions.split(",")
    args.budgets = [int(b) for b in args.budgets.split(",")]
    args.finetune_budgets = [int(b) for b in args.finetune_budgets.split(",")]
    args.probe_seeds = [int(s) for s in args.probe_seeds.split(",")]
    args.finetune_seeds = [int(s) for s in args.finetune_seeds.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    OUTPUT["name"] = args.name
    log_file = open(RESULTS / f"{args.name}.log", "a")
    log = Hooks(log=lambda line: print(line, file=log_file, flush=True))
    started = time.perf_counter()
    results = PARTIAL
    for scene in args.scenes.split(","):
        run_scene(scene, args, log, results.setdefault(scene, {}))
    report = {"benchmark": "pretrain_diagnostics", "machine": machine(resolve_device(args.device)),
              "settings": {k: v for k, v in vars(args).items()}, "wall_seconds": time.perf_counter() - started,
              "results": results}
    (RESULTS / f"{args.name}.md").write_text(markdown(report))
    write_json(args.name, report)
    return report


if __name__ == "__main__":
    main()
