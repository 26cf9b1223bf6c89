"""Golden bit-accuracy vectors, shipped as package data (ticl_fpga.resources.golden_dir)."""
