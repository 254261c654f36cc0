"""Output folders of the command line: checked before any work, written all or nothing.

``publish(out, writers)`` writes every file into a hidden staging folder inside ``out`` and
renames them into place only when all of them were written, so that a failed or killed run
leaves either the previous outputs or the new ones, never a mixture or a partial file. A
staging folder left by a killed run (its process is gone) is removed by the next run.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import tempfile
from pathlib import Path

__all__ = ["OutputError", "check_out_folder", "publish"]

_STAGING = ".staging-"


class OutputError(ValueError):
    """``--out`` cannot hold the outputs (reported like any bad input: exit status 2)."""


def check_out_folder(out, option="--out"):
    """Raise an OutputError unless ``out`` is a folder we may write in, or one we may
    create: before any work, so that a bad ``--out`` costs nothing."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"{option} {out}: exists and is not a folder")
        if not os.access(out, os.W_OK | os.X_OK):
            raise OutputError(f"{option} {out}: the folder is not writable")
        return
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {out}: cannot create folders in {parent}")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _prefix():
    """Staging folders are named after the host and process that write them."""
    return f"{_STAGING}{socket.gethostname()}-{os.getpid()}-"


def remove_stale_staging(out):
    """Remove the staging folders in ``out`` left by processes of this host that no longer
    run (another host's, on a shared file system, are left alone)."""
    mine = f"{_STAGING}{socket.gethostname()}-"
    for folder in Path(out).glob(glob.escape(mine) + "*"):
        try:
            pid = int(folder.name[len(mine):].split("-")[0])
        except ValueError:
            continue
        if folder.is_dir() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def publish(out, writers, *, others=()):
    """Write ``{name: write(path)}`` into ``out`` all or nothing (see the module docstring);
    ``others``: names another kind of run writes there, removed once the new files are in
    place unless written now (no posterior maps beside a later network's image). Returns
    the final paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=_prefix()))
    try:
        for name, write in writers.items():
            write(staging / name)
        for name in writers:
            (staging / name).replace(out / name)
        for name in set(others) - set(writers):
            (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in writers]
