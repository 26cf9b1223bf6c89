"""Quantization: bit-width recipes, the Brevitas twin of the GNN, QAT and magnitude pruning."""
