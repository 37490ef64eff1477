"""The Processing algorithms the provider offers, in Toolbox order."""

from .accuracy import AccuracyAlgorithm
from .classify import ClassifyAlgorithm
from .finetune import FinetuneAlgorithm
from .pretrain import PretrainAlgorithm
from .redundancy import RedundancyAlgorithm

ALGORITHMS = (PretrainAlgorithm, FinetuneAlgorithm, ClassifyAlgorithm, AccuracyAlgorithm, RedundancyAlgorithm)
