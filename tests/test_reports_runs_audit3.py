"""The reports' files and the runs of jobs, each test pinned where a third mutation audit (2026-12-08) of
mrs_qgis_plugin/reports.py and runs.py planted a change that no test saw."""

import base64
import csv
import threading

import numpy as np
import pytest
import torch
from test_accuracy_job import _small_report
from test_reports_writers_audit2 import _heat_map_figure

from mrs.model_core.errors import InputError
from mrs.model_core.hooks import Hooks
from mrs.model_core.metrics import Accuracy
from mrs.mrs_qgis_plugin import reports, runs

# Which files are reports of ours --------------------------------------------------------------------------------------


def test_a_file_that_cannot_be_read_is_refused_as_no_report_of_ours(tmp_path, monkeypatch):
    """A file the run may not read (PermissionError) is refused in one sentence, not a traceback."""
    path = tmp_path / "a.html"
    path.write_text("anything")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(reports, "open", denied, raising=False)
    with pytest.raises(InputError, match="exists and is not a report this plugin wrote; choose a new file name"):
        reports.check_replaceable(str(path), "OUTPUT_HTML", reports.ACCURACY)


def test_the_heat_map_this_version_draws_is_a_report_a_later_run_replaces(tmp_path):
    """The PNG `heatmap_png` writes (880 x 770 pixels, its own 'Software' text, not Matplotlib's) is known for a band
    redundancy report, replaceable by one and refused to an accuracy report."""
    path = tmp_path / "similarity.png"
    png = reports.heatmap_png(np.eye(2), ["a", "b"], [[0, 1]], "t")
    path.write_bytes(png)
    assert (png[12:16], int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (b"IHDR", 880, 770)
    reports.check_replaceable(str(path), "OUTPUT_PNG", reports.REDUNDANCY)
    with pytest.raises(InputError, match="is a report of mrs:redundancy; choose a new file name"):
        reports.check_replaceable(str(path), "OUTPUT_PNG", reports.ACCURACY)


@pytest.mark.parametrize("padding", ["", "a"])
def test_a_page_of_ours_whose_first_4096_bytes_end_inside_a_character_is_still_known_for_one(tmp_path, padding):
    """A page naming a class map 'ê...' (two bytes a letter) is read up to a cut letter: still an accuracy report."""
    path = tmp_path / "a.html"
    reports.write_html(str(path), {**_small_report(), "class_map": f"/m/{padding}{'ê' * 3000}.tif"})
    reports.check_replaceable(str(path), "OUTPUT_HTML", reports.ACCURACY)


@pytest.mark.parametrize("name, write, kind", [
    ("A.HTML", lambda path: reports.write_html(path, _small_report()), reports.ACCURACY),
    ("A.Csv", lambda path: reports.write_csv(path, _small_report()), reports.ACCURACY),
    ("S.CSV", lambda path: reports.write_similarity_csv(path, np.eye(2), ["a", "b"]), reports.REDUNDANCY),
])
def test_a_report_of_ours_named_with_a_capital_extension_is_replaceable(tmp_path, name, write, kind):
    """A report written as 'A.HTML' (a capital extension, which outputs accept) is known for ours when run again."""
    write(str(tmp_path / name))
    reports.check_replaceable(str(tmp_path / name), "OUTPUT", kind)


# What the reports hold ------------------------------------------------------------------------------------------------


def test_the_heat_map_s_colours_start_at_0_when_every_similarity_is_above_it(monkeypatch):
    """Similarities of 0.5 and above are coloured on the scale 0..1, as every heat map, not from their lowest."""
    similarity = np.array([[1.0, 0.5], [0.5, 1.0]])
    figure, _png = _heat_map_figure(monkeypatch, similarity, ["a", "b"], [[0], [1]], "t")
    assert figure.axes[0].images[0].get_clim() == (0.0, 1.0)


def test_the_redundancy_page_embeds_the_heat_map_it_is_given_and_heads_its_groups(tmp_path):
    """The page's image is the PNG given, in base64, in the page itself; the table of groups has its heading and
    its header cells: group, bands, names."""
    png = b"\x89PNG\r\n\x1a\nheat map"
    reports.write_redundancy_html(str(tmp_path / "r.html"), "t", png, [], [], ("hsi.tif", []),
                                  "2026-12-06T08:40:00+00:00")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"<img alt='band similarity heat map' src='data:image/png;base64,{base64.b64encode(png).decode()}'>" in page
    assert ("<h3>Groups of similar bands</h3><table>\n<tr><th class='name'>Group</th><th class='name'>Bands</th>"
            "<th class='name'>Names</th></tr>\n</table></body></html>") in page


def test_the_page_writes_a_class_s_reference_pixels_with_thousands_separated(tmp_path):
    """A class of 1,200 reference pixels shows '1,200' in the per-class table, as in the summary and the log."""
    report = {**_small_report(), **Accuracy(np.array([[1200, 0], [0, 3]])).to_dict(["a", "b"])}
    reports.write_html(str(tmp_path / "a.html"), report)
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "<tr><td class='name'>a</td><td>1</td><td>1,200</td><td>100.00</td>" in page


def test_the_csv_gives_no_value_for_a_reference_class_the_map_lacks(tmp_path):
    """A reference class without a value in the map has an empty class value in the CSV, not 0 (a class of its own)."""
    reports.write_csv(str(tmp_path / "a.csv"), {**_small_report(), "class_values": [1, None]})
    with open(tmp_path / "a.csv", newline="", encoding=reports.CSV_ENCODING) as handle:
        rows = list(csv.reader(handle))
    assert [row[:3] for row in rows[1:3]] == [["1", "a", "4"], ["", "b", "2"]]


def test_the_page_names_the_class_map_then_the_reference_and_its_file(tmp_path):
    """'Class map:' is the map's path, 'Reference:' the reference's name with its file in brackets."""
    reports.write_html(str(tmp_path / "a.html"), _small_report())
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "<p>Class map: /m/map.tif<br>Reference: reference (/m/reference.tif)<br>Made: 2026-12-06 08:40 UTC" in page


def test_the_page_heads_its_tables_and_says_what_each_figure_is(tmp_path):
    """The per-class and confusion tables have their headings and header cells, and the page ends with the seven
    figures' meanings."""
    reports.write_html(str(tmp_path / "a.html"), _small_report())
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert ("<h3>Per class</h3><table>\n<tr><th class='name'>Class</th><th>Value</th><th>Reference pixels</th>"
            "<th>Producer's accuracy %</th><th>User's accuracy %</th><th>F1 %</th></tr>") in page
    assert ("</table><h3>Confusion matrix (rows: reference, columns: map)</h3><table>\n<tr><th class='name'></th>"
            "<th>a</th><th>b</th><th>Total</th></tr>") in page
    meanings = "".join(f"<dt>{term}</dt><dd>{meaning}</dd>" for term, meaning in reports.FIGURES)
    assert page.endswith(f"<h3>What the figures are</h3><dl>{meanings}</dl></body></html>")
    assert "<dt>Cohen's kappa</dt><dd>How much better than chance the map agrees with the reference: 1 is " in page


def test_the_heat_map_outlines_each_pair_of_a_gapped_group_s_runs_column_then_row(monkeypatch):
    """Group 1, 2, 5 (bands 0, 1, 4): the box of bands 1-2 against band 5 is two columns wide, one row high."""
    from matplotlib.patches import Rectangle

    figure, _png = _heat_map_figure(monkeypatch, np.eye(5), list("abcde"), [[0, 1, 4]], "t")
    boxes = [(patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height())
             for patch in figure.axes[0].patches if isinstance(patch, Rectangle)]
    assert boxes == [(-0.5, -0.5, 2, 2), (-0.5, 3.5, 2, 1), (3.5, -0.5, 1, 2), (3.5, 3.5, 1, 1)]



def test_the_heat_map_is_drawn_in_viridis_its_outlines_white_and_its_column_labels_turned(monkeypatch):
    """The heat map's colours are viridis's, each group's outline is white (seen on its dark and light cells), and
    the labels under it are turned 60 degrees, so that long band names do not overlap."""
    figure, _png = _heat_map_figure(monkeypatch, np.eye(3), ["a", "b", "c"], [[0, 1]], "t")
    axes = figure.axes[0]
    assert axes.images[0].get_cmap().name == "viridis"
    assert [patch.get_edgecolor() for patch in axes.patches] == [(1.0, 1.0, 1.0, 1.0)]
    assert {label.get_rotation() for label in axes.get_xticklabels()} == {60.0}

# Runs -----------------------------------------------------------------------------------------------------------------


def test_a_run_gives_every_gpu_s_random_state_back_where_cuda_was_started(monkeypatch):
    """Where CUDA was started, every GPU's random state (which training seeds) is given back after the block as it
    was before; GPUs are stood in for."""
    gpus, given_back = ["state of GPU 0", "state of GPU 1"], []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: list(gpus))
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", given_back.append)
    with runs.torch_state_kept():
        assert given_back == []
    assert given_back == [gpus]


