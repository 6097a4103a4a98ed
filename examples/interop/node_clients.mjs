// Interop check: Node's openid-client (v6) and jose against keyflow.
//
// Runs the authorization code flow with PKCE (S256), playing the browser
// with fetch (login and consent forms, cookies kept by hand). openid-client
// checks `iss` in the redirect (RFC 9207), the ID token and its nonce; jose
// verifies the access token as an RFC 9068 JWT (typ at+jwt) against the
// JWKS. Then UserInfo and a refresh.
//
//   npm install openid-client@6 jose@6
//   KEYFLOW_URL=http://127.0.0.1:8080 CLIENT_ID=cli_… CLIENT_SECRET=sec_… \
//   EMAIL=ann@example.com PASSWORD=… REDIRECT_URI=https://make.example/cb \
//   node examples/interop/node_clients.mjs
//
// The client must be registered with that redirect URI and the scopes
// openid email profile offline_access api:read.

import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("KEYFLOW_URL");
const redirectUri = env("REDIRECT_URI");
const scope = "openid email profile offline_access api:read";

const options = base.startsWith("http:")
  ? { execute: [client.allowInsecureRequests] }
  : undefined;
const config = await client.discovery(
  new URL(base),
  env("CLIENT_ID"),
  env("CLIENT_SECRET"),
  undefined,
  options,
);

const cookies = new Map();
async function go(url, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (cookies.size) {
    headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const [k, v] = pair.split("=");
    if (v) cookies.set(k, v);
    else cookies.delete(k);
  }
  return res;
}

const unescape = (s) =>
  s.replace(/&quot;|&#34;/g, '"').replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;|&#38;/g, "&");
const field = (html, name) => {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!m) throw new Error(`no field ${name}`);
  return unescape(m[1]);
};
const post = (path, fields) =>
  go(new URL(path, base), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope,
  state,
  nonce,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: "S256",
});

let res = await go(authorizationUrl);
let html = await res.text();
if (res.status === 200 && html.includes('name="password"')) {
  res = await post("/login", {
    username: env("EMAIL"),
    password: env("PASSWORD"),
    csrf: field(html, "csrf"),
    request: field(html, "request"),
    return_to: "",
  });
  html = await res.text();
}
if (res.status === 200) {
  res = await post("/oauth/authorize/decision", {
    csrf: field(html, "csrf"),
    request: field(html, "request"),
    decision: "allow",
  });
}
if (res.status !== 303) throw new Error(`expected a redirect, got ${res.status}`);

const tokens = await client.authorizationCodeGrant(
  config,
  new URL(res.headers.get("location")),
  { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce },
);
const claims = tokens.claims();
if (claims.email !== env("EMAIL")) throw new Error("ID token email");

const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
const { payload } = await jwtVerify(tokens.access_token, jwks, {
  issuer: config.serverMetadata().issuer,
  typ: "at+jwt",
});
if (payload.sub !== claims.sub || !payload.workspace_id) throw new Error("access token claims");

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
if (info.email !== env("EMAIL")) throw new Error("userinfo email");

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
if (!refreshed.refresh_token || refreshed.refresh_token === tokens.refresh_token) {
  throw new Error("the refresh token was not rotated");
}
console.log("openid-client + jose: code flow, iss, ID token, access token, userinfo and refresh OK");
