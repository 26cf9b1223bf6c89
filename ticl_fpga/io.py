"""Safe output: write beside the target, then rename; never destroy what ticl-fpga did not write.

Rules every artefact follows (:func:`atomic_path`):

* The new output is written to a temporary path beside the target
  (``.NAME.ticl-PID-RANDOM<suffix>.tmp``) and renamed onto it only when complete; on any exception
  (Ctrl-C and SIGTERM included) the temporary path is removed.  A run killed with SIGKILL leaves
  its temporary path behind; the next write to the same target removes it (its process is gone).
* A folder is replaced only if it is ticl-fpga's own earlier output of the same kind: a folder
  written with a ``kind`` holds a marker file (:data:`MARKER`) naming its kind and the files
  written; a folder holding anything else (a file the marker does not list, or, without a marker,
  a name the new output does not have) is refused with one line, unless ``force``.  The old folder
  is renamed aside first and removed only once the new one is in place.
* A file never replaces a folder.

:func:`check_output` applies the same rules before any work starts, and also refuses an output
that is, contains or lies inside one of the command's inputs.  :func:`dir_lock` keeps two processes
from writing one run folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ticl_fpga.errors import OutputError

#: Marker file inside every folder ticl-fpga writes with a kind: ``{"kind": ..., "files": [...]}``.
MARKER = ".ticl-fpga.json"
#: Lock file inside run folders (see :func:`dir_lock`).
LOCK = ".ticl-fpga.lock"
_OURS = {MARKER, LOCK}

#: Top-level names each kind of output folder may hold (besides what its marker lists): the
#: recognised layout of folders written before markers existed, and of folders filled in place.
KNOWN_NAMES: dict[str, tuple[str, ...]] = {
    "dataset": ("meta.json", "train", "val", "test"),
    "train-run": ("train_config.yaml", "checkpoints", "logs", "model.pt", "eval-*"),
    "quant-run": ("model.pt", "recipe.yaml", "qat.yaml", "metrics.json", "prune.json"),
    "compare": ("compare.json", "compare.md", "*.png"),
    "evaluation": ("summary.json", "report.md", "edges.npz", "*.png"),
    "scan": ("scan.json", "scan.md", "scan.png", "models"),
    "hls-project": ("*_prj", "*.log"),  # what running the HLS tool in the project adds
    "demo-run": (
        "demo.yaml",
        "stages",
        "data",
        "train",
        "evaluate",
        "export",
        "quantize",
        "quantize-cost.json",
        "fpga",
        "compare",
        "index.md",
    ),
}
#: A folder holding this file is an hls4ml project written by ticl-fpga (hls4ml's own file list
#: varies with its version and backend).
HLS_SIGNATURE = "hls_build.yaml"


# ----------------------------------------------------------------------------- paths


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}.ticl-"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clean_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary paths of ``target`` left by runs that were killed; return them.

    A temporary path whose process is alive is left alone.  If a killed run had renamed the old
    output aside but not yet put the new one in place, the old one is moved back.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    removed = []
    prefix = _tmp_prefix(target)
    for p in sorted(parent.iterdir()):
        if not p.name.startswith(prefix):
            continue
        try:
            pid = int(p.name[len(prefix) :].split("-", 1)[0])
        except ValueError:
            continue
        if _pid_alive(pid) and pid != os.getpid():
            continue
        if p.name.endswith(".old") and not target.exists() and not target.is_symlink():
            os.replace(p, target)  # the killed run had not put its new output in place yet
            continue
        _remove(p)
        removed.append(p)
    return removed


_TEMP_NAME = re.compile(r"^\..+\.ticl-\d+-[0-9a-f]+")


def _entries(folder: Path) -> set[str]:
    """Names in ``folder`` that count: not our marker, lock or temporary paths."""
    return {p.name for p in folder.iterdir() if not _TEMP_NAME.match(p.name)} - _OURS


def read_marker(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The marker of an output folder, or ``None`` (missing or unreadable)."""
    path = Path(folder) / MARKER
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        return None
    return doc


def _known(kind: str | None, name: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(name, pat) for pat in KNOWN_NAMES.get(kind or "", ()))


def _why_not_replaceable(old: Path, kind: str | None, new_names: set[str] | None) -> str | None:
    """Why the existing folder ``old`` must not be replaced by an output of ``kind``, or None."""
    entries = _entries(old)
    if not entries:
        return None
    marker = read_marker(old)
    old_kind = (marker or {}).get("kind") or None
    if kind and old_kind and old_kind != kind:
        return f"is a ticl-fpga {old_kind}, not a {kind}"
    if kind == "hls-project" and marker is None and HLS_SIGNATURE in entries:
        return None  # written before markers existed
    allowed = set(marker["files"]) if marker else set()
    allowed |= new_names or set()
    foreign = sorted(n for n in entries if n not in allowed and not _known(kind, n))
    if not foreign:
        return None
    if marker is not None:
        return f"holds files ticl-fpga did not write ({', '.join(foreign[:3])})"
    what = f"a ticl-fpga {kind}" if kind else "the same kind of output"
    return f"is not {what}: it holds {', '.join(foreign[:3])}"


def _refuse(target: Path, why: str) -> OutputError:
    return OutputError(target, f"{why}; refusing to replace it (choose another output, or --force)")


