"""What source adapters share, apart from the adapters themselves (`spectrum_suite.sources`).

`tables` reads raw files (CSV, JSON, JSON lines, Parquet) with errors that name the file, the row and the field;
`values` checks parsed values (text, numbers, target distributions, labels); `remote` makes the `RemoteFile` specs
of Hub and GitHub files. Nothing here declares a task.
"""
