"""Every environment variable a process reads is set by both deployments and documented.

What a process reads is taken from the code, not from a list kept by hand:

- its settings class (services/<name>/config.py, gateway/config.py, over shared/settings.py):
  the names pydantic-settings itself looks up for each field (`EnvSettingsSource`: the env
  prefix + the field name, or the field's validation aliases). A field is set when any of its
  names is (KAFKA_BOOTSTRAP_SERVERS or REGISTRY_KAFKA_BOOTSTRAP_SERVERS);
- direct reads (`os.environ.get`, `os.environ[...]`, `os.getenv`, and local aliases of them)
  in shared/, services/, gateway/ and deploy/*.py, found by parsing the source. Each must be
  placed in DIRECT_READS (which processes read it), so a new one fails here until it is.

A process is recognised by its command (compose `command`, Kubernetes `args`, else the
Dockerfile's CMD): a service's or the gateway's uvicorn app, deploy/migrate.py (with or
without --wait, and its SERVICE arguments), deploy/kafka_topics.py. Then:

1. compose: each container of the application image sets every variable its process reads,
   as NAME or NAME_FILE (the image's entrypoint reads the file into NAME); secrets only as
   NAME_FILE under /run/secrets.
2. Kubernetes: each container (init containers too) of the Deployments and Jobs gets every
   variable its process reads from the ConfigMap (envFrom) or its `env`; secrets only from a
   Secret and key that secrets.template.yaml defines, never from the ConfigMap.
3. deploy/README.md documents every variable (`<P>_NAME` and `<S>_NAME` stand for the four
   service prefixes, `<PREFIX>_NAME` for those and GATEWAY); README.md documents the
   NOT_DEPLOYED ones.
4. Conversely, every variable compose or the ConfigMap sets is read by some process, or by
   the software named in OTHER_READERS: a misspelt name is not silently ignored.

Only NOT_DEPLOYED variables may be missing from the deployments, each with its reason.
Variables read only by the local stack and the tests (devstack/, tests/) are out of scope:
they never run in a deployment.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings, EnvSettingsSource

from gateway.config import Settings as GatewaySettings
from services.budget.config import Settings as BudgetSettings
from services.grievance.config import Settings as GrievanceSettings
from services.isaf.config import Settings as IsafSettings
from services.registry.config import Settings as RegistrySettings
from shared.platform import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "deploy" / "k8s"
CONFIGMAP = "sp-platform-config"
SERVICE_SETTINGS: dict[str, type[BaseSettings]] = {
    "registry": RegistrySettings,
    "grievance": GrievanceSettings,
    "isaf": IsafSettings,
    "budget": BudgetSettings,
}
# The files that declare a settings class; a new one must be added above.
SETTINGS_FILES = {
    "shared/settings.py",
    "services/registry/config.py",
    "services/grievance/config.py",
    "services/isaf/config.py",
    "services/budget/config.py",
    "gateway/config.py",
}
SCANNED = ("shared", "services", "gateway", "deploy")

# Direct reads, by file and the argument as written: (variable, processes that read it).
# `<S>` is the service(s) a process works for. Processes: service, gateway, migrate (the
# migration job), migrate-wait (the init containers), kafka-topics.
DIRECT_READS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    # The default of every settings class's `environment`.
    ("shared/settings.py", "'SP_ENVIRONMENT'"): (
        "SP_ENVIRONMENT",
        frozenset({"service", "gateway"}),
    ),
    # Only when Alembic runs without a URL (`alembic -c services/<name>/alembic.ini` by a
    # developer); deploy/migrate.py always passes one.
    ("shared/migrations.py", "f'{service.upper()}_DATABASE_URL'"): (
        "<S>_DATABASE_URL",
        frozenset(),
    ),
    # The local stack's ports, for the command-line tools run beside `make run` (the import
    # CLI, Alembic by hand, the development issuer's token printer): never in a deployment.
    ("shared/migrations.py", "'SP_POSTGRES_PORT'"): ("SP_POSTGRES_PORT", frozenset()),
    ("gateway/identity/dev_issuer.py", "'SP_GATEWAY_PORT'"): ("SP_GATEWAY_PORT", frozenset()),
    ("deploy/migrate.py", "name"): ("<S>_DATABASE_URL", frozenset({"migrate", "migrate-wait"})),
    ("deploy/kafka_topics.py", "'KAFKA_TOPIC_PARTITIONS'"): (
        "KAFKA_TOPIC_PARTITIONS",
        frozenset({"kafka-topics"}),
    ),
    ("deploy/kafka_topics.py", "'KAFKA_TOPIC_REPLICATION_FACTOR'"): (
        "KAFKA_TOPIC_REPLICATION_FACTOR",
        frozenset({"kafka-topics"}),
    ),
    ("deploy/kafka_topics.py", "'KAFKA_TOPIC_MIN_INSYNC_REPLICAS'"): (
        "KAFKA_TOPIC_MIN_INSYNC_REPLICAS",
        frozenset({"kafka-topics"}),
    ),
    ("deploy/kafka_topics.py", "'KAFKA_BOOTSTRAP_SERVERS'"): (
        "KAFKA_BOOTSTRAP_SERVERS",
        frozenset({"kafka-topics"}),
    ),
    # The topics job's login as the admin user (the services read these through settings).
    **{
        ("deploy/kafka_topics.py", f"'{name}'"): (name, frozenset({"kafka-topics"}))
        for name in (
            "KAFKA_SECURITY_PROTOCOL",
            "KAFKA_SASL_MECHANISM",
            "KAFKA_SASL_USERNAME",
            "KAFKA_SASL_PASSWORD",
            "KAFKA_SSL_CAFILE",
        )
    },
}

# Read by a process but deliberately not set by the deployments (README.md documents them).
NOT_DEPLOYED: dict[str, str] = {
    **{
        f"{prefix}_ENVIRONMENT": "per-process override of SP_ENVIRONMENT, which both "
        "deployments set for every process"
        for prefix in (*(s.upper() for s in SERVICES), "GATEWAY")
    },
    "GATEWAY_DEV_ISSUER_ENABLED": "the development issuer: refused outside development and test",
    "GATEWAY_DEV_ISSUER_URL": "the development issuer's URL: only read when it is enabled",
    "GATEWAY_POLICY_FILE": "the access policy table shipped in the image (gateway/policy.yml) "
    "is the production table; set only to try another one",
}

# Set by the deployments for software other than the platform's code.
OTHER_READERS: dict[str, str] = {
    "FORWARDED_ALLOW_IPS": "uvicorn: peers trusted for X-Forwarded-*",
    "PGSSLMODE": "asyncpg (libpq's variables): TLS to PostgreSQL",
    "PGSSLROOTCERT": "asyncpg (libpq's variables): the CA bundle for verify-full",
}

# Settings fields holding secrets: the development secrets of each class and the database URL
# (it carries the password).
SECRET_FIELDS = {
    "database_url",
    "internal_token_public_key",
    "internal_token_private_key",
    "kafka_sasl_password",
}
SECRET_DIRECT_READS = {"KAFKA_SASL_PASSWORD"}


@dataclass(frozen=True)
class Variable:
    """What a field or a direct read needs: any one of `names` set."""

    names: tuple[str, ...]
    secret: bool = False

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Process:
    kind: str  # service, gateway, migrate, migrate-wait, kafka-topics
    services: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(self.services)})" if self.services else self.kind


# --- what the code reads -------------------------------------------------------------------


def settings_variables(settings: type[BaseSettings]) -> list[Variable]:
    source = EnvSettingsSource(settings)
    prefix = settings.model_config.get("env_prefix", "").upper()
    variables = []
    for field_name, field in settings.model_fields.items():
        names = [env.upper() for _, env, _ in source._extract_field_info(field, field_name)]
        # A platform-wide alias first: that is the name the deployments use.
        ordered = sorted(dict.fromkeys(names), key=lambda name: name.startswith(prefix))
        variables.append(Variable(tuple(ordered), secret=field_name in SECRET_FIELDS))
    return variables


def _is_environ_read(node: ast.expr, aliases: set[str]) -> bool:
    text = ast.unparse(node)
    return text in {"os.environ.get", "os.getenv", "environ.get", "getenv"} or text in aliases


def direct_reads() -> dict[tuple[str, str], int]:
    """(file, argument as written) -> line, for every direct read of the environment."""
    found = {}
    files = [p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(ROOT).as_posix()
        aliases = {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and _is_environ_read(node.value, set())
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and _is_environ_read(node.func, aliases):
                found[(relative, ast.unparse(node.args[0]))] = node.lineno
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in {
                "os.environ",
                "environ",
            }:
                found[(relative, ast.unparse(node.slice))] = node.lineno
    return found


def expand(template: str, services: tuple[str, ...]) -> list[str]:
    if "<S>" not in template:
        return [template]
    return [template.replace("<S>", s.upper()) for s in services]


def process_variables(process: Process) -> list[Variable]:
    variables: list[Variable] = []
    if process.kind == "service":
        variables += settings_variables(SERVICE_SETTINGS[process.services[0]])
    elif process.kind == "gateway":
        variables += settings_variables(GatewaySettings)
    for template, kinds in DIRECT_READS.values():
        if process.kind in kinds:
            variables += [
                Variable(
                    (name,),
                    secret=name.endswith("_DATABASE_URL") or name in SECRET_DIRECT_READS,
                )
                for name in expand(template, process.services)
            ]
    return list(dict.fromkeys(variables))


def all_processes() -> list[Process]:
    return [
        *(Process("service", (s,)) for s in SERVICES),
        Process("gateway"),
        Process("migrate", SERVICES),
        Process("migrate-wait", SERVICES),
        Process("kafka-topics"),
    ]


@cache
def every_variable_name() -> frozenset[str]:
    return frozenset(n for p in all_processes() for v in process_variables(p) for n in v.names)


# --- which process a container runs --------------------------------------------------------


@cache
def image_command() -> tuple[str, ...]:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    assert cmd, "the Dockerfile has no CMD in exec form"
    return tuple(yaml.safe_load(cmd.group(1)))


def process_of(command: list[str] | tuple[str, ...] | None) -> Process:
    command = tuple(command or image_command())
    app = next((a for a in command if a.endswith("main:app")), None)
    if app == "gateway.main:app":
        return Process("gateway")
    if app and app.startswith("services."):
        return Process("service", (app.split(".")[1],))
    script = next((a for a in command if a.endswith(".py")), "")
    if script.endswith("migrate.py"):
        named = tuple(a for a in command if a in SERVICES)
        kind = "migrate-wait" if "--wait" in command else "migrate"
        return Process(kind, named or SERVICES)
    if script.endswith("kafka_topics.py"):
        return Process("kafka-topics")
    raise AssertionError(f"no known process runs {' '.join(command)}")


# --- the deployment files ------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def load_k8s() -> list[dict[str, Any]]:
    return [
        document
        for path in sorted(K8S_DIR.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document is not None
    ]


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


def compose_problems(compose: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in compose["services"].items():
        if "build" not in service:  # not the application image (postgres, kafka, keycloak)
            continue
        process = process_of(service.get("command"))
        environment = compose_environment(service)
        for variable in process_variables(process):
            if variable.name in NOT_DEPLOYED:
                continue
            plain = [n for n in variable.names if n in environment]
            files = [n for n in variable.names if f"{n}_FILE" in environment]
            if variable.secret and plain:
                problems.append(f"{name} ({process}): secret {plain[0]} set in plain text")
            elif variable.secret and files:
                value = environment[f"{files[0]}_FILE"]
                if not value.startswith("/run/secrets/"):
                    problems.append(f"{name} ({process}): {files[0]}_FILE is not a secret file")
            elif not plain and not files:
                problems.append(f"{name} ({process}): {variable.name} is not set")
    return problems


def configmap_data(documents: list[dict[str, Any]]) -> dict[str, str]:
    (configmap,) = [
        d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == CONFIGMAP
    ]
    return configmap["data"]


def secret_keys() -> set[tuple[str, str]]:
    template = yaml.safe_load_all((K8S_DIR / "secrets.template.yaml").read_text(encoding="utf-8"))
    return {
        (d["metadata"]["name"], key)
        for d in template
        if d is not None
        for key in {**d.get("stringData", {}), **d.get("data", {})}
    }


def k8s_problems(documents: list[dict[str, Any]]) -> list[str]:
    problems = []
    configmap = configmap_data(documents)
    secrets = secret_keys()
    for document in documents:
        if document["kind"] not in ("Deployment", "Job"):
            continue
        pod = document["spec"]["template"]["spec"]
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            if container["image"] != "sp-platform":  # not the application image (kafka-acls)
                continue
            where = f"{document['kind']}/{document['metadata']['name']} {container['name']}"
            process = process_of([*container.get("command", []), *container.get("args", [])])
            from_configmap = any(
                ref.get("configMapRef", {}).get("name") == CONFIGMAP
                for ref in container.get("envFrom", [])
            )
            available = dict.fromkeys(configmap, "configmap") if from_configmap else {}
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    available[entry["name"]] = "secret"
                    if (ref["name"], ref["key"]) not in secrets:
                        problems.append(
                            f"{where}: {entry['name']} refers to {ref['name']}/{ref['key']}, "
                            "which secrets.template.yaml does not define"
                        )
                else:
                    available[entry["name"]] = "value"
            for variable in process_variables(process):
                if variable.name in NOT_DEPLOYED:
                    continue
                sources = [available[n] for n in variable.names if n in available]
                if not sources:
                    problems.append(f"{where} ({process}): {variable.name} is not set")
                elif variable.secret and sources[0] != "secret":
                    problems.append(
                        f"{where} ({process}): secret {variable.name} is not from a Secret"
                    )
    return problems


def documented(markdown: str) -> set[str]:
    names = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", markdown))
    prefixes = {
        "<P>": [s.upper() for s in SERVICES],
        "<S>": [s.upper() for s in SERVICES],
        "<PREFIX>": [*(s.upper() for s in SERVICES), "GATEWAY"],
    }
    for placeholder, expansions in prefixes.items():
        for rest in re.findall(re.escape(placeholder) + r"(_[A-Z0-9_]+)", markdown):
            names |= {f"{prefix}{rest}" for prefix in expansions}
    return names


def undocumented(markdown: str, *, deployed: bool) -> list[str]:
    names = documented(markdown)
    missing = []
    for process in all_processes():
        for variable in process_variables(process):
            if (variable.name in NOT_DEPLOYED) == deployed:
                continue
            if not names & set(variable.names):
                missing.append(variable.name)
    return sorted(set(missing))


def unknown_names(names: set[str]) -> list[str]:
    read = every_variable_name()
    return sorted(n for n in names if n not in read and n not in OTHER_READERS)


# --- the tests -----------------------------------------------------------------------------


def test_the_settings_classes_are_the_ones_checked():
    declaring = {
        p.relative_to(ROOT).as_posix()
        for top in SCANNED
        for p in (ROOT / top).rglob("*.py")
        if re.search(r"\b(BaseSettings|SettingsConfigDict)\(|\(\w*Settings\):", p.read_text())
    }
    assert declaring == SETTINGS_FILES


def test_every_direct_read_of_the_environment_is_placed():
    found = direct_reads()
    unplaced = {
        f"{file}:{line} reads {arg}"
        for (file, arg), line in found.items()
        if (file, arg) not in DIRECT_READS
    }
    assert not unplaced, "add these to DIRECT_READS:\n" + "\n".join(sorted(unplaced))
    assert set(DIRECT_READS) <= set(found), "DIRECT_READS lists reads the code no longer has"


def test_compose_sets_every_variable_each_process_reads():
    problems = compose_problems(load_compose())
    assert not problems, "docker-compose.yml:\n" + "\n".join(problems)


def test_kubernetes_gives_every_container_the_variables_its_process_reads():
    problems = k8s_problems(load_k8s())
    assert not problems, "deploy/k8s:\n" + "\n".join(problems)


def test_deploy_readme_documents_every_deployed_variable():
    missing = undocumented((ROOT / "deploy" / "README.md").read_text(), deployed=True)
    assert not missing, f"deploy/README.md does not mention {missing}"


def test_readme_documents_the_variables_the_deployments_leave_out():
    missing = undocumented((ROOT / "README.md").read_text(), deployed=False)
    assert not missing, f"README.md does not mention {missing}"


def test_every_variable_the_deployments_set_is_read():
    compose = load_compose()
    in_compose = {
        name.removesuffix("_FILE")
        for service in compose["services"].values()
        if "build" in service
        for name in compose_environment(service)
    }
    in_configmap = set(configmap_data(load_k8s()))
    assert unknown_names(in_compose) == [], "docker-compose.yml sets what nothing reads"
    assert unknown_names(in_configmap) == [], "configmap.yaml sets what nothing reads"


# --- the checks catch what they are for --------------------------------------------------


def test_a_variable_missing_from_compose_is_reported():
    compose = copy.deepcopy(load_compose())
    del compose["services"]["registry"]["environment"]["REGISTRY_DATABASE_POOL_SIZE"]
    compose["services"]["gateway"]["environment"]["GATEWAY_INTERNAL_TOKEN_PRIVATE_KEY"] = "pem"
    del compose["services"]["kafka-topics"]["environment"]["KAFKA_TOPIC_MIN_INSYNC_REPLICAS"]
    assert compose_problems(compose) == [
        "kafka-topics (kafka-topics): KAFKA_TOPIC_MIN_INSYNC_REPLICAS is not set",
        "registry (service(registry)): REGISTRY_DATABASE_POOL_SIZE is not set",
        "gateway (gateway): secret GATEWAY_INTERNAL_TOKEN_PRIVATE_KEY set in plain text",
    ]


def test_a_variable_missing_from_kubernetes_is_reported():
    documents = copy.deepcopy(load_k8s())
    del configmap_data(documents)["GRIEVANCE_SLA_BATCH_SIZE"]
    (registry,) = [
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "registry"
    ]
    env = registry["spec"]["template"]["spec"]["containers"][0]["env"]
    env[0]["valueFrom"]["secretKeyRef"]["key"] = "uri"
    assert k8s_problems(documents) == [
        "Deployment/grievance grievance (service(grievance)): GRIEVANCE_SLA_BATCH_SIZE is not set",
        "Deployment/registry registry: REGISTRY_DATABASE_URL refers to sp-registry-database/uri, "
        "which secrets.template.yaml does not define",
    ]


def test_an_undocumented_or_misspelt_variable_is_reported():
    readme = (ROOT / "deploy" / "README.md").read_text()
    assert undocumented(readme.replace("GRIEVANCE_SLA_", "GRIEVANCE_SL_"), deployed=True) == [
        "GRIEVANCE_SLA_BATCH_SIZE",
        "GRIEVANCE_SLA_INTERVAL_SECONDS",
        "GRIEVANCE_SLA_SCHEDULER_ENABLED",
    ]
    assert unknown_names({"REGISTRY_LOG_LEVLE", "REGISTRY_LOG_LEVEL"}) == ["REGISTRY_LOG_LEVLE"]


@pytest.mark.parametrize(
    ("command", "process"),
    [
        (None, Process("gateway")),
        (["uvicorn", "services.isaf.main:app", "--port", "8000"], Process("service", ("isaf",))),
        (["python", "/app/deploy/migrate.py"], Process("migrate", SERVICES)),
        (
            ["python", "/app/deploy/migrate.py", "--wait", "budget"],
            Process("migrate-wait", ("budget",)),
        ),
        (["python", "/app/deploy/kafka_topics.py", "create"], Process("kafka-topics")),
    ],
)
def test_processes_are_recognised_by_their_command(command, process):
    assert process_of(command) == process
