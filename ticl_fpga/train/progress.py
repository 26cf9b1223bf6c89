"""Training progress: a live bar on a terminal, one log line per epoch everywhere else.

A progress bar redraws itself with carriage returns; written to a file or a pipe (a demo log,
CI) that becomes thousands of lines.  :func:`show_bar` says whether the stream the bar would
write to (tqdm and Lightning write to stderr) is a terminal; :class:`EpochLines` logs each epoch
in one line instead.  Plain tqdm loops get the same rule from ``disable=None if progress else
True`` (tqdm's ``None``: a bar only on a terminal).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Any, TextIO

import lightning as L

log = logging.getLogger("ticl_fpga.train")


def show_bar(requested: bool = True, stream: TextIO | None = None) -> bool:
    """A progress bar only when asked for and ``stream`` (default stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(requested) and stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _fmt(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "nan" if math.isnan(v) else f"{v:.4g}"


class EpochLines(L.Callback):
    """Logs ``epoch i/n: train_loss .. val_loss .. val_auc .. (s)`` once per training epoch."""

    METRICS = ("train_loss", "val_loss", "val_auc")

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        m = trainer.callback_metrics
        values = " ".join(f"{k} {_fmt(m[k])}" for k in self.METRICS if k in m)
        seconds = time.perf_counter() - getattr(self, "_t0", time.perf_counter())
        log.info(
            "epoch %d/%d: %s (%.1f s)",
            trainer.current_epoch + 1,
            trainer.max_epochs,
            values,
            seconds,
        )
