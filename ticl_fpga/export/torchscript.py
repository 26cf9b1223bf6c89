"""TorchScript export: the trained float model as a scripted scoring module (raw features -> scores).

Two signatures (``--signature``):

``default``
    ``forward(x [N, F] float32, edge_index [2, E] int64, edge_attr [E, Fe] float32) -> [E]``;
    row 0 of ``edge_index`` is the source (the trackster nearer the interaction point).
``cmssw``
    exactly the call of CMSSW's ``TracksterLinkingByGNNProducer``:
    ``forward(X [N, 29] float32, edge_features [E, 5] float32, edge_index [E, 2] int32/int64)
    -> [E, 1]`` sigmoid scores.  Column 0 of ``edge_index`` is ``in()`` = trackster ``i``
    (inner, nearer the interaction point), column 1 ``out()`` = its TICLGraph outer neighbour,
    as ``TracksterSoAProducer`` fills them (see ``ticl_fpga/data/cmssw.py``).  Only a model
    trained on the ``cmssw`` feature set can be exported this way.

Both check their inputs (rank, widths, dtypes, matching E, edge_index in ``[0, N)``) and raise a
``RuntimeError`` that names the input; scalers are baked in; any N and E work, including E = 0.
The modules are scripted (not traced), so no shape is frozen, and run on CPU or CUDA after
``.to(device)``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import Tensor, nn

from ticl_fpga.errors import InputError
from ticl_fpga.io import atomic_path

log = logging.getLogger(__name__)

SIGNATURES = ("default", "cmssw")


def _check_features(t: Tensor, name: str, rows: int, width: int, rows_name: str) -> None:
    if t.dim() != 2 or t.size(1) != width:
        raise RuntimeError(
            name + " must have shape [" + rows_name + ", " + str(width) + "], got " + str(t.shape)
        )
    if t.dtype != torch.float32:
        raise RuntimeError(name + " must be float32")
    if rows >= 0 and t.size(0) != rows:
        raise RuntimeError(
            name + " has " + str(t.size(0)) + " rows, edge_index has " + str(rows) + " edges"
        )


def _check_index(edge_index: Tensor, num_nodes: int) -> None:
    if edge_index.dtype != torch.int64 and edge_index.dtype != torch.int32:
        raise RuntimeError("edge_index must be int64 or int32")
    if edge_index.numel() > 0:
        lo = int(edge_index.min())
        hi = int(edge_index.max())
        if lo < 0 or hi >= num_nodes:
            raise RuntimeError(
                "edge_index out of range: values in ["
                + str(lo)
                + ", "
                + str(hi)
                + "] for "
                + str(num_nodes)
                + " nodes"
            )


def _check_inputs(
    x: Tensor,
    x_name: str,
    node_dim: int,
    edge_index: Tensor,
    pair_dim: int,
    edge_attr: Tensor,
    attr_name: str,
    edge_dim: int,
) -> None:
    """Check one call's inputs; ``pair_dim`` is the axis of ``edge_index`` that holds the pair."""
    _check_features(x, x_name, -1, node_dim, "N")
    if edge_index.dim() != 2 or edge_index.size(pair_dim) != 2:
        shape = "[2, E]" if pair_dim == 0 else "[E, 2]"
        raise RuntimeError("edge_index must have shape " + shape + ", got " + str(edge_index.shape))
    _check_index(edge_index, x.size(0))
    _check_features(edge_attr, attr_name, edge_index.size(1 - pair_dim), edge_dim, "E")


def _no_edges(x: Tensor, width: int) -> Tensor:
    """The scores of an event without candidate edges: ``[0]`` (``width`` 0) or ``[0, width]``.

    The model is not run for E = 0.  On CUDA, TorchScript's profiling executor specialises the
    graph (and its fused kernels) on the first call; when that call had no edges, the next
    edgeless call failed inside the model ("mat1 and mat2 must have the same dtype, but got Int
    and Float"; seen on an H200 with torch 2.11, TensorExpr fuser on, the CPU unaffected).  An
    event with no edges has nothing to score, so returning before the model is exact.
    """
    if width == 0:
        return torch.zeros(0, dtype=x.dtype, device=x.device)
    return torch.zeros(0, width, dtype=x.dtype, device=x.device)


class _Checked(nn.Module):
    """A float model behind an input check (the signatures below differ in their call only)."""

    def __init__(self, model: nn.Module, node_dim: int, edge_dim: int) -> None:
        super().__init__()
        self.model = model
        self.node_dim = node_dim
        self.edge_dim = edge_dim


class ValidatedScoringModel(_Checked):
    """``default`` signature: ``(x [N, F], edge_index [2, E], edge_attr [E, Fe]) -> [E]``."""

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        _check_inputs(x, "x", self.node_dim, edge_index, 0, edge_attr, "edge_attr", self.edge_dim)
        if edge_index.size(1) == 0:
            return _no_edges(x, 0)
        return torch.sigmoid(self.model(x, edge_index.long(), edge_attr))


class CmsswScoringModel(_Checked):
    """``cmssw`` signature: ``(X [N, 29], edge_features [E, 5], edge_index [E, 2]) -> [E, 1]``."""

    def forward(self, X: Tensor, edge_features: Tensor, edge_index: Tensor) -> Tensor:
        _check_inputs(
            X, "X", self.node_dim, edge_index, 1, edge_features, "edge_features", self.edge_dim
        )
        if edge_index.size(0) == 0:
            return _no_edges(X, 1)
        # column 0 = in() (inner trackster), column 1 = out(): our [2, E] src -> dst
        ei = edge_index.t().contiguous().long()
        return torch.sigmoid(self.model(X, ei, edge_features)).unsqueeze(1)


def _dims(model: nn.Module) -> tuple[int, int]:
    spec = model.spec
    return int(spec.node_dim), int(spec.edge_dim)


def script_model(model: nn.Module, signature: str = "default") -> torch.jit.ScriptModule:
    """Script an eval-mode CPU copy of ``model`` wrapped in the ``signature``'s checking module."""
    import copy

    if signature not in SIGNATURES:
        raise ValueError(f"unknown signature '{signature}' (one of {', '.join(SIGNATURES)})")
    model = copy.deepcopy(model).cpu().eval()
    for p in model.parameters():
        p.requires_grad_(False)  # inference only: outputs carry no autograd graph
    wrapper = ValidatedScoringModel if signature == "default" else CmsswScoringModel
    return torch.jit.script(wrapper(model, *_dims(model)))


def export_torchscript(
    model: nn.Module,
    path: str | Path,
    *,
    metadata: dict[str, str] | None = None,
    signature: str = "default",
) -> Path:
    """Script ``model`` and save it atomically to ``path``; ``metadata`` goes into the archive."""
    scripted = script_model(model, signature)
    extra = {k: str(v) for k, v in (metadata or {}).items()}
    with atomic_path(path, suffix=".pt") as tmp:
        torch.jit.save(scripted, str(tmp), _extra_files=extra)
    log.info("TorchScript model written to %s", path)
    return Path(path)


def export_run_torchscript(
    run_dir: str | Path, path: str | Path, *, signature: str = "default"
) -> Path:
    """Export the trained model of a run folder; feature names are stored as archive metadata.

    ``signature="cmssw"`` needs a run trained on the ``cmssw`` feature set (the producer's 29 node
    and 5 edge features, in its order).
    """
    import json

    from ticl_fpga.data.features import CMSSW_EDGE_FEATURES, CMSSW_NODE_FEATURES
    from ticl_fpga.train.fit import load_run, load_trained_model

    payload = load_run(run_dir)
    if signature == "cmssw" and (
        tuple(payload["node_features"]) != CMSSW_NODE_FEATURES
        or tuple(payload["edge_features"]) != CMSSW_EDGE_FEATURES
    ):
        raise InputError(
            run_dir,
            "--signature cmssw needs a model trained on the cmssw feature set "
            f"(this one has {len(payload['node_features'])} node / "
            f"{len(payload['edge_features'])} edge features; build with feature_set: cmssw)",
        )
    meta = {
        "node_features.json": json.dumps(payload["node_features"]),
        "edge_features.json": json.dumps(payload["edge_features"]),
        "spec.json": json.dumps(payload["spec"]),
        "signature.txt": signature,
    }
    return export_torchscript(load_trained_model(run_dir), path, metadata=meta, signature=signature)


def load_torchscript(
    path: str | Path, device: str | torch.device = "cpu"
) -> torch.jit.ScriptModule:
    """Load an exported model (as CMSSW would with ``torch::jit::load``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such TorchScript file")
    try:
        return torch.jit.load(str(path), map_location=device).eval()
    except RuntimeError as exc:
        raise InputError(path, f"not a TorchScript archive ({str(exc).splitlines()[0]})") from None
