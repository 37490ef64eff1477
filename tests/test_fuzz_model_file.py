"""Fuzzing the model-file readers: whatever a file holds, a model or a clear ModelFileError, quickly.

Every example is read the ways the plugin reads model files: the metadata alone then
the band check (mrs:classify's first look), the classifier, and the pretraining model.
Each either gives a usable result or raises `ModelFileError` naming the file; any
other exception, or an example slower than the profile's deadline, fails the test.
"""

import copy
import functools
import json
import pathlib
import shutil
import struct
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from safetensors.torch import save as safetensors_bytes
from safetensors.torch import save_file

from model_core import model_file
from model_core.config import PRESETS, ModelConfig
from model_core.errors import ModelFileError
from model_core.loading import check_bands, load_classifier, load_pretrained
from model_core.model import SSMAE, SSMAEClassifier

from fuzzing import FUZZ, result_or_refusal
from test_model_file import description

pytestmark = pytest.mark.timeout(120)

TINY = PRESETS["tiny"]
N_HSI, N_AUX = 6, 1
ALL_KINDS = [model_file.CLASSIFIER, model_file.PRETRAINED, model_file.CHECKPOINT]
CLASSES = [{"value": 1, "name": "water", "color": "#0000ff"}, {"value": 2, "name": "trees", "color": "#00ff00"},
           {"value": 5, "name": "roads", "color": "#808080"}]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.floats(), st.text(max_size=12),
    st.sampled_from([0, -1, 1, 2, 3, 7, 10 ** 9, 2 ** 31, 2 ** 63, -2 ** 63, 10 ** 400, 1e308, 0.5,
                     float("nan"), float("inf"), -float("inf"), "", "7", "tiny", "#zzzzzz", [], {}]))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)
DEPTH = st.integers(min_value=1, max_value=20_000)
"""Nesting depths of `[[[...]]]` written straight into the JSON text (no encoder could write them)."""


def _deep_marker(depth: int) -> str:
    return f"\x00deep{depth}"


def _json_text(document) -> str:
    """JSON text of a document in which `_deep_marker(n)` strings stand for n nested lists."""
    text = json.dumps(document)
    while "\\u0000deep" in text:
        start = text.index('"\\u0000deep')
        end = text.index('"', start + 1)
        depth = int(text[start + 11:end])
        text = text[:start] + "[" * depth + "]" * depth + text[end + 1:]
    return text


NASTY = st.one_of(JSON, DEPTH.map(_deep_marker))


@functools.lru_cache(maxsize=None)
def originals():
    """A valid classifier and pretraining file of the tiny preset: {kind: (tensors, document without
    its checksums, bytes)}.

    A cached function rather than a fixture, so that failing examples do not print it.
    """
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mrs-fuzz-"))
    torch.manual_seed(0)
    made = {}
    for kind, model, extra in [(model_file.CLASSIFIER, SSMAEClassifier(TINY, N_HSI, N_AUX, len(CLASSES)),
                                {"classes": CLASSES}),
                               (model_file.PRETRAINED, SSMAE(TINY, N_HSI, N_AUX), {"masking": {"strategy": "mrs"}})]:
        path = str(folder / f"{kind}.safetensors")
        model_file.save(path, model.state_dict(), {**description(N_HSI, N_AUX), "kind": kind, **extra})
        tensors, document = model_file.load(path, [kind])
        document.pop(model_file.CHECKSUMS)  # the examples rewrite it: files without checksums, as older ones
        with open(path, "rb") as handle:
            made[kind] = (tensors, document, handle.read())
    shutil.rmtree(folder)
    return made


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """The one path every example writes its file to."""
    return str(tmp_path_factory.mktemp("fuzz") / "model.safetensors")


def _write_bytes(path: str, data: bytes) -> str:
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _write_model(path: str, tensors, text: str) -> str:
    save_file(tensors, path, metadata={model_file.METADATA_KEY: text})
    return path


def _check_classifier(classifier) -> None:
    model = classifier.model
    assert isinstance(model, SSMAEClassifier) and not model.training
    assert (model.n_hsi, model.n_aux) == (N_HSI, N_AUX)
    assert classifier.normalizer.n_bands == N_HSI + N_AUX
    assert np.isfinite(classifier.normalizer.center).all() and (classifier.normalizer.scale > 0).all()
    assert len(classifier.classes) == model.n_classes >= 2
    assert all(isinstance(c["value"], int) and c["value"] >= 1 for c in classifier.classes)
    assert len({c["value"] for c in classifier.classes}) == len(classifier.classes)
    assert all(isinstance(c["name"], str) and isinstance(c["color"], str) for c in classifier.classes)
    assert all(torch.isfinite(tensor).all() for tensor in model.state_dict().values())


