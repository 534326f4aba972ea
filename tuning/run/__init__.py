"""``python -m tuning.run``: Spectrum Tuning of a causal LM with TRL, evaluated against the paper's baselines.

The package, in the order a run goes through it: `arguments` (TRL's parser over our, TRL's SFT and model
options; YAML recipes in ``tuning/recipes``), `model` (the start model, the instruct twin's control-token rows,
LoRA), `data` (the tokenised train set and its mix), `packing`, `outputs` (the run folder, checkpoints, the
generation config, the Hub), `trainer` (the flow), `evaluation` (the start model in its own and the spectrum format, and the tuned model), `card` (the model card) and
`cli` (the entry point).
"""
