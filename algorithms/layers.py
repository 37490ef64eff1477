"""QGIS layer values as the engine's inputs, and the sentence that says why one is refused."""

import os
from typing import Any, Dict, List, Optional, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsFeatureSource,
    QgsFields,
    QgsMapLayer,
    QgsPointXY,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSource,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)

from ..model_core.errors import InputError
from ..model_core.hooks import first_few
from ..model_core.paths import undecodable_name
from ..mrs_qgis_plugin import parameters as spec
from ..mrs_qgis_plugin.raster import split_source
from ..mrs_qgis_plugin.raster.classes import spelt_as

LAYER_KINDS = {spec.RASTER: "raster", spec.RASTERS: "raster", spec.VECTOR: "vector"}


def corners(rectangle: QgsRectangle) -> Tuple[float, float, float, float]:
    """A rectangle as (xmin, ymin, xmax, ymax), the engine's bounds."""
    return rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum()


def wkt_of(crs: QgsCoordinateReferenceSystem) -> str:
    """A CRS as GDAL reads it."""
    return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL)


def missing_field_problem(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any],
                          definition: QgsProcessingParameterDefinition, given: Any,
                          context: QgsProcessingContext) -> Optional[str]:
    """A field parameter's value that names no field of its layer (one field of that name in any
    letter case, as the jobs read fields), said before the run; None where it names one, or where its
    layer cannot be read (which its own parameter's check says). The steps of the workflow found it
    after the pretraining (red team of 2026-12-04); a name holding ';' was said to be a field to rename
    where the layer had no such field (a helper's red team of 2026-12-06)."""
    try:
        source = algorithm.parameterAsSource(parameters, definition.parentLayerParameterName(), context)
    except QgsProcessingException:
        return None
    if source is None:
        return None
    names = source.fields().names()
    missing = next((name for name in (given if isinstance(given, list) else [given])
                    if len(spelt_as(names, name)) != 1), None)  # as the steps read fields: CLASS_ID is class_id
    if missing is None:
        return None
    alike = [names[index] for index in spelt_as(names, missing)]
    if alike:  # 'class' beside 'Class' and 'CLASS' (a review of 2026-12-06: said to be no field)
        return (f"{definition.name()}: '{missing}' names {len(alike)} fields of '{source.sourceName()}' in other "
                f"letter cases ({first_few(repr(name) for name in alike)}); give one as it is spelt.")
    fields = f"its fields: {first_few(repr(name) for name in names) or 'none'}. Choose one of them"
    layer = parameters.get(definition.parentLayerParameterName())
    first = _unnamed_layer_note(layer)
    if first:
        return f"{definition.name()}: '{missing}' is not a field of '{layer}', which {first}; {fields}; {READ_ANOTHER}."
    return f"{definition.name()}: '{missing}' is not a field of '{source.sourceName()}'; {fields}."


READ_ANOTHER = "to read another layer, add it to the project and choose it, or give it as FILE|layername=NAME"
"""What reads a layer of a file of several other than its first (the dialogs' layer boxes take no typed text)."""


def _unnamed_layer_note(value: Any) -> Optional[str]:
    """`unnamed_layer_clause` of a layer parameter's value that is a path, else None."""
    from ..mrs_qgis_plugin.raster.vector_labels import unnamed_layer_clause  # GDAL: not at plugin load

    return unnamed_layer_clause(value) if isinstance(value, str) else None


def labelled_pixels_problem(job: spec.Job, parameters: Dict[str, Any]) -> Optional[str]:
    """`parameters.labelled_pixels_problem`, which says where an empty class field's file of several
    layers names none: its field box offers the first layer's fields (a desktop helper of 2026-12-06:
    'class_id' of the file's second layer could not be chosen, and the refusal named no layer)."""
    problem = spec.labelled_pixels_problem(job, parameters)
    if not problem or any(spec.is_given(parameters.get(name)) for name in job.labelled_pixels[1:]):
        return problem  # not the empty field's (the review of that change: 'give either ..., not both')
    vector = job.labelled_pixels[0]
    first = _unnamed_layer_note(parameters.get(vector))
    return (f"{problem} {vector} ('{parameters[vector]}') {first}, whose fields the field box offers; "
            f"{READ_ANOTHER}.") if first else problem


