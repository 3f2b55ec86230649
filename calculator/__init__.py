"""The embedded reference calculator: battery-pack footprints on a pinned snapshot file.

It reads a hash-verified snapshot export, never the live registry, and imports neither
the server stack nor (until a calculation runs) pandas or pint, so `import calculator`
is cheap. The public operations live in `calculator.service`:

    from calculator.service import calculate, open_pinned, run_tabular
"""

from __future__ import annotations

from typing import Any

__all__ = ["calculate", "open_pinned", "run_tabular"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from calculator import service

        return getattr(service, name)
    raise AttributeError(f"module 'calculator' has no attribute {name!r}")
