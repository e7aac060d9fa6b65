"""The local stack: embedded PostgreSQL, the Tansu broker, the services and the gateway.

`make run` and the test fixtures use the same pieces, so what the tests exercise is what a
developer runs. Nothing here is used in production (see `deploy/` and docker-compose.yml).
"""
