"""The deployment files (infra/docker, infra/compose, infra/k8s, docs/deploy.md), checked without
Docker or a cluster: against the Compose Specification and Kubernetes schemas, and against the
product itself (its settings, its CLI, its task queues, its API routes)."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from dotenv import dotenv_values
from typer.testing import CliRunner

from hrops.cli import app as cli
from hrops.settings import Settings
from workflows import task_queues

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "infra" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "infra" / "compose" / "docker-compose.yml"
ENV_EXAMPLE = REPO / "infra" / "compose" / ".env.example"
K8S = REPO / "infra" / "k8s"
DEPLOY_DOC = REPO / "docs" / "deploy.md"
SCHEMAS = Path(__file__).resolve().parent / "schemas"

# The oldest Kubernetes the manifests claim (docs/deploy.md) and the newest schemas installed.
K8S_VERSIONS = ("1.29", kubernetes_validate.latest_version())

HROPS_NAME = re.compile(r"\bHROPS_[A-Z0-9_]+\b")
LEGACY_LOGIN = re.compile(r"^HROPS_LEGACY_(?P<system>[A-Z0-9_]+)_(?:USERNAME|PASSWORD)$")


# -- loading ------------------------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


@cache
def manifests() -> list[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object in infra/k8s (kustomization files are not objects)."""
    out = []
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def objects(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in objects("Deployment") + objects("Job"):
        yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, spec in pod_specs():
        for c in spec.get("initContainers", []) + spec["containers"]:
            yield f"{name}/{c['name']}", c


def deployment(name: str) -> dict[str, Any]:
    found = [d for d in objects("Deployment") if d["metadata"]["name"] == name]
    assert found, f"no Deployment {name} in infra/k8s"
    return found[0]


def hrops_services() -> dict[str, dict[str, Any]]:
    """Compose services that run the product's image."""
    return {n: s for n, s in services().items() if "build" in s}


# -- settings -----------------------------------------------------------------------------------


def is_setting(name: str) -> bool:
    """A real setting: a field of hrops.settings.Settings under its env prefix, or a legacy
    system's login (read by tools/legacy/credentials.py, one pair per shipped system)."""
    from tools.legacy import catalog

    prefix = Settings.model_config["env_prefix"]
    if name.startswith(prefix) and name.removeprefix(prefix).lower() in Settings.model_fields:
        return True
    login = LEGACY_LOGIN.match(name)
    return bool(login) and login["system"].lower() in catalog.systems()


def compose_env(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment", {})
    if isinstance(env, dict):
        return {k: None if v is None else str(v) for k, v in env.items()}
    return {e.split("=", 1)[0]: (e.split("=", 1)[1] if "=" in e else None) for e in env}


def env_example_names() -> set[str]:
    """Variables of .env.example, the commented-out optional ones included."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))


def dockerfile_env() -> dict[str, str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(pair.split("=", 1) for pair in shlex.split(line[4:])))
    return env


def configmap() -> dict[str, str]:
    (cm,) = objects("ConfigMap")
    return cm["data"]


def secret_keys() -> set[str]:
    (secret,) = objects("Secret")
    return set(secret["stringData"])


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


def test_every_hrops_variable_in_the_deployment_files_is_a_setting() -> None:
    used: dict[str, set[str]] = {}

    def note(names: set[str], where: str) -> None:
        for name in names:
            used.setdefault(name, set()).add(where)

    note(set(HROPS_NAME.findall(COMPOSE.read_text())), "docker-compose.yml")
    note(env_example_names(), ".env.example")
    note(set(dockerfile_env()), "Dockerfile")
    note(set(configmap()), "configmap.yaml")
    note(secret_keys(), "secret.example.yaml")
    for where, c in containers():
        note({e["name"] for e in c.get("env", [])}, where)
    for so in objects("ScaledObject"):
        for trigger in so["spec"]["triggers"]:
            note({v for k, v in trigger["metadata"].items() if k.endswith("FromEnv")}, "keda.yaml")
    note(
        set(HROPS_NAME.findall((K8S / "demo" / "kustomization.yaml").read_text())), "demo/kustomization.yaml"
    )

    hrops_names = {n: w for n, w in used.items() if n.startswith("HROPS_")}
    assert len(hrops_names) > 20  # the collection above found them
    unknown = {n: sorted(w) for n, w in hrops_names.items() if not is_setting(n)}
    assert not unknown, (
        f"not settings of hrops.settings.Settings (a typo, or a setting that is gone): {unknown}"
    )


def test_legacy_logins_in_the_environment_are_what_the_rpa_worker_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tools.legacy import credentials

    names = sorted(n for n in secret_keys() | env_example_names() if LEGACY_LOGIN.match(n))
    assert names, "the Secret template and .env.example carry a legacy login"
    for system in {LEGACY_LOGIN.match(n)["system"] for n in names}:
        monkeypatch.setenv(f"HROPS_LEGACY_{system}_USERNAME", "u-from-env")
        monkeypatch.setenv(f"HROPS_LEGACY_{system}_PASSWORD", "p-from-env")
        login = credentials.for_system(system.lower())
        assert (login.username, login.password.get_secret_value()) == ("u-from-env", "p-from-env")


def test_the_configured_values_are_accepted_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the ConfigMap (with and without the demo patch), .env.example and the image set must
    parse: a lower-case log level or a JSON typo would stop every pod at start."""
    demo = yaml.safe_load((K8S / "demo" / "kustomization.yaml").read_text())
    patched = dict(configmap())
    for p in demo["patches"]:
        for op in yaml.safe_load(p["patch"]):
            key = op["path"].removeprefix("/data/")
            assert op["op"] == "replace" and key in patched, f"demo patch of a missing key {op['path']}"
            patched[key] = op["value"]
    example = {k: v for k, v in dotenv_values(ENV_EXAMPLE).items() if k.startswith("HROPS_") and v}
    for source in (configmap(), patched, example, dockerfile_env()):
        with monkeypatch.context() as m:
            settings_from(source, m)
    with monkeypatch.context() as m:
        demo_settings = settings_from(patched, m)
    assert demo_settings.legacy_urls == {"classic_hris": "http://legacy-sim:8765"}
    assert demo_settings.legacy_sync == ["classic_hris"]


def test_every_setting_in_the_env_example_reaches_the_containers() -> None:
    passed = set(compose_env(services()["api"]))
    missing = sorted(n for n in env_example_names() if n.startswith("HROPS_") and n not in passed)
    assert not missing, f".env.example sets these but docker-compose.yml does not pass them on: {missing}"
    for name, svc in hrops_services().items():
        if name != "legacy-sim":
            assert compose_env(svc) == compose_env(services()["api"]), (
                f"{name} has other settings than the api"
            )


def test_every_compose_variable_is_explained_in_the_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    assert {"STORE_DB_PASSWORD", "HROPS_SECRET_KEY"} <= used
    assert not sorted(used - env_example_names()), "add these to infra/compose/.env.example"


def test_every_setting_the_deploy_guide_names_exists() -> None:
    names = set(HROPS_NAME.findall(DEPLOY_DOC.read_text()))
    assert len(names) > 10
    assert not sorted(n for n in names if not is_setting(n) and not n.endswith("_"))


# -- compose ------------------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert not errors, "\n".join(errors)
    # The schema is the real one: it refuses what Compose refuses.
    broken = json.loads(json.dumps(compose()))
    broken["services"]["api"]["helthcheck"] = {}
    assert not validator.is_valid(broken)


def test_compose_services_are_health_checked_and_started_in_order() -> None:
    one_shot = {n for n, s in services().items() if s.get("restart") == "no"}
    assert one_shot == {"temporal-schema", "migrate", "temporal-setup"}
    for name, svc in services().items():
        if name not in one_shot:
            assert "healthcheck" in svc, f"{name} has no health check"
        for dep, how in svc.get("depends_on", {}).items():
            assert dep in services(), f"{name} depends on a service that does not exist: {dep}"
            wanted = "service_completed_successfully" if dep in one_shot else "service_healthy"
            assert how["condition"] == wanted, f"{name} waits for {dep} with {how['condition']}"
    for name in ("api", "worker-main", "worker-rpa"):
        assert set(services()[name]["depends_on"]) == {"migrate", "temporal-setup"}
    assert set(services()["temporal"]["depends_on"]) == {"temporal-schema"}
    declared = set(compose()["volumes"])
    for name, svc in services().items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in declared, f"{name}: undeclared volume {source}"
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name} mounts a missing file {source}"


def test_compose_pins_temporal_and_uses_one_postgres_for_both() -> None:
    images = {n: s.get("image", "") for n, s in services().items()}
    for name in ("temporal", "temporal-schema", "temporal-ui"):
        assert re.fullmatch(r"temporalio/[a-z-]+:\d+\.\d+\.\d+", images[name]), f"{name}: pin a version"
    assert images["temporal"].split(":")[1] == images["temporal-schema"].split(":")[1]
    postgres = [n for n, image in images.items() if image.startswith("postgres:")]
    assert postgres == ["postgres"]
    store = compose_env(services()["api"])["HROPS_DATABASE_URL"]
    assert store.startswith("postgresql+psycopg://") and "@postgres:5432/hrops" in store
    assert services()["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert "temporal_visibility" in (COMPOSE.parent / "temporal" / "setup-schema.sh").read_text()
    assert compose_env(services()["api"])["HROPS_TEMPORAL_ADDRESS"] == "temporal:7233"


def test_compose_runs_replicated_main_workers_and_the_rpa_worker_with_room_for_chromium() -> None:
    main, rpa = services()["worker-main"], services()["worker-rpa"]
    assert "replicas" in main["deploy"]
    assert rpa["shm_size"] and rpa["init"] is True


# -- the CLI the files call -----------------------------------------------------------------------


def hrops_commands() -> list[tuple[str, list[str]]]:
    """Every `hrops ...` command line in compose and the manifests, with where it is used."""
    out = []
    for name, svc in hrops_services().items():
        out.append((f"compose {name}", list(svc["command"])))
        test = svc.get("healthcheck", {}).get("test", [])
        if test[1:2] == ["hrops"]:
            out.append((f"compose {name} healthcheck", test[2:]))
    for where, c in containers():
        out.append((f"k8s {where}", list(c["args"])))
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            command = c.get(probe, {}).get("exec", {}).get("command", [])
            if command[:1] == ["hrops"]:
                out.append((f"k8s {where} {probe}", command[1:]))
    return out


def test_every_hrops_command_in_the_deployment_files_exists() -> None:
    commands = hrops_commands()
    assert len(commands) > 10
    runner = CliRunner()
    for where, args in commands:
        # --help after the arguments: an unknown command or option still fails, nothing runs.
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, f"{where}: `hrops {' '.join(args)}` is not a command:\n{result.output}"
        words = [a for a in args if not a.startswith("-")][:2]
        assert f"Usage: hrops {words[0]}" in result.output


def test_the_image_runs_the_hrops_cli_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M) and set(bases) == {"${PYTHON_IMAGE}"}
    assert re.search(r'^ENTRYPOINT \["hrops"\]$', text, re.M)
    (user,) = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert user.split(":")[0] not in {"0", "root"}
    k8s_users = {spec["securityContext"]["runAsUser"] for _, spec in pod_specs()}
    assert k8s_users == {int(user.split(":")[0])}, "the manifests run as the image's user"
    extras = re.findall(r'pip install "\.\[([a-z,]+)\]"', text)
    assert extras == ["postgres"]
    assert "postgres" in _pyproject()["project"]["optional-dependencies"]
    assert re.search(r"apt-get install .*\bchromium-headless-shell\b", text)
    assert dockerfile_env()["HROPS_BROWSER_PATH"] == "/usr/bin/chromium-headless-shell"


def _pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _in_context(path: str) -> bool:
    """Whether .dockerignore lets `path` into the build context (last matching pattern wins)."""
    included = True
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.removeprefix("**/")) for p in prefixes
        ):
            included = negate
    return included