def _check_pretrained(pretrained) -> None:
    assert pretrained.encoder_state and pretrained.normalizer.n_bands == N_HSI + N_AUX
    assert np.isfinite(pretrained.normalizer.center).all() and (pretrained.normalizer.scale > 0).all()
    encoder = SSMAEClassifier(pretrained.config, N_HSI, N_AUX, 2).encoder
    encoder.load_state_dict(pretrained.encoder_state, strict=True)


def read_every_way(path: str):
    """(metadata, classifier, pretrained): what each reader gives, None where it refused."""
    metadata = result_or_refusal(lambda: model_file.read_metadata(path, ALL_KINDS), ModelFileError, path)
    if metadata is not None:
        result_or_refusal(lambda: check_bands(metadata, N_HSI, N_AUX, path, "MODEL"), ModelFileError, path)
    classifier = result_or_refusal(lambda: load_classifier(path, N_HSI, N_AUX), ModelFileError, path)
    if classifier is not None:
        _check_classifier(classifier)
    pretrained = result_or_refusal(lambda: load_pretrained(path, N_HSI, N_AUX), ModelFileError, path)
    if pretrained is not None:
        _check_pretrained(pretrained)
    return metadata, classifier, pretrained


def _header_end(data: bytes) -> int:
    return 8 + struct.unpack("<Q", data[:8])[0]


def test_the_original_files_load(target):
    for kind, (_tensors, _document, data) in originals().items():
        _metadata, classifier, pretrained = read_every_way(_write_bytes(target, data))
        assert (classifier is not None, pretrained is not None) == (kind == model_file.CLASSIFIER,
                                                                   kind == model_file.PRETRAINED)


@settings(FUZZ, max_examples=150)
@given(data=st.one_of(
    st.binary(max_size=512),
    st.binary(max_size=256).map(lambda body: struct.pack("<Q", len(body)) + body),
    st.tuples(JSON, st.binary(max_size=64)).map(
        lambda parts: struct.pack("<Q", len(json.dumps(parts[0]))) + json.dumps(parts[0]).encode() + parts[1])))
def test_random_bytes_are_refused(target, data):
    assert read_every_way(_write_bytes(target, data)) == (None, None, None)


TENSOR_HEADERS = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F16", "BF16", "F64", "I64", "I8", "U8", "BOOL", "F8_E4M3", "C64", "F4",
                              "X", ""]) | SCALARS,
    "shape": st.lists(st.integers(min_value=-2, max_value=2 ** 62) | SCALARS, max_size=4),
    "data_offsets": st.lists(st.integers(min_value=-2, max_value=2 ** 64) | SCALARS, max_size=3),
})


@settings(FUZZ, max_examples=150)
@given(headers=st.dictionaries(st.text(max_size=6), TENSOR_HEADERS, max_size=3),
       metadata=st.none() | st.dictionaries(st.text(max_size=4), st.text(max_size=8) | SCALARS, max_size=2),
       body=st.binary(max_size=64))
def test_random_safetensors_headers_are_refused(target, headers, metadata, body):
    if metadata is not None:
        headers = {**headers, "__metadata__": metadata}
    header = json.dumps(headers).encode()
    read_every_way(_write_bytes(target, struct.pack("<Q", len(header)) + header + body))


@settings(FUZZ, max_examples=120)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]), fraction=st.floats(0.0, 1.0))
def test_truncated_files_are_refused(target, kind, fraction):
    data = originals()[kind][2]
    cut = min(int(fraction * len(data)), len(data) - 1)
    assert read_every_way(_write_bytes(target, data[:cut])) == (None, None, None)


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]),
       in_header=st.lists(st.tuples(st.floats(0.0, 1.0), st.binary(min_size=1, max_size=8)), max_size=3),
       anywhere=st.lists(st.tuples(st.floats(0.0, 1.0), st.binary(min_size=1, max_size=8)), max_size=3))
def test_overwritten_bytes_give_a_model_or_a_clear_error(target, kind, in_header, anywhere):
    data = bytearray(originals()[kind][2])
    for fraction, replacement, limit in ([(f, r, _header_end(data)) for f, r in in_header]
                                         + [(f, r, len(data)) for f, r in anywhere]):
        start = min(int(fraction * limit), len(data) - len(replacement))
        data[start:start + len(replacement)] = replacement
    read_every_way(_write_bytes(target, bytes(data)))


@settings(FUZZ, max_examples=100)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]),
       length=st.integers(min_value=0, max_value=2 ** 64 - 1) | st.integers(min_value=0, max_value=4096))
