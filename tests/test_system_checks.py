"""Django's system checks, as `migrate`, `runserver` and gunicorn run them, on an EMPTY private
root: a fresh clone and an empty production volume have no var/private folder yet (the
first wave's `make demo` died on files.E001 because nothing created it)."""

import os
import stat
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command

from tests.test_auth import _deploy_env


def _run(args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True)


def test_the_suite_settings_pass_the_system_checks():
    call_command("check", fail_level="WARNING")


def test_check_and_check_deploy_pass_on_an_empty_private_root(tmp_path):
    private = tmp_path / "empty-volume" / "private"
    env = _deploy_env(PRIVATE_STORAGE_ROOT=str(private), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert not private.exists()
    plain = _run(["check", "--fail-level", "WARNING"], env)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "System check identified no issues" in plain.stdout
    deploy = _run(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "System check identified no issues" in deploy.stdout
    # Created by the application at start-up, owner-only (they hold personal data).
    for folder in (private, private / "tmp"):
        assert folder.is_dir()
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_an_unwritable_private_root_is_reported_by_the_checks(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere: point the spool at a path below a regular file instead.
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        private = blocker / "private"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        private = locked / "private"
    env = _deploy_env(PRIVATE_STORAGE_ROOT=str(private), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    result = _run(["check"], env)
    assert result.returncode != 0
    assert "files.E001" in result.stderr


def test_the_demo_settings_pass_the_system_checks(tmp_path):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="siao_ofii.settings_demo", PRIVATE_STORAGE_ROOT=str(tmp_path / "private"),
               DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    result = _run(["check", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "private" / "tmp").is_dir()
