"""The platform library shared by every service and the gateway.

It holds what all processes need the same way: settings, database sessions, the
transactional outbox and event envelope, the consumer runner, principals and
jurisdiction, the gazetteer, HTTP conventions (problems, idempotency, pagination,
ETags) and observability. It imports no service.
"""
