"""Callbacks through which long work reports progress and honours cancel."""

import contextlib
import dataclasses
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, List, Optional

from .errors import Canceled
from .launcher import launched


def _ignore(_value: object) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class Hooks:
    """What a caller (QGIS, a benchmark, a test) plugs into long-running work.

    `progress` takes the fraction done (0..1), `log` one line of text, and
    `is_canceled` is polled at least once per batch or tile. `status` takes a
    short text on what is being done now, set once per step such as an epoch
    (bin/mrs shows it beside its bar; QGIS, which would log it too, is not given it).
    `warn` takes a line that says a result may be wrong (QGIS shows it as a warning);
    without it, `warning` gives such lines to `log`. `resumed` takes the fraction done before
    this run's pace starts, which the time left leaves out: what an earlier run did (a training
    resumed from its checkpoint), and the preparation before a training, at another pace.
    """

    progress: Callable[[float], None] = field(default=_ignore)
    log: Callable[[str], None] = field(default=_ignore)
    is_canceled: Callable[[], bool] = field(default=_never)
    status: Callable[[str], None] = field(default=_ignore)
    warn: Optional[Callable[[str], None]] = None
    resumed: Callable[[float], None] = field(default=_ignore)

    def warning(self, text: str) -> None:
        """A line that says the result may be wrong, and why."""
        (self.warn or self.log)(text)

    def check_cancel(self) -> None:
        if self.is_canceled():
            raise Canceled()

    def sub(self, start: float, stop: float) -> "Hooks":
        """Hooks whose progress 0..1 maps onto [start, stop] of this one's."""
        span = stop - start
        parent, parent_resumed = self.progress, self.resumed
        return Hooks(
            progress=lambda fraction: parent(start + span * min(max(fraction, 0.0), 1.0)),
            log=self.log,
            is_canceled=self.is_canceled,
            status=self.status,
            warn=self.warn,
            resumed=lambda fraction: parent_resumed(start + span * min(max(fraction, 0.0), 1.0)),
        )


PACE_AFTER_S = 30.0
clock = time.monotonic


class Pace:
    """Says once, when the work has taken PACE_AFTER_S and some remains, how long the rest takes at
    the pace so far: QGIS shows a bar, not a time (a helper's red team of 2026-12-05: a classification
    of about 2 hours said nothing after its first line; a fine-tuning of 9 hours nothing for the 6
    minutes of its first epoch). Ticked by the progress, of `unit` ('the pixels' of a map, counted
    within tiles too: a tile of 4 million pixels took half an hour before the first figure, and a
    first tile of 97 % of the pixels made 1.6 s left read as 1 min 37 s: red team of 2026-12-05).
    `start`: the fraction done before this pace began (an earlier run's, for a resumed training)."""

    def __init__(self, what: str, unit: str = "the pixels", start: float = 0.0) -> None:
        self.what, self.unit, self.first, self.began, self.said = what, unit, start, clock(), False

    def tick(self, fraction: float, hooks: Hooks) -> None:
        elapsed, done = clock() - self.began, fraction - self.first
        if self.said or not 0.01 <= done or fraction >= 1 or elapsed < PACE_AFTER_S:  # from 1 %: a tile is read first
            return
        self.said = True
        hooks.log(f"{self.what}: about {duration(elapsed * (1 - fraction) / done)} left at the pace so far "
                  f"({100 * done:.0f} % of {self.unit} in {duration(elapsed)}).")  # this run's (a review)

    def stop(self) -> None:
        """Says nothing from now on (other lines say the time left)."""
        self.said = True

    def hooks(self, hooks: Hooks) -> Hooks:
        """`hooks` whose progress ticks the pace too."""
        def progress(fraction: float) -> None:
            hooks.progress(fraction)
            self.tick(fraction, hooks)

        return dataclasses.replace(hooks, progress=progress)


CANCELLING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGXCPU")
                           if hasattr(signal, name))
"""What `kill`, a batch scheduler or a container stop send, and what a closed terminal or a
dropped ssh connection sends (which ended a run at once, leaving its temporary files); SIGUSR1
and SIGUSR2, which Slurm's --signal sends before a time limit for a run to save its work (they
ended it at once, its checkpoint unwritten: a helper's red team of 2026-12-06); SIGXCPU, the
soft CPU-time limit's (ulimit -t), before the hard one kills (it did so, no checkpoint kept: a
helper's red team of 2026-12-07). Windows has none but SIGTERM."""
REPEATED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGXCPU",) if hasattr(signal, name))
"""Signals the system sends again by itself (SIGXCPU each CPU second past the soft limit): a repeat
is not a second request to stop at once."""


