//! The console over real HTTP: first-run setup, sign-up policies,
//! workspaces and their secret shown once, regenerating behind a recent
//! sign-in, invitations, roles, the account, and bad input of every form.

mod common;

use common::browser::{Browser, PASSWORD};
use common::console::{
    T0, make_platform_admin, node, person, secret, signed_in, submit, token_status, workspace_id,
};
use common::workspace;
use keyflow::domain::user::Role;

async fn create_workspace(
    b: &Browser,
    node: &keyflow::testing::TestServer,
) -> (String, String, String) {
    let p = submit(
        b,
        node,
        "/console",
        "/console/workspaces",
        &[("name", "Reports")],
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.html);
    let key = p.html.split("id=\"application-key\"").nth(1).unwrap();
    let key = key[key.find('>').unwrap() + 1..key.find('<').unwrap()].to_owned();
    (workspace_id(&p), key, secret(&p))
}

#[tokio::test]
async fn first_run_setup_creates_the_platform_admin_once() {
    let (_db, node, _clock) = node(&[]).await;
    let token = node.app.signup().first_run_link().await.unwrap().unwrap();
    let url = node.url(&format!("/setup?token={}", token.expose()));
    let b = Browser::new();
    let page = b.get(&url).await;
    assert_eq!(page.status, 200, "{}", page.html);
    for label in [">Email<", ">Name<", ">Password<"] {
        assert!(page.html.contains(label), "{label}");
    }
    let csrf = page.field("csrf");
    let fields = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("token", token.expose().to_owned()),
            ("email", "root@example.com".to_owned()),
            ("name", "Root".to_owned()),
            ("password", PASSWORD.to_owned()),
        ]
    };
    let as_refs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
    let post = |f: Vec<(&'static str, String)>| {
        let b = &b;
        let url = node.url("/setup");
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(&url, &f).await
        }
    };
    assert_eq!(post(as_refs(&fields("forged"))).await.status, 403);
    assert!(
        !node.app.store.has_users().await.unwrap(),
        "nothing was created"
    );
    let done = post(fields(&csrf)).await;
    assert_eq!(done.status, 303, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some("/console"));
    let home = b.get(&node.url("/console")).await;
    assert!(home.html.contains("platform admin"), "{}", home.html);
    // The link worked once; there is no second setup.
    assert_eq!(Browser::new().get(&url).await.status, 410);
    assert_eq!(post(fields(&csrf)).await.status, 410);
    assert!(node.app.signup().first_run_link().await.unwrap().is_none());
    let bogus = Browser::new().get(&node.url("/setup?token=nope")).await;
    assert_eq!(bogus.status, 410);
}

