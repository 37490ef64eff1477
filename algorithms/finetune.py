"""Train a land-cover classifier from labelled samples, starting from a pretrained model or from scratch."""

from ..mrs_qgis_plugin.job_parameters import FINETUNE
from .base import MrsAlgorithm


class FinetuneAlgorithm(MrsAlgorithm):
    JOB = FINETUNE
