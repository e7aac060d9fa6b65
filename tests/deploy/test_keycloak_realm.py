"""The Keycloak realm import, deploy/keycloak/sp-realm.json, against the gateway's claim contract.

No Keycloak runs here. The tests check the structure that makes Keycloak put the claims that
gateway.identity.claims reads into access tokens, then evaluate the realm's protocol mappers
the way Keycloak evaluates the mapper types the file uses (a model of Keycloak 25/26, see
`access_token` below) and hand the result to principal_from_claims: every demo person and
machine client of the development issuer must become the same principal from either issuer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from gateway.identity.claims import principal_from_claims
from gateway.identity.dev_issuer import ALL_ROLES, CLIENTS, DEMO_PASSWORD, PEOPLE, DevIssuer
from shared.gazetteer import get_gazetteer
from shared.tiers import CODE_LENGTH, Tier

KEYCLOAK_DIR = Path(__file__).resolve().parents[2] / "deploy" / "keycloak"
REALM_FILE = KEYCLOAK_DIR / "sp-realm.json"
AUDIENCE = "sp-platform"  # gateway.config.Settings.oidc_audience
PORTAL = "sp-portal"
DEMO_CLI = "sp-demo-cli"
UNIT_ATTRIBUTES = ("tier", "admin_code")
MACHINE_CLIENTS = [c for c in CLIENTS if c.scopes]

# Mapper types whose claims the gateway never reads: the model below skips them.
IGNORED_MAPPERS = {
    "oidc-allowed-origins-mapper",  # allowed-origins
    "oidc-acr-mapper",  # acr
    "oidc-audience-resolve-mapper",  # aud of clients whose client roles are in the token
    "oidc-usermodel-client-role-mapper",  # resource_access
}


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    return json.loads(REALM_FILE.read_text(encoding="utf-8"))


def named(items: list[dict], value: str, key: str = "name") -> dict:
    found = [item for item in items if item.get(key) == value]
    assert len(found) == 1, f"expected one {key}={value!r}, found {len(found)}"
    return found[0]


def client(realm: dict, client_id: str) -> dict:
    return named(realm["clients"], client_id, "clientId")


def client_scope(realm: dict, name: str) -> dict:
    return named(realm["clientScopes"], name)


def user(realm: dict, username: str) -> dict:
    return named(realm["users"], username, "username")


def groups_by_path(realm: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def walk(groups: list[dict], parent: str, parent_group: dict | None) -> None:
        for group in groups:
            path = f"{parent}/{group['name']}"
            assert group.get("path", path) == path
            found[path] = {**group, "parent": parent_group}
            walk(group.get("subGroups", []), path, found[path])

    walk(realm.get("groups", []), "", None)
    return found


def mapper_config(
    scope_or_client: dict, protocol_mapper: str, claim: str | None = None
) -> dict[str, str]:
    mappers = [
        m
        for m in scope_or_client.get("protocolMappers", [])
        if m["protocolMapper"] == protocol_mapper
        and (claim is None or m["config"].get("claim.name") == claim)
    ]
    assert len(mappers) == 1, f"{scope_or_client.get('name')}: one {protocol_mapper} for {claim}"
    return mappers[0]["config"]


# --- a model of how Keycloak builds an access token ---------------------------------------


def resolve_attribute(person: dict, groups: dict[str, dict], name: str) -> list[str]:
    """KeycloakModelUtils.resolveAttribute with aggregate.attrs false: the user's own values,
    else those of the first of the user's groups that has some, a group inheriting from its
    parents."""
    own = person.get("attributes", {}).get(name) or []
    if own:
        return list(own)
    for path in person.get("groups", []):
        group: dict | None = groups[path]
        while group is not None:
            values = group.get("attributes", {}).get(name) or []
            if values:
                return list(values)
            group = group["parent"]
    return []


def set_claim(claims: dict, name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        claims = claims.setdefault(part, {})
    claims[last] = value


def access_token(realm: dict, client_id: str, account: dict) -> dict[str, Any]:
    """The claims Keycloak puts in an access token that client_id gets for account (a person
    through the browser or password flow with scope=openid, or a client's service account
    through client credentials), for the mapper types this realm uses."""
    the_client = client(realm, client_id)
    groups = groups_by_path(realm)
    scopes = [client_scope(realm, name) for name in the_client.get("defaultClientScopes", [])]
    mappers = [*the_client.get("protocolMappers", [])]
    mappers += [m for s in scopes for m in s.get("protocolMappers", [])]

    granted = set(account.get("realmRoles", []))
    for path in account.get("groups", []):
        group: dict | None = groups[path]
        while group is not None:
            granted |= set(group.get("realmRoles", []))
            group = group["parent"]
    if the_client.get("fullScopeAllowed", True):
        roles = granted
    else:
        # Only roles in the scope mappings of the client or of its client scopes.
        containers = {("client", client_id)} | {("clientScope", s["name"]) for s in scopes}
        allowed = {
            role
            for mapping in realm.get("scopeMappings", [])
            for kind in ("client", "clientScope")
            if (kind, mapping.get(kind)) in containers
            for role in mapping["roles"]
        }
        roles = granted & allowed

    service_account = "serviceAccountClientId" in account
    notes = {"AUTH_TIME": "1735689600"}
    if service_account:
        # ClientCredentialsGrantType sets both (clientId for backwards compatibility in 26).
        notes |= {"clientId": client_id, "client_id": client_id}
    in_scope = [s["name"] for s in scopes if s["attributes"]["include.in.token.scope"] == "true"]
    claims: dict[str, Any] = {
        "iss": "http://localhost:8080/realms/sp",
        "typ": "Bearer",
        "azp": client_id,
        "scope": " ".join(in_scope if service_account else ["openid", *in_scope]),
    }
    audiences: list[str] = []
    properties = {
        "username": account["username"],
        "email": account.get("email"),
        "emailVerified": account.get("emailVerified", False),
        "firstName": account.get("firstName"),
        "lastName": account.get("lastName"),
    }
    for mapper in mappers:
        config, kind = mapper["config"], mapper["protocolMapper"]
        if config.get("access.token.claim") != "true" or kind in IGNORED_MAPPERS:
            continue
        claim = config.get("claim.name", "")
        if kind == "oidc-sub-mapper":
            claims["sub"] = f"uuid-of-{account['username']}"
        elif kind == "oidc-audience-mapper":
            audiences.append(
                config.get("included.custom.audience") or config["included.client.audience"]
            )
        elif kind == "oidc-usersessionmodel-note-mapper":
            note = notes.get(config["user.session.note"])
            if note is not None:
                set_claim(claims, claim, int(note) if config["jsonType.label"] == "long" else note)
        elif kind == "oidc-usermodel-realm-role-mapper":
            prefix = config.get("usermodel.realmRoleMapping.rolePrefix", "")
            if roles:
                values = sorted(prefix + role for role in roles)
                set_claim(claims, claim, values if config["multivalued"] == "true" else values[0])
        elif kind == "oidc-usermodel-attribute-mapper":
            name = config["user.attribute"]
            if name in properties:
                values = [] if properties[name] is None else [properties[name]]
            else:
                values = resolve_attribute(account, groups, name)
            if values:
                set_claim(claims, claim, values if config["multivalued"] == "true" else values[0])
        elif kind == "oidc-usermodel-property-mapper":
            if properties[config["user.attribute"]] is not None:
                set_claim(claims, claim, properties[config["user.attribute"]])
        elif kind == "oidc-full-name-mapper":
            parts = [properties["firstName"], properties["lastName"]]
            if any(parts):
                claims["name"] = " ".join(p for p in parts if p)
        else:
            pytest.fail(f"the model does not know mapper type {kind}: teach it before using it")
    if audiences:
        claims["aud"] = audiences[0] if len(audiences) == 1 else audiences
    return claims


def service_account(realm: dict, client_id: str) -> dict:
    return named(realm["users"], client_id, "serviceAccountClientId")


def dev_issuer_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def dev_issuer() -> DevIssuer:
    return DevIssuer("http://gateway.test/dev/idp", AUDIENCE)


# --- the realm ------------------------------------------------------------------------------


def test_the_import_folder_holds_one_realm_file():
    # Keycloak imports every *.json in the mounted folder as a realm of its own.
    assert sorted(p.name for p in KEYCLOAK_DIR.glob("*.json")) == [REALM_FILE.name]


def test_realm_settings(realm):
    assert realm["realm"] == "sp"  # iss = <keycloak>/realms/sp
    assert realm["enabled"] is True
    assert realm["sslRequired"] == "external"
    assert realm["bruteForceProtected"] is True
    assert realm["accessTokenLifespan"] == 300
    assert "length(" in realm["passwordPolicy"]
    assert realm["registrationAllowed"] is False


def test_every_role_of_the_dev_issuer_is_a_realm_role(realm):
    realm_roles = {role["name"] for role in realm["roles"]["realm"]}
    assert set(ALL_ROLES) <= realm_roles
    assert {r for p in PEOPLE for r in p.roles} <= realm_roles
    # The person claims' scope lets exactly the platform roles into the token.
    mapping = named(realm["scopeMappings"], "sp-person-claims", "clientScope")
    assert sorted(mapping["roles"]) == sorted(ALL_ROLES)


def test_unit_groups_match_the_gazetteer(realm):
    gazetteer = get_gazetteer()
    units = {p: g for p, g in groups_by_path(realm).items() if "tier" in g["attributes"]}
    assert units
    for path, group in units.items():
        (tier,) = group["attributes"]["tier"]
        code = "".join(group["attributes"].get("admin_code", []))
        assert len(group["attributes"].get("admin_code", [])) <= 1, path
        assert len(code) == CODE_LENGTH[Tier(tier)], path
        if Tier(tier) is Tier.NATIONAL:
            # No admin_code at all: Keycloak then emits none and the gateway reads "".
            assert "admin_code" not in group["attributes"], path
            assert group["name"] == "national" and group["parent"] is None
        else:
            assert code in gazetteer, path
            assert group["name"] == f"{tier}-{code}", path
            parent = group["parent"]
            if parent is None:
                assert Tier(tier) is Tier.CP, path
            else:
                # A unit sits under the unit one tier up that contains it.
                assert code.startswith(parent["attributes"]["admin_code"][0]), path
                assert len(code) == len(parent["attributes"]["admin_code"][0]) + 2, path


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.username)
def test_demo_person_is_modelled_like_the_dev_issuer(realm, person):
    account = user(realm, person.username)
    groups = groups_by_path(realm)
    assert account["enabled"] is True
    # The unit group is the one source of tier and admin_code: no user-level override, and
    # exactly one group that carries a tier (with two, Keycloak would pick one arbitrarily).
    assert not set(account.get("attributes", {})) & set(UNIT_ATTRIBUTES)
    units = [p for p in account["groups"] if resolve_attribute({"groups": [p]}, groups, "tier")]
    assert len(units) == 1
    assert resolve_attribute(account, groups, "tier") == [person.tier]
    assert resolve_attribute(account, groups, "admin_code") == (
        [person.admin_code] if person.admin_code else []
    )
    assert set(account["realmRoles"]) - {"default-roles-sp"} == set(person.roles)
    assert f"{account['firstName']} {account['lastName']}" == person.name
    # A complete profile (email, first and last name): otherwise Keycloak's verify-profile
    # required action stops the login.
    assert account["email"] and account["firstName"] and account["lastName"]


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.username)
def test_demo_password_is_the_dev_issuers(realm, person):
    (credential,) = user(realm, person.username)["credentials"]
    assert credential["type"] == "password" and credential["temporary"] is False
    assert "value" not in credential  # stored hashed: a plain value would meet the policy
    secret = json.loads(credential["secretData"])
    data = json.loads(credential["credentialData"])
    assert data["algorithm"] == "pbkdf2-sha512"
    expected = base64.b64decode(secret["value"])
    derived = hashlib.pbkdf2_hmac(
        "sha512",
        DEMO_PASSWORD.encode(),
        base64.b64decode(secret["salt"]),
        data["hashIterations"],
        dklen=len(expected),
    )
    assert hmac.compare_digest(derived, expected)


def test_references_resolve(realm):
    """Names the import looks up must exist, or Keycloak refuses the file at startup."""
    scope_names = {s["name"] for s in realm["clientScopes"]}
    assert len(scope_names) == len(realm["clientScopes"])
    for c in realm["clients"]:
        assert set(c.get("defaultClientScopes", []) + c.get("optionalClientScopes", [])) <= (
            scope_names
        ), c["clientId"]
    assert set(realm["defaultDefaultClientScopes"]) <= scope_names
    paths = set(groups_by_path(realm))
    realm_roles = {role["name"] for role in realm["roles"]["realm"]} | {"default-roles-sp"}
    client_ids = {c["clientId"] for c in realm["clients"]}
    for account in realm["users"]:
        assert set(account.get("groups", [])) <= paths, account["username"]
        assert set(account.get("realmRoles", [])) <= realm_roles, account["username"]
        if "serviceAccountClientId" in account:
            assert account["serviceAccountClientId"] in client_ids
            assert account["username"] == f"service-account-{account['serviceAccountClientId']}"
    for mapping in realm["scopeMappings"]:
        assert mapping["clientScope"] in scope_names
        assert set(mapping["roles"]) <= realm_roles


def test_every_service_account_client_has_its_service_account_user(realm):
    # Keycloak 26.0/26.1 fail the import ("Session not bound to a realm") when they have to
    # create a service account user themselves.
    for c in realm["clients"]:
        if c.get("serviceAccountsEnabled"):
            assert service_account(realm, c["clientId"])["enabled"] is True


# --- the mappers -----------------------------------------------------------------------------


def test_audience_mapper(realm):
    config = mapper_config(client_scope(realm, "sp-platform-audience"), "oidc-audience-mapper")
    audiences = (config.get("included.custom.audience"), config.get("included.client.audience"))
    assert AUDIENCE in audiences
    assert config["access.token.claim"] == "true"


def test_person_claim_mappers(realm):
    scope = client_scope(realm, "sp-person-claims")
    roles = mapper_config(scope, "oidc-usermodel-realm-role-mapper", "roles")
    assert roles["multivalued"] == "true" and roles["jsonType.label"] == "String"
    assert roles["access.token.claim"] == "true"
    assert roles.get("usermodel.realmRoleMapping.rolePrefix", "") == ""
    for claim in UNIT_ATTRIBUTES:
        config = mapper_config(scope, "oidc-usermodel-attribute-mapper", claim)
        assert config["user.attribute"] == claim
        assert config["access.token.claim"] == "true"
        assert config["jsonType.label"] == "String" and config["multivalued"] == "false"
        # Aggregating would merge a unit's values with its parents' (dmk-1208 under cp-12).
        assert config["aggregate.attrs"] == "false"
    assert mapper_config(scope, "oidc-full-name-mapper")["access.token.claim"] == "true"


def test_basic_scope_puts_sub_in_access_tokens(realm):
    # Keycloak 25+ adds sub only through the basic scope's mapper; the gateway requires sub.
    basic = client_scope(realm, "basic")
    (sub,) = [m for m in basic["protocolMappers"] if m["protocolMapper"] == "oidc-sub-mapper"]
    assert sub["config"]["access.token.claim"] == "true"


def test_user_profile_keeps_unit_attributes_away_from_users(realm):
    (component,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    assert component["providerId"] == "declarative-user-profile"
    (raw,) = component["config"]["kc.user.profile.config"]
    assert len(raw) < 4000  # kept compact: one component config value
    config = json.loads(raw)
    attributes = {a["name"]: a for a in config["attributes"]}
    assert {"username", "email", "firstName", "lastName"} <= set(attributes)
    for name in UNIT_ATTRIBUTES:
        permissions = attributes[name]["permissions"]
        assert "user" not in permissions["view"] + permissions["edit"], name
        assert permissions["edit"] == [], name  # only the unit group sets them
    # With ENABLED, users could give themselves any attribute the file does not declare.
    assert config.get("unmanagedAttributePolicy") in (None, "ADMIN_VIEW", "ADMIN_EDIT")


# --- the clients ---------------------------------------------------------------------------


def test_portal_is_public_with_pkce(realm):
    portal = client(realm, PORTAL)
    assert portal["enabled"] is True and portal["publicClient"] is True
    assert portal["standardFlowEnabled"] is True
    assert portal["implicitFlowEnabled"] is False
    assert portal["directAccessGrantsEnabled"] is False
    assert portal["serviceAccountsEnabled"] is False
    assert portal["attributes"]["pkce.code.challenge.method"] == "S256"
    assert portal["fullScopeAllowed"] is False
    assert portal["redirectUris"] and "*" not in portal["redirectUris"]
    assert portal["webOrigins"] and "*" not in portal["webOrigins"]
    assert {"basic", "sp-platform-audience", "sp-person-claims"} <= set(
        portal["defaultClientScopes"]
    )


@pytest.mark.parametrize("demo_client", MACHINE_CLIENTS, ids=lambda c: c.client_id)
def test_machine_client(realm, demo_client):
    machine = client(realm, demo_client.client_id)
    assert machine["enabled"] is True and machine["publicClient"] is False
    assert machine["serviceAccountsEnabled"] is True
    assert machine["standardFlowEnabled"] is False
    assert machine["implicitFlowEnabled"] is False
    assert machine["directAccessGrantsEnabled"] is False
    assert machine["fullScopeAllowed"] is False
    assert set(demo_client.scopes) <= set(machine["defaultClientScopes"])
    assert "sp-person-claims" not in machine["defaultClientScopes"]
    assert machine["secret"].startswith("change-me-")
    for name in demo_client.scopes:
        assert client_scope(realm, name)["attributes"]["include.in.token.scope"] == "true"
    config = mapper_config(machine, "oidc-usersessionmodel-note-mapper", "client_id")
    assert config["user.session.note"] in ("clientId", "client_id")
    assert config["access.token.claim"] == "true"


# --- the claims, end to end through the gateway's own reading ----------------------------


@pytest.mark.parametrize("client_id", [PORTAL, DEMO_CLI])
@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.username)
def test_person_token_becomes_the_dev_issuer_principal(realm, dev_issuer, person, client_id):
    claims = access_token(realm, client_id, user(realm, person.username))
    expected = dev_issuer_claims(dev_issuer.person_token(person.username))

    assert AUDIENCE in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert claims["sub"]
    assert claims["tier"] == expected["tier"]
    assert claims.get("admin_code", "") == expected["admin_code"]
    assert isinstance(claims["roles"], list) and sorted(claims["roles"]) == sorted(person.roles)
    assert claims["name"] == expected["name"]

    got, want = principal_from_claims(claims), principal_from_claims(expected)
    assert got.model_dump(exclude={"sub", "scopes"}) == want.model_dump(exclude={"sub", "scopes"})


@pytest.mark.parametrize("demo_client", CLIENTS, ids=lambda c: c.client_id)
def test_client_token_becomes_the_dev_issuer_principal(realm, dev_issuer, demo_client):
    if not any(c["clientId"] == demo_client.client_id for c in realm["clients"]):
        assert not demo_client.scopes, "only a client without scopes may be left out"
        pytest.skip(f"{demo_client.client_id} is not in the realm")
    claims = access_token(
        realm, demo_client.client_id, service_account(realm, demo_client.client_id)
    )
    expected = dev_issuer_claims(dev_issuer.client_token(demo_client.client_id))

    assert "tier" not in claims and "admin_code" not in claims
    assert AUDIENCE in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert claims["sub"]
    assert claims["client_id"] == demo_client.client_id
    assert set(claims["scope"].split()) == set(demo_client.scopes)

    got, want = principal_from_claims(claims), principal_from_claims(expected)
    assert got == want
