"""Training: focal loss, the Lightning wrapper around the plain GNN, and the fit loop."""
