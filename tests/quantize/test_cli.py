"""``ticl-fpga qat | prune | scan | quantize``: help, end-to-end runs, one-line errors."""

from __future__ import annotations

import pytest

from ticl_fpga.cli import main
from ticl_fpga.quantize.qat import load_quant_model


@pytest.mark.parametrize(
    "argv",
    [["qat"], ["prune"], ["scan"], ["quantize"], ["quantize", "check"], ["quantize", "cost"]],
    ids=["qat", "prune", "scan", "quantize", "check", "cost"],
)
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_prune_cli_end_to_end(float_run, dataset_dir, tmp_path, capsys):
    out = tmp_path / "pruned"
    rc = main(
        [
            "-q",
            "prune",
            str(float_run),
            "--data",
            str(dataset_dir),
            "--recipe",
            "w6a6",
            "-o",
            str(out),
            "--target",
            "auc-30%",
            "--schedule",
            "0.5,0.8",
            "--finetune-epochs",
            "1",
            "--epochs",
            "1",
            "--batch-size",
            "8",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "w6a6 sparsity" in text and "auc within 30%" in text
    model = load_quant_model(out)
    assert model.spec.niters == 1
    assert main(["-q", "quantize", "check", str(out)]) == 0
    assert "power-of-two" in capsys.readouterr().out
    assert main(["-q", "quantize", "cost", str(out), "--nodes", "10", "--edges", "30"]) == 0
    assert "bops_ratio_vs_16bit_dense" in capsys.readouterr().out
    # pruning an already quantized run skips QAT
    rc = main(
        [
            "-q",
            "prune",
            str(out),
            "--data",
            str(dataset_dir),
            "-o",
            str(tmp_path / "again"),
            "--target",
            "auc>=0.0",
            "--schedule",
            "0.9",
            "--finetune-epochs",
            "0",
        ]
    )
    assert rc == 0


def test_qat_cli(float_run, dataset_dir, tmp_path, capsys):
    rc = main(
        [
            "-q",
            "qat",
            str(float_run),
            "--data",
            str(dataset_dir),
            "--recipe",
            "w8a8",
            "-o",
            str(tmp_path / "q"),
            "--epochs",
            "1",
        ]
    )
    assert rc == 0
    assert "val AUC" in capsys.readouterr().out
    load_quant_model(tmp_path / "q")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--target", "accuracy-1%"], "unknown metric"),
        (["--recipe", "w5a5"], "w5a5"),
        (["--schedule", "0.5,abc"], "--schedule"),
    ],
    ids=["metric", "recipe", "schedule"],
)
def test_prune_cli_errors_are_one_line(extra, message, float_run, dataset_dir, tmp_path, capsys):
    rc = main(
        [
            "-q",
            "prune",
            str(float_run),
            "--data",
            str(dataset_dir),
            "-o",
            str(tmp_path / "x"),
            *extra,
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_cli_qat_defaults_are_the_agreement_settings(tmp_path):
    """Without --qat-config the CLI trains as the demo and agreement benchmark do (6 at 3e-4);
    flags and a --qat-config YAML still win."""
    import argparse

    from ticl_fpga.cli.quantize import _qat_config

    blank = dict(qat_config=None, epochs=None, lr=None, batch_size=None, calib_batches=None)
    blank.update(seed=None, device=None)
    cfg = _qat_config(argparse.Namespace(**blank))
    assert (cfg.epochs, cfg.lr) == (6, 3e-4)
    assert _qat_config(argparse.Namespace(**{**blank, "lr": 1e-3})).lr == 1e-3
    yaml = tmp_path / "qat.yaml"
    yaml.write_text("epochs: 2\n")
    from_file = _qat_config(argparse.Namespace(**{**blank, "qat_config": str(yaml)}))
    assert (from_file.epochs, from_file.lr) == (2, 1e-3)


@pytest.mark.parametrize("verb", ["qat", "prune", "scan"])
def test_help_shows_real_defaults_only(verb, capsys):
    """Options whose default is decided later (None) do not print '(default: None)'."""
    from ticl_fpga.cli import main
    from ticl_fpga.quantize.recipe import DEFAULT_RECIPE

    with pytest.raises(SystemExit) as exc:
        main([verb, "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "default: None" not in out
    if verb != "scan":
        assert f"default: {DEFAULT_RECIPE})" in out or f"(default {DEFAULT_RECIPE})" in out
