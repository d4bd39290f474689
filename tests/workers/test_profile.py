import os
import socket
import stat
import subprocess
import sys

import pytest

from workers.whatsapp.profile import ProfileInUse, hold_session_lock, prepare_profile


def test_it_creates_the_profile_readable_by_its_owner_only(tmp_path):
    profile = tmp_path / "sessions" / "tenant"
    prepare_profile(profile)
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700


def test_it_clears_a_lock_left_by_a_dead_browser(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    os.symlink(f"{socket.gethostname()}-{dead.pid}", tmp_path / "SingletonLock")
    (tmp_path / "SingletonCookie").write_text("x")
    prepare_profile(tmp_path)
    assert not (tmp_path / "SingletonLock").is_symlink()
    assert not (tmp_path / "SingletonCookie").exists()


def stand_in_browser(profile) -> subprocess.Popen:
    """A process whose command line is a browser's on ``profile``, in its own group."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; time.sleep(60)",
            "--fake-chromium",
            f"--user-data-dir={profile}",
        ],
        start_new_session=True,
    )


def test_it_refuses_a_profile_a_live_browser_runs_on(tmp_path):
    browser = stand_in_browser(tmp_path)
    other = stand_in_browser(tmp_path / "other-tenant")
    try:
        with pytest.raises(ProfileInUse, match=f"pid {browser.pid}"):
            prepare_profile(tmp_path)
    finally:
        for process in (browser, other):
            process.kill()
            process.wait()


def test_it_lets_one_process_hold_a_session_lock(tmp_path):
    lock = tmp_path / "tenant.lock"
    code = (
        "import sys, time; from pathlib import Path; from workers.whatsapp.profile import hold_session_lock; "
        f"h = hold_session_lock(Path({str(lock)!r})); print('held', flush=True); time.sleep(30)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ProfileInUse, match=f"held by pid {holder.pid}"):
            hold_session_lock(lock)
    finally:
        holder.kill()
        holder.wait()
    hold_session_lock(lock).close()  # the kernel released it with the process


def test_it_kills_an_orphaned_browser_when_allowed(tmp_path):
    orphan = stand_in_browser(tmp_path)
    other = stand_in_browser(tmp_path / "other-tenant")
    os.symlink(f"{socket.gethostname()}-{orphan.pid}", tmp_path / "SingletonLock")
    with pytest.raises(ProfileInUse):
        prepare_profile(tmp_path)
    prepare_profile(tmp_path, kill_orphans=True)
    assert orphan.wait(timeout=10) == -9
    assert other.poll() is None  # another tenant's browser is not touched
    other.kill()
    other.wait()
    assert not (tmp_path / "SingletonLock").is_symlink()
