"""Synthetic TICLDumper ntuples: a close-by particle gun plus pileup, written as ROOT TTrees.

Physics model
-------------
One page.  The names in ``code`` are fields of :class:`GeneratorConfig`; the other numbers are
constants of the generator's code.

*Geometry.*  Both HGCAL endcaps, front face at |z| = 320 cm, CE-E up to ~362 cm, CE-H up to 520 cm,
acceptance 1.5 < |eta| < 3.0.  Positions follow straight lines from the origin (no field in HGCAL's
forward region to first order).

*Signal.*  As in the CMS ``CloseByPGun_CE_E_Front`` validation sample: per endcap ``n_gun`` particles,
photons or charged pions (``photon_fraction``), energy log-uniform in [10, 600] GeV, the first at
uniform eta/phi, the others within ``closeby_dr`` in (eta, phi) so showers overlap.

*Fragmentation.*  A shower is cut into tracksters along its axis.  Photons: an EM core carrying
70-95 % of the energy in CE-E plus 0-2 satellites; pions: a start depth drawn from an exponential
with the nuclear interaction length (~20 cm), a short EM-like core (pi0 component, random fraction)
and ``1 + Poisson(0.8 log(E / 5 GeV))`` hadronic fragments spread along the axis into CE-H with
lateral offsets growing with depth, energies shared by a Dirichlet draw.  Response: 0.95 (EM),
0.75 (hadronic) with stochastic smearing ``a / sqrt(E)``.

*Trackster observables.*  Barycentre = point on the (angularly smeared) axis at the fragment depth
plus a Gaussian lateral offset; PCA main axis = shower axis plus noise ~ 1/sqrt(E); eigenvalues
and sigmas grow with energy and depth; time = time of flight from the origin (c = 29.98 cm/ns) plus
resolution ``0.02 + 0.3 / sqrt(E)`` ns, and -99 (no time) for 15 % of low-energy tracksters, as TICL
does; id probabilities peaked at the true class; 3-12 layer clusters (``vertices_*``) per trackster.

*Pileup.*  ``pu_tracksters_per_vertex * PU`` tracksters per endcap (about 400 at PU 200),
energy exponential (mean 1.5 GeV, min 0.3), |eta| density rising towards 3, axes pointing roughly
at the origin with large noise, times spread by the beam spot (0.18 ns) with worse resolution.
A small fraction of pileup tracksters sits on top of a signal shower and shares energy with it.

*Truth.*  ``simtrackstersCP`` has one sim trackster per gun particle (true energy, pdgID,
boundary position).  The associations tree is filled as TICL's associators do: for each reco
trackster the list of sim tracksters it shares energy with, the shared energy and a score in
[0, 1] (0 = perfect, here ``(1 - sharedE / raw_energy)^2``); and the reverse map with the score
``(1 - sharedE / sim_energy)^2``.  Overlapping showers give fragments shared between particles.

*CMSSW extras.*  As the TICLDumper and TICLDumperGNN write them: a ``clusters`` tree
(``position_z``, ``cluster_number_of_hits`` of every layer cluster, indexed by
``vertices_indexes``), a ``graph`` tree (TICLGraph: ``linked_inners``/``linked_outers``, built
here with the geometric candidate rule, inner = nearer the interaction point) and
``ticlDumperGNN/GNNTraining`` (the producer's 29 node and 5 edge features per event, truth by the
dumper's rule), computed by a per-edge loop that follows ``TICLDumperGNN.cc`` statement by
statement in float32, independently of the vectorised code in ``ticl_fpga/data/features.py``.
``gnn_training: false`` leaves that tree out.  The ``event`` branch is an unsigned counter
(default), an ``edm::EventID``-like record (``run``, ``luminosityBlock``, ``event``) or absent
(``event_branch``).

File format (``writer``): as the dumper writes them, every tree a TTree with scalar,
``std::vector<T>`` and ``std::vector<std::vector<T>>`` branches and an ``edm::EventID`` (split into
``run_``, ``luminosityBlock_``, ``event_``), written through PyROOT (the ``root`` extra) by a
small C++ filler that cling compiles once per process and that copies each chunk's numpy buffers
into the branches.  Without PyROOT (``writer: uproot``, or ``auto`` when ``import ROOT`` fails,
said in a log line) uproot writes the file: uproot 5 cannot write doubly-jagged TTree branches, so
the trees holding them become RNTuples, only ``clusters`` a TTree.  Both hold the same values and
give the same dataset (``tests/data/test_ttree.py``); the reader goes through uproot for both.

Everything is deterministic from ``seed`` (one ``numpy.random.Generator`` per event from
``SeedSequence(seed).spawn``), so event ``i`` is the same whatever the number of events.
"""

from __future__ import annotations

import logging
import math
import uuid
from itertools import chain
from pathlib import Path
from typing import Any, Literal

import awkward as ak
import numpy as np
from pydantic import Field

from ticl_fpga.config import StrictModel
from ticl_fpga.data.features import CMSSW_DIRECT_FEATURES, DETECTOR_SIZE
from ticl_fpga.data.schema import GNN_EDGE_BRANCHES, GNN_NODE_BRANCHES, NtupleSchema
from ticl_fpga.errors import MissingDependencyError
from ticl_fpga.io import atomic_path

log = logging.getLogger(__name__)

Z_FRONT = 320.0
Z_CEE_END = 362.0
Z_BACK = 520.0
C_CM_PER_NS = 29.9792458
PHOTON, PION = 22, 211


class GeneratorConfig(StrictModel):
    """Knobs of the synthetic close-by gun + pileup generator."""

    n_events: int = Field(100, ge=1)
    seed: int = 0
    pileup: int = Field(0, ge=0, le=400, description="mean pileup (0, 140, 200)")
    n_gun: int = Field(2, ge=1, le=20, description="gun particles per endcap")
    photon_fraction: float = Field(0.5, ge=0.0, le=1.0)
    energy_min: float = Field(10.0, gt=0)
    energy_max: float = Field(600.0, gt=0)
    eta_min: float = 1.6
    eta_max: float = 2.9
    closeby_dr: float = Field(
        0.15, gt=0, description="max (eta, phi) distance of close-by partners"
    )
    pu_tracksters_per_vertex: float = Field(2.0, ge=0)
    pu_energy_mean: float = Field(1.5, gt=0)
    events_per_chunk: int = Field(100, ge=1, description="events generated per write (basket)")
    gnn_training: bool = Field(True, description="also write ticlDumperGNN/GNNTraining")
    event_branch: Literal["counter", "eventid", "absent"] = Field(
        "counter", description="the event branch: unsigned counter, EventID record, or none"
    )
    run: int = Field(1, ge=1, description="run number of eventid records")
    writer: Literal["auto", "pyroot", "uproot"] = Field(
        "auto",
        description="pyroot: every tree a TTree, as the dumper writes (needs the root extra); "
        "uproot: RNTuples for trees with nested vectors; auto: pyroot when importable",
    )


