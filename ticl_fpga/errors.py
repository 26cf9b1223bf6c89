"""User-facing errors: one line, naming the file and field, turned into exit code 2 by the CLI."""

from __future__ import annotations


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
