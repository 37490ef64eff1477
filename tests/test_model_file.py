import json
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from model_core import model_file
from model_core.config import PRESETS
from model_core.errors import ModelFileError
from model_core.loading import load_classifier, load_pretrained
from model_core.model import SSMAE, SSMAEClassifier
from model_core.names import Names
from model_core.preprocessing import Normalizer

from conftest import ROOT

TINY = PRESETS["tiny"]


def description(n_hsi=6, n_aux=1):
    normalizer = Normalizer(center=np.arange(n_hsi + n_aux, dtype=float), scale=np.full(n_hsi + n_aux, 2.0))
    return {"preset": "tiny", "config": TINY.to_dict(), "patch": TINY.patch, "n_hsi": n_hsi,
            "n_aux": n_aux, "band_names": [f"b{i}" for i in range(n_hsi + n_aux)],
            "wavelengths": [400.0 + 10 * i for i in range(n_hsi)], "hsi_layer": "hsi",
            "aux_layers": ["dsm"], "normalization": normalizer.to_dict()}


@pytest.fixture
def classifier_file(tmp_path):
    torch.manual_seed(0)
    model = SSMAEClassifier(TINY, 6, 1, 3)
    path = str(tmp_path / "classifier.safetensors")
    classes = [{"value": v, "name": n, "color": c}
               for v, n, c in [(1, "water", "#0000ff"), (2, "trees", "#00ff00"), (5, "roads", "#808080")]]
    model_file.save(path, model.state_dict(), {**description(), "kind": model_file.CLASSIFIER,
                                               "classes": classes})
    return path, model


@pytest.fixture
def pretrained_file(tmp_path):
    torch.manual_seed(1)
    model = SSMAE(TINY, 6, 1)
    path = str(tmp_path / "pretrained.safetensors")
    model_file.save(path, model.state_dict(), {**description(), "kind": model_file.PRETRAINED,
                                               "masking": {"strategy": "mrs"}})
    return path, model


def test_a_model_file_replaced_while_it_is_read_is_said_and_not_mixed(classifier_file, pretrained_file, tmp_path):
    """Red team of 2026-12-05: a fine-tuning finishing on MODEL's name while a classification read
    it gave the statistics and classes of one classifier with the weights of the other: a map 35 %
    right, without a word."""
    path, _model = classifier_file
    first = model_file.read_metadata(path, [model_file.CLASSIFIER])
    torch.manual_seed(7)
    other = dict(first, classes=first["classes"][:2])  # another classifier of the same bands
    model_file.save(str(tmp_path / "other.safetensors"), SSMAEClassifier(TINY, 6, 1, 2).state_dict(),
                    {key: value for key, value in other.items() if key not in ("format", "format_version")})
    os.replace(tmp_path / "other.safetensors", path)
    with pytest.raises(ModelFileError, match=r"changed while this run was reading it \(another run wrote it\?\)\. "
                                             r"Run again once it is written\.$"):
        load_classifier(path, 6, 1, metadata=first)
    assert len(load_classifier(path, 6, 1).classes) == 2


def test_a_saved_classifier_loads_back_tensor_for_tensor(classifier_file):
    path, model = classifier_file
    loaded = load_classifier(path, 6, 1)
    original = model.state_dict()
    restored = loaded.model.state_dict()
    assert set(original) == set(restored)
    for name, tensor in original.items():
        assert torch.equal(tensor, restored[name]), name
    assert [c["name"] for c in loaded.classes] == ["water", "trees", "roads"]
    assert np.array_equal(loaded.normalizer.center, np.arange(7))
    meta = loaded.metadata
    assert meta["format"] == "mrs-ssmae" and meta["format_version"] == model_file.FORMAT_VERSION
    assert meta["wavelengths"][:2] == [400.0, 410.0] and meta["preset"] == "tiny"
    assert not loaded.model.training


def test_a_pretraining_file_gives_its_encoder(pretrained_file):
    path, model = pretrained_file
    pretrained = load_pretrained(path, 6, 1)
    for name, tensor in model.encoder.state_dict().items():
        assert torch.equal(pretrained.encoder_state[name], tensor)
    assert pretrained.config == TINY


