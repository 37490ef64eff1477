"""What every benchmark shares: machine description, matmul peaks, reference figures, output."""

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# The benchmark scenes; MRS_BENCH_DATA names another folder of the same layout (on a
# machine where ../shared/data is not beside the checkout).
SHARED_DATA = Path(os.environ.get("MRS_BENCH_DATA") or ROOT.parent / "shared" / "data")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402  (after the path set-up above)

# The public SS-MAE code, `paper` configuration, on trento_sim, one pinned core, per
# CPU-second (torch 2.13, CPU; issue #12): the figures the project must beat, and that
# core's matmul peaks.
REFERENCE = {
    "pretrain_samples_per_s": 41.0,
    "finetune_samples_per_s": 48.0,
    "classify_pixels_per_s": 152.0,
    "classify_job_pixels_per_s": 151.0,
    "peak_memory_gb": 2.5,
    "fp32_matmul_gflops": 150.0,
    "bf16_matmul_gflops": 880.0,
    "mflop_per_pixel": 565.0,
}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device: torch.device) -> Dict[str, Any]:
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "device": str(device)}
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        info["gpu"] = properties.name
        info["gpu_memory_gb"] = round(properties.total_memory / 2 ** 30, 1)
    return info


def clock(device=None) -> Callable[[], float]:
    """What a rate divides by: this process' CPU seconds on a CPU (so that a core shared
    with other jobs does not blur the figure), wall seconds on a GPU."""
    if device is not None and torch.device(device).type == "cuda":
        return time.perf_counter
    return time.process_time


def timed_rate(work: Callable[[], None], units: float, seconds: float = 2.0, device=None) -> float:
    """Units per second (per CPU-second on a CPU) of `work`, after one warm-up call, over at least `seconds`."""
    def sync():
        if device is not None and device.type == "cuda":
            torch.cuda.synchronize(device)

    now = clock(device)
    work()
    sync()
    start, calls = now(), 0
    while True:
        work()
        calls += 1
        sync()
        elapsed = now() - start
        if elapsed >= seconds:
            return units * calls / elapsed


def matmul_peak(device: torch.device, dtype: torch.dtype, size: int = 2048) -> float:
    """GFLOP/s of a square matrix product, best of three timings."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    flops = 2.0 * size ** 3
    return max(timed_rate(lambda: a @ b, flops, 1.0, device) for _ in range(3)) / 1e9


def peaks(device: torch.device) -> Dict[str, float]:
    return {"fp32_matmul_gflops": round(matmul_peak(device, torch.float32), 1),
            "bf16_matmul_gflops": round(matmul_peak(device, torch.bfloat16), 1)}


def peak_rss_mb() -> float:
    """The process' peak resident memory so far, in MiB.

    Linux's VmHWM starts afresh when a program is executed; getrusage's ru_maxrss does
    not: a worker started from a big process inherits that process' peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def read_runs(path: Path) -> List[Dict[str, Any]]:
    """The runs a benchmark appended to a JSON-lines file, blank lines skipped (one ended every later
    run and the report in a JSONDecodeError: a helper's audit of 2026-12-06); none if it is missing."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_json(name: str, document: Dict[str, Any], echo: bool = True) -> Path:
    """bench/results/NAME.json; printed too with `echo`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2))
    if echo:
        print(json.dumps(document, indent=2))
    return path
