"""Export to the Hub layout, loading it back with stock datasets, interruption safety, push."""

import datasets
import pytest

from spectrum_suite import hub, load_dataset


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("exports") / "spectrum_suite"
    return hub.export(out, ["numeric_dist", "coverage"], max_instances=20)


def test_stock_load_dataset_reads_the_export(exported):
    from_hub_layout = datasets.load_dataset(str(exported), "numeric_dist")
    built = load_dataset("numeric_dist", max_instances=20)
    assert set(from_hub_layout) == {"train", "validation"}
    for split in ("train", "validation"):
        assert from_hub_layout[split]["episode_id"] == built[split]["episode_id"]
        assert from_hub_layout[split]["messages"] == built[split]["messages"]
    coverage = datasets.load_dataset(str(exported), "coverage", split="test")
    assert coverage.num_rows == 22


def test_card_has_yaml_configs_licenses_and_split_notes(exported):
    card = (exported / "README.md").read_text()
    header = card.split("---")[1]
    assert "- config_name: numeric_dist" in header and "path: data/numeric_dist/train-*.parquet" in header
    assert "validation" in card and "instance_id" in card
    assert "| poisson | episodes | train |" in card
    assert "Apache-2.0" in card and "sorensen2025spectrum" in card


def test_second_export_keeps_earlier_configs(exported):
    hub.export(exported, ["cards"])
    assert datasets.load_dataset(str(exported), "numeric_dist", split="validation").num_rows > 0
    assert datasets.load_dataset(str(exported), "cards", split="train").num_rows == 100


def test_interrupted_export_leaves_previous_intact(exported, monkeypatch):
    before = (exported / "README.md").read_text()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(hub, "_write_config", boom)
    with pytest.raises(KeyboardInterrupt):
        hub.export(exported, ["coinflip"])
    assert (exported / "README.md").read_text() == before
    assert not list(exported.parent.glob(".spectrum_suite.partial-*"))
    assert datasets.load_dataset(str(exported), "coverage", split="test").num_rows == 22


def test_refuses_to_write_into_code(tmp_path):
    package = tmp_path / "spectrum_suite"
    package.mkdir()
    (package / "__init__.py").write_text("")
    with pytest.raises(hub.ExportTargetError, match="holds code"):
        hub.export(package, ["cards"])


def test_push_uploads_the_export_layout(monkeypatch):
    seen = {}

    def fake_upload(folder, repo_id, private, token):
        seen["files"] = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        seen["args"] = (repo_id, private)
        return f"https://huggingface.co/datasets/{repo_id}"

    monkeypatch.setattr(hub, "upload", fake_upload)
    url = hub.push("org/suite", ["cards"], private=True)
    assert url.endswith("org/suite") and seen["args"] == ("org/suite", True)
    assert "README.md" in seen["files"] and "data/cards/train-00000-of-00001.parquet" in seen["files"]
    with pytest.raises(ValueError, match="ORG/NAME"):
        hub.push("suite", ["cards"])


def test_train_and_test_groups_build_from_real_data_and_the_card_says_what_was_included(
    tmp_path, shared_data
):
    out = hub.export(tmp_path / "spectrum_suite", ["train", "test"], data_dir=shared_data, max_instances=3)
    card = (out / "README.md").read_text()
    train = datasets.load_dataset(str(out), "train")
    assert {"polis_vote", "gsm8k_question", "ambient_premise_hypothesis", "coinflip"} <= set(
        train["train"]["task"]
    )
    test = datasets.load_dataset(str(out), "test", split="test")
    assert {"flight", "chemistry_esol", "chemistry_oxidative"} == set(test["task"])
    assert "| polis_vote | episodes | train |" in card and "| yes |" in card
    row = next(line for line in card.splitlines() if line.startswith("| test |"))
    assert "wvs_individual" in row and "habermas_question" in row  # skipped, and said so
