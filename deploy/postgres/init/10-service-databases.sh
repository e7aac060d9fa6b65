#!/bin/bash
# One database and one login role per service, each role owning its database and nothing
# else: a service cannot read another service's data, even by mistake.
#
# The postgres image runs this once, when it initialises an empty data volume (not on later
# starts: to change a password afterwards, use ALTER ROLE). Passwords come from the compose
# secrets `<service>-db-password`; the same passwords are inside the `<service>-database-url`
# secrets the services read (deploy/generate-secrets.sh writes both).
#
# docker-entrypoint.sh executes this file when it is executable and sources it otherwise, so
# it sets no shell options and ends with `return || exit`, which stops the initialisation on
# failure either way.

sp_create_service_databases() {
    local secrets_dir="${SP_SECRETS_DIR:-/run/secrets}" service password_file
    for service in registry grievance isaf budget; do
        password_file="$secrets_dir/$service-db-password"
        if [ ! -s "$password_file" ]; then
            echo "init: $password_file is missing or empty" >&2
            return 1
        fi
        echo "init: creating role and database $service"
        # psql variables quote the values (:"name" as an identifier, :'text' as a literal),
        # so a password is never pasted into SQL text.
        psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" \
            --dbname postgres --set=service="$service" \
            --set=password="$(cat "$password_file")" <<'SQL' || return 1
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"service" TO :"service";
SQL
    done
}

if ! sp_create_service_databases; then
    echo "init: creating the service databases failed" >&2
    return 1 2>/dev/null || exit 1
fi
unset -f sp_create_service_databases
