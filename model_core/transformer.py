"""Pre-norm transformer blocks and fixed sin-cos position embeddings."""

from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import fused

# Samples per call of the fused attention kernel: CUDA's kernels put the batch on a grid
# dimension of at most 65,535 blocks, and cuDNN's failed on an H200 for a batch of a million
# pixels ("mha_graph.execute ... is_good()") instead of running out of memory.
FUSED_ATTENTION_SAMPLES = 2 ** 15

Rows = Union[torch.Tensor, slice]
"""Some tokens of each sample: a slice of positions (the class token: slice(0, 1)), or a
(B, N) boolean mask that sets as many per sample (a slice needs no device synchronisation)."""


def rows_where(tokens: torch.Tensor, chosen: Rows) -> torch.Tensor:
    """The chosen tokens of each sample, in order: (B, N, D) -> (B, k, D)."""
    if isinstance(chosen, slice):
        return tokens[:, chosen]
    return tokens[chosen].view(tokens.shape[0], -1, tokens.shape[-1])


def sincos_1d(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Sin-cos embedding (len(positions), dim) of 1-D positions, on their device; dim must be even."""
    if dim % 2:
        raise ValueError(f"A sin-cos embedding needs an even width; got {dim}.")
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64, device=positions.device) / (dim / 2))
    angles = positions.double()[:, None] * omega[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1).float()


def positions(count: int) -> torch.Tensor:
    """0 .. count - 1 on the CPU, also where a model is built on PyTorch's meta device to read its
    weights' shapes (`loading._shapes`): computed there, a meta tensor's arithmetic imports
    torch._dynamo (a second per model file, and an empty torchinductor folder left in TMPDIR:
    a helper's red team of 2026-12-05); the fixed embeddings are small buffers."""
    return torch.arange(count, device="cpu")


def sincos_2d(size: int, dim: int) -> torch.Tensor:
    """Sin-cos embedding (size * size, dim) of a size x size grid, rows then columns, on the CPU."""
    if dim % 4:
        raise ValueError(f"A 2-D sin-cos embedding needs a width divisible by 4; got {dim}.")
    rows, cols = torch.meshgrid(positions(size), positions(size), indexing="ij")
    return torch.cat([sincos_1d(rows.reshape(-1), dim // 2),
                      sincos_1d(cols.reshape(-1), dim // 2)], dim=1)


def fused_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v by the fused kernel, FUSED_ATTENTION_SAMPLES samples at a time."""
    if len(q) <= FUSED_ATTENTION_SAMPLES:
        return F.scaled_dot_product_attention(q, k, v)
    return torch.cat([F.scaled_dot_product_attention(*(t[start:start + FUSED_ATTENTION_SAMPLES] for t in (q, k, v)))
                      for start in range(0, len(q), FUSED_ATTENTION_SAMPLES)])


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, queries: Optional[Rows] = None) -> torch.Tensor:
        """Self-attention over x (B, N, dim); with queries (see Rows), only
        those tokens query, and the result holds their rows only, in order.

        That gives exactly those rows of the full result at a fraction of the cost: a classifier
        that reads the class token, or a decoder whose loss reads the masked tokens, needs
        nothing else from the last block.
        When gradients are needed the attention is written out as two matrix products:
        the fused kernel's backward is several times slower on CPUs in bfloat16 for
        sequences of a few dozen tokens; without gradients the fused kernel is faster,
        as it reads the heads in place.
        """
        batch, tokens, dim = x.shape
        weight, bias = self.qkv.weight, self.qkv.bias
        if queries is not None:
            q = fused.linear(rows_where(x, queries), weight[:dim], bias[:dim])
            q = q.view(batch, -1, self.heads, dim // self.heads).transpose(1, 2)
            kv = fused.linear(x, weight[dim:], bias[dim:])
            k, v = kv.view(batch, tokens, 2, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            q, k, v = fused.linear(x, weight, bias).view(batch, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        if torch.is_grad_enabled():
            weights = torch.softmax((q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5, dim=-1)
            out = weights @ v
        else:
            out = fused_attention(q, k, v)
        return fused.linear(out.transpose(1, 2).reshape(batch, -1, dim), self.proj.weight, self.proj.bias)


class Mlp(nn.Module):
    """fc2(GELU(fc1 x)), or with gating fc2(GELU(fc1 x) * fc1b x) as in the SS-MAE encoder."""

    def __init__(self, dim: int, ratio: float, gated: bool) -> None:
        super().__init__()
        hidden = int(dim * ratio)
        self.gated = gated
        self.fc1 = nn.Linear(dim, 2 * hidden if gated else hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gated:
            # Two products over the two halves of fc1's rows rather than one product cut in
            # two: the halves come out contiguous, and GELU and the gating product run
            # about 2.5 times faster on contiguous tensors than on the strided halves.
            hidden, weight, bias = self.fc2.in_features, self.fc1.weight, self.fc1.bias
            activation = fused.gelu_gated(x, weight[:hidden], bias[:hidden], weight[hidden:], bias[hidden:])
        else:
            activation = F.gelu(fused.linear(x, self.fc1.weight, self.fc1.bias))
        return fused.linear(activation, self.fc2.weight, self.fc2.bias)


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, gated: bool) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp_ratio, gated)

    def forward(self, x: torch.Tensor, queries: Optional[Rows] = None) -> torch.Tensor:
        """The block over x (B, N, dim); with queries, only the rows of those tokens (see Attention)."""
        residual = x if queries is None else rows_where(x, queries)
        x = fused.add_to(self.attn(self.norm1(x), queries), residual)
        return fused.add_to(self.mlp(self.norm2(x)), x)


class Stack(nn.Module):
    """Blocks followed by a final LayerNorm."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float, gated: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, gated) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, queries: Optional[Rows] = None) -> torch.Tensor:
        """Every block over x (B, N, dim); with queries (see Rows), the last block computes only
        those tokens' rows, and so does the result (B, chosen tokens, dim)."""
        last = len(self.blocks) - 1
        for index, block in enumerate(self.blocks):
            x = block(x, queries if index == last else None)
        return self.norm(x)


def init_weights(module: nn.Module) -> None:
    """MAE-style initialisation: Xavier-uniform linears with zero bias, unit LayerNorms."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.LayerNorm):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)


def trunc_normal_(tensor: torch.Tensor, std: float = 0.02) -> torch.Tensor:
    return nn.init.trunc_normal_(tensor, std=std, a=-2 * std, b=2 * std)

