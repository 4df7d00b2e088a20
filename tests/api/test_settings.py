"""The settings object refuses what would be unsafe, in one line."""

from __future__ import annotations

import base64
import os
import secrets

import pytest

from api.settings import DEV_JWT_SECRET, Settings, SettingsError, load_settings

PROD = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://db.internal/glassshop",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "JWT_SECRET": secrets.token_urlsafe(48),
    "SMTP_HOST": "smtp.internal",
}


def use_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name in ("APP_ENV", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "CORS_ORIGINS", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_production_starts_with_complete_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, PROD)

    settings = load_settings()

    assert settings.is_production and settings.cookie_secure and not settings.graphiql_enabled


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_a_service_url(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    use_env(monkeypatch, {k: v for k, v in PROD.items() if k != missing})

    with pytest.raises(SettingsError, match=missing) as refused:
        load_settings()

    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("secret", [None, DEV_JWT_SECRET, "short-secret"])
def test_production_refuses_a_default_or_short_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    values = {k: v for k, v in PROD.items() if k != "JWT_SECRET"}
    if secret is not None:
        values["JWT_SECRET"] = secret
    use_env(monkeypatch, values)

    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings()


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 32,
        "k" * 48,
        "jwt-" + "y" * 40,
        "Password1" * 4,
        "abcdefghijklmnopqrstuvwxyz012345",
        secrets.token_urlsafe(18) * 2,
    ],
)
def test_production_refuses_a_long_but_guessable_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    use_env(monkeypatch, {**PROD, "JWT_SECRET": secret})

    with pytest.raises(SettingsError, match="random JWT_SECRET") as refused:
        load_settings()

    assert "\n" not in str(refused.value) and secret not in str(refused.value)


@pytest.mark.parametrize(
    "secret",
    [
        secrets.token_urlsafe(32),
        secrets.token_hex(32),
        base64.b64encode(os.urandom(32)).decode(),
    ],
)
def test_production_accepts_a_secret_from_a_random_generator(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    use_env(monkeypatch, {**PROD, "JWT_SECRET": secret})

    assert load_settings().jwt_secret.get_secret_value() == secret


@pytest.mark.parametrize("origins", ["*", "https://a.example,*", "https://a.example, null"])
def test_production_refuses_an_origin_any_page_can_claim(
    monkeypatch: pytest.MonkeyPatch, origins: str
) -> None:
    use_env(monkeypatch, {**PROD, "CORS_ORIGINS": origins})

    with pytest.raises(SettingsError, match=r"CORS_ORIGINS.*cannot be allowed with credentials"):
        load_settings()


def test_development_refuses_a_wildcard_origin_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # The app always allows credentials, and a developer's browser visits other sites.
    use_env(monkeypatch, {"CORS_ORIGINS": "*"})

    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        load_settings()


def test_an_origin_pattern_is_refused_since_origins_match_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_env(monkeypatch, {"CORS_ORIGINS": "https://*.example.com"})

    with pytest.raises(SettingsError, match="list each origin exactly"):
        load_settings()


def test_development_starts_with_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {})

    settings = load_settings()

    assert settings.app_env == "development" and settings.database_url is None
    assert not settings.cookie_secure and settings.graphiql_enabled


def test_plain_postgresql_urls_select_the_asyncpg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {"DATABASE_URL": "postgresql://u@h:5432/d"})

    assert load_settings().database_url == "postgresql+asyncpg://u@h:5432/d"


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {"CORS_ORIGINS": "https://a.example, https://b.example"})

    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("name", "value"), [("ARGON2_MEMORY_COST_KIB", "8192"), ("ARGON2_TIME_COST", "1")]
)
def test_argon2_parameters_below_the_owasp_minimum_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    use_env(monkeypatch, {name: value})

    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_an_invalid_value_is_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {"APP_ENV": "staging"})

    with pytest.raises(SettingsError, match="APP_ENV") as refused:
        load_settings()

    assert "\n" not in str(refused.value)


def test_settings_can_be_built_in_code() -> None:
    assert Settings(app_env="test").cookie_secure
