"""Progress bars across epochs: ``for epoch in Flux.progress(range(n))`` (``@showprogress``).

A Flux user writes ``@showprogress for epoch in 1:1000 ... end`` (ProgressMeter.jl);
here the loop is wrapped instead: ``for epoch in progress(range(1000)):``. The bar is
tqdm's. While such a loop runs, every ``train_`` call inside it counts its batches on
a second line under the bar, however short the epoch (``train_`` on its own shows a
bar only for calls longer than a second).

The loops open in each thread are kept per thread, so loops in two threads do not
see each other's bars.
"""
import sys
import threading
import time
from typing import Any, Iterable, Iterator, Optional, TextIO, TypeVar

from tqdm.auto import tqdm

__all__ = ["progress", "Progress", "within_progress"]

T = TypeVar("T")

_local = threading.local()      # .bars: this thread's running progress loops, innermost last


def _running() -> list:
    bars = getattr(_local, "bars", None)
    if bars is None:
        bars = _local.bars = []
    return bars


class Progress(tqdm):
    """The bar :func:`progress` returns: a tqdm bar (``set_postfix``, ``write``, ``close``
    work as in tqdm) that lends the line under it to the ``train_`` calls made inside its loop.

    >>> import io
    >>> bar = Progress(range(2), "epochs", file=io.StringIO())
    >>> [epoch for epoch in bar], bar.n
    ([0, 1], 2)
    """

    def __init__(self, iterable: Iterable[T], desc: Optional[str] = None, *,
                 file: Optional[TextIO] = None, **options: Any):
        self._child, self._shown = None, 0.0     # the line under this bar, when it was drawn
        self._stream = sys.stderr if file is None else file   # for the line under this one
        super().__init__(iterable, desc=desc, file=self._stream, **options)

    def __iter__(self) -> Iterator[T]:
        bars = _running()
        bars.append(self)
        try:
            yield from super().__iter__()
        finally:
            for i in range(len(bars) - 1, -1, -1):   # by identity: tqdm compares bars by position
                if bars[i] is self:
                    del bars[i]
                    break
            self._close_child()

    def close(self) -> None:
        self._close_child()
        super().close()

    def _close_child(self):
        child, self._child = self._child, None
        if child is not None:
            child.close()

    def counting(self, data: Iterable[T], desc: str) -> Iterator[T]:
        """``data``, its items counted on the line under this bar (one line, reused by each call)."""
        try:
            total = len(data)
        except TypeError:
            total = None
        # the rate and the time left are the outer bar's; this line shows where the call is
        shape = "{desc}: {n_fmt} done" if total is None else "{l_bar}{bar}| {n_fmt}/{total_fmt}"
        if self._child is None:
            self._child = tqdm(total=total, desc=desc, file=self._stream, leave=False,
                               ascii=self.ascii, bar_format=shape)
            self._shown = time.monotonic()      # (tqdm drew it just now)
        else:           # no redraw here: a call shorter than mininterval would always show 0
            self._child.set_description_str(desc, refresh=False)
            self._child.bar_format, self._child.total, self._child.n = shape, total, 0
        return self._counted(data, self._child)

    def _counted(self, data, line):
        """Redraw ``line`` at most every ``mininterval`` seconds, as tqdm does, across calls."""
        for n, item in enumerate(data, 1):
            yield item
            line.n = n
            now = time.monotonic()
            if now - self._shown >= self.mininterval:
                self._shown = now
                line.refresh()


def progress(iterable: Iterable[T], desc: Optional[str] = None, *, total: Optional[int] = None,
             enabled: bool = True, file: Optional[TextIO] = None, leave: bool = True,
             **options: Any) -> Progress:
    """Wrap a loop in a progress bar (ProgressMeter's ``@showprogress``), built on tqdm.

    ``for epoch in progress(range(epochs)):`` shows how many epochs are done, the rate
    and the time left, on stderr (or ``file``). ``desc`` labels the bar (``@showprogress
    "Training..." for ...``); ``total`` gives the length of an iterable without ``len``;
    ``enabled=False`` hides the bar (ProgressMeter's ``enabled=false``; e.g. on all but
    one worker), and ``leave=False`` clears it when the loop ends. Other keywords go to
    ``tqdm`` (``mininterval``, ``ncols``, ``unit``...).

    While the loop runs, each ``train_`` call inside it counts its batches on the line
    under the bar (``train_(..., progress=False)`` keeps it quiet). Values such as the
    loss are shown with ``bar.set_postfix(loss=...)``, ProgressMeter's ``showvalues``;
    print with ``bar.write(text)`` so that the bar is redrawn below the text.

    >>> import io
    >>> out = io.StringIO()                  # stderr, in a script
    >>> for epoch in progress(range(3), "epochs", file=out):
    ...     pass
    >>> print(out.getvalue().split("\\r")[-1].strip())
    epochs: 100%|##########| 3/3 [...]
    """
    return Progress(iterable, desc, total=total, disable=not enabled, file=file, leave=leave,
                    **options)


def within_progress(data: Iterable[T], desc: str, forced: bool = False) -> Optional[Iterable[T]]:
    """For ``train_``: ``data`` counted under this thread's innermost running
    :func:`progress` loop, or ``data`` itself when that bar is hidden (and ``forced``
    is false); None outside such a loop.

    >>> within_progress([1, 2], "train_") is None
    True
    """
    bars = getattr(_local, "bars", None)
    if not bars:
        return None
    outer = bars[-1]
    if outer.disable:
        return None if forced else data
    return outer.counting(data, desc)
