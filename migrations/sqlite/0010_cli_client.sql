-- keyflow's own command line, `keyflow login`: a public client (no secret
-- to keep on a laptop) allowed the device authorization grant (RFC 8628)
-- and the authorization code grant on a loopback redirect, which matches
-- on any port (RFC 8252 §7.3). It acts as the person who signed in, in each
-- workspace they belong to, with their role there (docs/cli.md).
INSERT INTO clients (client_id, workspace_id, kind, name, created_at)
VALUES ('keyflow-cli', NULL, 'third_party', 'keyflow CLI', CAST(strftime('%s', 'now') AS INTEGER));
INSERT INTO oauth_clients (client_id, public, redirect_uris, post_logout_redirect_uris,
                           scopes, logo_uri, id_token_alg, device_grant)
VALUES ('keyflow-cli', 1, '["http://127.0.0.1/callback","http://[::1]/callback"]', '[]',
        'openid email profile offline_access workspace:admin keys:write keys:read',
        NULL, 'ES256', 1);
