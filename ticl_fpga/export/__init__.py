"""Export of the float model for CMSSW: TorchScript (``torchscript.py``) and ONNX (``onnx.py``)."""
