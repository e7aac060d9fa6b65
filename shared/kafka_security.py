"""How the platform's Kafka clients authenticate and encrypt: one place for every client.

Apache Kafka in production listens with SASL_SSL: each service logs in with its own SCRAM user
(`KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`, mechanism `KAFKA_SASL_MECHANISM`) over TLS
checked against the cluster's CA (`KAFKA_SSL_CAFILE`), and the broker's ACLs
(`deploy/kafka_acls.py`) let that user write only its own service's topics (and its own
dead-letter topics) and read only the topics its consumers declare. Outside development and
test a service refuses to start with anything weaker than SASL_SSL (see
`ServiceSettings._require_authenticated_broker`), so a forgotten variable cannot connect a
production service to an open broker.

The local broker of `make run` and the tests (Tansu, in memory) is PLAINTEXT: its
`--authentication` mode needs SCRAM users stored by the broker, which its memory storage cannot
create (`tansu user create` is itself refused as unauthenticated), so the local stack cannot
exercise SASL. What the tests prove instead: the options every client is built with
(`tests/shared/test_kafka_security.py`), the refusal of weaker settings in production, and
the ACL plan the deployment applies (`tests/deploy/test_kafka_acls.py`).

Every client (producer, consumer, admin, probe) takes `**client_options()`; the process sets
its security once at start-up with `use()` (the service app factory does, from its settings).
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
# OAUTHBEARER needs a token provider object, not settings: not offered until a deployment
# asks for it. PLAIN sends the password itself, so it is accepted only inside TLS.
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaSecurity(BaseModel):
    model_config = ConfigDict(frozen=True)

    protocol: Protocol = "PLAINTEXT"
    mechanism: Mechanism = "SCRAM-SHA-512"
    username: str = ""
    password: SecretStr = SecretStr("")
    cafile: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecurity:
        if self.protocol.startswith("SASL_"):
            if not self.username or not self.password.get_secret_value():
                raise ValueError(
                    f"KAFKA_SECURITY_PROTOCOL={self.protocol} needs KAFKA_SASL_USERNAME and "
                    "KAFKA_SASL_PASSWORD"
                )
            if self.mechanism == "PLAIN" and self.protocol != "SASL_SSL":
                raise ValueError(
                    "KAFKA_SASL_MECHANISM=PLAIN sends the password: only with SASL_SSL"
                )
        return self

    @property
    def authenticated(self) -> bool:
        return self.protocol == "SASL_SSL"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin, client)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = _ssl_context(self.cafile)
        if self.protocol.startswith("SASL_"):
            options |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password.get_secret_value(),
            }
        return options


@cache
def _ssl_context(cafile: str) -> ssl.SSLContext:
    """Verifies the brokers' certificates and host names: against the cluster's CA when one is
    given, else against the system's trust store."""
    context = ssl.create_default_context(cafile=cafile or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


_current = KafkaSecurity()


def use(security: KafkaSecurity) -> None:
    """Set the security every client of this process is built with from now on."""
    global _current
    _current = security


def current() -> KafkaSecurity:
    return _current


def client_options() -> dict[str, Any]:
    return _current.client_options()
