"""`factordb review …` through the installed console script: documents, exit codes, errors."""

from __future__ import annotations

from api.cli.review import review_app
from factordb.db import session_scope
from review import service
from tests.console import Result, run
from tests.factories import make_revision
from tests.review.conftest import Member, Pool, make_batch, validator


def review(db_url: str, who: Member, *args: str) -> Result:
    return run("review", *args, db_url=db_url, env={"FACTORDB_KEY": who.key})


def revisions(db_url: str, **kwargs: object) -> str:
    with session_scope(db_url) as s:
        return make_revision(s, **kwargs).revision_id  # type: ignore[arg-type]


def test_list_json_is_the_documented_queue(db_url: str, seeded: Pool) -> None:
    cathode = revisions(db_url, status="submitted", classification="material.cathode.lfp")
    anode = revisions(
        db_url, org="rival", status="in_review", classification="material.anode.silicon"
    )
    revisions(db_url, status="submitted", classification="energy.steam")
    result = review(db_url, seeded.experts[0], "list", "--classification", "material", "--json")
    assert result.code == 0, result.stderr
    validator("review-list.json").validate(result.json())
    assert [i["revision"] for i in result.json()["items"]] == [cathode, anode]


def test_approve_json_is_the_documented_decisions(db_url: str, seeded: Pool) -> None:
    revision = revisions(db_url, status="submitted")
    result = review(
        db_url, seeded.experts[0], "approve", revision, "--comment", "checked", "--json"
    )
    assert result.code == 0, result.stderr
    validator("review-decisions.json").validate(result.json())
    assert result.json() == {
        "decided": [{"revision": revision, "decision": "approve", "status": "in_review"}],
        "skipped": [],
    }


def test_named_revision_skipped_prints_the_document_and_exits_1(db_url: str, seeded: Pool) -> None:
    revision = revisions(db_url, status="submitted")
    result = review(
        db_url,
        seeded.experts[0],
        "reject",
        revision,
        "cnbrc:missing@1",
        "--comment",
        "AR4",
        "--json",
    )
    assert result.code == 1
    validator("review-decisions.json").validate(result.json())
    assert [d["status"] for d in result.json()["decided"]] == ["rejected"]
    assert result.json()["skipped"] == [
        {"revision": "cnbrc:missing@1", "reason": "no such revision", "kind": "not_found"}
    ]


def test_batch_approval_decides_each_revision_of_the_batch(db_url: str, seeded: Pool) -> None:
    with session_scope(db_url) as s:
        make_batch(
            s,
            org_id=seeded.provider.caller.organisation_id,
            principal_id=seeded.provider.caller.principal_id,
            batch_id="b-cli",
        )
        made = [
            make_revision(s, status="submitted", batch_id="b-cli").revision_id for _ in range(3)
        ]
    result = review(db_url, seeded.experts[0], "approve", "--batch", "b-cli", "--json")
    assert result.code == 0, result.stderr
    assert [d["revision"] for d in result.json()["decided"]] == made


def test_refused_request_is_one_error_line_and_no_document(db_url: str, seeded: Pool) -> None:
    revision = revisions(db_url, status="submitted")
    result = review(db_url, seeded.experts[0], "reject", revision, "--json")
    assert (result.code, result.stdout) == (1, "")
    assert result.stderr.startswith("error: a comment is required to reject")
    assert result.stderr.strip().count("\n") == 0


def test_revisions_and_batch_together_is_a_usage_error() -> None:
    result = run("review", "approve", "cnbrc:x@1", "--batch", "b-1", "--key", "k")
    assert result.code == 2
    assert "give either REVISION arguments or --batch" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_provider_cannot_see_another_providers_pending_revision(db_url: str, seeded: Pool) -> None:
    revision = revisions(db_url, status="submitted")
    hidden = review(db_url, seeded.rival, "show", revision, "--json")
    assert (hidden.code, hidden.stdout) == (1, "")
    assert hidden.stderr == f"error: no revision {revision}\n"


def test_provider_withdraws_and_sees_decisions_in_its_submissions(
    db_url: str, seeded: Pool
) -> None:
    kept = revisions(db_url, status="submitted")
    dropped = revisions(db_url, status="submitted")
    with session_scope(db_url) as s:
        service.decide(
            s,
            caller=seeded.experts[0].caller,
            revision=kept,
            decision="request_changes",
            comment="add DQR scores",
        )
    assert review(db_url, seeded.provider, "withdraw", dropped).code == 0
    result = review(db_url, seeded.provider, "submissions", "--json")
    assert result.code == 0, result.stderr
    items = {i["revision"]: i for i in result.json()["items"]}
    assert items[dropped]["status"] == "withdrawn"
    assert items[kept]["status"] == "changes_requested"
    assert [(d["decision"], d["comment"]) for d in items[kept]["decisions"]] == [
        ("request_changes", "add DQR scores")
    ]


def test_every_review_command_documents_an_example() -> None:
    docs = {c.name: c.callback.__doc__ or "" for c in review_app.registered_commands}
    assert sorted(docs) == sorted(
        ["list", "show", "approve", "reject", "request-changes", "withdraw", "submissions"]
    )
    assert [name for name, doc in docs.items() if "Example: factordb review" not in doc] == []
