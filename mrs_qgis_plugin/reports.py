"""Report files: the accuracy report (HTML, JSON, CSV) and the band-redundancy outputs.

The writers write the file they are given; `write_together` gives them temporary files and puts
a run's reports in place together, so a failed run never leaves half a report, nor one report
new beside another old.
"""

import base64
import csv
import html
import io
import json
import os
import re
import warnings
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..model_core import __version__
from ..model_core.atomic import atomic_outputs
from ..model_core.errors import InputError
from .dependencies import import_quietly
from .raster.classes import printable


ACCURACY_TITLE, REDUNDANCY_TITLE = "Accuracy assessment", "Band redundancy"


def _html_start(title: str) -> str:
    """How a report page of ours starts, by which a later run knows it for one (`_kind`)."""
    return f"<html><head><meta charset='utf-8'><title>{title}</title>"
SIMILARITY_CORNER = "band"
ACCURACY_CSV_HEADER = ["class_value", "class_name", "reference_pixels", "producers_accuracy", "users_accuracy", "f1"]
PNG_SOFTWARE = "MRS land cover: band similarity"
"""The heat map's PNG 'Software' text, by which a later run knows the file for one of ours."""


HEAT_MAP_SIZE = (880, 770)
"""The heat map's size in pixels: 8 x 7 inches at 110 dpi."""


def _earlier_heat_map(start: bytes) -> bool:
    """Whether a PNG is a heat map of an earlier version, which carries Matplotlib's text only: one
    of the heat map's size (any Matplotlib figure was taken for one and replaced, red team of
    2026-12-04). The size is the first chunk's (IHDR) first two numbers."""
    size = (int.from_bytes(start[16:20], "big"), int.from_bytes(start[20:24], "big"))
    return start[12:16] == b"IHDR" and size == HEAT_MAP_SIZE and b"Matplotlib" in start


ACCURACY, REDUNDANCY = "accuracy", "redundancy"
"""The kinds of report: an accuracy assessment's (HTML, JSON, CSV), a band redundancy's (PNG, CSV, HTML)."""
_KIND_LABELS = {ACCURACY: "a report of mrs:accuracy", REDUNDANCY: "a report of mrs:redundancy"}


def _kind(path: str) -> Optional[str]:
    """Which kind of report this plugin wrote an existing file as (by its first bytes, its keys or
    the PNG text it carries), or None for a file that is no report of ours."""
    extension = os.path.splitext(path)[1].lower()
    with open(path, "rb") as handle:
        start = handle.read(4096)
    if extension == ".png":
        ours = start.startswith(b"\x89PNG") and (PNG_SOFTWARE.encode() in start or _earlier_heat_map(start))
        return REDUNDANCY if ours else None
    text = start.decode("utf-8", "replace").lstrip("\ufeff")
    if extension == ".html":
        return next((kind for kind, title in ((ACCURACY, ACCURACY_TITLE), (REDUNDANCY, REDUNDANCY_TITLE))
                     if text.startswith(_html_start(title))), None)
    if extension == ".csv":
        try:
            with open(path, newline="", encoding=CSV_ENCODING, errors="replace") as handle:
                rows = [row for _line, row in zip(range(2), csv.reader(handle))]
        except csv.Error:  # a field beyond the csv module's limit: no table of ours
            return None
        if rows[:1] == [ACCURACY_CSV_HEADER]:
            return ACCURACY
        similarity = (len(rows) == 2 and len(rows[0]) > 1 and rows[0][0] == SIMILARITY_CORNER
                      and rows[1][:1] == rows[0][1:2])  # a similarity matrix names its first band atop and on the left
        return REDUNDANCY if similarity else None
    try:
        with open(path, encoding="utf-8-sig") as handle:  # re-saved with a BOM was no report of ours (audit)
            document = json.load(handle)
    except (OSError, ValueError):
        return None
    return ACCURACY if isinstance(document, dict) and {"class_map", "confusion_matrix"} <= set(document) else None


