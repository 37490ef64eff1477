"""Edges of the masking, the band redundancy, the hooks, torchrun's context, the device choice, the heap and the model
that a mutation audit of model_core (2026-12-06, second round) found no test pinning."""

import signal
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from model_core import device as device_module
from model_core import distributed, fused, heap
from model_core import hooks as hooks_module
from model_core.config import PRESETS
from model_core.distributed import Context, split
from model_core.errors import Canceled, DeviceError
from model_core.hooks import Hooks, Pace, cancel_on_sigterm
from model_core.masking import band_cosine_similarity, mask_count, mrs_mask, random_spectral_mask, spatial_mask
from model_core.model import SSMAE, SSMAEClassifier
from model_core.redundancy import band_similarity, copied_bands, redundant_groups
from model_core.settings import MaskingSettings
from model_core.training import PretrainPhase

TINY = PRESETS["tiny"]


def paper_mrs(sample: np.ndarray, anchor: int, k: int, centred: bool) -> set:
    """The bands MRS masks in one sample (C, P, P) for a known anchor, computed independently: the anchor and the
    k - 1 other bands of highest signed cosine with it over the pixels (after centring each band, if `centred`)."""
    flat = sample.reshape(len(sample), -1).astype(np.float64)
    if centred:
        flat = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat, axis=1)
    similarity = flat @ flat[anchor] / (norms * norms[anchor])
    others = sorted((band for band in range(len(flat)) if band != anchor), key=lambda band: (-similarity[band], band))
    return {anchor, *others[:k - 1]}


