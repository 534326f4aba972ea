"""The registry is the one source of truth: every task of the paper (`docs/tasks.md`), with its metadata."""

from pathlib import Path

import pytest

import spectrum_suite
from spectrum_suite.fetch import availability
from spectrum_suite.registry import GROUPS, MODULES, SOURCES, TASKS, UnknownNameError, config_tasks, get_task
from spectrum_suite.sources import ADAPTERS

PACKAGE = Path(spectrum_suite.__file__).parent

HELD_OUT_PREFIXES = ("wvs", "globaloqa", "habermas", "numbergame", "flight", "chatbotarena", "novacomet",
                     "chemistry_esol", "chemistry_oxidative")  # fmt: skip
CAPABILITY = {"mmlu", "gpqa", "hellaswag", "winogrande", "arc", "drop", "truthful_qa"}


def test_counts_match_the_spec():
    episodes = spectrum_suite.list_tasks(row_family="episodes")
    assert len(episodes) == 94  # 93 registered + the orphan habermas_opinions
    assert len(spectrum_suite.list_tasks(row_family="alignment")) == 8
    assert len(spectrum_suite.list_tasks(row_family="coverage")) == 22
    assert len(spectrum_suite.list_tasks(row_family="episodes", side="train")) == 71
    assert len(spectrum_suite.list_tasks(row_family="episodes", side="test")) == 16
    assert {t.name for t in spectrum_suite.list_tasks(side="capability")} == CAPABILITY


def test_every_adapter_is_listed_once_and_the_helpers_live_apart():
    modules = sorted(p.stem for p in (PACKAGE / "sources").glob("*.py") if p.stem != "__init__")
    assert sorted(ADAPTERS) == modules and len(set(ADAPTERS)) == len(ADAPTERS)
    assert all(module.TASKS for module in MODULES)
    helpers = [p for p in (PACKAGE / "sourcekit").glob("*.py") if p.stem != "__init__"]
    assert helpers and not [p.name for p in helpers if "\nTASKS" in p.read_text()]
    assert list(TASKS)[:4] == [
        "polis_vote",
        "polis_comment",
        "diffuse_distribution",
        "coinflip",
    ]  # registry order


def test_split_side_follows_the_held_out_rule():
    for task in spectrum_suite.list_tasks(row_family="episodes"):
        held = task.name.startswith(HELD_OUT_PREFIXES) or task.name in CAPABILITY
        assert (task.side != "train") == held, task.name


def test_every_task_has_source_metadata_and_params():
    for task in TASKS.values():
        source = SOURCES[task.source.key]
        assert source is task.source
        assert source.license and source.citation and source.homepage.startswith("http")
        if task.row_family == "episodes":
            assert task.params is not None


def test_filters_and_availability_without_data():
    synthetic = spectrum_suite.list_tasks(row_family="episodes", availability="ready")
    assert {t.name for t in synthetic} >= set(GROUPS["synthetic"])
    assert all(availability(t) == "ready" for t in synthetic)
    assert availability(get_task("wvs_individual")) == "manual"
    assert availability(get_task("gsm8k_question")) == "downloadable"
    assert {t.name for t in spectrum_suite.list_tasks(source="discrete")} >= {"cards", "poisson", "zipfian"}
    assert all(t.kind == "individual" for t in spectrum_suite.list_tasks(kind="individual"))


def test_availability_tells_how_each_task_can_be_had():
    """BARE's data is not in its repository, so its six tasks are manual; gated Hub sets and files given on request
    say so."""
    bare = ["bare_gsm8k", "bare_enron", "bare_hotpot", "bare_lcb", "newsgroups", "pubmed"]
    assert {name: availability(get_task(name)) for name in bare} == dict.fromkeys(bare, "manual")
    for name in bare:
        (file,) = get_task(name).files.files
        assert file.manual and "BARE authors" in file.where and get_task(name).source.origin == "MAN"
    assert availability(get_task("hatespeech_individual")) == "permission"
    assert (
        availability(get_task("valueprism_vrd")) == availability(get_task("chatbotarena_prompts")) == "gated"
    )
    assert availability(get_task("mmlu")) == availability(get_task("novacomet_premise")) == "downloadable"
    assert availability(get_task("mpi")) == "manual"  # the statements download, the answers do not
    assert {t.name for t in spectrum_suite.list_tasks(availability="permission")} == {"hatespeech_individual"}


