"""`.tasks/config.yaml`: project name, integration branch, lease, lanes, milestones (design §5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gtask.core.ids import PROJECT_PATTERN
from gtask.errors import InvalidTask

DEFAULT_LANES = ("triage", "decision", "investigation", "autonomous")
DEFAULT_AGENT_LANES = ("autonomous",)
DEFAULT_LEASE = "2h"
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> int:
    """Parse `2h`, `90m`, `1d12h`, `45s` into seconds; raise ValueError otherwise."""
    match = _DURATION.fullmatch(str(text).strip())
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration like 2h, 90m or 1d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


class Config:
    """The settings of one repository's task store (a plain class: every command builds it, a dataclass would
    cost a compile at import)."""

    def __init__(self, project: str, integration_branch: str | None = None, lease_seconds: int = 7200,
                 lanes: tuple[str, ...] = DEFAULT_LANES, agent_lanes: tuple[str, ...] = DEFAULT_AGENT_LANES,
                 claim_push: bool = False, milestones: dict[str, Milestone] | None = None,
                 approval_rules: tuple[ApprovalRule, ...] = (), gate_signers: str | None = None,
                 raw: dict[str, Any] | None = None) -> None:
        self.project = project
        self.integration_branch = integration_branch
        self.lease_seconds = lease_seconds
        self.lanes = lanes
        self.agent_lanes = agent_lanes  # lanes agents may take without a person
        self.claim_push = claim_push
        self.milestones = milestones if milestones is not None else {}
        self.approval_rules = approval_rules  # honoured only as the integration branch's config has them
        self.gate_signers = gate_signers  # allowed-signers file (repository root relative) gate results must match
        self.raw = raw if raw is not None else {}

    def __eq__(self, other: object) -> bool:
        return type(other) is Config and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was

    def __repr__(self) -> str:
        return "Config(" + ", ".join(f"{key}={value!r}" for key, value in vars(self).items()) + ")"

    def push_to(self, push: str | None) -> str | None:
        """--push as given (a remote, or "" for the default one), else "" when `claim_push: true`, else None."""
        return "" if push is None and self.claim_push else push


def load_config(path: Path, default_project: str, label: str) -> Config:
    """Read config.yaml if it exists; a missing file gives the defaults."""
    from gtask.core.taskfile import read_text

    if not path.exists() and not path.is_symlink():
        return Config(project=default_project)
    text = read_text(path, label)  # a regular file, not a link or a FIFO, at most 1 MiB
    return parse_config(text.encode("utf-8"), default_project, label)


def parse_config(raw_bytes: bytes, default_project: str, label: str) -> Config:
    """Parse the bytes of a config.yaml (from a file or from a git object)."""
    import yaml  # only when a config is parsed: a warm command reads it remembered (store/config_cache.py)

    from gtask.core.taskfile import decode, load_yaml, top_level_key_lines, yaml_error

    text = decode(raw_bytes, label)
    line: int | None
    try:
        data = load_yaml(text) or {}
    except yaml.MarkedYAMLError as exc:
        message, line = yaml_error(exc, first_line=1)
        raise InvalidTask(message, path=label, line=line) from None
    if not isinstance(data, dict):
        raise InvalidTask("config must be a mapping of keys to values", path=label)
    try:
        return _build(data, default_project)
    except _Bad as bad:  # name the line of the key that is wrong
        lines = text.splitlines(keepends=True)
        line = top_level_key_lines(lines, 0, len(lines)).get(bad.key, [None])[0]
        raise InvalidTask(bad.message, path=label, line=line) from None


def config_from_data(data: dict[str, Any], default_project: str) -> Config | None:
    """The config of already parsed data (as parse_config read it before); None when a value is wrong."""
    try:
        return _build(data, default_project)
    except _Bad:
        return None


class _Bad(Exception):
    """A wrong value in config.yaml, by top-level key (parse_config adds the file and line)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


def _build(data: dict[str, Any], default_project: str) -> Config:
    project = str(data.get("project") or default_project)
    if not PROJECT_PATTERN.fullmatch(project):
        raise _Bad("project", f"project name {project!r} may use only letters, digits, '-', '_' and '.'")
    try:
        lease = parse_duration(str(data.get("lease", DEFAULT_LEASE)))
    except ValueError as exc:
        raise _Bad("lease", f"lease: {exc}") from None
    lanes = data.get("lanes", list(DEFAULT_LANES))
    if not isinstance(lanes, list) or not all(isinstance(lane, str) for lane in lanes):
        raise _Bad("lanes", "lanes must be a list of names")
    agent_lanes = data.get("agent_lanes", list(DEFAULT_AGENT_LANES))
    if not isinstance(agent_lanes, list) or not all(isinstance(lane, str) and lane in lanes for lane in agent_lanes):
        raise _Bad("agent_lanes", f"agent_lanes must be a list of configured lanes ({', '.join(lanes)})")
    branch = data.get("integration_branch")
    if branch is not None and not _is_branch_name(branch):
        raise _Bad("integration_branch", f"integration_branch {branch!r} is not a branch name")
    signers = data.get("gate_signers")
    if signers is not None and (not isinstance(signers, str) or not signers.strip() or signers.startswith("/")
                                or ".." in signers.split("/") or not signers.isprintable()):
        raise _Bad("gate_signers", "gate_signers must be the path, from the repository root, of an allowed-signers "
                                   "file committed on the integration branch")
    return Config(
        project=project,
        gate_signers=signers,
        integration_branch=str(branch) if branch else None,
        lease_seconds=lease,
        lanes=tuple(lanes),
        agent_lanes=tuple(agent_lanes),
        claim_push=bool(data.get("claim_push", False)),
        milestones=_milestones(data.get("milestones")),
        approval_rules=_approval_rules(data.get("approval_rules"), tuple(lanes)),
        raw=data,
    )


