"""TorchScript export: the trained float model as a scripted ``ScoringModel`` (raw features -> scores).

The exported module takes ``x [N, F] float32``, ``edge_index [2, E] int64`` and
``edge_attr [E, Fe] float32`` (raw features: the scalers are baked in) and returns sigmoid scores
``[E] float32``; any N and E work, including E = 0.  It is scripted (not traced), so no shape is
frozen, and it runs on CPU or CUDA after ``.to(device)``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from ticl_fpga.io import atomic_path
from ticl_fpga.model.gnn import ScoringModel

log = logging.getLogger(__name__)


def script_model(model: nn.Module) -> torch.jit.ScriptModule:
    """``torch.jit.script(ScoringModel(model))`` of an eval-mode CPU copy of ``model``."""
    import copy

    model = copy.deepcopy(model).cpu().eval()
    for p in model.parameters():
        p.requires_grad_(False)  # inference only: outputs carry no autograd graph
    return torch.jit.script(ScoringModel(model))


def export_torchscript(
    model: nn.Module, path: str | Path, *, metadata: dict[str, str] | None = None
) -> Path:
    """Script ``model`` and save it atomically to ``path``; ``metadata`` goes into the archive."""
    scripted = script_model(model)
    extra = {k: str(v) for k, v in (metadata or {}).items()}
    with atomic_path(path, suffix=".pt") as tmp:
        torch.jit.save(scripted, str(tmp), _extra_files=extra)
    log.info("TorchScript model written to %s", path)
    return Path(path)


def export_run_torchscript(run_dir: str | Path, path: str | Path) -> Path:
    """Export the trained model of a run folder; feature names are stored as archive metadata."""
    import json

    from ticl_fpga.train.fit import load_run, load_trained_model

    payload = load_run(run_dir)
    meta = {
        "node_features.json": json.dumps(payload["node_features"]),
        "edge_features.json": json.dumps(payload["edge_features"]),
        "spec.json": json.dumps(payload["spec"]),
    }
    return export_torchscript(load_trained_model(run_dir), path, metadata=meta)


def load_torchscript(
    path: str | Path, device: str | torch.device = "cpu"
) -> torch.jit.ScriptModule:
    """Load an exported model (as CMSSW would with ``torch::jit::load``)."""
    from ticl_fpga.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such TorchScript file")
    try:
        return torch.jit.load(str(path), map_location=device).eval()
    except RuntimeError as exc:
        raise InputError(path, f"not a TorchScript archive ({str(exc).splitlines()[0]})") from None
