"""The Processing algorithms the provider offers, in Toolbox order."""

from .accuracy import AccuracyAlgorithm
from .classify import ClassifyAlgorithm
from .demo_scene import DemoSceneAlgorithm
from .finetune import FinetuneAlgorithm
from .pretrain import PretrainAlgorithm
from .redundancy import RedundancyAlgorithm
from .suggest import SuggestAlgorithm

ALGORITHMS = (
    DemoSceneAlgorithm, PretrainAlgorithm, FinetuneAlgorithm, SuggestAlgorithm, ClassifyAlgorithm, AccuracyAlgorithm,
    RedundancyAlgorithm,
)
