"""Settings from the environment, loaded once at start; handlers never read os.environ."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.booking.rules import EnrolmentNotes, RankAllowance
from domain.catalog.file import DEFAULT_MAX_IMPORT_SESSIONS, MAX_SESSIONS_PER_CATALOG
from domain.notices.rules import ReminderOffset, parse_reminder_offsets
from domain.policy import Policy
from domain.storage.db import async_url

STARS = "XTR"  # Telegram Stars: whole stars, no minor unit
PAYMENT_METHODS = {"stars", "card", "venue"}
# what a yes/no setting accepts (the seed's YES/NO among them), in any case
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# what Telegram accepts as a webhook's secret_token
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(Exception):
    """One line that tells the operator what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    bot_token: SecretStr | None = None
    telegram_api_base: str | None = None
    database_url: str = "sqlite+aiosqlite:///data/spotbook.db"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    tz: str = Field("UTC", validation_alias="TZ")
    default_locale: str = "en"
    currency: str = "EUR"
    log_level: str = "INFO"
    # "text" for a person at a terminal, "json" (one object per line) for a log collector
    log_format: str = "text"
    # dialog state in Redis instead of this process's memory, so several instances share it
    redis_url: str | None = None
    redis_key_prefix: str = "spotbook"
    # webhook mode: Telegram POSTs updates to WEBHOOK_URL + WEBHOOK_PATH; unset: long polling
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram"
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(8080, ge=1, le=65535)
    # long polling: serve GET /healthz on this port (webhook mode serves it on WEBHOOK_PORT)
    health_port: int | None = Field(None, ge=1, le=65535)
    # seed 003: a client may join programmes up to `minus` ranks below theirs, `plus` above
    rank_allowance_minus: int = Field(1, ge=0)
    rank_allowance_plus: int = Field(0, ge=0)
    # how often expired waiting-list offers are passed on (seconds)
    offer_check_seconds: int = Field(20, ge=1, le=3600)
    # seed 003 CourseSubscriptionActiveByDefault: when false, staff confirm each new enrolment
    enrolment_active_by_default: bool = Field(True)
    # seed 003 CourseSubscriptionNotes: a note to the teacher when enrolling in a class
    enrolment_notes: EnrolmentNotes = Field(EnrolmentNotes.OPTIONAL)
    # Telegram's limits for messages sent unasked (notices, offers); 0 turns a limit off
    send_rate_per_second: int = Field(30, ge=0)
    send_rate_per_chat_seconds: float = Field(1.0, ge=0)
    send_group_per_minute: int = Field(20, ge=0)
    # reminders before each booked session: hours (h) or calendar days (d), empty for none
    reminders: Annotated[tuple[ReminderOffset, ...], NoDecode] = Field(
        default_factory=lambda: parse_reminder_offsets("24h,2h")
    )
    # release a booking whose reminder went unanswered this many hours before it (0: never)
    reminder_release_hours: int = Field(0, ge=0, le=24 * 14)
    # tell staff (ADMIN_IDS) of cancellations of sessions starting within this many hours
    staff_notice_hours: int = Field(24, ge=0, le=24 * 14)
    # the outbox dispatcher: how often it looks for due messages, how long a claim holds,
    # how many rows it claims at once, how often a failing message is tried before it fails
    outbox_check_seconds: float = Field(5.0, gt=0, le=3600)
    outbox_lease_seconds: int = Field(120, ge=5)
    outbox_batch: int = Field(100, ge=1, le=10_000)
    outbox_max_attempts: int = Field(5, ge=1, le=100)
    # how clients pay: "stars" (Telegram Stars, CURRENCY=XTR), "card" (a payment provider,
    # PAYMENT_PROVIDER_TOKEN), "venue" (at the studio, no payment in the bot)
    payment_methods: Annotated[frozenset[str], NoDecode] = frozenset({"venue"})
    payment_provider_token: SecretStr | None = None
    # how often Telegram's list of Stars transactions is read for payments (and refunds) the
    # ledger lacks, besides once at start-up (with PAYMENT_METHODS=stars)
    reconcile_interval_minutes: int = Field(15, ge=1, le=24 * 60)
    # "please pay" reminders for unpaid bookings: days after booking (10:00 local), empty: none
    payment_nudge_days: Annotated[tuple[int, ...], NoDecode] = (1, 3)
    # release a booking still unpaid this many minutes after it was made (0: keep it)
    payment_hold_minutes: int = Field(0, ge=0, le=60 * 24 * 7)
    # "please pay" reminders for an unpaid monthly fee: days after it fell due, empty: none
    fee_nudge_days: Annotated[tuple[int, ...], NoDecode] = (0, 3, 7)
    # groups or channels (chat ids) where new multi sessions are announced, besides those
    # registered with /announcehere
    announce_chats: Annotated[tuple[int, ...], NoDecode] = ()
    # how often announcement cards in groups are posted and their spots left brought up to date
    announce_check_seconds: float = Field(3.0, gt=0, le=3600)
    # how often fees that fell due are charged (and attended sessions counted)
    fee_check_seconds: float = Field(900.0, gt=0, le=86_400)
    # seed 003 CourseSubscriptionAllowedWithoutCredit: book or enrol with no attendance credit
    enrol_without_credit: bool = False
    # unused attendance credits are usable in the next period too (else they expire)
    credits_carry_over: bool = False
    # the most sessions one catalog import may hold (the file is refused with their count)
    import_max_sessions: int = Field(DEFAULT_MAX_IMPORT_SESSIONS, ge=1, le=MAX_SESSIONS_PER_CATALOG)

    @field_validator("payment_nudge_days", "fee_nudge_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(part.isdigit() and int(part) <= 60 for part in parts):
                raise ValueError(f"days such as 1,3 (0 to 60), not {value!r}")
            return tuple(sorted({int(part) for part in parts}))
        return value

    @field_validator("announce_chats", mode="before")
    @classmethod
    def _split_chats(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(re.fullmatch(r"-\d{1,18}", part) for part in parts):
                raise ValueError(f"group or channel ids such as -1001234567890, not {value!r}")
            return tuple(int(part) for part in parts)
        return value

    @field_validator("payment_methods", mode="before")
    @classmethod
    def _split_methods(cls, value: object) -> object:
        if isinstance(value, str):
            words = {word.strip().lower() for word in value.split(",") if word.strip()}
            unknown = words - PAYMENT_METHODS
            if unknown or not words:
                raise ValueError(f"stars, card and/or venue, not {value!r}")
            return frozenset(words)
        return value

    @model_validator(mode="after")
    def _check_payments(self) -> Settings:
        stars = self.currency == STARS
        if "stars" in self.payment_methods and not stars:
            raise ValueError(
                "Telegram Stars (PAYMENT_METHODS=stars) need prices in Stars: set CURRENCY=XTR"
            )
        if "card" in self.payment_methods:
            if stars:
                raise ValueError("cards (PAYMENT_METHODS=card) can't take Stars (CURRENCY=XTR)")
            if (
                self.payment_provider_token is None
                or not self.payment_provider_token.get_secret_value()
            ):
                raise ValueError(
                    "cards (PAYMENT_METHODS=card) need PAYMENT_PROVIDER_TOKEN from @BotFather"
                )
        return self

    @property
    def online_payment(self) -> str | None:
        """How the bot takes payments itself: "stars", "card", or None (at the venue only)."""
        if "stars" in self.payment_methods:
            return "stars"
        if "card" in self.payment_methods:
            return "card"
        return None

    @field_validator("reminders", mode="before")
    @classmethod
    def _parse_reminders(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_reminder_offsets(value)
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError("a comma-separated list of Telegram user ids") from None
        return value

    @field_validator("enrolment_active_by_default", mode="before")
    @classmethod
    def _check_yes_no(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError(f"true or false (or yes or no), not {value!r}")

    @field_validator("enrolment_notes", mode="before")
    @classmethod
    def _check_notes(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word not in set(EnrolmentNotes):
            raise ValueError(f"off, optional or required, not {value!r}")
        return word

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return value.strip().upper()

    @field_validator("log_format")
    @classmethod
    def _check_log_format(cls, value: str) -> str:
        if value.strip().lower() not in LOG_FORMATS:
            raise ValueError(f"text or json, not {value!r}")
        return value.strip().lower()

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(REDIS_SCHEMES):
            raise ValueError("a URL such as redis://127.0.0.1:6379/0")
        return value

    @field_validator("redis_key_prefix")
    @classmethod
    def _check_redis_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
            raise ValueError(f"letters, digits, _ . or - (such as spotbook), not {value!r}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
            raise ValueError("the bot's public base URL such as https://bot.example.com")
        return value.rstrip("/")

    @field_validator("webhook_path")
    @classmethod
    def _check_webhook_path(cls, value: str) -> str:
        if not re.fullmatch(r"/[A-Za-z0-9_./-]*", value) or value.rstrip("/") == "/healthz":
            raise ValueError(f"a path such as /telegram (not /healthz), not {value!r}")
        return value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.webhook_url is None:
            return self
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not _SECRET_TOKEN.fullmatch(secret):
            raise ValueError(
                "webhook mode (WEBHOOK_URL) needs WEBHOOK_SECRET: 1 to 256 characters "
                "A-Z, a-z, 0-9, _ or - (e.g. the output of openssl rand -hex 32)"
            )
        # only a self-hosted Bot API server delivers to plain http
        if not self.webhook_url.startswith("https://") and not self.telegram_api_base:
            raise ValueError(
                "Telegram delivers webhooks only over HTTPS: WEBHOOK_URL must start with "
                "https:// (plain http works only with a self-hosted TELEGRAM_API_BASE)"
            )
        return self

    @property
    def webhook_endpoint(self) -> str | None:
        """Where Telegram POSTs updates, or None in polling mode."""
        if self.webhook_url is None:
            return None
        return self.webhook_url + self.webhook_path

    @field_validator("telegram_api_base")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("a URL such as http://127.0.0.1:8081")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return async_url(value)  # plain postgresql:// or sqlite:/// work too

    @field_validator("tz")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value.lstrip(":"))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"an IANA time zone such as Europe/Prague, not {value!r}") from None
        return value.lstrip(":")

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"a language code such as en, not {value!r}") from None
        return value

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        value = value.upper()
        if value != STARS and value not in list_currencies():
            raise ValueError(f"an ISO 4217 currency code such as EUR, not {value!r}")
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @cached_property
    def policy(self) -> Policy:
        allowance = RankAllowance(minus=self.rank_allowance_minus, plus=self.rank_allowance_plus)
        return Policy(
            zone=self.zone,
            rank_allowance=allowance,
            enrolment_active_by_default=self.enrolment_active_by_default,
            enrolment_notes=self.enrolment_notes,
            reminders=self.reminders,
            release_unconfirmed_hours=self.reminder_release_hours,
            staff_notice_hours=self.staff_notice_hours,
            staff_ids=tuple(sorted(self.admin_ids)),
            currency=self.currency,
            # nudging to pay makes sense only where the bot takes the payment
            payment_nudge_days=self.payment_nudge_days if self.online_payment else (),
            payment_hold_minutes=self.payment_hold_minutes if self.online_payment else 0,
            # fees are nudged also when they are paid at the studio: the message says so
            fee_nudge_days=self.fee_nudge_days,
            enrol_without_credit=self.enrol_without_credit,
            credits_carry_over=self.credits_carry_over,
        )

    @property
    def currency_digits(self) -> int:
        return 0 if self.currency == STARS else get_currency_precision(self.currency)

    def require_token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError(
                "BOT_TOKEN is not set: set it to the token @BotFather gave your bot "
                "(e.g. export BOT_TOKEN=123456:ABC...)."
            )
        token = self.bot_token.get_secret_value().strip()
        head, _, tail = token.partition(":")
        if not head.isdigit() or not tail:
            raise ConfigError("BOT_TOKEN looks wrong: it should look like 123456789:AAE... .")
        return token


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        reason = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings: its message names them
            raise ConfigError(f"{reason}.") from None
        raise ConfigError(f"{name} is not valid: expected {reason}.") from None
