"""The production layout (docker-compose.yml, deploy/Caddyfile) can't run here (no Docker):
these read it and check it against the settings the bot actually has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.runtime.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
CADDYFILE = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
BOTS = sorted(name for name in COMPOSE["services"] if name.startswith("bot"))


def setting_names() -> set[str]:
    return {
        (field.validation_alias or name).upper() for name, field in Settings.model_fields.items()
    }


def test_two_bot_instances_run_in_webhook_mode_on_shared_postgresql_and_redis():
    assert len(BOTS) == 2
    envs = [COMPOSE["services"][name]["environment"] for name in BOTS]
    assert envs[0] == envs[1]
    env = envs[0]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["WEBHOOK_URL"].startswith("https://")
    assert env["LOG_FORMAT"] == "json"
    for name in BOTS:
        depends = COMPOSE["services"][name]["depends_on"]
        assert {"postgres", "redis"} <= set(depends)


def test_the_bots_get_only_settings_the_bot_has():
    env = COMPOSE["services"][BOTS[0]]["environment"]
    assert set(env) - setting_names() == set()


def test_the_proxy_balances_the_webhook_path_over_both_bots_with_their_health_check():
    env = COMPOSE["services"][BOTS[0]]["environment"]
    port = env["WEBHOOK_PORT"]
    path = Settings.model_fields["webhook_path"].default
    upstreams = re.search(rf"handle {re.escape(path)} {{\s*reverse_proxy ([^{{]+){{", CADDYFILE)
    assert upstreams is not None
    assert upstreams.group(1).split() == [f"{name}:{port}" for name in BOTS]
    assert "health_uri /healthz" in CADDYFILE
    healthcheck = " ".join(COMPOSE["services"][BOTS[0]]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck
