"""A deployment pattern: deploy/patterns/NAME/cluster.toml lists its servers (PostgreSQL,
Redis, nginx), its nodes, each a profile and a configuration template whose {{name}}
placeholders local-cluster fills in (a gateway also names its environment), and the gateway
environments that local-cluster creates through the admin REST API."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .processes import ClusterError

DEPLOY_DIR = Path(__file__).resolve().parent.parent
PATTERNS_DIR = DEPLOY_DIR / "patterns"

# Profiles with the control plane's HTTPS listener (OAuth, REST) and with a gateway.
CONTROL_PROFILES = {"all-in-one", "control-plane", "key-manager"}
GATEWAY_PROFILES = {"all-in-one", "gateway"}
# Cluster-wide throttling: the gateways lease quota from these.
TRAFFIC_PROFILES = {"traffic-manager"}
# Order of start; stopped in reverse. Gateways pull from the control planes through nginx
# and lease from the traffic managers.
START_ORDER = ["postgresql", "redis", "all-in-one", "control-plane", "key-manager",
               "traffic-manager", "nginx", "gateway"]


DEFAULT_ENVIRONMENT = "Default"
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass
class NodeSpec:
    name: str
    profile: str
    template: Path
    environment: str = DEFAULT_ENVIRONMENT  # a gateway's gateway.environment
    # With --netns, where alone it may open connections (netns.EGRESS_PORTS); None: anywhere.
    egress: list[str] | None = None


@dataclass
class EnvironmentSpec:
    """A gateway environment; its vhost is the nginx in front of its gateways."""
    name: str
    display_name: str


@dataclass
class Pattern:
    name: str
    variant: str
    folder: Path
    postgresql: bool
    redis: bool
    nginx: bool
    nodes: list[NodeSpec]
    environments: list[EnvironmentSpec]

    def of_profile(self, *profiles: str) -> list[NodeSpec]:
        return [n for n in self.nodes if n.profile in profiles]

    def gateway_environments(self) -> list[str]:
        """The environments that gateways serve, in the order of the nodes."""
        names: list[str] = []
        for node in self.of_profile(*GATEWAY_PROFILES):
            if node.environment not in names:
                names.append(node.environment)
        return names


def load_pattern(name: str, variant: str = "") -> Pattern:
    """deploy/patterns/NAME/cluster.toml, or cluster-VARIANT.toml for a variant."""
    folder = Path(name) if "/" in name else PATTERNS_DIR / name
    manifest = folder / (f"cluster-{variant}.toml" if variant else "cluster.toml")
    if not manifest.is_file():
        known = sorted(p.name for p in PATTERNS_DIR.iterdir() if (p / "cluster.toml").is_file())
        raise ClusterError(f"no pattern {manifest} (patterns: {', '.join(known)})")
    spec = tomllib.loads(manifest.read_text())
    nodes = [NodeSpec(n["name"], n["profile"], folder / n["config"],
                      n.get("environment", DEFAULT_ENVIRONMENT), n.get("egress"))
             for n in spec["node"]]
    environments = [EnvironmentSpec(e["name"], e.get("display_name", e["name"]))
                    for e in spec.get("environment", [])]
    declared = {e.name for e in environments} | {DEFAULT_ENVIRONMENT}
    for node in nodes:
        if node.profile not in CONTROL_PROFILES | GATEWAY_PROFILES | TRAFFIC_PROFILES:
            raise ClusterError(f"{manifest}: node {node.name}: unknown profile {node.profile}")
        if node.environment not in declared:
            raise ClusterError(f"{manifest}: node {node.name}: environment {node.environment} "
                               f"is not one of the [[environment]] tables")
    for environment in environments:
        # It names nginx upstreams, ports and endpoints.env variables too.
        if not ENVIRONMENT_NAME.fullmatch(environment.name):
            raise ClusterError(f"{manifest}: environment name {environment.name!r}: letters, "
                               f"digits, '-' and '_' only")
    return Pattern(folder.name, variant, folder, spec.get("postgresql", False),
                   spec.get("redis", False), spec.get("nginx", False), nodes, environments)


def fill(template: Path, values: dict[str, str]) -> str:
    """The template's text with every {{name}} replaced by values[name]."""
    def value(match: re.Match) -> str:
        if match.group(1) not in values:
            raise ClusterError(f"{template}: unknown placeholder {match.group(0)}")
        return values[match.group(1)]

    return re.sub(r"\{\{(\w+)\}\}", value, template.read_text())


