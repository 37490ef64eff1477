"""File names the readers and writers cannot take."""

import os
from typing import Optional, Type

from .errors import InputError, MrsError


def undecodable_name(path: str, what: str) -> Optional[str]:
    """Why a path whose bytes are not UTF-8 cannot be used (a name from an old archive, in
    Latin-1: Python holds its odd bytes as surrogates, which GDAL refuses as 'not a string' and
    safetensors as a damaged file), or None."""
    try:
        path.encode("utf-8")
        return None
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return (f"{what}: the file name {shown} is not valid UTF-8 text (as names from old archives can be), which "
                "the plugin cannot open or write; rename the file (or folder) and run again.")


def check_decodable(path: str, what: str, error: Type[MrsError] = InputError) -> None:
    """Raises `error` with `undecodable_name`'s sentence for a path that is not UTF-8."""
    problem = undecodable_name(path, what)
    if problem:
        raise error(problem)
