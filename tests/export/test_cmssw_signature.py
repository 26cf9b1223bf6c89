"""``--signature cmssw``: the producer's call, edge direction, input checks, and libtorch from C++."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ticl_fpga.data.dataset import BuildConfig, build_dataset
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.errors import InputError
from ticl_fpga.export.torchscript import export_run_torchscript, load_torchscript
from ticl_fpga.train.config import load_train_config
from ticl_fpga.train.fit import fit, load_trained_model

#: what a failed check raises through the TorchScript interpreter (the message is kept)
SCRIPT_ERRORS = (RuntimeError, torch.jit.Error)


@pytest.fixture(scope="module")
def cmssw_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("cmssw_export")
    root = generate(GeneratorConfig(n_events=24, seed=2), base / "ev.root")
    ds = build_dataset([root], base / "ds", BuildConfig(workers=1, feature_set="cmssw"))
    cfg = load_train_config("quick")
    cfg.epochs, cfg.progress_bar = 1, False
    return fit(ds, cfg, base / "run")


@pytest.fixture(scope="module")
def exported(cmssw_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("ts") / "cmssw.pt"
    return export_run_torchscript(cmssw_run, path, signature="cmssw")


def _graph(n, e, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, 29, generator=g) * 3 + 1,
        torch.randn(e, 5, generator=g) * 3 + 1,
        torch.randint(0, max(n, 1), (e, 2), generator=g),
    )


@pytest.mark.parametrize(("n", "e"), [(1, 0), (5, 0), (2, 1), (9, 16), (300, 1500)])
def test_producer_call_matches_eager(cmssw_run, exported, n, e):
    model = load_trained_model(cmssw_run)
    scripted = load_torchscript(exported)
    X, ef, ei = _graph(n, e, seed=n + e)
    out = scripted(X, ef, ei)
    assert out.shape == (e, 1) and out.dtype == torch.float32
    ref = torch.sigmoid(model(X, ei.t().contiguous(), ef)).detach().unsqueeze(1)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)
    # int32 edge_index (an SoA of ints) gives the same scores
    torch.testing.assert_close(scripted(X, ef, ei.int()), out, rtol=0, atol=0)


def test_reversed_edges_give_different_scores(exported):
    """Column 0 = in() (inner), column 1 = out(): swapping the columns must change the scores."""
    scripted = load_torchscript(exported)
    X, ef, _ = _graph(6, 4, seed=7)
    ei = torch.tensor([[0, 1], [1, 2], [3, 4], [4, 5]])
    fwd = scripted(X, ef, ei)
    rev = scripted(X, ef, ei.flip(1))
    assert (fwd - rev).abs().max() > 1e-4


def test_default_signature_rejects_cmssw_shapes(exported):
    scripted = load_torchscript(exported)
    X, ef, ei = _graph(4, 4, seed=1)
    with pytest.raises(SCRIPT_ERRORS, match=r"edge_index must have shape \[E, 2\]"):
        scripted(X, ef, ei.t().contiguous())  # [2, E] where the producer passes [E, 2]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda X, ef, ei: (X[:, :1], ef, ei), r"X must have shape \[N, 29\]"),
        (lambda X, ef, ei: (X[:, :19], ef, ei), r"X must have shape \[N, 29\]"),
        (lambda X, ef, ei: (X, ef[:, :4], ei), r"edge_features must have shape \[E, 5\]"),
        (lambda X, ef, ei: (X.double(), ef, ei), "X must be float32"),
        (lambda X, ef, ei: (X, ef.half(), ei), "edge_features must be float32"),
        (lambda X, ef, ei: (X, ef, ei.float()), "edge_index must be int64 or int32"),
        (lambda X, ef, ei: (X, ef, ei + 100), "edge_index out of range"),
        (lambda X, ef, ei: (X, ef, ei - 100), "edge_index out of range"),
        (lambda X, ef, ei: (X, ef[:2], ei), "edge_features has 2 rows"),
    ],
)
def test_bad_inputs_raise(exported, mutate, message):
    scripted = load_torchscript(exported)
    X, ef, ei = _graph(5, 3, seed=3)
    with pytest.raises(SCRIPT_ERRORS, match=message):
        scripted(*mutate(X, ef, ei))


def test_default_signature_checks_inputs(run_dir, tmp_path):
    """The default export no longer broadcasts x [N, 1] against its 19-wide scaler."""
    scripted = load_torchscript(export_run_torchscript(run_dir, tmp_path / "d.pt"))
    x = torch.randn(4, 19)
    ei = torch.tensor([[0, 1], [2, 3]])
    ea = torch.randn(2, 10)
    assert scripted(x, ei, ea).shape == (2,)
    with pytest.raises(SCRIPT_ERRORS, match=r"x must have shape \[N, 19\]"):
        scripted(x[:, :1], ei, ea)
    with pytest.raises(SCRIPT_ERRORS, match="edge_index out of range"):
        scripted(x, ei + 3, ea)
    with pytest.raises(SCRIPT_ERRORS, match=r"edge_index must have shape \[2, E\]"):
        scripted(x, torch.tensor([[0, 1], [1, 2], [2, 3]]), torch.randn(3, 10))  # [E, 2]


def test_cmssw_signature_needs_cmssw_features(run_dir, tmp_path):
    with pytest.raises(InputError, match="cmssw feature set"):
        export_run_torchscript(run_dir, tmp_path / "x.pt", signature="cmssw")


@pytest.mark.slow
def test_cpp_libtorch_matches_python(exported, tmp_path):
    """g++ against the torch wheel's libtorch: torch::jit::load, forward, E = 0 included."""
    from ticl_fpga.export.libtorch_check import compare_with_python

    rng = np.random.default_rng(0)
    graphs = []
    for n, e in [(1, 0), (7, 0), (2, 1), (30, 90), (500, 2500)]:
        graphs.append(
            (rng.normal(size=(n, 29)) * 3, rng.normal(size=(e, 5)), rng.integers(0, n, (2, e)))
        )
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        r = compare_with_python(
            exported, graphs, tmp_path / device, signature="cmssw", device=device
        )
        assert r["edges"] == [0, 0, 1, 90, 2500]
        assert r["max_abs_diff"] < 1e-6, device
        assert "case 4 N=500 E=2500 shape=[2500,1]" in r["stdout"]
        assert all(np.isfinite(s).all() for s in r["cpp"])


def test_cli_signature(cmssw_run, run_dir, tmp_path, capsys):
    from ticl_fpga.cli import main

    out = tmp_path / "cli.pt"
    assert (
        main(["export", "torchscript", str(cmssw_run), "-o", str(out), "--signature", "cmssw"]) == 0
    )
    assert load_torchscript(out)(*_graph(3, 2)).shape == (2, 1)
    bad = tmp_path / "bad.pt"
    code = main(["export", "torchscript", str(run_dir), "-o", str(bad), "--signature", "cmssw"])
    assert code == 2 and not bad.exists()
    assert "cmssw feature set" in capsys.readouterr().err