@pytest.mark.parametrize("similarity", ["cosine", "correlation"])
def test_mrs_masks_the_drawn_anchor_and_the_bands_of_highest_signed_similarity_to_it(similarity):
    """The paper's MRS, sample by sample: bands that are the anchor's negative (cosine -1) are the least alike."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(48, 10, 5, 5, generator=generator) + 0.3
    x[:, 1] = -x[:, 0]
    x[:, 3] = -x[:, 2] + 0.2 * torch.randn(48, 5, 5, generator=generator)
    x[:, 5] = x[:, 4] + 0.5 * torch.randn(48, 5, 5, generator=generator)
    mask = mrs_mask(x, 0.3, torch.Generator().manual_seed(4), similarity)
    anchors = torch.randint(10, (48,), generator=torch.Generator().manual_seed(4)).tolist()
    assert {0, 1, 2, 3, 4, 5} <= set(anchors)
    for sample, row, anchor in zip(x.numpy(), mask.numpy(), anchors):
        assert set(np.flatnonzero(row)) == paper_mrs(sample, anchor, 3, similarity == "correlation")


def test_a_pretraining_draws_its_mrs_masks_with_the_similarity_it_was_given():
    """Bands 0-3 share one spatial pattern at four levels: correlation ranks them alike, cosine does not."""
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(16, 1, 5, 5, generator=generator)
    others = torch.randn(16, 4, 5, 5, generator=generator)
    x = torch.cat([base + level for level in (0.0, 5.0, -5.0, 9.0)] + [others], dim=1)
    _, spectral = PretrainPhase(MaskingSettings(spectral_ratio=0.5, similarity="correlation")).draw(
        x, torch.Generator().manual_seed(3))
    drawn = {}
    for similarity in ("correlation", "cosine"):
        generator = torch.Generator().manual_seed(3)
        spatial_mask(x, 0.3, generator)
        drawn[similarity] = mrs_mask(x, 0.5, generator, similarity)
    assert torch.equal(spectral, drawn["correlation"]) and not torch.equal(spectral, drawn["cosine"])


def test_masking_fewer_than_two_tokens_is_refused():
    with pytest.raises(ValueError, match=r"^Masking needs at least 2 tokens; got 1\.$"):
        mask_count(1, 0.5)
    assert mask_count(2, 0.5) == 1


@pytest.mark.parametrize("strategy", [mrs_mask, random_spectral_mask, spatial_mask])
def test_masks_for_an_input_on_another_device_are_drawn_on_the_generator_s_device(strategy):
    """The masks of a seeded run do not depend on the model's device: they are drawn where the generator lives
    (an input on PyTorch's meta device stands for a GPU here; a draw made there leaves a CPU generator as it was)."""
    x = torch.randn(4, 10, 3, 3)
    on_cpu, elsewhere = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    strategy(x, 0.3, on_cpu)
    moved = strategy(x.to("meta"), 0.3, elsewhere)
    assert moved.device.type == "meta" and moved.dtype == torch.bool
    assert torch.equal(strategy(x, 0.3, on_cpu), strategy(x, 0.3, elsewhere))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_band_similarities_of_a_low_precision_patch_are_computed_in_float32(dtype):
    """Values of 300 overflow float16 in the products of a 7 x 7 patch's band norms."""
    x = (300 * torch.rand(2, 6, 7, 7, generator=torch.Generator().manual_seed(0))).to(dtype)
    anchor = torch.tensor([0, 4])
    scores = band_cosine_similarity(x, anchor)
    assert scores.dtype == torch.float32
    assert torch.equal(scores, band_cosine_similarity(x.float(), anchor))
    assert scores[0, 0].item() == pytest.approx(1.0) and scores[1, 4].item() == pytest.approx(1.0)


def test_band_similarities_of_bands_of_small_values_are_their_cosines():
    """Bands whose norms multiply to far below 1 are compared by their cosine, as the paper's equation (1)."""
    flat = 1e-3 * torch.randn(1, 5, 25, generator=torch.Generator().manual_seed(1))
    scores = band_cosine_similarity(flat.view(1, 5, 5, 5), torch.tensor([2]))[0]
    expected = (flat[0] @ flat[0, 2]) / (flat[0].norm(dim=1) * flat[0, 2].norm())
    assert torch.allclose(scores, expected, atol=1e-5)
    assert scores[2].item() == pytest.approx(1.0)


def test_similarities_of_a_band_and_its_scaled_copies_stay_within_minus_one_and_one():
    """Unclipped, a band and its copy times 3.7 came out 1 + 4e-16 apart from rounding."""
    rng = np.random.default_rng(0)
    band = rng.normal(size=(50, 1))
    similarity = band_similarity(np.hstack([band, band * rng.uniform(0.1, 10), band * 3.7, -band * 1.3]))
    assert similarity.max() == 1.0 and similarity.min() >= -1.0


def test_a_similarity_short_of_the_threshold_by_exactly_the_rounding_reaches_it():
    similarity = np.array([[1.0, 1.0 - 1e-9], [1.0 - 1e-9, 1.0]])
    assert copied_bands(similarity) == [[0, 1]] and redundant_groups(similarity, 1.0) == [[0, 1]]


def pace_at(monkeypatch, *times):
    """Pace's clock, reading `times` one after the other."""
    now = iter(times)
    monkeypatch.setattr(hooks_module, "clock", lambda: next(now))


@pytest.mark.parametrize("fraction,elapsed,said", [
    (0.5, 29.9, []),
    (0.5, 30.0, ["Classification: about 30 s left at the pace so far (50 % of the pixels in 30 s)."]),
    (0.01, 30.0, ["Classification: about 49 min 30 s left at the pace so far (1 % of the pixels in 30 s)."]),
    (0.009, 60.0, []),
])
def test_the_pace_speaks_from_30_s_and_1_percent_on(monkeypatch, fraction, elapsed, said):
    pace_at(monkeypatch, 0.0, elapsed)
    lines = []
    Pace("Classification").tick(fraction, Hooks(log=lines.append))
    assert lines == said


def test_the_pace_speaks_only_once(monkeypatch):
    pace_at(monkeypatch, 0.0, 30.0, 45.0)
    lines = []
    pace = Pace("Classification")
    pace.tick(0.5, Hooks(log=lines.append))
    pace.tick(0.75, Hooks(log=lines.append))
    assert lines == ["Classification: about 30 s left at the pace so far (50 % of the pixels in 30 s)."]


def test_the_pace_of_a_resumed_run_counts_only_what_this_run_did(monkeypatch):
    pace_at(monkeypatch, 0.0, 60.0)
    lines = []
    Pace("Fine-tuning", "the batches", start=0.5).tick(0.75, Hooks(log=lines.append))
    assert lines == ["Fine-tuning: about 1 min 00 s left at the pace so far (25 % of the batches in 1 min 00 s)."]


def test_the_pace_s_hooks_pass_the_progress_on_and_a_stopped_pace_says_nothing(monkeypatch):
    pace_at(monkeypatch, 0.0, 60.0)
    seen, lines = [], []
    pace = Pace("Classification")
    hooks = pace.hooks(Hooks(progress=seen.append, log=lines.append))
    pace.stop()
    hooks.progress(0.5)
    assert (seen, lines) == ([0.5], [])


@pytest.fixture
def handlers():
    """SIGHUP ignored (as under nohup) and SIGUSR1 given a handler of its own before the test; all restored after."""
    def own(_number, _frame):
        return None

    numbers = (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in numbers}
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, own)
    yield own
    for number, handler in previous.items():
        signal.signal(number, handler)


