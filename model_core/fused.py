"""Matrix products that apply their bias, GELU and gating product inside oneDNN's kernel: bf16 inference on CPUs.

In eager PyTorch a linear layer first copies its bias into every row of the output and then adds
the product to it, and GELU and the gated MLP's product are two more passes over the widest
activation. On a core with AMX the products run at over 1,000 GFLOP/s, so these passes over
memory took about a third of a classification. oneDNN applies a bias, GELU or a product with
another tensor as it writes each block of a product's output (post-ops); PyTorch exposes that as
`torch.ops.mkldnn._linear_pointwise`, the operation torch.compile itself emits on CPUs.

`linear` and `gelu_gated` use it when the input and weights are bfloat16 CPU tensors (a predictor's
bf16 copy of the model, not autocast's float32 weights) and no gradient is recorded, and only
where a probe on first use gave the plain operations' results (an operation that is not public
may change or vanish in another PyTorch); elsewhere they are the plain operations. The fused
gating rounds once, not three times, so it is as close or closer to the exact value.

`convolution` does the same for the CNN branch's convolutions and their GELU, in float32 as in
bf16: a classification runs them on one strip of a tile at a time, and for a batch of one
PyTorch's heuristic sends a float32 3-D convolution to its own im2col kernel, which builds a
buffer of about 100 MiB per strip of a 64-pixel-wide tile (400 MiB at 256) and took 7-10 times
as long as oneDNN's direct convolution on the same strip.

Without gradients, too, the residual sums and the plain gating product are written into the
layer output they add to (`add_to`, `gelu_gated`): the same values, one activation less to
allocate and write per block.
"""

import copy
import functools

import torch
import torch.nn as nn
import torch.nn.functional as F


@functools.lru_cache(maxsize=1)
def onednn_available() -> bool:
    """Whether this PyTorch's oneDNN linear with post-ops runs and agrees with the plain operations."""
    try:
        operation = torch.ops.mkldnn._linear_pointwise
        generator = torch.Generator().manual_seed(0)
        x, weight, gate = (torch.randn(shape, generator=generator).bfloat16() for shape in ((2, 3, 32), (16, 32), (16, 32)))
        bias, gate_bias = (torch.randn(16, generator=generator).bfloat16() for _ in range(2))
        with torch.no_grad():
            pairs = [(operation(x, weight, bias, "none", [], ""), F.linear(x, weight, bias)),
                     (operation.binary(x, operation(x, weight, bias, "gelu", [], "none"), gate, gate_bias, "mul"),
                      F.gelu(F.linear(x, weight, bias)) * F.linear(x, gate, gate_bias))]
        return all(torch.allclose(fused.float(), plain.float(), rtol=0.05, atol=0.1) for fused, plain in pairs)
    except (AttributeError, RuntimeError, TypeError):
        return False


def _cpu_inference(x: torch.Tensor, dtypes: tuple, *weights: torch.Tensor) -> bool:
    """An input of one of `dtypes` with weights of its own dtype (not autocast's float32 weights
    beside bf16 activations) on a CPU, no gradient recorded."""
    return (x.dtype in dtypes and all(weight.dtype == x.dtype for weight in weights)
            and x.device.type == "cpu" and not torch.is_grad_enabled())


def _fusable(x: torch.Tensor, *weights: torch.Tensor) -> bool:
    """bf16 input and weights on a CPU, no gradient recorded, and a oneDNN linear that passed its probe."""
    return _cpu_inference(x, (torch.bfloat16,), *weights) and onednn_available()


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """F.linear(x, weight, bias), with the bias added in the product's kernel where it can (see the module)."""
    if _fusable(x, weight):
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
    return F.linear(x, weight, bias)


def gelu_gated(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, gate_weight: torch.Tensor,
               gate_bias: torch.Tensor) -> torch.Tensor:
    """GELU(x weight^T + bias) * (x gate_weight^T + gate_bias), fused where it can (see the module)."""
    if _fusable(x, weight, gate_weight):
        operation = torch.ops.mkldnn._linear_pointwise
        return operation.binary(x, operation(x, weight, bias, "gelu", [], "none"), gate_weight, gate_bias, "mul")
    activation = F.gelu(F.linear(x, weight, bias))
    gate = F.linear(x, gate_weight, gate_bias)
    return activation * gate if torch.is_grad_enabled() else activation.mul_(gate)


def add_to(fresh: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """fresh + other, written into `fresh` (a temporary of the same shape, such as a layer's output)
    when no gradient is recorded: one activation less to allocate and to write. Bit for bit
    the same sum."""
    return fresh + other if torch.is_grad_enabled() else fresh.add_(other)


@functools.lru_cache(maxsize=None)
def convolution_available(dtype: torch.dtype) -> bool:
    """Whether this PyTorch's oneDNN convolution with post-ops runs in `dtype` and agrees with the plain one."""
    try:
        with torch.random.fork_rng(devices=[]):  # the probe's layers leave the caller's random state alone
            torch.manual_seed(0)
            cases = [(nn.Conv3d(2, 4, (3, 3, 3), padding=(1, 0, 0)), torch.randn(1, 2, 5, 6, 7)),
                     (nn.Conv2d(2, 4, 3), torch.randn(1, 2, 6, 7))]
        with torch.no_grad():
            pairs = [(_pointwise_convolution(x.to(dtype), copy.deepcopy(layer).to(dtype), gelu),
                      _plain_convolution(x, layer, gelu)) for layer, x in cases for gelu in (False, True)]
        return all(torch.allclose(fused.float(), plain, rtol=0.05, atol=0.05) for fused, plain in pairs)
    except (AttributeError, RuntimeError, TypeError):
        return False


def _pointwise_convolution(x: torch.Tensor, layer: nn.Module, gelu: bool) -> torch.Tensor:
    return torch.ops.mkldnn._convolution_pointwise(
        x, layer.weight, layer.bias, layer.padding, layer.stride, layer.dilation, layer.groups,
        "gelu" if gelu else "none", [], "none" if gelu else "")


def _plain_convolution(x: torch.Tensor, layer: nn.Module, gelu: bool) -> torch.Tensor:
    out = layer(x)
    return F.gelu(out) if gelu else out


def convolution(x: torch.Tensor, layer: nn.Module, gelu: bool) -> torch.Tensor:
    """`layer(x)` for a zero-padded nn.Conv2d or nn.Conv3d, then GELU if `gelu`; in oneDNN's direct
    convolution with the GELU as its post-op for float32 or bf16 input and weights on a CPU without
    gradients, where the probe of this dtype passed (see the module); elsewhere the plain operations."""
    if (_cpu_inference(x, (torch.float32, torch.bfloat16), layer.weight) and layer.padding_mode == "zeros"
            and convolution_available(x.dtype)):
        return _pointwise_convolution(x, layer, gelu)
    return _plain_convolution(x, layer, gelu)
