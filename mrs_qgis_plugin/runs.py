"""A job run from its parameter values, for every front end (Processing, `bin/mrs`).

A front end reads the values of a job's parameters (mrs_qgis_plugin.job_parameters)
its own way: layers as `RasterInput`/`VectorInput`, the extent as
(xmin, ymin, xmax, ymax) in the CRS of INPUT_HSI, plain values through
`parameters.read`. `run` hands them to the job function of `jobs` and returns
the results by output name. What every run shares, the CPU threads and the
device choice with their log lines, is here too. torch is imported inside the
functions only.
"""

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Mapping, Optional

from ..model_core.digits import whole_number
from ..model_core.errors import MrsError, OutOfMemory, first_line, says_out_of_memory
from ..model_core.hooks import Hooks
from ..model_core.names import agreeing, joined, plural
from .blas import hold_blas_buffer
from .raster import split_source
from .raster.classes import plain_text

Values = Mapping[str, Any]


@dataclass(frozen=True)
class VectorInput:
    """A vector source OGR opens ('file.gpkg' or 'file.gpkg|layername=x') and the layer name for messages."""

    path: str
    name: str
    origin: str = ""
    """The source of the file layer whose features `path` is a copy of, '' for none: what a model
    records it was trained on (a helper's red team of 2026-12-05: a shapefile copied for its encoding
    was recorded as the plugin's temporary copy)."""
    taken: str = ""
    """What of the layer the copy holds where it is not the file's features ('its 90 selected
    features'), or what the layer is where it has no file ('a memory layer, not saved to a file'):
    said with the origin in the records (a helper's red team of 2026-12-05: a selection was recorded
    as the whole file, a memory layer as a temporary file QGIS deletes)."""

    def __post_init__(self) -> None:
        # one line of plain text, as a raster's (`RasterInput`): a GeoPackage named with a carriage return
        # overwrote the start of its messages on a terminal (a helper's red team of 2026-12-07)
        object.__setattr__(self, "name", plain_text(self.name))


def file_layer_name(source: str) -> str:
    """The name of a layer loaded from a file: the layer a source names ('file.gpkg|layername=x'
    gives 'x', as QGIS's browser shows one layer of a GeoPackage), else the file name without
    its extension."""
    path, options = split_source(source)
    named = [option.split("=", 1)[1] for option in options if option.startswith("layername=")]
    return named[0] if named and named[0] else (Path(path).stem or source)


