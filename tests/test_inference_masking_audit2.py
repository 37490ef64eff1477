"""Edges of the masking, the band redundancy, the accuracy figures, the fused operations and the tile predictor that a
second-round mutation audit (2026-12-07) found no test pinning."""

import math

import numpy as np
import pytest
import torch
from test_masking_audit import onednn_emulated  # noqa: F401  (the fixture: oneDNN's convolution, emulated and recorded)

from model_core import fused, inference
from model_core.config import PRESETS
from model_core.hooks import Hooks
from model_core.inference import TilePredictor
from model_core.mask_ratio import mask_count
from model_core.masking import band_cosine_similarity
from model_core.metrics import Accuracy, accuracy, confusion_matrix
from model_core.model import SSMAEClassifier
from model_core.preprocessing import Normalizer
from model_core.redundancy import leakage

# ---- mask_ratio, masking


@pytest.mark.parametrize("n, ratio, said", [
    (10, 1.5, "The mask ratio must lie strictly between 0 and 1; got 1.5."),
    (10, 0.0, "The mask ratio must lie strictly between 0 and 1; got 0.0."),
    (0, 0.5, "Masking needs at least 2 tokens; got 0.")])
def test_a_mask_count_refused_says_the_value_it_got(n, ratio, said):
    """mask_count's refusals name the ratio or the number of tokens it was given."""
    with pytest.raises(ValueError) as refused:
        mask_count(n, ratio)
    assert str(refused.value) == said


def test_an_unknown_band_similarity_is_refused_naming_the_choices_and_at_most_40_characters_of_it():
    """band_cosine_similarity refuses a similarity it does not know rather than computing cosines for it."""
    x = torch.randn(2, 4, 3, 3)
    with pytest.raises(ValueError) as refused:
        band_cosine_similarity(x, torch.tensor([0, 1]), "euclid")
    assert str(refused.value) == "The band similarity must be one of cosine, correlation; got 'euclid'."
    with pytest.raises(ValueError) as refused:
        band_cosine_similarity(x, torch.tensor([0, 1]), "x" * 60)
    assert str(refused.value).endswith("; got '" + "x" * 39 + ".")


# ---- redundancy


@pytest.mark.parametrize("ratio, expected", [(0.01, 1 / 2), (0.5, 1 / 3), (0.9, 1 / 6)])
def test_the_leak_of_random_masking_counts_the_bands_the_mask_ratio_hides_as_masking_does(ratio, expected):
    """Bands 0 and 1 of 4 are copies: k = 1, 2 and 3 masked (0.9 of 4 hides 3, at most n - 1, not round(3.6) = 4);
    of the 4 masks of 3 bands, {0, 2, 3} and {1, 2, 3} leave one of their 12 masked bands beside a visible copy."""
    similarity = np.eye(4)
    similarity[0, 1] = similarity[1, 0] = 1.0
    assert leakage(similarity, ratio, 0.95) == pytest.approx(expected)


# ---- metrics

THREE_CLASSES = np.array([[4, 1, 0], [2, 3, 1], [0, 1, 8]])
"""20 pixels, 15 on the diagonal; reference (row) sums 5, 6, 9; map (column) sums 6, 5, 9."""


def test_the_figures_of_a_three_class_matrix_are_those_worked_out_by_hand():
    """OA 15/20; PA 4/5, 3/6, 8/9; UA 4/6, 3/5, 8/9; F1 8/11, 6/11, 16/18; chance (30 + 30 + 81)/400, kappa 159/259."""
    figures = Accuracy(THREE_CLASSES)
    assert figures.total == 20 and figures.overall == pytest.approx(0.75)
    assert figures.producers == pytest.approx([0.8, 0.5, 8 / 9])
    assert figures.users == pytest.approx([4 / 6, 0.6, 8 / 9])
    assert figures.f1 == pytest.approx([8 / 11, 6 / 11, 16 / 18])
    assert figures.average == pytest.approx((0.8 + 0.5 + 8 / 9) / 3)
    assert figures.kappa == pytest.approx(159 / 259)
    report = figures.to_dict(["water", "crop", "urban"])
    assert (report["pixels"], report["overall_accuracy"], report["kappa"]) == (20, 0.75, pytest.approx(159 / 259))
    assert report["average_accuracy"] == pytest.approx(0.7296296296)
    assert report["classes"][1] == {"name": "crop", "reference_pixels": 6, "producers_accuracy": 0.5,
                                    "users_accuracy": 0.6, "f1": pytest.approx(6 / 11)}
    assert report["confusion_matrix"] == [[4, 1, 0], [2, 3, 1], [0, 1, 8]]


