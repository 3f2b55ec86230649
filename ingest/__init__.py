"""Provider CSV batches: parse, validate (Great Expectations), normalise units, load all-or-nothing.

The public entry points live in `ingest.service` (`ingest_file`, `ingest_upload`,
`get_batch`, `operator_caller`) and `ingest.importers` (`import_dataset`). Nothing here
is imported by `import ingest`, so a command that never ingests never pays for pandas
or Great Expectations.
"""