def layer_of(value: str, context: QgsProcessingContext, kind: str = "raster") -> Optional[QgsMapLayer]:
    """`QgsProcessingUtils.mapLayerFromString`, a layer of `kind` ('raster', 'vector') looked for
    first, then one of the other kind: QGIS opens a path with OGR first, which put '[OGR] Cannot open
    lidar.tif' in QGIS' message log at every run (a helper's desktop check of 2026-12-06), and a
    lookup of any kind tries meshes too, whose reader printed 'ERROR: Status 2: File ... could not
    be found' for a missing file under qgis_process (a helper's red team of 2026-12-07)."""
    raster, vector = QgsProcessingUtils.LayerHint.Raster, QgsProcessingUtils.LayerHint.Vector
    for hint in (vector, raster) if kind == "vector" else (raster, vector):
        found = QgsProcessingUtils.mapLayerFromString(value, context, True, hint)
        if found is not None:
            return found
    return None


def rasters_loaded(value: Any, context: QgsProcessingContext) -> Optional[List[QgsMapLayer]]:
    """The layers a list of rasters' value names, each looked up as a raster (`layer_of`): loaded so
    into the context, QGIS' own checks of the value find them there rather than open them with OGR
    first. None for a value of another form, or one that names a layer that cannot be loaded."""
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        return None
    found = [layer_of(item, context, "raster") for item in items]
    return found if all(layer is not None for layer in found) else None


def unreadable_layer(name: str, value: Any, kind: str, context: QgsProcessingContext,
                     geometries: Tuple[str, ...] = ()) -> Optional[str]:
    """Why a layer value cannot be loaded (missing file, unreadable file, a layer of the other kind),
    or None when it can."""
    if isinstance(value, QgsMapLayer):  # processing.run given a layer object ('<QgsVectorLayer: ...>' was said)
        return _other_kind(name, value.name(), value, kind, geometries)
    if not isinstance(value, str):
        return None
    path = value.split("|")[0]
    if kind == "raster":
        from ..mrs_qgis_plugin.raster.gdal_io import subdataset_name_problem, variables_problem

        problem = variables_problem(path, f"{name}: '{value}'") or subdataset_name_problem(value, f"{name}: '{value}'")
        if problem:
            return problem
    layer = layer_of(value, context, kind)
    if layer is not None:
        return _other_kind(name, value, layer, kind, geometries)
    if "\ufffd" in path and not os.path.exists(path):  # qgis_process's reading of a name not in UTF-8 (helper, 12-05)
        return (f"{name}: '{value}' holds a character that could not be read (shown \ufffd): a folder's or the file's "
                "name is not valid UTF-8 text (as names from old archives can be); rename it, and run again.")
    undecodable = undecodable_name(path, name)
    if undecodable:  # given so through Python (a helper's red team of 2026-12-07: 'cannot be opened', a lone surrogate)
        return undecodable
    from ..mrs_qgis_plugin.raster.gdal_io import joined_files_problem  # GDAL: not at plugin load

    joined_files = joined_files_problem(path, f"{name}: '{value}'", name)
    if joined_files:
        return joined_files
    if not os.path.exists(path) and "://" not in path and not path.startswith("/vsi"):
        return (f"{name}: '{value}' is neither a layer of the project nor an existing file. "
                f"Choose a {kind} layer or file.")
    if path.startswith("file://"):  # a review of 2026-12-05: said to be a web address
        return (f"{name}: '{value}' is a file's address, which Processing does not open from a path: give the path "
                f"without 'file://' ({path[len('file://'):]}).")
    if "://" in path or path.startswith("/vsi"):  # QGIS's Processing opens files only (a helper's red team of 2026-12-05)
        return (f"{name}: '{value}' is a GDAL virtual path or a web address, which Processing does not open from a "
                f"path: add it to the project (Layer > Add Layer, or from the Browser) and choose that layer, or give a "
                "copy of the file (extracted from its archive, downloaded).")
    if kind == "vector":
        from ..mrs_qgis_plugin.raster.vector_labels import missing_layer_problem  # GDAL: not at plugin load

        problem = missing_layer_problem(value, name)
        if problem:
            return problem
    return f"{name}: '{value}' cannot be opened as a {kind} layer. Choose a {kind} layer or file that QGIS can read."


