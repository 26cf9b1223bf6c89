"""Typed configuration: pydantic models loaded from YAML, validated, saved with the git hash."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ticl_fpga.errors import ConfigError
from ticl_fpga.io import write_text

T = TypeVar("T", bound="StrictModel")


class StrictModel(BaseModel):
    """Base for every config: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @classmethod
    def from_yaml(cls: type[T], path: str | Path) -> T:
        """Load and validate; errors name the file and the offending field in one line."""
        raw = read_yaml(path)
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls: type[T], raw: dict[str, Any], source: str = "<config>") -> T:
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a mapping of config fields")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "<root>"
            raise ConfigError(f"{source} [{loc}]: {err['msg']}") from None

    def save(self, path: str | Path, **extra: Any) -> Path:
        """Save as YAML with provenance (git hash, package version) so a run can be replayed."""
        doc = {"provenance": provenance(), **extra, "config": self.model_dump(mode="json")}
        return write_text(path, yaml.safe_dump(doc, sort_keys=False))


def read_yaml(path: str | Path, what: str = "config file") -> Any:
    """The YAML document of a text file (an empty file gives ``{}``); one-line errors for a
    missing file, a folder, a binary or unreadable file and invalid YAML."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a {what}")
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (binary?), expected a YAML {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text file (binary?), expected a YAML {what}")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where} ({exc.__class__.__name__})") from None
    return {} if raw is None else raw


def git_hash() -> str:
    """The current commit (with '-dirty' if the tree has changes), or 'unknown' outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance() -> dict[str, str]:
    """Code and library versions recorded beside every artefact."""
    import importlib.metadata as md

    import ticl_fpga

    out = {"ticl_fpga": ticl_fpga.__version__, "git": git_hash()}
    for pkg in ("torch", "brevitas", "qonnx", "hls4ml", "uproot"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
