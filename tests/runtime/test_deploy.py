"""The production layout (Dockerfile, docker-compose.yml, deploy/Caddyfile) can't run here (no
Docker): these read it and check it against the settings the bot actually has."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from bot.runtime.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
CADDYFILE = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
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


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments), continuation lines joined, comments dropped."""
    lines = [line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.strip().partition(" ") for line in joined.splitlines())
        if word
    ]


STEPS = instructions(DOCKERFILE)


def index_of(instruction: str, matching: str = "") -> int:
    return next(
        i for i, (name, args) in enumerate(STEPS) if name == instruction and matching in args
    )


def test_the_image_runs_the_bot_as_an_unprivileged_user_that_owns_the_data_volume():
    users = [(i, args) for i, (name, args) in enumerate(STEPS) if name == "USER"]
    assert users, "no USER: the bot would run as root"
    last, user = users[-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert last < index_of("CMD")
    created = STEPS[index_of("RUN", "useradd")][1]
    assert re.search(rf"useradd\b.*\b{user}\b", created)
    assert f"chown {user}:{user} /app/data" in created


def test_dependencies_install_in_a_layer_before_the_code_is_copied():
    copies = [(i, args.split()[:-1]) for i, (name, args) in enumerate(STEPS) if name == "COPY"]
    first_copy, first_sources = copies[0]
    assert first_sources == ["requirements.lock"]  # nothing else: a code change keeps the layer
    deps = index_of("RUN", "pip install")
    assert first_copy < deps
    assert "pip install -r requirements.lock" in STEPS[deps][1]
    code = min(i for i, sources in copies if {"bot", "domain", "locales"} & set(sources))
    assert deps < code
    # the code's own install brings no dependency in: they are all in the layer above
    assert "pip install --no-deps ." in STEPS[index_of("RUN", "pip install --no-deps")][1]


def health_command() -> list[str]:
    (check,) = [args for name, args in STEPS if name == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options
    assert "--timeout=" in options
    return ["sh", "-c", command.replace("python ", f"{shlex.quote(sys.executable)} ", 1)]


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()


def run_health_check(**env: str) -> int:
    return subprocess.run(health_command(), env=env, capture_output=True, timeout=20).returncode


def test_in_webhook_mode_the_health_check_asks_healthz_on_the_webhook_port(health_server):
    port = str(health_server.server_port)
    webhook = {"WEBHOOK_URL": "https://bot.example.com", "WEBHOOK_PORT": port}

    assert run_health_check(**webhook) == 0
    Health.status = 503
    try:
        assert run_health_check(**webhook) != 0
    finally:
        Health.status = 200
    health_server.shutdown()
    health_server.server_close()
    assert run_health_check(**webhook) != 0  # nothing answers


def test_in_polling_mode_the_health_check_asks_healthz_on_the_health_port(health_server):
    port = str(health_server.server_port)

    assert run_health_check(HEALTH_PORT=port) == 0
    Health.status = 503
    try:
        assert run_health_check(HEALTH_PORT=port) != 0
    finally:
        Health.status = 200


def test_the_image_serves_healthz_in_polling_mode_too():
    assert ("ENV", "HEALTH_PORT=8080") in STEPS


def test_without_a_health_port_the_polling_check_passes_while_the_process_runs():
    # HEALTH_PORT unset: nothing to ask, the documented limit (not a check that always fails)
    assert run_health_check() == 0


LOCK = ROOT / "requirements.lock"


def pinned() -> dict[str, str]:
    """requirements.lock's packages (normalized names) and their exact versions."""
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            assert version, f"not pinned exactly: {line!r}"
            pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_every_dependency_within_pyproject_ranges():
    from packaging.requirements import Requirement

    pins = pinned()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for line in project["dependencies"]:
        wanted = Requirement(line)
        name = canonical(wanted.name)
        assert name in pins, f"{wanted.name} is not in requirements.lock: run make lock"
        assert wanted.specifier.contains(pins[name]), f"{name}=={pins[name]} is not {wanted}"


def test_the_tests_run_with_the_versions_the_image_ships():
    # make setup installs with the lock as constraints: what CI tests is what the image runs
    from importlib.metadata import version

    for name in ("aiogram", "aiogram-dialog", "sqlalchemy", "redis", "asyncpg", "apscheduler"):
        assert version(name) == pinned()[name], f"{name}: run make setup again"
