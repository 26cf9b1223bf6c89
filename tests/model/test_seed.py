"""The seed's GNN_TrackLinkingNet: architecture, training with --model seed, export, evaluate side by side."""

from __future__ import annotations

import json

import pytest
import torch

from ticl_fpga.data.dataset import BuildConfig, build_dataset
from ticl_fpga.data.synthetic import GeneratorConfig, generate
from ticl_fpga.model.seed import SeedSpec, SeedTrackLinkingNet, build_model, spec_from_dict


def _seed_param_count(F: int, Fe: int, H: int = 64, He: int = 32, niters: int = 4) -> int:
    lin = lambda i, o: i * o + o  # noqa: E731
    n = lin(F, H) + lin(H, H) + lin(Fe, He) + lin(He, He)
    n += 2 * (lin(He, He) + lin(He, 1))  # attention_direct / attention_reverse
    n += niters * (lin(2 * H, 2 * H) + lin(2 * H, H) + lin(H, H))  # EdgeConv + skip
    n += lin(2 * H + Fe + He, H) + lin(H, H)  # edge network (embedding)
    n += lin(H, H) + lin(H, 1)  # output network
    return n


def test_architecture_sizes_match_the_seed():
    model = SeedTrackLinkingNet(spec=SeedSpec(node_dim=29, edge_dim=5))
    got = sum(p.numel() for p in model.parameters())
    assert got == _seed_param_count(29, 5)
    assert len(model.graphconvs) == 4


@pytest.mark.parametrize(("n", "e"), [(1, 0), (5, 3), (50, 200)])
def test_forward_shapes_and_script(n, e):
    torch.manual_seed(0)
    model = SeedTrackLinkingNet(spec=SeedSpec(node_dim=29, edge_dim=5)).eval()
    x, ea = torch.randn(n, 29), torch.randn(e, 5)
    ei = torch.randint(0, n, (2, e))
    out = model(x, ei, ea)
    assert out.shape == (e,)
    scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(x, ei, ea), out)


def test_direction_matters():
    torch.manual_seed(1)
    model = SeedTrackLinkingNet(spec=SeedSpec(node_dim=29, edge_dim=5)).eval()
    x, ea = torch.randn(6, 29), torch.randn(3, 5)
    ei = torch.tensor([[0, 2, 4], [1, 3, 5]])
    assert (model(x, ei, ea) - model(x, ei.flip(0), ea)).abs().max() > 1e-5


def test_spec_round_trip():
    spec = SeedSpec(node_dim=29, edge_dim=5)
    again = spec_from_dict(spec.model_dump())
    assert isinstance(again, SeedSpec) and isinstance(build_model(again), SeedTrackLinkingNet)


@pytest.fixture(scope="module")
def cmssw_dataset(tmp_path_factory):
    base = tmp_path_factory.mktemp("seed")
    root = generate(GeneratorConfig(n_events=40, seed=4), base / "ev.root")
    cfg = BuildConfig(workers=1, feature_set="cmssw", split_fractions=(0.6, 0.2, 0.2))
    return build_dataset([root], base / "ds", cfg)


@pytest.mark.slow
def test_train_seed_export_and_compare(cmssw_dataset, tmp_path):
    from ticl_fpga.evaluate.report import evaluate_run, format_report
    from ticl_fpga.export.torchscript import export_run_torchscript, load_torchscript
    from ticl_fpga.train.config import load_train_config
    from ticl_fpga.train.fit import fit, load_trained_model

    cfg = load_train_config("quick")
    cfg.epochs, cfg.progress_bar = 1, False
    ours = fit(cmssw_dataset, cfg, tmp_path / "gnn")
    cfg.model = "seed"
    seed = fit(cmssw_dataset, cfg, tmp_path / "seed")
    model = load_trained_model(seed)
    assert isinstance(model, SeedTrackLinkingNet)
    assert model.spec.hidden == 64 and model.spec.edge_hidden == 32 and model.spec.niters == 4

    ts = load_torchscript(export_run_torchscript(seed, tmp_path / "seed.pt", signature="cmssw"))
    X, ef = torch.randn(4, 29), torch.randn(2, 5)
    assert ts(X, ef, torch.tensor([[0, 1], [2, 3]])).shape == (2, 1)

    summary = evaluate_run(
        ours, cmssw_dataset, "test", tmp_path / "eval", plots=False, compare=[seed]
    )
    rows = {r["model"]: r for r in summary["models"]}
    assert set(rows) == {"ticl-fpga GNN", "seed GNN_TrackLinkingNet"}
    assert rows["seed GNN_TrackLinkingNet"]["parameters"] == _seed_param_count(29, 5)
    assert rows["ticl-fpga GNN"]["parameters"] < rows["seed GNN_TrackLinkingNet"]["parameters"]
    for r in rows.values():
        assert 0 <= r["auc"] <= 1 and r["cpu_ms_per_event"] > 0
    md = format_report(summary)
    assert "Models side by side" in md and "seed GNN_TrackLinkingNet" in md
    assert (
        json.loads((tmp_path / "eval" / "summary.json").read_text())["models"][1]["run"] == "seed"
    )