def test_the_confusion_matrix_of_labels_has_every_class_even_those_neither_given_nor_mapped():
    """Classes 2 and 3 in neither the reference nor the map still have their rows and columns of zeros."""
    matrix = confusion_matrix(np.array([[0, 1], [0, 1]]), np.array([[0, 0], [0, 1]], np.uint8), 4)
    assert matrix.tolist() == [[2, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    figures = accuracy(np.array([0, 1, 0, 1]), np.array([0, 0, 0, 1]), 4)
    assert figures.overall == 0.75 and figures.average == pytest.approx(0.75)


def test_a_matrix_without_pixels_has_no_figure():
    """No pixel: overall, average accuracy and kappa are undefined (NaN), not 0, and the report says kappa None."""
    figures = Accuracy(np.zeros((2, 2), np.int64))
    assert math.isnan(figures.overall) and math.isnan(figures.average) and math.isnan(figures.kappa)
    report = figures.to_dict(["a", "b"])
    assert report["pixels"] == 0 and report["kappa"] is None
    assert [row["producers_accuracy"] for row in report["classes"]] == [None, None]
    assert [row["users_accuracy"] for row in report["classes"]] == [None, None]


# ---- fused


def test_convolutions_of_bf16_activations_under_autocast_or_of_a_tensor_off_the_cpu_are_the_plain_ones(onednn_emulated):
    """Autocast's float32 weights beside bf16 activations, and a tensor on another device (PyTorch's meta device here),
    do not go to oneDNN's convolution."""
    torch.manual_seed(0)
    layer, x = torch.nn.Conv2d(2, 4, 3), torch.randn(1, 2, 6, 7)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(fused.convolution(x.bfloat16(), layer, True), torch.nn.functional.gelu(layer(x.bfloat16())))
    assert onednn_emulated == []
    with torch.no_grad():  # a convolution on the meta device takes seconds to set up: the choice alone
        assert not fused._cpu_inference(x.to("meta"), (torch.float32,), layer.weight.to("meta"))
        assert fused._cpu_inference(x, (torch.float32,), layer.weight)


# ---- inference

GIB = 2 ** 30


def _files(monkeypatch, numbers):
    """inference's reads of /proc and /sys, from `numbers` {(path, key): GiB}; None for any other."""
    monkeypatch.setattr(inference, "_number_in", lambda path, key="", unit=1: (
        numbers[path, key] * GIB if (path, key) in numbers else None))


@pytest.mark.parametrize("numbers, expected", [
    ({("/proc/meminfo", "MemAvailable:"): 64, ("/sys/fs/cgroup/memory/memory.limit_in_bytes", ""): 8,
      ("/sys/fs/cgroup/memory/memory.usage_in_bytes", ""): 7,
      ("/sys/fs/cgroup/memory/memory.stat", "total_inactive_file "): 3}, 4),
    ({("/proc/meminfo", "MemAvailable:"): 64, ("/sys/fs/cgroup/memory.max", ""): 8,
      ("/sys/fs/cgroup/memory.current", ""): 9}, 0),
], ids=["cgroup v1 with its inactive page cache", "a container beyond its limit"])
def test_the_memory_available_in_a_container_of_cgroup_v1_or_beyond_its_limit(monkeypatch, numbers, expected):
    """cgroup v1's limit, usage and total_inactive_file bound the machine's memory; a container past its limit has 0."""
    _files(monkeypatch, numbers)
    assert inference.available_memory() == expected * GIB


def test_without_meminfo_the_memory_available_is_the_free_pages_and_unknown_where_they_are(monkeypatch):
    """No /proc/meminfo (another Unix): the available (not the total) pages times the page size; None without them."""
    _files(monkeypatch, {})
    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PHYS_PAGES": 5000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(inference.os, "sysconf", lambda name: pages[name])
    assert inference.available_memory() == 1000 * 4096
    monkeypatch.setattr(inference.os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert inference.available_memory() is None


def test_an_address_space_already_beyond_its_limit_leaves_no_headroom(monkeypatch):
    """ulimit -v of 2 GiB with 3 GiB of address space taken: 0 bytes, not a negative count."""
    import resource

    monkeypatch.setattr(inference, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr(inference, "_number_in", lambda path, key="", unit=1: 3 * GIB if "status" in path else None)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2 * GIB, resource.RLIM_INFINITY))
    assert inference.memory_headroom() == 0
    monkeypatch.setattr(inference, "available_memory", lambda: None)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (5 * GIB, resource.RLIM_INFINITY))
    assert inference.memory_headroom() == 2 * GIB


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return SSMAEClassifier(PRESETS["tiny"], 5, 1, 3).eval()


SIX_BANDS = Normalizer(np.zeros(6), np.ones(6))


def test_a_bf16_predictor_holds_its_batch_to_the_memory_of_bf16_activations(tiny_model, monkeypatch):
    """The memory's limit on a batch is that of the predictor's own type: twice the pixels in bf16 as in float32."""
    per_pixel_fp32 = 2 * ((5 + 1 + 1) + (PRESETS["tiny"].patch ** 2 + 1)) * 128 * 4
    monkeypatch.setattr(inference, "memory_headroom", lambda: 4 * 37 * per_pixel_fp32)
    sizes = [TilePredictor(tiny_model, SIX_BANDS, device="cpu", precision=precision, batch_size=1000).batch_size
             for precision in ("fp32", "bf16")]
    assert sizes == [37, 74]


def test_out_of_memory_on_a_gpu_gives_its_cached_memory_back_and_says_so(tiny_model, monkeypatch):
    """Halving the batch on a GPU empties PyTorch's cache of its blocks; the log names the device and both sizes."""
    lines, emptied = [], []
    predictor = TilePredictor(tiny_model, SIX_BANDS, device="cpu", precision="fp32", batch_size=5,
                              hooks=Hooks(log=lines.append))
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    predictor._shrink_batch()
    predictor.device = torch.device("cuda", 0)
    predictor._shrink_batch()
    assert (predictor.batch_size, emptied) == (1, [True])
    assert lines == ["Out of memory on cpu with batch size 5; continuing with batch size 2.",
                     "Out of memory on cuda:0 with batch size 2; continuing with batch size 1."]


def test_the_bytes_of_a_bf16_pixel_count_its_features_at_two_bytes_each(tiny_model):
    """6 bands raw and normalised in float32 and in bf16 (4 + 4 + 2), 64 features at 2 bytes, 64 for the rest."""
    predictor = TilePredictor(tiny_model, SIX_BANDS, device="cpu", precision="bf16")
    assert predictor.bytes_per_pixel() == 6 * (4 + 4 + 2) + 64 * 2 + 64 == 252
