"""Shared fixtures: tiny synthetic ntuples and datasets made by the package's own generator."""

from __future__ import annotations
