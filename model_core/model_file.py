"""Model files: one safetensors file per model, self-described by JSON metadata.

Reading never executes anything from the file: safetensors holds raw tensors and
a JSON header, nothing else, and pickles (PyTorch's `.pt`/`.pth`) are recognised
and refused before any parsing. Writing is atomic.

The JSON document under the header key "mrs" always holds:
- `format` ("mrs-ssmae"), `format_version`, `software_version`, `kind`
  ("pretrained", "classifier" or "checkpoint"), `created` (UTC, ISO 8601);
- `preset` and `config` (a `ModelConfig` as a dict), `patch`;
- `n_hsi`, `n_aux`, `band_names`, `band_units` (GDAL's unit types, '' where none; not in files written
  before them), `wavelengths` (nm or null), `hsi_layer`, `aux_layers`;
- `normalization` (see `preprocessing.Normalizer.to_dict`);
- `masking` (`strategy`, `spectral_ratio`, `spatial_ratio`) for pretraining;
- `classes` (`value`, `name`, `color`) for classifiers, and what they were trained on: `trained_on`
  (the labels' layer), `trained_pixels` and, with a validation fraction, `validation_pixels` (see
  `mrs_qgis_plugin.training_pixels`); where made from a
  pretrained model, `pretrained_from` and `finetuned_values` (the fine-tuning pixels' statistics);
- `training` (settings, seed, per-epoch `history`, `best_epoch`, ...);
- `checksums` (see `CHECKSUMS`; not in files written before them).
A checkpoint also holds the optimizer, the schedule position and the RNG state.
"""

import hashlib
import json
import os
import struct
from datetime import datetime, timezone
from typing import Any, BinaryIO, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from safetensors import SafetensorError, safe_open

from . import __version__
from .atomic import atomic_output
from .paths import check_decodable, not_a_readable_file
from .errors import ModelFileError
from .names import Names, agreeing, joined, plural

FORMAT = "mrs-ssmae"
FORMAT_VERSION = 1
METADATA_KEY = "mrs"
PRETRAINED, CLASSIFIER, CHECKPOINT = "pretrained", "classifier", "checkpoint"
KINDS = (PRETRAINED, CLASSIFIER, CHECKPOINT)


_KIND_NAMES = {PRETRAINED: "a pretraining model", CLASSIFIER: "a trained classifier", CHECKPOINT: "a training checkpoint"}


def kind_label(kind: str, names: Names) -> str:
    made_by = {PRETRAINED: f" (made by {names.pretrain})", CLASSIFIER: f" (made by {names.finetune})"}
    return _KIND_NAMES[kind] + made_by.get(kind, "")


def _kind_advice(kind: str, names: Names) -> str:
    return {PRETRAINED: f"give it to {names.finetune} as {names.pretrained}",
            CLASSIFIER: f"use it with {names.classify}",
            CHECKPOINT: f"give it as {names.resume} to the run that wrote it"}[kind]
_PICKLE_SIGNATURES = (b"\x80", b"PK\x03\x04")
_HEADER_START = 8


CHECKSUMS = "checksums"
"""The metadata entry holding SHA-256 digests of each tensor's bytes and of the rest of the
metadata: safetensors has none, so a changed bit in a weight (a damaged copy) or a digit edited
in the header gave another map without a word (red team of 2026-12-04: 18 and 23 % of the
pixels). A tensor's digest is checked when it is read, so tensors a reader leaves alone are
neither read nor hashed. Files written before there were any are read as they are."""


def _metadata_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the metadata but its checksums, as canonical JSON of what reading it gives back
    (whole-number keys become text, tuples lists), so that the writer and a reader agree."""
    return _json_digest(json.loads(json.dumps({key: value for key, value in document.items() if key != CHECKSUMS})))


def _json_digest(value: Any) -> str:
    """SHA-256 of `value` as canonical JSON."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _tensor_bytes(tensor: torch.Tensor) -> memoryview:
    """A tensor's bytes as the file holds them."""
    return tensor.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().data


