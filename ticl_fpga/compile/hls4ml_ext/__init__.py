"""hls4ml extensions for graph networks: layers, templates and C++ sources, registered once.

Everything goes through hls4ml's extension API (``register_layer``, ``Backend.register_template``,
``Backend.register_source``); the installed hls4ml package is never modified.
"""

from __future__ import annotations

from ticl_fpga.resources import hls_dir

#: ``hls/`` (package data) holds the C++ sources (nnet_utils style).
HLS_SOURCE_DIR = hls_dir()

_registered = False


def register() -> None:
    """Register the graph layers with hls4ml (idempotent)."""
    global _registered
    if _registered:
        return
    from hls4ml.backends import get_backend
    from hls4ml.model.layers import register_layer

    from ticl_fpga.compile.hls4ml_ext.layers import LAYERS
    from ticl_fpga.compile.hls4ml_ext.templates import TEMPLATES

    for name, cls in LAYERS.items():
        register_layer(name, cls)
    vivado = get_backend("Vivado")
    for template in TEMPLATES:
        vivado.register_template(template)
    sources = sorted(HLS_SOURCE_DIR.glob("nnet_*.h"))
    if not sources:
        from ticl_fpga.errors import MissingDependencyError

        raise MissingDependencyError(
            f"{HLS_SOURCE_DIR}: the C++ graph layers (nnet_gnn.h) are not there; reinstall "
            "ticl-fpga (the wheel, or 'pip install -e .' in a checkout)"
        )
    for backend_name in ("Vivado", "Vitis"):
        backend = get_backend(backend_name)
        for source in sources:
            backend.register_source(source.resolve())
    _registered = True
