"""No value from a preset is ever code: every string field of ClusterSpec, walked with canaries.

The fields are enumerated from the model itself, so a field added later is walked too. Each canary, if
it were ever evaluated, would create a marker file. For every field × canary the preset is either refused
with an error that names the key, or accepted and kept literally; then the files kwizard writes for
Ansible (hosts.yaml, group_vars, the variables of its own playbooks) are read with Ansible's own loader
and templated with Ansible's own Templar, as ansible-playbook does, and must come back unchanged with no
marker created. tests/integration/test_canaries_lab.py runs the same canaries through the real pipeline
on the lab.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel

from kwizard import preset, yamlout
from kwizard.errors import PresetError
from kwizard.inventory.render import render
from kwizard.loadbalancer import deploy
from kwizard.spec import ClusterSpec
from kwizard.storage.manifests import gluster_manifests, to_yaml
from kwizard.storage.plan import gluster_plan

# A preset in which every optional string field is present, so that each can be replaced by a canary.
BASE: dict[str, Any] = {
    "version": 1,
    "name": "canary",
    "target": "aws",
    "description": "all fields",
    "hosts": [
        {"name": f"n{i}", "address": f"10.0.0.{i}", "ip": f"10.0.0.{i}", "user": "admin", "port": 22,
         "roles": ["control_plane", "etcd", "worker", "loadbalancer", "storage"], "az": "zone-a",
         "instance_type": "m5.large", "python_interpreter": "/usr/bin/python3", "storage_device": "/dev/sdb"}
        for i in (1, 2, 3)
    ],
    "ssh": {"user": "root", "port": 22, "key": "~/.ssh/id_ed25519", "password_env": "PW",
            "become_password_env": "BPW"},
    "bastion": {"address": "10.0.9.1", "user": "jump", "port": 22, "key": "~/.ssh/jump"},
    "kubespray": {"version": "v2.31.0", "repo_url": "https://github.com/kubernetes-sigs/kubespray.git",
                  "dir": "/opt/kubespray", "kube_version": "1.35.4", "network_plugin": "calico",
                  "container_manager": "containerd", "pods_subnet": "10.233.64.0/18",
                  "service_addresses": "10.233.0.0/18", "http_proxy": "http://proxy:3128",
                  "https_proxy": "http://proxy:3128", "no_proxy": ".corp", "extra_vars": {"kw_var": "x"}},
    "loadbalancer": {"domain": "example.com", "controller": "traefik",
                     "virtual_hosts": [{"host": "shop.example.com", "service": "shop", "namespace": "web"}]},
    "storage": {"type": "gluster", "ebs_volume_type": "gp3",
                "gluster": {"volume": "gv0", "brick_dir": "/data/brick", "size": "9g",
                            "mount_point": "/mnt/gluster"}},
    "preflight": {"acknowledged": ["systemd"]},
    "provision": {"region": "eu-west-1", "azs": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
                  "vpc_cidr": "10.139.0.0/16",
                  "groups": [{"name": "cp", "count": 3, "roles": ["control_plane", "etcd", "loadbalancer"],
                              "instance_type": "t3.medium"}],
                  "ami": {"owner": "099720109477", "name": "ubuntu-*"},
                  "key_name": "kwizard", "operator_cidr": "198.51.100.7/32", "nat": "gateway",
                  "nat_instance_type": "t3.small", "bastion_instance_type": "t3.micro",
                  "dns": {"zone": "example.com", "records": ["apps.example.com"]}},
    "phases": ["discover", "access", "preflight", "inventory", "storage"],
}  # fmt: skip


def canaries(marker_dir: Path) -> dict[str, str]:
    """Values that create `marker_dir/<name>` if a template engine, a shell or a YAML loader runs them."""
    m = marker_dir
    return {
        "jinja_expression": f"{{{{ lookup('pipe', 'touch {m}/jinja_expression') }}}}",
        "jinja_statement": f"{{% set x = lookup('pipe', 'touch {m}/jinja_statement') %}}x",
        "jinja_no_spaces": f"{{{{lookup('pipe','touch${{IFS}}{m}/jinja_no_spaces')}}}}",
        "jinja_comment_then_expression": f"{{# c #}}{{{{ lookup('pipe', 'touch {m}/jinja_comment') }}}}",
        "jinja_header": (
            "#jinja2: variable_start_string:'[[', variable_end_string:']]'\n"
            f"[[ lookup('pipe', 'touch {m}/jinja_header') ]]"
        ),
        "shell_substitution": f"$(touch {m}/shell_substitution)",
        "backticks": f"`touch {m}/backticks`",
        "semicolon": f"x; touch {m}/semicolon",
        "newline": f"x\ntouch {m}/newline",
        "quotes": f"x' \"; touch {m}/quotes; echo '",
        "yaml_tag": f"!!python/object/apply:os.system ['touch {m}/yaml_tag']",
        "yaml_anchor": "&a [*a, *a]",
        "path_parent": "../../../../etc/kw-canary",
        "path_absolute": "/etc/passwd",
    }


Leaf = tuple[tuple[Any, ...], str]  # (path into the preset data, "value" | "key" | "item")


def string_leaves(model: type[BaseModel], path: tuple[Any, ...] = ()) -> Iterator[Leaf]:
    """Every place a string can go in `model`, from its field annotations (new fields included)."""
    for name, field in model.model_fields.items():
        yield from _leaves_of(field.annotation, (*path, name))


def _leaves_of(annotation: Any, path: tuple[Any, ...]) -> Iterator[Leaf]:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _leaves_of(arg, path)
    elif origin is typing.Annotated:
        yield from _leaves_of(args[0], path)
    elif annotation is str or origin is Literal:
        yield path, "value"
    elif origin is list:
        item = args[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            yield from string_leaves(item, (*path, 0))
        else:
            yield from ((p, "item" if kind == "value" else kind) for p, kind in _leaves_of(item, path))
    elif origin is dict:
        yield path, "key"
        yield path, "value"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from string_leaves(annotation, path)


def _set(data: dict[str, Any], path: tuple[Any, ...], kind: str, canary: str) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(data))  # a deep copy
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if kind == "item":
        parent[last] = [canary]
    elif kind == "key":
        parent[last] = {canary: "x"}
    elif isinstance(parent.get(last), dict):  # a dict of free values (extra_vars): a value, nested too
        parent[last] = {"kw_var": canary, "kw_nested": {"list": [canary, {"deep": canary}]}}
    else:
        parent[last] = canary
    return data


def _key_name(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _get(spec: ClusterSpec, path: tuple[Any, ...]) -> Any:
    value: Any = spec
    for part in path:
        value = value[part] if isinstance(part, int) or isinstance(value, dict) else getattr(value, part)
    return value


def _ansible_files(spec: ClusterSpec, tmp_path: Path) -> dict[str, str]:
    """Every file kwizard writes for Ansible from this spec: the inventory and the playbooks' variables."""
    files = dict(render(spec, tmp_path / "known_hosts").files)
    if spec.storage.type == "gluster":
        plan = gluster_plan(spec)
        files["gluster-extravars"] = yamlout.dump(
            plan.extravars(to_yaml(gluster_manifests(plan))), unsafe=True
        )
    manifests = [tmp_path / f"{vhost.host}.yaml" for vhost in spec.loadbalancer.virtual_hosts]
    files["lb-extravars"] = yamlout.dump(
        deploy.extravars("loadbalancer", manifests, [], kwizard_description=spec.description), unsafe=True
    )
    return files