def check_replaceable(path: str, param: str, kind: str) -> None:
    """Refuse a report of `kind` over an existing file that is not a report of that kind: a list of
    scenes or a class table (.csv), or another program's file, was replaced without a word (red
    team of 2026-12-04), as no raster or model file is; so was an accuracy report by a band
    redundancy one, which left the accuracy's JSON and CSV beside it."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    try:
        found = _kind(path)
    except OSError:
        found = None
    if found != kind:
        what = "is not a report this plugin wrote" if found is None else f"is {_KIND_LABELS[found]}"
        raise InputError(f"{param}: {path} exists and {what}; choose a new file name, or delete that file first.")


def write_together(writers: Sequence[Tuple[str, Callable[[str], None]]]) -> None:
    """Each (path, writer): the writer writes a temporary file beside the path; then they all
    replace their paths together, or none does (red team of 2026-12-04: a new HTML report stood
    beside an old JSON one, and the run said nothing had been replaced)."""
    with atomic_outputs([(path, os.path.splitext(path)[1]) for path, _writer in writers]) as temporaries:
        for (_path, writer), temporary in zip(writers, temporaries):
            try:
                writer(temporary)
            except OSError as error:  # a failed write or close names no file: the first report was said (review)
                error.filename = error.filename or temporary
                raise


def _rounded_within(value: float, decimals: int, low: float, high: float) -> str:
    """`value` of `decimals` decimals, never rounded onto `low` or `high` when it lies between them
    (nor shown as '-0.0...'): one error in 40,000 pixels was shown as 100.00 % (a helper's audit of
    2026-12-05), one right pixel in 400,000 as 0.00 %, a kappa of -0.00001 as -0.0000 (one of 2026-12-06)."""
    step = 10.0 ** -decimals
    shown = round(value, decimals)
    if low < value < high:
        shown = min(max(shown, low + step), high - step)
    return f"{shown + 0.0:.{decimals}f}"  # + 0.0: -0.0 is 0.0


def percent(value: Optional[float]) -> str:
    """A fraction as a percentage of two decimals ('' for None), never '100.00' for one below 1 nor
    '0.00' for one above 0."""
    return "" if value is None else _rounded_within(100 * value, 2, 0.0, 100.0)


def kappa_text(value: Optional[float]) -> str:
    """Kappa of four decimals, never '1.0000' below 1 nor '0.0000' or '-0.0000' beside 0 (as `percent`)."""
    if value is None:
        return "undefined (one class only)"
    return _rounded_within(value, 4, 0.0, 1.0) if value >= 0 else _rounded_within(value, 4, -1.0, 0.0)


def _cell(text: str) -> str:
    """A text cell that a spreadsheet shows as text: one starting like a formula ('=', '+',
    '-', '@', a tab or a carriage return) gets a leading apostrophe, so that opening the
    CSV runs nothing (CSV formula injection); so does each part after a ';' or a tab, at which
    a spreadsheet may split cells (Excel in the locales of a decimal comma: a class named
    'Bâti;=cmd|...' gave a cell of a formula there, a helper's red team of 2026-12-05)."""
    return re.sub(r"(^|[;\t])(?=[=+\-@\t\r])", r"\1'", text)


CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark: Excel opens a CSV without one in the system's ANSI code page
('ForÃªt' for 'Forêt': a helper's red team of 2026-12-05); Python, QGIS and pandas read past it."""


def write_json(path: str, report: Dict[str, Any]) -> None:
    """The report as JSON, its names as written ('Forêt', not 'For\\u00eat')."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, ensure_ascii=False)


def write_csv(path: str, report: Dict[str, Any]) -> None:
    """Per-class figures, the summary, then the confusion matrix, in one CSV."""
    with open(path, "w", newline="", encoding=CSV_ENCODING) as handle:
        out = csv.writer(handle)
        out.writerow(ACCURACY_CSV_HEADER)
        for value, item in zip(report["class_values"], report["classes"]):
            out.writerow([value, _cell(item["name"]), item["reference_pixels"], item["producers_accuracy"],
                          item["users_accuracy"], item["f1"]])
        out.writerow([])
        for key in ("pixels", "overall_accuracy", "average_accuracy", "kappa", "unmapped_reference_pixels",
                    "outside_map", "outside_map_unit", "reference_features_left_out",
                    "reference_features_partly_outside"):
            out.writerow([key, report[key]])
        for warning in report["warnings"]:
            out.writerow(["warning", _cell(warning)])
        out.writerow([])
        out.writerow(["reference \\ map"] + [_cell(item["name"]) for item in report["classes"]])
        for item, row in zip(report["classes"], report["confusion_matrix"]):
            out.writerow([_cell(item["name"])] + row)


_STYLE = ("body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin:0.5em 0 1.5em}"
          "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eee}"
          "td.name,th.name{text-align:left}td.diagonal{background:#dff0d8;font-weight:bold}"
          "p.warning{background:#fcf8e3;border:1px solid #e0c36b;padding:4px 8px}")


def _row(cells: Sequence[str], header: bool = False, classes: Sequence[str] = ()) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(
        f"<{tag}{f' class={css!r}' if css else ''}>{cell}</{tag}>"
        for cell, css in zip(cells, list(classes) + [""] * len(cells))) + "</tr>"


FIGURES = (
    ("Overall accuracy", "The share of the reference pixels the map gives their reference class."),
    ("Average accuracy", "The mean of the classes' producer's accuracies: each class counts alike, however many "
                         "pixels it has (a class without reference pixels, whose producer's accuracy is empty, is "
                         "left out)."),
    ("Cohen's kappa", "How much better than chance the map agrees with the reference: 1 is full agreement, 0 the "
                      "agreement of a map with the same share of each class as this one, its pixels placed at "
                      "random."),
    ("Producer's accuracy", "Of the reference pixels of a class, the share the map gives that class (how much of "
                            "the class the map finds)."),
    ("User's accuracy", "Of the pixels the map gives a class, at the reference pixels, the share that are that class "
                        "(how far a user can trust the map's class)."),
    ("F1", "The harmonic mean of a class's producer's and user's accuracies, from the counts: twice the pixels the "
           "map gets right over the class's reference and mapped pixels together; 0 where the map never gets it right "
           "(a class absent from the reference or never mapped, whose other accuracy is then empty)."),
    ("Confusion matrix", "Reference pixels by their reference class (rows) and the class the map gives them "
                         "(columns); the diagonal holds those the map gets right."),
)
"""The accuracy page's figures and what each is (readability review of 2026-12-05: the page did
not say, for an analyst reading it on its own)."""


def _made(created: str) -> str:
    """'Made: 2026-12-05 08:40 UTC by the MRS plugin 0.1.0' of an ISO 8601 time, a page's last source line."""
    when = datetime.fromisoformat(created).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return f"Made: {when} UTC by the MRS plugin {__version__}"


def write_html(path: str, report: Dict[str, Any]) -> None:
    """A self-contained page, readable in the Processing results viewer."""
    names = [html.escape(item["name"]) for item in report["classes"]]
    summary = [("Overall accuracy", percent(report["overall_accuracy"]) + " %"),
               ("Average accuracy", percent(report["average_accuracy"]) + " %"),
               ("Cohen's kappa", kappa_text(report["kappa"])),
               ("Reference pixels", _count(report["pixels"])),
               ("Reference pixels without a class in the map (left out)", _count(report["unmapped_reference_pixels"])),
               (f"{report['outside_map_unit'].capitalize()} of the reference outside the map (left out)",
                _count(report["outside_map"]))]
    if report["outside_map_unit"] == "features":
        summary.append(("Features of the reference reaching beyond the map (their parts beyond left out)",
                        _count(report["reference_features_partly_outside"])))
        summary.append(("Features of the reference without a class, a geometry or a pixel centre (left out)",
                        _count(report["reference_features_left_out"])))
    parts = [f"{_html_start(ACCURACY_TITLE)}<style>{_STYLE}</style></head><body>",
             "<h2>Accuracy assessment</h2>",
             f"<p>Class map: {_shown(report['class_map'])}<br>Reference: "
             f"{_shown(report['reference'])} ({_shown(report['reference_file'])})<br>"
             f"{_made(report['created'])}</p>",
             *(f"<p class='warning'>Warning: {_shown(text)}</p>" for text in report["warnings"]),
             "<table>" + "".join(_row([k, v], classes=["name"]) for k, v in summary) + "</table>",
             "<h3>Per class</h3><table>",
             _row(["Class", "Value", "Reference pixels", "Producer's accuracy %", "User's accuracy %", "F1 %"],
                  header=True, classes=["name"])]
    for name, value, item in zip(names, report["class_values"], report["classes"]):
        shown = "none in the map" if value is None else str(value)
        parts.append(_row([name, shown, _count(item["reference_pixels"]), percent(item["producers_accuracy"]),
                           percent(item["users_accuracy"]), percent(item["f1"])], classes=["name"]))
    parts += ["</table><h3>Confusion matrix (rows: reference, columns: map)</h3><table>",
              _row(["", *names, "Total"], header=True, classes=["name"])]
    matrix = np.asarray(report["confusion_matrix"], dtype=np.int64)
    for index, (name, row) in enumerate(zip(names, matrix)):
        cells = [name, *map(_count, row), _count(row.sum())]
        parts.append(_row(cells, classes=["name"] + ["diagonal" if i == index else "" for i in range(len(row))]))
    parts.append(_row(["Total", *map(_count, matrix.sum(axis=0)), _count(matrix.sum())], classes=["name"]))
    parts.append("</table><h3>What the figures are</h3><dl>"
                 + "".join(f"<dt>{html.escape(term, quote=False)}</dt><dd>{html.escape(meaning, quote=False)}</dd>"
                           for term, meaning in FIGURES)
                 + "</dl></body></html>")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))


