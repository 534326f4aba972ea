"""Polis adapter on the real openData files: comment filters, voter instances, partial folders, bad votes."""

from __future__ import annotations

import pandas as pd
import pytest

from spectrum_suite.sources import polis
from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import build, inputs, link_tree, outputs

CONV = "brexit-consensus"
NO_VOTES = {
    "american-assembly.bowling-green", "march-on.operation-marchin-orders", "austria-climate.2vkxcncppn.2022-07-07",
    "austria-climate.5tzfrp5eaa.2022-07-07", "austria-climate.7z7ejpbmv5.2022-08-08",
    "austria-climate.9xnndurbfm.2022-07-07",
}  # fmt: skip


def expected_comments(shared_data, conversation: str) -> dict[int, str]:
    """The three comment filters (docs/tasks.md#real-sources, row polis) recomputed from the raw file, independently of the adapter."""
    raw = pd.read_csv(shared_data / "polis" / conversation / "comments.csv")
    kept = {}
    for cid, body in zip(raw["comment-id"], raw["comment-body"], strict=True):
        if not isinstance(body, str):
            continue
        words = len(body.split())
        if "test" in body.lower() and words < 3:
            continue
        if conversation != "vtaiwan.uberx" and words < 4:
            continue
        kept[int(cid)] = body
    return kept


def test_comment_pools_hold_the_filtered_comments(shared_data):
    built = build("polis_comment", shared_data)
    by_key = {inst.key: inst for inst in built.instances}
    assert set(by_key) == set(polis.CONVERSATIONS) and len(by_key) == 20
    for conversation in (CONV, "vtaiwan.uberx"):
        pool = sorted(y for _, y in by_key[conversation].population)
        assert pool == sorted(expected_comments(shared_data, conversation).values())
    # every comment of a conversation appears exactly once across its partition chunks
    chunks = [outputs(ep) for ep in built.episodes if ep.instance.key == CONV]
    assert sorted(t for chunk in chunks for t in chunk) == sorted(
        expected_comments(shared_data, CONV).values()
    )
    assert sum(built.fetched.dropped.values()) > 0


def test_comment_descriptions_combine_topic_and_description(shared_data):
    summary = polis.read_summary(shared_data / "polis" / "15-per-hour-seattle" / "summary.csv")
    assert summary["topic"] == "$15/hour"
    descs = polis.descriptions(polis.COMMENT_DESCRIPTORS, summary)
    assert len(descs) == 7 * 5 * 2  # 7 descriptors x 5 prefixes x (before, after); duplicates kept
    assert descs.count("The following are proposed comments.") == 2
    assert "Topic: $15/hour\nThe following are proposed comments." in descs
    assert "The following are proposed comments.\nTopic: $15/hour" in descs
    about = summary["conversation-description"]
    assert f"Description: {about}\nTopic: $15/hour\nInputs from users in a digital town hall." in descs


def test_a_voter_episode_holds_only_that_voters_votes(shared_data):
    built = build("polis_vote", shared_data)
    assert len(built.groups) == 14
    assert {m.split("/")[1] for m in built.fetched.missing} == NO_VOTES
    votes = pd.read_csv(shared_data / "polis" / CONV / "votes.csv")
    comments = expected_comments(shared_data, CONV)
    votes = votes[votes["comment-id"].isin(comments)]
    counts = votes.groupby("voter-id").size()
    eligible = {f"{CONV}/voter/{v}" for v, n in counts.items() if n >= 4}
    keys = {inst.key for inst in built.instances if inst.key.startswith(CONV + "/")}
    assert keys == eligible
    voter = int(counts.idxmax())
    mine = votes[votes["voter-id"] == voter]
    expected = sorted(
        (comments[c], polis.VOTE_TEXT[v]) for c, v in zip(mine["comment-id"], mine["vote"], strict=True)
    )
    (episode,) = [ep for ep in built.episodes if ep.instance.key == f"{CONV}/voter/{voter}"]
    assert (
        sorted(zip(inputs(episode), outputs(episode), strict=True)) == expected
    )  # n_iter all: every vote once
    assert set(outputs(episode)) <= {"Agree", "Disagree", "Pass"}
    assert all(len(g.instances) >= 1 for g in built.groups)


def test_votes_are_optional_per_conversation_but_one_is_needed(shared_data, tmp_path):
    files = {
        f"polis/{c}/{n}": shared_data / "polis" / c / n
        for c in polis.CONVERSATIONS
        for n in ("comments.csv", "summary.csv")
    }
    link_tree(files, tmp_path)
    with pytest.raises(SourceUnavailable, match="votes.csv"):
        build("polis_vote", tmp_path, verify=False)
    assert len(build("polis_comment", tmp_path, episodes=False, verify=False).instances) == 20


def test_an_unexpected_vote_value_names_file_row_and_field(shared_data, tmp_path):
    files = {
        f"polis/{c}/{n}": shared_data / "polis" / c / n
        for c in polis.CONVERSATIONS
        for n in ("comments.csv", "summary.csv")
    }
    link_tree(files, tmp_path)
    bad = tmp_path / "polis" / CONV / "votes.csv"
    bad.write_text("timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,\n2,x,0,1,1\n3,x,0,2,2\n")
    with pytest.raises(SourceFormatError, match=r"votes\.csv: row 4: field 'vote': unexpected vote 2(\.0)?;"):
        build("polis_vote", tmp_path, verify=False)


def test_same_files_same_episodes(shared_data):
    first = build("polis_comment", shared_data).episodes
    second = build("polis_comment", shared_data).episodes
    assert [ep.messages() for ep in first] == [ep.messages() for ep in second]
    assert len({ep.seed_key for ep in first}) == len(first)


def comment_tree(shared_data, tmp_path):
    files = {
        f"polis/{c}/{n}": shared_data / "polis" / c / n
        for c in polis.CONVERSATIONS
        for n in ("comments.csv", "summary.csv")
        if not (c == CONV and n == "comments.csv")
    }
    link_tree(files, tmp_path)
    comments = tmp_path / "polis" / CONV / "comments.csv"
    comments.write_text(
        (shared_data / "polis" / CONV / "comments.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return comments


def test_a_voter_id_that_is_not_a_number_names_the_row(shared_data, tmp_path):
    """Was a ValueError traceback from int()."""
    comment_tree(shared_data, tmp_path)
    bad = tmp_path / "polis" / CONV / "votes.csv"
    bad.write_text("timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,1\n2,x,0,p-17,1\n")
    with pytest.raises(
        SourceFormatError,
        match=r"votes\.csv: row 3: field 'voter-id': expected an integer voter id, got 'p-17'",
    ):
        build("polis_vote", tmp_path, verify=False)


def test_a_comment_id_given_twice_names_the_row(shared_data, tmp_path):
    """Was silent: the later comment's text replaced the earlier one's for every vote on that id."""
    comments = comment_tree(shared_data, tmp_path)
    frame = pd.read_csv(comments)
    frame.loc[5, "comment-id"] = frame.loc[2, "comment-id"]
    frame.to_csv(comments, index=False)
    with pytest.raises(
        SourceFormatError, match=r"comments\.csv: row 7: field 'comment-id': comment id \d+ appears twice"
    ):
        build("polis_comment", tmp_path, verify=False)
