"""Diffuse distributions (docs/tasks.md#real-sources, row diffuse_distributions): one SV-IID instance per
prompt file of GitHub ``y0mingzhang/diffuse-distributions``; the outputs are the file's target strings.

Files are keyed by their path under ``prompts/`` and visited in sorted order, so same-named files in different
folders stay apart and the order never depends on the filesystem (the reference keyed them by base name, so
same-named files overwrote each other, and visited them in `os.walk` order:
docs/deviations.md#data-fixes-in-single-sources and #stable-identities-and-order).
"""

from __future__ import annotations

import re

from ..episodes import Instance
from ..sourcekit.remote import github_file
from ..sourcekit.tables import read_json
from ..task import FetchedFiles, Source, SourceFormatError, TaskFiles, TaskSpec, episode_task

SOURCE = Source(
    "diffuse_distributions", "Diffuse distributions", "GH", "https://github.com/y0mingzhang/diffuse-distributions",
    "see homepage", "Zhang et al. 2024, Forcing Diffuse Distributions out of Language Models",
)  # fmt: skip

REPO = "y0mingzhang/diffuse-distributions"
COMMIT = "7170ab056d790fb3f209a3f5cca2dffe59266996"
FOLDER = "diffuse_distributions"

#: every prompt file under ``prompts/`` at the pinned commit -> its SHA-256
PROMPT_FILES: dict[str, str] = {
    "baby-names/train.json": "923c3343fc4627addfc2c85675f53fec12236633b09362dd880e322b70a38017",
    "continent-countries/africa.json": "bc694cce7ae59d119a882b1a14ecbc51d09729f23d36981af948c9d424ef1c9b",
    "continent-countries/asia.json": "28055deb0679d99072bade4594b6a97f536d84a54577ebc5fd1be82e80c6a80a",
    "continent-countries/europe.json": "c02b68b6fcf1cb83410c15b6f47e60645959f4d77bdb2341e3baec04f37d5080",
    "continent-countries/north-america.json": "968b34b19eeaf48a8d3fe3ef5835de67ec5846727409415def8bad967b4e3678",
    "continent-countries/oceania.json": "98a1c9cf40b76ff804ce410874e427adcc97413cf8ff9b8181f9b0cce1c6ec76",
    "continent-countries/south-america.json": "3808a138ae81f5c883322e493ec3558dba6cfdde9c77f129f9de5df8a838843c",
    "day-date/day-0.json": "187b1630d6013dae9491888d05509c9612ce5d552ff4c6cedd2d4f485813b4c6",
    "day-date/day-1.json": "a47b04b29dedda8b75c7111e36e4689005549419e45c986b07bcfd832465f6fb",
    "day-date/december-0.json": "ccd52270fd2c4375fbef98c971ae02bdfc94e5117e58edce1ce87872b3f3bec5",
    "day-date/december-1.json": "faab2b11a4b7e23198015e294c57998026c128c39b35b927a6b0474c0e6ba5b6",
    "day-date/june-0.json": "c011483b8117d28ef0e2296f58eb6c212392a49fcd88a331b5a6becc43d78a29",
    "day-date/june-1.json": "07964358547aa628afcc0bf3872b44edef5822e6f936bc238c415782e7ad19ed",
    "ficticious-people/ficticious-people-train.json": "259ddeced42663085eebce74881b045e2cd22c80c83d989ab45f5fcebd3b486e",
    "ficticious-people/ficticious-people.json": "0422d034aa762018b2ad3bf0c48fbe3a41ad6ac170a6a30512eda43f9a6a25e4",
    "fruits/fruit-0.json": "c10c19e6b90b973e571003981fd4a072c74009368bda1e81c81115007462f294",
    "fruits/fruit-1.json": "c887c0e1793d3a124c798715725bdb05756c55d7237649db2a09e391cf06b43b",
    "numbers/even-0.json": "c3285d814a72c0f8a20df401be479a07144b1c4cf84b648bd7ba0952e01d5444",
    "numbers/even-1.json": "b47e8cc4d7060fa3cd1e84d596b950be1eb4a4a05d512f30a2ce010dcd9d0d5b",
    "numbers/odd-0.json": "1fafe0c7db57364fe56a1f26651759059b565e5a06bce363caa440a7d36ca1f9",
    "numbers/odd-1.json": "6fe13ee770c6fb22b23515a962cb3c0c3c53f2f483a37b224a717dadfc0c6c4b",
    "numbers/prime-0.json": "c17cac24826a25906a2ad5f5c4fdec85f4ed29cccf20303f3af536bcc13d193b",
    "numbers/prime-1.json": "3c93749b3e04657560a43bc375d86930e033b2a8b1cda41d5abf6ed1d3f57caa",
    "numbers/rng-0.json": "2991b35518df2f87e5f52d8736c5a8e6931b40cdb89d8c39e2a6d9a8a0c9a9de",
    "numbers/rng-1.json": "7e9f0e671a917599b46ed0601e1685983f935214af4cd781123fd31f8baab9ba",
    "occupations/occupations-0.json": "0d5a2c3bf25733a739917268e2e9ab9a4915db3e57c039d7082218b91f8e1b50",
    "occupations/occupations-1.json": "393f425b04a8d94d732893b4f5a5acd8de1d9265b0f47030350ecc9ef205dc25",
    "occupations/occupations-2.json": "91bf1dc75e4868327826798dee6982d7bc1368c8d438cf8388fcc21abd7c2294",
}

