"""The demo flow: the shipped dataset through ingest → review → publish → calculate → cite.

It drives the same services as the CLI and the API, so a newcomer sees the real system,
and the end-to-end test checks its figures against hand computation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from factordb.db import session_scope
from factordb.errors import Conflict
from factordb.models import AuditEvent, Organisation
from factordb.principals import SYSTEM, Caller, add_org, authenticate, create_key

DEMO_MARK = "demo.start"
Say = Callable[[str], None]


@dataclass
class DemoResult:
    keys: dict[str, str] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    diff: dict[str, Any] = field(default_factory=dict)
    packs: list[dict[str, Any]] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    citations: dict[str, Any] = field(default_factory=dict)


def dataset_file(name: str) -> Path:
    return Path(str(resources.files("factordb").joinpath("demo", name)))


def plan() -> dict[str, Any]:
    return json.loads(dataset_file("organisations.json").read_text(encoding="utf-8"))


def is_demo_database(session: Session) -> bool:
    """True for an empty registry or one a previous demo run created."""
    orgs = session.execute(select(func.count()).select_from(Organisation)).scalar_one()
    marked = session.execute(
        select(AuditEvent.id).where(AuditEvent.action == DEMO_MARK).limit(1)
    ).first()
    return orgs == 0 or marked is not None


def ensure_empty(session: Session) -> None:
    orgs = session.execute(select(func.count()).select_from(Organisation)).scalar_one()
    if orgs:
        raise Conflict(
            "the database already holds data; the demo needs a fresh one "
            "(pass --database-url with a new SQLite file or an empty PostgreSQL database)"
        )


def run_demo(url: str, say: Say) -> DemoResult:
    """Every step of the demo on an upgraded, empty database; `say` gets one line per step."""
    from factordb import audit

    steps = plan()
    result = DemoResult()
    with session_scope(url) as s:
        ensure_empty(s)
        audit.record(s, actor=SYSTEM.actor, action=DEMO_MARK, subject="demo")
        for org in steps["organisations"]:
            add_org(s, slug=org["slug"], name=org["name"], kind=org["kind"])
        for key in steps["keys"]:
            result.keys[key["name"]] = create_key(
                s,
                org=key["org"],
                role=key["role"],
                name=key["name"],
                specialties=key["specialties"],
            )
    say(f"organisations: {len(steps['organisations'])} created, {len(result.keys)} API keys issued")

    experts = [k["name"] for k in steps["keys"] if k["role"] == "expert"]
    _load_and_review(url, steps["batches"], experts, result, say)
    result.snapshots.append(_publish(url, "demo-1", say))
    _load_and_review(url, steps["revisions"], experts, result, say)
    result.snapshots.append(_publish(url, "demo-2", say))
    result.diff = _diff(
        url, result.snapshots[0]["snapshot_id"], result.snapshots[1]["snapshot_id"], say
    )
    result.packs = _calculate(url, result.snapshots[0]["snapshot_id"], steps["packs"], say)
    accountant = next(k["name"] for k in steps["keys"] if k["role"] == "accountant")
    result.manifests = _cite(
        url, result.keys[accountant], result.snapshots[0]["snapshot_id"], result.packs, say
    )
    provider = next(k["name"] for k in steps["keys"] if k["org"] == "cnbrc")
    result.citations = _citation_report(url, result.keys[provider], say)
    return result


def _caller(session: Session, key: str) -> Caller:
    return authenticate(session, key)


def _load_and_review(
    url: str,
    batches: list[dict[str, Any]],
    experts: list[str],
    result: DemoResult,
    say: Say,
) -> None:
    from ingest.service import ingest_file, operator_caller
    from review.service import decide_batch

    for batch in batches:
        with session_scope(url) as s:
            report = ingest_file(
                s,
                path=dataset_file(batch["file"]),
                caller=operator_caller(s, org=batch["org"]),
                filename=batch["file"],
            )
        result.batches.append(report)
        if report["status"] == "rejected":
            error = report["errors"][0]
            say(
                f"ingest {batch['file']}: rejected, line {error['line']} {error['column']} "
                f"{error['value']!r}: {error['reason']} (fixed file follows)"
            )
            continue
        say(
            f"ingest {batch['file']}: {report['status']}, {report['new_factors']} new factors, "
            f"{report['new_revisions']} new revisions, {len(report['warnings'])} warnings"
        )
        approved = 0
        for name in experts:
            with session_scope(url) as s:
                decisions = decide_batch(
                    s,
                    caller=_caller(s, result.keys[name]),
                    batch_id=report["batch_id"],
                    decision="approve",
                    comment=f"demo review by {name}",
                )
            approved += sum(1 for d in decisions.decided if d.status == "approved")
        say(f"review {report['batch_id']}: {approved} revisions approved by a quorum of experts")


def _publish(url: str, label: str, say: Say) -> dict[str, Any]:
    from snapshots.service import publish

    with session_scope(url) as s:
        document = publish(s, caller=SYSTEM, label=label)
    say(
        f"publish {label}: snapshot {document['snapshot_id'][:16]}… "
        f"(sequence {document['sequence']}, {document['factor_count']} factors)"
    )
    return document


def _diff(url: str, a: str, b: str, say: Say) -> dict[str, Any]:
    from snapshots.diff import diff

    with session_scope(url) as s:
        document = diff(s, a, b)
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in document["summary"].items() if v)
    say(f"diff demo-1 → demo-2: {counts or 'no changes'}")
    return document


def _calculate(
    url: str, snapshot_id: str, packs: list[dict[str, Any]], say: Say
) -> list[dict[str, Any]]:
    from calculator.service import calculate
    from snapshots.exports import export_file
    from snapshots.reader import open_snapshot

    with session_scope(url) as s:
        _, path = export_file(s, snapshot_id)
    pinned = open_snapshot(path)
    results = []
    for pack in packs:
        document = json.loads(dataset_file(pack["file"]).read_text(encoding="utf-8"))
        output = calculate(pinned, document)["packs"][0]
        results.append(output)
        say(
            f"calc {output['pack']}: {output['total_kg_co2e']:,.1f} kg CO2e, "
            f"{output['kg_co2e_per_kwh_rated']:.1f} kg CO2e/kWh rated, "
            f"{output['kg_co2e_per_kwh_delivered']:.4f} kg CO2e/kWh delivered, DQR {output['dqr']:.2f}"
        )
    return results


def _cite(
    url: str, key: str, snapshot_id: str, packs: list[dict[str, Any]], say: Say
) -> list[dict[str, Any]]:
    """One manifest per pack: the revisions it used and each one's share of its total."""
    from snapshots.citations import record_manifest

    manifests = []
    with session_scope(url) as s:
        caller = _caller(s, key)
        for pack in packs:
            shares = _shares(pack)
            record = record_manifest(
                s,
                caller=caller,
                snapshot=snapshot_id,
                declaration=f"DECL-{pack['pack']}",
                revisions=[{"revision": r, "share": shares[r]} for r in pack["citations"]],
            )
            manifests.append(record.model_dump(mode="json"))
    say(f"citations: {len(manifests)} manifests posted by {caller.organisation}")
    return manifests


def _shares(pack: dict[str, Any]) -> dict[str, float]:
    total = pack["total_kg_co2e"] or 1.0
    shares: dict[str, float] = {}
    for line in pack["lines"]:
        shares[line["revision"]] = shares.get(line["revision"], 0.0) + line["kg_co2e"] / total
    return {r: round(min(max(v, 0.0), 1.0), 6) for r, v in shares.items()}


def _citation_report(url: str, key: str, say: Say) -> dict[str, Any]:
    from snapshots.citations import citation_report

    with session_scope(url) as s:
        caller = _caller(s, key)
        report = citation_report(s, caller=caller, limit=500).document()
    declarations = {d["declaration"] for d in report["details"]}
    factors = {i["factor"] for i in report["items"]}
    say(
        f"citation report for {caller.organisation}: {len(factors)} of its factors cited "
        f"by {len(declarations)} declarations"
    )
    return report
