"""oneDNN products with their bias, GELU and gating product fused: the same values as the plain operations."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from model_core import fused
from model_core.config import PRESETS
from model_core.inference import TilePredictor
from model_core.model import SSMAEClassifier, convolved
from model_core.preprocessing import Normalizer

needs_onednn = pytest.mark.skipif(not fused.onednn_available(), reason="this PyTorch has no oneDNN linear with post-ops")


def _operands(dtype=torch.bfloat16):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(5, 11, 64, generator=generator)
    weights = [torch.randn(96, 64, generator=generator) / 8 for _ in range(2)]
    biases = [torch.randn(96, generator=generator) for _ in range(2)]
    return [value.to(dtype) for value in (x, weights[0], biases[0], weights[1], biases[1])]


def _gelu_gated(x, weight, bias, gate_weight, gate_bias):
    return F.gelu(F.linear(x, weight, bias)) * F.linear(x, gate_weight, gate_bias)


@needs_onednn
def test_fused_products_give_the_plain_operations_values_within_bf16_rounding():
    x, weight, bias, gate_weight, gate_bias = _operands()
    exact = _gelu_gated(*(value.double() for value in _operands()))
    with torch.no_grad():
        linear = fused.linear(x, weight, bias)
        gated = fused.gelu_gated(x, weight, bias, gate_weight, gate_bias)
        plain = _gelu_gated(x, weight, bias, gate_weight, gate_bias)
    assert torch.allclose(linear.double(), F.linear(x.double(), weight.double(), bias.double()), rtol=0.01, atol=0.05)
    # One rounding instead of three: at least as close to the exact value as the plain operations.
    assert (gated.double() - exact).abs().mean() <= (plain.double() - exact).abs().mean()
    assert torch.allclose(gated.double(), exact, rtol=0.02, atol=0.1)


def test_under_autocast_with_float32_weights_they_are_the_plain_operations():
    """As in fine-tuning's validation: bf16 activations meet the float32 weights autocast casts per call."""
    x, weight, bias, gate_weight, gate_bias = _operands(torch.float32)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        activations = x.bfloat16()
        assert torch.equal(fused.linear(activations, weight, bias), F.linear(activations, weight, bias))
        assert torch.equal(fused.gelu_gated(activations, weight, bias, gate_weight, gate_bias),
                           _gelu_gated(activations, weight, bias, gate_weight, gate_bias))


def test_with_gradients_or_in_float32_they_are_the_plain_operations():
    for dtype, grad in ((torch.bfloat16, True), (torch.float32, False)):
        operands = _operands(dtype)
        operands[1].requires_grad_(grad)
        with torch.set_grad_enabled(grad):
            assert torch.equal(fused.gelu_gated(*operands), _gelu_gated(*operands))
            assert torch.equal(fused.linear(*operands[:3]), F.linear(*operands[:3]))
    operands = _operands()
    operands[1].requires_grad_(True)
    fused.gelu_gated(*operands).sum().backward()
    assert operands[1].grad is not None and torch.isfinite(operands[1].grad.float()).all()


@needs_onednn
def test_a_bf16_classification_with_fused_products_matches_the_plain_one(monkeypatch):
    torch.manual_seed(0)
    model = SSMAEClassifier(PRESETS["small"], 20, 1, 5).eval()
    for parameter in model.parameters():  # trained-like weights, not the zero biases of the initialisation
        parameter.data += 0.02 * torch.randn_like(parameter)
    tile = np.random.default_rng(1).normal(size=(21, 22, 22)).astype(np.float32)
    valid = np.ones((22, 22), dtype=bool)
    predictor = TilePredictor(model, Normalizer(np.zeros(21), np.ones(21)), device="cpu", precision="bf16")
    fused_index, fused_confidence = predictor(tile, valid)
    monkeypatch.setattr(fused, "_fusable", lambda _x, *_weights: False)
    plain_index, plain_confidence = predictor(tile, valid)
    assert (fused_index == plain_index).mean() >= 0.99
    assert np.abs(fused_confidence - plain_confidence).max() < 0.03


needs_onednn_convolution = pytest.mark.skipif(
    not (fused.convolution_available(torch.float32) and fused.convolution_available(torch.bfloat16)),
    reason="this PyTorch has no oneDNN convolution with post-ops")
needs_float32_convolution = pytest.mark.skipif(  # fp32 alone: the path this machine's classification takes, which
    not fused.convolution_available(torch.float32),  # was skipped with the bf16 one (a mutation audit of 2026-12-06)
    reason="this PyTorch has no oneDNN float32 convolution with post-ops")