_REMOVED = re.compile("[{}\n\u200b]")
#: a '.' that ends a sentence: followed by the end of the text, or by space and a capital, digit or quote
#: (so "e.g. an apple" and "1.5" do not end one)
_SENTENCE_END = re.compile(r"\.(?=\s*$|\s+[A-Z0-9\"'({\[])")


#: Every prompt file, pinned by commit and checksum.
FILES = TaskFiles(
    tuple(
        github_file(FOLDER, REPO, COMMIT, f"prompts/{rel}", sha) for rel, sha in sorted(PROMPT_FILES.items())
    )
)


def clean_target(text: str) -> str:
    """A target without braces, newlines or zero-width spaces, stripped."""
    return _REMOVED.sub("", text).strip()


def describe(request: str) -> str:
    """The request up to its first sentence end, then ``, without replacement.``.

    The reference cut at the first '.' of any kind, which breaks on "e.g." or decimals
    (docs/deviations.md#data-fixes-in-single-sources).
    """
    match = _SENTENCE_END.search(request)
    head = request[: match.start()] if match else request.rstrip()
    return f"{head.strip()}, without replacement."


def prompt_instances(task: TaskSpec, fetched: FetchedFiles) -> list[Instance]:
    """One instance per file with a non-empty target list, in sorted path order."""
    out = []
    for rel in sorted(PROMPT_FILES):
        path = fetched.require(f"{FOLDER}/prompts/{rel}")
        record = read_json(path)
        if not isinstance(record, dict):
            raise SourceFormatError(
                path, "top level", "*", "expected a JSON object with 'request' and 'targets'"
            )
        targets = record.get("targets")
        if not targets:
            fetched.drop("diffuse_distribution: prompt file with no targets", 1)
            continue
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise SourceFormatError(path, "top level", "targets", "expected a list of strings")
        request = record.get("request")
        if not isinstance(request, str) or not request.strip():
            raise SourceFormatError(path, "top level", "request", "expected a non-empty string")
        cleaned = [clean_target(t) for t in targets]
        kept = [t for t in cleaned if t]
        fetched.drop("diffuse_distribution: target empty after cleaning", len(cleaned) - len(kept))
        out.append(
            Instance(
                key=rel,
                name=rel,
                descriptions=[describe(request)],
                population=[(None, t) for t in kept],
                meta={"file": rel},
            )
        )
    return out


TASKS = (
    episode_task("diffuse_distribution", SOURCE, side="train", kind="single_variable", build=prompt_instances,
                 files=FILES, seed=43, n_per=1, permutations=10),
)  # fmt: skip