def test_kinds_are_not_interchangeable_and_the_caller_names_the_steps(classifier_file, pretrained_file):
    with pytest.raises(ModelFileError, match=r"^The model file: .* is a pretraining model \(made by pretraining\), "
                                             r"but a trained classifier .* is needed here; give it to fine-tuning "
                                             r"as the pretrained model\.$"):
        load_classifier(pretrained_file[0])
    names = Names(finetune="mrs:finetune", classify="mrs:classify", pretrained="PRETRAINED")
    with pytest.raises(ModelFileError, match=r"^MODEL: .* is a pretraining model .* a trained classifier"
                                             r" .* is needed here; give it to mrs:finetune as PRETRAINED\.$"):
        load_classifier(pretrained_file[0], what="MODEL", names=names)
    with pytest.raises(ModelFileError, match=r"^PRETRAINED: .* is a trained classifier .* but a pretraining"
                                             r" model .* is needed here; use it with mrs:classify\.$"):
        load_pretrained(classifier_file[0], what="PRETRAINED", names=names)


def test_a_model_for_other_band_counts_is_refused_naming_both(classifier_file):
    with pytest.raises(ModelFileError) as caught:
        load_classifier(classifier_file[0], 63, 2)
    message = str(caught.value)
    assert "made for 6 HSI bands and 1 SAR/LiDAR band" in message
    assert "the layers give 63 HSI bands and 2 SAR/LiDAR bands" in message
    assert "HSI 'hsi'" in message and "'dsm'" in message


@pytest.mark.parametrize("content,said", [
    (b"these are not tensors", "is a text file, not a model file"),
    (b"<!DOCTYPE html>\n<html><body>Sign in to download</body></html>\n", "is a text file, not a model file"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1234\n",
     "is a Git LFS pointer, not the model file itself \\(fetch it with 'git lfs pull'\\)"),
    (b"", "is empty \\(0 bytes\\)"),
])
def test_a_file_that_is_not_a_model_is_said_to_be_what_it_is(tmp_path, content, said):
    """The library's 'header too large' told an analyst nothing (red team of 2026-12-04)."""
    path = tmp_path / "notes.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=f"^The model file: '{path}' {said}. Choose a model file"):
        load_classifier(str(path))


def test_a_model_file_one_may_not_read_is_said_to_be_so(classifier_file, monkeypatch):
    """It ended in a traceback (red team of 2026-12-04). The tests run as root, who may read any
    file, so the permission is denied by `os.access`."""
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ModelFileError, match=r"^The model file: '.*' cannot be read \(permission denied\)\. Choose"):
        load_classifier(classifier_file[0])


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(ModelFileError, match="a safetensors file but not an MRS model file"):
        load_classifier(str(plain))
    with pytest.raises(ModelFileError, match="does not exist"):
        load_classifier(str(tmp_path / "missing.safetensors"))


@pytest.mark.parametrize("keep, said", [(7, r"is too short to be a model file \(7 bytes\)"),
                                        (100, r"is truncated: shorter than its header says"),
                                        (-1, r"is truncated: [\d,]+ bytes shorter than its header says")])
