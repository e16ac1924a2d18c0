"""Settings, built once from the environment and passed to the app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_ORIGIN = "http://localhost:9090"


class Settings(BaseSettings):
    """Every `LMS_` variable; docs/operations.md lists each with its default."""

    model_config = SettingsConfigDict(env_prefix="LMS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/lms.db"
    redis_url: str | None = None
    # Database connections per process; a request waits for a free one rather than opening
    # connections beyond (which PostgreSQL pays for with a new backend each time).
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwks_url: str | None = None
    # An unknown `kid` refetches the JWKS at most this often (key rotation without a flood).
    jwks_min_refetch_seconds: float = 30.0
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    media_root: Path = Path("var/media")
    # Comma-separated in the environment.
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [DEFAULT_ORIGIN]
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    default_tenant: str = "default"
    host: str = "0.0.0.0"
    port: int = 9090
    log_level: str = "INFO"
    # Largest JSON body; multipart uploads have their own limits.
    max_json_bytes: int = 1024 * 1024
    thumbnail_max_bytes: int = 5 * 1024 * 1024
    thumbnail_max_pixels: int = 40_000_000
    lesson_file_max_bytes: int = 100 * 1024 * 1024
    # The largest file a learner may submit to an assignment (each assignment may set less).
    submission_file_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    # A bulk enrollment's CSV upload; larger is a 413 while it streams.
    bulk_enrollment_max_bytes: int = 10 * 1024 * 1024
    # Where uploads wait while they are read (the CSV of a bulk enrollment); None: the
    # system's temporary directory.
    upload_temp_dir: Path | None = None
    # How long a signed lesson-file link (one that needs no token) works after it is made.
    lesson_file_link_seconds: int = Field(default=300, ge=1, le=24 * 3600)
    # The AI tutor: any OpenAI-compatible server. OPENAI_BASE_URL and OPENAI_API_KEY keep
    # the names the `openai` library gives them (LMS_AI_BASE_URL, LMS_AI_API_KEY also work).
    ai_model: str | None = None
    ai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ai_base_url", "LMS_AI_BASE_URL", "OPENAI_BASE_URL"),
    )
    ai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ai_api_key", "LMS_AI_API_KEY", "OPENAI_API_KEY"),
    )
    # The whole answer, first byte to last, must arrive within this; else it is `failed`.
    ai_timeout_seconds: float = 120.0
    # Retries of the `openai` library on connection errors, 429s and 5xx (within the timeout).
    ai_max_retries: int = 2
    ai_stream: bool = True
    ai_max_tokens: int = 1024
    # Estimated tokens of conversation history, and of course text, sent with a question.
    ai_history_tokens: int = 4000
    ai_context_tokens: int = 3000
    # A question no worker picked up within this is failed (its task was lost).
    ai_queue_timeout_seconds: float = 900.0
    # Quotas (0: none): questions per rolling hour, tokens per rolling day.
    ai_user_messages_per_hour: int = 30
    ai_tenant_messages_per_hour: int = 1000
    ai_user_tokens_per_day: int = 200_000
    ai_tenant_tokens_per_day: int = 5_000_000
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # Encrypts stored credentials (payment gateway keys). Unset: derived from the development
    # secret file below, which suits one machine only: production sets it, the same everywhere.
    secret_key: str | None = None
    # A webhook's signature may be at most this old, and no more than this far in the future.
    stripe_webhook_tolerance: int = 300
    # Celery: the queue (tests give each run its own), how long an unacknowledged task stays
    # invisible before Redis hands it to another worker, and how often a task may be
    # delivered before it is given up (a task that kills its worker must not loop forever).
    celery_queue: str = "lms"
    celery_visibility_timeout: int = 600
    task_max_deliveries: int = 5
    # How often each web process asks for stuck payment outbox rows to be sent again
    # (0 turns it off); rows pending this long after their last send are re-sent.
    outbox_relay_seconds: float = 60.0
    # How often each web process asks a worker to submit the quiz attempts whose deadline
    # has passed (0 turns the sweep off: such attempts are then submitted by their learner,
    # or when they start another).
    quiz_sweep_seconds: float = Field(default=30.0, ge=0)
    # WebSockets: frames queued per client before a slow one is cut off (1008), events a
    # room keeps for resume, ping interval, and frames a client may send per second.
    ws_queue_size: int = 256
    ws_history_size: int = 1000
    # Bytes of history a room keeps at most (in memory or in Redis): an edit storm of big
    # posts drops the oldest frames (their clients get a reset), never grows without bound.
    ws_history_bytes: int = 1024 * 1024
    ws_heartbeat_seconds: float = 30.0
    ws_frames_per_second: float = 10.0
    # Every this many seconds, log how late the event loop ran what was due over them
    # (p50, p99, max; web/loop_monitor.py); 0 turns the monitor off.
    loop_lag_report_seconds: float = Field(default=0.0, ge=0)
    # Email: notifications whose channel is `email` go out as one digest per user. No SMTP
    # URL: nothing is mailed (the rows wait). `smtp://user:pass@host:port`, `smtps://` for
    # implicit TLS, `?starttls=true` to upgrade a plain connection.
    smtp_url: SecretStr | None = None
    email_from: str = "LMS <noreply@localhost>"
    # A user's first pending email notification waits this long, gathering any that follow.
    email_digest_minutes: float = Field(default=15.0, ge=0)
    # Attempts per digest before it is marked failed; the wait between them doubles from this.
    email_max_attempts: int = Field(default=5, ge=1)
    email_retry_seconds: float = Field(default=60.0, ge=0)
    # Where links in emails point when the tenant has no domain of its own.
    public_url: str = DEFAULT_ORIGIN
    # Rate limits (web/ratelimit.py): requests per rolling minute, per user (or per client
    # address without a valid token), in separate budgets; LMS_RATE_LIMITS=off removes them
    # (benchmarks). Failed authentications are counted per client address.
    rate_limits: bool = True
    rate_reads_per_minute: int = Field(default=1200, ge=1, le=60_000)
    rate_writes_per_minute: int = Field(default=300, ge=1, le=60_000)
    rate_expensive_per_minute: int = Field(default=60, ge=1, le=60_000)
    rate_auth_failures_per_minute: int = Field(default=60, ge=1, le=60_000)
    # Where `make run` keeps the generated development secret so a second run reuses it.
    dev_secret_file: Path = Path("var/dev-jwt-secret")

    @field_validator("allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
