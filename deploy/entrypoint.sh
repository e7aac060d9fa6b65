#!/bin/sh
# Entrypoint of the sp-platform image.
#
# The settings read secrets (database URLs, the PEM keys of the internal token) from
# environment variables, while Docker and Kubernetes hand secrets over as files. For every
# platform variable NAME_FILE in the environment, this exports NAME with the content of that
# file (trailing newlines dropped), unsets NAME_FILE, then runs the command:
#
#   REGISTRY_DATABASE_URL_FILE=/run/secrets/registry-database-url  ->  REGISTRY_DATABASE_URL
#
# Only the platform's prefixes are touched (REGISTRY_, GRIEVANCE_, ISAF_, BUDGET_, GATEWAY_,
# KAFKA_, SP_): other *_FILE variables, such as OpenSSL's SSL_CERT_FILE, keep their meaning.
# Setting both NAME and NAME_FILE is an error, so a stale variable cannot silently win.
set -eu

# Names only: `env` prints NAME=value lines; a multi-line value (a PEM key) cannot produce a
# line that starts with such a name followed by "=", since base64 has no "_".
file_vars=$(env | sed -n -E \
    's/^((REGISTRY|GRIEVANCE|ISAF|BUDGET|GATEWAY|KAFKA|SP)_[A-Za-z0-9_]*_FILE)=.*/\1/p')

for file_var in $file_vars; do
    var=${file_var%_FILE}
    # Both names match [A-Za-z_][A-Za-z0-9_]*, so eval only ever sees an identifier.
    eval "path=\${$file_var}"
    eval "current=\${$var:-}"
    if [ -n "$current" ]; then
        echo "entrypoint: both $var and $file_var are set; set only one" >&2
        exit 64
    fi
    if [ ! -r "$path" ]; then
        echo "entrypoint: $file_var=$path is not a readable file" >&2
        exit 66
    fi
    value=$(cat "$path")
    export "$var=$value"
    unset "$file_var"
done
unset file_vars file_var var path current value

exec "$@"
