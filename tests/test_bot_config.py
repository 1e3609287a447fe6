"""Settings: defaults, the .env file (never over real variables), validation messages, secrets kept out of repr."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_DB_PATH,
    DEFAULT_SANDBOX_DB_PATH,
    PROJECT_ROOT,
    SANDBOX_TOKEN,
    SettingsError,
    derive_button_secret,
    load_settings,
)

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwx"


def test_defaults_without_anything(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=None, create_dirs=False)
    assert settings.token is None and settings.sandbox
    assert settings.db_path == DEFAULT_SANDBOX_DB_PATH and settings.mode == "polling"
    assert (settings.max_upload_mb, settings.photos_per_minute, settings.workers) == (10.0, 10, 2)
    assert (settings.sandbox_host, settings.sandbox_port) == ("127.0.0.1", 8080)
    assert settings.max_upload_bytes == 10 * 1024 * 1024 and settings.max_upload_label == "10"
    assert len(settings.button_secret) == 32


def test_the_sandbox_never_uses_the_real_database_or_a_public_button_key() -> None:
    # MOODLENS_DB_PATH is the real bot's: without a token it is ignored, SANDBOX_DB_PATH counts.
    env = {"MOODLENS_DB_PATH": str(DEFAULT_DB_PATH)}
    settings = load_settings(env, env_file=None, create_dirs=False)
    assert settings.sandbox and settings.db_path == DEFAULT_SANDBOX_DB_PATH != DEFAULT_DB_PATH
    settings = load_settings({**env, "SANDBOX_DB_PATH": "data/play.db"}, env_file=None, create_dirs=False)
    assert settings.db_path == PROJECT_ROOT / "data" / "play.db"
    # The sandbox token is public, so a key derived from it would let any page sign buttons.
    again = load_settings({}, env_file=None, create_dirs=False)
    assert settings.button_secret != derive_button_secret(SANDBOX_TOKEN)
    assert settings.button_secret != again.button_secret
    with_token = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, **env}, env_file=None, create_dirs=False)
    assert with_token.db_path == DEFAULT_DB_PATH


def test_values_are_read_and_the_db_folder_created(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "moods.db"
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "MOODLENS_DB_PATH": str(db),
        "LOG_LEVEL": "debug",
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": "https://example.org/moodlens",
        "WEBHOOK_PORT": "8444",
        "WEBHOOK_SECRET_TOKEN": "s3cret_token",
        "MAX_UPLOAD_MB": "2.5",
        "PHOTOS_PER_MINUTE": "4",
        "PHOTOS_IN_FLIGHT": "1",
        "RECOGNITION_WORKERS": "3",
        "BUTTON_SECRET": "a-long-enough-button-secret",
        "SANDBOX_PORT": "0",
        "FER_MODEL_DIR": str(tmp_path),
    }
    settings = load_settings(env, env_file=None)
    assert db.parent.is_dir() and settings.db_path == db
    assert settings.token == TOKEN and not settings.sandbox and settings.log_level == "DEBUG"
    assert (settings.mode, settings.webhook_url, settings.webhook_port) == ("webhook", env["WEBHOOK_URL"], 8444)
    assert settings.max_upload_mb == 2.5 and settings.max_upload_label == "2.5"
    assert (settings.photos_per_minute, settings.photos_in_flight, settings.workers) == (4, 1, 3)
    assert settings.button_secret == b"a-long-enough-button-secret"
    assert settings.sandbox_port == 0 and settings.fer_model_dir == tmp_path
    text = repr(settings)
    assert TOKEN not in text and "s3cret" not in text and "button-secret" not in text


def test_relative_db_path_is_under_the_project() -> None:
    settings = load_settings(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "MOODLENS_DB_PATH": "data/other.db"}, env_file=None, create_dirs=False
    )
    assert settings.db_path == PROJECT_ROOT / "data" / "other.db"


def test_button_secret_follows_the_token() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None, create_dirs=False)
    assert settings.button_secret == derive_button_secret(TOKEN) != derive_button_secret(TOKEN + "x")


def test_env_file_fills_gaps_but_never_overrides(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nPHOTOS_PER_MINUTE=7\nLOG_LEVEL=WARNING\n")
    settings = load_settings({"LOG_LEVEL": "ERROR"}, env_file=env_file, create_dirs=False)
    assert settings.token == TOKEN and settings.photos_per_minute == 7 and settings.log_level == "ERROR"
    # An empty real variable still wins: that is how a test or a shell turns a .env token off.
    settings = load_settings({"TELEGRAM_BOT_TOKEN": ""}, env_file=env_file, create_dirs=False)
    assert settings.token is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"BOT_MODE": "carrier-pigeon"}, "BOT_MODE must be polling or webhook"),
        ({"BOT_MODE": "webhook", "WEBHOOK_URL": "https://x.org/h"}, "BOT_MODE=webhook needs TELEGRAM_BOT_TOKEN"),
        ({"BOT_MODE": "webhook", "TELEGRAM_BOT_TOKEN": TOKEN}, "BOT_MODE=webhook needs WEBHOOK_URL"),
        ({"WEBHOOK_URL": "ftp://x.org"}, "WEBHOOK_URL must be an http(s) URL"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT must be between 1 and 65535"),
        ({"WEBHOOK_SECRET_TOKEN": "has spaces"}, "WEBHOOK_SECRET_TOKEN must be 1-256 characters"),
        ({"MAX_UPLOAD_MB": "lots"}, "MAX_UPLOAD_MB must be a number"),
        ({"MAX_UPLOAD_MB": "50"}, "MAX_UPLOAD_MB must be between 0.01 and 20"),
        ({"PHOTOS_PER_MINUTE": "0"}, "PHOTOS_PER_MINUTE must be between 1 and 1000"),
        ({"RECOGNITION_WORKERS": "2.5"}, "RECOGNITION_WORKERS must be an integer"),
        ({"BUTTON_SECRET": "short"}, "BUTTON_SECRET must be at least 16 characters"),
        ({"TELEGRAM_API_BASE_URL": "localhost:8081"}, "TELEGRAM_API_BASE_URL must be an http(s) URL"),
        ({"TELEGRAM_FILE_BASE_URL": "http://h/file/bot"}, "TELEGRAM_FILE_BASE_URL needs TELEGRAM_API_BASE_URL"),
        ({"FER_MODEL_DIR": "/no/such/folder"}, "FER_MODEL_DIR /no/such/folder is not a folder"),
        ({"FACE_DETECTOR": "mtcnn"}, "FACE_DETECTOR: unknown face detector 'mtcnn'"),
    ],
)
def test_invalid_settings_are_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(env, env_file=None, create_dirs=False)
    assert message in str(exc.value)
    assert "not a token" not in str(exc.value)  # a rejected token is never echoed


def test_webhook_mode_without_a_secret_generates_one() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_MODE": "webhook", "WEBHOOK_URL": "https://example.org/moodlens"}
    first, second = (load_settings(env, env_file=None, create_dirs=False) for _ in range(2))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first.webhook_secret_token)
    assert first.webhook_secret_token != second.webhook_secret_token
    assert first.webhook_secret_token not in repr(first)
    polling = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None, create_dirs=False)
    assert polling.webhook_secret_token is None


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(
            {"LOG_LEVEL": "x", "WEBHOOK_PORT": "0", "PHOTOS_IN_FLIGHT": "x"}, env_file=None, create_dirs=False
        )
    assert len(exc.value.problems) == 3


def test_a_custom_bot_api_server_allows_bigger_files() -> None:
    env = {"TELEGRAM_API_BASE_URL": "http://localhost:8081/bot/", "MAX_UPLOAD_MB": "50"}
    settings = load_settings(env, env_file=None, create_dirs=False)
    assert settings.api_base_url == "http://localhost:8081/bot" and settings.max_upload_mb == 50


def test_env_example_documents_every_setting() -> None:
    example = (PROJECT_ROOT / ".env.example").read_text()
    names = [
        "TELEGRAM_BOT_TOKEN", "MOODLENS_DB_PATH", "SANDBOX_DB_PATH", "LOG_LEVEL", "BOT_MODE", "WEBHOOK_URL",
        "WEBHOOK_LISTEN",
        "WEBHOOK_PORT", "WEBHOOK_SECRET_TOKEN", "MAX_UPLOAD_MB", "PHOTOS_PER_MINUTE", "PHOTOS_IN_FLIGHT",
        "RECOGNITION_WORKERS", "BUTTON_SECRET", "TELEGRAM_API_BASE_URL", "TELEGRAM_FILE_BASE_URL", "SANDBOX_HOST",
        "SANDBOX_PORT", "FER_MODEL_DIR", "FACE_DETECTOR",
    ]  # fmt: skip
    for name in names:
        assert f"{name}=" in example, name
    # The example itself loads (every value in it is valid or empty).
    load_settings({}, env_file=PROJECT_ROOT / ".env.example", create_dirs=False)
