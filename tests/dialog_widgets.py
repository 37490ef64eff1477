"""What each parameter's widget in the QGIS dialogs holds: run as a script in a QGIS with a GUI.

pytest-qgis runs without a GUI (no widgets), so `test_dialogs.py` runs this in a subprocess.
For every parameter of every algorithm, the widget QGIS' dialog builds is given the default, and
for numbers the declared minimum and maximum too; the script prints, as JSON, what each widget
gave back and whether the parameter accepts it (a Run button that says "Wrong or missing
parameter value" is what a widget that cannot hold a parameter's values looks like to a user).
"""

import json
import sys

from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingParameterNumber


def probe_values(parameter) -> list:
    """The default, and for a number its declared bounds."""
    values = [] if parameter.defaultValue() is None else [parameter.defaultValue()]
    if isinstance(parameter, QgsProcessingParameterNumber):
        values += [bound for bound in (parameter.minimum(), parameter.maximum()) if abs(bound) < 1e300]
    return values


def widget_results(provider) -> list:
    from qgis.gui import QgsGui, QgsProcessingGui, QgsProcessingParameterWidgetContext

    context, widget_context = QgsProcessingContext(), QgsProcessingParameterWidgetContext()
    results, kept = [], []  # the wrappers and their widgets live until the end, as in a dialog
    for algorithm in sorted(provider.algorithms(), key=lambda item: item.id()):
        for parameter in algorithm.parameterDefinitions():
            if parameter.isDestination():
                continue
            wrapper = QgsGui.processingGuiRegistry().createParameterWidgetWrapper(parameter, QgsProcessingGui.Standard)
            if wrapper is None:
                continue
            wrapper.setWidgetContext(widget_context)
            kept += [wrapper, wrapper.createWrappedWidget(context)]
            for value in probe_values(parameter):
                wrapper.setParameterValue(value, context)
                shown = wrapper.parameterValue()
                number = isinstance(parameter, QgsProcessingParameterNumber) and shown is not None
                results.append({"algorithm": algorithm.id(), "parameter": parameter.name(), "set": repr(value),
                                "shown": repr(shown), "accepted": parameter.checkValueIsAcceptable(shown, context),
                                "number_changed": number and abs(float(shown) - float(value)) > 1e-9 * abs(float(value))})
    return results


def main() -> None:
    app = QgsApplication([], True)
    app.initQgis()
    from mrs.mrs_qgis_plugin.provider import MrsProvider

    provider = MrsProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    print(json.dumps(widget_results(provider)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