def check_output(
    target: str | os.PathLike[str],
    *,
    kind: str | None = None,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    force: bool = False,
    folder: bool | None = None,
) -> Path:
    """Check, before any work, that writing ``target`` destroys nothing; return it as a Path.

    Refuses (one line, :class:`OutputError`) a target that is, contains or lies inside one of
    ``inputs`` (even with ``force``), a folder where a file is wanted (``folder=False``), and an
    existing folder that is not ticl-fpga's own output of ``kind`` (unless ``force``).
    """
    target = Path(target)
    t = target.resolve()
    for inp in inputs:
        if inp is None:
            continue
        i = Path(inp).resolve()
        if t == i:
            raise OutputError(target, f"is also an input ({inp}); choose another output")
        if t in i.parents:
            raise OutputError(target, f"contains the input {inp}; choose another output")
        if i in t.parents:
            raise OutputError(target, f"lies inside the input {inp}; choose another output")
    anc = target.absolute().parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise OutputError(target, f"cannot be written: {anc} is a file, not a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise OutputError(target, f"cannot be written: the folder {anc} is read-only")
    if target.exists() and not target.is_symlink():
        if target.is_dir():
            if folder is False:
                raise OutputError(target, "is a folder; give a file name")
            if not force:
                why = _why_not_replaceable(target, kind, None)
                if why:
                    raise _refuse(target, why)
        elif folder:
            raise OutputError(target, "is a file, not a folder; choose another output")
        elif not force:
            why = _why_not_same_format(target)
            if why:
                raise _refuse(target, why)
    return target


#: What a file output of each suffix starts with: (format name, magic bytes).
_FORMATS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".root": ("ROOT file", (b"root",)),
    ".pt": ("torch archive", (b"PK\x03\x04",)),
    ".npz": ("numpy archive", (b"PK\x03\x04",)),
    ".onnx": ("ONNX model", ()),
}


def _why_not_same_format(target: Path) -> str | None:
    """Why an existing file must not be overwritten by an output of its suffix's format."""
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        return None
    try:
        with open(target, "rb") as f:
            head = f.read(4)
    except OSError:
        return None
    if not head:
        return None
    found = next(
        (name for name, magics in _FORMATS.values() for m in magics if head.startswith(m)), None
    )
    name, magics = fmt
    if magics and not any(head.startswith(m) for m in magics):
        return f"holds {'a ' + found if found else 'something'}, not a {name}"
    if not magics and found:
        return f"holds a {found}, not a {name}"
    return None


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike[str],
    suffix: str | None = None,
    *,
    kind: str | None = None,
    force: bool = False,
) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; put it in place of ``target`` only on success.

    Works for files and folders (the caller creates whichever it needs).  A folder written with a
    ``kind`` gets a :data:`MARKER` listing its files.  An existing folder at ``target`` is replaced
    only if it is ticl-fpga's own output of the same kind (or ``force``), and is kept until the new
    one is in place; a file never replaces a folder.  On any exception the temporary path is
    removed, so no half-written output is ever left behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    sfx = suffix if suffix is not None else target.suffix
    stem = f"{_tmp_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}"
    tmp = target.parent / f"{stem}{sfx}.tmp"
    old = target.parent / f"{stem}.old"
    try:
        yield tmp
        if not tmp.exists() and not tmp.is_symlink():
            raise FileNotFoundError(errno.ENOENT, "nothing was written", str(tmp))
        new_is_dir = tmp.is_dir() and not tmp.is_symlink()
        if new_is_dir and kind:
            names = sorted(_entries(tmp))
            (tmp / MARKER).write_text(json.dumps({"kind": kind, "files": names}) + "\n")
        if new_is_dir and target.exists() and not target.is_dir():
            raise OutputError(target, "is a file, not a folder; choose another output")
        if target.is_dir() and not target.is_symlink():
            if not new_is_dir:
                raise OutputError(target, "is a folder; give a file name")
            if not force:
                why = _why_not_replaceable(target, kind, _entries(tmp))
                if why:
                    raise _refuse(target, why)
            os.replace(target, old)  # keep the old folder until the new one is in place
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)


@contextlib.contextmanager
def dir_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (created if needed) while writing into it.

    A second process that tries to lock the same folder gets one line (:class:`OutputError`).  The
    lock is the kernel's (``flock``): it goes away with the process, even after SIGKILL, so a killed
    run never blocks the next one.
    """
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise OutputError(
                folder, f"another ticl-fpga process (pid {holder}) is writing this folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        os.close(fd)  # releases the lock


def mark_folder(folder: str | os.PathLike[str], kind: str, *, refresh: bool = True) -> None:
    """Write the marker of a folder filled in place (a resumable run folder); with ``refresh``
    false, only if it has none yet (so a refused or failed run leaves it as it was)."""
    folder = Path(folder)
    if not refresh and read_marker(folder) is not None:
        return
    names = sorted(_entries(folder))
    write_text(folder / MARKER, json.dumps({"kind": kind, "files": names}) + "\n")


# ----------------------------------------------------------------------------- writers


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Atomically write a text file."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return Path(target)


def write_json(target: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write JSON (sorted keys, indented, trailing newline)."""
    return write_text(
        target, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n"
    )


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