def path_named_layer_problem(parameters: Dict[str, Any], kinds: Dict[str, str],
                             context: QgsProcessingContext) -> Optional[str]:
    """A file's path given to a layer parameter (`kinds`: its name to 'raster' or 'vector') that is
    also the name of a project layer of that kind and of another file, which Processing reads in its
    place (a helper's red team of 2026-12-05: a classification read holes.tif for the path of
    hsi.tif typed, a layer's name, and the map differed unsaid)."""
    from ..mrs_qgis_plugin.raster.outputs import same_file  # GDAL: not at plugin load

    project = context.project()
    for name, kind in kinds.items() if project is not None else ():
        value = parameters.get(name)
        layer_type = QgsRasterLayer if kind == "raster" else QgsVectorLayer
        for item in value if isinstance(value, (list, tuple)) else [value]:
            path = split_source(item)[0] if isinstance(item, str) else ""
            same_named = project.mapLayersByName(item) if isinstance(item, str) else []
            named = _named_layers_problem(name, item, same_named, layer_type)
            if named:
                return named
            if not (path and os.path.isfile(path)):
                continue
            other = next((layer for layer in same_named if isinstance(layer, layer_type)
                          and not same_file(split_source(layer.source())[0], path)), None)
            if other is not None:
                return (f"{name}: '{item}' is a file, and also the name of a project layer of another source "
                        f"({other.source()}), which Processing would read in its place. Rename that layer (or remove "
                        "it from the project), or choose the layer you mean from the list (on the command line, "
                        "write the file's path another way: in full, or beginning with ./).")
            # the other way round: a dialog opened with a path put the layer named so in its place, and the run
            # is given that layer's own file (a desktop helper of 2026-12-05)
            named = next((layer.name() for layer in project.mapLayers().values() if isinstance(layer, layer_type)
                          and same_file(split_source(layer.source())[0], path) and os.path.isabs(layer.name())
                          and os.path.isfile(layer.name())
                          and not same_file(layer.name(), path)), None)
            if named is not None:
                return (f"{name}: '{item}' is the file of a project layer named after another file, '{named}', which "
                        "a dialog may have taken it for. Rename that layer (or remove it from the project), and "
                        "choose the layer or file you mean again.")
    return None


def _named_layers_problem(name: str, item: Any, layers: list, layer_type: type) -> Optional[str]:
    """A layer name that several project layers of other files bear, of which Processing takes one by
    chance (a helper's red team of 2026-12-05: two flights both named 'hsi', read 30 or 63 bands from
    run to run, the log naming neither file)."""
    from ..mrs_qgis_plugin.raster.outputs import same_file  # GDAL: not at plugin load

    sources = [split_source(layer.source()) for layer in layers  # as Processing, the valid ones (a review)
               if isinstance(layer, layer_type) and layer.isValid()]
    distinct = sorted("|".join([path, *options]) for index, (path, options) in enumerate(sources)
                      if not any(same_file(path, earlier) and sorted(options) == sorted(others)
                                 for earlier, others in sources[:index]))  # two tables of one file are two layers
    if len(distinct) < 2:
        return None
    return (f"{name}: '{item}' is the name of {len(distinct)} project layers of other sources "
            f"({', '.join(distinct[:3])}{', ...' if len(distinct) > 3 else ''}), of which Processing would take one "
            "by chance. Rename them apart, or choose the layer you mean from the list (on the command line, give "
            "the path of its file).")


def _other_kind(name: str, shown: str, layer: QgsMapLayer, kind: str, geometries: Tuple[str, ...] = ()) -> Optional[str]:
    """Why a layer of the other kind (a vector layer for a raster parameter) is refused, or None;
    `geometries`, those a vector parameter takes, name what to choose (a raster as MASK was told to be
    'a vector layer', where bin/mrs says 'polygons': review of 2026-12-05)."""
    loaded = "raster" if isinstance(layer, QgsRasterLayer) else "vector" if isinstance(layer, QgsVectorLayer) else kind
    words = [f"{geometry}s" for geometry in geometries]
    wanted = (f"a layer of {', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else f"a layer of {words[0]}"
              ) if words else f"a {kind} layer or file"
    return None if loaded == kind else f"{name}: '{shown}' is a {loaded} layer, not a {kind} layer. Choose {wanted}."


