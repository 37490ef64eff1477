"""A class of a land-cover map: its value, name and colour."""

import unicodedata
from dataclasses import dataclass
from typing import List, Sequence

from ...model_core.digits import whole_number

_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The bidirectional embeddings, overrides and isolates: one reverses the display of everything after
it on a log line or in a table cell. (Other format characters, such as the zero-width joiners some
scripts and emoji need, are kept.)"""


def unshowable(char: str) -> bool:
    """Whether a character breaks or reorders a line as shown: a control character (U+0085 and the
    C1 controls too), a line or paragraph separator, or one of `_REORDERING`."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _REORDERING


def recoded_text(text: "str | bytes") -> str:
    """Text that GDAL or OGR passed on as the bytes of a file that does not say its encoding, read as
    Windows-1252, the usual encoding of such files: the bindings give bytes that are not UTF-8 as
    escapes (or, for category names, as bytes), which became spaces or "b'Pr\\xe9s'" (red teams of
    2026-12-04 and 2026-12-07: a shapefile's 'Forêt', an ENVI header's class 'Prés' and unit 'µm')."""
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            return text.decode("cp1252", "replace")
    if not any("\udc80" <= char <= "\udcff" for char in text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    except UnicodeEncodeError:  # another lone surrogate: no bytes of a file
        return text


def plain_text(text: "str | bytes") -> str:
    """`text` without control characters and other characters XML cannot hold (each becomes
    a space), without the characters that reorder text (`_REORDERING`), runs of white space
    as one space, trimmed: a class name that every file format carries (the .qml style is
    XML, in which one control character makes the whole file unreadable). In Unicode's composed
    form (NFC), so that a name written with combining accents is the name written without."""
    kept = "".join(" " if unshowable(char) or unicodedata.category(char) == "Cs" or char in "\ufffe\uffff" else char
                   for char in recoded_text(text) if char not in _REORDERING)
    return unicodedata.normalize("NFC", " ".join(kept.split()))


def printable(text: str) -> str:
    """`text` with its control characters and the characters that reorder text (`_REORDERING`)
    written as escapes ('\\n', '\\u202e'), for a path or name shown on a page: it stays the
    same path to read, and shows no line break and reverses nothing (red team of 2026-12-05)."""
    return "".join(char.encode("unicode_escape").decode("ascii")
                   if unshowable(char) or unicodedata.category(char) == "Cs" else char for char in str(text))


def spelt_as(names: Sequence[str], wanted: str) -> List[int]:
    """The positions of the names that may be `wanted`: those of that very spelling, else those
    alike but for letter case (a class field 'CLASS_ID' for 'class_id'; one name is meant only
    where exactly one position comes back)."""
    exact = [index for index, name in enumerate(names) if name == wanted]
    return exact or [index for index, name in enumerate(names) if folded_name(name) == folded_name(wanted)]


def folded_name(name: str) -> str:
    """`name` without letter case, as names are compared: a capital dotted İ (Turkish) folds to 'i'
    with a combining dot above, which 'i' lacks ('İnşaat' and 'inşaat' were two classes: a helper's
    red team of 2026-12-07)."""
    return name.casefold().replace("\u0307", "")


@dataclass(frozen=True)
class ClassInfo:
    """A class: its value (1 or more), its name (plain text, see `plain_text`) and colour."""

    value: int
    name: str
    color: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", plain_text(self.name))

    @property
    def named(self) -> bool:
        """Whether the class has a name of its own: one without is named by its value, or by a text
        of that number ('01' for class 1, red team of 2026-12-04; '255', as QGIS's Classify labels a
        style's entries, review of 2026-12-05)."""
        return bool(self.name) and whole_number(self.name) != self.value
