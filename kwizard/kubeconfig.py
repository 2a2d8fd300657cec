"""The cluster's admin kubeconfig on the laptop: fetched, pointed at a reachable API, merged as a context.

The field guide hand-edited ~/.kube/config and set `insecure-skip-tls-verify`; kwizard keeps the cluster's
CA instead, renames the entries after the cluster so several clusters live side by side, and never touches
another cluster's entries. Pure functions do the rewriting and merging; `run_phase` wires them to the
workspace, SSH and the user's kubeconfig file.
"""

from __future__ import annotations

import copy
import os
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kwizard import yamltext
from kwizard.errors import InputError, KwizardError, RemoteError
from kwizard.fsutil import atomic_write
from kwizard.spec import ClusterSpec

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseResult

REMOTE_ADMIN_CONF = "/etc/kubernetes/admin.conf"
DEFAULT_API_PORT = 6443
_SECTIONS = {"clusters": "cluster", "users": "user", "contexts": "context"}


@dataclass(frozen=True)
class ApiEndpoint:
    """Where the laptop reaches the Kubernetes API, and why that address was chosen."""

    host: str
    port: int
    source: str  # "loadbalancer_apiserver", "kube_vip_address" or "first control plane <name>"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"


@dataclass(frozen=True)
class MergeOutcome:
    path: Path
    backup: Path | None
    context: str
    current_context: str | None


def names_for(cluster: str) -> dict[str, str]:
    """Entry names kwizard owns in a merged kubeconfig: cluster, user and context of `cluster`."""
    return {"cluster": cluster, "user": f"{cluster}-admin", "context": cluster}


def api_endpoint(spec: ClusterSpec) -> ApiEndpoint:
    """The API address reachable from the laptop: the API load balancer if the spec has one, else cp #1."""
    extra = spec.kubespray.extra_vars
    balancer = extra.get("loadbalancer_apiserver")
    if isinstance(balancer, dict) and balancer.get("address"):
        host = str(extra.get("apiserver_loadbalancer_domain_name") or balancer["address"])
        return ApiEndpoint(host, int(balancer.get("port", DEFAULT_API_PORT)), "loadbalancer_apiserver")
    if (
        extra.get("kube_vip_enabled")
        and extra.get("kube_vip_controlplane_enabled")
        and extra.get("kube_vip_address")
    ):
        return ApiEndpoint(str(extra["kube_vip_address"]), DEFAULT_API_PORT, "kube_vip_address")
    control_planes = spec.hosts_with("control_plane")
    if not control_planes:
        raise InputError(
            "No control plane",
            f"Cluster {spec.name!r} has no host with the control_plane role, so there is no API to reach.",
            "Give the control_plane role to 1 or 3 hosts in the preset.",
        )
    first = control_planes[0]
    port = int(extra.get("kube_apiserver_port", DEFAULT_API_PORT))
    return ApiEndpoint(first.address, port, f"first control plane {first.name}")


def parse_kubeconfig(text: str, source: str) -> dict[str, Any]:
    """Parse and shape-check a kubeconfig; every problem is an InputError naming `source`."""
    fix = f"Repair or move {source} aside; kwizard did not change it."
    data = yamltext.load(text, source, "Kubeconfig is not valid YAML", fix)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _malformed(source, f"the top level is {type(data).__name__}, not a mapping")
    for section, inner in _SECTIONS.items():
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise _malformed(source, f"'{section}' is {type(entries).__name__}, not a list")
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise _malformed(source, f"{section}[{index}] has no 'name'")
            if not isinstance(entry.get(inner), dict):
                raise _malformed(source, f"{section}[{index}] ({entry['name']}) has no '{inner}' mapping")
    return data


def _malformed(source: str, problem: str) -> InputError:
    return InputError(
        "Malformed kubeconfig",
        f"{source}: {problem}",
        f"Repair or move {source} aside (kubectl config view shows what kubectl makes of it); "
        "kwizard did not change it.",
    )


