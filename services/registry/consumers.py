"""Every event consumer of the registry service; `main.py` starts them all (and
`deploy/kafka_acls.py` grants each the topics it reads)."""

from services.registry.cases.consumer import grievance_outcomes
from services.registry.dci.consumer import consumer as dci_notify

CONSUMERS = [dci_notify, grievance_outcomes]
