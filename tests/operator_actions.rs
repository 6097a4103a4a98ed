//! What an operator takes away takes effect at once: a disabled user is
//! signed out and their grants end, a removed member's grants in the
//! workspace end (never the last owner's), a deleted client's grants and
//! secret end, and a client's narrowed scopes apply at the next refresh.
//! Run on every backend.

mod common;

use common::browser::{Browser, PASSWORD, user};
use common::connected::{Connected, EMAIL, REDIRECT, authorize_url, connected_on};
use common::{basic, http};
use keyflow::domain::audit::AuditContext;
use keyflow::domain::user::Role;
use keyflow::service::accounts::{self, AccountError};
use keyflow::service::integrations::{self, ClientChanges};
use keyflow::service::workspaces;
use keyflow::storage::ClientKind;
use keyflow::testing::TestDb;

impl Connected {
    fn store(&self) -> &dyn keyflow::storage::Store {
        self.node.app.store.as_ref()
    }

    fn now(&self) -> i64 {
        self.node.app.clock.now()
    }

    async fn user_id(&self) -> String {
        self.store().user_by_email(EMAIL).await.unwrap().unwrap().id
    }

    async fn workspace_id(&self) -> String {
        let id = self.user_id().await;
        self.store().memberships(&id).await.unwrap()[0]
            .workspace_id
            .clone()
    }

