"""Source adapters: one module per source, raw files in, instances (episodes) or rows (alignment, coverage)
out.

A source module declares its `SOURCE` (a `spectrum_suite.task.Source`: where the data comes from and under
which terms), the files each task reads (`TaskFiles` of `RemoteFile`s, pinned by SHA-256 where they are
stable), the build functions that parse those files into instances or rows, and a `TASKS` tuple made with
`episode_task`, `alignment_task` or `coverage_task`; `spectrum_suite.registry` imports the modules by name and
collects their `TASKS`. The shared helpers live here too: `tables` (readers whose errors name the file, the
row and the field), `values` (checked text, numbers and target distributions), `remote` (download URLs). How
to add a source or a task: docs/adding-a-task.md.
"""