def weights_digest(metadata: Dict[str, Any]) -> Optional[str]:
    """A digest of a model file's weights (its tensors' digests) and the statistics its inputs
    are normalised with: the same for a training run again into the same model, whenever it was
    made. None for a file written before tensor digests."""
    tensors = (metadata.get(CHECKSUMS) or {}).get("tensors_sha256")
    if not isinstance(tensors, dict):
        return None
    return _json_digest({"tensors": tensors, "normalization": metadata.get("normalization")})


def _tensor_digest(tensor: torch.Tensor) -> str:
    return hashlib.sha256(_tensor_bytes(tensor)).hexdigest()


def save(path: str, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]) -> None:
    """Write tensors and metadata (which must name its `kind`) to `path` atomically, with their checksums."""
    if metadata.get("kind") not in KINDS:
        raise ValueError(f"A model file needs a kind among {sorted(KINDS)}.")
    document = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "software_version": __version__,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **metadata}
    document[CHECKSUMS] = {"tensors_sha256": {name: _tensor_digest(tensor) for name, tensor in tensors.items()},
                           "metadata_sha256": _metadata_digest(document)}
    with atomic_output(path, ".safetensors") as temporary, open(temporary, "wb") as handle:
        _write_safetensors(handle, tensors, {METADATA_KEY: json.dumps(document)})


_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
           torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
           torch.bool: "BOOL"}
"""safetensors' names of the tensor types a model file holds."""


