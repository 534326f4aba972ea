"""In-context steerability: prequential loss and accuracy of scored outputs (spec A.5-A.8)."""
