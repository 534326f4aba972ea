"""The Arrow features of the three row families (`DESIGN.md`, "The three row families")."""

from __future__ import annotations

import datasets

MESSAGE = {
    "role": datasets.Value("string"),
    "content": datasets.Value("string"),
    "example_ind": datasets.Value("int32"),
}

EPISODE_FEATURES = datasets.Features(
    {
        "task": datasets.Value("string"),
        "source": datasets.Value("string"),
        "kind": datasets.Value("string"),
        "name": datasets.Value("string"),
        "instance_id": datasets.Value("string"),
        "episode_id": datasets.Value("string"),
        "messages": datasets.List(MESSAGE),
        "choices": datasets.List(datasets.Value("string")),
        "include_description": datasets.Value("bool"),
        "n": datasets.Value("int32"),
        "max_n": datasets.Value("int32"),
        "seed": datasets.Value("string"),
        "meta": datasets.Value("string"),
    }
)

ALIGNMENT_FEATURES = datasets.Features(
    {
        "task": datasets.Value("string"),
        "instance_id": datasets.Value("string"),
        "description": datasets.Value("string"),
        "input": datasets.Value("string"),
        "candidates": datasets.List(datasets.Value("string")),
        "target_probs": datasets.List(datasets.Value("float64")),
        "output_name": datasets.Value("string"),
        "ordinal": datasets.Value("bool"),
        # rows that share a source item (a question asked in many countries, a book rated by several demographics)
        # are not independent: they share this key, and intervals resample them together (the row's own id
        # where rows are independent)
        "cluster": datasets.Value("string"),
    }
)

COVERAGE_FEATURES = datasets.Features(
    {
        "task": datasets.Value("string"),
        "description": datasets.Value("string"),
        "examples": datasets.List(datasets.Value("string")),
        "validator": datasets.Value("string"),
        "max_new_tokens": datasets.Value("int32"),
    }
)

FEATURES = {"episodes": EPISODE_FEATURES, "alignment": ALIGNMENT_FEATURES, "coverage": COVERAGE_FEATURES}
