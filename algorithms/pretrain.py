"""Pretrain SS-MAE on an unlabelled scene with MRS (or random spectral) masking."""

from ..mrs_qgis_plugin.job_parameters import PRETRAIN
from .base import MrsAlgorithm


class PretrainAlgorithm(MrsAlgorithm):
    JOB = PRETRAIN
