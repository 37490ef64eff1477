import pytest

from model_core import loop, training
from model_core.errors import Canceled
from model_core.hooks import Hooks, duration, first_few


def test_sub_hooks_map_progress_into_the_parent_range():
    seen = []
    hooks = Hooks(progress=seen.append)
    sub = hooks.sub(0.5, 0.75)
    sub.progress(0.0)
    sub.progress(0.5)
    sub.progress(2.0)
    assert seen == [0.5, 0.625, 0.75]


def test_check_cancel_raises_only_once_canceled():
    state = {"canceled": False}
    hooks = Hooks(is_canceled=lambda: state["canceled"])
    hooks.check_cancel()
    state["canceled"] = True
    with pytest.raises(Canceled):
        hooks.sub(0.0, 0.5).check_cancel()


def test_every_log_line_gives_durations_in_one_format():
    assert [duration(s) for s in (0.4, 42, 59.6, 185, 3599, 3600, 7620)] == [
        "0 s", "42 s", "1 min 00 s", "3 min 05 s", "59 min 59 s", "1 h 00 min", "2 h 07 min"]
    assert loop._status_line("pretraining", 3, 10, 40.0, 2, 4) == "Pretraining epoch 3/10, about 1 min 20 s left"
    record = {"epoch": 2, "loss": 0.25, "samples_per_second": 512.4}
    assert loop._epoch_line("pretraining", record, 60, 7620) == (
        "Pretraining epoch 2/60: loss 0.2500, 512 samples/s, 2 h 07 min left")
    # a validation accuracy below 1 is never shown as 100.00 % (a review of 2026-12-06)
    validated = {**record, "val_accuracy": 39_999 / 40_000}
    assert loop._epoch_line("fine-tuning", validated, 60, 42) == (
        "Fine-tuning epoch 2/60: loss 0.2500, validation accuracy >99.99 %, 512 samples/s, 42 s left")
    assert training._validation_said([{"epoch": 1, "val_accuracy": 39_999 / 40_000}], 1) == (
        " (validation accuracy >99.99 %).")


def test_first_few_lists_five_items_and_says_when_there_are_more():
    assert first_few(["a", "b"]) == "a, b"
    assert first_few(str(n) for n in range(5)) == "0, 1, 2, 3, 4"
    assert first_few((str(n) for n in range(6)), "; ") == "0; 1; 2; 3; 4; ..."


def test_a_warning_goes_to_warn_and_without_it_to_the_log_also_from_a_part_of_the_work():
    logged, warned = [], []
    Hooks(log=logged.append).sub(0.2, 0.4).warning("a")
    Hooks(log=logged.append, warn=warned.append).sub(0.2, 0.4).warning("b")
    assert (logged, warned) == (["a"], ["b"])


def test_a_second_sigterm_says_it_stops_the_process_at_once(monkeypatch):
    """Red team of 2026-12-05: a second SIGTERM ended the process with status 143 without a word,
    where the README promised a sentence."""
    import os
    import signal

    from model_core.hooks import cancel_on_sigterm

    lines, killed = [], []
    monkeypatch.setattr(os, "kill", lambda pid, number: killed.append(number))
    with cancel_on_sigterm(Hooks(log=lines.append)) as hooks:
        handler = signal.getsignal(signal.SIGTERM)
        handler(signal.SIGTERM, None)
        assert hooks.is_canceled() and killed == []
        handler(signal.SIGTERM, None)
    assert killed == [signal.SIGTERM]
    assert lines[:2] == ["SIGTERM received: stopping as on Cancel (send it again to stop at once).",
                         "SIGTERM received again: stopping at once (exit status 143)."]


def test_a_sigterm_after_the_work_s_last_look_at_cancel_is_said_to_have_come_once_it_was_done():
    """A helper's red team of 2026-12-05: "stopping as on Cancel", then the map written and its results
    printed, without a word."""
    import signal

    from model_core.hooks import cancel_on_sigterm

    lines: list = []
    with cancel_on_sigterm(Hooks(log=lines.append)):
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
    assert lines == ["SIGTERM received: stopping as on Cancel (send it again to stop at once).",
                     "SIGTERM came once the work was done: its outputs are written whole and kept."]