def available_cores() -> int:
    """CPU cores this process may run on (fewer than the machine's in a container or under taskset)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_threads(platform: str, cores: int) -> int:
    """Threads for torch: all cores but one in QGIS desktop, so that its window stays responsive."""
    return max(1, cores - 1) if platform == "desktop" else cores


def requested_threads() -> Optional[int]:
    """The thread count the user set in OMP_NUM_THREADS (as torch itself honours it), or None.
    As libgomp reads it: '+2' is 2, and of a list ('4,2', threads per level of nesting) the first."""
    threads = whole_number(os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip())
    return threads if threads and threads > 0 else None


def start_torch(platform: str, device: Optional[str], hooks: Hooks) -> int:
    """What a run of a job that needs torch does before its work: sets torch's CPU threads for
    `platform` (QGIS' name: desktop, qgis_process, ...), logs the device DEVICE names and why
    (the log's first line; `device` None for a job without DEVICE), then the threads.
    Returns the threads; raises DeviceError when the device is not there."""
    import torch

    cores = available_cores()
    requested = requested_threads()
    threads = min(requested, cores) if requested else cpu_threads(platform, cores)
    torch.set_num_threads(threads)
    if device is not None:
        choose_device(device, hooks)
    beyond = f" (OMP_NUM_THREADS asks for {requested}, more than there are cores)" if requested and requested > cores else ""
    hooks.log(f"CPU threads: {threads} of {plural(cores, 'core')}{beyond}.")
    given = os.environ.get("OMP_NUM_THREADS")
    # libgomp says only 'Invalid value' on stderr (red team of 2026-12-04), of one set empty too (audit, 2026-12-05)
    if given is not None and requested is None:
        hooks.warning(f"OMP_NUM_THREADS is '{given}', not a number of threads (a whole number of at least 1), so it "
                      f"is left out: {plural(threads, 'thread')} {agreeing(threads, 'is', 'are')} used. Set it to a "
                      "number of threads, or unset it.")
    return threads


_TORCH_RUN = threading.Lock()
"""Held by the run of a job that needs torch (each step of a workflow or model takes it in turn)."""

WAIT_SECONDS = 0.2
"""How often a run waiting for torch looks whether it was canceled."""


_CLAIMED: Dict[str, object] = {}
"""The output files of the runs of this process that use torch, running or waiting, by path."""
_CLAIMS = threading.Lock()


@contextmanager
def outputs_claimed(outputs: Mapping[str, str]) -> Iterator[None]:
    """Claims a run's output files (by parameter name) for the run, refusing one that another run
    of this process, running or waiting for torch, has claimed: two dialogs proposed one model file,
    and the second, once the first had ended, wrote over its model without a word (desktop helper of
    2026-12-05). Kept in memory, not as files beside the outputs, which the run's own check of its
    outputs took for another run's (review of 2026-12-05)."""
    from .raster.outputs import being_written  # GDAL: not at plugin load

    paths = {param: os.path.normcase(os.path.realpath(path)) for param, path in outputs.items()}  # through links
    run = object()
    with _CLAIMS:
        taken = next((param for param, path in paths.items() if _CLAIMED.get(path, run) is not run), None)
        if taken is not None:
            raise being_written(taken, outputs[taken])
        _CLAIMED.update(dict.fromkeys(paths.values(), run))
    try:
        yield
    finally:
        with _CLAIMS:
            for path in paths.values():
                if _CLAIMED.get(path) is run:
                    del _CLAIMED[path]


@contextmanager
def torch_in_turn(hooks: Hooks, outputs: Optional[Mapping[str, str]] = None) -> Iterator[None]:
    """One run of a job that needs torch at a time in this process, the others waiting (said once,
    and canceled while they wait). Torch's random generator and thread count are global: two
    fine-tunings of one SEED run at once as QGIS tasks gave two other models, and each gave the
    other's random state back at its end (red team of 2026-12-05). A run in the main thread (QGIS's
    Python console, a batch) is refused instead: waiting there would hold QGIS up, Cancel too, and
    one started while another runs in that thread would wait for itself (review of 2026-12-05).
    The run's output files (`outputs`, by parameter name) are claimed first (`outputs_claimed`)."""
    with outputs_claimed(outputs or {}):
        if not _TORCH_RUN.acquire(blocking=False):
            if threading.current_thread() is threading.main_thread():
                raise MrsError("Another run of this plugin is using torch in this QGIS; this one, in QGIS's main "
                               "thread (the Python console, a batch), cannot wait for it without holding QGIS up: run "
                               "it when the other ends.")
            hooks.log("Another run of this plugin is using torch in this QGIS; this one starts when it ends.")
            while not _TORCH_RUN.acquire(timeout=WAIT_SECONDS):
                hooks.check_cancel()
        try:
            yield
        finally:
            _TORCH_RUN.release()


@contextmanager
def torch_state_kept() -> Iterator[None]:
    """Gives torch's CPU threads and global random state back as they were before the block: in
    QGIS other plugins and the Python console share them (a run left 2 threads where the user had
    set 1, and re-seeded the user's random sequence: red team of 2026-12-04)."""
    import torch

    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    gpus = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.random.set_rng_state(state)
        if gpus is not None:  # training seeds every GPU's generator too
            torch.cuda.set_rng_state_all(gpus)


def choose_device(name: str, hooks: Hooks) -> None:
    """Logs the torch device DEVICE names in one line, with why it was chosen;
    raises DeviceError when it is not there."""
    import torch

    from ..model_core.device import describe_device, no_gpu_reason, resolve_device
    from .jobs import FRONT_END

    device = resolve_device(name, FRONT_END.device)
    if name != "auto":
        why = "as DEVICE asks"
    elif device.type == "cuda":
        count = torch.cuda.device_count()
        why = f"chosen by DEVICE auto: the first of the {plural(count, 'CUDA GPU')} torch sees"
    else:
        why = f"chosen by DEVICE auto because {no_gpu_reason()} (torch {torch.__version__})"
    hooks.log(f"Device: {describe_device(device)}, {why}.")


def _device(values: Values) -> str:
    """DEVICE as a torch device name ("cpu", "cuda:0"): the device `start_torch` logged."""
    from ..model_core.device import resolve_device
    from .jobs import FRONT_END

    return str(resolve_device(values["DEVICE"], FRONT_END.device))


def _layers(values: Values) -> Any:
    from .job_inputs import Layers

    return Layers(values["INPUT_HSI"], list(values.get("INPUT_AUX") or []))


def _labels(values: Values, hooks: Hooks, vector: str, field: str, raster: str, name_field: Optional[str] = None,
            color_field: Optional[str] = None) -> Any:
    """The labelled-pixel parameters as the jobs' `LabelSource` (the raster when given, else the
    vector); the vector's fields given with a raster are said to go unused (they went unsaid)."""
    from .job_inputs import LabelSource

    if values.get(raster) is not None:
        unused = [name for name in (field, name_field, color_field) if name and values.get(name)]
        if unused:
            hooks.log(f"{joined(unused)} {agreeing(len(unused), 'is a field', 'are fields')} of {vector}, "
                      f"not used with {raster}: the label raster gives the classes, with its own names and colours.")
        return LabelSource(values[raster].name, raster_path=values[raster].path,
                           raster_operation=values[raster].operation)
    samples = values[vector]
    return LabelSource(samples.name, vector_path=samples.path, origin=samples.origin, taken=samples.taken,
                       class_field=values.get(field),
                       name_field=values.get(name_field) if name_field else None,
                       color_field=values.get(color_field) if color_field else None)


def _train_settings(values: Values, **extra: Any) -> Any:
    """EPOCHS, BATCH_SIZE, LEARNING_RATE, SEED, DEVICE and PRECISION as model_core's `TrainSettings`."""
    from ..model_core.training import TrainSettings

    return TrainSettings(epochs=values["EPOCHS"], batch_size=values["BATCH_SIZE"], lr=values["LEARNING_RATE"],
                         seed=values["SEED"], device=_device(values),
                         precision=values["PRECISION"], **extra)


def _pretrain(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from ..model_core.training import MaskingSettings
    from .jobs import pretrain_job

    mask = values.get("MASK")
    result = pretrain_job(
        _layers(values),
        preset=values["PRESET"],
        masking=MaskingSettings(strategy=values["MASKING"], spectral_ratio=values["SPECTRAL_RATIO"],
                                spatial_ratio=values["SPATIAL_RATIO"],
                                normalized_targets=values["NORMALIZED_TARGETS"]),
        samples=values["SAMPLES"],
        settings=_train_settings(values),
        output=values["OUTPUT"],
        hooks=hooks,
        extent=values.get("EXTENT"),
        mask_path=mask.path if mask else None,
        mask_name=mask.name if mask else "",
        resume=values.get("RESUME"),
        more_scenes=values.get("MORE_SCENES"),
    )
    return {"OUTPUT": result["path"], "FINAL_LOSS": result["training"]["final_loss"]}


def _finetune(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from .jobs import finetune_job

    result = finetune_job(
        _layers(values),
        _labels(values, hooks, "SAMPLES", "CLASS_FIELD", "LABELS", "NAME_FIELD", "COLOR_FIELD"),
        pretrained=values.get("PRETRAINED"),
        preset=values["PRESET"],
        val_fraction=values["VALIDATION_FRACTION"],
        settings=_train_settings(values, encoder_lr_scale=values["ENCODER_LR_FACTOR"]),
        class_weighting=values["CLASS_WEIGHTING"],
        output=values["OUTPUT"],
        hooks=hooks,
        resume=values.get("RESUME"),
    )
    training = result["training"]
    return {"OUTPUT": result["path"], "VALIDATION_ACCURACY": training["val_accuracy"],
            "VALIDATION_KAPPA": training["val_kappa"], "BEST_EPOCH": training["best_epoch"]}


def _classify(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from .jobs import classify_job

    summary = classify_job(
        values["MODEL"],
        _layers(values),
        output=values["OUTPUT"],
        confidence=values.get("OUTPUT_CONFIDENCE"),
        tile_size=values["TILE_SIZE"],
        batch_size=values.get("BATCH_SIZE"),
        device=_device(values),
        precision=values["PRECISION"],
        hooks=hooks,
        extent=values.get("EXTENT"),
    )
    return {"OUTPUT": summary["class_path"], "OUTPUT_CONFIDENCE": summary["confidence_path"]}


def _suggest(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from .jobs import suggest_job

    mask = values.get("MASK")
    result = suggest_job(
        values["MODEL"],
        _layers(values),
        count=values["POINTS"],
        min_distance=values["MIN_DISTANCE"],
        output=values["OUTPUT"],
        hooks=hooks,
        seed=values["SEED"],
        extent=values.get("EXTENT"),
        mask_path=mask.path if mask else None,
        mask_name=mask.name if mask else "",
        tile_size=values["TILE_SIZE"],
        batch_size=values.get("BATCH_SIZE"),
        device=_device(values),
        precision=values["PRECISION"],
    )
    return {"OUTPUT": result["path"], "COUNT": result["count"]}


def _accuracy(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from .analysis import accuracy_job

    class_map = values["INPUT"]
    report = accuracy_job(
        class_map.path,
        class_map.name,
        _labels(values, hooks, "REFERENCE", "REFERENCE_FIELD", "REFERENCE_LABELS"),
        out_html=values.get("OUTPUT_HTML"),
        out_json=values.get("OUTPUT_JSON"),
        out_csv=values.get("OUTPUT_CSV"),
        hooks=hooks,
    )
    paths = report["paths"]
    return {**{name: paths.get(name) for name in ("OUTPUT_HTML", "OUTPUT_JSON", "OUTPUT_CSV")},
            "OVERALL_ACCURACY": report["overall_accuracy"], "AVERAGE_ACCURACY": report["average_accuracy"],
            "KAPPA": report["kappa"]}


def _redundancy(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from .analysis import redundancy_job

    result = redundancy_job(
        _layers(values),
        threshold=values["THRESHOLD"],
        sample_size=values["SAMPLE_SIZE"],
        seed=values["SEED"],
        out_png=values.get("OUTPUT_PNG"),
        out_csv=values.get("OUTPUT_CSV"),
        hooks=hooks,
        mask_ratio=values["MASK_RATIO"],
        out_html=values.get("OUTPUT_HTML"),
    )
    return {**{name: result["paths"].get(name) for name in ("OUTPUT_PNG", "OUTPUT_CSV", "OUTPUT_HTML")},
            "GROUPS": "; ".join(result["groups"]), "GROUP_COUNT": result["group_count"], "LEAKAGE": result["leakage"]}


def _demo_scene(values: Values, hooks: Hooks) -> Dict[str, Any]:
    from .job_parameters import DEMO_SCENE_LAYERS
    from .demo_scene import write_new_scene

    paths = write_new_scene(values["OUTPUT"], size=values["SIZE"], n_bands=values["BANDS"], seed=values["SEED"],
                            sar=values["WITH_SAR"], hooks=hooks)
    files = {os.path.basename(path): path for path in paths}
    return {"OUTPUT": os.path.dirname(paths[0]),
            **{name: files.get(file) for name, (file, _) in DEMO_SCENE_LAYERS.items()}}


RUNNERS: Dict[str, Callable[[Values, Hooks], Dict[str, Any]]] = {
    "pretrain": _pretrain, "finetune": _finetune, "suggest": _suggest, "classify": _classify, "accuracy": _accuracy,
    "redundancy": _redundancy, "demoscene": _demo_scene,
}


def run(job: str, values: Values, hooks: Hooks) -> Dict[str, Any]:
    """Runs the job `job` (an id of job_parameters.JOBS) on `values`; returns its results by output name.
    Memory that runs out comes as one sentence (red team of 2026-12-05: a traceback under ulimit -v), numpy's
    matrix products' too, had first (`hold_blas_buffer`)."""
    try:
        hold_blas_buffer()
        return RUNNERS[job](values, hooks)
    except (MemoryError, RuntimeError) as error:
        if isinstance(error, RuntimeError) and not says_out_of_memory(error):
            raise
        # torch's GPU allocators raise torch.OutOfMemoryError ('CUDA out of memory. Tried to allocate ...', ROCm's
        # 'HIP out of memory': a helper's audit of 2026-12-07), its CPU allocator a RuntimeError
        gpu = type(error).__name__ == "OutOfMemoryError" or "cuda" in str(error).lower()
        raise OutOfMemory(f"Not enough {'GPU ' if gpu else ''}memory for this run ({first_line(error)}): "
                          f"{_memory_advice(job, gpu)}.") from None


MEMORY_LEVERS = ("TILE_SIZE", "BATCH_SIZE", "SAMPLE_SIZE")
"""The parameters whose lower values make a job take less memory."""


def _memory_advice(job: str, gpu: bool = False) -> str:
    """What to do when `job` runs out of memory: lower the parameters of MEMORY_LEVERS it has
    (review of 2026-12-05: redundancy's is SAMPLE_SIZE), close other programs, raise a limit; on a
    GPU, choose one with more free memory or the CPU (a helper's review of 2026-12-06: a GPU's was
    told to raise ulimit -v)."""
    from .job_parameters import JOBS

    names = {parameter.name for parameter in JOBS[job].parameters} if job in JOBS else set()
    levers = [name for name in MEMORY_LEVERS if name in names]
    fewer = "label fewer pixels (their patches are held in memory), " if job == "finetune" and not gpu else ""
    lower = f"lower {' or '.join(levers)}, " if levers else ""
    if gpu:
        return f"{lower}run on a GPU with more free memory (DEVICE), or on the CPU (DEVICE cpu)"
    return f"{fewer}{lower}close other programs, or raise a limit set on this process's memory (ulimit -v)"
