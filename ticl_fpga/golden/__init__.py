"""Golden bit-accuracy vectors: committed reference cases that Brevitas, QONNX and the C simulation must match."""
