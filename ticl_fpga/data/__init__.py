"""Data: TICLDumper ntuples (real or synthetic) into PyG graphs with truth labels.

``schema`` (names, as data) -> ``synthetic`` (generator writing that schema) -> ``ntuple`` (chunked
reading with uproot) -> ``candidates`` (geometric candidate edges) -> ``features`` (node and edge
features) -> ``truth`` (edge labels from associations) -> ``dataset`` (on-disk splits + scalers).
"""