def test_a_run_waiting_for_torch_looks_for_a_cancel_every_fifth_of_a_second(monkeypatch):
    """A run in a worker thread that finds torch in use says so once and waits in steps of WAIT_SECONDS (0.2 s), so
    that Cancel stops it at once; a lock that other runs hold twice is stood in for."""
    class Held:
        def __init__(self):
            self.waits, self.released = [], 0

        def acquire(self, blocking=True, timeout=-1):
            if not blocking:
                return False
            self.waits.append(timeout)
            return len(self.waits) > 2

        def release(self):
            self.released += 1

    lock, lines, checks = Held(), [], []
    monkeypatch.setattr(runs, "_TORCH_RUN", lock)

    def worker():
        with runs.torch_in_turn(Hooks(log=lines.append, is_canceled=lambda: checks.append(1) or False)):
            pass

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert (lock.waits, lock.released, len(checks)) == ([0.2, 0.2, 0.2], 1, 2)
    assert lines == ["Another run of this plugin is using torch in this QGIS; this one starts when it ends."]


def test_the_device_line_gives_the_threads_the_run_uses(monkeypatch):
    """OMP_NUM_THREADS=2 on 6 cores, torch at 5 threads before: the device's line says the 2 threads set, not 5."""
    monkeypatch.setattr(runs, "available_cores", lambda: 6)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    lines, before = [], torch.get_num_threads()
    try:
        torch.set_num_threads(5)
        runs.start_torch("desktop", "cpu", Hooks(log=lines.append))
    finally:
        torch.set_num_threads(before)
    assert lines == ["Device: cpu (2 threads), as DEVICE asks.", "CPU threads: 2 of 6 cores."]


def test_a_system_that_cannot_count_its_cores_is_taken_for_one_of_one_core(monkeypatch):
    """Without sched_getaffinity (macOS, Windows) and where os.cpu_count() knows no count, one core is counted."""
    monkeypatch.delattr(runs.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(runs.os, "cpu_count", lambda: None)
    assert runs.available_cores() == 1


def test_an_accuracy_json_saved_with_a_byte_order_mark_is_still_known_for_one(tmp_path):
    """A JSON report of ours that an editor saved as 'UTF-8 with BOM' (as Windows Notepad may) is still an accuracy
    report, replaceable by one, as the page saved so is; it was refused as 'not a report this plugin wrote'."""
    path = tmp_path / "a.json"
    reports.write_json(str(path), _small_report())
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8-sig")
    reports.check_replaceable(str(path), "OUTPUT_JSON", reports.ACCURACY)
    path.write_text("{}", encoding="utf-8-sig")
    with pytest.raises(InputError, match="is not a report this plugin wrote"):
        reports.check_replaceable(str(path), "OUTPUT_JSON", reports.ACCURACY)
