"""FPGA vs GPU: the float TorchScript model against the quantized/QONNX/C-simulation chain."""
