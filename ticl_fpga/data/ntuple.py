"""Reading TICLDumper ntuples with uproot's ``iterate``: chunked, several files and glob patterns.

Yields one :class:`EventArrays` per event (plain numpy arrays) so graph building never sees awkward
or uproot types, and memory stays bounded by ``step_size`` events per chunk.
"""

from __future__ import annotations

import contextlib
import glob
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from ticl_fpga.data.schema import NODE_BRANCHES, SIM_BRANCHES, NtupleSchema
from ticl_fpga.errors import InputError

log = logging.getLogger(__name__)


@dataclass
class EventArrays:
    """One event: per-trackster numpy arrays plus truth associations."""

    file: str
    entry: int
    event: int
    nodes: dict[str, np.ndarray]
    sim: dict[str, np.ndarray]
    #: recoToSim associations in CSR form: trackster ``i`` owns entries
    #: ``assoc_offsets[i]:assoc_offsets[i + 1]`` of ``assoc_sim``/``assoc_score``/``assoc_shared``.
    assoc_offsets: np.ndarray
    assoc_sim: np.ndarray
    assoc_score: np.ndarray
    assoc_shared: np.ndarray


def expand_paths(patterns: Sequence[str | Path]) -> list[Path]:
    """Expand glob patterns; a pattern that matches nothing is an error naming it."""
    out: list[Path] = []
    for pat in patterns:
        pat = str(pat)
        if any(c in pat for c in "*?["):
            hits = sorted(glob.glob(pat))
            if not hits:
                raise InputError(pat, "glob pattern matches no file")
            out.extend(Path(h) for h in hits)
        else:
            p = Path(pat)
            if not p.exists():
                raise InputError(p, "no such file")
            out.append(p)
    return out


def _check_file(path: Path, schema: NtupleSchema) -> tuple[int, bool]:
    """Check every tree and branch; returns (entries, whether ``event`` is a plain number).

    Real TICLDumper files store ``event`` as an ``edm::EventID`` object; then the entry number is
    used as the event id.
    """
    import uproot

    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises many types for non-ROOT/truncated files
        raise InputError(path, f"not a ROOT file, or truncated ({_one_line(exc)})") from None
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
                if entries is not None and t.num_entries != entries:
                    raise InputError(
                        path, f"has {t.num_entries} entries, other trees {entries}", field=tpath
                    )
                entries = t.num_entries
            reco = f[schema.tree_path(schema.tracksters)]
            numeric = "event" in reco.keys() and reco["event"].typename in (
                "uint64_t",
                "int64_t",
                "uint32_t",
                "int32_t",
                "unsigned long",
                "long",
                "int",
                "unsigned int",
            )
            return int(entries or 0), numeric
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"truncated or corrupt file ({_one_line(exc)})") from None


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
    import uproot

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
        n, event_numeric = checked[path]
        log.debug("%s: %d events", path, n)
        if n == 0:
            continue
        try:
            stack = contextlib.ExitStack()
            f = stack.enter_context(uproot.open(path))
            its = [
                f[schema.tree_path(tree)].iterate(
                    names + (["event"] if tree == schema.tracksters and event_numeric else []),
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
                node_cols = {
                    b: ak.to_numpy(ak.flatten(reco[b])).astype(np.float64) for b in NODE_BRANCHES
                }
                counts = ak.to_numpy(ak.num(reco[NODE_BRANCHES[0]]))
                offsets = np.r_[0, np.cumsum(counts)]
                sim_cols = {b: ak.to_numpy(ak.flatten(sim[b])) for b in SIM_BRANCHES}
                sim_counts = ak.to_numpy(ak.num(sim[SIM_BRANCHES[0]]))
                sim_off = np.r_[0, np.cumsum(sim_counts)]
                r2s = assoc[schema.assoc("recoToSim")]
                # CSR of the associations: per event, per trackster, the list of sim particles
                a_sim = _flat(r2s).astype(np.int64)
                a_score = _flat(assoc[schema.assoc("recoToSim", "score")]).astype(np.float64)
                a_shared = _flat(assoc[schema.assoc("recoToSim", "sharedE")]).astype(np.float64)
                per_ts = ak.to_numpy(ak.flatten(ak.num(r2s, axis=2)))
                ts_off = np.r_[0, np.cumsum(per_ts)]  # trackster -> first association
                if len(per_ts) != offsets[-1]:
                    raise InputError(
                        path,
                        f"{len(per_ts)} recoToSim rows for {offsets[-1]} tracksters",
                        field=schema.assoc("recoToSim"),
                    )
                events = (
                    ak.to_numpy(reco["event"]) if event_numeric else first + np.arange(len(counts))
                )
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
                    )
                    yielded += 1
            stack.close()
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                path, f"cannot read, truncated or corrupt? ({_one_line(exc)})"
            ) from None