def test_the_image_gets_every_source_file_the_package_ships_and_no_local_state() -> None:
    copied = re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", DOCKERFILE.read_text(), re.M)
    sources = [s for line in copied for s in line.split()]
    for source in sources:
        assert (REPO / source).exists(), f"the Dockerfile copies {source}, which does not exist"
        assert _in_context(source), f".dockerignore keeps {source} out of the build context"
    packages = [p.rstrip("*") for p in _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]]
    tracked = subprocess.run(
        ["git", "ls-files", "--", *packages], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = [f for f in tracked if f.endswith(".py")]
    assert len(shipped) > 100
    missing = [f for f in shipped if not any(f == s or f.startswith(s.rstrip("/") + "/") for s in sources)]
    assert not missing, f"the image would lack these modules (add a COPY): {missing[:10]}"
    for local in (".env", "var/hrops.db", ".venv/bin/python", ".git/config", "tests/conftest.py"):
        assert not _in_context(local), f".dockerignore lets {local} into the image's build context"


# -- Kubernetes ---------------------------------------------------------------------------------


def test_k8s_manifests_match_the_kubernetes_schemas() -> None:
    checked = 0
    for path, doc in manifests():
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a custom resource: test_keda_scaled_objects
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                where = "/".join(map(str, e.path))
                pytest.fail(
                    f"{path.relative_to(REPO)} {doc['kind']}/{doc['metadata']['name']} {where}: {e.message}"
                )
        checked += 1
    kinds = {doc["kind"] for _, doc in manifests()}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Job"} <= kinds and checked > 10


# What KEDA's temporal scaler reads from a trigger (pkg/scalers/temporal_scaler.go, KEDA 2.19+):
# every value is a string; the address and the queue are required. Fields read in the order
# `triggerMetadata;resolvedEnv` may instead name an environment variable of the target container
# (`<field>FromEnv`, KEDA's typed_config.go).
KEDA_TEMPORAL_FIELDS = [
    "activationTargetQueueSize",
    "targetQueueSize",
    "queueTypes",
    "selectAllActive",
    "selectUnversioned",
    "minConnectTimeout",
    "unsafeSsl",
    "tlsServerName",
]
KEDA_TEMPORAL_ENV_FIELDS = [
    "endpoint",
    "namespace",
    "taskQueue",
    "buildId",
    "workerDeploymentName",
    "workerDeploymentBuildId",
]
SCALED_OBJECT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers", "minReplicaCount", "maxReplicaCount"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "kind": {"const": "Deployment"}},
                },
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "temporal"},
                            "metadata": {
                                "type": "object",
                                "additionalProperties": False,
                                "patternProperties": {
                                    **{f"^{f}$": {"type": "string"} for f in KEDA_TEMPORAL_FIELDS},
                                    **{
                                        f"^{f}(FromEnv)?$": {"type": "string"}
                                        for f in KEDA_TEMPORAL_ENV_FIELDS
                                    },
                                },
                                "allOf": [
                                    {
                                        "anyOf": [
                                            {"required": ["endpoint"]},
                                            {"required": ["endpointFromEnv"]},
                                        ]
                                    },
                                    {
                                        "anyOf": [
                                            {"required": ["taskQueue"]},
                                            {"required": ["taskQueueFromEnv"]},
                                        ]
                                    },
                                ],
                                "properties": {
                                    "queueTypes": {
                                        "pattern": "^(workflow|activity|nexus)(,(workflow|activity|nexus))*$"
                                    }
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_keda_scaled_objects() -> None:
    scaled = objects("ScaledObject")
    assert scaled
    for so in scaled:
        jsonschema.validate(so, SCALED_OBJECT)
        spec = so["spec"]
        assert spec["minReplicaCount"] <= spec["maxReplicaCount"]
        target = deployment(spec["scaleTargetRef"]["name"])
        assert "replicas" not in target["spec"], "KEDA owns the replica count: drop `replicas`"
        # *FromEnv reads the target container's environment: it must be there.
        (container,) = target["spec"]["template"]["spec"]["containers"]
        env = {e["name"] for e in container.get("env", [])}
        if any(ref.get("configMapRef", {}).get("name") == "hrops-config" for ref in container["envFrom"]):
            env |= set(configmap())
        for trigger in spec["triggers"]:
            for key, value in trigger["metadata"].items():
                if key.endswith("FromEnv"):
                    assert value in env, f"{so['metadata']['name']}: {key} names {value}, unset in the worker"


def test_every_task_queue_has_a_worker_deployment_a_scaler_and_a_compose_service() -> None:
    by_queue = {
        trigger["metadata"]["taskQueue"]: so
        for so in objects("ScaledObject")
        for trigger in so["spec"]["triggers"]
    }
    compose_queues = {tuple(s["command"][:3]) for s in hrops_services().values()}
    for queue in task_queues.ALL:
        workers = [
            d
            for d in objects("Deployment")
            if d["spec"]["template"]["spec"]["containers"][0]["args"][:3] == ["worker", "--queue", queue]
        ]
        assert len(workers) == 1, f"one worker Deployment for {queue}"
        (worker,) = workers
        probe = worker["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]
        assert probe[-2:] == ["--queue", queue], f"{queue}'s workers are probed for another queue"
        assert queue in by_queue, f"no ScaledObject scales on {queue}"
        assert by_queue[queue]["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
        assert ("worker", "--queue", queue) in compose_queues, f"no compose service serves {queue}"
    # Every worker serves its SDK metrics (docs/operations.md) on an interface a scraper reaches.
    for d in objects("Deployment"):
        args = d["spec"]["template"]["spec"]["containers"][0]["args"]
        if args[0] == "worker":
            assert "--metrics-port" in args, f"{d['metadata']['name']} serves no metrics"
    rpa_types = next(t for t in by_queue[task_queues.RPA]["spec"]["triggers"])["metadata"]["queueTypes"]
    assert rpa_types == "activity", "the RPA queue has only activity tasks"


def get_paths(routes: list[Any], prefix: str = "") -> set[str]:
    """GET paths of an app, through included routers (FastAPI 0.165 includes them lazily)."""
    out = set()
    for route in routes:
        if (inner := getattr(route, "original_router", None)) is not None:
            out |= get_paths(inner.routes, prefix + route.include_context.prefix)
        elif "GET" in (getattr(route, "methods", None) or set()):
            out.add(prefix + route.path)
    return out


def test_health_checks_ask_paths_that_exist() -> None:
    from hrops.api.app import app
    from infra.legacy_hris import SimConfig, create_app

    api_routes = get_paths(app.routes)
    sim_routes = get_paths(create_app(SimConfig(db_path=Path("unused.db"))).routes)
    assert {"/healthz", "/readyz"} <= api_routes
    for name, routes in (("api", api_routes), ("legacy-sim", sim_routes)):
        test = " ".join(services()[name]["healthcheck"]["test"])
        paths = re.findall(r"http://127\.0\.0\.1:\d+(/[\w/]*)", test)
        assert paths and set(paths) <= routes, f"compose {name} checks {paths}"
        (container,) = deployment(name)["spec"]["template"]["spec"]["containers"]
        probed = {
            container[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe") if p in container
        }
        assert probed and probed <= routes, f"k8s {name} probes {probed}"
    api = deployment("api")["spec"]["template"]["spec"]["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_pods_are_locked_down_and_sized() -> None:
    for name, spec in pod_specs():
        # A Service named e.g. `hrops-api` would inject HROPS_API_PORT=tcp://... into every pod.
        assert spec["enableServiceLinks"] is False, f"{name}: set enableServiceLinks: false"
        sc = spec["securityContext"]
        assert sc["runAsNonRoot"] and sc["seccompProfile"]["type"] == "RuntimeDefault", name
    for where, c in containers():
        assert c["image"] == "hrops", f"{where}: the kustomization's `images` rewrites `hrops` only"
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where
        assert "memory" in c["resources"]["limits"], where
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert [i["name"] for i in kustomization["images"]] == ["hrops"]


def test_pods_reference_config_storage_and_secrets_that_are_defined() -> None:
    claims = {o["metadata"]["name"] for o in objects("PersistentVolumeClaim")}
    (secret,) = objects("Secret")
    (cm,) = objects("ConfigMap")
    for where, c in containers():
        for ref in c.get("envFrom", []):
            if "secretRef" in ref:
                assert ref["secretRef"]["name"] == secret["metadata"]["name"], where
            else:
                assert ref["configMapRef"]["name"] == cm["metadata"]["name"], where
    shared = set()
    for name, spec in pod_specs():
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
                shared.add(name)
    # Workers write evidence and reports that the API shows: one volume for the three.
    assert {"api", "worker-main", "worker-rpa"} <= shared
    (pvc,) = objects("PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_kustomizations_list_existing_files_and_leave_out_only_the_secret_template() -> None:
    listed = set()
    for k in K8S.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(k.read_text())["resources"]:
            path = (k.parent / resource).resolve()
            assert path.exists(), f"{k.relative_to(REPO)} lists {resource}, which does not exist"
            listed.add(path)
    unlisted = {
        p.relative_to(K8S).as_posix()
        for p in K8S.rglob("*.yaml")
        if p.name != "kustomization.yaml" and p.resolve() not in listed
    }
    assert unlisted == {"secret.example.yaml"}
    namespaces = {doc["metadata"].get("namespace") for _, doc in manifests() if doc["kind"] != "Namespace"}
    assert namespaces == {objects("Namespace")[0]["metadata"]["name"]}
