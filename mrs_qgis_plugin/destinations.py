"""Where a model file goes when the analyst does not choose: a folder that outlives QGIS.

A required file output of QGIS 3.22 without a default value is shown as
"[Save to temporary file]", and that file is deleted when QGIS closes: hours of
pretraining lost by a user who only pressed Run. So in the desktop each dialog
opens with a path as the default: next to the project when the project is saved,
otherwise in Processing's output folder when one is set (Settings > Options >
Processing > General > Output folder, the folder QGIS itself uses for a file name
without a folder), else in the home folder, under a name no earlier run has taken.
qgis_process and scripts keep QGIS' behaviour (a temporary file, whose path
qgis_process prints).
"""

import os
from typing import Optional, Set

from qgis.core import QgsApplication, QgsProcessingUtils, QgsProject, QgsSettings

from ..model_core.errors import InputError
from ..model_core.paths import checkpoint_path_for

OUTPUTS_FOLDER_SETTING = "Processing/Configuration/OUTPUTS_FOLDER"


def unused_path(folder: str, stem: str, extension: str) -> str:
    """`folder/stem.extension`, or `folder/stem_2.extension`, `_3`... the first that does not exist
    and has no training's checkpoint beside it (a stopped run's, which a training on that name is
    refused not to delete: red team of 2026-12-05); without an extension, a folder's name."""
    suffix = f".{extension}" if extension else ""
    candidate = os.path.join(folder, f"{stem}{suffix}")
    number = 2
    while os.path.exists(candidate) or os.path.exists(checkpoint_path_for(candidate)):
        candidate = os.path.join(folder, f"{stem}_{number}{suffix}")
        number += 1
    return candidate


def persistent_folder(project_folder: str, outputs_folder: str) -> str:
    """The saved project's folder, else Processing's output folder, else the home folder."""
    for folder in (project_folder, outputs_folder):
        if folder and os.path.isdir(folder):
            return folder
    return os.path.expanduser("~")


PROPOSED: Set[str] = set()
"""The model files the dialogs of this QGIS session proposed (`default_output_path`), none of which
existed then."""


def default_output_path(stem: str, extension: str) -> Optional[str]:
    """The default of a model-file output in the desktop's dialogs; None elsewhere (qgis_process, scripts)."""
    if QgsApplication.platform() != "desktop":
        return None
    folder = persistent_folder(QgsProject.instance().absolutePath(),
                               str(QgsSettings().value(OUTPUTS_FOLDER_SETTING, "") or ""))
    path = unused_path(folder, stem, extension)
    PROPOSED.add(os.path.realpath(path))
    return path


def refuse_a_proposed_name_taken(path: str, parameter: str) -> None:
    """Refuses a model file that a dialog of this session proposed, which did not exist then, and
    exists now: an earlier Run of that dialog wrote it, and Run again replaced it without a word (a
    desktop helper of 2026-12-05: the model of the first of two settings compared was lost). A name
    of the analyst's own, or one taken in another session, is replaced as before."""
    if os.path.realpath(path) in PROPOSED and os.path.isfile(path):
        raise InputError(f"{parameter}: {path} holds the model an earlier run wrote, under the name a dialog proposed "
                         "for it. Choose another file name to keep both models, or delete that file to replace it.")


def qgis_temporary_folder() -> Optional[str]:
    """The real path of QGIS's temporary folder, which QGIS deletes when it closes; None where QGIS could
    make none (its setting a folder that cannot be made): its name is then '', whose real path is the
    working folder (a helper's red team of 2026-12-07)."""
    temporary = QgsProcessingUtils.tempFolder()
    return os.path.realpath(temporary) if temporary else None


def in_qgis_temporary_folder(path: str) -> bool:
    """Whether `path` is or lies in QGIS's temporary folder (the folder itself, as a demo scene's OUTPUT,
    was not warned of: left alone in note 43)."""
    folder, real = qgis_temporary_folder(), os.path.realpath(path)
    return folder is not None and (real == folder or real.startswith(folder + os.sep))
