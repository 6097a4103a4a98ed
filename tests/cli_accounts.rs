//! An operator who lost an id finds it with the CLI, names people by email
//! and workspaces by name, and rotates the secret of a client or resource
//! server, all through the real binary.

mod common;

use std::process::Output;

use common::binary::*;
use common::{basic, http};
use keyflow::testing::TestDb;
use serde_json::Value;

fn text(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn refused(out: &Output) -> String {
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn introspect(port: u16, id: &str, secret: &str) -> u16 {
    http()
        .post(format!("http://127.0.0.1:{port}/oauth/introspect"))
        .header("authorization", basic(id, secret))
        .form(&[("token", "nothing")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn operators_list_users_and_clients_by_name_and_rotate_client_secrets() {
    let pg = TestDb::postgres().await;
    let mut dbs = vec!["sqlite://keyflow.db".to_owned()];
    dbs.extend(pg.as_ref().map(|d| d.url.clone()));
    for db in &dbs {
        let dir = tempfile::tempdir().unwrap();
        let (dir, db) = (dir.path(), db.as_str());
        set_up(dir, db);
        let first = create_workspace(dir, db, "reports");
        let second = create_workspace(dir, db, "billing");

        // People by email, workspaces by name.
        let ann = json_stdout(&keyflow_stdin(
            dir,
            db,
            &[
                "user",
                "create",
                "--email",
                "ann@example.com",
                "--password-stdin",
                "--workspace",
                "reports",
                "--role",
                "owner",
                "--json",
            ],
            "a long password\n",
        ));
        let added = json_stdout(&keyflow(
            dir,
            db,
            &[
                "user",
                "add-to-workspace",
                "--user",
                "Ann@Example.com",
                "--workspace",
                "billing",
                "--role",
                "member",
                "--json",
            ],
        ));
        assert_eq!(added["userId"], ann["userId"]);
        assert_eq!(added["workspaceId"], second["workspaceId"]);
        let err = refused(&keyflow(
            dir,
            db,
            &[
                "user",
                "add-to-workspace",
                "--user",
                "nobody@example.com",
                "--workspace",
                "billing",
            ],
        ));
        assert!(
            err.contains("no user has the id or email \"nobody@example.com\"")
                && err.contains("keyflow user list"),
            "{err}"
        );

        let users = json_stdout(&keyflow(dir, db, &["user", "list", "--json"]));
        let u = &users["users"][0];
        assert_eq!(u["userId"], ann["userId"]);
        assert_eq!(u["email"], "ann@example.com");
        let mut roles: Vec<(String, String)> = u["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["workspaceId"].as_str().unwrap().to_owned(),
                    m["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        roles.sort();
        let mut want = vec![
            (
                first["workspaceId"].as_str().unwrap().to_owned(),
                "owner".to_owned(),
            ),
            (
                second["workspaceId"].as_str().unwrap().to_owned(),
                "member".to_owned(),
            ),
        ];
        want.sort();
        assert_eq!(roles, want);
        assert!(!users.to_string().contains("argon2"), "no password hash");
        let table = text(&keyflow(dir, db, &["user", "list"]));
        assert!(table.starts_with("USER "), "{table}");
        assert!(table.contains("reports:owner") && table.contains("billing:member"));

        // Third-party clients: list and show, never a secret.
        let made = json_stdout(&keyflow(
            dir,
            db,
            &[
                "client",
                "create",
                "--name",
                "Make",
                "--redirect-uri",
                "https://make.example/cb",
                "--json",
            ],
        ));
        let client_id = made["clientId"].as_str().unwrap();
        let public = json_stdout(&keyflow(
            dir,
            db,
            &[
                "client",
                "create",
                "--name",
                "Desktop",
                "--redirect-uri",
                "http://127.0.0.1/cb",
                "--public",
                "--json",
            ],
        ));
        let listed = json_stdout(&keyflow(dir, db, &["client", "list", "--json"]));
        // Listed by creation time, then id: two made in one second may come
        // in either order.
        let mut listed_types: Vec<(&str, &str)> = listed["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["clientId"].as_str().unwrap(), c["type"].as_str().unwrap()))
            .collect();
        listed_types.sort();
        // keyflow's own CLI client is registered by a migration.
        let mut want = vec![
            (client_id, "confidential"),
            (public["clientId"].as_str().unwrap(), "public"),
            ("keyflow-cli", "public"),
        ];
        want.sort();
        assert_eq!(listed_types, want);
        let shown = json_stdout(&keyflow(dir, db, &["client", "show", client_id, "--json"]));
        assert_eq!(shown["redirectUris"][0], "https://make.example/cb");
        assert_eq!(shown["idTokenAlg"], "RS256");
        let secret = made["clientSecret"].as_str().unwrap();
        for out in [listed.to_string(), shown.to_string()] {
            assert!(!out.contains(secret) && !out.contains("sec_"), "{out}");
        }
        let table = text(&keyflow(dir, db, &["client", "list"]));
        assert!(
            table.starts_with("CLIENT ") && table.contains("Make"),
            "{table}"
        );
        let err = refused(&keyflow(dir, db, &["client", "show", "cli_nope"]));
        assert!(err.contains("keyflow client list"), "{err}");

        // Rotation: refused where there is no such secret.
        let err = refused(&keyflow(
            dir,
            db,
            &[
                "client",
                "rotate-secret",
                public["clientId"].as_str().unwrap(),
            ],
        ));
        assert!(err.contains("public client"), "{err}");
        let err = refused(&keyflow(
            dir,
            db,
            &[
                "client",
                "rotate-secret",
                first["applicationKey"].as_str().unwrap(),
            ],
        ));
        assert!(err.contains("keyflow workspace rotate-secret"), "{err}");
        let rotated = json_stdout(&keyflow(
            dir,
            db,
            &["client", "rotate-secret", client_id, "--json"],
        ));
        assert_eq!(rotated["clientId"], client_id);
        assert_ne!(rotated["clientSecret"], made["clientSecret"]);

        // A resource server: list, rotate with a grace period, then without.
        let rs = json_stdout(&keyflow(
            dir,
            db,
            &[
                "resource-server",
                "create",
                "--name",
                "reports-api",
                "--json",
            ],
        ));
        let rs_id = rs["clientId"].as_str().unwrap();
        let servers = json_stdout(&keyflow(dir, db, &["resource-server", "list", "--json"]));
        assert_eq!(servers["resourceServers"][0]["clientId"], rs_id);
        assert!(!servers.to_string().contains("sec_"));
        assert!(text(&keyflow(dir, db, &["resource-server", "list"])).starts_with("CLIENT "));

        let port = free_port();
        let server = serve(dir, db, port).await;
        let old = rs["clientSecret"].as_str().unwrap();
        assert_eq!(introspect(port, rs_id, old).await, 200);
        let graced = json_stdout(&keyflow(
            dir,
            db,
            &[
                "resource-server",
                "rotate-secret",
                rs_id,
                "--grace-period-seconds",
                "600",
                "--json",
            ],
        ));
        let new: &Value = &graced["clientSecret"];
        assert_eq!(introspect(port, rs_id, new.as_str().unwrap()).await, 200);
        assert_eq!(introspect(port, rs_id, old).await, 200, "inside its grace");
        let cut = json_stdout(&keyflow(
            dir,
            db,
            &["resource-server", "rotate-secret", rs_id, "--json"],
        ));
        assert_eq!(introspect(port, rs_id, old).await, 401);
        assert_eq!(introspect(port, rs_id, new.as_str().unwrap()).await, 401);
        assert_eq!(
            introspect(port, rs_id, cut["clientSecret"].as_str().unwrap()).await,
            200
        );
        let cut = cut["clientSecret"].as_str().unwrap();
        let err = refused(&keyflow(dir, db, &["resource-server", "delete", rs_id]));
        assert!(err.contains("add --yes"), "{err}");
        assert_eq!(introspect(port, rs_id, cut).await, 200);
        let gone = json_stdout(&keyflow(
            dir,
            db,
            &["resource-server", "delete", rs_id, "--yes", "--json"],
        ));
        assert_eq!(gone["deleted"], true);
        // The command returns once no node accepts the secret.
        assert_eq!(introspect(port, rs_id, cut).await, 401);
        let (clean, _) = terminate(server);
        assert!(clean);
    }
}

#[tokio::test]
async fn operators_disable_users_remove_members_and_change_or_delete_clients() {
    let pg = TestDb::postgres().await;
    let mut dbs = vec!["sqlite://keyflow.db".to_owned()];
    dbs.extend(pg.as_ref().map(|d| d.url.clone()));
    for db in &dbs {
        let dir = tempfile::tempdir().unwrap();
        let (dir, db) = (dir.path(), db.as_str());
        // One command line, split on spaces (no argument here has one).
        let run = |line: &str| keyflow(dir, db, &line.split(' ').collect::<Vec<_>>());
        set_up(dir, db);
        create_workspace(dir, db, "reports");
        for (email, role) in [("ann@example.com", "owner"), ("bob@example.com", "member")] {
            let line = format!(
                "user create --email {email} --password-stdin --workspace reports --role {role} --json"
            );
            let args: Vec<&str> = line.split(' ').collect();
            json_stdout(&keyflow_stdin(dir, db, &args, "a long password\n"));
        }

        // Memberships: never the last owner.
        let remove = |who: &str| {
            run(&format!(
                "membership remove --user {who} --workspace reports --json"
            ))
        };
        let err = refused(&remove("ann@example.com"));
        assert!(err.contains("only owner"), "{err}");
        assert_eq!(json_stdout(&remove("bob@example.com"))["removed"], true);
        let err = refused(&remove("bob@example.com"));
        assert!(err.contains("not a member"), "{err}");
        let err = refused(&run(
            "user add-to-workspace --user ann@example.com --workspace reports --role admin",
        ));
        assert!(err.contains("only owner"), "nor demoted: {err}");

        // Disabling and enabling, as the list shows it.
        let off = json_stdout(&run("user disable bob@example.com --json"));
        assert!(off["disabledAt"].is_string(), "{off}");
        let users = json_stdout(&run("user list --json"));
        let bob = users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "bob@example.com")
            .unwrap();
        assert!(bob["disabledAt"].is_string(), "{users}");
        assert!(bob["memberships"].as_array().unwrap().is_empty());
        let table = text(&run("user list"));
        let bob_row = table.lines().find(|l| l.contains("bob@example.com"));
        assert!(bob_row.unwrap().contains("disabled"), "{table}");
        let err = refused(&run("user disable bob@example.com"));
        assert!(err.contains("already disabled"), "{err}");
        let on = json_stdout(&run("user enable bob@example.com --json"));
        assert!(on["disabledAt"].is_null(), "{on}");

        // A client changed, checked as at creation, then deleted.
        let made = json_stdout(&run(
            "client create --name Make --redirect-uri https://make.example/cb \
             --logo-uri https://make.example/logo.png --json",
        ));
        let id = made["clientId"].as_str().unwrap();
        let changed = json_stdout(&run(&format!(
            "client update {id} --name Make-EU --scope openid --no-logo --id-token-alg ES256 --json"
        )));
        assert_eq!(changed["name"], "Make-EU");
        assert_eq!(changed["scopes"], serde_json::json!(["openid"]));
        assert!(changed["logoUri"].is_null());
        assert_eq!(changed["idTokenAlg"], "ES256");
        assert_eq!(changed["redirectUris"][0], "https://make.example/cb");
        let err = refused(&run(&format!(
            "client update {id} --redirect-uri http://evil.example/cb"
        )));
        assert!(err.contains("redirect"), "{err}");
        let err = refused(&run(&format!("client delete {id}")));
        assert!(err.contains("add --yes"), "{err}");
        let gone = json_stdout(&run(&format!("client delete {id} --yes --json")));
        assert_eq!(gone["clientId"], id);
        for line in [
            format!("client show {id}"),
            format!("client delete {id} --yes"),
        ] {
            let err = refused(&run(&line));
            assert!(err.contains("keyflow client list"), "{err}");
        }
    }
}

#[tokio::test]
async fn operators_register_clients_for_device_sign_in_and_change_it() {
    let pg = TestDb::postgres().await;
    let mut dbs = vec!["sqlite://keyflow.db".to_owned()];
    dbs.extend(pg.as_ref().map(|d| d.url.clone()));
    for db in &dbs {
        let dir = tempfile::tempdir().unwrap();
        let (dir, db) = (dir.path(), db.as_str());
        // One command line, split on spaces (no argument here has one).
        let run = |line: &str| keyflow(dir, db, &line.split(' ').collect::<Vec<_>>());
        set_up(dir, db);
        let code_only = serde_json::json!(["authorization_code"]);
        let both = serde_json::json!(["authorization_code", "device_code"]);

        let web = json_stdout(&run(
            "client create --name Web --redirect-uri https://web.example/cb --json",
        ));
        assert_eq!(web["grantTypes"], code_only, "as before: {web}");
        let tv = json_stdout(&run(
            "client create --name TV --redirect-uri https://tv.example/cb \
             --grant authorization_code --grant device_code --json",
        ));
        assert_eq!(tv["grantTypes"], both, "{tv}");
        let id = tv["clientId"].as_str().unwrap();
        let shown = json_stdout(&run(&format!("client show {id} --json")));
        assert_eq!(shown["grantTypes"], both, "stored: {shown}");
        let table = text(&run("client list"));
        assert!(
            table.starts_with("CLIENT ") && table.contains("GRANTS"),
            "{table}"
        );
        let row = table.lines().find(|l| l.contains(id)).unwrap();
        assert!(row.contains("authorization_code,device_code"), "{table}");
        // The authorization code grant is every client's, named or not.
        let human = text(&run(
            "client create --name Box --redirect-uri https://box.example/cb --grant device_code",
        ));
        assert!(
            human.contains("Grant types    authorization_code device_code"),
            "{human}"
        );

        // A given list replaces the registered one; none leaves it.
        let off = json_stdout(&run(&format!(
            "client update {id} --grant authorization_code --json"
        )));
        assert_eq!(off["grantTypes"], code_only, "{off}");
        let web_id = web["clientId"].as_str().unwrap();
        let on = json_stdout(&run(&format!(
            "client update {web_id} --grant device_code --json"
        )));
        assert_eq!(on["grantTypes"], both, "{on}");
        let renamed = json_stdout(&run(&format!(
            "client update {web_id} --name Web-EU --json"
        )));
        assert_eq!(renamed["grantTypes"], both, "{renamed}");

        let err = refused(&run(
            "client create --name Fax --redirect-uri https://fax.example/cb --grant implicit",
        ));
        assert!(err.contains("unknown grant type \"implicit\""), "{err}");
        let err = refused(&run(&format!("client update {id} --grant implicit")));
        assert!(err.contains("device_code"), "{err}");
        let shown = json_stdout(&run(&format!("client show {id} --json")));
        assert_eq!(shown["grantTypes"], code_only, "unchanged: {shown}");
    }
}
