"""Progress, log lines and cancel of a job run from a terminal (`bin/mrs`).

On a terminal the progress is a bar with the time left, redrawn in place under
the log lines; elsewhere (a file, a pipe, a batch system's log) each log line is
printed as it comes and the progress as one line every tenth. Under torchrun
only the process of rank 0 prints, so that N processes do not print N copies.
Ctrl-C (SIGINT) cancels the run as the Cancel button does in QGIS (SIGTERM too,
through the engine's handler): the job stops at its next check and leaves no
half-written output.
"""

import contextlib
import os
import shutil
import signal
import sys
import time
from typing import Callable, Optional, TextIO

from ..model_core.hooks import CANCELLING_SIGNALS, REPEATED_SIGNALS, Hooks, duration

BAR_WIDTH = 30
REDRAW_SECONDS = 0.2


def rank() -> str:
    """This process's rank in a torchrun group ("0" when alone)."""
    return os.environ.get("RANK", "").strip() or "0"


def is_first_process() -> bool:
    """Whether this process prints: the only one, or rank 0 of a torchrun group."""
    return rank() == "0"


def own_line(message: str) -> str:
    """`message` as a line this process says itself: another process than rank 0 names its rank."""
    return f"{message}\n" if is_first_process() else f"(rank {rank()}) {message}\n"


def end_at_once_on_signals(status: int) -> None:
    """Once a run is over, its results printed, a signal that would stop it (Ctrl-C, SIGTERM...)
    ends the process at once with the run's exit status: its outputs are whole and kept (a helper's
    red team of 2026-12-06: SIGTERM during the interpreter's shutdown, 0.75 s after the results, gave
    status 143 without a word, and `mrs pretrain ... && mrs finetune ...` stopped on a finished
    model). A signal ignored stays ignored, and one the system repeats (SIGXCPU, `REPEATED_SIGNALS`)
    is ignored from now on: one that came during the interpreter's shutdown, when Python has put
    back the system's handlers, dumped core (a helper's red team of 2026-12-07)."""
    def end(_number: int, _frame: object) -> None:
        exit_now(status)

    for number in (*CANCELLING_SIGNALS, signal.SIGINT):
        if signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, signal.SIG_IGN if number in REPEATED_SIGNALS else end)


def exit_now(status: int) -> None:
    """Ends the process at once with `status`, its output flushed, without the interpreter's teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def is_first_on_its_machine() -> bool:
    """Whether this process is the only one, or the first of a torchrun group on its machine (LOCAL_RANK 0),
    whose log a machine's terminal or batch job shows."""
    return is_first_process() or os.environ.get("LOCAL_RANK", "0").strip() in ("0", "")  # unset: one per machine


def time_left(fraction: float, elapsed: float, counted_from: float = 0.0) -> Optional[float]:
    """Seconds left at this pace (`elapsed` seconds since the fraction `counted_from`), once
    enough is done to tell."""
    done = fraction - counted_from
    if done < 0.01 or elapsed < 1.0:
        return None
    return elapsed * (1.0 - fraction) / done


def write_error(stream: Optional[TextIO], text: str) -> Optional[Exception]:
    """Writes and flushes `text`; the error when it could not be written: a closed pipe (`| head`,
    a pager quit early), a closed stream, a full disk. The stream is then pointed at the null
    device, so that Python's own flush at exit does not fail too (it would end the process with
    status 120)."""
    if stream is None:
        return ValueError("no stream")
    try:
        stream.write(text)
        stream.flush()
        return None
    except (OSError, ValueError) as error:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stream.fileno())
            os.close(null)
        return error


def written(stream: Optional[TextIO], text: str) -> bool:
    """Writes and flushes `text`; False when it could not be written (`write_error`)."""
    return write_error(stream, text) is None


