"""Loading a missing, truncated or corrupt dataset, model, checkpoint, QONNX model, hls project or
stage marker: one line naming the file, exit 2, nothing written."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.bad_input.conftest import one_error, snapshot, unchanged


@pytest.fixture
def ds_copy(good_ds, tmp_path):
    return shutil.copytree(good_ds, tmp_path / "ds")


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_truncated_shard(ds_copy, tmp_path, cli):
    shard = sorted((ds_copy / "train").glob("*.pt"))[0]
    _truncate(shard)
    before = snapshot(tmp_path)
    rc, err = cli("train", ds_copy, "-o", tmp_path / "run")
    one_error(rc, err, shard.name, "corrupt shard")
    unchanged(before, tmp_path, new_ok=lambda p: "/run" in p)


def test_missing_shard(ds_copy, cli):
    shard = sorted((ds_copy / "val").glob("*.pt"))[0]
    shard.unlink()
    rc, err = cli("data", "summary", ds_copy)
    one_error(rc, err, shard.name, "missing shard")


@pytest.mark.parametrize(
    "edit,field",
    [
        (lambda m: m["scalers"]["node_mean"].__setitem__(3, float("nan")), "scalers.node_mean"),
        (lambda m: m["scalers"]["edge_std"].pop(), "scalers.edge_std"),
        (lambda m: m.pop("shards"), "shards"),
        (lambda m: m["shards"].__setitem__("train", ["../../etc/passwd"]), "shards"),
    ],
    ids=["nan_scaler", "short_scaler", "no_shards", "shard_outside"],
)
def test_bad_meta(edit, field, ds_copy, cli):
    meta = json.loads((ds_copy / "meta.json").read_text())
    edit(meta)
    (ds_copy / "meta.json").write_text(json.dumps(meta).replace("NaN", "NaN"))
    rc, err = cli("data", "summary", ds_copy)
    one_error(rc, err, "meta.json", field)


def test_truncated_meta(ds_copy, cli):
    _truncate(ds_copy / "meta.json")
    rc, err = cli("data", "summary", ds_copy)
    one_error(rc, err, "meta.json", "truncated")


def test_corrupt_model(trained_run, tmp_path, cli):
    run = shutil.copytree(trained_run, tmp_path / "run")
    _truncate(run / "model.pt")
    before = snapshot(tmp_path)
    for argv in (
        ["export", "torchscript", run, "-o", tmp_path / "m.pt"],
        ["export", "onnx", run, "-o", tmp_path / "m.onnx"],
    ):
        rc, err = cli(*argv)
        one_error(rc, err, "model.pt")
    unchanged(before, tmp_path)


def test_model_with_wrong_weights(trained_run, tmp_path, cli):
    import torch

    run = shutil.copytree(trained_run, tmp_path / "run")
    payload = torch.load(run / "model.pt", weights_only=False)
    payload["spec"]["node_hidden"] = 99
    torch.save(payload, run / "model.pt")
    rc, err = cli("export", "torchscript", run, "-o", tmp_path / "m.pt")
    one_error(rc, err, "model.pt", "do not fit")
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize(
    "content", [b"", b"\x08\x01garbage" * 50, None], ids=["empty", "garbage", "folder"]
)
def test_bad_qonnx(content, tmp_path, cli):
    m = tmp_path / "m.onnx"
    if content is None:
        m.mkdir()
    else:
        m.write_bytes(content)
    before = snapshot(tmp_path)
    rc, err = cli("hls", "build", m, "--out", tmp_path / "prj")
    one_error(rc, err, "m.onnx")
    unchanged(before, tmp_path)


def test_onnx_not_written_by_us(tmp_path, cli):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(g), tmp_path / "plain.onnx")
    rc, err = cli("hls", "build", tmp_path / "plain.onnx", "--out", tmp_path / "prj")
    one_error(rc, err, "plain.onnx", "not exported by")
    assert not (tmp_path / "prj").exists()


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"hls_build.yaml": b"\xff\xfe\x00binary"},
        {"hls_build.yaml": b"config: [1, 2\n"},
        {"hls_build.yaml": b"nothing: here\n"},
    ],
    ids=["empty", "binary", "bad_yaml", "no_config"],
)
def test_bad_hls_project(files, good_ds, tmp_path, cli):
    prj = tmp_path / "prj"
    prj.mkdir()
    for name, data in files.items():
        (prj / name).write_bytes(data)
    before = snapshot(tmp_path)
    rc, err = cli("hls", "predict", prj, "--dataset", good_ds, "--out", tmp_path / "o.npz")
    one_error(rc, err, "prj")
    unchanged(before, tmp_path)


@pytest.mark.parametrize(
    "content", ["{not json", '{"outputs": 3}', "[]"], ids=["truncated", "bad_outputs", "list"]
)
def test_corrupt_stage_marker(content, tmp_path, cli):
    out = tmp_path / "demo"
    (out / "stages").mkdir(parents=True)
    (out / "stages" / "generate.json").write_text(content)
    before = snapshot(tmp_path)
    rc, err = cli("demo", "--quick", "--out", out)
    one_error(rc, err, "generate.json", "stage marker")
    unchanged(
        before, tmp_path, new_ok=lambda p: p.endswith((".ticl-fpga.json", ".lock", "demo.yaml"))
    )


def test_corrupt_quant_run(tmp_path, cli):
    q = tmp_path / "q"
    q.mkdir()
    (q / "model.pt").write_bytes(b"PK\x03\x04 truncated zip")
    rc, err = cli("quantize", "check", q)
    one_error(rc, err, "model.pt")
