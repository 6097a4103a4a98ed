use super::*;

#[test]
fn key_files_are_looked_up_in_order_before_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let sub = repo.join("a/b");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::create_dir_all(home.join(".keyflow")).unwrap();
    let lookup = |explicit: Option<&Path>| {
        find_key_file(&Lookup {
            explicit,
            cwd: &sub,
            home: Some(&home),
        })
    };

    assert_eq!(lookup(None), None);
    let err = nothing_found(
        &Lookup {
            explicit: None,
            cwd: &sub,
            home: Some(&home),
        },
        "https://auth.example.com",
    )
    .to_string();
    for place in [
        "-k FILE",
        "keyflow.key",
        "api.key",
        "keyflow login --url https://auth.example.com",
        "credentials.toml",
    ] {
        assert!(err.contains(place), "{place} in {err}");
    }
    std::fs::write(home.join(".keyflow/api.key"), "sk_home").unwrap();
    assert_eq!(lookup(None), Some(home.join(".keyflow/api.key")));
    std::fs::write(repo.join("keyflow.key"), "sk_repo\n").unwrap();
    assert_eq!(lookup(None), Some(repo.join("keyflow.key")));
    let explicit = tmp.path().join("mine.key");
    assert_eq!(lookup(Some(&explicit)), Some(explicit.clone()));
    assert_eq!(read_key_file(&repo.join("keyflow.key")).unwrap(), "sk_repo");
    std::fs::write(&explicit, "  \n").unwrap();
    assert!(
        read_key_file(&explicit)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}

#[test]
fn server_urls_are_kept_without_a_trailing_slash() {
    assert_eq!(
        normalize_url("https://auth.example.com/").unwrap(),
        "https://auth.example.com"
    );
    assert!(normalize_url("ftp://auth.example.com").is_err());
    assert!(normalize_url("auth.example.com").is_err());
}
