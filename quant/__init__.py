"""Quantization recipes, shipped as package data (ticl_fpga.resources.recipes_dir)."""