def _write_safetensors(handle: BinaryIO, tensors: Mapping[str, torch.Tensor], metadata: Dict[str, str]) -> None:
    """The safetensors format (header length, JSON header, raw little-endian data) written
    by Python tensor by tensor: saving holds no copy of the file in memory (safetensors'
    `save` holds two, 180 MB for a `paper` checkpoint), and a failed write (disk full) is
    an OSError that `atomic_output` reports in one sentence."""
    header: Dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, tensor in tensors.items():
        if tensor.dtype not in _DTYPES:
            raise ValueError(f"A model file cannot hold the tensor '{name}' of type {tensor.dtype}.")
        size = tensor.numel() * tensor.element_size()
        header[name] = {"dtype": _DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    handle.write(struct.pack("<Q", len(text)) + text)
    for tensor in tensors.values():
        handle.write(_tensor_bytes(tensor))


def _describe(path: str, what: str) -> str:
    return f"{what}: '{path}'"


def _refuse_pickle(path: str, what: str, names: Names) -> None:
    """Refuse a pickle or zip archive by its signature.

    A safetensors file starts with its header's length, whose first byte may be a pickle's
    0x80, then its JSON header, whose '{' no pickle or zip archive has at that place.
    """
    try:
        with open(path, "rb") as handle:
            start = handle.read(_HEADER_START + 1)
    except OSError:
        return  # `_not_safetensors` says why it cannot be read
    if not (len(start) > _HEADER_START and start.startswith(_PICKLE_SIGNATURES) and start[_HEADER_START:] != b"{"):
        return
    held = _zipped_names(path)
    if held is not None and not any(name.endswith(".pkl") for name in held):
        inside = next((name for name in held if name.lower().endswith(".safetensors")), None)
        raise ModelFileError(
            f"{_describe(path, what)} is a zip archive, not an MRS model file: "
            + (f"unzip it and give the model file it holds, {inside}." if inside else
               f"it holds no .safetensors file. Use a file written by {names.pretrain} or {names.finetune}."))
    raise ModelFileError(
        f"{_describe(path, what)} is a Python pickle or PyTorch archive, not an MRS model "
        "file. Such files can run code when opened, so it was not read. Use a .safetensors "
        f"file written by {names.pretrain} or {names.finetune}.")


def _zipped_names(path: str) -> Optional[List[str]]:
    """The names of the files a zip archive holds (its directory: nothing in it runs), or None
    where it is no readable zip. A PyTorch archive holds a pickle, 'data.pkl'; a model zipped to be
    mailed was said to be one (a helper's red team of 2026-12-06)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None


def _check_document(document: Any, path: str, what: str, kinds: Sequence[str], names: Names) -> Dict[str, Any]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(
            f"{_describe(path, what)} is a safetensors file but not an MRS model file. "
            f"Use a file written by {names.pretrain} or {names.finetune}.")
    version = document.get("format_version")
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{_describe(path, what)} has model file format version {version!r:.20}; this plugin "
            f"({__version__}) reads version {FORMAT_VERSION}. Re-create the model with this "
            "version of the plugin, or use the plugin version that wrote it.")
    kind = document.get("kind")
    if kind not in kinds:
        wanted = " or ".join(kind_label(k, names) for k in kinds)
        known = isinstance(kind, str) and kind in KINDS
        found = (f"is {kind_label(kind, names)}" if known else "records no kind of model" if kind is None
                 else f"is of unknown kind {kind!r:.40}")
        advice = _kind_advice(kind, names) if known else "use a file written by this plugin"
        raise ModelFileError(
            f"{_describe(path, what)} {found}, but {wanted} is needed here; {advice}.")
    return document


def _damaged(path: str, what: str, part: str) -> ModelFileError:
    return ModelFileError(
        f"{_describe(path, what)} is damaged: its {part} no longer match the checksum written with them (a byte "
        "changed in a copy or on the disk, or an edit by hand). Copy it again from where it was made, or re-create "
        "it.")


def _check_metadata(document: Mapping[str, Any], path: str, what: str) -> None:
    """Checks the document's checksums are well formed and its metadata's digest is theirs (a file
    written before there were any passes)."""
    if CHECKSUMS not in document:
        return
    checksums = document[CHECKSUMS]
    if not (isinstance(checksums, dict) and isinstance(checksums.get("tensors_sha256"), dict)
            and all(isinstance(digest, str) for digest in checksums["tensors_sha256"].values())
            and checksums.get("metadata_sha256") == _metadata_digest(document)):
        raise _damaged(path, what, "metadata")


def _check_tensors(tensors: Mapping[str, torch.Tensor], document: Mapping[str, Any], path: str, what: str) -> None:
    """Compares each tensor read with its digest (`CHECKSUMS`; none for a file written before them)."""
    if CHECKSUMS not in document:
        return
    digests = document[CHECKSUMS]["tensors_sha256"]
    if all(digests.get(name) == _tensor_digest(tensor) for name, tensor in tensors.items()):
        return
    converted = sorted({str(tensor.dtype).replace("torch.", "") for tensor in tensors.values()
                        if tensor.is_floating_point() and tensor.dtype != torch.float32})
    if converted:  # another tool's conversion, not damage (red team of 2026-12-05)
        raise ModelFileError(
            f"{_describe(path, what)} holds {joined(converted)} weights, not the float32 ones this plugin "
            "writes (converted by another tool?), so they no longer match the checksum written with them. Use the "
            "file as this plugin wrote it, or re-create it.")
    raise _damaged(path, what, "weights")


def _not_safetensors(path: str) -> Optional[str]:
    """What a file is when its start is no safetensors header (an empty file, a text file such as
    a Git LFS pointer or a web page saved under the model's name), or None: the library's own words
    ('header too large') told an analyst nothing (red team of 2026-12-04)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(256)
            size = handle.seek(0, os.SEEK_END)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if not start:
        return "is empty (0 bytes)"
    if start.startswith(b"version https://git-lfs"):
        return "is a Git LFS pointer, not the model file itself (fetch it with 'git lfs pull')"
    if len(start) >= _HEADER_START and _HEADER_START + struct.unpack("<Q", start[:_HEADER_START])[0] <= size:
        return None
    if all(byte >= 32 or byte in b"\t\n\r" for byte in start):
        return "is a text file, not a model file"
    if len(start) <= _HEADER_START:  # its header's length at most: an 8-byte start was 'no model file'
        return f"is too short to be a model file ({size} bytes)"
    if start[_HEADER_START:_HEADER_START + 1] == b"{":  # a header of its own, longer than the file
        return "is truncated: shorter than its header says (a copy or download that stopped early)"
    return "is no model file: it does not begin with a safetensors header (a raster or archive renamed?)"


def _bytes_beyond_data(path: str) -> int:
    """The bytes of a safetensors file beyond the end of its last tensor's data, which its header
    gives (negative: the bytes missing); 0 when there are none or the header cannot be read."""
    try:
        with open(path, "rb") as handle:
            length = struct.unpack("<Q", handle.read(_HEADER_START))[0]
            header = json.loads(handle.read(length))
            size = handle.seek(0, os.SEEK_END)
        end = max((entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"), default=0)
        return size - _HEADER_START - length - int(end)
    except (OSError, ValueError, struct.error, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return 0


def _open_checked(path: str, what: str, kinds: Sequence[str], names: Names):
    check_decodable(path, what, ModelFileError)
    problem = not_a_readable_file(path)
    if not problem:
        _refuse_pickle(path, what, names)  # said as such, before it is said to be no model file
        problem = _not_safetensors(path)
    if problem:
        raise ModelFileError(f"{_describe(path, what)} {problem}. Choose a model file (.safetensors) made by this plugin.")
    try:
        handle = safe_open(path, framework="pt", device="cpu")
        text = (handle.metadata() or {}).get(METADATA_KEY)
        document = json.loads(text) if text is not None else None
    except (SafetensorError, OSError, ValueError, RecursionError, RuntimeError) as error:  # shrunk while opened
        extra = _bytes_beyond_data(path)
        if extra > 0:  # a helper's red team of 2026-12-05: said to be 'truncated'
            raise ModelFileError(f"{_describe(path, what)} is longer than its header says: {plural(extra, 'byte')} "
                                 f"{agreeing(extra, 'was', 'were')} added at its end, or it is damaged. Re-create it, "
                                 "or copy it again.") from None
        if extra < 0:  # the library's own words before (review of 2026-12-05)
            raise ModelFileError(f"{_describe(path, what)} is truncated: {plural(-extra, 'byte')} shorter than its "
                                 "header says (a copy or download that stopped early). Re-create it, or copy it "
                                 "again.") from None
        raise ModelFileError(
            f"{_describe(path, what)} is not a readable MRS model file; it may be truncated or "
            f"damaged ({error}). Re-create it, or copy it again.") from None
    document = _check_document(document, path, what, kinds, names)
    _check_metadata(document, path, what)
    return handle, document


def _header_document(path: str) -> Any:
    """The metadata document of a safetensors header read as it stands, without any check (a
    damaged or newer model file still tells its kind); None when there is no such header."""
    try:
        with open(path, "rb") as handle:
            length = struct.unpack("<Q", handle.read(_HEADER_START))[0]
            if length > os.path.getsize(path):
                return None
            header = json.loads(handle.read(length))
        return json.loads(header["__metadata__"][METADATA_KEY])
    except (OSError, ValueError, struct.error, KeyError, TypeError, RecursionError):
        return None


def refuse_replacing(path: str, kind: str, what: str, names: Names = Names()) -> None:
    """Refuse to write a model file of `kind` over an existing file of another kind, or over a file
    that is no model file: a classifier, or another program's weights, was replaced by a
    pretraining model without a word (red team of 2026-12-04). A model file of `kind`, damaged or
    of another format version as it may be, is replaced: re-creating it is what its readers advise."""
    if not os.path.exists(path) or (os.path.isfile(path) and os.path.getsize(path) == 0):
        return
    document = _header_document(path) if not not_a_readable_file(path) else None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{_describe(path, what)} exists and is not an MRS model file; writing "
                             f"{_KIND_NAMES[kind]} there would destroy it. Choose another file name, or delete that "
                             "file first.")
    found = document.get("kind")
    if found != kind:
        shown = kind_label(found, names) if found in KINDS else f"an MRS model file of kind {found!r:.40}"
        raise ModelFileError(f"{_describe(path, what)} is {shown}; writing {_KIND_NAMES[kind]} there would destroy "
                             "it. Choose another file name, or delete that file first.")


def read_metadata(path: str, kinds: Sequence[str], what: str = "The model file",
                  names: Names = Names()) -> Dict[str, Any]:
    """The metadata of a model file of one of `kinds`; `what` names the parameter in messages,
    `names` the steps and parameters they mention."""
    return _open_checked(path, what, kinds, names)[1]


def load(path: str, kinds: Sequence[str], what: str = "The model file", names: Names = Names(),
         shapes: Optional[Mapping[str, Tuple[int, ...]]] = None,
         within: str = "", optional: Mapping[str, Tuple[int, ...]] = {},
         advice: str = "Re-create the model.", expected: Optional[Mapping[str, Any]] = None,
         ) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """Tensors (on the CPU) and metadata of a model file of one of `kinds`: those whose names
    start with `within` (all by default). With `shapes`, the names (without `within`) and shapes
    those tensors must have, and the `optional` ones they may have, checked on the file's header
    before any tensor is read: a file with other or extra tensors (a sparse one of gigabytes, red
    team of 2026-12-04) is refused without reading them; `advice` ends that sentence. With
    `expected`, the metadata read from the file earlier (the shapes come from it), which the
    file's must still be: another run writing the file in between (red team of 2026-12-05: a
    classifier's statistics with another's weights mapped 35 % right without a word)."""
    handle, document = _open_checked(path, what, kinds, names)
    if expected is not None and document != expected:
        raise ModelFileError(f"{_describe(path, what)} changed while this run was reading it (another run wrote "
                             "it?). Run again once it is written.")
    chosen = [name for name in handle.keys() if name.startswith(within)]
    if shapes is not None:
        _check_shapes({name: tuple(handle.get_slice(name).get_shape()) for name in chosen},
                      {within + name: tuple(shape) for name, shape in shapes.items()},
                      {within + name: tuple(shape) for name, shape in optional.items()}, path, what, advice)
    try:
        tensors = {name: handle.get_tensor(name) for name in chosen}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:  # RuntimeError: shorter than mapped
        raise ModelFileError(
            f"{_describe(path, what)} is damaged: its tensors cannot be read ({error}). "
            "Re-create it, or copy it again.") from None
    _check_tensors(tensors, document, path, what)
    return tensors, document


def _check_shapes(found: Mapping[str, Tuple[int, ...]], wanted: Mapping[str, Tuple[int, ...]],
                  optional: Mapping[str, Tuple[int, ...]], path: str, what: str, advice: str) -> None:
    """Refuses tensors other than `wanted` and `optional` (names and shapes) and any missing from
    `wanted`, naming the first few differences."""
    allowed = {**optional, **wanted}
    extra = sorted(set(found) - set(allowed))
    missing = sorted(set(wanted) - set(found))
    reshaped = sorted(name for name in set(found) & set(allowed) if tuple(found[name]) != tuple(allowed[name]))
    problems = [f"{label} {', '.join(repr(name[:60]) for name in items[:3])}{' ...' if len(items) > 3 else ''}"
                for label, items in (("unexpected", extra), ("missing", missing), ("other shapes of", reshaped)) if items]
    if problems:
        raise ModelFileError(f"{_describe(path, what)} does not hold the weights its metadata describes "
                             f"({'; '.join(problems)}). {advice}")


def prefixed(tensors: Mapping[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """The tensors whose names start with `prefix.`, with the prefix removed."""
    start = prefix + "."
    return {name[len(start):]: tensor for name, tensor in tensors.items() if name.startswith(start)}


def with_prefix(tensors: Mapping[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    return {f"{prefix}.{name}": tensor for name, tensor in tensors.items()}