def test_every_remote_file_is_pinned_to_a_commit_or_says_why_not():
    for task in TASKS.values():
        for file in task.files.files:
            if file.manual:
                assert file.unpinned is None and file.where, (task.name, file.path)
            else:
                assert file.pinned != bool(file.unpinned), (task.name, file.path, file.unpinned)
                assert file.hub is not None or file.url.startswith("https://"), file.url


def test_availability_sees_the_data_dir(shared_data):
    assert availability(get_task("nytimes"), shared_data) == "ready"
    assert availability(get_task("gsm8k_question"), shared_data) == "ready"


def test_groups():
    assert set(GROUPS["numeric_dist"]) == {"normal", "multinomial", "geometric", "poisson", "binomial",
                                           "negative_binomial", "categorical", "geometric_beta",
                                           "hypergeometric", "zipfian"}  # fmt: skip
    assert len(GROUPS["synthetic"]) == 13 and "flight" in GROUPS["synthetic"]
    assert not set(GROUPS["train"]) & set(GROUPS["test"])
    assert {t.row_family for t in config_tasks("alignment")} == {"alignment"}


def test_unknown_names_get_close_matches():
    with pytest.raises(UnknownNameError, match="did you mean 'coinflip'"):
        get_task("coinflp")
    with pytest.raises(UnknownNameError, match="numeric_dist"):
        config_tasks("numeric_dst")
    with pytest.raises(ValueError, match="row_family must be one of"):
        spectrum_suite.list_tasks(row_family="episode")


def test_ready_needs_a_group_that_builds(tmp_path, shared_data):
    """Only the questions (info.csv) of a survey wave are no reason to call the respondents task ready."""
    waves = sorted((shared_data / "opinionqa" / "human_resp").glob("American_Trends_Panel_W*"))
    for wave in waves:
        target = tmp_path / "opinionqa" / "human_resp" / wave.name / "info.csv"
        target.parent.mkdir(parents=True)
        target.symlink_to(wave / "info.csv")
    assert availability(get_task("opinionqa_individual"), tmp_path) == "manual"
    assert availability(get_task("opinionqa_questions"), tmp_path) == "ready"


@pytest.mark.shared
def test_every_ready_task_builds_at_least_one_instance_from_the_real_data(shared_data):
    from tests.adapter_run import build, rows

    ready = [
        t for t in spectrum_suite.list_tasks(availability="ready", data_dir=shared_data) if t.files.files
    ]
    assert {"gpqa", "opinionqa_questions", "chemistry_esol", "nytimes", "polis_vote"} <= {
        t.name for t in ready
    }
    for task in ready:
        built = (
            build(task.name, shared_data, episodes=False).instances
            if task.row_family == "episodes"
            else rows(task.name, shared_data)
        )
        assert built, f"{task.name} is 'ready' but builds nothing"


def test_the_manual_files_table_in_the_docs_covers_every_task_that_needs_one():
    """docs/tasks.md#manual-files is the one table of manual files: every task that needs one is in it, with its
    source folder, and every task it names exists."""
    import fnmatch
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "tasks.md").read_text()
    section = text[text.index("### Manual files") :].split("\n## ", 1)[0]
    table = [line.split(" | ") for line in section.splitlines() if line.startswith("|")][
        2:
    ]  # past the header
    patterns = [
        ([p.strip("|` ").removeprefix("alignment ").strip("`") for p in cells[0].split(", ")], cells[1])
        for cells in table
    ]
    named = [p for names, _ in patterns for p in names]
    assert all(fnmatch.filter(TASKS, p) for p in named), named
    for task in TASKS.values():
        if availability(task) not in ("manual", "permission"):
            continue
        folder = task.files.files[0].path.split("/")[0] + "/"
        rows = [paths for names, paths in patterns if any(fnmatch.fnmatch(task.name, p) for p in names)]
        assert any(folder in paths for paths in rows), (task.name, folder)
