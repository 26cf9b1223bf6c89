"""Float ONNX export of the scoring model with dynamic N and E (ONNX Runtime compatible).

Uses the ``torch.export``-based exporter (``dynamo=True``): it lowers the segment sums to
``ScatterND(reduction="add")``.  The legacy TorchScript exporter (``dynamo=False``) is *not* used
because it exports ``index_add`` as a plain scatter that drops repeated indices (wrong sums for
nodes with several edges).  E = 0 and N = 1 are supported by ONNX Runtime (tested).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from ticl_fpga.errors import onnxruntime_versions_checked
from ticl_fpga.io import atomic_path
from ticl_fpga.model.gnn import ScoringModel

log = logging.getLogger(__name__)

INPUT_NAMES = ("x", "edge_index", "edge_attr")
OUTPUT_NAMES = ("scores",)
DEFAULT_OPSET = 20


def _example_inputs(
    node_dim: int, edge_dim: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    n, e = 7, 12
    return (
        torch.randn(n, node_dim, generator=gen),
        torch.randint(0, n, (2, e), generator=gen),
        torch.randn(e, edge_dim, generator=gen),
    )


def export_onnx(model: nn.Module, path: str | Path, *, opset: int = DEFAULT_OPSET) -> Path:
    """Export ``ScoringModel(model)`` (raw features in, scores out) to ``path`` with dynamic N, E."""
    import copy

    from torch.export import Dim

    from ticl_fpga.errors import require

    require("onnx")
    model = copy.deepcopy(model).cpu().eval()
    # the exporter warns about optional torchvision ops it cannot register: not ours
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    spec = model.spec
    scoring = ScoringModel(model).eval()
    args = _example_inputs(spec.node_dim, spec.edge_dim)
    n, e = Dim("N"), Dim("E")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            scoring,
            args,
            dynamo=True,
            opset_version=opset,
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_shapes=({0: n}, {1: e}, {0: e}),
            verbose=False,
        )
    log.debug("torch.onnx.export output:\n%s", sink.getvalue())
    with atomic_path(path, suffix=".onnx") as tmp:
        program.save(str(tmp))
    log.info("ONNX model written to %s", path)
    return Path(path)


def export_run_onnx(run_dir: str | Path, path: str | Path, *, opset: int = DEFAULT_OPSET) -> Path:
    """Export the trained model of a run folder to float ONNX."""
    from ticl_fpga.train.fit import load_trained_model

    return export_onnx(load_trained_model(run_dir), path, opset=opset)


def onnx_session(path: str | Path, *, threads: int | None = None):
    """An ONNX Runtime CPU session for an exported model."""
    from ticl_fpga.errors import require

    ort = require("onnxruntime")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
    with onnxruntime_versions_checked():
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