def refused_layer_message(parameter: spec.Parameter, value: Any, context: QgsProcessingContext) -> str:
    """A sentence saying why Processing refuses a layer or file value and what to give instead,
    in place of Processing's own "Incorrect parameter value for X"."""
    kind = LAYER_KINDS.get(parameter.kind)
    values = value if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(item, os.PathLike) for item in values):  # pathlib's (red team of 2026-12-05)
        return (f"{parameter.name} ({parameter.description}): {value!r} is a Python path object, which Processing "
                "does not take; give the path as text, str(path).")
    if kind:
        problems = (unreadable_layer(parameter.name, item, kind, context, parameter.geometries) for item in values)
        problem = next((text for text in problems if text), None)
        if problem:
            return problem
    if parameter.kind == spec.EXTENT and isinstance(value, str):  # 'not accepted' (a helper's red team of 2026-12-07)
        return (f"{parameter.name}: '{value}' is neither an extent written as xmin,xmax,ymin,ymax [EPSG:code] (four "
                "numbers with commas between) nor a layer of the project or an existing file; give one of those.")
    return f"{parameter.name} ({parameter.description}): the value {value!r} is not accepted; see the parameter's help."


def hyperspectral_problem(algorithm: QgsProcessingAlgorithm, parameters: Dict[str, Any],
                          context: QgsProcessingContext) -> Optional[str]:
    """A hyperspectral layer (INPUT_HSI) of too few bands, for the dialog's check before the run:
    the dialogs pick the active layer, often the map just made, which was refused in the log once
    the run had started (desktop red team of 2026-12-04)."""
    from ..mrs_qgis_plugin.raster.sources import MIN_HSI_BANDS, too_few_bands_message

    if algorithm.parameterDefinition("INPUT_HSI") is None or not parameters.get("INPUT_HSI"):
        return None
    layer = algorithm.parameterAsRasterLayer(parameters, "INPUT_HSI", context)
    if layer is None or not layer.isValid() or layer.bandCount() >= MIN_HSI_BANDS:
        return None
    return too_few_bands_message(layer.name(), layer.bandCount())


def raster_input_of(layer: Optional[QgsMapLayer], parameter: str, operation: str = "") -> Any:
    """A raster layer as the pipeline's `RasterInput` (taken to the grid through `operation`,
    `qgis_operation`); only layers of QGIS' GDAL provider have a source that GDAL itself opens."""
    from ..mrs_qgis_plugin.raster.sources import RasterInput

    if layer is None or not layer.isValid():
        raise InputError(f"{parameter}: the layer cannot be opened as a raster. Choose a raster layer or file.")
    if not isinstance(layer, QgsRasterLayer):
        from ..mrs_qgis_plugin.raster.gdal_io import variables_problem

        raise InputError(variables_problem(layer.source().split("|")[0], f"{parameter}: '{layer.name()}'")
                         or f"{parameter}: '{layer.name()}' is not a raster layer. Choose a raster layer.")
    if layer.providerType() != "gdal":
        raise InputError(
            f"{parameter}: the layer '{layer.name()}' comes from QGIS' '{layer.providerType()}' data provider, "
            "which the MRS algorithms cannot read. Save it as a GeoTIFF (Export > Save As...) and choose that file."
        )
    problem = _shown_otherwise(layer)
    if problem:
        raise InputError(f"{parameter}: the layer '{layer.name()}' {problem}")
    return RasterInput(layer.source(), layer.name(), operation)


def _ranges_text(ranges: Any) -> str:
    return ", ".join(f"{item.min():g}" if item.min() == item.max() else f"{item.min():g} to {item.max():g}"
                     for item in ranges)


