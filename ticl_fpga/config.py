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
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls: type[T], raw: dict[str, Any], source: str = "<config>") -> T:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "<root>"
            raise ConfigError(f"{source} [{loc}]: {err['msg']}") from None

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    def save(self, path: str | Path, **extra: Any) -> Path:
        """Save as YAML with provenance (git hash, package version) so a run can be replayed."""
        doc = {"provenance": provenance(), **extra, "config": self.model_dump(mode="json")}
        return write_text(path, yaml.safe_dump(doc, sort_keys=False))


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
