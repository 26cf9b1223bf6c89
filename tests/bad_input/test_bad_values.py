"""Command-line values and config files are checked before any work starts: one line, exit 2."""

from __future__ import annotations

import pytest

from tests.bad_input.conftest import one_error, snapshot, unchanged

# (argv with {ds} {root} {tmp} placeholders, what the one line must name)
VALUES = [
    ("data build {root} -o {tmp}/o --workers 0", "--workers"),
    ("data build {root} -o {tmp}/o --max-events 0", "--max-events"),
    ("data build {root} -o {tmp}/o --max-events -5", "--max-events"),
    ("data generate -o {tmp}/o.root --events -5", "--events"),
    ("data generate -o {tmp}/o.root --pileup -1", "--pileup"),
    ("hls build {tmp}/m.onnx --out {tmp}/o --n-max 0", "--n-max"),
    ("hls build {tmp}/m.onnx --out {tmp}/o --reuse-factor 0", "--reuse-factor"),
    ("hls build {tmp}/m.onnx --out {tmp}/o --clock-period -1", "--clock-period"),
    ("hls build {tmp}/m.onnx --out {tmp}/o --clock-period nan", "--clock-period"),
    (
        "hls predict {tmp}/p --dataset {ds} --out {tmp}/o.npz --window-overlap -5",
        "--window-overlap",
    ),
    (
        "compare --float {tmp}/f --quant {tmp}/q --dataset {ds} --out {tmp}/o --window-overlap -5",
        "--window-overlap",
    ),
    (
        "compare --float {tmp}/f --quant {tmp}/q --dataset {ds} --out {tmp}/o --max-events 0",
        "--max-events",
    ),
    ("demo --out {tmp}/o --events -5", "--events"),
    ("demo --out {tmp}/o --n-max 0", "--n-max"),
    ("export onnx {tmp}/run -o {tmp}/o.onnx --opset 0", "--opset 0"),
    ("export onnx {tmp}/run -o {tmp}/o.onnx --opset 99", "--opset 99"),
    ("evaluate {tmp}/run --dataset {ds} --device banana", "banana"),
    ("evaluate {tmp}/run --dataset {ds} --cut 1.5", "--cut"),
    ("qat {tmp}/run --dataset {ds} -o {tmp}/o --device banana", "banana"),
    ("scan {tmp}/run --dataset {ds} -o {tmp}/o --recipes ,", "--recipes"),
    ("quantize cost {tmp}/q --nodes -5 --edges 3", "--nodes"),
    ("train {ds} -o {tmp}/o --batch-size 0", "batch_size"),
    ("train {ds} -o {tmp}/o --devices 0", "devices"),
]


@pytest.mark.parametrize(
    "argv,needle", VALUES, ids=[v[0].split(" {")[0] + "|" + v[1] for v in VALUES]
)
def test_bad_value(argv, needle, good_ds, good_root, tmp_path, cli):
    before = snapshot(tmp_path, good_ds)
    args = argv.format(ds=good_ds, root=good_root, tmp=tmp_path).split()
    rc, err = cli(*args)
    one_error(rc, err, needle)
    unchanged(before, tmp_path, good_ds)


def test_gpu_without_gpu(good_ds, tmp_path, cli):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    rc, err = cli("train", good_ds, "-o", tmp_path / "run", "--accelerator", "gpu")
    one_error(rc, err, "--accelerator gpu", "CUDA")
    assert not (tmp_path / "run").exists()


def test_opset_the_exporter_cannot_write(trained_run, tmp_path, cli):
    """torch's exporter silently writes opset 18 for 7: refused, nothing written."""
    rc, err = cli("export", "onnx", trained_run, "-o", tmp_path / "m.onnx", "--opset", "7")
    one_error(rc, err, "--opset 7", "wrote 18")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fractions", ["[0.5, 0.2, 0.2]", "[1.2, -0.1, -0.1]", "[0, 0.5, 0.5]"])
def test_split_fractions(fractions, good_root, tmp_path, cli):
    cfg = tmp_path / "build.yaml"
    cfg.write_text(f"split_fractions: {fractions}\n")
    rc, err = cli("data", "build", good_root, "-o", tmp_path / "ds", "--config", cfg)
    one_error(rc, err, "build.yaml", "split_fractions")
    assert not (tmp_path / "ds").exists()


def _binary(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.write_bytes(bytes(range(256)) * 4)
    return p


def _folder(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.mkdir()
    return p


def _list(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.write_text("- 1\n- 2\n")
    return p


@pytest.mark.parametrize("make", [_binary, _folder, _list], ids=["binary", "folder", "list"])
@pytest.mark.parametrize(
    "argv",
    [
        "data build {root} -o {tmp}/o --config {cfg}",
        "data generate -o {tmp}/o.root --config {cfg}",
        "train {ds} -o {tmp}/o --config {cfg}",
        "demo --out {tmp}/o --config {cfg}",
        "hls build {tmp}/m.onnx --out {tmp}/o --config {cfg}",
        "qat {tmp}/run --dataset {ds} -o {tmp}/o --recipe {cfg}",
    ],
    ids=lambda a: a.split(" {")[0],
)
def test_bad_config_file(make, argv, good_ds, good_root, tmp_path, cli):
    cfg = make(tmp_path)
    before = snapshot(tmp_path, good_ds)
    rc, err = cli(*argv.format(ds=good_ds, root=good_root, tmp=tmp_path, cfg=cfg).split())
    one_error(rc, err, "cfg.yaml")
    unchanged(before, tmp_path, good_ds)
