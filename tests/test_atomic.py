"""The sentence of a failed write: what it says of an earlier file, and what to do."""

import errno
import os

from mrs.model_core.atomic import write_error


def test_a_failed_write_says_whether_an_earlier_file_was_kept_and_what_to_do(tmp_path):
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(write_error(str(tmp_path / "new.tif"), full)) == (
        f"Could not write {tmp_path / 'new.tif'}: the disk is full. Nothing was written; free some space or "
        "choose another folder, and run again.")
    (tmp_path / "old.tif").write_bytes(b"map")
    denied = OSError(errno.EACCES, os.strerror(errno.EACCES))
    assert str(write_error(str(tmp_path / "old.tif"), denied)) == (
        f"Could not write {tmp_path / 'old.tif'}: Permission denied. Nothing was replaced (an earlier old.tif is "
        "unchanged); choose another folder, and run again.")
