"""Export a Brevitas GNN at fixed capacity to a cleaned QONNX model, and run it with QONNX.

The exported graph computes :meth:`EdgeClassifierGNN.forward_normalized` on inputs that are
already on the input quantizer's grid (see :func:`quantize_inputs`): ``x [n_max+1, F_n]``,
``edge_index [2, e_max]`` (int64) and ``edge_attr [e_max, F_e]`` -> ``logits [e_max]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ticl_fpga.compile.capacity import Capacity
from ticl_fpga.errors import onnxruntime_versions_checked, require

log = logging.getLogger(__name__)

INPUT_NAMES = ("x", "edge_index", "edge_attr")
OUTPUT_NAME = "logits"


class _Core(nn.Module):
    """``forward_normalized`` as ``forward``: what the FPGA computes."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x, edge_index, edge_attr):
        return self.model.forward_normalized(x, edge_index, edge_attr)


@torch.no_grad()
def quantize_inputs(
    qmodel: nn.Module, x, edge_attr, *, normalized: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Raw (or already normalized) features -> values on the input quantizers' grids (float64).

    Brevitas' input quantizers are idempotent, so the model gives the same logits on these values
    as on the original ones; QONNX and the C simulation need them on the grid to be bit-exact.
    """
    from ticl_fpga.compile.csim import check_finite

    check_finite(np.asarray(x), "x")
    check_finite(np.asarray(edge_attr), "edge_attr")
    qmodel.eval()
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    et = torch.as_tensor(np.asarray(edge_attr), dtype=torch.float32)
    if not normalized:
        xt, et = qmodel.normalize(xt, et)
    xq = qmodel.node_in(xt)
    eq = qmodel.edge_in(et)
    return xq.double().numpy(), eq.double().numpy()


def export_qonnx(qmodel: nn.Module, capacity: Capacity, path: str | Path):
    """Export ``qmodel`` at ``capacity`` with Brevitas ``export_qonnx``, clean it, save it.

    Returns the cleaned ``qonnx`` ``ModelWrapper`` (inputs renamed ``x``, ``edge_index``,
    ``edge_attr``; output ``logits``).
    """
    require("onnxoptimizer")
    brevitas_export = require("brevitas.export")
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    from ticl_fpga.io import atomic_path

    was_training = qmodel.training
    qmodel.eval()
    spec = qmodel.spec
    n, e = capacity.n_rows, capacity.e_max
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, spec.node_dim, generator=gen)
    ea = torch.randn(e, spec.edge_dim, generator=gen)
    ei = torch.randint(0, n, (2, e), generator=gen)
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):  # torch.onnx prints progress lines
            brevitas_export.export_qonnx(
                _Core(qmodel).eval(),
                (x, ei, ea),
                export_path=str(raw),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
            )
        log.debug("export_qonnx output:\n%s", sink.getvalue())
        model = cleanup_model(ModelWrapper(str(raw)))
    qmodel.train(was_training)  # Brevitas restores the wrapper's mode, which would be train()
    for tensor, name in zip(model.graph.input, INPUT_NAMES, strict=True):
        if tensor.name != name:
            model.rename_tensor(tensor.name, name)
    if model.graph.output[0].name != OUTPUT_NAME:
        model.rename_tensor(model.graph.output[0].name, OUTPUT_NAME)
    scalers = {
        k: getattr(qmodel, k).detach().cpu().tolist()
        for k in ("node_mean", "node_std", "edge_mean", "edge_std")
    }
    model.set_metadata_prop("ticl_fpga.scalers", json.dumps(scalers))
    model.set_metadata_prop("ticl_fpga.capacity", capacity.model_dump_json())
    model.set_metadata_prop("ticl_fpga.spec", qmodel.spec.model_dump_json())
    with atomic_path(path) as tmp_path:
        model.save(str(tmp_path))
    log.info("exported QONNX model %s (%d nodes)", path, len(model.graph.node))
    return model


def load_qonnx(path_or_model):
    """A ``ModelWrapper`` from a path (or pass one through)."""
    from qonnx.core.modelwrapper import ModelWrapper

    return (
        path_or_model
        if isinstance(path_or_model, ModelWrapper)
        else ModelWrapper(str(path_or_model))
    )


def execute_qonnx(
    model,
    x: np.ndarray,
    edge_index: np.ndarray,
    edge_attr: np.ndarray,
    *,
    full_context: bool = False,
):
    """Run the QONNX model on one padded graph; returns logits ``[e_max]`` (or the full context)."""
    from qonnx.core.onnx_exec import execute_onnx

    from ticl_fpga.compile.csim import check_finite

    check_finite(np.asarray(x), "x")
    check_finite(np.asarray(edge_attr), "edge_attr")
    model = load_qonnx(model)
    feeds = {
        "x": np.asarray(x, dtype=np.float32),
        "edge_index": np.asarray(edge_index, dtype=np.int64),
        "edge_attr": np.asarray(edge_attr, dtype=np.float32),
    }
    with onnxruntime_versions_checked():
        ctx = execute_onnx(model, feeds, return_full_exec_context=full_context)
    return ctx if full_context else ctx[OUTPUT_NAME]


def model_metadata(model) -> tuple[Capacity, dict]:
    """Capacity and feature scalers stored in an exported model by :func:`export_qonnx`."""
    model = load_qonnx(model)
    cap = model.get_metadata_prop("ticl_fpga.capacity")
    scalers = model.get_metadata_prop("ticl_fpga.scalers")
    if cap is None or scalers is None:
        from ticl_fpga.errors import InputError

        raise InputError(
            "<qonnx model>",
            "not exported by ticl_fpga.compile.to_qonnx (no capacity/scalers metadata)",
        )
    return Capacity.model_validate_json(cap), json.loads(scalers)