def _count(number: int) -> str:
    """A count as the log writes it: '1,200' (a helper's audit of 2026-12-06: the page said 1200)."""
    return f"{int(number):,}"


def band_labels(names: Sequence[str], wavelengths: Optional[Sequence[float]], n_hsi: int) -> List[str]:
    """A short label per band: its wavelength for HSI bands when known, else its name; a label two
    bands share gets each band's number ('595.0 nm (band 9)'), so that the CSV's headers name one
    band each (red team of 2026-12-04), also where a band's own name was another's label so numbered."""
    labels = [f"{wavelengths[i]:.1f} nm" if wavelengths and i < n_hsi else names[i] for i in range(len(names))]
    while len(set(labels)) < len(labels):
        shared = {label for label in labels if labels.count(label) > 1}
        labels = [f"{label} (band {i + 1})" if label in shared else label for i, label in enumerate(labels)]
    return labels


def write_similarity_csv(path: str, similarity: np.ndarray, labels: Sequence[str]) -> None:
    with open(path, "w", newline="", encoding=CSV_ENCODING) as handle:
        out = csv.writer(handle)
        out.writerow([SIMILARITY_CORNER] + [_cell(label) for label in labels])
        for label, row in zip(labels, similarity):
            out.writerow([_cell(label)] + [f"{value:.6f}" for value in row])