def _shown_otherwise(layer: QgsRasterLayer) -> Optional[str]:
    """How QGIS shows a raster layer otherwise than its file holds it (a CRS or no-data values set
    in the layer's properties), which the algorithms, reading the file, would not see (red team of
    2026-12-04: a label raster's 255 set as no-data in QGIS trained as a class); None when it does not."""
    provider = layer.dataProvider()
    if layer.crs().isValid() and not provider.crs().isValid():
        return (f"is given the CRS {_label(layer.crs())} in QGIS, but its file holds none, and the algorithms read "
                "the file. Write the CRS into a copy of the file (Raster > Projections > Assign Projection) and "
                "choose that.")
    if provider.crs().isValid() and layer.crs() != provider.crs():
        if not layer.crs().isValid():  # was 'is given the CRS  in QGIS' (a helper's mutation audit of 2026-12-07)
            return (f"has no CRS in QGIS, but its file holds {_label(provider.crs())}, and the algorithms read the "
                    "file. Set the layer's CRS back to the file's (Layer Properties > Source).")
        return (f"is given the CRS {_label(layer.crs())} in QGIS, but its file holds {_label(provider.crs())}, and "
                "the algorithms read the file. Set "
                "the layer's CRS back to the file's, or write the CRS into a copy of the file (Raster > Projections "
                "> Assign Projection) and choose that.")
    for band in range(1, layer.bandCount() + 1):
        if provider.userNoDataValues(band):
            return (f"has no-data values set in QGIS (band {band}: {_ranges_text(provider.userNoDataValues(band))}) that "
                    "its file does not hold, and the algorithms read the file. Write them into a copy of the file "
                    "(Raster > Conversion > Translate, 'Assign a specified nodata value to output bands') and choose "
                    "that, or clear them in the layer's properties (Transparency).")
        if provider.sourceHasNoDataValue(band) and not provider.useSourceNoDataValue(band):
            return (f"does not use its file's no-data value (band {band}: {provider.sourceNoDataValue(band):g}) in "
                    "QGIS, and the algorithms read the file. Tick 'No data value' in the layer's properties "
                    "(Transparency), or write a copy of the file without it (Raster > Conversion > Translate).")
    return None


def _label(crs: QgsCoordinateReferenceSystem) -> str:
    return crs.authid() or crs.description()


def no_features_problem(param: str, shown: str, value: Any) -> str:
    """What to say of a vector parameter whose source gives no feature: a selection of none, a
    feature limit of 0, or a filter that selects none; an empty layer given with Processing's advanced
    options, which the dialog gives as a definition too, was said to have none selected (a helper's
    audit of 2026-12-06)."""
    if isinstance(value, QgsProcessingFeatureSourceDefinition) and (value.selectedFeaturesOnly
                                                                   or value.featureLimit == 0):
        return (f"{param}: no feature of '{shown}' is selected (or the feature limit is 0); select the features to "
                "use, or untick 'Selected features only'.")
    from ..mrs_qgis_plugin.raster.vector_labels import no_features_message  # GDAL: not at plugin load

    return no_features_message(param, shown)


def read_as_its_file(layer: Optional[QgsVectorLayer], value: Any) -> bool:
    """Whether a vector parameter's features are those its file holds, for OGR to read there; else
    the plugin copies them as QGIS gives them (`written_as_shown`). Processing's own copy of such a
    layer (a memory or delimited-text layer, a selection, a feature limit, a filter) is a GeoPackage
    keyed on the layer's 'fid' field, which left out unsaid every feature whose fid repeated (a
    helper's red team of 2026-12-05: the parts of Multipart to singleparts, merged layers)."""
    if layer is None or layer.providerType() != "ogr" or layer.subsetString() or layer.source().startswith("/vsi"):
        return False
    path, options = split_source(layer.source())
    if any(not option.startswith("layername=") for option in options):  # layerid=1 was read as the first layer
        return False  # (review of 2026-12-05), geometrytype=Point as every geometry
    if os.path.splitext(path)[1].lower().lstrip(".") not in QgsVectorFileWriter.supportedFormatExtensions():
        return False  # Processing would copy it, keyed on its fid
    if isinstance(value, QgsProcessingFeatureSourceDefinition) and (
            value.selectedFeaturesOnly or value.featureLimit != -1):
        return False
    return not differs_from_file(layer)


