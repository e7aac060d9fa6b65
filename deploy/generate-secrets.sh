#!/usr/bin/env bash
# Writes the secrets docker-compose.yml reads into deploy/secrets/ (git-ignored), with openssl.
#
#   deploy/generate-secrets.sh
#
# A file that exists is kept, never overwritten: the database passwords are set in the
# PostgreSQL volume when it is first created, so changing them here afterwards would lock the
# services out. Delete a file (and, for passwords, the volume or the role) to make a new one.
# What each file is: deploy/secrets/README.md.
set -euo pipefail

dir="$(cd "$(dirname "$0")" && pwd)/secrets"
services=(registry grievance isaf budget)

mkdir -p "$dir"
# The folder keeps other users of this machine out; the files inside are world-readable because
# compose bind-mounts them as they are, and the containers read them as their own unprivileged
# users (postgres 999, keycloak 1000, the platform 10001), not as the owner of the files.
chmod 0700 "$dir"
umask 022

new() { # new NAME: true when deploy/secrets/NAME does not exist yet
    if [ -e "$dir/$1" ]; then
        echo "kept     deploy/secrets/$1"
        return 1
    fi
    echo "created  deploy/secrets/$1"
}

password() { # hex: safe inside a URL without escaping
    openssl rand -hex 24
}

if new postgres-password; then password > "$dir/postgres-password"; fi
if new keycloak-admin-password; then password > "$dir/keycloak-admin-password"; fi

for service in "${services[@]}"; do
    if new "$service-db-password"; then password > "$dir/$service-db-password"; fi
    # The URL the service and the migration job use: its own role, its own database.
    if new "$service-database-url"; then
        printf 'postgresql+asyncpg://%s:%s@postgres:5432/%s\n' \
            "$service" "$(cat "$dir/$service-db-password")" "$service" > "$dir/$service-database-url"
    fi
done

# The Ed25519 key pair of the internal principal token: the gateway signs with the private key,
# the services verify with the public key.
if new internal-token.key.pem; then
    openssl genpkey -algorithm ed25519 -out "$dir/internal-token.key.pem"
fi
if new internal-token.pub.pem; then
    openssl pkey -in "$dir/internal-token.key.pem" -pubout -out "$dir/internal-token.pub.pem"
fi

# Kafka: a password per SCRAM user (deploy/kafka_acls.py), a CA the clients trust and the
# broker's key and certificate for the name `kafka` (the clients check it), PEM as Kafka reads it
# (an unencrypted PKCS#8 key followed by the certificate).
for user in sp-admin "${services[@]/#/sp-}"; do
    if new "kafka-$user-password"; then password > "$dir/kafka-$user-password"; fi
done
if new kafka-ca.key.pem; then
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$dir/kafka-ca.key.pem"
fi
if new kafka-ca.pem; then
    openssl req -x509 -new -key "$dir/kafka-ca.key.pem" -sha256 -days 3650 \
        -subj "/CN=sp-platform kafka CA" -out "$dir/kafka-ca.pem"
fi
if new kafka-broker.pem; then
    work=$(mktemp -d)
    openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$work/key.pem"
    openssl req -new -key "$work/key.pem" -subj "/CN=kafka" -out "$work/csr.pem"
    printf 'subjectAltName=DNS:kafka\nextendedKeyUsage=serverAuth\n' > "$work/ext.cnf"
    openssl x509 -req -in "$work/csr.pem" -CA "$dir/kafka-ca.pem" -CAkey "$dir/kafka-ca.key.pem" \
        -CAcreateserial -days 825 -sha256 -extfile "$work/ext.cnf" -out "$work/cert.pem"
    openssl pkcs8 -topk8 -nocrypt -in "$work/key.pem" > "$dir/kafka-broker.pem"
    cat "$work/cert.pem" "$dir/kafka-ca.pem" >> "$dir/kafka-broker.pem"
    rm -rf "$work"
fi

chmod 0644 "$dir"/*
# The CA's key signs broker certificates only: not for any container.
chmod 0600 "$dir/kafka-ca.key.pem"
echo "done: docker compose up -d --build"
