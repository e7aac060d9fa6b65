"""Every Kafka client of a process logs in the one way its settings say, and a service outside
development and test refuses to start without SASL_SSL (issue: the broker accepted anyone's
events). The local broker cannot run SCRAM (see shared/kafka_security.py), so these check the
options each client is built with; the deployment's ACLs are checked in
tests/deploy/test_kafka_acls.py."""

from __future__ import annotations

import ast
import ssl

import pytest
from pydantic import ValidationError

from services.registry.config import Settings as RegistrySettings
from shared import kafka_security
from shared.kafka import new_producer
from shared.kafka_security import KafkaSecurity
from tests.harness import ROOT

SASL = KafkaSecurity(
    protocol="SASL_SSL", username="sp-registry", password="s3cret-of-registry", cafile=""
)
# Any key that is not the repository's development key (which production refuses).
PRODUCTION_KEY = "-----BEGIN PUBLIC KEY-----\nnot-the-development-key\n-----END PUBLIC KEY-----\n"


@pytest.fixture
def sasl_process():
    previous = kafka_security.current()
    kafka_security.use(SASL)
    yield
    kafka_security.use(previous)


def test_the_local_default_is_plaintext_with_nothing_else():
    assert KafkaSecurity().client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_logs_in_with_scram_over_tls_that_checks_the_broker():
    options = SASL.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "sp-registry"
    assert options["sasl_plain_password"] == "s3cret-of-registry"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"protocol": "SASL_SSL", "username": "sp-registry"}, "KAFKA_SASL_PASSWORD"),
        ({"protocol": "SASL_SSL", "password": "x"}, "KAFKA_SASL_USERNAME"),
        (
            {"protocol": "SASL_PLAINTEXT", "mechanism": "PLAIN", "username": "u", "password": "p"},
            "only with SASL_SSL",
        ),
    ],
)
def test_settings_that_do_not_fit_together_are_refused(settings, message):
    with pytest.raises(ValidationError, match=message):
        KafkaSecurity(**settings)


def test_the_password_never_shows_in_the_settings_repr():
    assert "s3cret-of-registry" not in repr(SASL)


async def test_a_producer_the_platform_builds_logs_in_as_configured(sasl_process):
    producer = new_producer("127.0.0.1:9")
    client = producer.client
    assert client._security_protocol == "SASL_SSL"
    assert client._sasl_mechanism == "SCRAM-SHA-512"
    assert client._sasl_plain_username == "sp-registry"
    assert isinstance(client._ssl_context, ssl.SSLContext)


KAFKA_CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "AIOKafkaClient"}


def test_no_kafka_client_is_built_without_the_process_login():
    """Every construction of an aiokafka client in the platform's code takes the login
    (`**client_options()`, or the topics job's `**security_options()`): a client added later
    without it would connect to a production broker unauthenticated and fail, or to an open
    one."""
    missing, seen = [], 0
    for top in ("shared", "services", "gateway", "deploy"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and ast.unparse(node.func) in KAFKA_CLIENTS):
                    continue
                seen += 1
                spread = [ast.unparse(k.value) for k in node.keywords if k.arg is None]
                if not {"client_options()", "security_options()"} & set(spread):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert seen >= 4, "the scan found no client constructions"
    assert missing == []


def test_a_production_service_refuses_to_start_on_an_open_broker():
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
        RegistrySettings(environment="production", internal_token_public_key=PRODUCTION_KEY)


def test_a_production_service_starts_with_its_scram_user_over_tls():
    settings = RegistrySettings(
        environment="production",
        internal_token_public_key=PRODUCTION_KEY,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="sp-registry",
        kafka_sasl_password="s3cret-of-registry",
    )
    assert settings.kafka_security().client_options()["sasl_plain_username"] == "sp-registry"


def test_development_keeps_the_local_plaintext_broker():
    assert RegistrySettings(environment="development").kafka_security().protocol == "PLAINTEXT"
