"""The scale-out settings (Redis, webhook mode, log format) and their configuration errors."""

from __future__ import annotations

import pytest

from bot.__main__ import main
from bot.runtime.app import open_storage
from bot.runtime.config import ConfigError, load_settings


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/spotbook.db")
    for name in ("BOT_TOKEN", "TELEGRAM_API_BASE", "REDIS_URL", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_without_scale_out_settings_the_bot_polls_with_state_in_memory_and_logs_text(env):
    settings = load_settings()

    assert settings.redis_url is None
    assert settings.webhook_endpoint is None
    assert (settings.webhook_host, settings.webhook_port) == ("0.0.0.0", 8080)
    assert settings.log_format == "text"


def test_the_webhook_endpoint_is_the_public_url_and_the_path(env, monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_-token")
    monkeypatch.setenv("WEBHOOK_PATH", "/tg/updates")
    monkeypatch.setenv("LOG_FORMAT", "JSON")

    settings = load_settings()

    assert settings.webhook_endpoint == "https://bot.example.com/tg/updates"
    assert settings.log_format == "json"


def test_plain_http_webhooks_are_accepted_with_a_self_hosted_bot_api_server(env, monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "http://10.0.0.5:8080")
    monkeypatch.setenv("WEBHOOK_SECRET", "abc")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081")

    assert load_settings().webhook_endpoint == "http://10.0.0.5:8080/telegram"


@pytest.mark.parametrize(
    ("values", "says"),
    [
        (
            {"WEBHOOK_URL": "https://bot.example.com"},
            "webhook mode (WEBHOOK_URL) needs WEBHOOK_SECRET: 1 to 256 characters",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example.com", "WEBHOOK_SECRET": "no spaces!"},
            "webhook mode (WEBHOOK_URL) needs WEBHOOK_SECRET",
        ),
        (
            {"WEBHOOK_URL": "http://bot.example.com", "WEBHOOK_SECRET": "abc"},
            "Telegram delivers webhooks only over HTTPS: WEBHOOK_URL must start with https://",
        ),
        ({"WEBHOOK_URL": "bot.example.com"}, "WEBHOOK_URL is not valid: expected the bot's"),
        ({"WEBHOOK_PATH": "/healthz"}, "WEBHOOK_PATH is not valid: expected a path such as"),
        ({"WEBHOOK_PORT": "80800"}, "WEBHOOK_PORT is not valid"),
        (
            {"REDIS_URL": "localhost:6379"},
            "REDIS_URL is not valid: expected a URL such as redis://",
        ),
        ({"REDIS_KEY_PREFIX": "a b"}, "REDIS_KEY_PREFIX is not valid: expected letters, digits"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT is not valid: expected text or json, not 'xml'"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL is not valid: expected one of DEBUG, INFO, WARNING"),
    ],
)
def test_bad_scale_out_configuration_stops_with_one_clear_line(
    env, monkeypatch, capsys, values, says
):
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    assert main(["migrate"]) == 2

    err = capsys.readouterr().err.strip()
    assert says in err
    assert len(err.splitlines()) == 1


async def test_an_unreachable_redis_is_a_configuration_error_that_hides_the_password(
    env, monkeypatch
):
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")

    with pytest.raises(ConfigError) as raised:
        await open_storage(load_settings())

    message = str(raised.value)
    assert message.startswith("cannot reach Redis at REDIS_URL=redis://***@127.0.0.1:1/0: ")
    assert "hunter2" not in message
    assert len(message.splitlines()) == 1
