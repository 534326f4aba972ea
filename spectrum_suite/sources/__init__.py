"""Source adapters: one module per source, raw files in, instances (episodes) or rows (alignment, coverage)
out.

A source module declares its `SOURCE` (a `spectrum_suite.task.Source`: where the data comes from and under
which terms), the files each task reads (`TaskFiles` of `RemoteFile`s, pinned by SHA-256 where they are
stable), the build functions that parse those files into instances or rows, and a `TASKS` tuple made with
`episode_task`, `alignment_task` or `coverage_task`. `ADAPTERS` below lists every module once, in the order of
the paper's registry (the training mix is concatenated in that order); `spectrum_suite.registry` imports them
and collects their `TASKS`. The helpers adapters share live apart, in `spectrum_suite.sourcekit`. How to add a
source or a task: docs/adding-a-task.md.
"""

ADAPTERS = (
    "polis", "diffuse_distributions", "synthetic", "novacomet", "habermas", "hatespeech", "valueprism",
    "opinionqa", "wvs", "generativesocialchoice", "popquorn", "numbergame", "babynames", "haikus",
    "valueconsistency", "globaloqa", "issuebench", "chatbotarena", "helpsteer", "dices", "discrete", "imdb",
    "flight", "changemyview", "bare", "gsm8k", "ambient", "titanic", "jeopardy", "prism", "netflix", "lewidi",
    "community_alignment", "collective_alignment", "capability", "gpqa", "chemistry", "urn_states", "mpi",
    "nytimes", "rotten_tomatoes", "coverage_tasks",
)  # fmt: skip
