"""Benchmarks: speed and size of every stage, written to ``benchmarks/`` as JSON + markdown.

One module per stage (``data``, ``training``, ``inference``, ``compiler``; the quantized model and
the bias convention's physics effect is ``bias``; the FPGA/float agreement come from ``quantize.benchmark`` and ``compare.benchmark``; ``firmware``
(Yosys resources and cycles of the RTL backend) from ``bench.firmware``), each a
function returning a dict; :mod:`ticl_fpga.bench.run` runs them and
:mod:`ticl_fpga.bench.report` writes the tables.
"""

#: the stages ``ticl-fpga bench --stages`` knows, in the order they run
STAGES = (
    "data",
    "training",
    "inference",
    "quantized",
    "bias",
    "compiler",
    "agreement",
    "firmware",
)
