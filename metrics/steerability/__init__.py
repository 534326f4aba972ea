"""In-context steerability: prequential loss and accuracy of scored outputs (`docs/evaluation.md#steerability`)."""
