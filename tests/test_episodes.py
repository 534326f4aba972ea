"""The episode sampler: independent streams, lengths, partitions, field rendering."""

import json
import math

import numpy as np
import pytest

from spectrum_suite.episodes import (
    EpisodeParams,
    Instance,
    draw_length,
    generate_episodes,
    parse_n_iter,
    render_fields,
    rng_for,
)


def _instances(k=5, size=30):
    return [Instance(key=f"i{i}", name="t", descriptions=["d1", "d2"],
                     population=[(None, f"{i}-{j}") for j in range(size)]) for i in range(k)]  # fmt: skip


def test_rng_streams_are_independent_and_stable():
    a = rng_for(42, "x", 1, "values").integers(1 << 30, size=4)
    b = rng_for(42, "x", 1, "values").integers(1 << 30, size=4)
    c = rng_for(42, "x", 2, "values").integers(1 << 30, size=4)
    assert (a == b).all() and not (a == c).all()


def test_geometric_poisson_lengths_have_mean_m():
    rng = np.random.default_rng(0)
    lengths = [draw_length("~64", rng) for _ in range(4000)]
    assert min(lengths) >= 1
    assert abs(np.mean(lengths) - 64) < 2.0
    assert parse_n_iter("gp:32") == "~32" and parse_n_iter("all") is None and parse_n_iter(7) == 7
    with pytest.raises(ValueError, match="n_iter"):
        parse_n_iter("~1")


def test_draws_without_replacement_and_description_rate():
    eps = list(generate_episodes(_instances(k=400, size=10), EpisodeParams(n_iter=10, description_prob=0.6)))
    assert len(eps) == 400
    for ep in eps:
        outputs = [y for _, y in ep.samples]
        assert len(set(outputs)) == len(outputs) == 10
    rate = np.mean([ep.include_description for ep in eps])
    assert abs(rate - 0.6) < 3 * math.sqrt(0.24 / 400)
    messages = eps[0].messages()
    assert [m["example_ind"] for m in messages if m["role"] == "output"] == list(range(10))


def test_partition_uses_every_datum_once():
    inst = _instances(k=1, size=500)
    eps = list(generate_episodes(inst, EpisodeParams(n_per=-1, n_iter="~16")))
    outputs = [y for ep in eps for _, y in ep.samples]
    assert sorted(outputs) == sorted(y for _, y in inst[0].population)
    capped = list(generate_episodes(inst, EpisodeParams(n_per=-1, n_iter="~16", max_total=3)))
    assert len(capped) == 3


def test_same_seed_same_episodes_and_permutations():
    params = EpisodeParams(n_per=2, n_iter=5, permutations=3)
    first = [ep.messages() for ep in generate_episodes(_instances(), params)]
    second = [ep.messages() for ep in generate_episodes(_instances(), params)]
    assert first == second and len(first) == 5 * 2 * 3


def test_weighted_sampling_without_replacement_prefers_heavy_items():
    inst = Instance(key="w", name="w", descriptions=[], population=[(None, "a"), (None, "b"), (None, "c")],
                    probs=[0.98, 0.01, 0.01])  # fmt: skip
    firsts = [inst.draw(rng_for(1, i), 1)[0][1] for i in range(300)]
    assert firsts.count("a") > 270


def test_field_rendering_rules():
    row = {"a": "café", "b": 3, "c": float("nan"), "d": True, "e": [{"x": 1}]}
    assert render_fields(row, ["a"]) == "café"
    assert render_fields(row, ["d"]) == "True"
    assert render_fields(row, ["e"]) == "[{'x': 1}]"
    text = render_fields(row, ["a", "b", "c", "d"])
    assert text == '{"a": "caf\\u00e9", "b": 3, "c": null, "d": true}'
    assert json.loads(text)["c"] is None
    assert render_fields(row, []) is None


def test_bad_params_and_instances_fail_clearly():
    with pytest.raises(ValueError, match="n_per"):
        EpisodeParams(n_per=0)
    with pytest.raises(ValueError, match="description_prob"):
        EpisodeParams(description_prob=1.5)
    with pytest.raises(ValueError, match="exactly one of population and sampler"):
        Instance(key="k", name="k", descriptions=[])
