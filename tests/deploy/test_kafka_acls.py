"""The broker authentication and ACLs the deployments ship (issue: the broker accepted
anyone's events, and a forged household.updated moved a household between provinces).

The ACLs are computed from the code (deploy/kafka_acls.py) and committed as
deploy/k8s/kafka-acls.sh, which both deployments apply; these tests hold the plan to the rule
"each service writes only its own topics" and the deployments to using it."""

from __future__ import annotations

import yaml

from deploy.kafka_acls import Binding, consumers_of, plan, script, user_of, users
from shared.consumer import dead_letter_topic
from shared.events.catalog import platform_catalog
from shared.platform import SERVICES
from tests.harness import ROOT

SCRIPT = ROOT / "deploy" / "k8s" / "kafka-acls.sh"


def writes(bindings: list[Binding], user: str) -> set[str]:
    return {b.name for b in bindings if b.user == user and b.operation == "Write"}


def test_the_committed_script_is_the_one_the_code_gives():
    assert SCRIPT.read_text() == script(plan()), "stale: run `make kafka-acls`"


def test_a_service_writes_only_its_own_topics_and_its_own_dead_letters():
    bindings = plan()
    for service in SERVICES:
        own = {t for t in platform_catalog().topics() if t.startswith(f"sp.{service}.")}
        dead_letters = {
            dead_letter_topic(topic, consumer.group)
            for consumer in consumers_of(service)
            for topic in consumer.topics
        }
        assert writes(bindings, user_of(service)) == own | dead_letters, service


def test_the_forged_event_of_the_attack_has_no_writer_but_the_registry():
    """household.updated lives on sp.registry.household: only sp-registry may write there."""
    writers = {
        b.user for b in plan() if b.name == "sp.registry.household" and b.operation == "Write"
    }
    assert writers == {"sp-registry"}


def test_each_consumer_reads_what_it_declares_in_its_own_group_and_nothing_else():
    bindings = plan()
    for service in SERVICES:
        user = user_of(service)
        consumers = consumers_of(service)
        declared = {t for c in consumers for t in c.topics}
        dead_letters = {dead_letter_topic(t, c.group) for c in consumers for t in c.topics}
        reads = {b.name for b in bindings if b.user == user and b.operation == "Read"}
        assert reads == declared | dead_letters | {c.group for c in consumers}, service
    grievance_groups = {
        b.name for b in bindings if b.user == "sp-grievance" and b.resource == "group"
    }
    assert grievance_groups and all(g.startswith("grievance.") for g in grievance_groups)


def test_bindings_are_literal_and_every_user_gets_a_credential():
    text = SCRIPT.read_text()
    assert "--resource-pattern-type literal" in text and "prefixed" not in text
    for user in users():
        assert f"--entity-name {user} " in text
        assert f"kafka-{user}-password" in text


def test_compose_runs_the_broker_with_sasl_ssl_acls_and_the_script():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    broker = services["kafka"]["environment"]
    assert broker["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "StandardAuthorizer" in broker["KAFKA_AUTHORIZER_CLASS_NAME"]
    # The only listener on the network is SASL_SSL; the plaintext ones are on loopback.
    for listener in broker["KAFKA_LISTENERS"].split(","):
        name, _, address = listener.partition("://")
        assert name == "SASL_SSL" or address.startswith("127.0.0.1:"), listener
    acls = services["kafka-acls"]
    assert acls["network_mode"] == "service:kafka"
    assert any(v.startswith("./deploy/k8s/kafka-acls.sh:") for v in acls["volumes"])
    for service in SERVICES:
        environment = services[service]["environment"]
        assert environment["KAFKA_SASL_USERNAME"] == user_of(service)
        assert (
            environment["KAFKA_SASL_PASSWORD_FILE"] == f"/run/secrets/kafka-sp-{service}-password"
        )
    assert "kafka-acls" in services["kafka-topics"]["depends_on"]
    assert compose["x-service-env"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"


def test_kubernetes_ships_the_login_and_the_acl_job():
    documents = [
        d
        for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d
    ]
    configmap = next(d for d in documents if d["kind"] == "ConfigMap")
    assert configmap["data"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    job = next(d for d in documents if d["metadata"]["name"] == "sp-kafka-acls")
    assert job["kind"] == "Job"
    kustomization = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
    generated = kustomization["configMapGenerator"][0]
    assert generated["name"] == "sp-kafka-acls-script" and generated["files"] == ["kafka-acls.sh"]
    for service in SERVICES:
        deployment = next(
            d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == service
        )
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["KAFKA_SASL_USERNAME"]["value"] == user_of(service)
        assert (
            env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == f"sp-kafka-{service}"
        )
