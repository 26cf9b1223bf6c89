"""ticl-fpga: trackster-linking GNNs from TICLDumper ntuples to bit-exact hls4ml firmware.

Data flows one way through the sub-packages:

``data`` (ntuple -> graphs) -> ``model`` (architecture) -> ``train`` -> ``evaluate`` ->
``export`` (TorchScript/ONNX for CMSSW) and ``quantize`` (Brevitas QAT + pruning) ->
``compile`` (QONNX -> hls4ml -> C simulation) -> ``golden`` / ``compare``.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logger = logging.getLogger("ticl_fpga")
logger.addHandler(logging.NullHandler())
