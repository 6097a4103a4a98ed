use super::*;
use crate::crypto::signing::Algorithm;
use crate::domain::scope::ScopeSet;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client() -> (ClientRecord, OAuthClientRecord) {
    (
        ClientRecord {
            client_id: "cli_1".into(),
            workspace_id: None,
            kind: ClientKind::ThirdParty,
            name: "Make".into(),
            secret_rotated_at: None,
            tokens_issued: 0,
            last_used_at: None,
            created_at: 0,
            tokens_revoked_before: None,
        },
        OAuthClientRecord {
            client_id: "cli_1".into(),
            public: false,
            redirect_uris: vec!["https://make.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: ScopeSet::parse("openid email profile offline_access api:read api:write")
                .unwrap(),
            logo_uri: None,
            id_token_alg: Algorithm::RS256,
            device_grant: false,
        },
    )
}

fn raw() -> RawAuthorizationRequest {
    RawAuthorizationRequest {
        client_id: Some("cli_1".into()),
        redirect_uri: Some("https://make.example/cb".into()),
        response_type: Some("code".into()),
        scope: Some("openid api:read".into()),
        state: Some("xyz".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    }
}

fn run(raw: RawAuthorizationRequest) -> Result<AuthorizationRequest, AuthorizeError> {
    let policy = ResourcePolicy::new("https://api/v1".into(), []);
    validate(raw, Some(client()), &ScopeCatalogue::default(), &policy)
}

fn redirect_code(r: Result<AuthorizationRequest, AuthorizeError>) -> (AuthorizeErrorCode, String) {
    match r {
        Err(AuthorizeError::Redirect(e)) => {
            assert_eq!(e.redirect_uri, "https://make.example/cb");
            assert_eq!(e.state.as_deref(), Some("xyz"), "state goes back unchanged");
            (e.code, e.description)
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn a_good_request_passes() {
    let r = run(raw()).unwrap();
    assert_eq!(r.scope.to_string(), "api:read openid");
    assert_eq!(r.code_challenge, CHALLENGE);
    assert_eq!(r.state.as_deref(), Some("xyz"));
}

#[test]
fn unknown_clients_and_bad_redirects_never_redirect() {
    let policy = ResourcePolicy::new("https://api/v1".into(), []);
    let cat = ScopeCatalogue::default();
    assert!(matches!(
        validate(raw(), None, &cat, &policy),
        Err(AuthorizeError::Fatal(_))
    ));
    for uri in [
        None,
        Some("https://evil.example/cb"),
        Some("https://make.example/cb/x"),
    ] {
        let r = RawAuthorizationRequest {
            redirect_uri: uri.map(str::to_owned),
            response_type: None,
            ..raw()
        };
        assert!(matches!(run(r), Err(AuthorizeError::Fatal(_))), "{uri:?}");
    }
    let (mut app, oauth) = client();
    app.kind = ClientKind::Application;
    assert!(matches!(
        validate(raw(), Some((app, oauth)), &cat, &policy),
        Err(AuthorizeError::Fatal(_))
    ));
}

#[test]
fn pkce_is_required_and_s256_only() {
    use AuthorizeErrorCode::InvalidRequest;
    let none = RawAuthorizationRequest {
        code_challenge: None,
        ..raw()
    };
    assert_eq!(redirect_code(run(none)).0, InvalidRequest);
    let plain = RawAuthorizationRequest {
        code_challenge_method: Some("plain".into()),
        ..raw()
    };
    let (code, description) = redirect_code(run(plain));
    assert_eq!(code, InvalidRequest);
    assert!(description.contains("S256"));
    let implicit_plain = RawAuthorizationRequest {
        code_challenge_method: None,
        ..raw()
    };
    assert_eq!(redirect_code(run(implicit_plain)).0, InvalidRequest);
    let short = RawAuthorizationRequest {
        code_challenge: Some("abc".into()),
        ..raw()
    };
    assert_eq!(redirect_code(run(short)).0, InvalidRequest);
}

#[test]
fn response_type_and_request_objects() {
    use AuthorizeErrorCode::*;
    for (rt, code) in [
        (None, InvalidRequest),
        (Some("token"), UnsupportedResponseType),
    ] {
        let r = RawAuthorizationRequest {
            response_type: rt.map(str::to_owned),
            ..raw()
        };
        assert_eq!(redirect_code(run(r)).0, code);
    }
    let r = RawAuthorizationRequest {
        request: Some("eyJ".into()),
        ..raw()
    };
    assert_eq!(redirect_code(run(r)).0, RequestNotSupported);
    let r = RawAuthorizationRequest {
        response_mode: Some("fragment".into()),
        ..raw()
    };
    assert_eq!(redirect_code(run(r)).0, InvalidRequest);
}

#[test]
fn scopes_must_be_known_and_registered() {
    use AuthorizeErrorCode::InvalidScope;
    for scope in ["openid nonsense", "workspace:admin", "bad\"scope"] {
        let r = RawAuthorizationRequest {
            scope: Some(scope.into()),
            ..raw()
        };
        assert_eq!(redirect_code(run(r)).0, InvalidScope, "{scope}");
    }
    let defaults = run(RawAuthorizationRequest {
        scope: None,
        ..raw()
    })
    .unwrap();
    assert_eq!(defaults.scope.to_string(), "api:read api:write");
}

#[test]
fn prompt_and_max_age() {
    let r = run(RawAuthorizationRequest {
        prompt: Some("login consent".into()),
        max_age: Some("300".into()),
        ..raw()
    })
    .unwrap();
    assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
    assert_eq!(r.max_age, Some(300));
    for (prompt, max_age) in [
        (Some("none login"), None),
        (Some("bogus"), None),
        (None, Some("-1")),
        (None, Some("soon")),
    ] {
        let r = RawAuthorizationRequest {
            prompt: prompt.map(str::to_owned),
            max_age: max_age.map(str::to_owned),
            ..raw()
        };
        assert_eq!(redirect_code(run(r)).0, AuthorizeErrorCode::InvalidRequest);
    }
}

#[test]
fn unknown_resources_are_invalid_target() {
    let r = RawAuthorizationRequest {
        resources: vec!["https://elsewhere/".into()],
        ..raw()
    };
    assert_eq!(redirect_code(run(r)).0, AuthorizeErrorCode::InvalidTarget);
}

#[test]
fn a_login_is_needed_when_absent_forced_or_too_old() {
    let plain = run(raw()).unwrap();
    assert!(plain.needs_login(SignIn::Absent, 1000));
    assert!(!plain.needs_login(SignIn::Earlier(0), 1000));
    let forced = run(RawAuthorizationRequest {
        prompt: Some("login".into()),
        ..raw()
    })
    .unwrap();
    assert!(forced.needs_login(SignIn::Earlier(999), 1000));
    // The password typed in this request satisfies prompt=login.
    assert!(!forced.needs_login(SignIn::JustNow, 1000));
    let aged = run(RawAuthorizationRequest {
        max_age: Some("300".into()),
        ..raw()
    })
    .unwrap();
    assert!(!aged.needs_login(SignIn::Earlier(701), 1000));
    assert!(aged.needs_login(SignIn::Earlier(700), 1000));
    let zero = run(RawAuthorizationRequest {
        max_age: Some("0".into()),
        ..raw()
    })
    .unwrap();
    assert!(zero.needs_login(SignIn::Earlier(1000), 1000));
    assert!(!zero.needs_login(SignIn::JustNow, 1000));
}

#[test]
fn errors_go_back_with_the_state() {
    let r = run(RawAuthorizationRequest {
        state: Some("xyz".into()),
        ..raw()
    })
    .unwrap();
    let e = r.error(AuthorizeErrorCode::AccessDenied, "no");
    assert_eq!(e.redirect_uri, r.redirect_uri);
    assert_eq!(e.state.as_deref(), Some("xyz"));
    assert_eq!(e.description, "no");
}
