"""The batch's column rules as a Great Expectations suite, run on windows of typed rows.

Great Expectations (1.x API) takes about 2.6 s to import, so it is imported here, inside
`ChunkSuite`, and only `ingest` ever builds one. One ephemeral context per batch keeps
concurrent batches (threads of one server process) apart.

Each expectation carries the column and the reason it reports in its `meta`; a failed
expectation's `unexpected_index_list` is the list of file lines, because every chunk is
indexed by line.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from factordb.identifiers import SLUG
from ingest.columns import DQR_COLUMNS, GAS_COLUMNS, MAX_LENGTH, REQUIRED, VOCABULARY

VALUE_LIMIT = 1e9  # kg CO2e per activity unit; larger is a slip, not data
YEAR_MIN = 1900
_ids = itertools.count(1)


@dataclass(frozen=True)
class Failure:
    column: str
    lines: list[int]
    reason: str


def rules(
    columns: set[str], *, classifications: list[str], geographies: list[str], year_max: int
) -> list[dict[str, Any]]:
    """The expectations for the columns this file has, as (type, kwargs, column, reason)."""
    out: list[dict[str, Any]] = []

    def add(kind: str, column: str, reason: str, **kwargs: Any) -> None:
        if column in columns:
            out.append({"kind": kind, "column": column, "reason": reason, "kwargs": kwargs})

    for column in REQUIRED:
        add("ExpectColumnValuesToNotBeNull", column, "a value is required")
    add(
        "ExpectColumnValuesToMatchRegex",
        "factor_code",
        "not a valid factor code: use [a-z0-9][a-z0-9._-]*, at most 128 characters",
        regex=rf"^{SLUG}$",
    )
    add(
        "ExpectColumnValuesToBeInSet",
        "classification",
        "unknown classification code",
        value_set=classifications,
    )
    add("ExpectColumnValuesToBeInSet", "geography", "unknown geography code", value_set=geographies)
    for column, allowed in VOCABULARY.items():
        add(
            "ExpectColumnValuesToBeInSet",
            column,
            f"must be one of {', '.join(allowed)}",
            value_set=list(allowed),
        )
    add(
        "ExpectColumnValuesToBeBetween",
        "reference_year",
        f"not a plausible year ({YEAR_MIN}–{year_max})",
        min_value=YEAR_MIN,
        max_value=year_max,
    )
    add(
        "ExpectColumnValuesToBeBetween",
        "value",
        f"magnitude above {VALUE_LIMIT:.0e} in its unit: not a plausible factor",
        min_value=-VALUE_LIMIT,
        max_value=VALUE_LIMIT,
    )
    for column in DQR_COLUMNS:
        add(
            "ExpectColumnValuesToBeBetween",
            column,
            "a DQR score is 1 to 5",
            min_value=1,
            max_value=5,
        )
    for column in GAS_COLUMNS:
        add(
            "ExpectColumnValuesToBeBetween",
            column,
            "a gas amount cannot be negative",
            min_value=0,
            max_value=VALUE_LIMIT,
        )
    add(
        "ExpectColumnValuesToBeBetween",
        "gsd",
        "a geometric standard deviation must be above 1",
        min_value=1,
        strict_min=True,
    )
    add("ExpectColumnValuesToBeBetween", "sd", "sd must be above 0", min_value=0, strict_min=True)
    for column, limit in MAX_LENGTH.items():
        if column != "factor_code":
            add(
                "ExpectColumnValueLengthsToBeBetween",
                column,
                f"longer than {limit} characters",
                max_value=limit,
            )
    if {"valid_from", "valid_to"} <= columns:
        out.append(
            {
                "kind": "ExpectColumnPairValuesAToBeGreaterThanB",
                "column": "valid_to",
                "reason": "valid_to is before valid_from",
                "kwargs": {
                    "column_A": "valid_to",
                    "column_B": "valid_from",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            }
        )
    return out


class ChunkSuite:
    """A Great Expectations suite bound to one batch; `run` validates one typed chunk."""

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self._empty = not specs
        if self._empty:
            return
        context = gx.get_context(
            mode="ephemeral",
            project_config=DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
            ),
        )
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        name = f"ingest-{next(_ids)}"
        asset = context.data_sources.add_pandas(name).add_dataframe_asset("chunk")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        expectations = [
            getattr(gx.expectations, spec["kind"])(
                **spec["kwargs"],
                **({"column": spec["column"]} if "column_A" not in spec["kwargs"] else {}),
                meta={"column": spec["column"], "reason": spec["reason"]},
            )
            for spec in specs
        ]
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        self._definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )

    def run(self, frame: pd.DataFrame) -> list[Failure]:
        """Failed expectations with the lines (index values) that failed them.

        A first pass asks only whether each expectation holds (cheap); only when one does
        not is the suite run again for the unexpected rows.
        """
        if self._empty or frame.empty:
            return []
        frame = frame.rename_axis(None)
        quick = self._definition.run(
            batch_parameters={"dataframe": frame}, result_format={"result_format": "BOOLEAN_ONLY"}
        )
        _check(quick)
        if quick.success:
            return []
        result = self._definition.run(
            batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"}
        )
        _check(result)
        failures = []
        for item in result.results:
            if item.success:
                continue
            meta = item.expectation_config.meta or {}
            lines = [int(i) for i in item.result.get("unexpected_index_list") or []]
            failures.append(Failure(meta["column"], lines, meta["reason"]))
        return failures


def _check(result: Any) -> None:
    """Raise when GE could not compute an expectation (a bug here, never the data's fault)."""
    for item in result.results:
        broken = _raised(item.exception_info or {})
        if broken is not None:
            column = (item.expectation_config.meta or {}).get("column")
            raise RuntimeError(f"expectation on {column} failed to run: {broken}")


def _raised(info: dict[str, Any]) -> str | None:
    """The exception message GE caught while computing a metric, if any (flat or per metric)."""
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message"))
    return None
