"""Evaluation: edge-level and event-level physics metrics, plots and reports."""
