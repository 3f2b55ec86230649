"""Run the installed `factordb` console script as a user's script would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FACTORDB = shutil.which("factordb", path=str(Path(sys.executable).parent)) or "factordb"
# The working tree's packages, also those added since the editable install was made.
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run(
    *args: str,
    db_url: str | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Result:
    environment = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT), **(env or {})}
    if db_url is not None:
        environment["FACTORDB_DATABASE_URL"] = db_url
    proc = subprocess.run(
        [FACTORDB, *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
        env=environment,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
