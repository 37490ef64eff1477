"""GPU proof: the CUDA paths and the GPU speed figures (issues #13 and #12) in one short run.

    python bench/gpu_proof.py                          # on the GPU machine: about 5 minutes, at most 9.5
    python bench/gpu_proof.py --device cpu --dry-run   # every step on the CPU with tiny sizes

Steps, each bounded in time; a step that fails or runs out of time is recorded with
its one-line error, and the run goes on:
  environment    GPU, memory, torch and CUDA versions, bf16 support; bf16 and fp32 matmul
                 peaks (TF32 off), measured on large square products
  equivalence    forward and backward of the tiny and paper models, CPU fp32 against the
                 device in fp32 and bf16, on the same weights and input
  pipeline       bin/mrs demoscene, pretrain, finetune (20 % held out, so that validation
                 runs on the device too), classify, accuracy (DEVICE=cuda,
                 PRECISION=bf16), then torchrun with one process, whose model must load
  out_of_memory  classification with a batch of the whole scene, too large for the GPU:
                 the log must say the batch was halved, and the map must equal the
                 pipeline's map (at most MAP_TOLERANCE of its pixels may differ: other
                 matrix shapes round other ways in bf16)
  speed          paper pretraining samples/s and classification px/s in bf16, their share
                 of the bf16 peak, peak GPU memory
  large_scene    a Houston-2018-sized scene (5.7 megapixels, 50 bands + LiDAR) classified
                 end to end by bin/mrs classify (target: under 60 s)
Without CUDA (and without --device cpu --dry-run) one line says so, with torch and the
CPU, and nothing is written. Writes bench/results/gpu_proof.json (gpu_proof-dry-run.json
for a dry run) after every step, and prints it at the end.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from common import ROOT, machine, matmul_peak, write_json

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import model_speed  # noqa: E402
from model_core.config import PRESETS  # noqa: E402
from model_core.device import autocast, cpu_supports_bf16  # noqa: E402
from model_core.loading import load_pretrained  # noqa: E402
from model_core.masking import mrs_mask, spatial_mask  # noqa: E402
from model_core.model import SSMAE, SSMAEClassifier  # noqa: E402
from mrs_qgis_plugin.raster import TILE_SIZE  # noqa: E402
from pipeline_speed import tiled_copy  # noqa: E402
from precision_agreement import read  # noqa: E402

MRS = ROOT / "bin" / "mrs"
MAP_TOLERANCE = 1e-4
# Largest |device - cpu| / |cpu| (Euclidean norms) of logits, losses and gradients in each precision.
TOLERANCE = {"fp32": 1e-4, "bf16": 5e-2}


@dataclass(frozen=True)
class Sizes:
    matmul: int                   # side of the square products of the peaks
    presets: Tuple[str, ...]      # models of the equivalence step
    patches: int                  # its batch
    preset: str                   # model of the pipeline and the speed figures
    scene: int                    # side of the demo scene
    bands: int
    samples: int                  # pretraining
    epochs: Tuple[int, int]       # pretraining, fine-tuning
    train_batches: Tuple[int, ...]
    classify_batches: Tuple[int, ...]  # besides the job's default
    tile: int                     # of the classification speed figures
    steps: int                    # training batches per timed epoch
    seconds: float                # per classification figure
    large_side: int               # side of the large scene (5.7 megapixels)
    runs_out_of_memory: bool      # whether the scene's batch must exhaust a GPU


FULL = Sizes(matmul=8192, presets=("tiny", "paper"), patches=64, preset="paper", scene=1024, bands=50,
             samples=20000, epochs=(2, 30), train_batches=(128, 1024), classify_batches=(2048, 8192, 32768),
             tile=TILE_SIZE, steps=8, seconds=2.0, large_side=2388, runs_out_of_memory=True)
DRY = Sizes(matmul=256, presets=("tiny",), patches=8, preset="tiny", scene=64, bands=20,
            samples=256, epochs=(1, 10), train_batches=(16,), classify_batches=(64,),
            tile=16, steps=2, seconds=0.2, large_side=96, runs_out_of_memory=False)
LIMITS = {"environment": 30, "equivalence": 60, "pipeline": 210, "out_of_memory": 60, "speed": 90,
          "large_scene": 120}
"""Seconds each step may take: 570 in all, within the 10 minutes of a lent GPU."""


class StepTimeout(Exception):
    pass


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:300] if lines else ""


def one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {last_line(str(error))}"


def run_step(report: Dict[str, Any], name: str, work: Callable[[Dict[str, Any]], None]) -> None:
    """work(record) fills its record as it goes; a failure keeps what it recorded, with the error."""
    def expire(_signal, _frame):
        raise StepTimeout(f"the step ran past its {LIMITS[name]} s")

    record: Dict[str, Any] = {}
    started = time.perf_counter()
    signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMITS[name])
    try:
        work(record)
        status = {"status": "ok"}
    except Exception as error:  # recorded, and the next step runs
        status = {"status": "timeout" if isinstance(error, StepTimeout) else "failed", "error": one_line(error)}
    finally:
        signal.alarm(0)
    report["steps"][name] = {**status, "seconds": round(time.perf_counter() - started, 1), **record}
    print(f"{name}: {status['status']} in {report['steps'][name]['seconds']} s", file=sys.stderr, flush=True)
    write_json(report["name"], report, echo=False)


@dataclass
class Run:
    results: Dict[str, str]
    log: str
    seconds: float

    def lines(self, pattern: str) -> List[str]:
        """The log lines matching the pattern."""
        return [line for line in self.log.splitlines() if re.search(pattern, line)]

    def line(self, pattern: str) -> Optional[str]:
        """The last log line matching the pattern."""
        return (self.lines(pattern) or [None])[-1]


def mrs(job: str, parameters: Dict[str, Any], launcher: Tuple[str, ...] = ()) -> Run:
    """bin/mrs JOB --NAME=value ... in a new process group (killed whole if the step runs out of time)."""
    command = [*launcher, str(MRS), job, *(f"--{name}={value}" for name, value in parameters.items())]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        out, log = process.communicate()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    if process.returncode != 0:
        raise RuntimeError(f"bin/mrs {job} exited with {process.returncode}: {last_line(log)}")
    results = dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)
    return Run(results, log, round(time.perf_counter() - started, 1))


def gpu_peak_mb(device: torch.device) -> Optional[float]:
    """Peak GPU memory allocated since the last reset, in MiB (None on a CPU), and a new reset."""
    if device.type != "cuda":
        return None
    peak = torch.cuda.max_memory_allocated(device) / 2 ** 20
    torch.cuda.reset_peak_memory_stats(device)
    return round(peak, 1)


def share(rate: float, mflop: float, peak_gflops: Optional[float]) -> Optional[float]:
    return round(rate * mflop / 1e3 / peak_gflops, 3) if peak_gflops else None


# Steps ---------------------------------------------------------------------------------


def environment(record: Dict[str, Any], device: torch.device, sizes: Sizes) -> None:
    bf16 = torch.cuda.is_bf16_supported() if device.type == "cuda" else cpu_supports_bf16()
    record.update(machine(device), cuda=torch.version.cuda, bf16_supported=bf16)
    record["fp32_matmul_gflops"] = round(matmul_peak(device, torch.float32, sizes.matmul), 1)
    record["bf16_matmul_gflops"] = round(matmul_peak(device, torch.bfloat16, sizes.matmul), 1)


def forward_backward(model: torch.nn.Module, inputs: List[torch.Tensor], loss_of: Callable, device: torch.device,
                     dtype: Optional[torch.dtype]) -> Tuple[torch.Tensor, torch.Tensor]:
    """The model's output and its parameters' gradients (flattened), in float32 on the CPU."""
    model = model.to(device)
    model.zero_grad()
    with autocast(device, dtype):
        output = model(*(tensor.to(device) for tensor in inputs))
    loss_of(output).backward()
    gradients = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    output = output.total if hasattr(output, "total") else output
    return output.detach().float().cpu(), gradients.float().cpu()


def compare(reference: Tuple[torch.Tensor, torch.Tensor], other: Tuple[torch.Tensor, torch.Tensor]) -> Dict[str, float]:
    """|other - reference| / |reference| (Euclidean norms) of output and gradients; argmax agreement of logits."""
    figures = {f"{what}_relative_difference": float((b - a).norm() / a.norm().clamp_min(1e-30))
               for what, a, b in zip(("output", "gradient"), reference, other)}
    if reference[0].dim() == 2:
        figures["argmax_agreement"] = float((reference[0].argmax(1) == other[0].argmax(1)).float().mean())
    return figures


def equivalence(record: Dict[str, Any], device: torch.device, sizes: Sizes) -> None:
    n_hsi, n_aux, n_classes = model_speed.N_HSI, model_speed.N_AUX, model_speed.N_CLASSES
    problems = []
    for name in sizes.presets:
        config = PRESETS[name]
        x = torch.from_numpy(model_speed.random_patches(sizes.patches, config.patch)).float()
        generator = torch.Generator().manual_seed(0)
        targets = torch.arange(sizes.patches) % n_classes
        torch.manual_seed(0)
        cases = {"classifier": (SSMAEClassifier(config, n_hsi, n_aux, n_classes), [x],
                                lambda logits: F.cross_entropy(logits.float(), targets.to(logits.device))),
                 "pretraining": (SSMAE(config, n_hsi, n_aux), [x, spatial_mask(x, 0.5, generator),
                                                              mrs_mask(x, 0.5, generator)], lambda loss: loss.total)}
        for model_name, (model, inputs, loss_of) in cases.items():
            reference = forward_backward(model, inputs, loss_of, torch.device("cpu"), None)
            for precision, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
                figures = compare(reference, forward_backward(model, inputs, loss_of, device, dtype))
                record[f"{name}_{model_name}_{precision}"] = {k: round(v, 7) for k, v in figures.items()}
                worst = max(figures["output_relative_difference"], figures["gradient_relative_difference"])
                if not worst <= TOLERANCE[precision]:
                    problems.append(f"{name} {model_name} {precision}: {worst:.2g} > {TOLERANCE[precision]}")
    if problems:
        raise RuntimeError("device and CPU differ beyond the tolerance: " + "; ".join(problems))


def pipeline(record: Dict[str, Any], device: torch.device, sizes: Sizes, work: Path) -> None:
    scene = work / "scene"
    record["demoscene_s"] = mrs("demoscene", {"SIZE": sizes.scene, "BANDS": sizes.bands, "OUTPUT": scene}).seconds
    common = {"INPUT_HSI": scene / "hsi.tif", "INPUT_AUX": scene / "lidar.tif", "DEVICE": device.type,
              "PRECISION": "bf16"}
    pretrain = {**common, "PRESET": sizes.preset, "SAMPLES": sizes.samples, "EPOCHS": sizes.epochs[0]}
    run = mrs("pretrain", {**pretrain, "OUTPUT": work / "pretrained.safetensors"})
    record["pretrain"] = {"wall_s": run.seconds, "device_line": run.line(r"^Device:"),
                          "last_epoch": run.line(r"^Pretraining epoch \d+/\d+: ")}
    run = mrs("finetune", {**common, "SAMPLES": scene / "train_points.gpkg", "CLASS_FIELD": "class_id",
                           "PRETRAINED": work / "pretrained.safetensors", "EPOCHS": sizes.epochs[1],
                           "VALIDATION_FRACTION": 0.2, "OUTPUT": work / "classifier.safetensors"})
    record["finetune"] = {"wall_s": run.seconds, "validation_accuracy": float(run.results["VALIDATION_ACCURACY"])}
    run = mrs("classify", {**common, "MODEL": work / "classifier.safetensors", "OUTPUT": work / "map.tif"})
    record["classify"] = {"wall_s": run.seconds, "pixels": sizes.scene ** 2, "device_line": run.line(r"^Device:")}
    run = mrs("accuracy", {"INPUT": work / "map.tif", "REFERENCE_LABELS": scene / "test.tif",
                           "OUTPUT_HTML": work / "accuracy.html"})
    record["accuracy"] = {"wall_s": run.seconds, "overall_accuracy": float(run.results["OVERALL_ACCURACY"])}
    launcher = (sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1")
    run = mrs("pretrain", {**pretrain, "OUTPUT": work / "pretrained-torchrun.safetensors"}, launcher)
    single = load_pretrained(str(work / "pretrained.safetensors")).encoder_state
    distributed = load_pretrained(str(work / "pretrained-torchrun.safetensors")).encoder_state
    record["torchrun"] = {"wall_s": run.seconds, "processes_line": run.line(r"process(?:es)? \("),
                          "loads": True, "max_weight_difference_to_one_process": max(
                              float((single[key].float() - distributed[key].float()).abs().max()) for key in single)}


def classifier(work: Path) -> Path:
    path = work / "classifier.safetensors"
    if not path.exists():
        raise RuntimeError("the pipeline step made no classifier to use here")
    return path


def out_of_memory(record: Dict[str, Any], device: torch.device, sizes: Sizes, work: Path) -> None:
    batch = sizes.scene ** 2
    run = mrs("classify", {"MODEL": classifier(work), "INPUT_HSI": work / "scene" / "hsi.tif",
                           "INPUT_AUX": work / "scene" / "lidar.tif", "DEVICE": device.type, "PRECISION": "bf16",
                           "TILE_SIZE": sizes.scene, "BATCH_SIZE": batch, "OUTPUT": work / "map-huge-batch.tif"})
    halvings = run.lines(r"^Out of memory on")
    differing = int((read(work / "map-huge-batch.tif") != read(work / "map.tif")).sum())
    record.update(batch_size=batch, wall_s=run.seconds, halvings=len(halvings),
                  last_halving=halvings[-1] if halvings else None, differing_pixels=differing,
                  differing_share=differing / batch)
    if device.type == "cuda" and sizes.runs_out_of_memory and not halvings:
        raise RuntimeError(f"a batch of {batch} pixels did not run out of memory on {device}")
    if differing > MAP_TOLERANCE * batch:
        raise RuntimeError(f"the map differs from the pipeline's in {differing} of {batch} pixels")


def speed(record: Dict[str, Any], device: torch.device, sizes: Sizes, peak: Optional[float]) -> None:
    config = PRESETS[sizes.preset]
    work = model_speed.flops(config)
    record.update(preset=sizes.preset, bf16_peak_gflops=peak, mflop={k: round(v, 1) for k, v in work.items()},
                  pretrain={}, classify={})
    gpu_peak_mb(device)
    for batch in sizes.train_batches:
        rate = model_speed.training_rate(config, "bf16", str(device), "pretrain", batch, sizes.steps)
        record["pretrain"][f"batch_{batch}"] = {
            "samples_per_s": round(rate, 1), "share_of_bf16_peak": share(rate, work["pretrain_step_mflop"], peak),
            "peak_gpu_memory_mb": gpu_peak_mb(device)}
    for batch in (None, *sizes.classify_batches):
        rate = model_speed.classify_rate(config, "bf16", str(device), sizes.seconds, sizes.tile, batch)
        record["classify"][f"batch_{batch or 'default'}"] = {
            "pixels_per_s": round(rate, 1), "share_of_bf16_peak": share(rate, work["classify_mflop"], peak),
            "peak_gpu_memory_mb": gpu_peak_mb(device)}
    fastest = max(record["classify"].items(), key=lambda item: item[1]["pixels_per_s"])[0]
    record["fastest_classify_batch"] = None if fastest == "batch_default" else int(fastest.split("_")[1])


def large_scene(record: Dict[str, Any], device: torch.device, sizes: Sizes, work: Path,
                batch: Optional[int]) -> None:
    model, folder = classifier(work), work / "large"
    folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    for name in ("hsi", "lidar"):
        tiled_copy(work / "scene" / f"{name}.tif", folder / f"{name}.tif", sizes.large_side)
    record.update(megapixels=round(sizes.large_side ** 2 / 1e6, 2), bands=f"{sizes.bands} + 2 LiDAR",
                  write_s=round(time.perf_counter() - started, 1), batch_size=batch)
    parameters = {"MODEL": model, "INPUT_HSI": folder / "hsi.tif",
                  "INPUT_AUX": folder / "lidar.tif", "DEVICE": device.type, "PRECISION": "bf16",
                  "TILE_SIZE": 1024, "OUTPUT": folder / "map.tif"}
    run = mrs("classify", {**parameters, **({"BATCH_SIZE": batch} if batch else {})})
    record.update(wall_s=run.seconds, pixels_per_s=round(sizes.large_side ** 2 / run.seconds, 1),
                  under_60_s=run.seconds < 60)


def main(argv: Optional[list] = None) -> Dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes (seconds on a CPU): to try the script")
    parser.add_argument("--work", help="folder for scenes, models and maps (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    if args.device == "cpu" and not args.dry_run:
        parser.error("the full sizes are for a GPU; on the CPU add --dry-run")
    if args.device == "cuda" and not torch.cuda.is_available():
        here = machine(torch.device("cpu"))
        print(f"No CUDA GPU: torch {here['torch']} (CUDA {torch.version.cuda or 'none'}) on {here['cpu']}, "
              f"{here['cores']} cores, sees none; nothing else to prove here and nothing was written "
              "(--device cpu --dry-run tries every step on the CPU).")
        return {}
    sizes, device = DRY if args.dry_run else FULL, torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    report: Dict[str, Any] = {"benchmark": "gpu_proof", "name": "gpu_proof-dry-run" if args.dry_run else "gpu_proof",
                              "dry_run": args.dry_run, "device": str(device), "steps": {}}
    run_step(report, "environment", lambda record: environment(record, device, sizes))
    work = Path(args.work or tempfile.mkdtemp(prefix="mrs-gpu-proof-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        run_step(report, "equivalence", lambda record: equivalence(record, device, sizes))
        run_step(report, "pipeline", lambda record: pipeline(record, device, sizes, work))
        run_step(report, "out_of_memory", lambda record: out_of_memory(record, device, sizes, work))
        peak = report["steps"]["environment"].get("bf16_matmul_gflops")
        run_step(report, "speed", lambda record: speed(record, device, sizes, peak))
        batch = report["steps"]["speed"].get("fastest_classify_batch")
        run_step(report, "large_scene", lambda record: large_scene(record, device, sizes, work, batch))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    write_json(report["name"], report)
    return report


if __name__ == "__main__":
    main()
