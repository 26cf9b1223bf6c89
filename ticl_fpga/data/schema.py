"""The TICLDumper ntuple schema, written down once, as data.

Names follow CMSSW ``RecoHGCal/TICL/plugins/TICLDumper.cc``: a ``ticlDumper/`` folder with one TTree
per collection and one entry per event; per-trackster quantities are jagged branches
(``std::vector<float>``), per-vertex ones doubly jagged.  Trackster trees are named by the
``tracksterCollections`` PSet (``trackstersclue3d``, ``trackstersmerged``, ``simtrackstersSC``,
``simtrackstersCP``), and the ``associations`` tree holds, for each associator with branch prefix
``P`` and suffix ``S``: ``P_recoToSim_S`` (indices), ``P_recoToSim_S_score``,
``P_recoToSim_S_sharedE`` and the same for ``simToReco``.  Tree and branch names differ between
CMSSW releases, so every name the reader uses comes from :class:`NtupleSchema`.
"""

from __future__ import annotations

from pydantic import Field

from ticl_fpga.config import StrictModel

#: Branches every trackster tree (reco and sim) has, one value per trackster.
TRACKSTER_BRANCHES: tuple[str, ...] = (
    "time",
    "timeError",
    "regressed_energy",
    "raw_energy",
    "raw_em_energy",
    "raw_pt",
    "raw_em_pt",
    "barycenter_x",
    "barycenter_y",
    "barycenter_z",
    "barycenter_eta",
    "barycenter_phi",
    "EV1",
    "EV2",
    "EV3",
    "eVector0_x",
    "eVector0_y",
    "eVector0_z",
    "sigmaPCA1",
    "sigmaPCA2",
    "sigmaPCA3",
)
#: Reco trackster branches the graph builder reads (node features and truth matching).
NODE_BRANCHES: tuple[str, ...] = tuple(
    b for b in TRACKSTER_BRANCHES if b not in ("regressed_energy", "raw_em_pt")
)
#: Sim trackster branches used for truth and binning.
SIM_BRANCHES: tuple[str, ...] = ("regressed_energy", "barycenter_eta", "pdgID")
#: Per-event scalars of a trackster tree.
TRACKSTER_SCALARS: tuple[str, ...] = ("event", "NTracksters", "NClusters")
#: Per-trackster lists (doubly jagged): 8 particle-ID probabilities, layer-cluster vertices.
TRACKSTER_NESTED: tuple[str, ...] = (
    "id_probabilities",
    "vertices_indexes",
    "vertices_x",
    "vertices_y",
    "vertices_z",
    "vertices_time",
    "vertices_timeErr",
    "vertices_energy",
    "vertices_correctedEnergy",
    "vertices_correctedEnergyUncertainty",
    "vertices_multiplicity",
)
#: Extra per-trackster branches of sim-trackster trees.
SIM_TRACKSTER_BRANCHES: tuple[str, ...] = (
    "regressed_pt",
    "pdgID",
    "timeBoundary",
    "boundaryX",
    "boundaryY",
    "boundaryZ",
    "boundaryEta",
    "boundaryPhi",
    "boundaryPx",
    "boundaryPy",
    "boundaryPz",
)
#: Particle-ID classes of ``id_probabilities`` (TICL ordering).
ID_CLASSES: tuple[str, ...] = (
    "photon",
    "electron",
    "muon",
    "neutral_pion",
    "charged_hadron",
    "neutral_hadron",
    "ambiguous",
    "unknown",
)


class NtupleSchema(StrictModel):
    """Where things live in a TICLDumper file; change these for other CMSSW releases."""

    folder: str = Field("ticlDumper", description="TDirectory holding the trees")
    tracksters: str = Field("trackstersclue3d", description="reco trackster tree (graph nodes)")
    simtracksters: str = Field(
        "simtrackstersCP", description="sim trackster tree (truth particles)"
    )
    associations: str = "associations"
    association_prefix: str = Field("tsCLUE3D", description="associator branchName")
    association_suffix: str = Field("CP", description="associator suffix: CP or SC")

    def tree_path(self, tree: str) -> str:
        return f"{self.folder}/{tree}" if self.folder else tree

    def assoc(self, direction: str, what: str = "") -> str:
        """Association branch name, e.g. ``assoc('recoToSim', 'score')``."""
        base = f"{self.association_prefix}_{direction}_{self.association_suffix}"
        return f"{base}_{what}" if what else base

    def association_branches(self) -> tuple[str, ...]:
        return tuple(
            self.assoc(d, w) for d in ("recoToSim", "simToReco") for w in ("", "score", "sharedE")
        )
