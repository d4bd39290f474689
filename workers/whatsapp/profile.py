"""The tenant's browser profile: private, and never left locked by a dead browser."""

import contextlib
import fcntl
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

# Chromium's markers of a running browser on a profile (field notes, "Orphaned browsers").
_SINGLETON_FILES = ("SingletonLock", "SingletonSocket", "SingletonCookie")


class ProfileInUse(RuntimeError):
    """Another live process holds this profile or session."""


def _pid_alive(pid: int) -> bool:
    """Running, that is: a zombie (killed, not yet reaped by its parent) holds nothing."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _kill_orphaned_browser(pid: int) -> None:
    """Kill a browser left running by a worker that died (and its whole process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def browsers_on_profile(profile_dir: Path) -> list[int]:
    """The browser processes started on this profile, found by their command line: the
    headless shell writes no SingletonLock, so the lock can't be asked."""
    flag = f"--user-data-dir={profile_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone while we looked
        if flag in args and any(b"chrom" in arg for arg in args):
            found.append(int(entry.name))
    return sorted(found)


def prepare_profile(profile_dir: Path, *, kill_orphans: bool = False) -> None:
    """Create the profile owner-only, and clear what a browser that died left on it.

    With ``kill_orphans`` (only for a caller holding the tenant's session lock, so no live
    worker can own that browser), a browser still running on the profile is an orphan of a
    crashed worker: it is killed, rather than blocking every restart (field notes, 4).
    """
    profile_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    profile_dir.chmod(0o700)  # a session profile is a login: only its owner may read it
    running = browsers_on_profile(profile_dir)
    if running and not kill_orphans:
        raise ProfileInUse(f"a browser (pid {running[0]}) is still running on {profile_dir}")
    for pid in running:
        logger.warning("killing an orphaned browser", extra={"browser_pid": pid})
        _kill_orphaned_browser(pid)
    for name in _SINGLETON_FILES:
        (profile_dir / name).unlink(missing_ok=True)


def hold_session_lock(lock_path: Path) -> IO[str]:
    """Take the tenant's session lock for the life of this process, or refuse.

    The kernel releases it when the process dies, however it dies, so it is never stale.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ProfileInUse(f"this tenant's session is held by {holder}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
    handle.flush()
    return handle
