"""The shipped graphical-modeler workflow as an algorithm of the provider, so that it is in the Toolbox.

It is `resources/models/mrs_workflow.model3` as it is (pretrain -> fine-tune ->
classify -> accuracy): opening that file in the modeler and running
`mrs:workflow` do the same. Only its id, name and group are the provider's, and in
the desktop its model files default to files that outlive QGIS, as the single
algorithms' do.
"""

from pathlib import Path

from qgis.core import QgsProcessing, QgsProcessingModelAlgorithm, QgsProcessingParameterDefinition
from qgis.PyQt.QtGui import QIcon

from ..mrs_qgis_plugin.destinations import default_output_path
from ..mrs_qgis_plugin.parameters import MODEL_FILE_EXTENSION
from .base import GROUPS, ICON_PATH, help_url, tr

WORKFLOW_FILE = Path(__file__).resolve().parents[1] / "resources" / "models" / "mrs_workflow.model3"
# Model outputs of the workflow that are model files, and the file name each defaults to.
MODEL_OUTPUTS = {"pretrain:PRETRAINED": "pretrained_model", "finetune:CLASSIFIER": "classifier_model"}
TEMPORARY_OUTPUT = QgsProcessing.TEMPORARY_OUTPUT


class WorkflowAlgorithm(QgsProcessingModelAlgorithm):
    """`mrs:workflow`: the four steps in one run, from the model file shipped with the plugin."""

    def __init__(self) -> None:
        super().__init__()
        if not self.fromFile(str(WORKFLOW_FILE)):
            raise RuntimeError(f"The workflow {WORKFLOW_FILE} cannot be read; reinstall the plugin.")
        self.setSourceFilePath(str(WORKFLOW_FILE))
        # The instance the provider creates while it loads cannot yet find its steps
        # (mrs:pretrain... are registered with the provider) and has no outputs; every
        # instance made to run (the dialog's, qgis_process', processing.run's) has them.
        for name, stem in MODEL_OUTPUTS.items():
            definition = self.parameterDefinition(name)
            if definition is not None:
                definition.setDefaultValue(default_output_path(stem, MODEL_FILE_EXTENSION))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        """Runs the steps. An output the run needs but was not given (qgis_process and
        processing.run have no default for a model's outputs, the dialog does) goes to a
        temporary file, and the log says how to keep it."""
        given = dict(parameters)
        for definition in self.destinationParameterDefinitions():
            name = definition.name()
            if given.get(name) or definition.flags() & QgsProcessingParameterDefinition.FlagOptional:
                continue
            stem = MODEL_OUTPUTS.get(name)
            default = default_output_path(stem, MODEL_FILE_EXTENSION) if stem else None
            given[name] = default or TEMPORARY_OUTPUT
            if not default:
                feedback.pushInfo(f"No file was given for {name}: it goes to a temporary file, deleted when this "
                                  f"QGIS session ends; give {name}=FILE to keep it.")
        return super().processAlgorithm(given, context, feedback)

    def name(self) -> str:
        return "workflow"

    def displayName(self) -> str:  # noqa: N802 - QGIS API name
        return tr("Workflow: pretrain, train, classify, assess")

    def group(self) -> str:
        return tr(GROUPS["workflow"])

    def helpUrl(self) -> str:  # noqa: N802 - QGIS API name
        return help_url("workflow")

    def groupId(self) -> str:  # noqa: N802 - QGIS API name
        return "workflow"

    def icon(self) -> QIcon:
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:  # noqa: N802 - QGIS API name
        return ICON_PATH

    def createInstance(self) -> "WorkflowAlgorithm":  # noqa: N802 - QGIS API name
        return WorkflowAlgorithm()
