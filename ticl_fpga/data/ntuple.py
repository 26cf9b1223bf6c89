"""Reading TICLDumper ntuples with uproot's ``iterate``: chunked, several files and glob patterns.

Yields one :class:`EventArrays` per event (plain numpy arrays) so graph building never sees awkward
or uproot types, and memory stays bounded by ``step_size`` events per chunk.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from ticl_fpga.data.schema import NODE_BRANCHES, SIM_BRANCHES, NtupleSchema
from ticl_fpga.errors import InputError

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class EventKey:
    """The identity of one event, shared by an event record and the graph built from it.

    Keyword-only fields, so the records that extend it keep their own fields in order.
    """

    event: int
    #: ``edm::EventID`` run and luminosity block (0 when the file has a plain counter or none)
    run: int = 0
    lumi: int = 0
    #: the ROOT file's UUID (its header): the same after renaming or moving the file
    file_id: str = ""

    @property
    def key(self) -> str:
        """Identity unique across files (and kept when a file is renamed): UUID:run:lumi:event."""
        return f"{self.file_id}:{self.run}:{self.lumi}:{self.event}"


@dataclass
class EventArrays(EventKey):
    """One event: per-trackster numpy arrays plus truth associations."""

    file: str
    entry: int
    nodes: dict[str, np.ndarray]
    sim: dict[str, np.ndarray]
    #: recoToSim associations in CSR form: trackster ``i`` owns entries
    #: ``assoc_offsets[i]:assoc_offsets[i + 1]`` of ``assoc_sim``/``assoc_score``/``assoc_shared``.
    assoc_offsets: np.ndarray
    assoc_sim: np.ndarray
    assoc_score: np.ndarray
    assoc_shared: np.ndarray


def expand_paths(patterns: Sequence[str | Path]) -> list[Path]:
    """Expand glob patterns; a pattern that matches nothing is an error naming it.

    A name that exists is taken literally, even if it holds glob characters (``run[1].root``).
    The same file given twice (directly or through overlapping patterns) is an error: it would
    count its events twice.
    """
    out: list[Path] = []
    seen: dict[Path, str] = {}
    for pat in patterns:
        pat = str(pat)
        if Path(pat).exists() or not any(c in pat for c in "*?["):
            hits = [Path(pat)]
            if not hits[0].exists():
                raise InputError(hits[0], "no such file")
        else:
            hits = [Path(h) for h in sorted(glob.glob(pat))]
            if not hits:
                raise InputError(pat, "glob pattern matches no file")
        for p in hits:
            if p.is_dir():
                raise InputError(p, "is a folder, not a ROOT file (give the files, or a glob)")
            key = p.resolve()
            if key in seen:
                raise InputError(p, f"given twice (also as {seen[key]}); each file is read once")
            seen[key] = pat
            out.append(p)
    return out


_FLOATS = {"float", "double", "Float_t", "Double_t", "Double32_t", "Float16_t", "float32_t"}
_BOOLS = {"bool", "Bool_t"}


def _parse_type(typename: str) -> tuple[str, int]:
    """``std::vector<std::vector<float>>`` -> ``("float", 2)``: leaf type and nesting depth."""
    t = typename.replace("std::", "").replace(" ", "")
    depth = 0
    while True:
        if t.startswith(("vector<", "RVec<")) and t.endswith(">"):
            t = t[t.index("<") + 1 : -1]
        elif t.endswith("[]"):
            t = t[:-2]
        else:
            return t, depth
        depth += 1


def _leaf_kind(leaf: str) -> str:
    if leaf in _FLOATS:
        return "float"
    if leaf in _BOOLS:
        return "bool"
    if re.fullmatch(
        r"u?int\d*_t|(unsigned)?(char|short|int|long|longlong)|U?(Char|Short|Int|Long64)_t|size_t",
        leaf,
    ):
        return "int"
    return leaf


def _check_type(path: Path, tpath: str, branch, name: str, want: str, depth: int) -> None:
    """A branch must hold ``want`` ("float" or "int") values nested ``depth`` deep."""
    typename = str(getattr(branch, "typename", "?"))
    leaf, got_depth = _parse_type(typename)
    kind = _leaf_kind(leaf)
    if got_depth != depth or kind != want:
        shape = {1: "one value per trackster", 2: "a list per trackster"}[depth]
        raise InputError(
            path,
            f"has type {typename}, expected {want} values ({shape}: "
            f"{'std::vector<' * depth}{'float' if want == 'float' else 'int'}{'>' * depth})",
            field=f"{tpath}/{name}",
        )


def _check_suffix(path: Path, schema: NtupleSchema) -> None:
    """SC associations go with the simtrackstersSC tree, CP ones with simtrackstersCP."""
    sim, suffix = schema.simtracksters, schema.association_suffix
    for s in ("SC", "CP"):
        if sim.endswith(s) and suffix != s:
            raise InputError(
                path,
                f"association suffix '{suffix}' does not fit the sim tree '{sim}' (use "
                f"association_suffix: {s}, or simtracksters: simtracksters{suffix})",
                field=schema.assoc("recoToSim"),
            )


_NUMERIC = (
    "uint64_t",
    "int64_t",
    "uint32_t",
    "int32_t",
    "unsigned long",
    "long",
    "int",
    "unsigned int",
    "std::uint64_t",
    "std::int64_t",
    "std::uint32_t",
    "std::int32_t",
)
#: uproot-written TTree records are split into ``event_run``, ``event_luminosityBlock``, ...
_FLAT_EVENT = ("event_run", "event_luminosityBlock", "event_event")


def _event_kind(tree) -> str | None:
    """How a trackster tree stores the event id: ``number`` (an unsigned counter), ``split``
    (``edm::EventID`` as TICLDumper writes it: a TTree branch split into ``run_``,
    ``luminosityBlock_``, ``event_`` sub-branches), ``record`` (an unsplit EventID branch, or an
    RNTuple record with run/luminosityBlock/event), ``flat`` (a record split into ``event_*``
    branches) or ``None`` (no event branch: the entry number is used)."""
    keys = set(tree.keys())
    if "event" in keys:
        if tree["event"].typename in _NUMERIC:
            return "number"
        if getattr(tree, "classname", "") == "TTree" and len(tree["event"].branches):
            return "split"
        return "record"
    if all(k in keys for k in _FLAT_EVENT):
        return "flat"
    return None


def _record_field(rec, names: Sequence[str]) -> np.ndarray:
    """A field of an EventID-like record, by its possible names (``event_`` or ``event``)."""
    for name in names:
        if name in rec.fields:
            return ak.to_numpy(rec[name]).astype(np.int64)
    raise KeyError(f"no field {' or '.join(names)} in the event record ({rec.fields})")


def _event_ids(reco, kind: str | None, first: int, n: int) -> tuple[np.ndarray, ...]:
    """(run, lumi, event) arrays of a chunk."""
    zeros = np.zeros(n, dtype=np.int64)
    if kind == "number":
        return zeros, zeros, ak.to_numpy(reco["event"]).astype(np.int64)
    if kind in ("record", "split"):
        rec = (
            reco["event"]
            if kind == "record"
            else ak.zip(
                {k.split("/", 1)[1]: reco[k] for k in reco.fields if k.startswith("event/")}
            )
        )
        return (
            _record_field(rec, ("run_", "run")),
            _record_field(rec, ("luminosityBlock_", "luminosityBlock")),
            _record_field(rec, ("event_", "event")),
        )
    if kind == "flat":
        return tuple(ak.to_numpy(reco[b]).astype(np.int64) for b in _FLAT_EVENT)
    return zeros, zeros, first + np.arange(n, dtype=np.int64)


def _check_file(path: Path, schema: NtupleSchema) -> tuple[int, str | None, str]:
    """Check every tree and branch; returns (entries, how ``event`` is stored, file UUID).

    The ``event`` branch may be an unsigned counter, an ``edm::EventID`` record (run,
    luminosityBlock, event), or absent (then the entry number is the event id).
    """
    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises many types for non-ROOT/truncated files
        raise InputError(path, f"not a ROOT file, or truncated ({_one_line(exc)})") from None
    _check_suffix(path, schema)
    try:
        with f:
            need = {
                schema.tracksters: NODE_BRANCHES,
                schema.simtracksters: SIM_BRANCHES,
                schema.associations: schema.association_branches(),
            }
            entries = None
            for tree, branches in need.items():
                tpath = schema.tree_path(tree)
                try:
                    t = f[tpath]
                except KeyError:
                    raise InputError(path, "missing tree", field=tpath) from None
                except Exception as exc:
                    raise InputError(
                        path, f"truncated or corrupt file ({_one_line(exc)})", field=tpath
                    ) from None
                keys = set(t.keys())
                for b in branches:
                    if b not in keys:
                        raise InputError(path, "missing branch", field=f"{tpath}/{b}")
                    if tree == schema.associations:
                        want = "int" if b.endswith(schema.association_suffix) else "float"
                        _check_type(path, tpath, t[b], b, want, 2)
                    else:
                        want = "int" if b == "pdgID" else "float"
                        _check_type(path, tpath, t[b], b, want, 1)
                if entries is not None and t.num_entries != entries:
                    raise InputError(
                        path, f"has {t.num_entries} entries, other trees {entries}", field=tpath
                    )
                entries = t.num_entries
            reco = f[schema.tree_path(schema.tracksters)]
            return int(entries or 0), _event_kind(reco), str(f.file.uuid)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"truncated or corrupt file ({_one_line(exc)})") from None


def _first_bad(bad: np.ndarray) -> int:
    return int(np.flatnonzero(bad)[0])


def _counts(path: Path, tpath: str, chunk, names: Sequence[str], first: int) -> np.ndarray:
    """Per-event trackster count; every branch must have exactly that many values per event."""
    counts = ak.to_numpy(ak.num(chunk[names[0]], axis=1))
    for b in names[1:]:
        n = ak.to_numpy(ak.num(chunk[b], axis=1))
        if (n != counts).any():
            i = _first_bad(n != counts)
            raise InputError(
                path,
                f"entry {first + i}: {n[i]} values, but {names[0]} has {counts[i]} (one per "
                "trackster)",
                field=f"{tpath}/{b}",
            )
    return counts


def _check_rows(path: Path, field: str, arr, counts: np.ndarray, first: int) -> None:
    """An association branch must hold one row per trackster in every event."""
    rows = ak.to_numpy(ak.num(arr, axis=1))
    if (rows != counts).any():
        i = _first_bad(rows != counts)
        raise InputError(
            path, f"entry {first + i}: {rows[i]} rows for {counts[i]} tracksters", field=field
        )


def _associations(path: Path, schema: NtupleSchema, assoc, counts, sim_counts, first: int):
    """recoToSim associations as CSR arrays, checked: one row per trackster, score and shared
    energy beside every index, indices inside the sim collection, no NaN."""
    tpath = schema.tree_path(schema.associations)
    name = schema.assoc("recoToSim")
    r2s = assoc[name]
    _check_rows(path, f"{tpath}/{name}", r2s, counts, first)
    per_ts = ak.to_numpy(ak.flatten(ak.num(r2s, axis=2)))
    ts_off = np.r_[0, np.cumsum(per_ts)]  # trackster -> first association
    ev_of_ts = np.repeat(np.arange(len(counts)), counts)
    ev_of_a = np.repeat(ev_of_ts, per_ts)
    a_sim = _flat(r2s).astype(np.int64)
    out = [a_sim]
    for what in ("score", "sharedE"):
        b = schema.assoc("recoToSim", what)
        arr = assoc[b]
        _check_rows(path, f"{tpath}/{b}", arr, counts, first)
        n = ak.to_numpy(ak.flatten(ak.num(arr, axis=2)))
        if (n != per_ts).any():
            i = ev_of_ts[_first_bad(n != per_ts)]
            raise InputError(
                path,
                f"entry {first + i}: not one value per association index of {name}",
                field=f"{tpath}/{b}",
            )
        vals = _flat(arr).astype(np.float64)
        if not np.isfinite(vals).all():
            i = ev_of_a[_first_bad(~np.isfinite(vals))]
            raise InputError(
                path, f"entry {first + i}: NaN or infinite value", field=f"{tpath}/{b}"
            )
        out.append(vals)
    bad = (a_sim < 0) | (a_sim >= sim_counts[ev_of_a])
    if bad.any():
        k = _first_bad(bad)
        i = ev_of_a[k]
        raise InputError(
            path,
            f"entry {first + i}: sim index {a_sim[k]} outside the {sim_counts[i]} sim tracksters "
            f"of {schema.tree_path(schema.simtracksters)}",
            field=f"{tpath}/{name}",
        )
    return out[0], out[1], out[2], ts_off


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:200]


def _flat(arr) -> np.ndarray:
    """A doubly-jagged chunk array flattened to its innermost values."""
    return ak.to_numpy(ak.flatten(arr, axis=None))


def file_entries(path: str | Path, schema: NtupleSchema | None = None) -> int:
    """Number of events in a file, after checking every tree and branch the reader needs."""
    return _check_file(Path(path), schema or NtupleSchema())[0]


def iter_events(
    paths: Sequence[str | Path],
    schema: NtupleSchema | None = None,
    step_size: int = 200,
    max_events: int | None = None,
    entry_range: tuple[int, int] | None = None,
) -> Iterator[EventArrays]:
    """Iterate over events of one or several files (glob patterns allowed), ``step_size`` at a time.

    Every file is opened and checked before the first event is read.  ``entry_range`` restricts
    reading to entries ``[start, stop)`` of each file (parallel builders give each worker a range).
    """
    schema = schema or NtupleSchema()
    files = expand_paths(paths)
    checked = {path: _check_file(path, schema) for path in files}  # fail before reading anything
    start, stop = entry_range if entry_range is not None else (None, None)
    branches = {
        schema.tracksters: list(NODE_BRANCHES),
        schema.simtracksters: list(SIM_BRANCHES),
        schema.associations: [
            schema.assoc("recoToSim"),
            schema.assoc("recoToSim", "score"),
            schema.assoc("recoToSim", "sharedE"),
        ],
    }
    yielded = 0
    for path in files:
        n, event_kind, file_id = checked[path]
        event_names = {"number": ["event"], "record": ["event"], "flat": list(_FLAT_EVENT)}.get(
            event_kind, []
        )
        log.debug("%s: %d events", path, n)
        if n == 0:
            continue
        try:
            stack = contextlib.ExitStack()
            f = stack.enter_context(uproot.open(path))
            if event_kind == "split":  # read the sub-branches of the EventID
                ev_branch = f[schema.tree_path(schema.tracksters)]["event"]
                event_names = [f"event/{b.name}" for b in ev_branch.branches]
            its = [
                f[schema.tree_path(tree)].iterate(
                    names + (event_names if tree == schema.tracksters else []),
                    step_size=step_size,
                    entry_start=start,
                    entry_stop=stop,
                    library="ak",
                    report=True,
                )
                for tree, names in branches.items()
            ]
            for (reco, report), (sim, _), (assoc, _) in zip(*its, strict=True):
                first = report.tree_entry_start
                counts = _counts(
                    path, schema.tree_path(schema.tracksters), reco, NODE_BRANCHES, first
                )
                node_cols = {
                    b: ak.to_numpy(ak.flatten(reco[b])).astype(np.float64) for b in NODE_BRANCHES
                }
                offsets = np.r_[0, np.cumsum(counts)]
                sim_counts = _counts(
                    path, schema.tree_path(schema.simtracksters), sim, SIM_BRANCHES, first
                )
                sim_cols = {b: ak.to_numpy(ak.flatten(sim[b])) for b in SIM_BRANCHES}
                sim_off = np.r_[0, np.cumsum(sim_counts)]
                a_sim, a_score, a_shared, ts_off = _associations(
                    path, schema, assoc, counts, sim_counts, first
                )
                runs, lumis, events = _event_ids(reco, event_kind, first, len(counts))
                for i in range(len(counts)):
                    if max_events is not None and yielded >= max_events:
                        return
                    a, b = offsets[i], offsets[i + 1]
                    sa, sb = sim_off[i], sim_off[i + 1]
                    yield EventArrays(
                        file=str(path),
                        entry=int(first + i),
                        event=int(events[i]),
                        nodes={k: v[a:b] for k, v in node_cols.items()},
                        sim={k: v[sa:sb] for k, v in sim_cols.items()},
                        assoc_offsets=ts_off[a : b + 1] - ts_off[a],
                        assoc_sim=a_sim[ts_off[a] : ts_off[b]],
                        assoc_score=a_score[ts_off[a] : ts_off[b]],
                        assoc_shared=a_shared[ts_off[a] : ts_off[b]],
                        run=int(runs[i]),
                        lumi=int(lumis[i]),
                        file_id=file_id,
                    )
                    yielded += 1
            stack.close()
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                path, f"cannot read, truncated or corrupt? ({_one_line(exc)})"
            ) from None
