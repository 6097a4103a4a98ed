"""Interop check: Python's authlib and requests-oauthlib against keyflow.

Runs the authorization code flow with PKCE (S256) twice, once with each
library as the client, playing the browser with `requests` (login and
consent forms). Verifies the ID token with authlib.jose against the JWKS
from discovery, calls UserInfo, and refreshes.

    pip install authlib requests requests-oauthlib
    KEYFLOW_URL=http://127.0.0.1:8080 CLIENT_ID=cli_… CLIENT_SECRET=sec_… \
    EMAIL=ann@example.com PASSWORD=… REDIRECT_URI=https://make.example/cb \
    python examples/interop/python_clients.py

The client must be registered with that redirect URI and the scopes
openid email profile offline_access api:read.
"""

import html
import os
import re
import secrets
from urllib.parse import parse_qs, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.jose import JsonWebKey, jwt
from requests_oauthlib import OAuth2Session as OAuthlibSession

BASE = os.environ["KEYFLOW_URL"]
CLIENT_ID = os.environ["CLIENT_ID"]
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
EMAIL = os.environ["EMAIL"]
PASSWORD = os.environ["PASSWORD"]
REDIRECT = os.environ["REDIRECT_URI"]
SCOPE = "openid email profile offline_access api:read"

meta = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=10).json()
jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())


def field(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no field {name}"
    return html.unescape(m.group(1))


def browse(authorization_url: str) -> str:
    """Signs in and consents like a browser; returns the callback URL."""
    b = requests.Session()
    r = b.get(authorization_url, allow_redirects=False, timeout=10)
    if r.status_code == 200 and 'name="password"' in r.text:
        r = b.post(
            f"{BASE}/login",
            data={
                "username": EMAIL,
                "password": PASSWORD,
                "csrf": field(r.text, "csrf"),
                "request": field(r.text, "request"),
                "return_to": "",
            },
            allow_redirects=False,
            timeout=10,
        )
    if r.status_code == 200:
        r = b.post(
            f"{BASE}/oauth/authorize/decision",
            data={
                "csrf": field(r.text, "csrf"),
                "request": field(r.text, "request"),
                "decision": "allow",
            },
            allow_redirects=False,
            timeout=10,
        )
    assert r.status_code in (302, 303), r.text
    location = r.headers["location"]
    assert parse_qs(urlparse(location).query)["iss"] == [meta["issuer"]]
    return location


def check_id_token(token: dict, nonce: str) -> dict:
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_options={
            "iss": {"essential": True, "value": meta["issuer"]},
            "aud": {"essential": True, "value": CLIENT_ID},
            "nonce": {"essential": True, "value": nonce},
        },
    )
    claims.validate()
    return claims


def with_authlib() -> None:
    verifier = secrets.token_urlsafe(48)
    s = AuthlibSession(
        CLIENT_ID,
        CLIENT_SECRET,
        scope=SCOPE,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    nonce = secrets.token_urlsafe(16)
    url, state = s.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = browse(url)
    token = s.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = check_id_token(token, nonce)
    info = s.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["email"] == EMAIL, info
    refreshed = s.refresh_token(meta["token_endpoint"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    print("authlib: code flow, ID token, userinfo and refresh OK")


def with_requests_oauthlib() -> None:
    verifier = secrets.token_urlsafe(48)
    s = OAuthlibSession(
        CLIENT_ID, scope=SCOPE.split(), redirect_uri=REDIRECT, pkce="S256"
    )
    nonce = secrets.token_urlsafe(16)
    url, state = s.authorization_url(meta["authorization_endpoint"], nonce=nonce)
    callback = browse(url)
    token = s.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback,
        client_secret=CLIENT_SECRET,
        include_client_id=True,
    )
    check_id_token(token, nonce)
    info = s.get(meta["userinfo_endpoint"]).json()
    assert info["email"] == EMAIL, info
    refreshed = s.refresh_token(
        meta["token_endpoint"], client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    assert refreshed["access_token"]
    print("requests-oauthlib: code flow, ID token, userinfo and refresh OK")


if __name__ == "__main__":
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with_authlib()
    with_requests_oauthlib()
