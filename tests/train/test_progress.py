"""Off a terminal, training writes one line per epoch, not a redrawn progress bar."""

from __future__ import annotations

import io
import logging
import re

from ticl_fpga.train.fit import fit
from ticl_fpga.train.progress import show_bar


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_show_bar_only_on_a_terminal_when_asked():
    assert show_bar(True, _Tty())
    assert not show_bar(False, _Tty())
    assert not show_bar(True, io.StringIO())
    closed = io.StringIO()
    closed.close()
    assert not show_bar(True, closed)


def test_fit_off_a_terminal_logs_one_line_per_epoch(dataset_dir, tiny_cfg, tmp_path, capfd):
    tiny_cfg.progress_bar = True  # asked for, but pytest's stderr is not a terminal
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    logger = logging.getLogger("ticl_fpga.train")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # the CLI's set-up may have made "ticl_fpga" stop propagating
    try:
        fit(dataset_dir, tiny_cfg, tmp_path / "run")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [r.getMessage() for r in records]
    epochs = [m for m in lines if m.startswith("epoch ")]
    assert len(epochs) == 2
    pattern = (
        r"epoch {}/2: train_loss [0-9.e+-]+ val_loss [0-9.e+-]+ val_auc [0-9.e+-]+ \(\d+\.\d s\)"
    )
    assert re.fullmatch(pattern.format(1), epochs[0]), epochs[0]
    assert re.fullmatch(pattern.format(2), epochs[1]), epochs[1]
    out, err = capfd.readouterr()
    assert "\r" not in out and "\r" not in err