    /// Whether a freshly registered resource server finds the access
    /// token of the code exchange active.
    async fn access_token_active(&self) -> bool {
        let rs = workspaces::Workspaces::new(self.store(), self.node.app.clients.hasher())
            .create_resource_server("probe", self.now(), &AuditContext::cli())
            .await
            .unwrap();
        let res = http()
            .post(self.node.url("/oauth/introspect"))
            .header("authorization", basic(&rs.client_id, rs.secret.expose()))
            .form(&[("token", self.tokens["access_token"].as_str().unwrap())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<serde_json::Value>().await.unwrap()["active"] == true
    }

    /// Signs in afresh in a new browser, outside any flow.
    async fn sign_in_status(&self) -> (u16, String) {
        let browser = Browser::new();
        let url = authorize_url(&self.node, &self.client_id, "openid");
        let login = browser.get(url.as_str()).await;
        let page = browser.sign_in(&self.node, &login, EMAIL, PASSWORD).await;
        (page.status, page.html)
    }
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_loses_every_grant_and_cannot_sign_in() {
    for db in TestDb::all().await {
        let c = connected_on(db).await;
        let user_id = c.user_id().await;
        assert_eq!(c.apps().await.status, 200, "signed in");
        assert!(c.access_token_active().await);

        accounts::disable_user(c.store(), &user_id, c.now(), &AuditContext::cli())
            .await
            .unwrap();
        let a = c.refresh().await;
        assert_eq!(a.json["error"], "invalid_grant", "{}", a.json);
        assert!(!c.access_token_active().await, "denylisted");
        assert_eq!(c.apps().await.status, 303, "the session ended");
        let (status, html) = c.sign_in_status().await;
        assert_eq!(status, 403);
        assert!(html.contains("This account is disabled"), "{html}");
        let again =
            accounts::disable_user(c.store(), &user_id, c.now(), &AuditContext::cli()).await;
        assert!(
            matches!(again, Err(AccountError::AlreadyDisabled)),
            "{again:?}"
        );
        let listed = c.store().user_by_id(&user_id).await.unwrap().unwrap();
        assert!(listed.disabled_at.is_some());

        accounts::enable_user(c.store(), &user_id, c.now(), &AuditContext::cli())
            .await
            .unwrap();
        let (status, html) = c.sign_in_status().await;
        assert_eq!(status, 200, "signed in again: {html}");
        assert!(
            html.contains("name=\"decision\""),
            "the consent page: {html}"
        );
        assert_eq!(c.refresh().await.status, 400, "what was ended stays ended");
        let again = accounts::enable_user(c.store(), &user_id, c.now(), &AuditContext::cli()).await;
        assert!(matches!(again, Err(AccountError::NotDisabled)), "{again:?}");
    }
}

#[tokio::test]
async fn a_removed_member_loses_the_workspaces_grants_but_the_last_owner_stays() {
    for db in TestDb::all().await {
        let c = connected_on(db).await;
        let (user_id, ws) = (c.user_id().await, c.workspace_id().await);
        let remove = |who: String| {
            let ws = ws.clone();
            let c = &c;
            async move {
                accounts::remove_membership(c.store(), &who, &ws, c.now(), &AuditContext::cli())
                    .await
            }
        };
        let last = remove(user_id.clone()).await;
        assert!(matches!(last, Err(AccountError::LastOwner)), "{last:?}");
        assert_eq!(c.refresh().await.status, 200, "nothing changed");

        let bob = user(&c.node, "bob@example.com", &[(&ws, Role::Owner)]).await;
        remove(user_id.clone()).await.unwrap();
        assert!(c.store().memberships(&user_id).await.unwrap().is_empty());
        assert!(!c.access_token_active().await, "denylisted");
        // The refresh token of the exchange was rotated by the first
        // refresh above, and its successor is revoked too.
        let apps = c.apps().await;
        assert!(!apps.html.contains("name=\"client_id\""), "{}", apps.html);
        let again = remove(user_id.clone()).await;
        assert!(matches!(again, Err(AccountError::NotAMember)), "{again:?}");
        let last = remove(bob).await;
        assert!(matches!(last, Err(AccountError::LastOwner)), "{last:?}");
    }
}

#[tokio::test]
async fn a_deleted_client_loses_its_grants_and_its_secret() {
    for db in TestDb::all().await {
        let c = connected_on(db).await;
        let wrong_kind = integrations::delete_client(
            c.store(),
            &c.client_id,
            ClientKind::ResourceServer,
            c.now(),
            &AuditContext::cli(),
        )
        .await;
        assert!(
            matches!(wrong_kind, Err(AccountError::NoSuchResourceServer(_))),
            "{wrong_kind:?}"
        );
        assert_eq!(c.refresh().await.status, 200, "still there");

        integrations::delete_client(
            c.store(),
            &c.client_id,
            ClientKind::ThirdParty,
            c.now(),
            &AuditContext::cli(),
        )
        .await
        .unwrap();
        let a = c.refresh().await;
        assert_eq!(a.status, 401, "{}", a.json);
        assert_eq!(a.json["error"], "invalid_client");
        assert!(!c.access_token_active().await, "denylisted");
        assert!(
            c.store()
                .oauth_client(&c.client_id)
                .await
                .unwrap()
                .is_none()
        );
        let apps = c.apps().await;
        assert!(!apps.html.contains("name=\"client_id\""), "{}", apps.html);
        let again = integrations::delete_client(
            c.store(),
            &c.client_id,
            ClientKind::ThirdParty,
            c.now(),
            &AuditContext::cli(),
        )
        .await;
        assert!(
            matches!(again, Err(AccountError::NoSuchClient(_))),
            "{again:?}"
        );
    }
}

#[tokio::test]
async fn a_changed_client_is_checked_and_narrowed_scopes_apply_at_refresh() {
    for db in TestDb::all().await {
        let c = connected_on(db).await;
        let update = |changes: ClientChanges| {
            let c = &c;
            async move {
                integrations::update_client(
                    c.store(),
                    &c.node.app.settings.scopes,
                    &c.client_id,
                    changes,
                    c.now(),
                    &AuditContext::cli(),
                )
                .await
            }
        };
        let bad = update(ClientChanges {
            redirect_uris: Some(vec!["http://evil.example/cb".into()]),
            ..Default::default()
        })
        .await;
        assert!(matches!(bad, Err(AccountError::RedirectUri(_))), "{bad:?}");
        let unknown = update(ClientChanges {
            scopes: Some(vec!["no:such".into()]),
            ..Default::default()
        })
        .await;
        assert!(
            matches!(unknown, Err(AccountError::UnknownScope(_))),
            "{unknown:?}"
        );
        let (_, unchanged) = c.store().oauth_client(&c.client_id).await.unwrap().unwrap();
        assert_eq!(unchanged.redirect_uris, [REDIRECT]);

        update(ClientChanges {
            name: Some("Make (EU)".into()),
            scopes: Some(vec!["openid offline_access".into()]),
            logo_uri: Some(Some("https://make.example/logo.png".into())),
            ..Default::default()
        })
        .await
        .unwrap();
        let (client, oauth) = c.store().oauth_client(&c.client_id).await.unwrap().unwrap();
        assert_eq!(client.name, "Make (EU)");
        assert_eq!(oauth.scopes.to_string(), "offline_access openid");
        assert_eq!(
            oauth.logo_uri.as_deref(),
            Some("https://make.example/logo.png")
        );
        assert_eq!(oauth.redirect_uris, [REDIRECT], "not given, not changed");
        let a = c.refresh().await;
        assert_eq!(a.status, 200, "{}", a.json);
        assert_eq!(a.json["scope"], "offline_access openid", "api:read is gone");
    }
}
