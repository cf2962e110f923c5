"""Hash lists and matching: exchange formats, exact and near-duplicate indexes."""
