"""Settings from the environment (and a git-ignored ``.env``), validated once at start-up."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from fer_engine.faces import AUTO, resolve_backend
from storage.urls import parse_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ENV_FILE = PROJECT_ROOT / ".env"
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "moodlens.db"
#: The sandbox's own database: play and tests never touch the real check-ins.
DEFAULT_SANDBOX_DB_PATH = PROJECT_ROOT / "data" / "sandbox.db"
#: Random bytes of the button-signing key made for each sandbox run (its token is public).
SANDBOX_BUTTON_SECRET_BYTES = 32

#: Used when there is no TELEGRAM_BOT_TOKEN: the local sandbox accepts exactly this token.
SANDBOX_TOKEN = "123456789:SANDBOX-moodlens-token"

#: Telegram's Bot API lets bots download files up to 20 MB (a self-hosted Bot API server allows more).
TELEGRAM_DOWNLOAD_LIMIT_MB = 20.0

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MODES = ("polling", "webhook")
#: Random bytes in a webhook secret generated when WEBHOOK_SECRET_TOKEN is unset (43 URL-safe characters).
WEBHOOK_SECRET_BYTES = 32

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{10,}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    """Everything the bot can be configured with (see ``.env.example``)."""

    token: str | None = field(default=None, repr=False)
    #: None: DEFAULT_DB_PATH with a token, DEFAULT_SANDBOX_DB_PATH without one.
    db_path: Path | None = None
    #: DATABASE_URL: ``postgresql://…`` or ``sqlite:///path``; when set it wins over ``db_path``.
    database_url: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret_token: str | None = field(default=None, repr=False)
    #: False for one of several workers behind a proxy: it serves the webhook but never calls setWebhook
    #: (``python -m bot set-webhook`` registers the shared URL and secret once).
    webhook_register: bool = True
    max_upload_mb: float = 10.0
    photos_per_minute: int = 10
    photos_in_flight: int = 2
    workers: int = 2
    button_secret: bytes = field(default=b"", repr=False)
    api_base_url: str | None = None
    file_base_url: str | None = None
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8080
    fer_model_dir: Path | None = None
    face_detector: str = AUTO

    def __post_init__(self) -> None:
        if self.db_path is None:
            object.__setattr__(self, "db_path", DEFAULT_DB_PATH if self.token else DEFAULT_SANDBOX_DB_PATH)
        if not self.button_secret:
            # The sandbox token is a public constant: a key derived from it would let anyone sign
            # buttons.  A sandbox run gets a random key instead (its chats vanish with it anyway).
            secret = (
                derive_button_secret(self.token) if self.token else secrets.token_bytes(SANDBOX_BUTTON_SECRET_BYTES)
            )
            object.__setattr__(self, "button_secret", secret)

    @property
    def database(self) -> str:
        """What the store opens: DATABASE_URL when set, else the SQLite file ``db_path``."""
        return self.database_url or str(self.db_path)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_upload_label(self) -> str:
        """The limit for people, e.g. "10" or "0.5" (MB)."""
        return f"{self.max_upload_mb:g}"

    @property
    def sandbox(self) -> bool:
        """No token: the bot runs against the local sandbox server."""
        return not self.token


def derive_button_secret(token: str) -> bytes:
    """A button-signing key derived from the bot token (so each bot has its own without extra setup)."""
    return hmac.new(token.encode(), b"moodlens/callback-data/v1", hashlib.sha256).digest()


def read_env(env: Mapping[str, str] | None = None, env_file: Path | None = DEFAULT_ENV_FILE) -> dict[str, str]:
    """The environment merged over ``env_file``: real variables win, even when set to an empty string."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if env is None else env)
    return merged


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    env_file: Path | None = DEFAULT_ENV_FILE,
    create_dirs: bool = True,
) -> Settings:
    """Read and validate every setting; raise SettingsError listing all problems at once."""
    values = read_env(env, env_file)
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = values.get(name)
        return value.strip() if value is not None and value.strip() else None

    def number(name: str, default: float, *, cast: type = int, low: float, high: float) -> float:
        raw = get(name)
        if raw is None:
            return default
        try:
            value = cast(raw)
        except ValueError:
            problems.append(f"{name} must be {'an integer' if cast is int else 'a number'} (got {raw!r})")
            return default
        if not low <= value <= high:
            problems.append(f"{name} must be between {low:g} and {high:g} (got {raw})")
            return default
        return value

    token = get("TELEGRAM_BOT_TOKEN")
    token_given = token is not None
    if token is not None and not _TOKEN_RE.match(token):
        # Never echo the token itself: it may be a real one with a typo.
        problems.append("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, ':', then letters and digits)")
        token = None

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} (got {log_level!r})")
        log_level = "INFO"

    mode = (get("BOT_MODE") or "polling").lower()
    if mode not in MODES:
        problems.append(f"BOT_MODE must be polling or webhook (got {mode!r})")
        mode = "polling"

    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None and not _is_http_url(webhook_url):
        problems.append(f"WEBHOOK_URL must be an http(s) URL (got {webhook_url!r})")
    if mode == "webhook":
        if not token_given:
            problems.append("BOT_MODE=webhook needs TELEGRAM_BOT_TOKEN (without a token the bot runs in the sandbox)")
        if webhook_url is None:
            problems.append("BOT_MODE=webhook needs WEBHOOK_URL, the public https:// address Telegram posts to")
    register_raw = (get("WEBHOOK_REGISTER") or "1").lower()
    if register_raw not in _TRUE + _FALSE:
        problems.append(f"WEBHOOK_REGISTER must be 1 or 0 (got {register_raw!r})")
    webhook_register = register_raw not in _FALSE
    secret_token = get("WEBHOOK_SECRET_TOKEN")
    if secret_token is not None and not _SECRET_TOKEN_RE.match(secret_token):
        problems.append("WEBHOOK_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        secret_token = None
    elif secret_token is None and mode == "webhook" and not webhook_register:
        # Workers behind one URL must all accept the secret registered once: a random one per worker
        # would make every worker but one refuse Telegram's updates.
        problems.append(
            "WEBHOOK_REGISTER=0 needs WEBHOOK_SECRET_TOKEN: every worker behind the proxy checks the one secret "
            "that `python -m bot set-webhook` registers"
        )
    elif secret_token is None and mode == "webhook":
        # A webhook without Telegram's secret header accepts forged updates from anyone who finds
        # the URL: never run one.  A random secret for this run is registered with setWebhook.
        secret_token = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)

    api_base_url = get("TELEGRAM_API_BASE_URL")
    file_base_url = get("TELEGRAM_FILE_BASE_URL")
    for name, url in (("TELEGRAM_API_BASE_URL", api_base_url), ("TELEGRAM_FILE_BASE_URL", file_base_url)):
        if url is not None and not _is_http_url(url):
            problems.append(f"{name} must be an http(s) URL (got {url!r})")
    if file_base_url is not None and api_base_url is None:
        problems.append("TELEGRAM_FILE_BASE_URL needs TELEGRAM_API_BASE_URL too")

    high_mb = 2000.0 if api_base_url else TELEGRAM_DOWNLOAD_LIMIT_MB
    max_upload_mb = number("MAX_UPLOAD_MB", 10.0, cast=float, low=0.01, high=high_mb)

    # Each mode has its own database setting, so the sandbox can never write to the real one.
    db_setting, default_db = (
        ("MOODLENS_DB_PATH", DEFAULT_DB_PATH) if token_given else ("SANDBOX_DB_PATH", DEFAULT_SANDBOX_DB_PATH)
    )
    db_raw = get(db_setting)
    db_path = Path(db_raw).expanduser() if db_raw else default_db
    if not db_path.is_absolute():
        db_path = PROJECT_ROOT / db_path
    if create_dirs:
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(f"{db_setting}: cannot create the folder {db_path.parent} ({exc.strerror})")

    # Like MOODLENS_DB_PATH, only with a token: the sandbox never writes to the real database.
    database_url = get("DATABASE_URL") if token_given else None
    if database_url is not None:
        try:
            parse_database_url(database_url)
        except ValueError as exc:  # the message never repeats the URL: it may hold a password
            problems.append(f"DATABASE_URL: {exc}")
            database_url = None

    model_raw = get("FER_MODEL_DIR")
    fer_model_dir = Path(model_raw).expanduser() if model_raw else None
    if fer_model_dir is not None and not fer_model_dir.is_dir():
        problems.append(f"FER_MODEL_DIR {fer_model_dir} is not a folder")

    face_detector = (get("FACE_DETECTOR") or AUTO).lower()
    try:
        resolve_backend(face_detector)
    except (ValueError, RuntimeError) as exc:
        problems.append(f"FACE_DETECTOR: {exc}")

    button_raw = get("BUTTON_SECRET")
    if button_raw is not None and len(button_raw) < 16:
        problems.append("BUTTON_SECRET must be at least 16 characters (or leave it unset to derive one from the token)")
        button_raw = None

    settings = Settings(
        token=token,
        db_path=db_path,
        database_url=database_url,
        log_level=log_level,
        mode=mode,
        webhook_url=webhook_url,
        webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",
        webhook_port=int(number("WEBHOOK_PORT", 8443, low=1, high=65535)),
        webhook_secret_token=secret_token,
        webhook_register=webhook_register,
        max_upload_mb=float(max_upload_mb),
        photos_per_minute=int(number("PHOTOS_PER_MINUTE", 10, low=1, high=1000)),
        photos_in_flight=int(number("PHOTOS_IN_FLIGHT", 2, low=1, high=16)),
        workers=int(number("RECOGNITION_WORKERS", 2, low=1, high=64)),
        button_secret=button_raw.encode() if button_raw else b"",
        api_base_url=api_base_url.rstrip("/") if api_base_url else None,
        file_base_url=file_base_url.rstrip("/") if file_base_url else None,
        sandbox_host=get("SANDBOX_HOST") or "127.0.0.1",
        sandbox_port=int(number("SANDBOX_PORT", 8080, low=0, high=65535)),
        fer_model_dir=fer_model_dir,
        face_detector=face_detector,
    )
    if problems:
        raise SettingsError(problems)
    return settings


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)
