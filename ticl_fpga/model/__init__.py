"""Model architecture: one spec (``spec.py``), one float module (``gnn.py``), layer factories."""
