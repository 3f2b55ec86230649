"""Every table, imported in one place so Alembic and tests see the whole metadata."""

from factordb.models.audit import AuditEvent
from factordb.models.citation import CitationEntry, CitationManifest
from factordb.models.classification import ClassificationNode, Geography
from factordb.models.factor import Factor, FactorRevision, IngestBatch
from factordb.models.instance import InstanceSecret
from factordb.models.organisation import ExpertSpecialty, Organisation, Principal
from factordb.models.review import Review
from factordb.models.snapshot import Snapshot, SnapshotFactor

__all__ = [
    "AuditEvent",
    "CitationEntry",
    "CitationManifest",
    "ClassificationNode",
    "ExpertSpecialty",
    "Factor",
    "FactorRevision",
    "Geography",
    "IngestBatch",
    "InstanceSecret",
    "Organisation",
    "Principal",
    "Review",
    "Snapshot",
    "SnapshotFactor",
]