def test_header_length_prefixes_of_any_size_are_refused(target, kind, length):
    data = originals()[kind][2]
    if length == _header_end(data) - 8:
        return
    assert read_every_way(_write_bytes(target, struct.pack("<Q", length) + data[8:])) == (None, None, None)


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]),
       text=st.one_of(JSON.map(json.dumps), st.text(max_size=64), DEPTH.map(lambda n: "[" * n + "]" * n),
                      DEPTH.map(lambda n: '{"a":' * n + "1" + "}" * n)))
@example(kind=model_file.CLASSIFIER, text="[" * 5000 + "]" * 5000)
@example(kind=model_file.CLASSIFIER, text=json.dumps({"format": "mrs-ssmae", "format_version": 1, "kind": []}))
@example(kind=model_file.PRETRAINED, text=json.dumps({"format": "mrs-ssmae", "format_version": True,
                                                      "kind": "pretrained"}))
def test_random_json_as_metadata_is_refused(target, kind, text):
    tensors = originals()[kind][0]
    assert read_every_way(_write_model(target, tensors, text)) == (None, None, None)


def _paths(value, prefix=()):
    """Every place in a JSON document: tuples of keys and indices."""
    if prefix:
        yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _paths(item, prefix + (key,))


def _mutate(document, mutation):
    """The document with one place replaced, removed, or given an unknown key or extra item."""
    operation, path, value = mutation
    *parents, last = path
    container = document
    for key in parents:
        container = container[key]
    if operation == "set":
        container[last] = value
    elif operation == "delete":
        del container[last]
    elif isinstance(container[last], dict):
        container[last]["unknown key"] = value
    elif isinstance(container[last], list):
        container[last].append(value)
    else:
        container[last] = [container[last], value]


@st.composite
def mutated_documents(draw):
    kind = draw(st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]))
    document = copy.deepcopy(originals()[kind][1])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(sorted(_paths(document), key=repr)))
        _mutate(document, (draw(st.sampled_from(["set", "set", "delete", "extend"])), path, draw(NASTY)))
    return kind, document


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_mutated_metadata_gives_a_model_or_a_clear_error(target, data):
    kind, document = data.draw(mutated_documents())
    read_every_way(_write_model(target, originals()[kind][0], _json_text(document)))


CONFIG_VALUES = st.one_of(st.integers(min_value=-3, max_value=300), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                          st.sampled_from([10 ** 9, 2 ** 63, 4096, 8192, 0.5, 5.0, float("nan"), float("inf")]), SCALARS)


@settings(FUZZ, max_examples=200)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]),
       changes=st.dictionaries(st.sampled_from(sorted(TINY.to_dict()) + ["unknown"]), CONFIG_VALUES, min_size=1))
@example(kind=model_file.CLASSIFIER, changes={"dim": 10 ** 9})
@example(kind=model_file.CLASSIFIER, changes={"heads": 0})
@example(kind=model_file.PRETRAINED, changes={"depth": 10 ** 9})
@example(kind=model_file.CLASSIFIER, changes={"patch": 2 ** 31 - 1})
@example(kind=model_file.CLASSIFIER, changes={"mlp_ratio": float("nan")})
def test_absurd_configs_are_refused_before_any_model_is_built(target, kind, changes):
    """Settings the loaded part does not use (the decoders' for a classifier) may change; others may not."""
    tensors, document, _data = originals()[kind]
    config = {**document["config"], **changes}
    _metadata, classifier, pretrained = read_every_way(_write_model(target, tensors, json.dumps({**document,
                                                                                                "config": config})))
    loaded = classifier.model if classifier is not None else pretrained
    if loaded is not None:
        assert loaded.config == ModelConfig.from_dict(config)
        used = ["dim", "depth", "heads", "mlp_ratio", "patch"]
        if classifier is not None:
            used += ["pca_components", "cnn_channels"]
        assert {name: config[name] for name in used} == {name: getattr(TINY, name) for name in used}


@settings(FUZZ, max_examples=40)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]),
       config=st.sampled_from([PRESETS["paper"], PRESETS["small"]]).map(lambda c: c.to_dict())
       | st.fixed_dictionaries({"dim": st.sampled_from([512, 4096, 8192]), "depth": st.integers(1, 64),
                                "heads": st.sampled_from([1, 2, 8]), "decoder_depth": st.integers(1, 64),
                                "patch": st.sampled_from([3, 5, 9, 31]), "cnn_channels": st.integers(1, 512)}))
