"""Choice of compute device and numeric precision."""

from typing import Optional

import torch

from . import choices
from .digits import whole_number
from .errors import DeviceError
from .names import Names, plural

PRECISIONS = choices.PRECISIONS


def resolve_device(name: str = "auto", what: str = Names.device) -> torch.device:
    """'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'; `what` names the setting in messages."""
    text = (name or "auto").strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"{what} is '{name}', but this PyTorch ({torch.__version__}) sees no CUDA GPU. "
                "Choose 'cpu' or 'auto', or install a CUDA build of PyTorch and a GPU driver.")
        index = text.partition(":")[2]
        number = whole_number(index, signed=False)
        if index and (number is None or number >= torch.cuda.device_count()):
            raise DeviceError(
                f"{what} is '{name}', but the GPUs are numbered 0 to "
                f"{torch.cuda.device_count() - 1}. Choose one of them, or 'cuda'.")
        return torch.device("cuda", number) if index else torch.device("cuda")
    raise DeviceError(f"{what} '{name}' is not known; use auto, cpu, cuda or cuda:N.")


def describe_device(device: torch.device) -> str:
    """One line for the log: the device, and the GPU's name and memory or the CPU threads."""
    if device.type == "cuda":
        properties = torch.cuda.get_device_properties(device)
        return (f"{device} ({properties.name}, "
                f"{properties.total_memory / 2 ** 30:.1f} GiB)")
    return f"cpu ({plural(torch.get_num_threads(), 'thread')})"


def no_gpu_reason() -> str:
    """Why torch offers no GPU: a CPU-only build, or a CUDA or ROCm build that sees none."""
    if getattr(torch.version, "hip", None):
        return "torch sees no ROCm GPU"
    if torch.version.cuda is None:
        return "this torch build has no CUDA support"
    return "torch sees no CUDA GPU"


def cpu_supports_bf16() -> bool:
    """Whether this CPU runs bfloat16 matrix products natively (AVX-512 BF16 or AMX)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check and check())


def resolve_precision(precision: str, device: torch.device) -> Optional[torch.dtype]:
    """The autocast dtype for 'auto', 'fp32' or 'bf16'; None means plain float32.

    'auto' picks bfloat16 where the hardware runs it natively: CUDA GPUs with bf16
    support and CPUs with AVX-512 BF16 or AMX.
    """
    if precision not in PRECISIONS:
        raise DeviceError(f"Precision '{precision}' is not known; use one of {', '.join(PRECISIONS)}.")
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if cpu_supports_bf16() else None


def autocast(device: torch.device, dtype: Optional[torch.dtype]) -> torch.autocast:
    return torch.autocast(device_type=device.type, dtype=dtype or torch.float32,
                          enabled=dtype is not None)