def _template_with_ansible(text: str) -> Any:
    """`text` read by Ansible's loader, then every value templated by Ansible's Templar."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    loader = DataLoader()
    data = loader.load(text)
    variables = data if isinstance(data, dict) else {}
    return Templar(loader=loader, variables=variables).template(data)


ALL_LEAVES = list(string_leaves(ClusterSpec))


def test_the_walk_covers_every_string_field() -> None:
    # Enumerated from the model, so the walk grows with it; these are the fields Ansible sees most.
    named = {_key_name(path) + ("" if kind == "value" else f" ({kind})") for path, kind in ALL_LEAVES}
    for expected in ("hosts[0].user", "ssh.key", "bastion.user", "bastion.key", "hosts[0].az",
                     "kubespray.extra_vars (key)", "kubespray.extra_vars", "storage.gluster.brick_dir",
                     "hosts[0].roles (item)", "description"):  # fmt: skip
        assert expected in named
    assert len(ALL_LEAVES) >= 40


@pytest.mark.parametrize("leaf", ALL_LEAVES, ids=lambda leaf: _key_name(leaf[0]) + f"-{leaf[1]}")
def test_every_canary_is_refused_naming_the_key_or_kept_inert(leaf: Leaf, tmp_path: Path) -> None:
    path, kind = leaf
    markers = tmp_path / "markers"
    markers.mkdir()
    key = _key_name(path)
    outcomes: dict[str, str] = {}
    for name, canary in canaries(markers).items():
        text = yaml.safe_dump(_set(BASE, path, kind, canary), sort_keys=False)
        try:
            spec = preset.parse(text, "p.yaml")
        except PresetError as error:
            assert key in error.problem, f"{name}: the refusal does not name {key}: {error.problem}"
            assert "p.yaml:" in error.problem and error.fix
            outcomes[name] = "refused"
            continue
        outcomes[name] = "kept"
        kept = _get(spec, path)
        if kind == "value" and not isinstance(kept, dict):
            assert kept == canary, f"{name}: {key} was changed to {kept!r}"
        for file_name, written in _ansible_files(spec, tmp_path).items():
            assert _template_with_ansible(written) == yamlout.load(written), f"{name} in {file_name}"
        assert preset.parse(preset.dump(spec)) == spec  # a saved preset keeps it literally too
    assert list(markers.iterdir()) == [], f"a canary ran: {outcomes}"
    assert len(outcomes) == len(canaries(markers))


def test_a_canary_in_a_written_file_is_tagged_and_the_same_value_untagged_would_run(tmp_path: Path) -> None:
    """The check above has teeth: Ansible's Templar runs an untagged template (and the marker appears)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    canary = canaries(markers)["jinja_expression"]
    spec = preset.parse(yaml.safe_dump(_set(BASE, ("kubespray", "extra_vars"), "value", canary)))
    written = render(spec, tmp_path / "known_hosts").files["group_vars/all/kwizard.yml"]
    assert "kw_var: !unsafe " in written
    assert _template_with_ansible(written)["kw_var"] == canary
    assert list(markers.iterdir()) == []
    _template_with_ansible(written.replace("!unsafe ", ""))
    assert [p.name for p in markers.iterdir()] == ["jinja_expression"]
