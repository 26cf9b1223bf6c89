"""Writing deliberately broken TICLDumper files: read a good file, edit its columns, write them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import awkward as ak

from ticl_fpga.data.schema import NtupleSchema

SCHEMA = NtupleSchema()
RECO = SCHEMA.tracksters
SIM = SCHEMA.simtracksters
ASSOC = SCHEMA.associations


def read_trees(path: Path) -> dict[str, dict[str, ak.Array]]:
    import uproot

    out = {}
    with uproot.open(path) as f:
        for tree in (RECO, SIM, ASSOC):
            arr = f[SCHEMA.tree_path(tree)].arrays(library="ak")
            out[tree] = {k: arr[k] for k in arr.fields}
    return out


def write_trees(trees: dict[str, dict[str, ak.Array]], path: Path) -> Path:
    import uproot

    with uproot.recreate(path) as f:
        f.mkdir(SCHEMA.folder)
        for tree, cols in trees.items():
            f[SCHEMA.tree_path(tree)] = cols
    return path


def broken(good: Path, out: Path, edit: Callable[[dict[str, dict[str, ak.Array]]], None]) -> Path:
    trees = read_trees(good)
    edit(trees)
    return write_trees(trees, out)


def set_inner(arr: ak.Array, event: int, row: int | None, index: int, value) -> ak.Array:
    """A copy of a jagged (``row`` None) or doubly-jagged array with one value replaced."""
    dtype = ak.to_numpy(ak.flatten(arr, axis=None)).dtype
    lst = ak.to_list(arr)
    if row is None:
        lst[event][index] = value
    else:
        lst[event][row][index] = value
    return ak.values_astype(ak.Array(lst), dtype)
