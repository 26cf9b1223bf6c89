"""C++ sources of the hls4ml graph layers, shipped as package data (ticl_fpga.resources.hls_dir)."""
