"""The .mo files are compiled at start by whoever starts first: test workers and bot processes
starting together must not trip over each other's half-written files."""

from __future__ import annotations

import gettext
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.text import i18n
from bot.text.i18n import DOMAIN, LOCALES, compile_catalogs


def test_two_compilers_at_once_both_finish_and_leave_whole_catalogs(tmp_path, monkeypatch):
    shutil.copytree(LOCALES, tmp_path / "locales", ignore=shutil.ignore_patterns("*.mo*"))
    folder = tmp_path / "locales"
    languages = sorted(p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    both_writing = threading.Barrier(2, timeout=10)
    real_write_mo = i18n.write_mo
    met = []

    def write_mo_together(target, catalog):
        real_write_mo(target, catalog)
        if not met:  # the first catalog: both compilers hold a written temporary file now
            both_writing.wait()
            met.append(True)

    monkeypatch.setattr(i18n, "write_mo", write_mo_together)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(compile_catalogs, folder) for _ in range(2)]
        for run in runs:
            run.result()  # a compiler whose file the other moved away raised here

    assert met, "the two compilers never met"
    for language in languages:  # each .mo whole: it parses, and it translates
        translation = gettext.translation(DOMAIN, folder, languages=[language])
        if language != "en":
            assert translation.gettext("📅 Book a session") != "📅 Book a session", language
    assert not list(folder.glob("*/LC_MESSAGES/*.tmp")), "temporary files were left behind"
