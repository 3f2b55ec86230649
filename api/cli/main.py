"""The `factordb` entry point: one error line and a stable exit code for every failure."""

from __future__ import annotations

import sys

import typer

from api.cli import admin, calc, citations, demo, ingest, review, serve, snapshots

app = typer.Typer(
    name="factordb",
    help="Versioned background emission-factor database for battery carbon footprints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.org_app, name="org")
app.add_typer(admin.key_app, name="key")
app.add_typer(admin.audit_app, name="audit")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.add_typer(review.review_app, name="review")
app.command("citations")(citations.citations)
app.command("publish")(snapshots.publish)
app.add_typer(snapshots.snapshot_app, name="snapshot")
app.command("calc")(calc.calc)
app.command("ingest")(ingest.ingest)
app.command("import")(ingest.import_dataset)

EXIT_DOMAIN = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_INTERNAL = 70


def main(argv: list[str] | None = None) -> int:
    """Run a command; map every failure to one line on stderr and an exit code."""
    from factordb.errors import DatabaseUnavailable, FactordbError

    try:
        # Outside standalone mode, click returns (not raises) the code of a `typer.Exit`.
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        return EXIT_DOMAIN
    except typer.TyperException as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        sys.stderr.write(f"error: {message}\n")
        return EXIT_USAGE
    except DatabaseUnavailable as exc:
        sys.stderr.write(f"error: {exc.detail}\n")
        return EXIT_DATABASE
    except FactordbError as exc:
        detail = exc.detail
        if exc.errors:
            detail += "; " + "; ".join(str(e.get("reason", e)) for e in exc.errors[:3])
        sys.stderr.write(f"error: {detail}\n")
        return EXIT_DOMAIN
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:
        sys.stderr.write(f"error: internal error ({type(exc).__name__}: {exc})\n")
        return EXIT_INTERNAL
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