def group_boxes(groups: Sequence[Sequence[int]]) -> List[Tuple[int, int, int, int]]:
    """(first column, first row, width, height) of the boxes that outline, on the heat map, the cells
    of each group of several bands (sorted band indices): one per pair of the group's runs of
    consecutive bands (a group of bands apart went without an outline: a helper's red team of
    2026-12-05)."""
    boxes = []
    for group in groups:
        if len(group) < 2:
            continue
        breaks = [index for index in range(1, len(group)) if group[index] != group[index - 1] + 1]
        runs = [(group[start], group[stop - 1] - group[start] + 1)
                for start, stop in zip([0, *breaks], [*breaks, len(group)])]
        boxes += [(col, row, width, height) for col, width in runs for row, height in runs]
    return boxes


def heatmap_png(similarity: np.ndarray, labels: Sequence[str], groups: Sequence[Sequence[int]], title: str) -> bytes:
    """PNG heat map of the similarity matrix, band labels on both axes, groups outlined.

    Names are drawn as written, a $ in them being no mathematics (red team of 2026-12-05: a band
    described '$\\undefinedcmd$' stopped the job). Drawn on an Agg canvas of its own, not through
    pyplot, whose GUI backend (QGIS desktop may have one set) must not be touched from Processing's
    worker thread."""
    import_quietly("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    count = len(labels)
    figure = Figure(figsize=(HEAT_MAP_SIZE[0] / 110, HEAT_MAP_SIZE[1] / 110), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(similarity, cmap="viridis", vmin=min(0.0, float(similarity.min())), vmax=1.0,
                        interpolation="nearest")
    ticks = np.unique(np.linspace(0, count - 1, min(count, 12)).round().astype(int))
    axes.set_xticks(ticks)
    axes.set_xticklabels([labels[i] for i in ticks], rotation=60, ha="right", fontsize=8, parse_math=False)
    axes.set_yticks(ticks)
    axes.set_yticklabels([labels[i] for i in ticks], fontsize=8, parse_math=False)
    for col, row, width, height in group_boxes(groups):
        axes.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor="white", linewidth=0.8))
    figure.colorbar(image, ax=axes, label="cosine similarity of normalised bands")
    axes.set_title(title, fontsize=10, parse_math=False)
    image = io.BytesIO()
    with warnings.catch_warnings():  # names in scripts the font lacks: 16 lines of matplotlib's (red team of 2026-12-05)
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        figure.tight_layout()
        figure.savefig(image, format="png", metadata={"Software": PNG_SOFTWARE})
    return image.getvalue()


