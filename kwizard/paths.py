"""Where kwizard keeps things. Every path the program uses comes from here.

Layout of a workspace (one folder per cluster, all 0700):

    <root>/clusters/<cluster>/
        preset.yaml          the ClusterSpec, as saved
        known_hosts          host keys trusted for this cluster (used by Fabric and Ansible)
        ssh/                 generated key pair (private key 0600)
        inventory/<cluster>/ hosts.yaml + group_vars (what Kubespray reads)
        runs/<run-id>/       journal (state.json, events) and report of each run
        artifacts/           ansible-runner private data dirs, admin.conf (0600)
    <root>/cache/kubespray/  checkouts and venvs shared by all clusters
    <root>/last-cluster      name of the cluster last opened (for "continue where you left off")
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kwizard.errors import EnvironmentProblem, storage_error
from kwizard.fsutil import atomic_write, ensure_private_dir

ENV_WORKDIR = "KWIZARD_WORKDIR"


def default_root() -> Path:
    """The platform's per-user data dir, unless KWIZARD_WORKDIR says otherwise."""
    override = os.environ.get(ENV_WORKDIR)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path  # small import, kept local so --version stays lean

    return user_data_path("kwizard", appauthor=False)


# KWIZARD_WORKDIR as the user's shell has it, before --workdir replaced it (set only with --workdir).
ENV_SHELL_WORKDIR = "KWIZARD_SHELL_WORKDIR"


def use_workdir_option(workdir: str) -> None:
    """--workdir DIR: kwizard and its children use DIR; the shell's own setting is kept for workdir_option."""
    os.environ.setdefault(ENV_SHELL_WORKDIR, os.environ.get(ENV_WORKDIR, ""))
    os.environ[ENV_WORKDIR] = workdir


def workdir_option(root: Path) -> str:
    """ " --workdir ROOT" when the run was given --workdir and ROOT is not where kwizard looks without it,
    so that a command printed for later (`kwizard --resume lab`) finds the same cluster; else ""."""
    import shlex

    shell = os.environ.get(ENV_SHELL_WORKDIR)
    if shell is None:
        return ""
    if shell:
        usual = Path(shell).expanduser()
    else:
        from platformdirs import user_data_path

        usual = user_data_path("kwizard", appauthor=False)
    try:
        if root.expanduser().resolve() == usual.resolve():
            return ""
    except OSError:
        pass
    return f" --workdir {shlex.quote(str(root))}"


def run_workdir_option(run_dir: Path) -> str:
    """`workdir_option` for the workspace root holding the run folder ROOT/clusters/CLUSTER/runs/ID
    ("" for a run folder kept anywhere else)."""
    parents = run_dir.parents
    if len(parents) > 3 and parents[0].name == "runs" and parents[2].name == "clusters":
        return workdir_option(parents[3])
    return ""


@dataclass(frozen=True)
class Workspace:
    """The folders of one cluster, below a workspace root."""

    root: Path
    cluster: str

    @property
    def cluster_dir(self) -> Path:
        return self.root / "clusters" / self.cluster

    @property
    def preset_file(self) -> Path:
        return self.cluster_dir / "preset.yaml"

    @property
    def known_hosts(self) -> Path:
        return self.cluster_dir / "known_hosts"

    @property
    def ssh_dir(self) -> Path:
        return self.cluster_dir / "ssh"

    @property
    def inventory_dir(self) -> Path:
        return self.cluster_dir / "inventory" / self.cluster

    @property
    def runs_dir(self) -> Path:
        return self.cluster_dir / "runs"

    @property
    def artifacts_dir(self) -> Path:
        return self.cluster_dir / "artifacts"

    @property
    def kubeconfig(self) -> Path:
        return self.artifacts_dir / "admin.conf"

    @property
    def kubespray_cache(self) -> Path:
        return self.root / "cache" / "kubespray"

    def create(self) -> Workspace:
        """Create every folder of the workspace with mode 0700; idempotent.

        Raises EnvironmentProblem when a folder cannot be made (a file in the way, no permission, full disk).
        """
        try:
            for directory in (
                self.root,
                self.root / "clusters",
                self.cluster_dir,
                self.ssh_dir,
                self.cluster_dir / "inventory",
                self.inventory_dir,
                self.runs_dir,
                self.artifacts_dir,
            ):
                ensure_private_dir(directory)
            remember_last_cluster(self.root, self.cluster)
        except OSError as exc:
            where = exc.filename or self.cluster_dir
            raise storage_error(exc) or EnvironmentProblem(
                "Cannot create the cluster's folder",
                f"kwizard could not create {where}: {exc.strerror or exc}.",
                "Check that the folder (and the ones above it) may be written and that the disk has space, "
                "or choose another data folder with --workdir (KWIZARD_WORKDIR).",
            ) from exc
        return self


def workspace(cluster: str, root: Path | None = None) -> Workspace:
    """The workspace of `cluster` under `root` (default: `default_root()`)."""
    return Workspace(root=(root or default_root()).expanduser().resolve(), cluster=cluster)


def last_cluster_file(root: Path) -> Path:
    return root / "last-cluster"


def remember_last_cluster(root: Path, cluster: str) -> None:
    ensure_private_dir(root)
    atomic_write(last_cluster_file(root), cluster + "\n")


def last_cluster(root: Path | None = None) -> str | None:
    """Name of the cluster opened last, if its workspace still exists."""
    base = (root or default_root()).expanduser()
    try:
        name = last_cluster_file(base).read_text().strip()
    except OSError:
        return None
    if name and (base / "clusters" / name / "preset.yaml").exists():
        return name
    return None


def known_clusters(root: Path | None = None) -> list[str]:
    """Clusters that have a saved preset under `root`, sorted by name."""
    base = (root or default_root()).expanduser() / "clusters"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "preset.yaml").exists())
