# syntax=docker/dockerfile:1
#
# One image for the five processes of the platform; the command chooses which one runs:
#
#   (default)  uvicorn gateway.main:app ...                the gateway
#   uvicorn services.<name>.main:app --host 0.0.0.0 --port 8000 \
#       --http shared.http.server:OneWriteHttpToolsProtocol  registry, grievance, isaf, budget
#   python deploy/migrate.py [--wait] [SERVICE ...]        database migrations
#   python deploy/kafka_topics.py create ...               Kafka topics
#
# Build:  docker build -t sp-platform:0.1.0 .
# The entrypoint (deploy/entrypoint.sh) turns NAME_FILE variables into NAME, so secrets can be
# mounted as files. See deploy/README.md.

# Both stages must use the same base: the virtualenv links to its Python. Pin a digest
# (python:3.11-slim@sha256:...) for reproducible production builds.
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with the project and its runtime dependencies ----------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, from the lock alone, so a code change does not reinstall them.
# requirements/runtime.txt pins [project.dependencies] and setuptools with hashes, at the
# versions of requirements/lock.txt (`make lock` writes both): no `dev` or `local` extras (no
# embedded PostgreSQL, no Tansu broker, no test tools). Every dependency ships manylinux
# wheels, so no compiler is needed.
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --require-hashes -r /tmp/runtime.txt

# Then the project itself (a regular, non-editable install: the code, the Alembic migrations,
# alembic.ini files and data files all land in site-packages), built with the locked setuptools.
COPY . .
RUN pip install --no-deps --no-build-isolation . \
    && python -m compileall -q /opt/venv

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="sp-platform" \
      org.opencontainers.image.description="Cambodia social protection platform: registry, grievance, I-SAF and budget services and the API gateway" \
      org.opencontainers.image.licenses="Proprietary - Royal Government of Cambodia"

# PYTHONDONTWRITEBYTECODE: the root filesystem is read-only in Kubernetes; the bytecode was
# compiled at build time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# A fixed, unprivileged UID/GID (10001) that Kubernetes' runAsUser and file permissions on
# mounted secrets can refer to.
RUN groupadd --system --gid 10001 sp \
    && useradd --system --uid 10001 --gid sp --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin sp

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
COPY --chmod=0755 deploy/entrypoint.sh /app/deploy/entrypoint.sh
COPY --chmod=0644 deploy/migrate.py deploy/kafka_topics.py /app/deploy/

USER 10001:10001
EXPOSE 8000

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
# One worker process per container: scale with replicas, not with workers.
# The access log is off because the platform's middleware logs every request with its id.
# --no-proxy-headers: the gateway itself judges X-Forwarded-For (GATEWAY_TRUSTED_PROXIES).
# --http: uvicorn's httptools protocol writing each answer's head with its body (one write).
CMD ["uvicorn", "gateway.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers", \
     "--http", "shared.http.server:OneWriteHttpToolsProtocol", \
     "--no-access-log", "--no-server-header", "--timeout-graceful-shutdown", "20"]
