"""Integrity in the database: immutability triggers and the shipped reference data.

Submitted revision content, snapshot contents, reviews, citations and the audit log
never change; only a revision's status and a snapshot's deprecation move. A factor's ID,
provider and code and an organisation's slug never change either, so a snapshot's
content is a function of its (factor, revision) pairs and its tree.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from factordb.classification import shipped_geographies, shipped_nodes

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "factordb-immutable"
REVISION_MOVABLE = ("status", "status_changed_at", "version")
# A snapshot is filled under a provisional ID while its content ID is computed, and takes
# that ID in the UPDATE that seals it: `id` may change until the snapshot is sealed.
SNAPSHOT_MOVABLE = ("sealed", "deprecated", "deprecated_reason")
APPEND_ONLY = ("audit_event", "review", "citation_manifest", "citation_entry", "snapshot_factor")
# Columns a snapshot's content is read through besides the revision's own: fixed for good.
IDENTITY = (
    ("factor", ("factor_id", "organisation_id", "code"), "factor IDs, providers and codes"),
    ("organisation", ("slug",), "organisation slugs"),
)


def _columns(table: str, movable: tuple[str, ...]) -> list[str]:
    inspector = sa.inspect(op.get_bind())
    return [c["name"] for c in inspector.get_columns(table) if c["name"] not in movable]


def _sqlite() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MARK}: {table} rows cannot change'); END"
            )
    for table, movable, what in (
        ("factor_revision", REVISION_MOVABLE, "submitted revision content"),
        ("snapshot", SNAPSHOT_MOVABLE, "snapshot content"),
    ):
        changed = " OR ".join(
            "(OLD.sealed AND OLD.id IS NOT NEW.id)"
            if (table, c) == ("snapshot", "id")
            else f"OLD.{c} IS NOT NEW.{c}"
            for c in _columns(table, movable)
        )
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} WHEN {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{MARK}: {what} cannot change'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MARK}: {what} cannot be deleted'); END"
        )
    op.execute(
        "CREATE TRIGGER snapshot_unseal BEFORE UPDATE ON snapshot WHEN OLD.sealed AND NOT NEW.sealed "
        f"BEGIN SELECT RAISE(ABORT, '{MARK}: a sealed snapshot stays sealed'); END"
    )
    for table, columns, what in IDENTITY:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {table}_identity BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"WHEN {changed} BEGIN SELECT RAISE(ABORT, '{MARK}: {what} never change'); END"
        )
    op.execute(
        "CREATE TRIGGER snapshot_factor_sealed BEFORE INSERT ON snapshot_factor "
        "WHEN (SELECT sealed FROM snapshot WHERE sequence = NEW.snapshot_seq) "
        f"BEGIN SELECT RAISE(ABORT, '{MARK}: a sealed snapshot takes no more factors'); END"
    )
    op.execute(
        "CREATE TRIGGER snapshot_factor_revision_of_factor BEFORE INSERT ON snapshot_factor "
        "WHEN NOT EXISTS (SELECT 1 FROM factor_revision "
        "WHERE id = NEW.revision_pk AND factor_pk = NEW.factor_pk) "
        "BEGIN SELECT RAISE(ABORT, 'snapshot_factor names a revision that is not of its factor'); END"
    )


def _postgresql() -> None:
    op.execute(
        f"""
        CREATE FUNCTION factordb_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MARK}: % rows cannot change', TG_TABLE_NAME;
        END $$;
        CREATE FUNCTION factordb_guard_columns() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            movable text[] := TG_ARGV::text[];
        BEGIN
            IF TG_TABLE_NAME = 'snapshot' THEN
                IF NOT OLD.sealed THEN
                    movable := movable || ARRAY['id'];
                END IF;
            END IF;
            IF (to_jsonb(NEW) - movable) IS DISTINCT FROM (to_jsonb(OLD) - movable) THEN
                RAISE EXCEPTION '{MARK}: % content cannot change', TG_TABLE_NAME;
            END IF;
            IF TG_TABLE_NAME = 'snapshot' THEN
                IF OLD.sealed AND NOT NEW.sealed THEN
                    RAISE EXCEPTION '{MARK}: a sealed snapshot stays sealed';
                END IF;
            END IF;
            RETURN NEW;
        END $$;
        CREATE FUNCTION factordb_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MARK}: % never change', TG_ARGV[0];
        END $$;
        CREATE FUNCTION factordb_snapshot_open() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            any_sealed boolean;
            any_unknown boolean;
        BEGIN
            SELECT bool_or(s.sealed), bool_or(s.sequence IS NULL) INTO any_sealed, any_unknown
            FROM (SELECT DISTINCT snapshot_seq FROM new_rows) n
            LEFT JOIN snapshot s ON s.sequence = n.snapshot_seq;
            IF any_sealed THEN
                RAISE EXCEPTION '{MARK}: a sealed snapshot takes no more factors';
            END IF;
            IF any_unknown THEN
                RAISE EXCEPTION 'snapshot_factor names an unknown snapshot'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            -- Revision IDs are unique, so every row meets its revision exactly when the
            -- counts agree; an inner join lets the planner hash the narrow new rows.
            IF (SELECT count(*) FROM new_rows n JOIN factor_revision r
                ON r.id = n.revision_pk AND r.factor_pk = n.factor_pk)
               <> (SELECT count(*) FROM new_rows) THEN
                RAISE EXCEPTION 'snapshot_factor names a revision that is not of its factor'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END $$;
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION factordb_refuse()"
        )
    for table, movable in (("factor_revision", REVISION_MOVABLE), ("snapshot", SNAPSHOT_MOVABLE)):
        args = ", ".join(f"'{c}'" for c in movable)
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION factordb_guard_columns({args})"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION factordb_refuse()"
        )
    for table, columns, what in IDENTITY:
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {table}_identity BEFORE UPDATE OF {', '.join(columns)} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION factordb_refuse_change('{what}')"
        )
    op.execute(
        "CREATE TRIGGER snapshot_factor_sealed AFTER INSERT ON snapshot_factor "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION factordb_snapshot_open()"
    )
    # A publish inserts a million rows at once. PostgreSQL checks a foreign key row by row
    # and locks every referenced row (FOR KEY SHARE): three checks cost 4/5 of the insert.
    # The statement trigger above checks the same references set-based instead (and that
    # each revision is of its factor); snapshots and revisions can never be deleted, and a
    # factor with revisions cannot be either, so checking at insert keeps the guarantee.
    # SQLite keeps the declared keys (its checks take no locks).
    for key in sa.inspect(op.get_bind()).get_foreign_keys("snapshot_factor"):
        op.execute(f'ALTER TABLE snapshot_factor DROP CONSTRAINT "{key["name"]}"')


def _reference_data() -> None:
    nodes = sa.table(
        "classification_node",
        *(sa.column(c) for c in ("code", "parent", "name_en", "name_zh", "stage", "dimensions")),
        sa.column("allows_credit", sa.Boolean),
    )
    op.bulk_insert(
        nodes,
        [
            {
                "code": n.code,
                "parent": n.parent,
                "name_en": n.name_en,
                "name_zh": n.name_zh,
                "stage": n.stage,
                "dimensions": ";".join(n.dimensions),
                "allows_credit": n.allows_credit,
            }
            for n in shipped_nodes()
        ],
    )
    geographies = sa.table(
        "geography", *(sa.column(c) for c in ("code", "parent", "kind", "name_en", "name_zh"))
    )
    op.bulk_insert(
        geographies,
        [
            {
                "code": g.code,
                "parent": g.parent,
                "kind": g.kind,
                "name_en": g.name_en,
                "name_zh": g.name_zh,
            }
            for g in shipped_geographies()
        ],
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite()
    else:
        _postgresql()
    _reference_data()


def downgrade() -> None:
    raise NotImplementedError("factordb does not downgrade past its integrity rules")
