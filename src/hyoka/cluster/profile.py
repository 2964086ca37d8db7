"""Cluster profiles: a small YAML naming node kinds, account, priority and node set-up.

Example (TSUBAME4, Grid Engine):

    scheduler: sge
    group: tga-mylab
    priority: -5
    setup: [". /etc/profile.d/modules.sh", "module load cuda/12.1", "source ~/hyoka/.venv/bin/activate"]
    node_kinds:
      node_q: {gpus: 1, cpus: 48, memory: 188G, walltime: "24:00:00", resource: node_q=1}
      node_f: {gpus: 4, cpus: 192, memory: 752G, walltime: "24:00:00", resource: node_f=1}
    node_rules:
      - {backends: [openai], node: cpu_16}
      - {max_params_b: 13, node: node_q}
      - {node: node_f}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hyoka.errors import HyokaError

Scheduler = Literal["slurm", "sge", "ray"]
_DURATION = re.compile(r"^(?:(\d+)-)?(\d+):(\d{2})(?::(\d{2}))?$")


class ProfileError(HyokaError):
    """A cluster profile that cannot be read or used."""


def parse_duration(text: str) -> int:
    """'HH:MM:SS', 'HH:MM' or 'D-HH:MM:SS' → seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a duration; write HH:MM:SS (or D-HH:MM:SS)")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def format_hms(seconds: int) -> str:
    """Seconds → HH:MM:SS (hours may exceed 24: both Slurm and Grid Engine accept it)."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeKind(_Strict):
    gpus: int = Field(default=0, ge=0)
    cpus: int = Field(default=1, ge=1)
    memory: str | None = Field(default=None, description="e.g. 64G (Slurm --mem; Grid Engine: part of the resource)")
    walltime: str = Field(description="the longest a job may run on this kind, HH:MM:SS")
    #: Grid Engine resource request, TSUBAME style: node_q=1, node_f=1, cpu_16=1
    resource: str | None = None
    partition: str | None = Field(default=None, description="Slurm partition")
    directives: list[str] = Field(default_factory=list, description="extra scheduler directives, written as given")

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def walltime_seconds(self) -> int:
        return parse_duration(self.walltime)


class NodeRule(_Strict):
    """First matching rule picks the node kind: by backend and by model size (billions)."""

    node: str
    backends: list[str] | None = None
    max_params_b: float | None = Field(default=None, gt=0)


class ClusterProfile(_Strict):
    scheduler: Scheduler | None = Field(default=None, description="default for --scheduler")
    account: str | None = Field(default=None, description="Slurm --account")
    group: str | None = Field(default=None, description="Grid Engine -g (TSUBAME group)")
    priority: int | None = Field(default=None, description="Grid Engine -p (TSUBAME: -5, -4, -3)")
    qos: str | None = Field(default=None, description="Slurm --qos")
    setup: list[str] = Field(default_factory=list, description="shell lines run first on the node")
    python: str | None = Field(default=None, description="python on the nodes (default: the one running submit)")
    node_kinds: dict[str, NodeKind]
    node_rules: list[NodeRule] = Field(default_factory=list)
    #: walltime = overhead + margin × estimated seconds; tasks are packed so that this fits the node kind
    margin: float = Field(default=1.5, ge=1.0)
    overhead: str = Field(default="00:05:00", description="model loading and start-up per job")
    min_walltime: str = Field(default="00:10:00")
    default_seconds_per_doc: float = Field(default=2.0, gt=0, description="estimate for tasks never run")
    directives: list[str] = Field(default_factory=list, description="extra directives for every job")

    @field_validator("overhead", "min_walltime")
    @classmethod
    def _durations(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("node_kinds")
    @classmethod
    def _some_kind(cls, v: dict[str, NodeKind]) -> dict[str, NodeKind]:
        if not v:
            raise ValueError("name at least one node kind")
        return v

    @field_validator("node_rules")
    @classmethod
    def _rules_name_kinds(cls, rules: list[NodeRule], info) -> list[NodeRule]:  # type: ignore[no-untyped-def]
        kinds = info.data.get("node_kinds") or {}
        for i, rule in enumerate(rules):
            if kinds and rule.node not in kinds:
                raise ValueError(f"rule {i}: node '{rule.node}' is not one of node_kinds ({', '.join(kinds)})")
        return rules

    def pick_node(self, backend: str, params_b: float | None, wanted: str | None = None) -> str:
        """--node wins; else the first rule that matches; else the only (or first) kind."""
        if wanted is not None:
            if wanted not in self.node_kinds:
                raise ProfileError(f"--node {wanted}: not a node kind of the profile ({', '.join(self.node_kinds)})")
            return wanted
        for rule in self.node_rules:
            if rule.backends is not None and backend not in rule.backends:
                continue
            if rule.max_params_b is not None and (params_b is None or params_b > rule.max_params_b):
                continue
            return rule.node
        return next(iter(self.node_kinds))


def load_profile(path: Path) -> ClusterProfile:
    """Read and validate a profile; every problem is one line naming the file and field."""
    if not path.is_file():
        raise ProfileError(f"--profile {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: expected a mapping (node_kinds:, setup:, ...)")
    try:
        return ClusterProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        raise ProfileError(f"{path}: field '{where}': {msg}") from None
