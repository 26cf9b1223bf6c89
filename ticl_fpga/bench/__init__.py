"""Benchmarks: speed and size of every stage, written to ``benchmarks/`` as JSON + markdown.

One module per stage (``data``, ``training``, ``inference``, ``quantized``, ``compiler``), each a
function returning a dict; :mod:`ticl_fpga.bench.report` runs them and writes the tables.
"""
