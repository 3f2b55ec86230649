"""Operator commands: schema, organisations, keys, audit."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import DEFAULT_URL, DatabaseUrl, JsonFlag, emit_json, err, session

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = DEFAULT_URL) -> None:
    """Apply migrations (creates the SQLite file if needed).

    Example: factordb db upgrade --database-url postgresql://postgres@localhost/factordb
    """
    from factordb.migrate import upgrade

    revision = upgrade(database_url)
    err.print(f"database at schema {revision}")


@org_app.command("add")
def org_add(
    slug: str,
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    kind: Annotated[
        str, typer.Option("--kind", help="provider | manufacturer | verifier | operator")
    ],
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Register an organisation.

    Example: factordb org add cnbrc --name "China Battery Research Centre" --kind provider
    """
    from factordb.principals import add_org

    with session(database_url) as s:
        add_org(s, slug=slug, name=name, kind=kind)
    err.print(f"organisation {slug} added")


@key_app.command("create")
def key_create(
    org: Annotated[str, typer.Option("--org", help="Organisation slug.")],
    role: Annotated[
        str, typer.Option("--role", help="admin | provider | expert | accountant | verifier")
    ],
    specialty: Annotated[
        list[str] | None, typer.Option("--specialty", help="Classification code an expert covers.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Who holds the key.")] = "",
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Create an API key and print it alone on stdout (only its hash is stored).

    Example: factordb key create --org expert-pool --role expert --specialty material
    """
    from factordb.principals import create_key

    with session(database_url) as s:
        key = create_key(s, org=org, role=role, name=name, specialties=list(specialty or []))
    typer.echo(key)


@audit_app.command("verify")
def audit_verify(database_url: DatabaseUrl = DEFAULT_URL, as_json: JsonFlag = False) -> None:
    """Recompute the audit log's hash chain; exit 1 when an event was tampered with.

    Example: factordb audit verify --json
    """
    from factordb.audit import verify_chain

    with session(database_url) as s:
        report = verify_chain(s)
    if as_json:
        emit_json(report.as_dict())
    elif report.ok:
        err.print(f"audit log intact: {report.events} events")
    if not report.ok:
        err.print(f"audit log broken at event {report.first_bad}")
        raise typer.Exit(1)
