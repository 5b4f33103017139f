"""Settings: defaults, generated keys, and the README documents every one of them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.config import Settings, load_settings
from core.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_setting():
    text = README.read_text()
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in text, f"README does not document {name.upper()}"


def test_generated_keys_are_created_once_with_private_permissions(tmp_path, monkeypatch):
    for var in ("SECRET_KEY", "COOKIE_KEY", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    first = load_settings(data_dir=tmp_path)
    second = load_settings(data_dir=tmp_path)
    assert first.secret_key == second.secret_key and len(first.cookie_key or "") >= 32
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    assert first.sqlalchemy_url == f"sqlite:///{(tmp_path / 'syncpreview.db').resolve()}"


def test_environment_overrides_and_bad_values_are_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("PREVIEW_TTL_SECONDS", "60")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@h/db")
    s = load_settings(data_dir=tmp_path)
    assert s.preview_ttl_seconds == 60 and s.sqlalchemy_url == "postgresql+psycopg2://u@h/db"
    with pytest.raises(ConfigError, match="SECRET_KEY is not a valid Fernet key"):
        load_settings(data_dir=tmp_path, secret_key="not-a-key")
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings(data_dir=tmp_path, cookie_key="short")