def test_a_truncated_model_is_refused(classifier_file, tmp_path, keep, said):
    """The library's own words ('invalid header length') told an analyst nothing (red team of 2026-12-04)."""
    data = open(classifier_file[0], "rb").read()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[:keep] if keep >= 0 else data[:len(data) // 2])
    with pytest.raises(ModelFileError, match=said):
        load_classifier(str(cut))


@pytest.mark.parametrize("added, said", [(1000, "1,000 bytes were"), (1, "1 byte was")])
def test_a_model_with_bytes_added_at_its_end_is_said_to_be_longer_than_its_header_says(classifier_file, tmp_path,
                                                                                       added, said):
    """A helper's red team of 2026-12-05: 1,000 bytes appended were said to make it 'truncated'; one was
    '1 bytes were added' (a helper's mutation audit of 2026-12-06)."""
    padded = tmp_path / "padded.safetensors"
    padded.write_bytes(open(classifier_file[0], "rb").read() + bytes(added))
    with pytest.raises(ModelFileError, match=rf"is longer than its header says: {said} added at its end, or it "
                                             r"is damaged\. Re-create it, or copy it again\.$"):
        load_classifier(str(padded))


def test_a_raster_renamed_as_a_model_file_is_said_to_be_no_model_file(tmp_path):
    renamed = tmp_path / "map.safetensors"
    renamed.write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    with pytest.raises(ModelFileError, match=r"is no model file: it does not begin with a safetensors header"):
        load_classifier(str(renamed))


def test_another_format_version_is_refused(classifier_file, tmp_path):
    tensors, meta = model_file.load(classifier_file[0], [model_file.CLASSIFIER])
    meta["format_version"] = 99
    path = str(tmp_path / "future.safetensors")
    save_file(tensors, path, metadata={"mrs": json.dumps(meta)})
    with pytest.raises(ModelFileError, match="format version 99; this plugin .* reads version 1"):
        load_classifier(path)


@pytest.mark.parametrize("kind,said", [(None, "records no kind of model"), ("weird", "is of unknown kind 'weird'")])
def test_a_model_of_no_or_an_unknown_kind_is_said_so(classifier_file, tmp_path, kind, said):
    """A helper's red team of 2026-12-05: a file without its kind was 'of unknown kind None'."""
    tensors, meta = model_file.load(classifier_file[0], [model_file.CLASSIFIER])
    meta.pop("kind")
    meta.update({} if kind is None else {"kind": kind})
    path = str(tmp_path / "kindless.safetensors")
    save_file(tensors, path, metadata={"mrs": json.dumps(meta)})
    with pytest.raises(ModelFileError, match=re.escape(f"'{path}' {said}, but a trained classifier")):
        load_classifier(path)


def test_weights_that_do_not_match_the_description_are_refused(classifier_file, tmp_path):
    tensors, meta = model_file.load(classifier_file[0], [model_file.CLASSIFIER])
    tensors["head.1.weight"] = torch.zeros(9, 9)
    path = str(tmp_path / "odd.safetensors")
    save_file(tensors, path, metadata={"mrs": json.dumps(meta)})
    with pytest.raises(ModelFileError, match="does not hold the weights its metadata describes"):
        load_classifier(path)


def with_a_sparse_extra_tensor(source: str, path: str, elements: int) -> str:
    """`source` with one more float32 tensor of `elements` zeros, stored as a hole (sparse): gigabytes
    the file system does not hold, which a reader would still have to allocate."""
    with open(source, "rb") as handle:
        length = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(length))
        data = handle.read()
    header["zzz_extra"] = {"dtype": "F32", "shape": [elements], "data_offsets": [len(data), len(data) + 4 * elements]}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + data)
        handle.truncate(8 + len(text) + len(data) + 4 * elements)
    return path


def test_a_tensor_the_model_has_no_place_for_is_refused_before_any_tensor_is_read(classifier_file, pretrained_file,
                                                                                 tmp_path, monkeypatch):
    """Red team of 2026-12-04: a 1.6 GB sparse extra tensor was read whole (4.6 GB of memory) before
    the file was refused."""
    read = []
    real = model_file.safe_open

    def recording(*args, **kwargs):
        handle = real(*args, **kwargs)
        return type("Recording", (), {"__getattr__": lambda self, name: getattr(handle, name),
                                      "get_tensor": lambda self, name: read.append(name) or handle.get_tensor(name)})()

    monkeypatch.setattr(model_file, "safe_open", recording)
    huge = with_a_sparse_extra_tensor(classifier_file[0], str(tmp_path / "extra.safetensors"), 400_000_000)
    with pytest.raises(ModelFileError, match=r"does not hold the weights its metadata describes \(unexpected "
                                             r"'zzz_extra'\)"):
        load_classifier(huge)
    assert read == []
    pretrained = with_a_sparse_extra_tensor(pretrained_file[0], str(tmp_path / "pre.safetensors"), 400_000_000)
    encoder = load_pretrained(pretrained).encoder_state  # a tensor outside the encoder is not read at all
    tensors, meta = model_file.load(pretrained_file[0], [model_file.PRETRAINED])
    tensors["encoder.junk"] = torch.zeros(2)
    save_file(tensors, str(tmp_path / "junk.safetensors"), metadata={"mrs": json.dumps(meta)})
    with pytest.raises(ModelFileError, match=r"\(unexpected 'encoder.junk'\)"):
        load_pretrained(str(tmp_path / "junk.safetensors"))
    assert "zzz_extra" not in read and set(encoder) == set(pretrained_file[1].encoder.state_dict())


def test_a_model_file_name_that_is_not_utf8_is_said_to_be_so_not_damaged(classifier_file, tmp_path):
    """Red team of 2026-12-04: an intact file with a Latin-1 name was 'truncated or damaged'."""
    latin = os.path.join(os.fsencode(str(tmp_path)), b"mod\xe8le.safetensors")
    os.link(classifier_file[0], latin)
    with pytest.raises(ModelFileError, match=r"^MODEL: the file name .*mod\\xe8le.safetensors is not valid UTF-8 text"):
        load_classifier(os.fsdecode(latin), what="MODEL")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_crafted_to_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    for name, payload in [("evil.safetensors", pickle.dumps(_RunsCode(str(marker)))),
                          ("evil.pt", None)]:
        path = tmp_path / name
        if payload is None:
            torch.save({"x": _RunsCode(str(marker))}, str(path))
        else:
            path.write_bytes(payload)
        with pytest.raises(ModelFileError, match="pickle or PyTorch archive.*it was not read"):
            load_classifier(str(path))
    assert not marker.exists()


