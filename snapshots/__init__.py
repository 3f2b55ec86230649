"""Immutable snapshots: publish, content-addressed IDs, typed diff, export, verify.

`snapshots.reader` and `snapshots.fileformat` need only pyarrow/pandas/DuckDB, so the
calculator can open a pinned snapshot without the server stack; keep this file empty
of imports.
"""
