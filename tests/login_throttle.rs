//! Failed sign-ins are throttled per account and per IP even when the
//! attempts arrive all at once: each takes its place in the budget before
//! its password is checked. A 401 means a password was checked; a 429
//! means it was not.

mod common;

use common::MASTER;
use common::browser::{Browser, PASSWORD, user};
use keyflow::testing::{TestDb, TestServer};
use tokio::task::JoinSet;

const EMAIL: &str = "ann@example.com";

/// Posts the standalone login form `n` times at once from `ip` (through
/// the trusted proxy) and counts the answers by status.
async fn at_once(
    node: &TestServer,
    ip: &str,
    n: usize,
    email: impl Fn(usize) -> String,
    password: &str,
) -> (usize, usize, usize) {
    let browser = Browser::new();
    let login = browser.get(&node.url("/login")).await;
    assert_eq!(login.status, 200);
    let csrf = login.field("csrf");
    let mut posts = JoinSet::new();
    for i in 0..n {
        let http = browser.http.clone();
        let url = node.url("/login");
        let form = [
            ("username", email(i)),
            ("password", password.to_owned()),
            ("csrf", csrf.clone()),
            ("return_to", "/account/apps".to_owned()),
        ];
        let ip = ip.to_owned();
        posts.spawn(async move {
            let res = http
                .post(url)
                .header("x-forwarded-for", ip)
                .form(&form)
                .send()
                .await
                .expect("POST /login");
            res.status().as_u16()
        });
    }
    let (mut checked, mut throttled, mut signed_in) = (0, 0, 0);
    while let Some(status) = posts.join_next().await {
        match status.expect("post task") {
            401 => checked += 1,
            429 => throttled += 1,
            303 => signed_in += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    (checked, throttled, signed_in)
}

async fn node(db: &TestDb) -> TestServer {
    let node = TestServer::start(&db.url, MASTER, &["--trusted-proxy", "127.0.0.1/32"]).await;
    user(&node, EMAIL, &[]).await;
    node
}

#[tokio::test]
async fn parallel_wrong_passwords_get_no_more_checks_than_the_account_budget() {
    for db in TestDb::all().await {
        let node = node(&db).await;
        let (checked, throttled, _) = at_once(
            &node,
            "203.0.113.1",
            40,
            |_| EMAIL.into(),
            "wrong password!",
        )
        .await;
        assert!(checked <= 5, "{checked} password checks ran");
        assert_eq!(checked + throttled, 40);
        // Locked: the right password waits too, even 30 at once.
        let (checked, throttled, signed_in) =
            at_once(&node, "203.0.113.2", 30, |_| EMAIL.into(), PASSWORD).await;
        assert_eq!(
            (checked, signed_in, throttled),
            (0, 0, 30),
            "{:?}",
            db.backend
        );
    }
}

#[tokio::test]
async fn parallel_attempts_from_one_address_get_no_more_checks_than_its_budget() {
    for db in TestDb::all().await {
        let node = node(&db).await;
        let (checked, throttled, _) = at_once(
            &node,
            "198.51.100.9",
            40,
            |i| format!("user{i}@example.com"),
            "wrong password!",
        )
        .await;
        assert!(checked <= 20, "{checked} password checks ran");
        assert_eq!(checked + throttled, 40);
        // The account itself is not locked from another address.
        let (_, _, signed_in) =
            at_once(&node, "198.51.100.10", 1, |_| EMAIL.into(), PASSWORD).await;
        assert_eq!(signed_in, 1);
    }
}

#[tokio::test]
async fn a_successful_sign_in_gives_its_attempt_back() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ip = "192.0.2.4";
    for _ in 0..4 {
        assert_eq!(
            at_once(&node, ip, 1, |_| EMAIL.into(), "wrong password!")
                .await
                .0,
            1
        );
    }
    assert_eq!(at_once(&node, ip, 1, |_| EMAIL.into(), PASSWORD).await.2, 1);
    // Had the success counted, this would be the sixth step of five.
    assert_eq!(
        at_once(&node, ip, 1, |_| EMAIL.into(), "wrong password!")
            .await
            .0,
        1
    );
    assert_eq!(
        at_once(&node, ip, 1, |_| EMAIL.into(), "wrong password!")
            .await
            .1,
        1
    );
}