def test_a_model_zipped_to_be_sent_is_said_to_be_a_zip_archive_not_a_pickle(tmp_path):
    """A helper's red team of 2026-12-06: a classifier zipped as a colleague mails it was said to be a
    pickle that can run code; a PyTorch archive (a pickle inside) still is."""
    import zipfile

    torch.save({"x": torch.zeros(2)}, str(tmp_path / "weights.pt"))
    for name, entries in (("zipped.safetensors", {"model.safetensors": b"\0" * 16}),
                          ("upper.safetensors", {"MODEL.SAFETENSORS": b"\0" * 16}),
                          ("other.safetensors", {"notes.txt": b"hello"})):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for entry, data in entries.items():
                archive.writestr(entry, data)
    with pytest.raises(ModelFileError) as refused:
        load_classifier(str(tmp_path / "zipped.safetensors"))
    assert str(refused.value).endswith("is a zip archive, not an MRS model file: unzip it and give the model file it "
                                       "holds, model.safetensors.")
    with pytest.raises(ModelFileError, match="unzip it and give the model file it holds, MODEL.SAFETENSORS"):
        load_classifier(str(tmp_path / "upper.safetensors"))
    with pytest.raises(ModelFileError, match="is a zip archive, not an MRS model file: it holds no .safetensors file"):
        load_classifier(str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelFileError, match="pickle or PyTorch archive.*it was not read"):
        load_classifier(str(tmp_path / "weights.pt"))


def test_every_kind_of_tensor_is_written_as_safetensors_reads_it(tmp_path):
    """The file is written tensor by tensor by our own code: safetensors must read back every
    tensor bit for bit, whatever its type, shape (scalar, empty) or layout (a strided view)."""
    torch.manual_seed(0)
    matrix = torch.randn(6, 5)
    tensors = {"f32": torch.randn(3, 4), "bf16": torch.randn(7).bfloat16(), "f16": torch.randn(2, 2).half(),
               "f64": torch.randn(3).double(), "i64": torch.arange(5), "i32": torch.arange(4, dtype=torch.int32),
               "u8": torch.arange(9, dtype=torch.uint8), "bool": torch.tensor([True, False, True]),
               "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3), "view": matrix.t()[1:4],
               "parameter": torch.nn.Parameter(torch.randn(2, 3))}
    path = str(tmp_path / "all.safetensors")
    model_file.save(path, tensors, {"kind": model_file.PRETRAINED, "note": "é"})
    read = load_file(path)
    assert sorted(read) == sorted(tensors)
    for name, tensor in tensors.items():
        assert read[name].dtype == tensor.dtype and read[name].shape == tensor.shape, name
        assert torch.equal(read[name], tensor.detach()), name
    with safe_open(path, framework="pt") as handle:
        assert json.loads(handle.metadata()[model_file.METADATA_KEY])["note"] == "é"
    with open(path, "rb") as handle:
        assert struct.unpack("<Q", handle.read(8))[0] % 8 == 0
    with pytest.raises(ValueError, match="cannot hold the tensor 'c' of type torch.complex64"):
        model_file.save(path, {"c": torch.zeros(2, dtype=torch.complex64)}, {"kind": model_file.PRETRAINED})
    assert torch.equal(load_file(path)["f32"], tensors["f32"])


def test_saving_over_a_model_is_atomic(classifier_file):
    path, _model = classifier_file
    before = open(path, "rb").read()

    class Boom(Exception):
        pass

    class Exploding(dict):
        def items(self):
            raise Boom()

    with pytest.raises(Boom):
        model_file.save(path, Exploding(), {"kind": model_file.CLASSIFIER})
    assert open(path, "rb").read() == before
    assert os.listdir(os.path.dirname(path)) == ["classifier.safetensors"]