@contextlib.contextmanager
def signals_handled(numbers: Iterable[int], handler: Any) -> Iterator[None]:
    """`handler` for each of the signals `numbers` while the block runs, and the earlier handlers
    after; a signal ignored when the block starts (`nohup` ignores SIGHUP) stays ignored. Only the
    main thread may set handlers: elsewhere the block runs with them as they are."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in numbers}
    for number, earlier in previous.items():
        if earlier is not signal.SIG_IGN:
            signal.signal(number, handler)
    try:
        yield
    finally:
        for number, earlier in previous.items():
            signal.signal(number, signal.SIG_DFL if earlier is None else earlier)


TORCHRUN_SIGTERM = (" (torchrun sends it to every process when the run is stopped, and when another of its processes "
                    "has ended: that one's message says why)")
"""What a SIGTERM under torchrun may mean: a helper's red team of 2026-12-05 found a process whose
partner refused its input told only that it was stopped as on Cancel."""


@contextlib.contextmanager
def cancel_on_sigterm(hooks: Hooks) -> Iterator[Hooks]:
    """Hooks that also report cancel once the process gets SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 or
    SIGXCPU (`CANCELLING_SIGNALS`), so the work stops as on Cancel: training writes its checkpoint and
    no half-written output is published, and the run says which signal stopped it. A second such
    signal (not a repeat the system sends, `REPEATED_SIGNALS`) ends the process at once. A signal
    ignored when the work starts (`nohup` ignores SIGHUP) stays ignored. Only the main thread receives
    signals; elsewhere (QGIS desktop runs algorithms in a worker thread) `hooks` is yielded unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield hooks
        return
    names: List[str] = []  # the signals received, in order

    def on_signal(number: int, _frame: object) -> None:
        if names and number in REPEATED_SIGNALS:
            return
        if names:  # said, as the second Ctrl-C is (red team of 2026-12-05: status 143 without a word)
            name = signal.Signals(number).name
            # after another signal, not 'again' (a helper's mutation audit of 2026-12-07: SIGXCPU, then SIGTERM)
            when = "again" if name in names else f"after {names[0]}"
            try:
                hooks.log(f"{name} received {when}: stopping at once (exit status {128 + number}).")
            finally:  # a log that cannot be written (a closed terminal's SIGHUP) must not keep the process
                signal.signal(number, signal.SIG_DFL)
                os.kill(os.getpid(), number)
            return
        names.append(signal.Signals(number).name)
        again = " (the CPU-time limit's; the system kills the run at its hard limit)" if number in REPEATED_SIGNALS \
            else " (send it again to stop at once)"
        hooks.log(f"{names[-1]} received: stopping as on Cancel{again}.")

    with signals_handled(CANCELLING_SIGNALS, on_signal):
        try:
            yield dataclasses.replace(hooks, is_canceled=lambda: bool(names) or hooks.is_canceled())
        except (Canceled, RuntimeError) as error:  # an exchange a partner left as it stopped too (a review of 12-05)
            if not names:
                raise
            raise Canceled(f"Stopped by {names[0]}, as on Cancel{TORCHRUN_SIGTERM if launched() else ''}.",
                           voted=getattr(error, "voted", False)) from None
        if names:  # after the work's last look at cancel (a helper's red team of 2026-12-05: "stopping", then results)
            hooks.log(came_once_done(names[0]) + ".")


def came_once_done(what: str) -> str:
    """What a cancel that came after the work's last look at it left: whole outputs."""
    return f"{what} came once the work was done: its outputs are written whole and kept"



def duration(seconds: float) -> str:
    """'42 s', '3 min 05 s', '2 h 07 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"


def first_few(items: Iterable[str], separator: str = ", ", limit: int = 5) -> str:
    """The first `limit` items of a log line's list, joined, and '...' when there are more."""
    items = list(items)
    return separator.join(items[:limit]) + (f"{separator}..." if len(items) > limit else "")
