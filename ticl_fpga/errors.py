"""User-facing errors: one line, naming the file and field, turned into exit code 2 by the CLI."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class TiclFpgaError(Exception):
    """An error caused by the user's input or environment; printed as one line, never a traceback."""


class InputError(TiclFpgaError):
    """A bad input file or field (missing, not ROOT, truncated, missing tree/branch, NaN...)."""

    def __init__(self, path: object, message: str, field: str | None = None) -> None:
        where = f"{path}" if field is None else f"{path} [{field}]"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.field = field
        self.message = message

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.path, self.message, self.field))


class OutputError(InputError):
    """An output path that cannot be written without destroying something (or is locked)."""


class ConfigError(TiclFpgaError):
    """An invalid configuration or recipe file."""


class MissingDependencyError(TiclFpgaError):
    """An optional dependency is not installed."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` and atomic writer cleans up; exit 143."""


def require(module: str, extra: str = "fpga"):
    """Import an optional heavy module lazily, with an error that says what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"'{module}' is not installed: pip install 'ticl-fpga[{extra}]' ({exc})"
        ) from exc


@contextlib.contextmanager
def onnxruntime_versions_checked() -> Iterator[None]:
    """Around ONNX Runtime calls: a model refused for its IR version raises
    :func:`onnxruntime_too_old`'s error (one line that names both versions); others pass."""
    try:
        yield
    except Exception as exc:
        mismatch = onnxruntime_too_old(exc)
        if mismatch is None:
            raise
        raise mismatch from None


def onnxruntime_too_old(exc: Exception) -> MissingDependencyError | None:
    """ONNX Runtime's refusal of a model written by a newer ``onnx`` (an installed pair that does
    not match, e.g. onnx 1.23 with onnxruntime 1.30: "Unsupported model IR version: 14, max
    supported IR version: 13"), as an error that says what to upgrade; ``None`` for other errors."""
    text = str(exc)
    if "Unsupported model IR version" not in text:
        return None
    import importlib.metadata as md

    versions = []
    for name in ("onnx", "onnxruntime"):
        try:
            versions.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            versions.append(f"{name} ?")
    detail = text[text.index("Unsupported model IR version") :].splitlines()[0]
    return MissingDependencyError(
        f"{' and '.join(versions)} do not match ({detail}): "
        "pip install --upgrade onnxruntime, or an onnx that writes an older IR version"
    )