def differs_from_file(layer: Optional[QgsVectorLayer]) -> bool:
    """Whether QGIS shows a vector layer otherwise than its file holds it: unsaved edits, fields
    QGIS adds (expressions, joins), a CRS or a shapefile's encoding set in QGIS. Processing hands such a layer over as its
    file (red team of 2026-12-04: classes changed in the edit buffer, and the samples a user had
    just added, did not train). A layer of geometry collections that QGIS gave no CRS is read as
    its file (`features_crs`)."""
    if layer is None:
        return False
    fields = layer.fields()
    return (layer.isModified() or (layer.crs() != layer.dataProvider().crs() and not _crs_lost(layer))
            or _encoding_set_in_qgis(layer)
            or any(fields.fieldOrigin(index) != QgsFields.OriginProvider for index in range(fields.count())))


def features_crs(source: QgsFeatureSource, layer: Optional[QgsVectorLayer]) -> QgsCoordinateReferenceSystem:
    """The CRS of a source's features: the layer's, or its file's where QGIS lost it (`_crs_lost`)."""
    return layer.dataProvider().crs() if layer is not None and _crs_lost(layer) else source.sourceCrs()


def _crs_lost(layer: QgsVectorLayer) -> bool:
    """Whether QGIS gave a layer no CRS where its file has one because QGIS 3.22 takes a layer of
    geometry collections (of no one geometry type) for no spatial layer (red team of 2026-12-04:
    such samples in EPSG:4326 were taken to be in the grid's CRS and fell outside it); a CRS a user
    took away from another layer stays taken away, as QGIS draws it."""
    return (not layer.crs().isValid() and layer.dataProvider().crs().isValid()
            and layer.geometryType() == QgsWkbTypes.UnknownGeometry)


def vector_layer_name(layer: QgsVectorLayer, parameter: str) -> str:
    """The name messages and reports give a vector layer: its name in QGIS. A layer given as text
    is named by QGIS after its file, 'multi.gpkg|layername=x' as 'multi' (here 'x'), and not at all
    with a provider's prefix ('delimitedtext://file:///survey.csv?...' or 'virtual://?query=...',
    red team of 2026-12-04: reports named the reference ''): then after its file, else after
    its parameter and provider."""
    from ..mrs_qgis_plugin.runs import file_layer_name

    name = layer.name()
    if name == file_layer_name(layer.source().split("|")[0]):
        return file_layer_name(layer.source())
    if name:
        return name
    path = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source()).get("path")
    return file_layer_name(path) if path else f"{parameter} ({layer.providerType()} layer)"


def _encoding_set_in_qgis(layer: QgsVectorLayer) -> bool:
    """Whether QGIS reads a shapefile that names no encoding (no .cpg) in one chosen in its
    properties, which the plugin's own reading (UTF-8, else Windows-1252) would not know: a
    Windows-1251 file's 'Вода' became 'Âîäà' (helpers' review of 2026-12-04)."""
    if layer.storageType() != "ESRI Shapefile":
        return False
    declared = os.path.exists(os.path.splitext(layer.source().split("|")[0])[0] + ".cpg")
    return not declared and layer.dataProvider().encoding().lower().replace("-", "") not in ("utf8", "")


def qgis_operation(own: QgsCoordinateReferenceSystem, extent: QgsRectangle, crs: QgsCoordinateReferenceSystem,
                   context: QgsProcessingContext) -> str:
    """The coordinate operation (a PROJ pipeline, x = easting/longitude) with which QGIS takes a
    layer in `own` CRS over `extent` into `crs`, the one it draws it with (features, or a raster
    that GDAL warps: GDAL's own choice put an ED50 raster 2 m from where QGIS draws it, red team of
    2026-12-04); '' when there is none to take (the same CRS, an unknown one), QGIS cannot
    transform the layer's extent, or QGIS falls back from its operation to another there (a grid
    shift whose grid does not cover the layer: the pipeline of the first gave no coordinates,
    helpers' review of 2026-12-04), where GDAL's own choice, per point as QGIS's, is the one to take."""
    if not (own.isValid() and crs.isValid()) or own == crs:
        return ""
    transform = QgsCoordinateTransform(own, crs, context.transformContext())
    try:
        for corner in (extent.center(), QgsPointXY(extent.xMinimum(), extent.yMinimum()),
                       QgsPointXY(extent.xMaximum(), extent.yMaximum())):
            transform.transform(corner)
    except QgsCsException:
        return ""
    return "" if transform.fallbackOperationOccurred() else transform.instantiatedCoordinateOperationDetails().proj


