"""Polis open data (docs/tasks.md#real-sources, row polis): `polis_comment` (one comment pool per
conversation) and `polis_vote` (one instance per voter of a conversation).

Files come from GitHub ``compdemocracy/openData`` at a pinned commit (SHA-256 pinned where known).
Conversations whose ``votes.csv`` is absent still feed `polis_comment`; `polis_vote` builds from the
conversations that have votes, and the build log names the missing files. The reference's loader for the
released models was non-deterministic; this one is deterministic, so rows cannot match theirs
(docs/deviations.md#stable-identities-and-order).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..episodes import Instance, InstanceGroup
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_csv
from ..sourcekit.values import check_column, is_number, number, plain
from ..sourcekit.values import null as null_value
from ..task import RemoteFile, Source, SourceFormatError, TaskFiles, TaskSpec, each_of, episode_task

if TYPE_CHECKING:
    from ..task import FetchedFiles

SOURCE = Source(
    "polis", "Polis open data", "GH", "https://github.com/compdemocracy/openData", "CC BY 4.0",
    "Small et al. 2021, Polis: Scaling deliberation by mapping high dimensional opinion spaces",
)  # fmt: skip

REPO = "compdemocracy/openData"
COMMIT = "0bc2ce0f32c673f68da20b57bce15c457aa787b5"
FOLDER = "polis"
VOTE_TEXT = {-1: "Disagree", 0: "Pass", 1: "Agree"}
MIN_VOTES = 4

CONVERSATIONS: dict[str, dict[str, str]] = {
    "15-per-hour-seattle": {
        "comments.csv": "23306ea084fbecf5e924e78da03b13cd3ad289e5f9b533b658b8caa59f5c1981",
        "summary.csv": "7d7c5cb5baf3a4e2f81e041fd53eb12eac5837abf2a9c7b98c1cb0e03a4b2921",
        "votes.csv": "00ab2d76426ce3bad6f304022dba22e5807dfd12d5d7ef9dfb6bf7efbfecbe10",
    },
    "american-assembly.bowling-green": {
        "comments.csv": "b5d72fbb1b15d66c624da51849aef3d5691358b6ec646035b9ca41c6b9f936f0",
        "summary.csv": "35cd93ea32bdc0926351ca093de981ef1af9043fc563d837ef082d509cb89141",
    },
    "austria-climate.2vkxcncppn.2022-07-07": {
        "comments.csv": "be4e43d3c12cc40353098350ab1f03c155d1de84dfecc500be5dfbe7a1a2def7",
        "summary.csv": "b387d16af7462af73b2673cd0f375fe645fc4c40872c09b0353c07444e96967a",
    },
    "austria-climate.5twd2jsnkf.2022-08-08": {
        "comments.csv": "77f014d129c289b462e64f13fa42332b374832902b7b1943d85371b76628583a",
        "summary.csv": "b0a08672041a971991a85a5d1074b0bdb0798d9736d2132cd380e0439b777d7d",
        "votes.csv": "a41228980a9b9c571e7b044cb8f02dbe339a50151155c25806865821d8ad7941",
    },
    "austria-climate.5tzfrp5eaa.2022-07-07": {
        "comments.csv": "a7db9ae7c7d090a699ef0f8a697abb99e972de9878e5f111f58670b94042c0b2",
        "summary.csv": "b334bb3b9c2c8f6812f4d71fb6715ad13741549ffe01d205042d12c4f709b6fd",
    },
    "austria-climate.7z7ejpbmv5.2022-08-08": {
        "comments.csv": "7318af5a5f3aa4f3b6836fb7def4733bb9d6eaec51a90067e5f67b5c9d517d66",
        "summary.csv": "129124c48615583002aeea9c9c982e01093f85d8cb30ef292c5e95337c74fed6",
    },
    "austria-climate.9xnndurbfm.2022-07-07": {
        "comments.csv": "f1775f97b5ae6bbe1d33066ab1c6947fcca0aaf6b201e8256cd3e76223bd4299",
        "summary.csv": "119ce21ea7dd9eb56ae525fd422bc6ed1e3b46e077f9673318cec948a0661f64",
    },
    "bg2050-volunteers": {
        "comments.csv": "1df85d984c87cd350f76ca62218a389e865eaf90a514687980b3b249aa79a360",
        "summary.csv": "6e2ee82b81601d36f59b66ff8ae88ae4f4096bda805750a6f83385f4ca74b07c",
        "votes.csv": "76a51f5cdea8832f6fd8cd88c0d9b0fcbf89b80a019432fcb67a9d187aeee1ad",
    },
    "brexit-consensus": {
        "comments.csv": "f9a341a6acadd8277458ed1ec1280508450dcc53f23cfdad9baf92a538bbd74c",
        "summary.csv": "1ace30cbb65cca8f090e95e06dae15c4c24bd1328f6bc803108b4facc03c7ebf",
        "votes.csv": "088d3063eb821de6974259ca249887c8b80793d476f16ef502835317e3aeedc4",
    },
    "canadian-electoral-reform": {
        "comments.csv": "f3fca647a6b13e218a454f06a9f8c985a0a7b63d64daf277b6f0916cf6d54a5d",
        "summary.csv": "75d5bf666fec281eb57a256d3179180b39e4da93d3d87b21b67afcf984d00333",
        "votes.csv": "ed648b83d058b2a174c2ed3a03636de2cd54d7e6eeb430c4d446ee94c66d7e87",
    },
    "football-concussions": {
        "comments.csv": "80e4e937e6a308263bdf57eb608b3f6c9c3d1a936819dd554d9d647f63ced291",
        "summary.csv": "d61aaf54a79d4572e18a1e40c258366752167b1a83a8df4b762ce20dbb65b71d",
        "votes.csv": "c20593a06c3a5322cedf3ff1e5654521484016f033445400742e8489db4df8ab",
    },
    "london.youth.policing": {
        "comments.csv": "61bdfdc160b0ff59f28d2823d9ccdd3472823df151ba9963f0035f723f7dcba7",
        "summary.csv": "1b635595cd0ba41f147064f9f09bc6c136aab497cb01425d76e36b96c98ae8e4",
        "votes.csv": "e3e1262555d7e0ae792c38b1dca94a518d070394969fb0d9fd0b54947b044f4e",
    },
    "march-on.operation-marchin-orders": {
        "comments.csv": "bd3b8a71f9d144730aa21daa4bd801dcce22b99bb7a1886bc18405f26eece46a",
        "summary.csv": "71f53fcd996c426012c30dba41208fbc67588cb254add3d7755a99a748d526a4",
    },
    "scoop-hivemind.affordable-housing": {
        "comments.csv": "f559586c28eb933d1954df35b7b449af011754393d0d835f82d4c29a40c712eb",
        "summary.csv": "9ce32b1fa68ec6e42254fab46e609c07e8dd55274e31e91f03c48d6aa689b6bf",
        "votes.csv": "9a16d6b22ed2a53ac80f56bdcb82a03ddf430dcd4e6ebeec6ece79110c21e55b",
    },
    "scoop-hivemind.biodiversity": {
        "comments.csv": "de84b8c9d9b4b70d4929ee0603aa242ba60f53cc456dbf03a62719f1abc16165",
        "summary.csv": "d4200eed905ad960a254a894923fd1753e1ca61145084356697957795585f2a5",
        "votes.csv": "4798567ec583fc9a826f08dbddafdd3099e9f26e660c313a14b12c73859922d0",
    },
    "scoop-hivemind.freshwater": {
        "comments.csv": "508001134c37e424c074a53391ab02f807b0045ae233d63324cba8aa173bc843",
        "summary.csv": "c1f21e14c6d37451adc064df5bef54822477cb87e85f58f133c50271b9c25aca",
        "votes.csv": "f826cded421476ad23471e72d45a60bb424ed9db0fdc316253a6f7c523a77af0",
    },
    "scoop-hivemind.taxes": {
        "comments.csv": "cf53851ef9475bae8e8f493da7ef167feac69c893e6b730a14c1b8e3465dd4c5",
        "summary.csv": "d093104dc6080fa43ebbc9e1156ec6367d70f54b2e4041fced795ced651d2da3",
        "votes.csv": "fd3ac8a478c2ef1a21f513c4747ca440dd939146b3be2f893a615e37d181ac7a",
    },
    "scoop-hivemind.ubi": {
        "comments.csv": "f47dcf4fde68bd9da3fdff0981e62b6ec5d2673e8e82144fefd4c82ce8953a8e",
        "summary.csv": "8a17c635bc6685625ba8e59fc14eb5abf15e51dc33b040eef42bae05a17fe313",
        "votes.csv": "594485d8763194cd685fc8bf2c547211b907821e9084fd4f68d8c700e977917d",
    },
    "ssis.land-bank-farmland.2rumnecbeh.2021-08-01": {
        "comments.csv": "32999cfd0d28b4de2d14af463b9554a3c5d5e29453b93a5d45e7f92a034525ca",
        "summary.csv": "a606972c8089c758ddc8915999eef1a8f77b87d1c3251296b49cc14bf22f27c7",
        "votes.csv": "e9ed2a46ac33b8fcc2ef810dff15d2e795e4f4c791a6683e2fd4d3a287bd9c6c",
    },
    "vtaiwan.uberx": {
        "comments.csv": "719de1220b72e1e2e323109a528f2685ce6e2eea006f7d5fa02c607eccbfa2d8",
        "summary.csv": "7ea950e1f02a20be471a89628bf90fdd54a32edb3e5578195283a6d8934eb688",
        "votes.csv": "f54acbaeb412ae8609a9b6e12851990906d82c4155aa92d86a529228e385a5ce",
    },
}

COMMENT_DESCRIPTORS = (
    "The following are proposed comments.",
    "The following are comments from a digital town hall.",
    "The following are proposed statements.",
    "There will be statements for people to vote on.",
    "Comments ranging from a phrase up to a full paragraph.",
    "Opinion statements ranging from a phrase up to a full paragraph.",
    "Inputs from users in a digital town hall.",
)
VOTE_DESCRIPTORS = (
    "The following are votes, all from the same individual. Options: Agree, Disagree, Pass",
    "The following are votes from a digital town hall.\nOptions: Agree, Disagree, Pass",
    "Here are someone's votes on a digital town hall.\nOptions: Agree, Disagree, Pass",
    "Here are the votes from someone on a digital town hall.\nPossible responses: Agree, Disagree, Pass",
)


def _file(conversation: str, name: str) -> RemoteFile:
    """A file of one conversation at the pinned commit; votes not in the manifest carry no checksum."""
    sha = CONVERSATIONS[conversation].get(name)
    return github_file(FOLDER, REPO, COMMIT, f"{conversation}/{name}", sha)


#: polis_comment: comments.csv and summary.csv of every conversation, all required.
COMMENT_FILES = TaskFiles(
    tuple(_file(conv, name) for conv in CONVERSATIONS for name in ("comments.csv", "summary.csv"))
)
#: polis_vote: one group per conversation (its votes, comments and summary); the conversations whose votes
#: are absent are left out, and at least one must be there.
VOTE_FILES = each_of(
    *([_file(conv, name) for name in ("votes.csv", "comments.csv", "summary.csv")] for conv in CONVERSATIONS)
)


def read_summary(path: Path) -> dict[str, str]:
    """summary.csv is a headerless key/value table; keep the keys whose value is present."""
    frame = read_csv(path, [], header=None, dtype=str, keep_default_na=False)
    if frame.shape[1] < 2:
        raise SourceFormatError(
            path, "row 1", "value", f"expected key,value rows; got {frame.shape[1]} column(s)"
        )
    return {str(k).strip(): str(v).strip() for k, v in zip(frame[0], frame[1], strict=True) if str(v).strip()}


def descriptions(descriptors: tuple[str, ...], summary: dict[str, str]) -> list[str]:
    """Every descriptor with every topic/description prefix, before and after it (duplicates kept)."""
    topic, about = summary.get("topic"), summary.get("conversation-description")
    prefixes = [""]
    if topic:
        prefixes.append(f"Topic: {topic}")
    if about:
        prefixes.append(f"Description: {about}")
    if topic and about:
        prefixes += [f"Topic: {topic}\nDescription: {about}", f"Description: {about}\nTopic: {topic}"]
    out = []
    for descriptor in descriptors:
        for prefix in prefixes:
            out += [(prefix + "\n" + descriptor).strip(), (descriptor + "\n" + prefix).strip()]
    return out


def _integer(value: object) -> bool:
    return is_number(value, integer=True)


def kept_comments(conversation: str, path: Path, fetched: FetchedFiles) -> pd.DataFrame:
    """The comments both tasks use, after the three filters (each drop counted): no empty body, no body with "test"
    and fewer than 3 words, and (except ``vtaiwan.uberx``) no body with fewer than 4 words
    (docs/tasks.md#real-sources, row polis)."""
    frame = read_csv(path, ["comment-id", "comment-body"])
    check_column(path, frame, "comment-id", _integer, "an integer comment id")
    repeated = frame["comment-id"].duplicated()
    if repeated.any():
        row = int(frame.index[repeated.to_numpy()][0]) + 2
        value = plain(frame["comment-id"][repeated].iloc[0])
        raise SourceFormatError(path, f"row {row}", "comment-id", f"comment id {value!r} appears twice")
    null = frame["comment-body"].isna()
    fetched.drop("polis: comment with empty comment-body", int(null.sum()))
    frame = frame[~null]
    body = frame["comment-body"].astype(str)
    tokens = body.str.split().str.len()
    test = body.str.contains("test", case=False, regex=False) & (tokens < 3)
    fetched.drop("polis: comment containing 'test' with fewer than 3 words", int(test.sum()))
    frame, tokens = frame[~test], tokens[~test]
    if conversation != "vtaiwan.uberx":
        short = tokens < 4
        fetched.drop("polis: comment with fewer than 4 words", int(short.sum()))
        frame = frame[~short]
    return frame


def _comment_instance(conversation: str, comments: pd.DataFrame, summary: dict[str, str]) -> Instance:
    texts = [str(t) for t in comments["comment-body"]]
    return Instance(
        key=conversation,
        name="polis_comments",
        descriptions=descriptions(COMMENT_DESCRIPTORS, summary),
        population=[(None, t) for t in texts],
        meta={"conversation": conversation, "topic": summary.get("topic")},
    )


def voter_instances(
    conversation: str,
    votes_path: Path,
    comments: pd.DataFrame,
    summary: dict[str, str],
    fetched: FetchedFiles,
    choices: Sequence[str],
) -> list[Instance]:
    """One instance per voter with at least 4 votes on kept comments, in order of first appearance."""
    votes = read_csv(votes_path, ["comment-id", "voter-id", "vote"])
    null = votes["vote"].isna() | votes["voter-id"].isna()
    fetched.drop("polis: vote with no value or no voter", int(null.sum()))
    votes = votes[~null]
    check_column(votes_path, votes, "voter-id", _integer, "an integer voter id")
    check_column(
        votes_path, votes, "comment-id", lambda v: null_value(v) or _integer(v), "an integer comment id"
    )
    unexpected = ~votes["vote"].isin(VOTE_TEXT)
    if unexpected.any():  # the frame keeps read_csv's index, so index + 2 is the line of the file
        line = int(votes.index[unexpected.to_numpy()][0]) + 2
        value = plain(votes["vote"][unexpected].iloc[0])
        raise SourceFormatError(
            votes_path, f"row {line}", "vote", f"unexpected vote {value!r}; expected -1, 0 or 1"
        )
    text_of = dict(zip(comments["comment-id"], comments["comment-body"].astype(str), strict=True))
    on_kept = votes["comment-id"].isin(text_of.keys())
    fetched.drop("polis: vote on a dropped or unknown comment", int((~on_kept).sum()))
    votes = votes[on_kept]
    descs = descriptions(VOTE_DESCRIPTORS, summary)
    out = []
    for voter, rows in votes.groupby("voter-id", sort=False):
        if len(rows) < MIN_VOTES:
            fetched.drop(f"polis: vote of a voter with fewer than {MIN_VOTES} votes", len(rows))
            continue
        voter_id = str(number(votes_path, "voter-id", "voter-id", voter, integer=True))  # checked above
        samples = [
            (text_of[c], VOTE_TEXT[int(v)]) for c, v in zip(rows["comment-id"], rows["vote"], strict=True)
        ]
        out.append(
            Instance(
                key=f"{conversation}/voter/{voter_id}",
                name="polis_individual_votes",
                descriptions=descs,
                population=samples,
                meta={"conversation": conversation, "voter_id": voter_id},
                choices=choices,
            )
        )
    return out


def _conversation(conversation: str, fetched: FetchedFiles) -> tuple[dict[str, str], pd.DataFrame]:
    """The summary and the kept comments of one conversation."""
    summary = read_summary(fetched.require(f"{FOLDER}/{conversation}/summary.csv"))
    comments = kept_comments(conversation, fetched.require(f"{FOLDER}/{conversation}/comments.csv"), fetched)
    return summary, comments


def comment_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """polis_comment: one pool per conversation."""
    pools = []
    for conversation in CONVERSATIONS:
        summary, comments = _conversation(conversation, fetched)
        pools.append(_comment_instance(conversation, comments, summary))
    return pools


def vote_groups(task: TaskSpec, fetched: FetchedFiles) -> list[InstanceGroup]:
    """polis_vote: one group of voters per conversation whose votes are here (500 each)."""
    groups = []
    keys = [f"{FOLDER}/{conv}/votes.csv" for conv in CONVERSATIONS]
    voted = {key.split("/")[1]: path for key, path in fetched.present(keys)}
    for conversation in CONVERSATIONS:
        if conversation not in voted:
            continue
        summary, comments = _conversation(conversation, fetched)
        voters = voter_instances(conversation, voted[conversation], comments, summary, fetched, task.choices)
        groups.append(InstanceGroup(voters, task.params))
    return groups


TASKS = (
    episode_task("polis_vote", SOURCE, side="train", kind="individual", build=vote_groups, files=VOTE_FILES,
                 choices=("Agree", "Disagree", "Pass"), n_per=1, max_instances=500),
    episode_task("polis_comment", SOURCE, side="train", kind="single_variable", build=comment_instances,
                 files=COMMENT_FILES, n_per=-1, n_iter="~64"),
)  # fmt: skip