def test_a_process_killed_while_writing_leaves_the_old_model_or_the_new_one(tmp_path):
    """SIGKILL a process that keeps rewriting a big model file; the file always loads."""
    path = tmp_path / "model.safetensors"
    script = textwrap.dedent(f"""
        import sys, torch
        sys.path.insert(0, {str(ROOT)!r})
        from model_core import model_file
        big = {{"w": torch.randn(4_000_000)}}
        round = 0
        while True:
            big["w"][0] = round
            model_file.save({str(path)!r}, big, {{"kind": "pretrained", "round": round}})
            round += 1
            print(round, flush=True)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):
            process.stdout.readline()
    finally:
        process.kill()
        process.wait()
    tensors, meta = model_file.load(str(path), [model_file.PRETRAINED])
    assert tensors["w"].shape == (4_000_000,)
    assert tensors["w"][0].item() == meta["round"]
    leftovers = [name for name in os.listdir(tmp_path) if name != "model.safetensors"]
    assert all(name.startswith(".model.safetensors.") and ".partial" in name for name in leftovers)
    model_file.save(str(path), tensors, {"kind": "pretrained", "round": -1})
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_the_header_length_prefix_cannot_make_the_reader_allocate_wildly(tmp_path):
    path = tmp_path / "huge-header.safetensors"
    path.write_bytes(struct.pack("<Q", 2 ** 62) + b"{}")
    with pytest.raises(ModelFileError, match="is truncated: shorter than its header says"):
        load_classifier(str(path))


@pytest.mark.parametrize("kind,existing,said", [
    (model_file.PRETRAINED, "classifier", "is a trained classifier \\(made by mrs:finetune\\); writing a pretraining model"),
    (model_file.CLASSIFIER, "pretrained", "is a pretraining model \\(made by mrs:pretrain\\); writing a trained classifier"),
    (model_file.CLASSIFIER, "text", "exists and is not an MRS model file; writing a trained classifier"),
    (model_file.PRETRAINED, "foreign", "exists and is not an MRS model file; writing a pretraining model"),
])
def test_a_model_file_is_not_written_over_a_file_of_another_kind(classifier_file, pretrained_file, tmp_path, kind,
                                                                 existing, said):
    """A trained classifier, or another program's weights, was replaced by a pretraining model
    without a word (red team of 2026-12-04)."""
    names = Names(pretrain="mrs:pretrain", finetune="mrs:finetune")
    paths = {"classifier": classifier_file[0], "pretrained": pretrained_file[0],
             "text": str(tmp_path / "notes.safetensors"), "foreign": str(tmp_path / "foreign.safetensors")}
    (tmp_path / "notes.safetensors").write_text("my notes")
    save_file({"w": torch.zeros(2)}, paths["foreign"])
    before = open(paths[existing], "rb").read()
    with pytest.raises(ModelFileError, match=f"^OUTPUT: '{paths[existing]}' {said} there would destroy it. Choose "
                                             "another file name, or delete that file first.$"):
        model_file.refuse_replacing(paths[existing], kind, "OUTPUT", names)
    assert open(paths[existing], "rb").read() == before


def test_a_model_file_may_replace_one_of_its_kind_damaged_or_newer_an_empty_file_or_nothing(classifier_file,
                                                                                           tmp_path):
    """The readers advise re-creating a damaged or newer model file: writing it again is allowed."""
    (tmp_path / "empty.safetensors").write_bytes(b"")
    data = open(classifier_file[0], "rb").read()
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(data.replace(b'\\"center\\": [0.0, 1.0', b'\\"center\\": [0.0, 7.0', 1))
    newer = tmp_path / "newer.safetensors"
    newer.write_bytes(data.replace(b'\\"format_version\\": 1', b'\\"format_version\\": 9', 1))
    for path in (damaged, newer):
        with pytest.raises(ModelFileError):
            load_classifier(str(path))
    for path in (classifier_file[0], damaged, newer, tmp_path / "empty.safetensors", tmp_path / "new.safetensors"):
        model_file.refuse_replacing(str(path), model_file.CLASSIFIER, "OUTPUT")
    with pytest.raises(ModelFileError, match="is a trained classifier"):
        model_file.refuse_replacing(str(newer), model_file.PRETRAINED, "OUTPUT")


def test_a_changed_bit_in_a_weight_or_a_digit_edited_in_the_header_is_refused_as_damage(classifier_file, tmp_path):
    """safetensors has no checksum: either change gave another map without a word (red team of
    2026-12-04: 18 and 23 % of the pixels)."""
    data = bytearray(open(classifier_file[0], "rb").read())
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    flipped = bytearray(data)
    flipped[8 + length + header["head.1.weight"]["data_offsets"][0] + 3] ^= 0x08
    edited = bytes(data).replace(b'\\"center\\": [0.0, 1.0', b'\\"center\\": [0.0, 7.0', 1)
    assert edited != bytes(data)
    for name, content, part in (("flipped", flipped, "weights"), ("edited", edited, "metadata")):
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(content)
        with pytest.raises(ModelFileError, match=f"^The model file: '{path}' is damaged: its {part} no longer match "
                                                 "the checksum written with them"):
            load_classifier(str(path))
    assert load_classifier(classifier_file[0]).classes


def test_weights_converted_to_half_precision_by_another_tool_are_said_so_not_called_damaged(classifier_file, tmp_path):
    """Red team of 2026-12-05, left then: a classifier re-saved in float16 with its metadata kept was
    'damaged: a byte changed in a copy or on the disk', sending the analyst to copy it again."""
    tensors = load_file(classifier_file[0])
    with safe_open(classifier_file[0], "pt") as handle:
        metadata = handle.metadata()
    path = tmp_path / "half.safetensors"
    save_file({name: tensor.half() for name, tensor in tensors.items()}, str(path), metadata=metadata)
    with pytest.raises(ModelFileError, match=re.escape(
            f"The model file: '{path}' holds float16 weights, not the float32 ones this plugin writes (converted by "
            "another tool?), so they no longer match the checksum written with them. Use the file as this plugin "
            "wrote it, or re-create it.")):
        load_classifier(str(path))


def test_a_file_written_before_checksums_is_read_as_it_is(classifier_file, tmp_path):
    tensors, meta = model_file.load(classifier_file[0], [model_file.CLASSIFIER])
    assert set(meta[model_file.CHECKSUMS]["tensors_sha256"]) == set(tensors)
    meta.pop(model_file.CHECKSUMS)
    path = str(tmp_path / "older.safetensors")
    save_file(tensors, path, metadata={"mrs": json.dumps(meta)})
    assert [item["name"] for item in load_classifier(path).classes] == ["water", "trees", "roads"]


def test_the_weights_digest_is_that_of_the_weights_and_statistics_not_of_when_they_were_written(tmp_path):
    """A pretraining run again into the same weights is the same model for a resumed fine-tuning
    (red team of 2026-12-05); other weights or other statistics are not."""
    tensors = {"w": torch.arange(6.0).reshape(2, 3)}
    normalization = {"method": "x", "center": [0.0], "scale": [1.0]}
    digests = []
    for created, weights, center in (("a", 0.0, 0.0), ("b", 0.0, 0.0), ("a", 1.0, 0.0), ("a", 0.0, 2.0)):
        path = str(tmp_path / f"{len(digests)}.safetensors")
        model_file.save(path, {"w": tensors["w"] + weights}, {
            "kind": model_file.PRETRAINED, "created": created, "normalization": {**normalization, "center": [center]}})
        digests.append(model_file.weights_digest(model_file.read_metadata(path, [model_file.PRETRAINED])))
    assert digests[0] == digests[1] and len(set(digests)) == 3
    assert model_file.weights_digest({"kind": model_file.PRETRAINED}) is None


@pytest.mark.parametrize("given, span, advice", [
    # Red team of 2026-12-05: a PRISMA-style cube in descending order was told to use another sensor.
    ([985.0 - 30 * i for i in range(20)], "415-985 nm, descending",
     "Its bands are the model's in reverse order: reverse them (gdal_translate -b 20 -b 19 ... -b 1)."),
    # A helper's red team of 2026-12-05: two bands swapped, or all shuffled, were told to use another sensor.
    ([415.0 + 30 * i for i in (0, 1, 3, 2, *range(4, 20))], "415-985 nm, unordered",
     "Its bands are the model's in another order: put them in the model's order (gdal_translate -b 1 -b 2 -b 4 -b 3 "
     f"{' '.join(f'-b {n}' for n in range(5, 21))}; in QGIS, Rearrange bands)."),
    ([0.415 + 0.03 * i for i in range(20)], "0.41-0.98 nm",
     "Its wavelengths are the model's in micrometres: set the layer's wavelength_units to micrometers."),
    ([415000.0 + 30000 * i for i in range(20)], "415000-985000 nm",
     "Its wavelengths are the model's in nanometres, read as micrometres: set the layer's wavelength_units to "
     "nanometers."),
    # Own bad inputs of 2026-12-05: a cube stacked twice, and every band given one wavelength, read as
    # '415-955 nm, unordered' and '500-500 nm, unordered'.
    ([415.0 + 60 * i for i in range(10)] * 2, "415-955 nm, with repeated wavelengths",
     "Use a raster of the sensor and bands the model was trained on."),
    ([500.0] * 20, "500 nm, with repeated wavelengths",
     "Use a raster of the sensor and bands the model was trained on."),
    ([499.8 + 0.025 * i for i in range(20)], "499.8-500.3 nm",  # not '500 nm', as if all were one (review)
     "Use a raster of the sensor and bands the model was trained on."),
])
def test_wavelengths_unlike_the_model_s_say_the_range_and_what_to_change(given, span, advice):
    from model_core.hooks import Hooks
    from model_core.loading import check_wavelengths

    trained = [415.0 + 30 * i for i in range(20)]
    with pytest.raises(ModelFileError) as refused:
        check_wavelengths({"wavelengths": trained}, given, "hsi", "model.safetensors", "MODEL", Hooks())
    assert str(refused.value).startswith("MODEL: 'model.safetensors' was trained on bands at 415-985 nm, but the "
                                         f"hyperspectral layer 'hsi' has its bands at {span} (band ")
    assert str(refused.value).endswith(advice)


@pytest.mark.parametrize("given,expected", [
    ([850.0, 650.0, 550.0, 450.0], ["MODEL: 'm.safetensors' records no wavelengths (its layer gave none, or it was "
                                    "written before descriptions were read as wavelengths), so whether the bands of 'hsi' (450-850 nm, descending) are its bands, in "
                                    "the same order, cannot be checked: make sure they are."]),
    (None, [])])
def test_a_model_without_wavelengths_warns_that_a_layer_s_cannot_be_checked(given, expected):
    """A helper's red team of 2026-12-05: a classifier trained on a layer without wavelengths took a
    copy whose bands were reversed (its wavelengths descending) with no word of them; OA 82.5 -> 10.5 %."""
    from model_core.hooks import Hooks
    from model_core.loading import check_wavelengths

    warnings = []
    check_wavelengths({"wavelengths": None}, given, "hsi", "m.safetensors", "MODEL", Hooks(warn=warnings.append))
    assert warnings == expected
    warnings.clear()  # a list of another length than its bands is none (a helper's red team of 2026-12-06)
    check_wavelengths({"wavelengths": [1.0, 2.0], "n_hsi": 4}, given, "hsi", "m.safetensors", "MODEL",
                      Hooks(warn=warnings.append))
    assert warnings == expected


@pytest.mark.parametrize("counts,layers,expected", [
    ([2, 4], ["lidar", "sar"], None),
    ([4, 2], ["sar", "lidar"], "refused"),
    ([6], ["stack"], "MODEL: 'm.safetensors' was trained on SAR/LiDAR layers of 2 and 4 bands ('lidar', 'sar'), but "
                     "those given have 6 bands ('stack'): make sure their bands are the model's, in its order; else "
                     "the map will be wrong."),
    ([2, 4], ["sar", "lidar"], "MODEL: 'm.safetensors' was trained on SAR/LiDAR layers of 2 and 4 bands ('lidar', "
                               "'sar'), but those given are named in another order ('sar', 'lidar'): make sure their "
                               "bands are the model's, in its order; else the map will be wrong."),
])
def test_auxiliary_layers_split_otherwise_than_the_model_s_are_refused_or_warned_of(counts, layers, expected):
    """A helper's red team of 2026-12-05: a model trained on [lidar (2 bands), sar (4)] given [sar, lidar]
    without band descriptions mapped 6.5 % right (80.9 % in order) with a vague warning of values."""
    from model_core.errors import ModelFileError
    from model_core.hooks import Hooks
    from model_core.loading import check_aux_layers

    metadata = {"aux_band_counts": [2, 4], "aux_layers": ["lidar", "sar"]}
    warnings = []
    if expected == "refused":
        with pytest.raises(ModelFileError) as refused:
            check_aux_layers(metadata, counts, layers, "m.safetensors", "MODEL", Hooks(warn=warnings.append))
        assert str(refused.value) == (
            "MODEL: 'm.safetensors' was trained on SAR/LiDAR layers of 2 and 4 bands ('lidar', 'sar'), but those given "
            "are these layers in another order ('sar', 'lidar'), so each band would be taken for another. Give them "
            "in the order it was trained on: 'lidar', 'sar'.")
        return
    check_aux_layers(metadata, counts, layers, "m.safetensors", "MODEL", Hooks(warn=warnings.append))
    assert warnings == ([expected] if expected else [])
    check_aux_layers({"aux_layers": ["lidar", "sar"]}, [4, 2], ["sar", "lidar"], "m.safetensors", "MODEL",
                     Hooks(warn=warnings.append))  # a model from before the counts were recorded: nothing to compare
    assert warnings == ([expected] if expected else [])


@pytest.mark.parametrize("sides,expected", [
    ((1.4, 1.4), []),
    ((1.2, 0.8), []),
    ((0.2, 0.2), ["MODEL: 'm.safetensors' was trained on pixels of about 1 m, but the hyperspectral layer 'hsi' has "
                  "pixels of about 0.2 m: its 7 x 7 pixels around each pixel then cover 1.4 m instead of 7 m on the "
                  "ground, and the map may be worse. Resample the layers to about 1 m (gdalwarp -tr), or train a model "
                  "on pixels of this size."]),
    # oblong pixels of the model's mean size were not warned of (a helper's red team of 2026-12-05: 68 % agreement)
    ((2.0, 0.5), ["MODEL: 'm.safetensors' was trained on pixels of about 1 m, but the hyperspectral layer 'hsi' has "
                  "pixels of about 2 m across by 0.5 m down: its 7 x 7 pixels around each pixel then cover 14 m by "
                  "3.5 m instead of 7 m on the ground, and the map may be worse. Resample the layers to about 1 m "
                  "(gdalwarp -tr), or train a model on pixels of this size."]),
    ((1.0, 1.6), ["MODEL: 'm.safetensors' was trained on pixels of about 1 m, but the hyperspectral layer 'hsi' has "
                  "pixels of about 1 m across by 1.6 m down: its 7 x 7 pixels around each pixel then cover 7 m by "
                  "11 m instead of 7 m on the ground, and the map may be worse. Resample the layers to about 1 m "
                  "(gdalwarp -tr), or train a model on pixels of this size."]),
    (None, [])])
def test_a_layer_of_other_pixel_sizes_than_the_model_s_is_warned_of(sides, expected):
    """A helper's red team of 2026-12-05: a model of 1 m pixels classified 0.2 m ones without a word."""
    from model_core.hooks import Hooks
    from model_core.loading import check_pixel_size

    warnings = []
    check_pixel_size({"pixel_size_m": 1.0, "pixel_sides_m": [1.0, 1.0], "patch": 7}, sides, "hsi", "m.safetensors",
                     "MODEL", Hooks(warn=warnings.append))
    check_pixel_size({"patch": 7}, (0.2, 0.2), "hsi", "m.safetensors", "MODEL",
                     Hooks(warn=warnings.append))  # not recorded
    # a model of oblong pixels meets its own scene without a word (a review of 2026-12-05: warned of), and one
    # that records their mean alone (before the night of 2026-12-05) is compared by the mean
    own = (2.0, 0.5)
    check_pixel_size({"pixel_size_m": 1.0, "pixel_sides_m": list(own), "patch": 7}, own, "hsi", "m.safetensors",
                     "MODEL", Hooks(warn=warnings.append))
    check_pixel_size({"pixel_size_m": 1.0, "patch": 7}, own, "hsi", "m.safetensors", "MODEL",
                     Hooks(warn=warnings.append))
    assert warnings == expected
    from model_core.loading import metres

    assert [metres(value) for value in (0.2, 1.0, 7.5, 9.96, 99.6, 1200.0)] == ["0.2 m", "1 m", "7.5 m", "10 m",
                                                                                "100 m", "1,200 m"]


def test_reading_a_model_file_s_shapes_imports_no_compiler_and_leaves_nothing_in_tmpdir(tmp_path):
    """Noticed in the fifth session of 2026-12-05, traced in the session of 2026-12-06: the shapes
    of a model file's weights, read on PyTorch's meta device, computed the fixed embeddings and the
    PCA's identity there, which imported torch._dynamo (1.3 s per model file, before every map and
    in the dialogs' checks) and left an empty torchinductor folder in TMPDIR."""
    import subprocess
    import sys

    code = ("import sys; from mrs.model_core import loading, model; from mrs.model_core.config import PRESETS; "
            "shapes = loading._shapes(lambda: model.SSMAEClassifier(PRESETS['paper'], 63, 2, 7)); "
            "loading._shapes(lambda: model.SSMAE(PRESETS['paper'], 63, 2)); "
            "print(len(shapes), any(name.startswith('torch._dynamo') for name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(tmp_path)})
    assert (done.returncode, done.stdout) == (0, "78 False\n"), done.stderr
    assert os.listdir(tmp_path) == []

