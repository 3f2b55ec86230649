"""Settings from the environment (`FACTORDB_*`), read once per process."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from factordb.defaults import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACTORDB_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    review_quorum: int = 2
    page_size_max: int = 500
    page_size_default: int = 100
    session_secret: str = ""
    ingest_chunk_rows: int = 50_000
    ingest_max_bytes: int = 2 * 1024**3
    ingest_max_report_items: int = 10_000
    snapshot_cache_dir: str = ""


@lru_cache
def get_settings() -> Settings:
    return Settings()
