"""Offline checks of the deployment files, run by deploy/check.sh.

``split`` sorts rendered manifests by the validator each needs; ``policy`` checks what a
schema cannot (Pod Security "restricted", probes and grace periods against the service's
own settings, references between objects, labels, no Secret shipped); ``rules`` writes the
alert rules out for promtool and checks that every metric they read exists; ``repo``
checks the files around the manifests (the config copy, the constraints, .dockerignore).
Each prints what it found and exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "deploy" / "schemas"
EXAMPLE_CONFIG = ROOT / "deploy" / "config.example.yaml"
CONFIG_COPY = ROOT / "deploy" / "k8s" / "overlays" / "example" / "config.yaml"
DOCS = ROOT / "docs" / "kubernetes.md"

Obj = dict[str, Any]

# The labels every rendered object carries (https://kubernetes.io/docs/concepts/overview/
# working-with-objects/common-labels/).
LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
)
# Secrets the manifests may read, and the keys: the one created by the documented
# command, and the one the RabbitMQ Cluster Operator writes for its cluster.
KNOWN_SECRETS = {
    "ticket-router": {"amqp-url", "redis-url", "pseudonym-key"},
    "ticket-router-rabbitmq-default-user": {"username", "password", "host"},
}
# Pod Security Standard "restricted" (v1.30): the volume types it allows.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
# Metrics the alerts may read that other programs export: kube-state-metrics, RabbitMQ's
# rabbitmq_prometheus plugin (/metrics/detailed, families queue_coarse_metrics and
# queue_consumer_count) and Prometheus itself.
EXTERNAL_METRICS = {
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
    "rabbitmq_detailed_queue_messages_ready",
    "rabbitmq_detailed_queue_messages_unacked",
    "rabbitmq_detailed_queue_messages",
    "rabbitmq_detailed_queue_consumers",
    "up",
}


class Problems:
    """Collects what is wrong, so one run reports every problem at once."""

    def __init__(self, check: str) -> None:
        self.check = check
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        """Record one problem of the object or file ``where``."""
        self.items.append(f"{where}: {what}")

    def finish(self, summary: str) -> int:
        """Print the problems (or the summary when there are none); the exit status."""
        if self.items:
            for item in self.items:
                print(f"{self.check}: {item}", file=sys.stderr)
            print(f"{self.check}: FAILED, {len(self.items)} problem(s)", file=sys.stderr)
            return 1
        print(f"{self.check}: ok, {summary}")
        return 0


def load_objects(paths: Iterable[Path]) -> list[Obj]:
    """Every object of the rendered multi-document YAML files, in order."""
    objects: list[Obj] = []
    for path in paths:
        with path.open(encoding="utf-8") as f:
            objects.extend(doc for doc in yaml.safe_load_all(f) if doc)
    return objects


def ident(obj: Obj) -> str:
    """``Kind/name`` of an object, for messages."""
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def is_kubernetes_kind(api_version: str) -> bool:
    """A kind of Kubernetes itself (core or a k8s.io group), not an operator's."""
    group = api_version.rpartition("/")[0]
    return group == "" or "." not in group or group.endswith(".k8s.io")


def schema_for(obj: Obj) -> Path:
    """The schema file of an operator's kind: ``<group>_<kind>_<version>.json``."""
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    return SCHEMAS / f"{group}_{str(obj['kind']).lower()}_{version}.json"


# -- split ---------------------------------------------------------------------------------


