//! The key forms: "Create API key" and a key's settings, read from a post
//! (with what is wrong said on the page) and shown again as typed.

use super::*;

/// The create form, empty.
pub(super) fn new_form(app: &App) -> KeyForm {
    KeyForm {
        name: String::new(),
        key_type: "secret".to_owned(),
        scopes: scope_choices(app, &ScopeSet::default()),
        expires: "never".to_owned(),
        expires_on: String::new(),
        limits: limit_fields(app, ApiKeyType::Secret, None),
        limits_set: false,
    }
}

pub(super) fn scope_choices(app: &App, checked: &ScopeSet) -> Vec<ScopeChoice> {
    app.api_keys
        .grantable_scopes()
        .into_iter()
        .map(|(name, description)| {
            let types: Vec<ApiKeyType> =
                [ApiKeyType::Secret, ApiKeyType::Client, ApiKeyType::ReadOnly]
                    .into_iter()
                    .filter(|t| t.allows_scope(&name))
                    .collect();
            let list = |f: fn(ApiKeyType) -> &'static str, sep| {
                types.iter().map(|t| f(*t)).collect::<Vec<_>>().join(sep)
            };
            ScopeChoice {
                field: format!("scope-{name}"),
                checked: checked.contains(&name),
                types: list(type_label, ", "),
                type_values: list(ApiKeyType::as_str, " "),
                name,
                description,
            }
        })
        .collect()
}

/// The three per-minute limits: the override, if any, and the default.
pub(super) fn limit_fields(
    app: &App,
    t: ApiKeyType,
    overrides: Option<Overrides>,
) -> Vec<LimitView> {
    let defaults = app.settings.api_key_limits.for_type(t);
    let o = overrides.unwrap_or_default();
    [
        (Category::Read, "Read", o.read),
        (Category::Write, "Write", o.write),
        (Category::Token, "Token", o.token),
    ]
    .into_iter()
    .map(|(c, label, set)| LimitView {
        field: format!("limit-{}", c.as_str()),
        label,
        default: defaults.get(c),
        value: set.map(|v| v.to_string()).unwrap_or_default(),
        effective: set.unwrap_or(defaults.get(c)),
        remaining: None,
        refills_in: 0,
    })
    .collect()
}

/// A bad form answers with this message on the page it came from.
pub(super) struct Refused(pub(super) String);

pub(super) fn scopes_field(app: &App, form: &OAuthForm) -> ScopeSet {
    let names: Vec<String> = app
        .api_keys
        .grantable_scopes()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| form.get(&format!("scope-{n}")).is_some())
        .collect();
    ScopeSet::parse(&names.join(" ")).unwrap_or_default()
}

pub(super) fn limits_field(form: &OAuthForm) -> Result<Option<Overrides>, Refused> {
    let one = |c: &str| -> Result<Option<u32>, Refused> {
        match form.get(&format!("limit-{c}")).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Refused(format!(
                    "The {c} limit must be a whole number of requests per minute."
                ))
            }),
        }
    };
    let o = Overrides {
        read: one("read")?,
        write: one("write")?,
        token: one("token")?,
    };
    o.validate()
        .map_err(|e| Refused(format!("{}.", capital(&e))))?;
    Ok((o != Overrides::default()).then_some(o))
}

pub(super) fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn expiry_field(form: &OAuthForm, now: UnixTime) -> Result<Option<UnixTime>, Refused> {
    match form.get("expires").unwrap_or("never") {
        "never" => Ok(None),
        "30" => Ok(Some(now + 30 * 86_400)),
        "90" => Ok(Some(now + 90 * 86_400)),
        "date" => {
            let day = form
                .get("expires_on")
                .and_then(crate::domain::usage::parse_day)
                .ok_or_else(|| Refused("Choose the date the key expires on.".into()))?;
            // The key works through the chosen day (UTC).
            let end = crate::domain::usage::day_start(day + 1);
            if end <= now {
                return Err(Refused("The expiry date must be in the future.".into()));
            }
            Ok(Some(end))
        }
        _ => Err(Refused("Choose when the key expires.".into())),
    }
}

/// The form as posted, to show again after a refusal.
pub(super) fn posted_form(app: &App, form: &OAuthForm) -> KeyForm {
    let key_type = form.get("type").unwrap_or("secret");
    let t: ApiKeyType = key_type.parse().unwrap_or(ApiKeyType::Secret);
    KeyForm {
        name: form.get("name").unwrap_or_default().to_owned(),
        key_type: key_type.to_owned(),
        scopes: scope_choices(app, &scopes_field(app, form)),
        expires: form
            .get("expires")
            .filter(|e| EXPIRY_CHOICES.contains(e))
            .unwrap_or("never")
            .to_owned(),
        expires_on: form.get("expires_on").unwrap_or_default().to_owned(),
        limits: limit_fields(app, t, limits_field(form).ok().flatten()),
        limits_set: ["limit-read", "limit-write", "limit-token"]
            .iter()
            .any(|f| form.get(f).is_some()),
    }
}

/// Every field of a key form, to post again after a password prompt.
pub(super) fn form_fields(app: &App, form: &OAuthForm) -> Vec<(String, String)> {
    let mut names = vec![
        "name".to_owned(),
        "type".to_owned(),
        "expires".to_owned(),
        "expires_on".to_owned(),
        "limit-read".to_owned(),
        "limit-write".to_owned(),
        "limit-token".to_owned(),
        "overlap".to_owned(),
    ];
    names.extend(
        app.api_keys
            .grantable_scopes()
            .into_iter()
            .map(|(n, _)| format!("scope-{n}")),
    );
    names
        .into_iter()
        .filter_map(|n| form.get(&n).map(|v| (n.clone(), v.to_owned())))
        .collect()
}

pub(super) async fn creator(
    app: &App,
    session: &SignedIn,
    access: &WorkspaceAccess,
    origin: crate::domain::audit::Origin,
) -> Result<Creator, PageError> {
    Ok(app
        .api_keys
        .person_creator(&session.user.id, access, audit_context(session, origin))?)
}