def write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _shown(text: Any) -> str:
    """A path, layer name or message on a page: escaped for HTML, with its control and reordering
    characters written as escapes (`printable`)."""
    return html.escape(printable(str(text)))


def write_redundancy_html(path: str, title: str, png: bytes, summary: Sequence[Tuple[str, str]],
                          groups: Sequence[Tuple[str, str]], layers: Tuple[str, Sequence[str]], created: str) -> None:
    """The heat map (embedded), the summary and the groups of bands (their numbers and their names)
    on one page, which the Processing results viewer shows: the heat map went to a file nobody
    opened (desktop red team of 2026-12-04). It names its `layers` (the hyperspectral file, the
    SAR/LiDAR ones) and when and by which version it was `created`, as the accuracy page does."""
    image = base64.b64encode(png).decode("ascii")
    hsi, aux = layers
    parts = [f"{_html_start(REDUNDANCY_TITLE)}<style>{_STYLE}</style></head><body>",
             f"<h2>{html.escape(title)}</h2>",
             f"<p>Hyperspectral layer: {_shown(hsi)}<br>SAR/LiDAR layers: {_shown(', '.join(aux) or 'none')}"
             f"<br>{_made(created)}</p>",
             "<table>" + "".join(_row([html.escape(key), html.escape(value)], classes=["name", "name"])
                                 for key, value in summary) + "</table>",
             f"<img alt='band similarity heat map' src='data:image/png;base64,{image}'>",
             "<h3>Groups of similar bands</h3><table>",
             _row(["Group", "Bands", "Names"], header=True, classes=["name", "name", "name"]),
             *(_row([str(number), html.escape(bands), html.escape(names)], classes=["name", "name", "name"])
               for number, (bands, names) in enumerate(groups, start=1)),
             "</table></body></html>"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