@dataclass(frozen=True)
class Milestone:
    """A milestone of config.yaml: an optional quality gate, and the milestones it comes after.

    The gate is an argv list, or one line for the shell when `shell` is true.
    Gates are run only as the integration branch's config has them (see gates.py).
    """

    name: str
    gate: tuple[str, ...] | str | None = None
    shell: bool = False
    after: tuple[str, ...] = ()


def _milestones(raw: Any) -> dict[str, Milestone]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _Bad("milestones", "milestones must map names to settings")
    found = {}
    for name, settings in raw.items():
        settings = settings or {}
        where = f"milestones.{name}"
        if not isinstance(name, str) or not isinstance(settings, dict):
            raise _Bad("milestones", f"{where} must be a mapping (gate, shell, after)")
        unknown = set(settings) - {"gate", "shell", "after"}
        if unknown:
            raise _Bad("milestones", f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        shell = settings.get("shell", False)
        gate = settings.get("gate")
        after = settings.get("after", [])
        after = [after] if isinstance(after, str) else after
        if not isinstance(shell, bool):
            raise _Bad("milestones", f"{where}.shell must be true or false")
        if isinstance(gate, list) and gate and all(isinstance(arg, str) for arg in gate) and not shell:
            gate = tuple(gate)
        elif not (gate is None or (isinstance(gate, str) and gate.strip())):
            raise _Bad("milestones", f"{where}.gate must be a command line or a list of arguments")
        if not isinstance(after, list) or not all(isinstance(m, str) and m in raw for m in after):
            raise _Bad("milestones", f"{where}.after must name milestones of this config")
        found[name] = Milestone(name, gate, shell, tuple(after))
    return found


@dataclass(frozen=True)
class ApprovalRule:
    """An approval rule: agents' proposals it matches land as `todo` in its lane without a person.

    `agents` empty means any agent; with `labels`, every label of the task must be one of them and it has one.
    """

    name: str
    lane: str
    agents: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    def matches(self, agent: str | None, labels: list[str]) -> bool:
        """Whether a proposal filed by `agent` with these labels falls under this rule."""
        if agent is None or (self.agents and agent not in self.agents):
            return False
        return not self.labels or (bool(labels) and all(label in self.labels for label in labels))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "lane": self.lane, "agents": list(self.agents), "labels": list(self.labels)}


def _approval_rules(raw: Any, lanes: tuple[str, ...]) -> tuple[ApprovalRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _Bad("approval_rules", "approval_rules must be a list of rules (name, agents, labels, lane)")
    found: list[ApprovalRule] = []
    for number, rule in enumerate(raw, 1):
        where = f"approval_rules[{number}]"
        if not isinstance(rule, dict):
            raise _Bad("approval_rules", f"{where} must be a mapping (name, agents, labels, lane)")
        unknown = set(rule) - {"name", "agents", "labels", "lane"}
        if unknown:
            raise _Bad("approval_rules", f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        name, lane = rule.get("name"), rule.get("lane")
        if not isinstance(name, str) or not name.strip() or not name.isprintable():
            raise _Bad("approval_rules", f"{where} needs a name (one printable line)")
        if name in {r.name for r in found}:
            raise _Bad("approval_rules", f"{where}: the name {name!r} is used twice")
        if lane not in lanes:
            raise _Bad("approval_rules", f"{where} ({name}): lane must be one of the configured lanes "
                                         f"({', '.join(lanes)}), not {lane!r}")
        lists = {}
        for key in ("agents", "labels"):
            value = rule.get(key, [])
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise _Bad("approval_rules", f"{where} ({name}): {key} must be a list of names")
            lists[key] = tuple(value)
        found.append(ApprovalRule(name, str(lane), lists["agents"], lists["labels"]))
    return tuple(found)


_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")


def _is_branch_name(name: Any) -> bool:
    """A plain branch name (git's rules, narrowed): it can name no file outside `refs/heads/`."""
    return (isinstance(name, str) and len(name) <= 200 and bool(_BRANCH.fullmatch(name))
            and ".." not in name and not name.endswith((".", ".lock")) and "/." not in name)


def default_project_name(folder_name: str) -> str:
    """Make a valid project name from a folder name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder_name).strip("-._") or "tasks"
    return name[:64]
