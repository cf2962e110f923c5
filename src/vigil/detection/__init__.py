"""Detection: scores about an item (AI likelihood and the like), each in [0, 1] with
its level and reasons. Detectors arrive with the AI-likelihood issue; the `Score`
record every signal shares lives here."""