def _entry(config: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in config.get(section) or []:
        if entry["name"] == name:
            return dict(entry[_SECTIONS[section]])
    return None


def rewrite_admin_conf(
    admin: dict[str, Any], cluster: str, server: str, source: str = "admin.conf"
) -> dict[str, Any]:
    """A one-context kubeconfig for `cluster`: entries renamed, `server` replaced, the CA kept."""
    contexts = admin.get("contexts") or []
    chosen = next((c for c in contexts if c["name"] == admin.get("current-context")), None)
    if chosen is None and len(contexts) == 1:
        chosen = contexts[0]
    if chosen is None:
        raise _malformed(source, "it has no current-context and not exactly one context to pick")
    cluster_entry = _entry(admin, "clusters", str(chosen["context"].get("cluster")))
    user_entry = _entry(admin, "users", str(chosen["context"].get("user")))
    if cluster_entry is None or user_entry is None:
        raise _malformed(source, f"context {chosen['name']!r} names a cluster or user that is not defined")
    if not cluster_entry.get("certificate-authority-data"):
        ca_file = cluster_entry.get("certificate-authority")
        if not ca_file or not Path(str(ca_file)).is_file():
            raise _malformed(
                source,
                "the cluster entry has no certificate-authority-data; kwizard keeps TLS verification "
                "on and needs the cluster's CA",
            )
        import base64

        cluster_entry["certificate-authority-data"] = base64.b64encode(
            Path(str(ca_file)).read_bytes()
        ).decode()
        cluster_entry.pop("certificate-authority", None)
    cluster_entry.pop("insecure-skip-tls-verify", None)  # never carried over: the CA is what we trust
    cluster_entry["server"] = server
    names = names_for(cluster)
    context = {"cluster": names["cluster"], "user": names["user"]}
    if chosen["context"].get("namespace"):
        context["namespace"] = chosen["context"]["namespace"]
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": names["cluster"], "cluster": cluster_entry}],
        "users": [{"name": names["user"], "user": user_entry}],
        "contexts": [{"name": names["context"], "context": context}],
        "current-context": names["context"],
    }


def merge(existing: dict[str, Any], ours: dict[str, Any], cluster: str) -> dict[str, Any]:
    """`existing` with this cluster's entries replaced or added; every other entry untouched."""
    merged = copy.deepcopy(existing) if existing else {}
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    names = names_for(cluster)
    for section, inner in _SECTIONS.items():
        own_name = names[inner]
        kept = [e for e in (merged.get(section) or []) if e["name"] != own_name]
        kept.extend(e for e in ours[section] if e["name"] == own_name)
        merged[section] = kept
    # Switching the user's current context behind their back would redirect their next kubectl
    # command to another cluster; only an empty or stale current-context is set.
    known = {c["name"] for c in merged["contexts"]}
    if not merged.get("current-context") or merged["current-context"] not in known:
        merged["current-context"] = names["context"]
    return merged


def user_kubeconfig_path(environ: dict[str, str] | None = None) -> Path:
    """The kubeconfig file kubectl writes to: $KUBECONFIG's first entry, else ~/.kube/config."""
    env = os.environ if environ is None else environ
    for part in env.get("KUBECONFIG", "").split(os.pathsep):
        if part.strip():
            return Path(part.strip()).expanduser()
    return Path(env.get("HOME") or Path.home()).expanduser() / ".kube" / "config"


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def merge_into_file(
    path: Path, ours: dict[str, Any], cluster: str, now: datetime | None = None
) -> MergeOutcome:
    """Merge `ours` into the kubeconfig at `path`: backup first, atomic write, mode 0600."""
    backup: Path | None = None
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            old_text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                "Kubeconfig cannot be read", f"{path}: {exc}", "Check its permissions."
            ) from None
        existing = parse_kubeconfig(old_text, str(path))
        merged = merge(existing, ours, cluster)
        if merged == existing:
            return MergeOutcome(path, None, names_for(cluster)["context"], merged.get("current-context"))
        backup = _backup_path(path, now or datetime.now(UTC))
        atomic_write(backup, old_text)
    else:
        # Not ensure_private_dir: an existing ~/.kube belongs to the user, its mode is theirs.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        merged = merge(existing, ours, cluster)
    atomic_write(path, dump(merged))
    return MergeOutcome(path, backup, names_for(cluster)["context"], merged.get("current-context"))


