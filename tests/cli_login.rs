//! `keyflow login`, `logout` and `whoami`, and the session they keep,
//! with the real binary as a subprocess against a real server.

mod common;

use common::binary::json_stdout;
use common::browser::user;
use common::cli_session::signed_in;
use common::*;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_in_person_acts_in_each_of_their_workspaces() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await.workspace.id;
    let beta = workspace(&node, "Beta").await.workspace.id;
    let other = workspace(&node, "Other").await.workspace.id;
    user(
        &node,
        "ann@example.com",
        &[(&acme, Role::Owner), (&beta, Role::Admin)],
    )
    .await;
    let home = signed_in(&node, "ann@example.com", Some(&acme)).await;
    let me = json_stdout(&home.run(&["whoami", "--json"]));
    assert_eq!(me["workspaceId"], acme.as_str());
    assert_eq!(me["email"], "ann@example.com");
    // The default workspace, another one, and one she is not a member of.
    let keys = json_stdout(&home.run(&["apikey", "list", "--json"]));
    assert_eq!(keys["items"].as_array().unwrap().len(), 0);
    let keys = json_stdout(&home.run(&["apikey", "list", "--workspace", &beta, "--json"]));
    assert!(keys["items"].is_array());
    let out = home.run(&["apikey", "list", "--workspace", &other, "--json"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("404"),
        "{out:?}"
    );
}