def cmd_split(rendered: Path, out: Path) -> int:
    """Write each object to out/k8s/ or out/crd/<schema>/; fail on a kind with no schema."""
    problems = Problems("split")
    counts: dict[str, int] = {}
    for n, obj in enumerate(load_objects([rendered])):
        if is_kubernetes_kind(str(obj.get("apiVersion", ""))):
            folder = out / "k8s"
        else:
            schema = schema_for(obj)
            if not schema.is_file():
                problems.add(ident(obj), f"no schema {schema.relative_to(ROOT)}")
                continue
            folder = out / "crd" / schema.stem
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{n:03d}-{str(obj['kind']).lower()}.yaml"
        (folder / name).write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
        counts[folder.name] = counts.get(folder.name, 0) + 1
    return problems.finish(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


# -- policy --------------------------------------------------------------------------------


def pod_templates(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod spec) of every object that makes pods."""
    for obj in objects:
        spec = obj.get("spec") or {}
        if obj.get("kind") == "Pod":
            yield obj, spec
        elif "template" in spec and "spec" in spec["template"]:
            yield obj, spec["template"]["spec"]


def check_restricted(where: str, pod: Obj, problems: Problems, *, read_only: bool = True) -> None:
    """The Pod Security Standard "restricted" (baseline included) on one pod spec.

    ``read_only``: also a read-only root file system (ours; not part of the standard).
    """
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.add(where, f"{flag} is not allowed")
    psc = pod.get("securityContext") or {}
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.add(where, f"volume {volume['name']}: {sorted(kinds)} not allowed")
    containers = (pod.get("initContainers") or []) + (pod.get("containers") or [])
    for c in containers:
        at = f"{where} container {c['name']}"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            problems.add(at, "privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.add(at, "allowPrivilegeEscalation must be false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.add(at, "capabilities must drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.add(at, f"capabilities add {caps['add']}")
        if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            problems.add(at, "runAsNonRoot must be true (pod or container)")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            problems.add(at, "runAsUser 0")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.add(at, f"seccompProfile must be RuntimeDefault or Localhost (got {seccomp})")
        if read_only and sc.get("readOnlyRootFilesystem") is not True:
            problems.add(at, "readOnlyRootFilesystem must be true")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                problems.add(at, "hostPort")


def check_env(where: str, container: Obj, problems: Problems) -> None:
    """$(VAR) refers to a variable defined above it; ROUTER_* names exist and parse."""
    from router.core.errors import SettingsError
    from router.service.settings import Settings

    known = set(
        re.findall(r'alias="(ROUTER_[A-Z_]+)"', (ROOT / "router/service/settings.py").read_text())
    )
    defined: set[str] = set()
    literal: dict[str, str] = {}
    for var in container.get("env") or []:
        name = var["name"]
        if name.startswith("ROUTER_") and name not in known:
            problems.add(where, f"{name} is not a setting (router/service/settings.py)")
        value = var.get("value")
        if value is not None and "valueFrom" in var:
            problems.add(where, f"{name} has both value and valueFrom")
        if isinstance(value, str):
            for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value):
                if ref not in defined:
                    problems.add(where, f"{name} refers to $({ref}), not defined above it")
            if name.startswith("ROUTER_") and "$(" not in value:
                literal[name] = value
        defined.add(name)
    try:
        settings = Settings.from_env(literal)
    except SettingsError as exc:
        problems.add(where, f"settings refused: {exc}")
        return
    ports = {p.get("containerPort") for p in container.get("ports") or []}
    if ports and settings.http_port not in ports:
        problems.add(where, f"ROUTER_HTTP_PORT {settings.http_port} is not a containerPort {ports}")


def check_router_container(where: str, pod: Obj, c: Obj, problems: Problems) -> None:
    """Probes, the drain's grace period and resources of the service's container."""
    from router.service.settings import Settings

    wanted = {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe, path in wanted.items():
        got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            problems.add(where, f"{probe} must GET {path} (got {got})")
    sleep = 0.0
    command = (((c.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command")
    if command and command[0] == "sleep":
        sleep = float(command[1])
    else:
        problems.add(where, "no preStop sleep (endpoints are removed while the pod still serves)")
    grace = float(pod.get("terminationGracePeriodSeconds", 30))
    drain = Settings().shutdown_grace_s
    if grace <= sleep + drain:
        problems.add(
            where,
            f"terminationGracePeriodSeconds {grace:g} must exceed the preStop sleep {sleep:g} "
            f"+ the service's shutdown grace {drain:g} s",
        )
    requests = (c.get("resources") or {}).get("requests") or {}
    if not {"cpu", "memory"} <= set(requests):
        problems.add(where, "resources.requests needs cpu and memory")
    if not ((c.get("resources") or {}).get("limits") or {}).get("memory"):
        problems.add(where, "no memory limit")


def secret_refs(obj: Obj) -> Iterator[tuple[str, str]]:
    """(secret, key) of every secretKeyRef and secretTargetRef in the object."""
    stack: list[Any] = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("secretKeyRef")
            if isinstance(ref, dict):
                yield ref["name"], ref["key"]
            if obj.get("kind") == "TriggerAuthentication":
                for target in node.get("secretTargetRef") or []:
                    yield target["name"], target["key"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def selects(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Whether matchLabels ``selector`` selects ``labels`` (empty selects nothing here)."""
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def cmd_policy(rendered: list[Path]) -> int:
    """Every check a schema cannot make, over the rendered manifests of the overlays."""
    from router.config.load import load_config
    from router.service.settings import Names

    problems = Problems("policy")
    count = 0
    documented = DOCS.read_text(encoding="utf-8") if DOCS.is_file() else ""
    for path in rendered:
        objects = load_objects([path])
        count += len(objects)
        by_kind: dict[str, dict[str, Obj]] = {}
        for obj in objects:
            by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
        namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
        if len(namespaces) != 1 or None in namespaces:
            problems.add(path.stem, f"objects in namespaces {namespaces}: want one, set")
        for obj in objects:
            where = f"{path.stem} {ident(obj)}"
            labels = obj["metadata"].get("labels") or {}
            for label in LABELS:
                if not labels.get(label):
                    problems.add(where, f"label {label} missing")
            version = labels.get("app.kubernetes.io/version")
            if version and obj["kind"] != "RabbitmqCluster" and version != project_version():
                problems.add(where, f"version label {version}, the project is {project_version()}")
            if obj["kind"] == "Secret":
                problems.add(where, "a Secret is shipped: secrets are created by a command")
            if "CHANGE-ME" in yaml.safe_dump(obj):
                problems.add(where, "holds a CHANGE-ME placeholder")
            for secret, key in secret_refs(obj):
                if key not in KNOWN_SECRETS.get(secret, set()):
                    problems.add(where, f"reads secret {secret} key {key}: not a known secret")
                elif secret == "ticket-router" and f"--from-literal={key}=" not in documented:
                    problems.add(
                        where,
                        f"key {key} of secret {secret} is not in the command of docs/kubernetes.md",
                    )
        for workload, pod in pod_templates(objects):
            where = f"{path.stem} {ident(workload)}"
            check_restricted(where, pod, problems)
            if pod.get("automountServiceAccountToken") is not False:
                problems.add(where, "automountServiceAccountToken must be false")
            if not pod.get("topologySpreadConstraints"):
                problems.add(where, "no topologySpreadConstraints")
            template_labels = workload["spec"]["template"]["metadata"]["labels"]
            for container in pod.get("containers") or []:
                image = str(container.get("image", ""))
                tag = image.rpartition("/")[2].partition(":")[2]
                if not tag or tag == "latest":
                    problems.add(where, f"image {image} needs a version tag")
                elif (
                    image.rpartition("/")[2].startswith("ticket-router:")
                    and tag != project_version()
                ):
                    problems.add(where, f"image {image}: the project is {project_version()}")
                check_env(f"{where} container {container['name']}", container, problems)
                if container["name"] == "router":
                    check_router_container(where, pod, container, problems)
            for volume in pod.get("volumes") or []:
                cm = (volume.get("configMap") or {}).get("name")
                if cm and cm not in by_kind.get("ConfigMap", {}):
                    problems.add(where, f"volume {volume['name']}: no ConfigMap {cm}")
            for kind in ("Service", "PodDisruptionBudget"):
                for other in by_kind.get(kind, {}).values():
                    selector = other["spec"]["selector"]
                    selector = (
                        selector if kind == "PodDisruptionBudget" else {"matchLabels": selector}
                    )
                    if not selects(selector, template_labels):
                        problems.add(ident(other), f"does not select the pods of {ident(workload)}")
            for policy in by_kind.get("NetworkPolicy", {}).values():
                if not selects(policy["spec"]["podSelector"], template_labels):
                    problems.add(ident(policy), f"does not select the pods of {ident(workload)}")
        for cm in by_kind.get("ConfigMap", {}).values():
            data = (cm.get("data") or {}).get("config.yaml")
            if data is not None:
                if data != EXAMPLE_CONFIG.read_text(encoding="utf-8"):
                    problems.add(
                        f"{path.stem} {ident(cm)}", "config.yaml is not deploy/config.example.yaml"
                    )
                try:
                    load_config(EXAMPLE_CONFIG)
                except Exception as exc:  # any refusal of the service's loader
                    problems.add(ident(cm), f"the service refuses the config: {exc}")
        # The operator's pods merge this override: with it they must meet "restricted"
        # (as the namespace enforces) in the containers the operator makes.
        for cluster in by_kind.get("RabbitmqCluster", {}).values():
            template = ((cluster["spec"].get("override") or {}).get("statefulSet") or {}).get(
                "spec"
            )
            pod = ((template or {}).get("template") or {}).get("spec") or {}
            names = {
                c["name"] for c in (pod.get("initContainers") or []) + (pod.get("containers") or [])
            }
            if names != {"rabbitmq", "setup-container"}:
                problems.add(
                    ident(cluster), "override must cover containers rabbitmq and setup-container"
                )
            check_restricted(
                f"{path.stem} {ident(cluster)} override", pod, problems, read_only=False
            )
        services = by_kind.get("Service", {})
        for monitor in by_kind.get("ServiceMonitor", {}).values():
            chosen = [
                s
                for s in services.values()
                if selects(monitor["spec"]["selector"], s["metadata"].get("labels") or {})
            ]
            if monitor["metadata"]["name"] == "ticket-router":
                ports = {p["port"] for p in monitor["spec"]["endpoints"]}
                if not chosen or not ports <= {
                    p.get("name") for s in chosen for p in s["spec"]["ports"]
                }:
                    problems.add(ident(monitor), f"selects no Service with ports {ports}")
        inbound = Names().inbound_queue
        for scaled in by_kind.get("ScaledObject", {}).values():
            target = scaled["spec"]["scaleTargetRef"]["name"]
            if target not in by_kind.get("Deployment", {}):
                problems.add(ident(scaled), f"scales {target}, not rendered")
            elif "replicas" in by_kind["Deployment"][target]["spec"]:
                problems.add(
                    ident(scaled),
                    f"Deployment {target} keeps spec.replicas (apply resets the scale)",
                )
            for trigger in scaled["spec"]["triggers"]:
                meta = trigger["metadata"]
                if meta.get("queueName") != inbound:
                    problems.add(
                        ident(scaled),
                        f"queueName {meta.get('queueName')}, the service consumes {inbound}",
                    )
                auth = (trigger.get("authenticationRef") or {}).get("name")
                if auth and auth not in by_kind.get("TriggerAuthentication", {}):
                    problems.add(ident(scaled), f"authenticationRef {auth} not rendered")
                host = re.match(r"amqps?://(?:[^@/]*@)?([^:/]+)", meta.get("host", ""))
                if host and host.group(1).endswith(".svc"):
                    name, _, rest = host.group(1).partition(".")
                    if rest != f"{scaled['metadata']['namespace']}.svc" or name not in by_kind.get(
                        "RabbitmqCluster", {}
                    ):
                        problems.add(
                            ident(scaled),
                            f"host {host.group(1)} is not a cluster in this namespace",
                        )
    return problems.finish(f"{count} objects in {len(rendered)} renderings")


# -- rules ---------------------------------------------------------------------------------

_PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        word = m.group(0)
        after = expr[m.end() :].lstrip()
        if word.lower() in _PROMQL_WORDS or after.startswith("("):
            continue
        names.add(word)
    return names


def exported_metrics() -> set[str]:
    """Every series name the service exports at /metrics, from its own registries."""
    from prometheus_client import CollectorRegistry

    from router.service.leases import LeaseMetrics
    from router.service.metrics import Metrics

    registry = CollectorRegistry()
    Metrics(registry=registry)
    LeaseMetrics(registry)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names = set()
    for family in registry.collect():
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def cmd_rules(rendered: list[Path], out: Path) -> int:
    """Write the PrometheusRules' groups to out/rules.yaml; check the metric names."""
    from router.service.settings import Names

    problems = Problems("rules")
    # The same rules come from each overlay that has the monitoring component: once each.
    by_name: dict[str, Obj] = {}
    for obj in load_objects(rendered):
        if obj["kind"] == "PrometheusRule":
            for group in obj["spec"]["groups"]:
                by_name.setdefault(group["name"], group)
    groups = list(by_name.values())
    ours = exported_metrics()
    inbound = Names().inbound_queue
    alerts = 0
    for group in groups:
        for rule in group["rules"]:
            alerts += 1
            name = rule.get("alert") or rule.get("record")
            for metric in sorted(metric_names(str(rule["expr"]))):
                if metric.startswith("router_") and metric not in ours:
                    problems.add(f"{name}", f"{metric}: the service exports no such metric")
                elif not metric.startswith("router_") and metric not in EXTERNAL_METRICS:
                    problems.add(f"{name}", f"{metric}: not a known metric")
            for queue in re.findall(r'queue="([^"]*)"', str(rule["expr"])):
                if queue != inbound:
                    problems.add(f"{name}", f'queue="{queue}": the service consumes {inbound}')
    if not groups:
        problems.add("rendered", "no PrometheusRule")
    out.mkdir(parents=True, exist_ok=True)
    (out / "rules.yaml").write_text(
        yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8"
    )
    return problems.finish(
        f"{alerts} rules, metric names exist ({len(ours)} exported by the service)"
    )


# -- repo ----------------------------------------------------------------------------------


def cmd_repo() -> int:
    """The example config copy, the constraints file and the Docker build context."""
    problems = Problems("repo")
    if CONFIG_COPY.read_bytes() != EXAMPLE_CONFIG.read_bytes():
        problems.add(
            str(CONFIG_COPY.relative_to(ROOT)),
            "differs from deploy/config.example.yaml: cp deploy/config.example.yaml "
            f"{CONFIG_COPY.relative_to(ROOT)}",
        )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins: dict[str, str] = {}
    for line in (ROOT / "deploy/constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            if not sep:
                problems.add("deploy/constraints.txt", f"{line!r} is not name==version")
            pins[canonicalize_name(name)] = version.strip()
    # The image installs the runtime dependencies, and the build extra in its model stage.
    needed = (
        list(project["project"]["dependencies"])
        + list(project["project"]["optional-dependencies"]["build"])
        + list(project["build-system"]["requires"])
    )
    for spec in needed:
        req = Requirement(spec)
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.add(
                "deploy/constraints.txt", f"no pin for {req.name}: run deploy/freeze-constraints.sh"
            )
        elif not req.specifier.contains(pin, prereleases=True):
            problems.add("deploy/constraints.txt", f"{req.name}=={pin} is outside {spec!r}")
    allowed = [
        line[1:].strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    ]
    copied: set[str] = set()
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            for source in words[1:-1]:
                copied.add(source)
                if not any(source == a or source.startswith(a.rstrip("/") + "/") for a in allowed):
                    problems.add(
                        "Dockerfile",
                        f"COPY {source}: left out of the build context by .dockerignore",
                    )
                elif not (ROOT / source).exists():
                    problems.add("Dockerfile", f"COPY {source}: no such file")
    # The image's model stage builds from classifiers/ alone.
    for module in sorted((ROOT / "classifiers").rglob("*.py")):
        text = module.read_text(encoding="utf-8")
        if re.search(r"^\s*(from|import)\s+(router|queues)\b", text, re.MULTILINE):
            problems.add(
                str(module.relative_to(ROOT)),
                "imports router or queues: the Dockerfile's model stage has only classifiers/",
            )
    # What building the wheel reads besides the packages: pyproject.toml names it.
    meta = project["project"]
    for name in [meta.get("readme"), *meta.get("license-files", [])]:
        if isinstance(name, str) and name not in copied:
            problems.add("Dockerfile", f"pyproject.toml needs {name} to build the wheel: COPY it")
    arg = re.search(r"^ARG VERSION=(\S+)$", dockerfile, re.MULTILINE)
    if not arg or arg.group(1) != project_version():
        problems.add("Dockerfile", f"ARG VERSION must be the project's version {project_version()}")
    return problems.finish(
        f"config copy, {len(needed)} pinned requirements, Docker build context, version"
    )


def project_version() -> str:
    """The project's one version, router/__init__.py's ``__version__``."""
    text = (ROOT / "router" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else "(none)"


def main(argv: list[str] | None = None) -> int:
    """``python deploy/check_deploy.py split|policy|rules|repo ...``."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("split")
    p.add_argument("rendered", type=Path)
    p.add_argument("out", type=Path)
    p = sub.add_parser("policy")
    p.add_argument("rendered", type=Path, nargs="+")
    p = sub.add_parser("rules")
    p.add_argument("out", type=Path)
    p.add_argument("rendered", type=Path, nargs="+")
    sub.add_parser("repo")
    args = parser.parse_args(argv)
    if args.cmd == "split":
        return cmd_split(args.rendered, args.out)
    if args.cmd == "policy":
        return cmd_policy(args.rendered)
    if args.cmd == "rules":
        return cmd_rules(args.rendered, args.out)
    return cmd_repo()


if __name__ == "__main__":
    sys.exit(main())
