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
#: Layer-cluster branches of the ``clusters`` tree that the cmssw feature set reads.
CLUSTER_BRANCHES: tuple[str, ...] = ("position_z", "cluster_number_of_hits")
#: Branches of the ``graph`` tree (TICLGraph): per trackster, its inner and outer neighbours.
GRAPH_BRANCHES: tuple[str, ...] = ("linked_inners", "linked_outers")
#: TICLDumperGNN ``GNNTraining`` branches: one entry per event, ``node_*`` one value per
#: trackster, ``edge_*``/``edgeIndex_*`` one list per trackster (its outer neighbours).
GNN_NODE_BRANCHES: tuple[str, ...] = (
    "node_raw_energy",
    "node_raw_em_energy",
    "node_barycenter_x",
    "node_barycenter_y",
    "node_barycenter_z",
    "node_barycenter_eta",
    "node_barycenter_phi",
    "node_eVector0_x",
    "node_eVector0_y",
    "node_eVector0_z",
    "node_EV1",
    "node_EV2",
    "node_EV3",
    "node_sigmaPCA1",
    "node_sigmaPCA2",
    "node_sigmaPCA3",
    "node_photon_prob",
    "node_electron_prob",
    "node_muon_prob",
    "node_neutral_pion_prob",
    "node_charged_hadron_prob",
    "node_neutral_hadron_prob",
    "node_z_min",
    "node_z_max",
    "node_time",
    "node_time_error",
    "node_LC_density",
    "node_trackster_density",
    "node_num_LCs",
    "node_num_hits",
    "node_match_idx",
    "node_match_sharedE",
    "node_match_score",
)
GNN_SIM_BRANCHES: tuple[str, ...] = (
    "simTrackster_raw_energy",
    "simTrackster_true_energy",
    "simTrackster_isPU",
    "simTrackster_pdgID",
)
GNN_EDGE_BRANCHES: tuple[str, ...] = (
    "edge_raw_energy",
    "edge_barycenter_z",
    "edge_barycenter_xy",
    "edge_time",
    "edge_eigenvector0",
    "edge_label",
    "edge_weight",
    "edgeIndex_out",
    "edgeIndex_in",
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
    clusters: str = Field("clusters", description="layer-cluster tree (cmssw feature set)")
    graph: str = Field("graph", description="TICLGraph tree: linked_inners / linked_outers")
    gnn_folder: str = Field("ticlDumperGNN", description="TDirectory of TICLDumperGNN")
    gnn_training: str = Field("GNNTraining", description="TICLDumperGNN's tree")

    def tree_path(self, tree: str) -> str:
        return f"{self.folder}/{tree}" if self.folder else tree

    def gnn_path(self) -> str:
        return f"{self.gnn_folder}/{self.gnn_training}" if self.gnn_folder else self.gnn_training

    def assoc(self, direction: str, what: str = "") -> str:
        """Association branch name, e.g. ``assoc('recoToSim', 'score')``."""
        base = f"{self.association_prefix}_{direction}_{self.association_suffix}"
        return f"{base}_{what}" if what else base

    def association_branches(self) -> tuple[str, ...]:
        return tuple(
            self.assoc(d, w) for d in ("recoToSim", "simToReco") for w in ("", "score", "sharedE")
        )