def test_an_ignored_signal_stays_ignored_and_earlier_handlers_come_back_after_the_work(handlers):
    with cancel_on_sigterm(Hooks()):
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGUSR1) is not handlers
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGUSR1) is handlers


@pytest.mark.parametrize("number", [signal.SIGUSR1, signal.SIGUSR2])
def test_slurm_s_warning_signals_stop_the_work_as_on_cancel(handlers, number):
    lines = []
    with cancel_on_sigterm(Hooks(log=lines.append)) as hooks:
        signal.getsignal(number)(number, None)
        assert hooks.is_canceled()
    name = signal.Signals(number).name
    assert lines == [f"{name} received: stopping as on Cancel (send it again to stop at once).",
                     f"{name} came once the work was done: its outputs are written whole and kept."]


@pytest.mark.parametrize("error", [RuntimeError("Connection closed by peer"), Canceled(voted=True)])
def test_an_exchange_or_a_vote_that_a_signal_broke_off_is_said_as_a_stop_by_that_signal(handlers, error):
    with pytest.raises(Canceled, match=r"^Stopped by SIGTERM, as on Cancel\.$") as stopped:
        with cancel_on_sigterm(Hooks()):
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
            raise error
    assert stopped.value.voted is isinstance(error, Canceled)


@pytest.mark.parametrize("count,parts,expected", [
    (5, 2, [(0, 3), (3, 5)]),
    (7, 3, [(0, 3), (3, 5), (5, 7)]),
    (4, 2, [(0, 2), (2, 4)]),
    (1, 3, [(0, 1), (1, 1), (1, 1)]),
])
def test_a_batch_is_cut_into_contiguous_shares_differing_by_at_most_one(count, parts, expected):
    assert split(count, parts) == expected


