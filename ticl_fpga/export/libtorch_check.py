"""Run an exported TorchScript model from C++, as CMSSW does, and compare with Python.

``export/cpp/check_torchscript.cpp`` is compiled with g++ against the libtorch that ships inside
the installed torch wheel (headers from ``torch.utils.cpp_extension.include_paths()``, libraries
in ``torch/lib``: ``-ltorch -ltorch_cpu -lc10``, with an rpath, same C++ ABI flag as the wheel).
The program ``torch::jit::load``s the model, runs ``forward`` on every graph of an input file
and writes (and prints) the scores; :func:`compare_with_python` checks them against the same
scripted model run from Python.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ticl_fpga.errors import MissingDependencyError, TiclFpgaError
from ticl_fpga.resources import cpp_dir

log = logging.getLogger(__name__)

SOURCE = "check_torchscript.cpp"


def _source() -> Path:
    return cpp_dir() / SOURCE


def compile_flags() -> list[str]:
    """g++ flags for the libtorch inside the installed torch wheel."""
    import torch
    from torch.utils.cpp_extension import include_paths

    lib = Path(torch.__file__).parent / "lib"
    abi = int(torch.compiled_with_cxx11_abi())
    flags = ["-std=c++17", "-O1", f"-D_GLIBCXX_USE_CXX11_ABI={abi}"]
    flags += [f"-I{p}" for p in include_paths()]
    libs = ["-ltorch", "-ltorch_cpu", "-lc10"]
    if (lib / "libtorch_cuda.so").exists():
        libs = ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"] + libs
    return flags + [f"-L{lib}", f"-Wl,-rpath,{lib}"] + libs


def build_checker(out_dir: str | Path) -> Path:
    """Compile the checker into ``out_dir`` (reused while source and flags are unchanged)."""
    gxx = shutil.which("g++")
    if gxx is None:
        raise MissingDependencyError("g++ is not on PATH (needed to build the libtorch checker)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = _source()
    flags = compile_flags()
    key = hashlib.sha256(src.read_bytes() + " ".join(flags).encode()).hexdigest()[:16]
    exe = out_dir / f"check_torchscript-{key}"
    if exe.exists():
        return exe
    tmp = out_dir / f".{exe.name}.tmp"
    cmd = [gxx, str(src), "-o", str(tmp), *flags]
    log.info("compiling %s against the torch wheel's libtorch", src.name)
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise TiclFpgaError(f"g++ failed on {src}: {res.stderr.strip()[-2000:]}")
    os.replace(tmp, exe)
    return exe


Graph = tuple[np.ndarray, np.ndarray, np.ndarray]  # (x [N,F], edge features [E,Fe], edge_index)


def write_inputs(path: Path, graphs: Sequence[Graph], signature: str) -> None:
    """Write graphs in the checker's input format; ``edge_index`` given as ``[2, E]``."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<q", len(graphs)))
        for x, ea, ei in graphs:
            x = np.ascontiguousarray(x, dtype="<f4")
            ea = np.ascontiguousarray(ea, dtype="<f4").reshape(-1, np.shape(ea)[-1])
            ei = np.asarray(ei, dtype="<i8").reshape(2, -1)
            e = ei.shape[1]
            fh.write(struct.pack("<qqqq", x.shape[0], e, x.shape[1], ea.shape[1]))
            fh.write(x.tobytes())
            fh.write(ea.tobytes())
            layout = ei.T if signature == "cmssw" else ei
            fh.write(np.ascontiguousarray(layout).tobytes())


def read_scores(path: Path, n: int) -> list[np.ndarray]:
    data = Path(path).read_bytes()
    out, pos = [], 0
    for _ in range(n):
        (e,) = struct.unpack_from("<q", data, pos)
        pos += 8
        out.append(np.frombuffer(data, dtype="<f4", count=e, offset=pos).copy())
        pos += 4 * e
    return out


def run_checker(
    exe: Path,
    model_path: str | Path,
    graphs: Sequence[Graph],
    work_dir: str | Path,
    *,
    signature: str = "default",
    device: str = "cpu",
) -> tuple[list[np.ndarray], str]:
    """Scores of every graph computed by the C++ program, and its printed output."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    inp, outp = work_dir / "inputs.bin", work_dir / "scores.bin"
    write_inputs(inp, graphs, signature)
    res = subprocess.run(
        [str(exe), str(model_path), str(inp), str(outp), signature, device],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise TiclFpgaError(f"C++ check failed: {res.stderr.strip()[-2000:]}")
    return read_scores(outp, len(graphs)), res.stdout


def python_scores(
    model_path: str | Path, graphs: Sequence[Graph], *, signature: str = "default", device="cpu"
) -> list[np.ndarray]:
    """The same model and graphs run from Python (``torch.jit.load``)."""
    import torch

    model = torch.jit.load(str(model_path), map_location=device).eval()
    out = []
    with torch.no_grad():
        for x, ea, ei in graphs:
            xt = torch.as_tensor(np.asarray(x, np.float32), device=device)
            et = torch.as_tensor(np.asarray(ea, np.float32), device=device)
            it = torch.as_tensor(np.asarray(ei, np.int64).reshape(2, -1), device=device)
            if signature == "cmssw":
                s = model(xt, et, it.t().contiguous())
            else:
                s = model(xt, it, et)
            out.append(s.reshape(-1).cpu().numpy())
    return out


def compare_with_python(
    model_path: str | Path,
    graphs: Sequence[Graph],
    work_dir: str | Path,
    *,
    signature: str = "default",
    device: str = "cpu",
) -> dict:
    """Run the C++ checker and Python on ``graphs``; returns max |diff| and the C++ output."""
    exe = build_checker(Path(work_dir) / "bin")
    cpp, stdout = run_checker(exe, model_path, graphs, work_dir, signature=signature, device=device)
    py = python_scores(model_path, graphs, signature=signature, device=device)
    diffs = [float(np.abs(a - b).max()) if len(a) else 0.0 for a, b in zip(cpp, py, strict=True)]
    return {
        "max_abs_diff": max(diffs, default=0.0),
        "edges": [len(a) for a in cpp],
        "cpp": cpp,
        "python": py,
        "stdout": stdout,
    }
