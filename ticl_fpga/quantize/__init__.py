"""Quantization: bit-width recipes, the Brevitas twin of the GNN, QAT and magnitude pruning.

Modules (imported lazily by callers; brevitas is heavy):

* :mod:`.recipe` -- ``Recipe``/``PruneTarget``/``load_recipe`` (``quant/*.yaml``);
* :mod:`.qmodel` -- ``build_quant_model``, ``load_float_weights``, ``assert_fixed_point``;
* :mod:`.qat` -- ``quantize_model``, ``save_quant_model``, ``load_quant_model``;
* :mod:`.prune` -- ``prune_to``, ``remove_pruning``, ``prune_search``, ``quantize_and_prune``;
* :mod:`.cost` -- BOPs (Hawks et al. 2021), non-zero weights, first-order FPGA estimate;
* :mod:`.evaluation` -- validation metrics the pruning targets read;
* :mod:`.scan` -- Pareto table (JSON, markdown, PNG); :mod:`.benchmark` -- ``quantization_benchmark``.
"""
