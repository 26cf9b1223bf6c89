"""Open RTL backend: the QONNX graph as streaming Verilog, co-simulated bit for bit with Verilator.

``graph`` walks the QONNX model into layers, tensors and stages; ``dense_da`` turns every dense
layer into a pipelined distributed-arithmetic adder graph (da4ml); ``emit`` writes the Verilog
(one file per layer, a top, and the parameterised modules of ``hls/verilog``); ``sim`` builds and
runs the Verilator testbench; ``build`` ties them together for ``ticl-fpga rtl build``.
"""

from ticl_fpga.errors import TiclFpgaError


class RtlError(TiclFpgaError):
    """The graph cannot be written as RTL, or an RTL tool failed."""