def test_a_process_numbered_beyond_the_gpus_is_refused_and_one_process_keeps_the_device_it_was_given(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert Context().device(torch.device("cuda")) == torch.device("cuda")
    assert Context(1, 2, 1, True).device(torch.device("cuda")) == torch.device("cuda", 1)
    with pytest.raises(DeviceError, match=r"^torchrun started process 2 of this machine, but PyTorch sees 2 GPUs\."):
        Context(2, 3, 2, True).device(torch.device("cuda"))


@pytest.mark.parametrize("item", [None, [], "", {}])
def test_one_process_finds_nothing_in_an_empty_item(item):
    assert Context().first_found(item) is None


def test_without_a_process_group_no_error_is_taken_for_a_lost_partner_and_the_log_names_one_process():
    assert not distributed.lost_partner(RuntimeError("Connection reset by peer"))
    assert distributed.devices_line(Context(), "cpu (2 threads)") == "1 process on cpu (2 threads)"


@pytest.mark.parametrize("threads,said", [(1, "cpu (1 thread)"), (2, "cpu (2 threads)")])
def test_the_cpu_is_described_by_its_threads(monkeypatch, threads, said):
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert device_module.describe_device(torch.device("cpu")) == said


@pytest.mark.parametrize("name,expected", [("CPU", "cpu"), (" Cpu ", "cpu"), ("AUTO", "cpu")])
def test_device_names_are_read_whatever_their_case_and_spaces(monkeypatch, name, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device_module.resolve_device(name) == torch.device(expected)


@pytest.mark.parametrize("kind,supported,expected", [
    ("cuda", True, torch.bfloat16), ("cuda", False, None), ("cpu", True, torch.bfloat16), ("cpu", False, None)])
def test_auto_precision_is_bf16_only_where_the_hardware_runs_it(monkeypatch, kind, supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: supported)
    monkeypatch.setattr(device_module, "cpu_supports_bf16", lambda: supported)
    assert device_module.resolve_precision("auto", torch.device(kind)) is expected


def test_the_heap_is_kept_for_the_work_and_its_free_memory_given_back_after(monkeypatch):
    calls = []

    class Library:
        def mallopt(self, option, value):
            calls.append(("mallopt", option, value))

        def malloc_trim(self, pad):
            calls.append(("malloc_trim", pad))

    monkeypatch.setattr(heap, "_glibc", lambda: Library())
    with heap.reusing_freed_memory():
        assert calls == [("mallopt", -3, 32 * 2 ** 20), ("mallopt", -1, 2 ** 30)]
    assert calls[2:] == [("mallopt", -1, 64 * 2 ** 20), ("malloc_trim", 0)]


def test_a_classifier_of_two_hsi_bands_is_refused():
    with pytest.raises(ValueError, match=r"^The classifier needs at least 3 HSI bands, 1 auxiliary band and 2 classes; "
                                         r"got 2, 1 and 2\.$"):
        SSMAEClassifier(TINY, 2, 1, 2)


def test_a_classifier_of_fewer_hsi_bands_than_pca_components_reduces_to_as_many_components_as_bands():
    torch.manual_seed(0)
    classifier = SSMAEClassifier(TINY, 4, 1, 2).eval()
    assert TINY.pca_components == 6 and classifier.pca_components.shape == (4, 4)
    classifier.set_pca(torch.zeros(4), torch.eye(4))
    with torch.no_grad():
        assert classifier(torch.randn(3, 5, TINY.patch, TINY.patch)).shape == (3, 2)


def test_the_cnn_branch_of_a_9_pixel_patch_keeps_a_spectral_kernel_of_3_and_its_sar_lidar_layers_8_channels():
    classifier = SSMAEClassifier(replace(TINY, patch=9, dim=8, heads=2), 8, 2, 3)
    assert [layer.kernel_size for layer in classifier.hsi_cnn.convs if isinstance(layer, torch.nn.Conv3d)] == [
        (7, 3, 3), (5, 3, 3), (3, 3, 3), (3, 3, 3)]
    assert [layer.out_channels for layer in classifier.aux_cnn.convs if isinstance(layer, torch.nn.Conv2d)] == [
        8, 8, 8, 8]


def test_class_and_mask_tokens_start_from_a_normal_of_0_02_cut_at_two_spreads_and_every_bias_from_zero():
    torch.manual_seed(0)
    model = SSMAE(replace(TINY, dim=256, decoder_dim=256), 8, 2)
    tokens = torch.cat([model.encoder.spatial.cls_token.flatten(), model.encoder.spectral.cls_token.flatten(),
                        model.spatial_decoder.mask_token.flatten(), model.spectral_decoder.mask_token.flatten()])
    assert tokens.abs().max().item() <= 0.04
    assert 0.012 < tokens.std().item() < 0.02
    assert all(not layer.bias.any() for layer in model.modules() if isinstance(layer, torch.nn.Linear))


@pytest.fixture
def onednn_emulated(monkeypatch):
    """oneDNN's convolution with post-ops, emulated where this PyTorch lacks it: it pads with zeros whatever the
    layer's padding mode, and records no gradient."""
    calls = []

    def pointwise(x, layer, gelu):
        calls.append(layer)
        out = F.conv2d(x, layer.weight, layer.bias, layer.stride, layer.padding, layer.dilation, layer.groups)
        return (F.gelu(out) if gelu else out).detach()

    monkeypatch.setattr(fused, "convolution_available", lambda dtype: True)
    monkeypatch.setattr(fused, "_pointwise_convolution", pointwise)
    return calls


def test_only_zero_padded_convolutions_without_gradients_go_to_onednn(onednn_emulated):
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 7)
    zeros, reflect = torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect")
    with torch.no_grad():
        assert torch.allclose(fused.convolution(x, reflect, True), F.gelu(reflect(x)))
        assert torch.allclose(fused.convolution(x, zeros, True), F.gelu(zeros(x)))
    graded = fused.convolution(x, zeros, False)
    assert graded.requires_grad and torch.allclose(graded, zeros(x))
    assert onednn_emulated == [zeros]


def test_with_gradients_add_to_leaves_its_operands_alone_even_one_autograd_keeps():
    """A sigmoid keeps its output for its gradient: summed into in place, the backward pass would fail."""
    leaf, other = torch.randn(4, 6, requires_grad=True), torch.randn(4, 6)
    squashed = torch.sigmoid(leaf)
    before = squashed.detach().clone()
    fused.add_to(squashed, other).sum().backward()
    assert torch.equal(squashed.detach(), before)
    assert torch.allclose(leaf.grad, before * (1 - before))