def _cnn_stack():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Conv3d(1, 8, (7, 3, 3), padding=(3, 0, 0)), torch.nn.GELU(),
                               torch.nn.Conv3d(8, 16, (5, 3, 3), padding=(2, 0, 0)), torch.nn.GELU(),
                               torch.nn.Conv3d(16, 4, (3, 3, 3), padding=(1, 0, 0)))


@needs_onednn_convolution
def test_fused_convolutions_give_the_plain_values_on_a_strip_of_a_tile():
    """A strip is a non-contiguous view of the tile, as the predictor's CNN map takes it."""
    layers = _cnn_stack()
    tile = torch.randn(1, 1, 12, 40, 30)
    strip = tile[:, :, :, 5:21]
    with torch.no_grad():
        exact = layers.double()(strip.double())
        layers.float()
        float32 = convolved(strip, layers)
        assert float32.dtype == torch.float32 and float32.shape == exact.shape == (1, 4, 12, 10, 24)
        assert torch.allclose(float32.double(), exact, rtol=1e-4, atol=1e-5)
        plain_bf16 = layers.bfloat16()(strip.bfloat16())
        fused_bf16 = convolved(strip.bfloat16(), layers)
    assert fused_bf16.dtype == torch.bfloat16
    # GELU applied to the convolution's float accumulator, not to its bf16 rounding: as close or closer.
    assert (fused_bf16.double() - exact).abs().mean() <= (plain_bf16.double() - exact).abs().mean() * 1.05
    assert torch.allclose(fused_bf16.double(), exact, rtol=0.05, atol=0.05)


def test_convolutions_with_gradients_are_the_plain_ones():
    layers = _cnn_stack()
    x = torch.randn(2, 1, 9, 8, 8, requires_grad=True)
    out = convolved(x, layers)
    assert torch.equal(out, layers(x))
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_the_convolution_probe_leaves_the_random_state_alone():
    fused.convolution_available.cache_clear()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    fused.convolution_available(torch.float32)
    assert torch.equal(torch.rand(3), expected)


@needs_float32_convolution
def test_a_float32_classification_with_fused_convolutions_matches_the_plain_one(monkeypatch):
    torch.manual_seed(0)
    model = SSMAEClassifier(PRESETS["small"], 20, 1, 5).eval()
    for parameter in model.parameters():
        parameter.data += 0.02 * torch.randn_like(parameter)
    tile = np.random.default_rng(1).normal(size=(21, 40, 40)).astype(np.float32)
    valid = np.ones((40, 40), dtype=bool)
    predictor = TilePredictor(model, Normalizer(np.zeros(21), np.ones(21)), device="cpu", precision="fp32")
    fused_index, fused_confidence = predictor(tile, valid)
    monkeypatch.setattr(fused, "convolution_available", lambda _dtype: False)
    plain_index, plain_confidence = predictor(tile, valid)
    assert np.array_equal(fused_index, plain_index)
    assert np.abs(fused_confidence - plain_confidence).max() < 1e-4


def test_add_to_writes_into_the_fresh_tensor_only_without_gradients():
    fresh, other = torch.randn(4, 6), torch.randn(4, 6)
    expected = fresh + other
    with torch.no_grad():
        result = fused.add_to(fresh.clone(), other)
        kept = fresh.clone()
        assert fused.add_to(kept, other).data_ptr() == kept.data_ptr()
    assert torch.equal(result, expected) and torch.equal(kept, expected)
    leaf = fresh.clone().requires_grad_(True)
    total = fused.add_to(leaf * 1, other)
    total.sum().backward()
    assert torch.equal(leaf.grad, torch.ones(4, 6))


def test_a_float32_block_without_gradients_gives_the_out_of_place_values_bit_for_bit():
    """The in-place residual sums and gating product change no value: the same additions and products."""
    from model_core.transformer import Block

    torch.manual_seed(2)
    block = Block(32, 4, 2.0, gated=True)
    for parameter in block.parameters():
        parameter.data += 0.05 * torch.randn_like(parameter)
    x = torch.randn(3, 9, 32)
    x_before = x.clone()
    mlp, hidden = block.mlp, block.mlp.fc2.in_features
    with torch.no_grad():
        in_place = block(x)
        h = x + block.attn(block.norm1(x))
        n = block.norm2(h)
        gated = (F.gelu(F.linear(n, mlp.fc1.weight[:hidden], mlp.fc1.bias[:hidden]))
                 * F.linear(n, mlp.fc1.weight[hidden:], mlp.fc1.bias[hidden:]))
        out_of_place = h + F.linear(gated, mlp.fc2.weight, mlp.fc2.bias)
    assert torch.equal(in_place, out_of_place)
    assert torch.equal(x, x_before)  # the block's input is read, never written