def test_weights_made_for_another_architecture_are_refused_without_building_it(target, kind, config):
    tensors, document, _data = originals()[kind]
    config = {**TINY.to_dict(), **config}
    text = json.dumps({**document, "config": config, "patch": config["patch"]})
    assert read_every_way(_write_model(target, tensors, text))[1:] == (None, None)


@settings(FUZZ, max_examples=150)
@given(kind=st.sampled_from([model_file.CLASSIFIER, model_file.PRETRAINED]),
       n_hsi=st.integers(min_value=-2, max_value=12) | st.sampled_from([10 ** 9, 2 ** 63]) | SCALARS,
       n_aux=st.integers(min_value=-2, max_value=4) | st.sampled_from([10 ** 9, 2 ** 63]) | SCALARS,
       center=st.lists(st.floats(), max_size=9) | SCALARS,
       scale=st.lists(st.floats(), max_size=9) | SCALARS)
@example(kind=model_file.CLASSIFIER, n_hsi=6, n_aux=1, center=[10 ** 400] * 7, scale=[1.0] * 7)
@example(kind=model_file.CLASSIFIER, n_hsi=6, n_aux=1, center=[float("nan")] * 7, scale=[1.0] * 7)
@example(kind=model_file.CLASSIFIER, n_hsi=6.9, n_aux=True, center=[0.0] * 7, scale=[1.0] * 7)
@example(kind=model_file.PRETRAINED, n_hsi=float("inf"), n_aux=1, center=[0.0] * 7, scale=[1.0] * 7)
@example(kind=model_file.CLASSIFIER, n_hsi=-1, n_aux=1, center=[], scale=[])
@example(kind=model_file.PRETRAINED, n_hsi=6, n_aux=1, center={"a": 1}, scale="7")
def test_band_counts_and_normalisation_that_disagree_are_refused(target, kind, n_hsi, n_aux, center,
                                                                 scale):
    tensors, document, _data = originals()[kind]
    normalization = {**document["normalization"], "center": center, "scale": scale}
    text = json.dumps({**document, "n_hsi": n_hsi, "n_aux": n_aux, "normalization": normalization})
    read_every_way(_write_model(target, tensors, text))


@settings(FUZZ, max_examples=100)
@given(classes=st.lists(st.fixed_dictionaries({"value": st.integers(min_value=-2, max_value=2 ** 40) | SCALARS,
                                               "name": st.text(max_size=8) | SCALARS,
                                               "color": st.sampled_from(["#00ff00", "#ABCDEF"]) | SCALARS})
                        | JSON, max_size=5) | JSON)
@example(classes=[{"value": 1, "name": "water", "color": "#0000ff"}, "trees"])
@example(classes=[{"value": 1, "name": "water", "color": "#0000ff"}, {"value": 1, "name": "trees", "color": "#00ff00"}])
@example(classes=[{"value": 1.5, "name": None, "color": 7}, {"value": 2 ** 40, "name": "b", "color": "#00ff00"}])
def test_any_list_of_classes_gives_a_model_or_a_clear_error(target, classes):
    tensors, document, _data = originals()[model_file.CLASSIFIER]
    head = {name: tensor for name, tensor in tensors.items()}
    if isinstance(classes, list):
        head["head.1.weight"] = torch.zeros(len(classes), TINY.dim)
        head["head.1.bias"] = torch.zeros(len(classes))
    read_every_way(_write_model(target, head, json.dumps({**document, "classes": classes})))


def test_a_header_length_that_starts_like_a_pickle_is_still_a_model(target):
    """A safetensors file starts with its header length; a first byte 0x80 is no pickle."""
    tensors, document, _data = originals()[model_file.CLASSIFIER]
    padding = 0
    while True:
        data = safetensors_bytes(tensors, metadata={model_file.METADATA_KEY: json.dumps({**document,
                                                                                         "note": "x" * padding})})
        if data[0] == 0x80:
            break
        padding += 1
    assert read_every_way(_write_bytes(target, data))[1] is not None


def test_safetensors_bytes_of_another_dtype_load_as_float32(target):
    """Weights stored in half precision are still the weights the metadata describes."""
    tensors, document, _data = originals()[model_file.CLASSIFIER]
    half = {name: tensor.half() for name, tensor in tensors.items()}
    data = safetensors_bytes(half, metadata={model_file.METADATA_KEY: json.dumps(document)})
    classifier = read_every_way(_write_bytes(target, data))[1]
    assert classifier is not None
    restored = classifier.model.state_dict()
    assert all(restored[name].dtype == torch.float32 for name in tensors)
    assert torch.equal(restored["head.1.weight"], tensors["head.1.weight"].half().float())
