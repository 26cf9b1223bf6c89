"""Quantized GNN -> QONNX -> one hls4ml HLS project: export, conversion, build and C simulation."""