class TerminalReport:
    """Hooks for a terminal run, writing to `stream` (stderr; results go to stdout)."""

    def __init__(self, stream: TextIO = sys.stderr, interactive: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic, enabled: Optional[bool] = None) -> None:
        self.stream = stream
        self.interactive = (stream is not None and stream.isatty()) if interactive is None else interactive
        self.enabled = is_first_process() if enabled is None else enabled
        self.clock = clock
        self.started = clock()
        self.fraction = 0.0
        self.pace_from = (self.started, 0.0)
        """The time and fraction this run's pace counts from: after what a resumed run's earlier one did."""
        self.bar_shown = False
        self.last_drawn = float("-inf")
        self.last_tenth = 0
        self.status_text = ""
        self.interrupts = 0
        self.run_over = False

    def hooks(self) -> Hooks:
        return Hooks(progress=self.progress, log=self.log, warn=self.warn, is_canceled=lambda: self.interrupts > 0,
                     status=self.status, resumed=self.resumed)

    def warn(self, line: str) -> None:
        """A line that says a result may be wrong, marked as qgis_process marks it (review of
        2026-12-05: bin/mrs printed warnings as plain log lines)."""
        self.log(f"Warning: {line}")

    def resumed(self, fraction: float) -> None:
        """Up to `fraction`, the work was done by an earlier run: the time left counts this run's
        pace from here (red team of 2026-12-04: a run resumed at epoch 8 of 30 said 7 s left of 19)."""
        self.pace_from = (self.clock(), fraction)

    def _left(self, now: float) -> Optional[float]:
        since, counted_from = self.pace_from
        return time_left(self.fraction, now - since, counted_from)

    def _write(self, text: str) -> None:
        """Writes to the log; once nobody reads it, the run goes on without one."""
        if not written(self.stream, text):
            self.stream = None

    def _bar(self) -> str:
        """The bar line, one estimate of the time left (the status's, an epoch's, where it gives one), its
        clauses dropped whole from the last to fit the terminal's width (a helper's red team of 2026-12-06: two
        estimates that disagreed, a status cut mid-word, a bar wider than 40 columns wrapping and leaving its
        leftovers)."""
        done = int(BAR_WIDTH * self.fraction)
        left = self._left(self.clock())
        shown = round(100 * self.fraction)
        head = f"[{'#' * done}{'.' * (BAR_WIDTH - done)}] {shown:3d} %"
        eta = f", {duration(left)} left" if left is not None and shown < 100 else ""  # '100 %, 0 s left'
        clauses = self.status_text.split(", ") if self.status_text else []
        statuses = [", ".join(clauses[:count]) for count in range(len(clauses), 0, -1)]
        lines = [f"{head}{'' if ' left' in status else eta}  {status}" for status in statuses] + [head + eta, head]
        width = self._columns() - 1
        return f"\r{next((line for line in lines if len(line) <= width), head[:width])}\x1b[K"

    def _columns(self) -> int:
        """The width of the terminal the bar is drawn on: the stream's, where COLUMNS does not say it;
        standard output's was taken, which is a file or a pipe where the results are kept (a helper's
        audit of 2026-12-06: the bar was drawn 80 columns wide on a terminal of 50, and wrapped)."""
        if not os.environ.get("COLUMNS"):
            try:
                columns = os.get_terminal_size(self.stream.fileno()).columns
            except (AttributeError, OSError, ValueError):  # no stream, or no terminal behind it
                columns = 0
            if columns > 0:  # 0 where the terminal has told no size yet (docker -t)
                return columns
        return shutil.get_terminal_size().columns

    def _clear_bar(self) -> None:
        if self.bar_shown:
            self._write("\r\x1b[K")
            self.bar_shown = False

    def log(self, line: str) -> None:
        if not self.enabled:
            return
        self._clear_bar()
        self._write(line + "\n")
        if self.interactive and self.fraction > 0:
            self._write(self._bar())
            self.bar_shown = True

    def progress(self, fraction: float) -> None:
        self.fraction = min(max(fraction, 0.0), 1.0)
        if not self.enabled:
            return
        now = self.clock()
        if self.interactive:
            if now - self.last_drawn >= REDRAW_SECONDS or self.fraction >= 1.0:
                self._write(self._bar())
                self.bar_shown = True
                self.last_drawn = now
            return
        tenth = int(self.fraction * 10)
        if tenth > self.last_tenth:
            self.last_tenth = tenth
            left = self._left(now)
            eta = f", about {duration(left)} left" if left is not None and self.fraction < 1.0 else ""
            self._write(f"Progress: {10 * tenth} % ({duration(now - self.started)} so far{eta}).\n")

    def status(self, text: str) -> None:
        """What is being done now (an epoch): shown after the bar on a terminal; elsewhere the
        log lines say it."""
        self.status_text = text
        if self.enabled and self.interactive and self.fraction > 0:
            self._write(self._bar())
            self.bar_shown = True

    def finish(self) -> None:
        """Ends the bar's line so that what follows starts on a line of its own."""
        if self.bar_shown:
            self._write("\n")
            self.bar_shown = False

    def cancel_on_interrupt(self) -> None:
        """Ctrl-C (SIGINT) asks the run to stop at its next check; a second one interrupts at once;
        unless the process was started with it ignored (a shell script's `bin/mrs ... &`, as nohup
        ignores SIGHUP: red team of 2026-12-05). (SIGTERM is the engine's: model_core.hooks.cancel_on_sigterm.)"""
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return

        def on_interrupt(_number: int, _frame: object) -> None:
            if self.run_over:  # one after the run raised in the interpreter's shutdown (red team of 2026-12-04)
                return
            self.interrupts += 1
            if self.interrupts > 1:
                raise KeyboardInterrupt
            self.log("Ctrl-C: stopping as on Cancel (Ctrl-C again to stop at once).")

        signal.signal(signal.SIGINT, on_interrupt)