def _backup_path(path: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.kwizard-backup-{stamp}")
    counter = 1
    while candidate.exists():  # two merges within one second keep both backups
        counter += 1
        candidate = path.with_name(f"{path.name}.kwizard-backup-{stamp}-{counter}")
    return candidate


def check_api(server_url: str, ca_data_b64: str, timeout: float = 5.0) -> str | None:
    """A TLS handshake with the API server, verified against the cluster CA: None if fine, else why not.

    Catches the common surprise of an address the API certificate does not cover (a NAT'd or public
    address), which kubectl would report later as an x509 error.
    """
    import base64
    import socket
    import ssl
    from urllib.parse import urlsplit

    parts = urlsplit(server_url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        context = ssl.create_default_context(cadata=base64.b64decode(ca_data_b64).decode())
    except (ValueError, ssl.SSLError) as exc:
        return f"the CA in admin.conf cannot be read ({exc})"
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return None
    except ssl.SSLCertVerificationError as exc:
        if "mismatch" in str(exc.verify_message or exc).lower():
            return (
                f"the API certificate does not cover {host}: add it to supplementary_addresses_in_ssl_keys "
                "(kubespray.extra_vars) and run the kubespray phase again"
            )
        return f"the API certificate is not signed by the cluster CA ({exc.verify_message or exc})"
    except OSError as exc:
        return f"the API at {host}:{port} is not reachable from here ({exc.strerror or exc})"


def artifact_path(inventory_dir: Path) -> Path:
    """Where Kubespray's `kubeconfig_localhost: true` leaves admin.conf (artifacts_dir default)."""
    return inventory_dir / "artifacts" / "admin.conf"


def fetch_admin_conf(ctx: PhaseContext) -> tuple[str, str]:
    """admin.conf text and where it came from: Kubespray's artifact, else the first control plane."""
    local = artifact_path(ctx.ws.inventory_dir)
    if local.is_file():
        return local.read_text(encoding="utf-8"), str(local)
    control_planes = ctx.spec.hosts_with("control_plane")
    if not control_planes:
        raise InputError("No control plane", "The spec has no control_plane host to fetch admin.conf from.")
    first = control_planes[0]
    from kwizard.ssh import connect, run

    command = ["cat", REMOTE_ADMIN_CONF]
    connection = connect(ctx, first)  # host-key verified; failures are KwizardErrors already
    try:
        # As a non-root user: sudo with the become password, or `sudo -n` (never a prompt nobody answers).
        result = run(
            connection,
            command,
            sudo=ctx.spec.ssh_user(first) != "root",
            sudo_password=ctx.secrets.become_password,
            timeout=30,
        )
    except KwizardError:
        raise
    except Exception as exc:  # a channel dropped mid-command
        raise RemoteError(
            "Cannot fetch admin.conf",
            f"{first.name} ({first.address}): {type(exc).__name__}: {exc}",
            "Check that the host is reachable over SSH (kwizard --only access) and try again.",
        ) from None
    finally:
        connection.close()
    if not result.ok or not result.stdout.strip():
        why = result.stderr.strip() or "no output"
        raise RemoteError(
            "Cannot fetch admin.conf",
            f"{first.name}: `{shlex.join(command)}` exited {result.exited}: {why}",
            "Run the kubespray phase first (admin.conf exists on control planes once the cluster is up); "
            "as a non-root user, give the sudo password (ssh.become_password_env).",
        )
    return result.stdout, f"{first.name}:{REMOTE_ADMIN_CONF}"


def install(
    ctx: PhaseContext, admin_text: str, source: str, target: Path | None = None
) -> tuple[ApiEndpoint, MergeOutcome]:
    """Rewrite admin.conf for the laptop, save it 0600 in the workspace and merge it for kubectl."""
    admin = parse_kubeconfig(admin_text, source)
    endpoint = api_endpoint(ctx.spec)
    ours = rewrite_admin_conf(admin, ctx.spec.name, endpoint.url, source)
    atomic_write(ctx.ws.kubeconfig, dump(ours))
    outcome = merge_into_file(target or user_kubeconfig_path(), ours, ctx.spec.name)
    return endpoint, outcome


def workspace_ca(path: Path) -> str:
    """The base64 CA of the kubeconfig kwizard wrote at `path`."""
    config = parse_kubeconfig(path.read_text(encoding="utf-8"), str(path))
    return str(config["clusters"][0]["cluster"]["certificate-authority-data"])


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """The kubeconfig phase: admin.conf → workspace kubeconfig + merged context `<cluster>`."""
    from kwizard.protocol.outputs import KubeconfigOutput
    from kwizard.protocol.phase import PhaseResult

    ctx.ws.create()
    text, source = fetch_admin_conf(ctx)
    endpoint, outcome = install(ctx, text, source)
    ctx.log("kubeconfig", f"admin.conf from {source}; API server {endpoint.url} ({endpoint.source})")
    if outcome.backup:
        ctx.log("kubeconfig", f"previous {outcome.path} saved as {outcome.backup}")
    problem = check_api(endpoint.url, workspace_ca(ctx.ws.kubeconfig))
    if problem:
        ctx.log("kubeconfig", f"kubectl --context {outcome.context} will fail: {problem}", level="warning")
    if ctx.spec.bastion and endpoint.source.startswith("first control plane"):
        ctx.log(
            "kubeconfig",
            f"{endpoint.host} is behind the bastion: open a tunnel (ssh -N -L 6443:{endpoint.host}:"
            f"{endpoint.port} {ctx.spec.bastion.user or ctx.spec.ssh.user}@{ctx.spec.bastion.address}) and "
            f"run kubectl --context {outcome.context} --server https://127.0.0.1:6443 (the API "
            "certificate covers 127.0.0.1)",
            level="warning",
        )
    return PhaseResult(
        "ok",
        f"context {outcome.context!r} in {outcome.path} → {endpoint.url}",
        KubeconfigOutput(
            context=outcome.context,
            server=endpoint.url,
            server_source=endpoint.source,
            kubeconfig=str(ctx.ws.kubeconfig),
            merged_into=str(outcome.path),
            backup=str(outcome.backup) if outcome.backup else None,
            current_context=outcome.current_context,
            admin_conf_source=source,
            api_check=problem or "ok",
        ).to_data(),
    )
