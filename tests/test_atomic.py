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


def test_a_file_larger_than_the_process_may_write_is_not_called_a_full_disk(tmp_path):
    """Red team of 2026-12-04: under `ulimit -f`, 'the disk is full' with 75 GB free."""
    too_large = OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    assert str(write_error(str(tmp_path / "model.safetensors"), too_large)) == (
        f"Could not write {tmp_path / 'model.safetensors'}: the file would be larger than this process may write (a "
        "file-size limit such as ulimit -f, or the file system's largest file). Nothing was written; raise the limit "
        "or choose another folder, and run again.")
