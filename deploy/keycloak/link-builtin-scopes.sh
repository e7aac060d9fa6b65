#!/usr/bin/env bash
# Gives Keycloak's built-in clients of realm `sp` (account console, admin console, admin-cli...)
# the standard client scopes, once, after the realm was imported.
#
# Why: sp-realm.json defines its own client scopes, and when a realm file does that Keycloak
# creates the built-in clients with no client scope at all (keycloak/keycloak#10021). The
# platform's own clients are unaffected (the file lists their scopes), but without `basic` and
# `roles` the account console answers "Forbidden" and tokens of the built-in clients carry no
# `sub`. Linking a scope twice is harmless, so the script can run again.
#
#   docker compose exec keycloak bash /opt/keycloak/data/import/link-builtin-scopes.sh
#
# Settings (environment): KEYCLOAK_SERVER (http://localhost:8080), KEYCLOAK_REALM (sp),
# KEYCLOAK_ADMIN_USER (admin), KEYCLOAK_ADMIN_PASSWORD_FILE (/run/secrets/keycloak-admin-password).
set -euo pipefail

KCADM=${KCADM:-/opt/keycloak/bin/kcadm.sh}
SERVER=${KEYCLOAK_SERVER:-http://localhost:8080}
REALM=${KEYCLOAK_REALM:-sp}
ADMIN_USER=${KEYCLOAK_ADMIN_USER:-admin}
PASSWORD_FILE=${KEYCLOAK_ADMIN_PASSWORD_FILE:-/run/secrets/keycloak-admin-password}
BUILTIN_CLIENTS=(account account-console admin-cli broker realm-management security-admin-console)
SCOPES=(basic profile email roles web-origins acr)

# kcadm keeps its session in a config file: a private temporary one, not the read-only mount.
CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT
kcadm() { "$KCADM" "$@" --config "$CONFIG"; }

kcadm config credentials --server "$SERVER" --realm master \
  --user "$ADMIN_USER" --password "$(cat "$PASSWORD_FILE")"

scope_list=$(kcadm get client-scopes -r "$REALM" --fields id,name --format csv --noquotes)
for client in "${BUILTIN_CLIENTS[@]}"; do
  client_uuid=$(kcadm get clients -r "$REALM" -q "clientId=$client" --fields id \
    --format csv --noquotes | head -n 1)
  if [ -z "$client_uuid" ]; then
    echo "skip $client: not in realm $REALM" >&2
    continue
  fi
  for scope in "${SCOPES[@]}"; do
    scope_uuid=$(awk -F, -v name="$scope" '$2 == name { print $1 }' <<<"$scope_list")
    if [ -z "$scope_uuid" ]; then
      echo "client scope $scope is missing from realm $REALM" >&2
      exit 1
    fi
    kcadm update "clients/$client_uuid/default-client-scopes/$scope_uuid" -r "$REALM"
  done
  echo "$client: ${SCOPES[*]}"
done