#[tokio::test]
async fn sign_up_follows_the_policy() {
    for (policy, open) in [("open", true), ("invite", false), ("closed", false)] {
        let (_db, node, _clock) = node(&["--signup", policy]).await;
        let b = Browser::new();
        let page = b.get(&node.url("/signup")).await;
        if !open {
            assert_eq!(page.status, 403, "{policy}");
            let p = b
                .post(&node.url("/signup"), &[("email", "x@example.com")])
                .await;
            assert_eq!(p.status, 403, "{policy}");
            assert!(!node.app.store.has_users().await.unwrap());
            continue;
        }
        assert_eq!(page.status, 200);
        let csrf = page.field("csrf");
        let short = b
            .post(
                &node.url("/signup"),
                &[
                    ("csrf", &csrf),
                    ("email", "bo@example.com"),
                    ("name", "Bo"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(short.status, 400, "{}", short.html);
        assert!(
            short.html.contains("at least 8 characters"),
            "{}",
            short.html
        );
        let ok = b
            .post(
                &node.url("/signup"),
                &[
                    ("csrf", &csrf),
                    ("email", "Bo@Example.com"),
                    ("name", "Bo"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.html);
        assert_eq!(b.get(&node.url("/console")).await.status, 200);
        let again = Browser::new().get(&node.url("/signup")).await;
        let twice = Browser::new();
        let p = twice.get(&node.url("/signup")).await;
        let taken = twice
            .post(
                &node.url("/signup"),
                &[
                    ("csrf", &p.field("csrf")),
                    ("email", "bo@example.com"),
                    ("name", "Bo"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(again.status, 200);
        assert_eq!(taken.status, 409, "{}", taken.html);
    }
}

#[tokio::test]
async fn a_new_workspace_shows_its_secret_once_and_the_secret_works() {
    let (_db, node, _clock) = node(&[]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, key, secret_key) = create_workspace(&ann, &node).await;
    assert!(secret_key.starts_with("sec_"), "{secret_key}");
    assert_eq!(token_status(&node, &key, &secret_key).await, 200);
    let tab = ann
        .get(&node.url(&format!("/console/workspaces/{ws}/integration")))
        .await;
    assert_eq!(tab.status, 200);
    for shown in [
        &ws,
        &key,
        "********",
        "Copy Workspace ID",
        "Copy API URL",
        "Copy Application Key",
        "Regenerate Secret Key",
    ] {
        assert!(tab.html.contains(shown), "{shown}");
    }
    assert!(
        !tab.html.contains(&secret_key),
        "the secret is never shown again"
    );
    assert!(!tab.html.contains("data-secret"));
    let home = ann.get(&node.url("/console")).await;
    assert!(home.html.contains("Reports") && home.html.contains("Owner"));
    let members = node.app.store.members(&ws).await.unwrap();
    assert_eq!(members[0].role, Role::Owner);
}

#[tokio::test]
async fn the_rotation_banner_shows_once_the_secret_is_older_than_the_setting() {
    let (_db, node, clock) = node(&["--rotation-due-days", "30"]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, _, _) = create_workspace(&ann, &node).await;
    let tab = format!("/console/workspaces/{ws}/integration");
    assert!(!ann.get(&node.url(&tab)).await.html.contains("days old"));
    clock.advance(31 * 86_400);
    let ann = signed_in(&node, "ann@example.com").await;
    let page = ann.get(&node.url(&tab)).await;
    assert!(
        page.html.contains("The secret key is 31 days old"),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn regenerating_needs_a_recent_sign_in_and_retires_the_old_secret() {
    let (_db, node, clock) = node(&[]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, key, old) = create_workspace(&ann, &node).await;
    let tab = format!("/console/workspaces/{ws}/integration");
    let action = format!("/console/workspaces/{ws}/regenerate");
    clock.advance(11 * 60);
    let ask = submit(&ann, &node, &tab, &action, &[("grace", "0")]).await;
    assert_eq!(ask.status, 200);
    assert!(ask.html.contains("Confirm your password"), "{}", ask.html);
    assert_eq!(ask.field("grace"), "0", "the form is carried through");
    assert_eq!(
        token_status(&node, &key, &old).await,
        200,
        "nothing changed yet"
    );
    let wrong = ann
        .post(
            &node.url(&action),
            &[
                ("csrf", &ask.field("csrf")),
                ("grace", "0"),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    let done = ann
        .post(
            &node.url(&action),
            &[
                ("csrf", &ask.field("csrf")),
                ("grace", "0"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.html);
    let new = secret(&done);
    assert_ne!(new, old);
    assert_eq!(token_status(&node, &key, &old).await, 401);
    assert_eq!(token_status(&node, &key, &new).await, 200);
    // Within ten minutes of that, the next one needs no password, and a
    // grace period keeps the previous secret and says until when.
    let graced = submit(&ann, &node, &tab, &action, &[("grace", "3600")]).await;
    let newest = secret(&graced);
    assert!(
        graced.html.contains("keeps working until"),
        "{}",
        graced.html
    );
    assert_eq!(token_status(&node, &key, &new).await, 200);
    assert_eq!(token_status(&node, &key, &newest).await, 200);
    let page = ann.get(&node.url(&tab)).await;
    assert!(
        page.html
            .contains("The previous secret key keeps working until"),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn members_see_no_regenerate_button_and_get_403_posting_anyway() {
    let (_db, node, _clock) = node(&[]).await;
    let ws = workspace(&node, "Reports").await;
    let id = ws.workspace.id.as_str();
    let member = person(&node, "bo@example.com", &[(id, Role::Member)]).await;
    let tab = format!("/console/workspaces/{id}/integration");
    let page = member.get(&node.url(&tab)).await;
    assert_eq!(page.status, 200);
    assert!(!page.html.contains("Regenerate Secret Key"));
    let p = submit(
        &member,
        &node,
        &tab,
        &format!("/console/workspaces/{id}/regenerate"),
        &[("grace", "0")],
    )
    .await;
    assert_eq!(p.status, 403, "{}", p.html);
    assert_eq!(
        token_status(&node, &ws.application_key, ws.secret_key.expose()).await,
        200
    );
    let members = format!("/console/workspaces/{id}/members");
    assert!(
        !member
            .get(&node.url(&members))
            .await
            .html
            .contains(">Invite<")
    );
    let invite = submit(
        &member,
        &node,
        &members,
        &format!("{members}/invite"),
        &[("email", "x@example.com"), ("role", "member")],
    )
    .await;
    assert_eq!(invite.status, 403);
    // Another workspace's id reads as no such workspace.
    let other = workspace(&node, "Other").await;
    let p = member
        .get(&node.url(&format!(
            "/console/workspaces/{}/integration",
            other.workspace.id
        )))
        .await;
    assert_eq!(p.status, 404);
}

#[tokio::test]
async fn invitations_work_once_for_seven_days_and_can_be_revoked() {
    let (_db, node, clock) = node(&[]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, _, _) = create_workspace(&ann, &node).await;
    let members = format!("/console/workspaces/{ws}/members");
    let invite = |email: &'static str| {
        let (ann, node, members) = (&ann, &node, members.clone());
        async move {
            let p = submit(
                ann,
                node,
                &members,
                &format!("{members}/invite"),
                &[("email", email), ("role", "admin")],
            )
            .await;
            assert_eq!(p.status, 200, "{}", p.html);
            secret(&p)
        }
    };
    let link = invite("bo@example.com").await;
    assert!(
        link.starts_with(&format!("{}/invitations/", node.issuer)),
        "{link}"
    );
    let bo = Browser::new();
    let page = bo.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("bo@example.com") && page.html.contains("Reports"));
    let joined = bo
        .post(
            &link,
            &[
                ("csrf", &page.field("csrf")),
                ("name", "Bo"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.html);
    let tab = bo
        .get(&node.url(&format!("/console/workspaces/{ws}/integration")))
        .await;
    assert!(tab.html.contains("Your role: Admin"), "{}", tab.html);
    assert_eq!(Browser::new().get(&link).await.status, 410, "used once");

    let revoked = invite("cy@example.com").await;
    let list = ann.get(&node.url(&members)).await;
    assert!(list.html.contains("cy@example.com"));
    let id = list.field("invitation_id");
    let p = submit(
        &ann,
        &node,
        &members,
        &format!("/console/workspaces/{ws}/invitations/revoke"),
        &[("invitation_id", &id)],
    )
    .await;
    assert_eq!(p.status, 303);
    assert_eq!(Browser::new().get(&revoked).await.status, 410);

    let late = invite("dee@example.com").await;
    clock.advance(7 * 86_400);
    assert_eq!(Browser::new().get(&late).await.status, 410, "expired");
}

#[tokio::test]
async fn the_last_owner_can_neither_leave_nor_be_demoted() {
    let (_db, node, _clock) = node(&[]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, _, _) = create_workspace(&ann, &node).await;
    let members = format!("/console/workspaces/{ws}/members");
    let me = node.app.store.members(&ws).await.unwrap()[0]
        .user_id
        .clone();
    let demote = submit(
        &ann,
        &node,
        &members,
        &format!("{members}/role"),
        &[("user_id", &me), ("role", "member")],
    )
    .await;
    assert_eq!(demote.status, 400, "{}", demote.html);
    assert!(demote.html.contains("last owner"));
    let leave = submit(
        &ann,
        &node,
        &members,
        &format!("{members}/remove"),
        &[("user_id", &me)],
    )
    .await;
    assert_eq!(leave.status, 400);
    assert_eq!(
        node.app.store.members(&ws).await.unwrap()[0].role,
        Role::Owner
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let (_db, node, _clock) = node(&[]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, key, old) = create_workspace(&ann, &node).await;
    let count = || async { node.app.store.list_workspaces().await.unwrap().len() };
    let before = count().await;

    let no_csrf = ann
        .post(&node.url("/console/workspaces"), &[("name", "X")])
        .await;
    assert_eq!(no_csrf.status, 403);
    assert!(no_csrf.html.contains("This form has expired"));
    let long = "x".repeat(201);
    let too_long = submit(
        &ann,
        &node,
        "/console",
        "/console/workspaces",
        &[("name", &long)],
    )
    .await;
    assert_eq!(too_long.status, 400);
    let blank = submit(
        &ann,
        &node,
        "/console",
        "/console/workspaces",
        &[("name", "  ")],
    )
    .await;
    assert_eq!(blank.status, 400);
    let twice = ann
        .post(
            &node.url("/console/workspaces"),
            &[("name", "a"), ("name", "b")],
        )
        .await;
    assert_eq!(twice.status, 400, "a repeated field is malformed");
    let huge = "y".repeat(20_000);
    let oversized = ann
        .post(&node.url("/console/workspaces"), &[("name", &huge)])
        .await;
    assert_eq!(oversized.status, 400);
    assert_eq!(count().await, before);

    let tab = format!("/console/workspaces/{ws}/integration");
    let regenerate = format!("/console/workspaces/{ws}/regenerate");
    let odd = submit(&ann, &node, &tab, &regenerate, &[("grace", "12")]).await;
    assert_eq!(odd.status, 400);
    let none = ann.post(&node.url(&regenerate), &[("grace", "0")]).await;
    assert_eq!(none.status, 403);
    let other = workspace(&node, "Not mine").await;
    let theirs = submit(
        &ann,
        &node,
        &tab,
        &format!("/console/workspaces/{}/regenerate", other.workspace.id),
        &[("grace", "0")],
    )
    .await;
    assert_eq!(theirs.status, 404);
    assert_eq!(token_status(&node, &key, &old).await, 200);
    let theirs_ok = token_status(&node, &other.application_key, other.secret_key.expose()).await;
    assert_eq!(theirs_ok, 200);

    let members = format!("/console/workspaces/{ws}/members");
    let bad_role = submit(
        &ann,
        &node,
        &members,
        &format!("{members}/invite"),
        &[("email", "bo@example.com"), ("role", "god")],
    )
    .await;
    assert_eq!(bad_role.status, 400);
    let bad_email = submit(
        &ann,
        &node,
        &members,
        &format!("{members}/invite"),
        &[("email", "not an email"), ("role", "member")],
    )
    .await;
    assert_eq!(bad_email.status, 400);
    let nobody = submit(
        &ann,
        &node,
        &members,
        &format!("{members}/role"),
        &[("user_id", "usr_nobody"), ("role", "admin")],
    )
    .await;
    assert_eq!(nobody.status, 404);
    let no_invitation = submit(
        &ann,
        &node,
        &members,
        &format!("/console/workspaces/{ws}/invitations/revoke"),
        &[("invitation_id", "inv_nope")],
    )
    .await;
    assert_eq!(no_invitation.status, 404);
    assert!(
        node.app
            .store
            .pending_invitations(&ws, T0)
            .await
            .unwrap()
            .is_empty()
    );

    let signed_out = Browser::new().get(&node.url(&tab)).await;
    assert_eq!(signed_out.status, 303);
    assert!(
        signed_out
            .location
            .unwrap()
            .starts_with("/login?return_to=")
    );
}

#[tokio::test]
async fn the_account_changes_the_password_and_signs_out_everywhere() {
    let (_db, node, _clock) = node(&[]).await;
    let a = person(&node, "ann@example.com", &[]).await;
    let b = signed_in(&node, "ann@example.com").await;
    let account = a.get(&node.url("/console/account")).await;
    assert_eq!(account.status, 200);
    assert!(account.html.contains("this browser"));
    assert_eq!(account.html.matches("<tr><td>").count(), 2, "two sessions");
    let wrong = submit(
        &a,
        &node,
        "/console/account",
        "/console/account/password",
        &[
            ("current_password", "nope nope"),
            ("new_password", "another good one"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 401);
    let weak = submit(
        &a,
        &node,
        "/console/account",
        "/console/account/password",
        &[("current_password", PASSWORD), ("new_password", "short")],
    )
    .await;
    assert_eq!(weak.status, 400);
    let ok = submit(
        &a,
        &node,
        "/console/account",
        "/console/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "another good one"),
        ],
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.html);
    assert_eq!(
        b.get(&node.url("/console")).await.status,
        303,
        "the other browser is out"
    );
    assert_eq!(
        a.get(&node.url("/console")).await.status,
        200,
        "this one stays"
    );
    let out = submit(
        &a,
        &node,
        "/console/account",
        "/console/account/sessions/end",
        &[],
    )
    .await;
    assert_eq!(out.status, 303);
    assert_eq!(a.get(&node.url("/console")).await.status, 303);
}

#[tokio::test]
async fn every_console_page_is_uncached_unframed_and_runs_only_its_own_script() {
    let (_db, node, _clock) = node(&[]).await;
    let ann = person(&node, "ann@example.com", &[]).await;
    let (ws, _, _) = create_workspace(&ann, &node).await;
    let key = api_key(&ann, &node, &ws).await;
    let pages = [
        "/console".to_owned(),
        format!("/console/workspaces/{ws}/integration"),
        format!("/console/workspaces/{ws}/regenerate"),
        format!("/console/workspaces/{ws}/members"),
        format!("/console/workspaces/{ws}/api-keys"),
        format!("/console/workspaces/{ws}/api-keys/new"),
        key.clone(),
        format!("{key}/roll"),
        format!("{key}/revoke"),
        format!("/console/workspaces/{ws}/audit"),
        format!("/console/workspaces/{ws}/connections"),
        "/console/account".to_owned(),
        "/account/apps".to_owned(),
        "/device".to_owned(),
    ];
    for path in &pages {
        let res = ann.http.get(node.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        for rule in [
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(rule), "{path}: {csp}");
        }
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script>"), "no inline script on {path}");
        assert!(!html.contains(" style="), "no inline style on {path}");
    }
    let page = ann.get(&node.url("/console")).await;
    let js = &page.html[page.html.find("/static/keyflow.").unwrap()..];
    let js = &js[..js.find('"').unwrap()];
    let res = common::http().get(node.url(js)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
}

#[tokio::test]
async fn every_console_form_refuses_a_post_without_its_csrf_token() {
    let (db, node, _clock) = node(&["--signup", "open"]).await;
    make_platform_admin(&node).await;
    let root = signed_in(&node, "root@example.com").await;
    let (ws, _, _) = create_workspace(&root, &node).await;
    let me = node.app.store.members(&ws).await.unwrap()[0]
        .user_id
        .clone();
    let setup = node.app.signup().first_run_link().await.unwrap();
    assert!(setup.is_none());
    let key = api_key(&root, &node, &ws).await;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/console/workspaces".into(), vec![("name", "X")]),
        (
            format!("/console/workspaces/{ws}/api-keys"),
            vec![("name", "k"), ("type", "secret"), ("scope-api:read", "1")],
        ),
        (
            format!("{key}/edit"),
            vec![("name", "k2"), ("scope-api:read", "1")],
        ),
        (format!("{key}/active"), vec![("active", "0")]),
        (format!("{key}/roll"), vec![("overlap", "0")]),
        (format!("{key}/revoke"), vec![]),
        (
            format!("/console/workspaces/{ws}/connections/disconnect"),
            vec![("client_id", "cli_x")],
        ),
        ("/device".into(), vec![("user_code", "BCDF-GHJK")]),
        (
            "/device/decision".into(),
            vec![("user_code", "BCDF-GHJK"), ("decision", "allow")],
        ),
        (
            format!("/console/workspaces/{ws}/regenerate"),
            vec![("grace", "0")],
        ),
        (
            format!("/console/workspaces/{ws}/members/invite"),
            vec![("email", "x@example.com"), ("role", "member")],
        ),
        (
            format!("/console/workspaces/{ws}/members/role"),
            vec![("user_id", &me), ("role", "owner")],
        ),
        (
            format!("/console/workspaces/{ws}/members/remove"),
            vec![("user_id", &me)],
        ),
        (
            format!("/console/workspaces/{ws}/invitations/revoke"),
            vec![("invitation_id", "inv_x")],
        ),
        (
            "/console/account/password".into(),
            vec![
                ("current_password", PASSWORD),
                ("new_password", "0123456789"),
            ],
        ),
        ("/console/account/sessions/end".into(), vec![]),
        ("/console/sign-out".into(), vec![]),
        (
            "/console/admin/users/status".into(),
            vec![("user_id", &me), ("action", "disable")],
        ),
        (
            "/console/admin/users/reset-link".into(),
            vec![("user_id", &me)],
        ),
        (
            "/console/admin/clients".into(),
            vec![("name", "M"), ("redirect_uris", "https://m.example/cb")],
        ),
        (
            "/console/admin/clients/rotate".into(),
            vec![("client_id", "cli_x")],
        ),
        (
            "/account/apps/disconnect".into(),
            vec![("client_id", "cli_x"), ("workspace", &ws)],
        ),
        (
            "/signup".into(),
            vec![
                ("email", "new@example.com"),
                ("name", "N"),
                ("password", PASSWORD),
            ],
        ),
        (
            "/setup".into(),
            vec![
                ("token", "t"),
                ("email", "s@example.com"),
                ("name", "S"),
                ("password", PASSWORD),
            ],
        ),
        (
            "/reset-password".into(),
            vec![("token", "t"), ("password", PASSWORD)],
        ),
    ];
    let audited = audit_rows(&db).await;
    for (path, fields) in &forms {
        let forged: Vec<_> = fields.iter().copied().chain([("csrf", "forged")]).collect();
        for body in [fields.clone(), forged] {
            let p = root.post(&node.url(path), &body).await;
            assert_eq!(p.status, 403, "{path}: {}", p.html);
        }
    }
    assert_eq!(audit_rows(&db).await, audited, "nothing was done");
    assert_eq!(
        root.get(&node.url("/console")).await.status,
        200,
        "still signed in"
    );
}

/// Creates an API key through the console; returns its page's path.
async fn api_key(b: &Browser, node: &keyflow::testing::TestServer, ws: &str) -> String {
    let tab = format!("/console/workspaces/{ws}/api-keys");
    let p = submit(
        b,
        node,
        &tab,
        &tab,
        &[("name", "k"), ("type", "secret"), ("scope-api:read", "1")],
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.html);
    let at = p.html.rfind(&format!("{tab}/")).expect("the key's page");
    let end = at + p.html[at..].find('"').expect("link end");
    p.html[at..end].to_owned()
}

async fn audit_rows(db: &keyflow::testing::TestDb) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

#[tokio::test]
async fn open_sign_up_is_limited_to_ten_a_minute_per_address() {
    let (_db, node, _clock) = node(&["--signup", "open"]).await;
    let b = Browser::new();
    let csrf = b.get(&node.url("/signup")).await.field("csrf");
    for i in 0..11 {
        let email = format!("p{i}@example.com");
        let fields = [
            ("csrf", csrf.as_str()),
            ("email", &email),
            ("name", "P"),
            ("password", PASSWORD),
        ];
        let p = b.post(&node.url("/signup"), &fields).await;
        let expected = if i < 10 { 303 } else { 429 };
        assert_eq!(p.status, expected, "sign-up {i}: {}", p.html);
    }
}