def _unit(eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    theta = 2 * np.arctan(np.exp(-np.abs(eta)))
    sgn = np.sign(eta)
    return np.stack(
        [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), sgn * np.cos(theta)], axis=-1
    )


def _eta_phi(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.hypot(p[..., 0], p[..., 1])
    eta = np.arcsinh(p[..., 2] / np.maximum(r, 1e-9))
    return eta, np.arctan2(p[..., 1], p[..., 0])


def _energy_position_columns(
    energy: np.ndarray, em_energy: np.ndarray, pos: np.ndarray, eta: np.ndarray, phi: np.ndarray
) -> dict[str, list]:
    """The raw energy/pt and barycenter branches of tracksters (reco or sim), in branch order."""
    return {
        "raw_energy": energy.tolist(),
        "raw_em_energy": em_energy.tolist(),
        "raw_pt": (energy / np.cosh(eta)).tolist(),
        "raw_em_pt": (em_energy / np.cosh(eta)).tolist(),
        "barycenter_x": pos[:, 0].tolist(),
        "barycenter_y": pos[:, 1].tolist(),
        "barycenter_z": pos[:, 2].tolist(),
        "barycenter_eta": eta.tolist(),
        "barycenter_phi": phi.tolist(),
    }


def _axis_point(direction: np.ndarray, abs_z: np.ndarray) -> np.ndarray:
    """Point on the line from the origin along ``direction`` at depth |z| = ``abs_z``."""
    return direction * (abs_z / np.abs(direction[..., 2]))[..., None]


class _Event:
    """Accumulates tracksters (reco) and particles (sim) of one event."""

    def __init__(self) -> None:
        self.ts: dict[str, list] = {
            k: [] for k in ("pos", "axis", "energy", "em", "time", "terr", "depth", "cls", "share")
        }
        self.sim: list[dict[str, Any]] = []


def _add_trackster(ev: _Event, rng, pos, axis, energy, em_frac, share, cls, depth) -> None:
    noise = rng.normal(0, 0.25 / math.sqrt(max(energy, 0.3)), 3)
    a = axis + noise
    a /= np.linalg.norm(a)
    if a[2] * pos[2] < 0:
        a = -a
    tof = np.linalg.norm(pos) / C_CM_PER_NS
    terr = 0.02 + 0.3 / math.sqrt(max(energy, 0.3))
    has_time = energy > 3.0 or rng.random() > 0.15
    ev.ts["pos"].append(pos)
    ev.ts["axis"].append(a)
    ev.ts["energy"].append(energy)
    ev.ts["em"].append(em_frac)
    ev.ts["time"].append(tof + rng.normal(0, terr) if has_time else -99.0)
    ev.ts["terr"].append(terr if has_time else -1.0)
    ev.ts["depth"].append(depth)
    ev.ts["cls"].append(cls)
    ev.ts["share"].append(share)


def _shower(
    ev: _Event,
    rng,
    cfg: GeneratorConfig,
    sim_index: int,
    pid: int,
    energy: float,
    direction: np.ndarray,
) -> None:
    """Fragment one particle's shower into tracksters along its (smeared) axis."""
    axis = direction + rng.normal(0, 0.004, 3)
    axis /= np.linalg.norm(axis)
    z_sign = np.sign(axis[2])
    pieces: list[tuple[float, float, float, float]] = []  # (fraction, depth, lateral, em_frac)
    if pid == PHOTON:
        core = rng.uniform(0.7, 0.95)
        n_sat = rng.integers(0, 3)
        rest = rng.dirichlet(np.ones(n_sat)) * (1 - core) if n_sat else np.array([])
        pieces.append((core, rng.uniform(Z_FRONT + 8, Z_FRONT + 20), rng.normal(0, 0.6), 0.97))
        for f in rest:
            pieces.append(
                (f, rng.uniform(Z_FRONT + 5, Z_CEE_END + 10), abs(rng.normal(0, 4.0)), 0.9)
            )
        if n_sat == 0:
            pieces[0] = (1.0, pieces[0][1], pieces[0][2], 0.97)
        response, stoch = 0.95, 0.2
    else:
        start = Z_FRONT + rng.exponential(20.0)
        n_frag = 1 + rng.poisson(max(0.8 * math.log(energy / 5.0), 0.2))
        em_part = rng.uniform(0.1, 0.5)
        fr = rng.dirichlet(np.full(n_frag + 1, 1.5))
        fr = np.r_[em_part, (1 - em_part) * fr[1:] / fr[1:].sum()]
        pieces.append((fr[0], min(start + rng.uniform(3, 12), Z_BACK - 5), rng.normal(0, 1.5), 0.8))
        depths = np.sort(
            rng.uniform(start, min(start + 45 + 20 * math.log(energy), Z_BACK - 5), n_frag)
        )
        for f, d in zip(fr[1:], depths, strict=True):
            pieces.append((f, d, abs(rng.normal(0, 2.0 + 0.06 * (d - Z_FRONT))), 0.15))
        response, stoch = 0.75, 0.6
    cls = 0 if pid == PHOTON else 4
    for frac, depth, lateral, em_frac in pieces:
        e_true = energy * frac
        e = e_true * response * max(rng.normal(1.0, stoch / math.sqrt(max(e_true, 0.5))), 0.2)
        if e < 0.2:
            continue
        center = _axis_point(axis, np.array(depth * 1.0))
        phi_l = rng.uniform(0, 2 * math.pi)
        ortho1 = np.cross(axis, [0.0, 0.0, 1.0])
        ortho1 /= np.linalg.norm(ortho1)
        ortho2 = np.cross(axis, ortho1)
        pos = center + lateral * (math.cos(phi_l) * ortho1 + math.sin(phi_l) * ortho2)
        pos[2] = z_sign * depth
        _add_trackster(ev, rng, pos, axis, e, em_frac, {sim_index: e}, cls, depth)
    ev.sim.append({"pid": pid, "energy": energy, "axis": axis})


def _pileup(ev: _Event, rng, cfg: GeneratorConfig, z_sign: float) -> None:
    n = rng.poisson(cfg.pu_tracksters_per_vertex * cfg.pileup)
    if n == 0:
        return
    # |eta| density rising towards the beam line
    u = rng.random(n)
    aeta = cfg.eta_min + (3.0 - cfg.eta_min) * np.sqrt(u)
    phi = rng.uniform(-math.pi, math.pi, n)
    dirs = _unit(z_sign * aeta, phi)
    depth = Z_FRONT + rng.exponential(25.0, n).clip(0, Z_BACK - Z_FRONT - 5)
    energy = 0.3 + rng.exponential(cfg.pu_energy_mean, n)
    em = rng.uniform(0.0, 1.0, n)
    for i in range(n):
        pos = _axis_point(dirs[i], np.array(depth[i])) + rng.normal(0, 3.0, 3) * [1, 1, 0]
        pos[2] = z_sign * depth[i]
        axis = dirs[i] + rng.normal(0, 0.25, 3)
        axis /= np.linalg.norm(axis)
        _add_trackster(ev, rng, pos, axis, float(energy[i]), float(em[i]), {}, 5, float(depth[i]))
        ev.ts["time"][-1] = (
            ev.ts["time"][-1] + rng.normal(0, 0.18) if ev.ts["time"][-1] > -99 else -99.0
        )


def _contaminate(ev: _Event, rng) -> None:
    """Overlapping showers: a fragment close to another particle's axis shares energy with it."""
    if len(ev.sim) < 2 or not ev.ts["pos"]:
        return
    axes = np.array([s["axis"] for s in ev.sim])  # [S, 3]
    pos = np.asarray(ev.ts["pos"])  # [T, 3]
    r = np.linalg.norm(pos, axis=1)
    unit = pos / r[:, None]
    # transverse distance of every trackster to every particle axis, same endcap only
    dist = np.linalg.norm(np.cross(unit[:, None, :], axes[None, :, :]), axis=2) * r[:, None]
    close = (np.sign(axes[None, :, 2]) == np.sign(pos[:, None, 2])) & (dist < 6.0)
    for t, s in zip(*np.nonzero(close), strict=True):
        share = ev.ts["share"][t]
        if int(s) in share or not share and rng.random() > 0.3:
            continue
        e = ev.ts["energy"][t]
        moved = e * rng.uniform(0.05, 0.45) * (1 - dist[t, s] / 6.0)
        for k in list(share):
            share[k] *= 1 - moved / e
        share[int(s)] = moved


def generate_event(cfg: GeneratorConfig, rng: np.random.Generator) -> _Event:
    ev = _Event()
    for z_sign in (-1.0, 1.0):
        eta0 = rng.uniform(cfg.eta_min, cfg.eta_max)
        phi0 = rng.uniform(-math.pi, math.pi)
        for k in range(cfg.n_gun):
            if k == 0:
                eta, phi = eta0, phi0
            else:
                r, a = cfg.closeby_dr * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
                eta = float(np.clip(eta0 + r * math.cos(a), cfg.eta_min, cfg.eta_max))
                phi = phi0 + r * math.sin(a)
            pid = PHOTON if rng.random() < cfg.photon_fraction else PION
            energy = math.exp(rng.uniform(math.log(cfg.energy_min), math.log(cfg.energy_max)))
            _shower(
                ev, rng, cfg, len(ev.sim), pid, energy, _unit(np.array(z_sign * eta), np.array(phi))
            )
        _pileup(ev, rng, cfg, z_sign)
    _contaminate(ev, rng)
    return ev


def _event_record(ev: _Event, rng) -> dict[str, Any]:
    """Turn an event into per-branch values (lists) in the TICLDumper schema."""
    pos = np.array(ev.ts["pos"], dtype=np.float64).reshape(-1, 3)
    axis = np.array(ev.ts["axis"], dtype=np.float64).reshape(-1, 3)
    energy = np.array(ev.ts["energy"], dtype=np.float64)
    em = np.array(ev.ts["em"], dtype=np.float64)
    depth = np.array(ev.ts["depth"], dtype=np.float64)
    n = len(energy)
    eta, phi = _eta_phi(pos)
    spread = 1.0 + 0.02 * (depth - Z_FRONT)
    ev1 = energy * (2.0 + 0.5 * spread) * rng.uniform(0.8, 1.2, n)
    ev2 = ev1 * rng.uniform(0.05, 0.3, n)
    ev3 = ev2 * rng.uniform(0.2, 0.8, n)
    cls = np.array(ev.ts["cls"], dtype=np.int64)
    idp = rng.dirichlet(np.ones(8), n) * 0.5
    idp[np.arange(n), cls] += 0.5
    nv = np.clip((3 + 2 * np.log1p(energy)).astype(int), 3, 12)
    vx, vy, vz, ve, vidx = [], [], [], [], []
    start = 0
    for i in range(n):
        k = nv[i]
        vz.append((pos[i, 2] + np.sign(pos[i, 2]) * np.linspace(-3, 3, k) * spread[i]).tolist())
        vx.append((pos[i, 0] + rng.normal(0, spread[i], k)).tolist())
        vy.append((pos[i, 1] + rng.normal(0, spread[i], k)).tolist())
        ve.append((energy[i] * rng.dirichlet(np.ones(k))).tolist())
        vidx.append(list(range(start, start + k)))
        start += k
    rec = {
        "NTracksters": n,
        "NClusters": int(start),
        "time": ev.ts["time"],
        "timeError": ev.ts["terr"],
        "regressed_energy": (energy * np.where(em > 0.5, 1.03, 1.25)).tolist(),
        **_energy_position_columns(energy, energy * em, pos, eta, phi),
        "EV1": ev1.tolist(),
        "EV2": ev2.tolist(),
        "EV3": ev3.tolist(),
        "eVector0_x": axis[:, 0].tolist(),
        "eVector0_y": axis[:, 1].tolist(),
        "eVector0_z": axis[:, 2].tolist(),
        "sigmaPCA1": np.sqrt(ev1 / np.maximum(energy, 1e-3)).tolist(),
        "sigmaPCA2": np.sqrt(ev2 / np.maximum(energy, 1e-3)).tolist(),
        "sigmaPCA3": np.sqrt(ev3 / np.maximum(energy, 1e-3)).tolist(),
        "id_probabilities": idp.tolist(),
        "vertices_indexes": vidx,
        "vertices_x": vx,
        "vertices_y": vy,
        "vertices_z": vz,
        "vertices_time": [[t] * len(x) for t, x in zip(ev.ts["time"], vx, strict=True)],
        "vertices_timeErr": [[t] * len(x) for t, x in zip(ev.ts["terr"], vx, strict=True)],
        "vertices_energy": ve,
        "vertices_correctedEnergy": ve,
        "vertices_correctedEnergyUncertainty": [[0.1 * e for e in x] for x in ve],
        "vertices_multiplicity": [[1.0] * len(x) for x in vx],
    }
    # sim tracksters: one per particle, positioned at the shower maximum
    sim_e = np.array([s["energy"] for s in ev.sim])
    sim_axis = np.array([s["axis"] for s in ev.sim]).reshape(-1, 3)
    sim_pos = _axis_point(sim_axis, np.full(len(sim_e), Z_FRONT + 15.0))
    sim_eta, sim_phi = _eta_phi(sim_pos)
    front = _axis_point(sim_axis, np.full(len(sim_e), Z_FRONT))
    f_eta, f_phi = _eta_phi(front)
    pid = np.array([s["pid"] for s in ev.sim], dtype=np.int32)
    sim = {
        "NTracksters": len(sim_e),
        "NClusters": int(start),
        "time": (np.linalg.norm(sim_pos, axis=1) / C_CM_PER_NS).tolist(),
        "timeError": [0.0] * len(sim_e),
        "regressed_energy": sim_e.tolist(),
        **_energy_position_columns(sim_e, sim_e * (pid == PHOTON), sim_pos, sim_eta, sim_phi),
        "EV1": sim_e.tolist(),
        "EV2": (0.1 * sim_e).tolist(),
        "EV3": (0.05 * sim_e).tolist(),
        "eVector0_x": sim_axis[:, 0].tolist(),
        "eVector0_y": sim_axis[:, 1].tolist(),
        "eVector0_z": sim_axis[:, 2].tolist(),
        "sigmaPCA1": [1.0] * len(sim_e),
        "sigmaPCA2": [0.3] * len(sim_e),
        "sigmaPCA3": [0.2] * len(sim_e),
        "regressed_pt": (sim_e / np.cosh(sim_eta)).tolist(),
        "pdgID": pid.tolist(),
        "timeBoundary": (np.linalg.norm(front, axis=1) / C_CM_PER_NS).tolist(),
        "boundaryX": front[:, 0].tolist(),
        "boundaryY": front[:, 1].tolist(),
        "boundaryZ": front[:, 2].tolist(),
        "boundaryEta": f_eta.tolist(),
        "boundaryPhi": f_phi.tolist(),
        "boundaryPx": (sim_axis[:, 0] * sim_e).tolist(),
        "boundaryPy": (sim_axis[:, 1] * sim_e).tolist(),
        "boundaryPz": (sim_axis[:, 2] * sim_e).tolist(),
        "id_probabilities": [
            [1.0 if c == (0 if p == PHOTON else 4) else 0.0 for c in range(8)] for p in pid
        ],
    }
    # associations
    r2s, r2s_score, r2s_e = [], [], []
    s2r: list[list[int]] = [[] for _ in ev.sim]
    s2r_e: list[list[float]] = [[] for _ in ev.sim]
    for t, share in enumerate(ev.ts["share"]):
        keys = sorted(share)
        r2s.append(keys)
        r2s_e.append([float(share[k]) for k in keys])
        r2s_score.append([float((1 - min(share[k] / energy[t], 1.0)) ** 2) for k in keys])
        for k in keys:
            s2r[k].append(t)
            s2r_e[k].append(float(share[k]))
    s2r_score = [
        [float((1 - min(e / sim_e[s], 1.0)) ** 2) for e in s2r_e[s]] for s in range(len(ev.sim))
    ]
    assoc = {"recoToSim": (r2s, r2s_score, r2s_e), "simToReco": (s2r, s2r_score, s2r_e)}
    # layer clusters (hits from the LC energy, no random draw: earlier events stay the same)
    lc_e = np.asarray([e for x in ve for e in x], dtype=np.float64)
    clusters = {
        "position_z": [z for x in vz for z in x],
        "cluster_number_of_hits": np.maximum(1, np.round(3 * np.sqrt(lc_e / 0.02)))
        .astype(int)
        .tolist(),
    }
    graph = _ticl_graph(rec)
    out = {"reco": rec, "sim": sim, "assoc": assoc, "clusters": clusters, "graph": graph}
    out["gnn"] = _gnn_training(rec, sim, clusters, graph, r2s, r2s_score, r2s_e)
    return out


def _ticl_graph(rec: dict[str, Any]) -> dict[str, list]:
    """A TICLGraph (``linked_inners``/``linked_outers``) from the geometric candidate rule."""
    from ticl_fpga.data.candidates import CandidateConfig, candidate_edges

    f32 = lambda k: np.asarray(rec[k], dtype=np.float32).astype(np.float64)  # noqa: E731
    n = len(rec["raw_energy"])
    ei = candidate_edges(
        f32("barycenter_eta"), f32("barycenter_phi"), f32("barycenter_z"), CandidateConfig()
    )
    inners: list[list[int]] = [[] for _ in range(n)]
    outers: list[list[int]] = [[] for _ in range(n)]
    for a, b in ei.T.tolist():
        outers[a].append(b)
        inners[b].append(a)
    return {
        "linked_inners": inners,
        "linked_outers": outers,
        "isRootTrackster": [not x for x in inners],
    }


def _gnn_training(rec, sim, clusters, graph, r2s, r2s_score, r2s_e) -> dict[str, list]:
    """The GNNTraining entry of one event, statement by statement as TICLDumperGNN.cc (float32)."""
    import math as m

    f = np.float32
    size = f(DETECTOR_SIZE)
    n = len(rec["raw_energy"])
    t = {
        k: [f(v) for v in rec[k]]
        for k in rec
        if isinstance(rec[k], list)
        and len(rec[k]) == n
        and k != "id_probabilities"
        and not k.startswith("vertices")
    }
    lc_z = [f(z) for z in clusters["position_z"]]
    lc_hits = clusters["cluster_number_of_hits"]
    out: dict[str, list] = {k: [] for k in GNN_NODE_BRANCHES}
    dens = f(f(n) / size)
    for i in range(n):
        for k in CMSSW_DIRECT_FEATURES:
            out[f"node_{k}"].append(t[k][i])
        out["node_time_error"].append(t["timeError"][i])
        p = rec["id_probabilities"][i]
        for j, name in enumerate(
            ("photon", "electron", "muon", "neutral_pion", "charged_hadron", "neutral_hadron")
        ):
            out[f"node_{name}_prob"].append(f(p[j]))
        verts = rec["vertices_indexes"][i]
        out["node_num_LCs"].append(f(len(verts)))
        out["node_LC_density"].append(f(f(len(verts)) / size))
        out["node_trackster_density"].append(dens)
        zs = [lc_z[v] for v in verts]
        out["node_z_min"].append(min(zs) if zs else f(0))
        out["node_z_max"].append(max(zs) if zs else f(0))
        out["node_num_hits"].append(f(sum(lc_hits[v] for v in verts)))
    # truth: calcReco2SimTracksterFit
    y, shared, score = [], [], []
    for i in range(n):
        passed = [
            (s_, e_, sc)
            for s_, sc, e_ in zip(r2s[i], r2s_score[i], r2s_e[i], strict=True)
            if f(sc) < f(0.2)
        ]
        if len(passed) == 1:
            y.append(int(passed[0][0]))
            shared.append(f(passed[0][1]))
            score.append(f(passed[0][2]))
        else:
            y.append(-1)
            shared.append(f(-1))
            score.append(f(-1))
    out["node_match_idx"], out["node_match_sharedE"], out["node_match_score"] = y, shared, score
    out["simTrackster_raw_energy"] = list(sim["raw_energy"])
    out["simTrackster_true_energy"] = list(sim["regressed_energy"])
    out["simTrackster_isPU"] = [0] * len(sim["raw_energy"])
    out["simTrackster_pdgID"] = list(sim["pdgID"])
    edges = {k: [[] for _ in range(n)] for k in GNN_EDGE_BRANCHES}
    E, X, Y, Z, T = (
        t[k] for k in ("raw_energy", "barycenter_x", "barycenter_y", "barycenter_z", "time")
    )
    VX, VY, VZ = (t[k] for k in ("eVector0_x", "eVector0_y", "eVector0_z"))
    for i in range(n):
        for node in graph["linked_outers"][i]:
            edges["edge_raw_energy"][i].append(abs(f(E[i] - E[node])))
            edges["edge_barycenter_z"][i].append(abs(f(Z[i] - Z[node])))
            edges["edge_time"][i].append(abs(f(T[i] - T[node])))
            edges["edge_barycenter_xy"][i].append(f(m.hypot(f(X[i] - X[node]), f(Y[i] - Y[node]))))
            dot = f(f(f(VX[i] * VX[node]) + f(VY[i] * VY[node])) + f(VZ[i] * VZ[node]))
            edges["edge_eigenvector0"][i].append(f(m.acos(min(max(dot, f(-1)), f(1)))))
            edges["edgeIndex_in"][i].append(i)
            edges["edgeIndex_out"][i].append(node)
            ok = y[i] != -1 and y[node] != -1 and y[i] == y[node]
            edges["edge_label"][i].append(int(ok))
            if ok:
                ts = (1 - score[i]) * shared[i] / E[i] if E[i] > np.finfo(f).eps else 0.0
                td = (
                    (1 - score[node]) * shared[node] / E[node] if E[node] > np.finfo(f).eps else 0.0
                )
                edges["edge_weight"][i].append(f((ts + td) / 2))
            else:
                edges["edge_weight"][i].append(f(0))
    out.update(edges)
    return out


def _jagged(values: list, dtype: Any, depth: int = 1) -> ak.Array:
    """Events' lists (``depth`` 1) or lists of lists (2) as an awkward array of ``dtype``: what
    ``ak.values_astype(ak.Array(values), dtype)`` gives, built from numpy (several times faster)."""
    offsets = []
    level: Any = values
    for _ in range(depth):
        counts = np.fromiter(map(len, level), dtype=np.int64, count=len(level))
        offsets.append(np.concatenate([np.zeros(1, np.int64), np.cumsum(counts)]))
        level = list(chain.from_iterable(level))
    layout: Any = ak.contents.NumpyArray(np.asarray(level, dtype=dtype).reshape(-1))
    for off in reversed(offsets):
        layout = ak.contents.ListOffsetArray(ak.index.Index64(off), layout)
    return ak.Array(layout)


def _column(values: list, name: str) -> Any:
    if name in ("NTracksters", "NClusters"):
        return np.asarray(values, dtype=np.uint32)
    depth = 2 if name == "id_probabilities" or name.startswith("vertices_") else 1
    if name == "vertices_indexes":
        return _jagged(values, np.uint32, depth)
    if name == "pdgID":
        return _jagged(values, np.int32, depth)
    return _jagged(values, np.float32, depth)


def _event_column(events: np.ndarray, event_branch: str, run: int) -> Any:
    if event_branch == "eventid":  # edm::EventID: run, luminosityBlock, event
        return ak.zip(
            {
                "run": np.full(len(events), run, dtype=np.uint32),
                "luminosityBlock": (1 + events // 100).astype(np.uint32),
                "event": (events + 1).astype(np.uint64),
            }
        )
    return events.astype(np.uint64)


def _chunk_trees(
    schema: NtupleSchema,
    records: list[dict],
    events: np.ndarray,
    *,
    event_branch: str = "counter",
    run: int = 1,
    gnn: bool = True,
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Every tree's columns for one chunk of events, ``{path in the file: {branch: column}}``
    (numpy for one value per event, awkward for lists), and the paths of the trees whose branches
    are at most singly jagged (the ones uproot can write as TTrees)."""
    event_col = _event_column(events, event_branch, run)
    trees: dict[str, dict[str, Any]] = {}
    for part, tree in (("reco", schema.tracksters), ("sim", schema.simtracksters)):
        cols: dict[str, Any] = {"event": events.astype(np.uint64)}
        for name in records[0][part]:
            cols[name] = _column([r[part][name] for r in records], name)
        trees[schema.tree_path(tree)] = cols
    acols: dict[str, Any] = {"event": events.astype(np.uint64)}
    for direction in ("recoToSim", "simToReco"):
        idx = [r["assoc"][direction][0] for r in records]
        acols[schema.assoc(direction)] = _jagged(idx, np.uint32, 2)
        acols[schema.assoc(direction, "score")] = _jagged(
            [r["assoc"][direction][1] for r in records], np.float32, 2
        )
        acols[schema.assoc(direction, "sharedE")] = _jagged(
            [r["assoc"][direction][2] for r in records], np.float32, 2
        )
    trees[schema.tree_path(schema.associations)] = acols
    trees[schema.tree_path(schema.graph)] = {
        k: _jagged([r["graph"][k] for r in records], t, d)
        for k, t, d in (
            ("linked_inners", np.uint32, 2),
            ("linked_outers", np.uint32, 2),
            ("isRootTrackster", np.bool_, 1),
        )
    }
    clusters = {
        "position_z": _jagged([r["clusters"]["position_z"] for r in records], np.float32),
        "cluster_number_of_hits": _jagged(
            [r["clusters"]["cluster_number_of_hits"] for r in records], np.int32
        ),
    }
    if event_branch != "absent":
        for cols in (*trees.values(), clusters):
            cols["event"] = event_col
    else:
        for cols in trees.values():
            cols.pop("event", None)
    if "gnn" in records[0] and gnn:
        gcols = {}
        for k in records[0]["gnn"]:
            values = [r["gnn"][k] for r in records]
            kind = (
                np.int32
                if k in ("node_match_idx", "simTrackster_isPU", "simTrackster_pdgID", "edge_label")
                else (np.uint32 if k.startswith("edgeIndex") else np.float32)
            )
            gcols[k] = _jagged(values, kind, 2 if k.startswith("edge") else 1)
        trees[schema.gnn_path()] = gcols
    flat_path = schema.tree_path(schema.clusters)
    trees[flat_path] = clusters  # singly jagged: a TTree even for uproot, as the dumper writes
    return trees, {flat_path}


# --- writers --------------------------------------------------------------------------------
#
# CMSSW's TICLDumper fills TTrees whose branches are scalars, std::vector<T> and
# std::vector<std::vector<T>>, and an edm::EventID.  PyROOT writes exactly that: a small C++
# filler (below, compiled once per process by cling) copies each chunk's numpy buffers into
# the branch objects and calls TTree::Fill, so the Python side never loops over events.  uproot
# cannot write doubly-jagged TTree branches, so without PyROOT the trees that hold them are
# RNTuples (the reader goes through uproot's common interface for both).

_FILLER_CPP = r"""
#include <TClass.h>
#include <TCollectionProxyInfo.h>
#include <TDirectory.h>
#include <TEmulatedCollectionProxy.h>
#include <TFile.h>
#include <TTree.h>
#include <TUUID.h>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ticl_fpga_synth {

// TFile's UUID is protected; a pointer to the inherited member reaches it legally.
struct UUIDAccess : TDirectory {
  static TUUID TDirectory::*member() { return &UUIDAccess::fUUID; }
};

// ROOT ships dictionaries for vector<vector<float>> but not for vector<vector<(unsigned) int>>;
// without one TTree::Branch refuses the collection (an emulated proxy).  Give the class the
// compiled proxy a rootcling dictionary would register.
template <typename C> void compiled_proxy() {
  TClass* cl = TClass::GetClass(typeid(C));
  if (!cl) throw std::runtime_error("no TClass for a nested std::vector");
  if (!cl->GetCollectionProxy() || dynamic_cast<TEmulatedCollectionProxy*>(cl->GetCollectionProxy())) {
    std::unique_ptr<ROOT::Detail::TCollectionProxyInfo> info(
        ROOT::Detail::TCollectionProxyInfo::Generate(ROOT::Detail::TCollectionProxyInfo::Pushback<C>()));
    cl->SetCollectionProxy(*info);
  }
  if (dynamic_cast<TEmulatedCollectionProxy*>(cl->GetCollectionProxy()))
    throw std::runtime_error(std::string("no compiled collection proxy for ") + cl->GetName());
}

struct Column {
  virtual ~Column() {}
  virtual void load(Long64_t i) = 0;
  // numpy buffers of the current chunk: data (d0; d1, d2 for EventID), offsets (o1 outer, o2 inner)
  uintptr_t d0 = 0, d1 = 0, d2 = 0, o1 = 0, o2 = 0;
};

template <typename T, typename D> struct Scalar : Column {
  T value{};
  Scalar(TTree* t, const std::string& name, const std::string& leaf) {
    if (!t->Branch(name.c_str(), &value, (name + "/" + leaf).c_str())) throw std::runtime_error("cannot create branch " + name);
  }
  void load(Long64_t i) override { value = static_cast<T>(reinterpret_cast<const D*>(d0)[i]); }
};

template <typename T, typename D> struct Vec : Column {
  std::vector<T> value;
  std::vector<T>* ptr = &value;
  Vec(TTree* t, const std::string& name, const std::string& cls) {
    if (!t->Branch(name.c_str(), cls.c_str(), &ptr)) throw std::runtime_error("cannot create branch " + name);
  }
  void load(Long64_t i) override {
    auto d = reinterpret_cast<const D*>(d0);
    auto o = reinterpret_cast<const int64_t*>(o1);
    value.assign(d + o[i], d + o[i + 1]);
  }
};

template <typename T, typename D> struct VecVec : Column {
  std::vector<std::vector<T>> value;
  std::vector<std::vector<T>>* ptr = &value;
  VecVec(TTree* t, const std::string& name, const std::string& cls) {
    compiled_proxy<std::vector<std::vector<T>>>();
    if (!t->Branch(name.c_str(), cls.c_str(), &ptr)) throw std::runtime_error("cannot create branch " + name);
  }
  void load(Long64_t i) override {
    auto d = reinterpret_cast<const D*>(d0);
    auto a = reinterpret_cast<const int64_t*>(o1);
    auto b = reinterpret_cast<const int64_t*>(o2);
    value.resize(a[i + 1] - a[i]);
    for (int64_t k = a[i]; k < a[i + 1]; ++k) value[k - a[i]].assign(d + b[k], d + b[k + 1]);
  }
};

struct EventIDColumn : Column {
  edm::EventID value;
  edm::EventID* ptr = &value;
  EventIDColumn(TTree* t, const std::string& name) {
    if (!t->Branch(name.c_str(), "edm::EventID", &ptr)) throw std::runtime_error("cannot create branch " + name);
  }
  void load(Long64_t i) override {
    value = edm::EventID(reinterpret_cast<const uint32_t*>(d0)[i], reinterpret_cast<const uint32_t*>(d1)[i],
                         reinterpret_cast<const uint64_t*>(d2)[i]);
  }
};

template <typename T, typename D>
std::unique_ptr<Column> make(TTree* t, const std::string& name, int depth, const std::string& cpp, const std::string& leaf) {
  if (depth == 0) return std::make_unique<Scalar<T, D>>(t, name, leaf);
  if (depth == 1) return std::make_unique<Vec<T, D>>(t, name, "std::vector<" + cpp + ">");
  if (depth == 2) return std::make_unique<VecVec<T, D>>(t, name, "std::vector<std::vector<" + cpp + "> >");
  throw std::invalid_argument("branch " + name + ": nesting depth " + std::to_string(depth) + " not supported");
}

class Tree {
 public:
  Tree(TDirectory* dir, const std::string& name) {
    TDirectory::TContext ctx(dir);
    tree_ = new TTree(name.c_str(), name.c_str());  // owned by dir
  }
  void add(const std::string& name, int depth, const std::string& kind) {
    std::unique_ptr<Column> c;
    if (kind == "eventid") c = std::make_unique<EventIDColumn>(tree_, name);
    else if (kind == "float") c = make<float, float>(tree_, name, depth, "float", "F");
    else if (kind == "uint32") c = make<unsigned int, uint32_t>(tree_, name, depth, "unsigned int", "i");
    else if (kind == "int32") c = make<int, int32_t>(tree_, name, depth, "int", "I");
    else if (kind == "uint64") c = make<unsigned long long, uint64_t>(tree_, name, depth, "unsigned long long", "l");
    else if (kind == "bool") c = make<bool, uint8_t>(tree_, name, depth, "bool", "O");
    else throw std::invalid_argument("branch " + name + ": type " + kind + " not supported");
    cols_.push_back(std::move(c));
  }
  void set(std::size_t k, uintptr_t d0, uintptr_t d1, uintptr_t d2, uintptr_t o1, uintptr_t o2) {
    auto& c = *cols_.at(k);
    c.d0 = d0; c.d1 = d1; c.d2 = d2; c.o1 = o1; c.o2 = o2;
  }
  void fill(Long64_t n) {
    for (Long64_t i = 0; i < n; ++i) {
      for (auto& c : cols_) c->load(i);
      if (tree_->Fill() < 0) throw std::runtime_error(std::string("TTree::Fill failed for ") + tree_->GetName());
    }
    for (auto& c : cols_) c->d0 = c->d1 = c->d2 = c->o1 = c->o2 = 0;  // the buffers go away
  }

 private:
  TTree* tree_;
  std::vector<std::unique_ptr<Column>> cols_;
};

class File {
 public:
  File(const std::string& path, const std::string& title, int compress)
      : file_(TFile::Open(path.c_str(), "RECREATE", title.c_str(), compress)) {
    if (!file_ || file_->IsZombie()) throw std::runtime_error("cannot create " + path);
  }
  Tree& tree(const std::string& folder, const std::string& name) {
    TDirectory* d = file_.get();
    if (!folder.empty()) {
      d = file_->GetDirectory(folder.c_str());
      if (!d) d = file_->mkdir(folder.c_str());
      if (!d) throw std::runtime_error("cannot create directory " + folder);
    }
    trees_.push_back(std::make_unique<Tree>(d, name));
    return *trees_.back();
  }
  // uuid: the file UUID (TFile header) as text, or "" to keep ROOT's random one
  void close(const std::string& uuid) {
    if (!file_) return;
    if (!uuid.empty()) file_.get()->*UUIDAccess::member() = TUUID(uuid.c_str());
    if (file_->Write() < 0 || file_->TestBit(TFile::kWriteError)) throw std::runtime_error("TFile::Write failed");
    file_->Close();
    trees_.clear();
    file_.reset();
  }
  void abort() {
    trees_.clear();
    if (file_) file_->Close();
    file_.reset();
  }

 private:
  std::unique_ptr<TFile> file_;
  std::vector<std::unique_ptr<Tree>> trees_;
};

}  // namespace ticl_fpga_synth
"""

# As CMSSW declares it (DataFormats/Provenance/interface/EventID.h): the members TICLDumper's
# ``event`` branch stores.  Declared only when no real dictionary is loaded (e.g. in CMSSW).
_EVENTID_CPP = r"""
namespace edm {
class EventID {
 public:
  EventID() : run_(0), luminosityBlock_(0), event_(0) {}
  EventID(unsigned int run, unsigned int lumi, unsigned long long event)
      : run_(run), luminosityBlock_(lumi), event_(event) {}
 private:
  unsigned int run_;
  unsigned int luminosityBlock_;
  unsigned long long event_;
};
}
"""

_PYROOT: dict[str, Any] = {}


def pyroot_status() -> tuple[Any, str]:
    """``(ROOT module with the TTree filler declared, "ROOT <version>")`` or ``(None, why not)``.

    Imported and compiled once per process, lazily (importing ROOT takes seconds)."""
    if "module" not in _PYROOT:
        _PYROOT["module"], _PYROOT["why"] = _load_pyroot()
    return _PYROOT["module"], _PYROOT["why"]


def _load_pyroot() -> tuple[Any, str]:
    import importlib.util
    import warnings

    if importlib.util.find_spec("ROOT") is None:
        return None, "PyROOT is not installed (pip install 'ticl-fpga[root]')"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the PyPI build warns that it is an alpha
            import ROOT
        ROOT.gROOT.SetBatch(True)
        ROOT.gSystem.ResetSignals()  # keep the process's own crash/interrupt handlers
        if not hasattr(ROOT, "ticl_fpga_synth"):
            if not ROOT.TClass.GetClass("edm::EventID") and not ROOT.gInterpreter.Declare(
                _EVENTID_CPP
            ):
                return None, "cling could not compile edm::EventID"
            if not ROOT.gInterpreter.Declare(_FILLER_CPP):
                return None, "cling could not compile the TTree filler"
        return ROOT, f"ROOT {ROOT.gROOT.GetVersion()}"
    except Exception as exc:  # a broken install: import errors, missing libraries, cling
        return None, f"PyROOT is not usable ({type(exc).__name__}: {str(exc).splitlines()[0]})"


_KINDS = {
    np.dtype(np.float32): "float",
    np.dtype(np.uint32): "uint32",
    np.dtype(np.int32): "int32",
    np.dtype(np.uint64): "uint64",
    np.dtype(np.bool_): "bool",
}


def _buffer(a: Any, dtype: Any = None) -> np.ndarray:
    arr = np.ascontiguousarray(ak.to_numpy(a) if isinstance(a, ak.Array) else a, dtype=dtype)
    return arr.view(np.uint8) if arr.dtype == np.bool_ else arr


def _offsets(a: ak.Array) -> np.ndarray:
    counts = ak.to_numpy(ak.num(a, axis=1)).astype(np.int64)
    return np.concatenate([np.zeros(1, np.int64), np.cumsum(counts)])


def _branch(name: str, col: Any) -> tuple[int, str, list[np.ndarray | None]]:
    """(nesting depth, element type, [d0, d1, d2, o1, o2] buffers) of one column."""
    if isinstance(col, ak.Array) and col.fields:  # edm::EventID
        if tuple(col.fields) != ("run", "luminosityBlock", "event"):
            raise ValueError(f"branch {name}: record fields {col.fields} are not an EventID")
        bufs = [
            _buffer(col[f], t)
            for f, t in (("run", np.uint32), ("luminosityBlock", np.uint32), ("event", np.uint64))
        ]
        return 0, "eventid", [*bufs, None, None]
    depth = col.ndim - 1 if isinstance(col, ak.Array) else 0
    if depth == 0:
        content, o1, o2 = _buffer(col), None, None
    elif depth == 1:
        content, o1, o2 = _buffer(ak.flatten(col)), _offsets(col), None
    elif depth == 2:
        inner = ak.flatten(col)
        content, o1, o2 = _buffer(ak.flatten(inner)), _offsets(col), _offsets(inner)
    else:
        raise ValueError(f"branch {name}: nesting depth {depth} not supported")
    dtype = np.dtype(np.bool_) if content.dtype == np.uint8 else content.dtype
    if dtype not in _KINDS:
        raise ValueError(f"branch {name}: dtype {dtype} not supported")
    return depth, _KINDS[dtype], [content, None, None, o1, o2]


class _PyRootWriter:
    """Every tree a TTree, filled by the C++ filler (PyROOT)."""

    kind = "TTrees (PyROOT)"

    def __init__(self, path: Path, file_uuid: uuid.UUID | None) -> None:
        ROOT, why = pyroot_status()
        if ROOT is None:
            raise MissingDependencyError(f"writer: pyroot needs PyROOT: {why}")
        # ZLIB level 1, as uproot writes: readable without extra decompression packages
        title = "ticl-fpga synthetic TICLDumper ntuple (TTrees, PyROOT)"
        self._f = ROOT.ticl_fpga_synth.File(str(path), title, 101)
        self._uuid = str(file_uuid) if file_uuid is not None else ""
        self._trees: dict[str, tuple[Any, list[tuple[str, int, str]]]] = {}

    def write(self, trees: dict[str, dict[str, Any]], flat: set[str], n: int) -> None:
        del flat  # every tree is a TTree here
        for path, cols in trees.items():
            specs = [(name, *_branch(name, col)) for name, col in cols.items()]
            layout = [(name, depth, kind) for name, depth, kind, _ in specs]
            if path not in self._trees:
                folder, _, tname = path.rpartition("/")
                tree = self._f.tree(folder, tname)
                for name, depth, kind in layout:
                    tree.add(name, depth, kind)
                self._trees[path] = (tree, layout)
            tree, want = self._trees[path]
            if layout != want:
                raise ValueError(f"{path}: branches differ between chunks ({want} vs {layout})")
            for k, (*_, bufs) in enumerate(specs):
                tree.set(k, *(0 if b is None else b.ctypes.data for b in bufs))
            tree.fill(n)  # the buffers in ``specs`` stay alive until here

    def close(self) -> None:
        self._f.close(self._uuid)

    def abort(self) -> None:
        self._f.abort()


class _UprootWriter:
    """uproot: TTrees for flat/singly-jagged trees, RNTuples for the others."""

    kind = "RNTuples + clusters TTree (uproot)"

    def __init__(self, path: Path, file_uuid: uuid.UUID | None) -> None:
        import uproot

        kw = {} if file_uuid is None else {"uuid_function": lambda: file_uuid}
        self._f = uproot.recreate(path, **kw)
        self._started: set[str] = set()
        self._folders: set[str] = set()

    def write(self, trees: dict[str, dict[str, Any]], flat: set[str], n: int) -> None:
        del n
        for path, cols in trees.items():
            first = path not in self._started
            self._started.add(path)
            folder = path.rpartition("/")[0]
            if first and folder and folder not in self._folders:
                self._f.mkdir(folder)
                self._folders.add(folder)
            if path in flat:
                if first:
                    self._f.mktree(
                        path,
                        {
                            k: v.type.content if isinstance(v, ak.Array) else v.dtype
                            for k, v in cols.items()
                        },
                    )
                self._f[path].extend(cols)
            elif first:
                self._f[path] = cols
            else:
                self._f[path].extend(cols)

    def close(self) -> None:
        self._f.close()

    def abort(self) -> None:
        self._f.close()


def _open_writer(writer: str, path: Path, file_uuid: uuid.UUID | None):
    if writer == "uproot":
        return _UprootWriter(path, file_uuid)
    if writer == "pyroot":
        return _PyRootWriter(path, file_uuid)
    ROOT, why = pyroot_status()
    if ROOT is not None:
        return _PyRootWriter(path, file_uuid)
    log.info("%s: writing RNTuples with uproot (only 'clusters' is a TTree)", why)
    return _UprootWriter(path, file_uuid)


class _Output:
    """A ROOT file being written by one of the writers: closed on success, abandoned on error."""

    def __init__(self, writer: str, path: Path, file_uuid: uuid.UUID | None) -> None:
        self.w = _open_writer(writer, path, file_uuid)

    def __enter__(self):
        return self.w

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.w.close()
        else:
            self.w.abort()


def make_records(cfg: GeneratorConfig) -> list[dict[str, Any]]:
    """All events of ``cfg`` as per-branch records (what :func:`write_records` writes)."""
    seeds = np.random.SeedSequence(cfg.seed).spawn(cfg.n_events)
    out = []
    for s in seeds:
        rng = np.random.default_rng(s)
        out.append(_event_record(generate_event(cfg, rng), rng))
    return out


def write_records(
    records: list[dict[str, Any]],
    out: str | Path,
    schema: NtupleSchema | None = None,
    writer: Literal["auto", "pyroot", "uproot"] = "auto",
) -> Path:
    """Write event records (possibly edited, e.g. by tests) as a TICLDumper ROOT file, atomically."""
    schema = schema or NtupleSchema()
    with atomic_path(out, suffix=".root") as tmp, _Output(writer, Path(tmp), None) as w:
        trees, flat = _chunk_trees(schema, records, np.arange(len(records)))
        w.write(trees, flat, len(records))
    return Path(out)


def file_uuid(cfg: GeneratorConfig) -> uuid.UUID:
    """The file UUID ``generate`` writes (what ``split_key: event_id`` hashes): it follows the
    config, so the same events get the same UUID whichever writer wrote them."""
    return uuid.uuid5(
        uuid.NAMESPACE_OID, f"ticl-fpga-synthetic:{cfg.model_dump_json(exclude={'writer'})}"
    )


def generate(cfg: GeneratorConfig, out: str | Path, schema: NtupleSchema | None = None) -> Path:
    """Write ``cfg.n_events`` synthetic events to the ROOT file ``out`` (atomically)."""
    from tqdm.auto import tqdm

    schema = schema or NtupleSchema()
    out = Path(out)
    seeds = np.random.SeedSequence(cfg.seed).spawn(cfg.n_events)
    with (
        atomic_path(out, suffix=".root") as tmp,
        _Output(cfg.writer, Path(tmp), file_uuid(cfg)) as w,
    ):
        records: list[dict] = []
        start = 0
        for i in tqdm(range(cfg.n_events), desc="generate", unit="evt", leave=False, disable=None):
            rng = np.random.default_rng(seeds[i])
            records.append(_event_record(generate_event(cfg, rng), rng))
            if len(records) == cfg.events_per_chunk or i == cfg.n_events - 1:
                trees, flat = _chunk_trees(
                    schema,
                    records,
                    np.arange(start, i + 1),
                    event_branch=cfg.event_branch,
                    run=cfg.run,
                    gnn=cfg.gnn_training,
                )
                w.write(trees, flat, len(records))
                start, records = i + 1, []
        kind = w.kind
    log.info("wrote %d events (PU %d) to %s as %s", cfg.n_events, cfg.pileup, out, kind)
    return out


def tiny_dataset(
    tmp_path: str | Path, n_events: int = 24, pileup: int = 0, seed: int = 0, **build_overrides: Any
) -> Path:
    """Generate a tiny ntuple and build its dataset under ``tmp_path``; returns the dataset folder.

    For tests and smoke runs: real ROOT file, real graph building, a few seconds.
    """
    from ticl_fpga.data.dataset import BuildConfig, build_dataset

    tmp_path = Path(tmp_path)
    root = generate(
        GeneratorConfig(n_events=n_events, pileup=pileup, seed=seed),
        tmp_path / f"tiny_pu{pileup}_s{seed}.root",
    )
    cfg = BuildConfig(**{"workers": 1, **build_overrides})
    return build_dataset([root], tmp_path / f"dataset_pu{pileup}_s{seed}", cfg)
