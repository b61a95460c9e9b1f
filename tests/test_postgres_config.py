"""`[storage] url` selects PostgreSQL, FARMWATCH_DATABASE_URL overrides it, SQLite stays the default."""
from __future__ import annotations

import re

import pytest

from farmwatch.collector.config import DATABASE_NAME, CollectorConfig, ConfigError


def _config(tmp_path, text: str) -> CollectorConfig:
    (tmp_path / "collector.toml").write_text(text)
    return CollectorConfig.load(tmp_path)


def test_sqlite_is_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("FARMWATCH_DATABASE_URL", raising=False)
    assert _config(tmp_path, "").database == tmp_path / DATABASE_NAME


def test_the_storage_url_selects_postgresql_and_the_environment_overrides_it(tmp_path, monkeypatch):
    monkeypatch.delenv("FARMWATCH_DATABASE_URL", raising=False)
    text = '[storage]\nurl = "postgresql://farmwatch@db.internal/farmwatch"\n'
    assert _config(tmp_path, text).database == "postgresql://farmwatch@db.internal/farmwatch"
    monkeypatch.setenv("FARMWATCH_DATABASE_URL", "postgresql://other@db2.internal/fw")
    assert _config(tmp_path, text).database == "postgresql://other@db2.internal/fw"


@pytest.mark.parametrize("text, complaint", [
    ('[storage]\nurl = "mysql://a@b/c"\n', "must be a postgresql:// URL"),
    ('[storage]\nuri = "postgresql://a@b/c"\n', "unknown setting(s) in [storage]: uri"),
    ('storage = "postgresql://a@b/c"\n', "storage must be a table"),
])
def test_a_wrong_storage_setting_is_refused_naming_it(tmp_path, monkeypatch, text, complaint):
    monkeypatch.delenv("FARMWATCH_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        _config(tmp_path, text)
