"""Export to the Hub layout, loading it back with stock datasets, interruption safety, push."""

import datasets
import pytest

from spectrum_suite import hub, load_dataset
from spectrum_suite.registry import TASKS


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
    assert not list(exported.glob(".spectrum_suite_export.partial-*"))
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


def test_export_never_removes_what_it_did_not_write(tmp_path):
    out = tmp_path / "repo"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "notes.txt").write_text("my notes")
    hub.export(out, ["cards"], max_instances=1)
    hub.export(out, ["cards", "coinflip"], max_instances=2)  # a re-export replaces only its own files
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (out / "notes.txt").read_text() == "my notes"
    assert datasets.load_dataset(str(out), "coinflip", split="train").num_rows > 0


def test_export_refuses_to_replace_a_card_or_config_it_did_not_write(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("# my dataset\n")
    with pytest.raises(hub.ExportTargetError, match="README.md was not written by an export"):
        hub.export(mine, ["cards"])
    assert (mine / "README.md").read_text() == "# my dataset\n"
    exported = hub.export(tmp_path / "exported", ["cards"], max_instances=1)
    (exported / "README.md").write_text((exported / "README.md").read_text() + "\nmy edit\n")
    with pytest.raises(hub.ExportTargetError, match="or was edited since"):
        hub.export(exported, ["cards"], max_instances=1)
    other = tmp_path / "other"
    (other / "data" / "cards").mkdir(parents=True)
    (other / "data" / "cards" / "keep.parquet").write_text("not ours")
    with pytest.raises(hub.ExportTargetError, match="data/cards was not written by an export"):
        hub.export(other, ["cards"])
    assert (other / "data" / "cards" / "keep.parquet").read_text() == "not ours"


@pytest.mark.parametrize("content", ["{not json", '{"something": "else"}', "[]"])
def test_a_corrupt_or_foreign_manifest_is_named(tmp_path, content):
    (tmp_path / hub.MANIFEST).write_text(content)
    with pytest.raises(hub.ExportTargetError, match=hub.MANIFEST):
        hub.export(tmp_path, ["cards"])


def test_large_splits_are_written_in_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "MAX_SHARD_BYTES", 50_000)
    out = hub.export(tmp_path / "sharded", ["cards"])
    shards = sorted((out / "data" / "cards").glob("train-*.parquet"))
    assert len(shards) > 1 and shards[-1].name.endswith(f"-of-{len(shards):05d}.parquet")
    assert (
        datasets.load_dataset(str(out), "cards", split="train")["episode_id"]
        == load_dataset("cards", split="train")["episode_id"]
    )


def test_the_card_is_a_hub_dataset_card_with_each_sources_license(exported):
    from huggingface_hub import DatasetCard

    card = DatasetCard((exported / "README.md").read_text())
    assert {c["config_name"] for c in card.data.configs} >= {"numeric_dist", "coverage"}
    assert card.data.license == ["apache-2.0"]  # numeric_dist and coverage are generated in code
    assert "arxiv:2510.06084" in card.data.tags and card.data.pretty_name == "Spectrum Suite"
    licenses = {name: TASKS[name].source.license_id for name in ("polis_vote", "gsm8k_question", "globaloqa",
                                                                  "hatespeech_individual", "prism_prompts")}  # fmt: skip
    assert licenses == {"polis_vote": "cc-by-4.0", "gsm8k_question": "mit", "globaloqa": "cc-by-nc-sa-4.0",
                        "hatespeech_individual": "other", "prism_prompts": "cc-by-nc-4.0"}  # fmt: skip
