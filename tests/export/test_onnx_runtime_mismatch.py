"""An ONNX model newer than the installed ONNX Runtime reads: an error that says what to upgrade."""

from __future__ import annotations

import pytest

from ticl_fpga.errors import MissingDependencyError, onnxruntime_too_old


def _identity_model(path, ir_version: int) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = ir_version
    onnx.save(model, str(path))


def test_session_on_a_too_new_ir_version(tmp_path):
    from ticl_fpga.export.onnx import onnx_session

    path = tmp_path / "future.onnx"
    _identity_model(path, ir_version=99)  # what a far newer onnx would write
    with pytest.raises(MissingDependencyError, match=r"onnx .* and onnxruntime .* do not match"):
        onnx_session(path)
    _identity_model(path, ir_version=8)
    assert onnx_session(path).run(None, {"x": [1.5]})[0].tolist() == [1.5]


def test_other_errors_pass_through():
    assert onnxruntime_too_old(RuntimeError("some other failure")) is None
    err = onnxruntime_too_old(
        RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Unsupported model IR version: 14, max 13")
    )
    assert isinstance(err, MissingDependencyError) and "IR version: 14" in str(err)
