"""Writing a checkpoint atomically, and opening one to read without trusting what the path is.

:func:`atomic_write` writes through exactly one temporary file next to the
destination, named ``.<name>.<random>.fluxtmp``: it is created with mode ``0o666``
(so the umask applies, as for any new file; an existing checkpoint's mode is kept),
locked (``flock``) while it is written, flushed to disk and then renamed over the
destination, so a reader sees the old file or the new one, never half of one. A save
killed half-way leaves its temporary file behind, unlocked; the next save of the same
destination removes such files (a file still locked belongs to a save in progress and
is left alone). A symbolic link as destination is followed: its target is replaced.

:func:`open_regular` opens a path for reading only if it is a regular file (not a
FIFO, which would block, nor a device such as ``/dev/zero``, which never ends).
"""
import os
import re
import secrets
import stat

try:
    import fcntl
except ImportError:        # Windows: an open file cannot be removed there anyway
    fcntl = None

__all__ = ["atomic_write", "open_regular", "destination"]

_SUFFIX = ".fluxtmp"


def destination(path, fname="save"):
    """The real file ``path`` names (symbolic links followed), checked to be a place for a file."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise ValueError(f"{fname}: the path is empty; give a file name such as "
                         "'model.safetensors'")
    real = os.path.realpath(path)
    if path.endswith(("/", os.sep)) or os.path.isdir(real):
        raise IsADirectoryError(f"{fname}: {path!r} is a folder; give the path of a file in it, "
                                f"such as {os.path.join(path, 'model.safetensors')!r}")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{fname}: the folder {folder!r} for {path!r} does not exist; "
                                "create it first")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return real
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{fname}: {path!r} exists and is not a regular file (a device, a FIFO "
                         "or a socket); give the path of a file")
    return real


def _stem(name):
    return name[:200]       # the temporary name stays within the 255 bytes a file name may have


def _temp_pattern(name):
    return re.compile(re.escape(f".{_stem(name)}.") + r"[0-9a-f]{16}" + re.escape(_SUFFIX) + r"\Z")


def _locked(fd, block):
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


def _remove_stale(folder, name):
    """Remove the temporary files of earlier saves of ``folder/name`` that were killed."""
    pattern = _temp_pattern(name)
    try:
        found = [e.name for e in os.scandir(folder) if pattern.match(e.name)]
    except OSError:
        return
    for entry in found:
        tmp = os.path.join(folder, entry)
        try:
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            # unlocked: its writer is gone (the kernel drops a dead process's locks)
            if _locked(fd, block=False) and os.path.samestat(os.fstat(fd), os.lstat(tmp)):
                os.remove(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)


def _create_temp(folder, name):
    """Create, open and lock a new temporary file for ``name``; ``(path, fd)``."""
    while True:
        tmp = os.path.join(folder, f".{_stem(name)}.{secrets.token_hex(8)}{_SUFFIX}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        _locked(fd, block=True)
        if os.fstat(fd).st_nlink:         # not removed as stale before we held the lock
            return tmp, fd
        os.close(fd)


def _sync_folder(folder):
    try:                      # make the rename itself durable (POSIX; not possible on Windows)
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(real, write):
    """Call ``write(f)`` with a binary file that replaces the file ``real`` once complete."""
    folder, name = os.path.split(real)
    _remove_stale(folder, name)
    tmp, fd = _create_temp(folder, name)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            write(f)
            f.flush()
            os.fsync(fd)
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(real).st_mode))      # an existing file keeps its mode
        except FileNotFoundError:
            pass
        if fcntl is None:           # Windows renames only closed files (no lock to keep there)
            os.close(fd)
            fd = None
        os.replace(tmp, real)       # POSIX: still locked, so no cleaner takes it for stale
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    finally:
        if fd is not None:
            os.close(fd)
    _sync_folder(folder)


def open_regular(path, fname="load"):
    """Open ``path`` for binary reading if it is a regular file; ``(file, size)``."""
    path = os.fspath(path)
    if not path:
        raise ValueError(f"{fname}: the path is empty; give the path of a checkpoint file")
    st = os.stat(path)                     # FileNotFoundError names the path itself
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{fname}: {path!r} is a folder, not a checkpoint file")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{fname}: {path!r} is not a regular file (a FIFO, a device or a socket); "
                         "a checkpoint is read only from a regular file")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    st = os.fstat(fd)                      # the file opened may have been swapped since the stat
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ValueError(f"{fname}: {path!r} is not a regular file; a checkpoint is read only "
                         "from a regular file")
    return os.fdopen(fd, "rb"), st.st_size
