"""The wheel carries the message catalogs, and the installed package finds them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.text.i18n import DOMAIN, LOCALES

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted(
    p.relative_to(ROOT).as_posix() for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
)

LEFTOVERS = (".git", ".venv", "build", "data", "*.egg-info", "__pycache__", ".*_cache", "*.mo")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # from a clean copy: setuptools builds in the tree, and a build/ left there would leak in
    source = tmp_path_factory.mktemp("source") / "spotbook"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFTOVERS))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("spotbook-*.whl")
    return built


def test_the_wheel_holds_every_catalog_and_the_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    assert CATALOGS  # the checkout has catalogs to ship
    assert set(CATALOGS) <= names
    assert f"locales/{DOMAIN}.pot" in names
    assert not any(name.endswith(".mo") for name in names)  # built where installed


def test_installed_from_the_wheel_the_bot_compiles_and_loads_its_own_catalogs(wheel, tmp_path):
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "from bot.text.i18n import LOCALES, build_i18n;"
        "print(LOCALES); print(' '.join(sorted(build_i18n('en').available_locales)))"
    )
    # run from an empty folder with only the unpacked wheel first on the path: not the checkout
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"},
        check=True,
        capture_output=True,
        text=True,
    )

    where, languages = run.stdout.splitlines()
    assert Path(where) == site / "locales"
    assert languages.split() == sorted(Path(p).parts[1] for p in CATALOGS)
    assert (site / "locales" / "en" / "LC_MESSAGES" / f"{DOMAIN}.mo").exists()