def written_as_shown(source: QgsFeatureSource, own: QgsCoordinateReferenceSystem, crs: QgsCoordinateReferenceSystem,
                     shown: str, param: str, context: QgsProcessingContext,
                     feedback: Optional[QgsProcessingFeedback]) -> str:
    """The features as QGIS gives them (edits, added fields, selection, filter, feature limit) in a
    temporary GeoPackage, in `crs` when it and theirs (`own`, `features_crs`) are known: reprojected with the project's
    transformations, those QGIS draws the layer with (GDAL may choose another datum shift: samples in
    ED50 landed two pixels off, red team of 2026-12-04). Returns the file's path."""
    from ..model_core.errors import Canceled, InputError
    from ..model_core.names import agreeing, plural

    target = crs if crs.isValid() and own.isValid() else own
    path = QgsProcessingUtils.generateTempFilename("layer.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName, options.layerName, options.fileEncoding = "GPKG", "features", "UTF-8"
    names = source.fields().names()
    folded: Dict[str, str] = {}
    for field in names:  # SQLite's column names ignore case
        if folded.setdefault(field.lower(), field) != field:
            raise InputError(f"{param}: '{shown}' has fields whose names differ only in case ('{folded[field.lower()]}', "
                             f"'{field}'), which its copy for reading (a GeoPackage) cannot tell apart: rename one of "
                             "them (Layer Properties > Fields), or save the layer to a file and give that.")
    row, geometry = (next(name for name in (f"{stem}{number or ''}" for number in range(len(names) + 1))
                          if name not in folded) for stem in ("mrs_row", "mrs_geometry"))
    # A layer's own 'fid' and 'geom' fields are kept as fields (new features have no fid; a repeated or
    # text one was refused or lost its features, red team of 2026-12-05).
    options.layerOptions = [f"FID={row}", f"GEOMETRY_NAME={geometry}"]
    writer = QgsVectorFileWriter.create(path, source.fields(), source.wkbType(), target, context.transformContext(),
                                        options)
    transform = QgsCoordinateTransform(own, target, context.transformContext()) if target != own else None
    if transform is not None and feedback is not None:
        feedback.pushInfo(f"'{shown}' is reprojected from {_label(own)} to {_label(target)}.")
    failed = placed = 0
    for feature in source.getFeatures(QgsFeatureRequest(), QgsProcessingFeatureSource.FlagSkipGeometryValidityChecks):
        if feedback is not None and feedback.isCanceled():
            raise Canceled()
        if transform is not None and feature.hasGeometry():
            placed += 1
            geometry = feature.geometry()
            try:
                moved = geometry.transform(transform) == 0
            except QgsCsException:
                moved = False
            if not moved:  # a request's own reprojection gave such features no geometry, said as such
                failed += 1
                continue
            feature.setGeometry(geometry)
        if not writer.addFeature(feature):
            raise InputError(f"'{shown}' could not be copied for reading ({writer.errorMessage()}).")
    if writer.hasError() != QgsVectorFileWriter.NoError:
        raise InputError(f"'{shown}' could not be copied for reading ({writer.errorMessage()}).")
    del writer
    if failed and failed == placed:  # said as 'no features' (a helper's red team of 2026-12-05)
        placed_ones = " with a geometry" if source.featureCount() > placed else ""  # of 3, 1 without (a review)
        which = (f"the feature{placed_ones} of '{shown}' cannot" if failed == 1
                 else f"none of the {failed:,} features{placed_ones} of '{shown}' can")
        raise InputError(f"{param}: {which} be reprojected from {_label(own)} into {_label(target)}: "
                         f"{agreeing(failed, 'its coordinates lie', 'their coordinates lie')} outside the area of "
                         f"{_label(own)}. Check the layer's CRS (Layer Properties > Source: UTM coordinates in a layer "
                         "said to be EPSG:4326, say), then run again.")
    if failed and feedback is not None:
        feedback.pushWarning(f"{plural(failed, 'feature')} of '{shown}' could not be reprojected into "
                             f"{_label(target)}; {agreeing(failed, 'it is', 'they are')} left out. Check the layer's "
                             "CRS (Layer Properties > Source).")
    return path
