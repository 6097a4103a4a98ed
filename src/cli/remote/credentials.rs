//! `~/.keyflow/credentials.toml`: the sessions `keyflow login` keeps, one
//! per server URL, readable by its owner alone (mode 0600, in a 0700
//! folder). Writes go to a new file renamed over the old one, so that a
//! crash never leaves half a file; refreshes take a lock, so that two
//! commands never spend one refresh token twice (which the server would
//! take for a replay and answer by ending the session).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// `$HOME`, where `.keyflow/` lives.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The folder of the CLI's files.
pub fn folder(home: &Path) -> PathBuf {
    home.join(".keyflow")
}

pub fn path(home: &Path) -> PathBuf {
    folder(home).join("credentials.toml")
}

/// One signed-in session.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub email: Option<String>,
    pub user_id: Option<String>,
    /// The workspace chosen when signing in: commands that name none act
    /// on it.
    pub workspace_id: Option<String>,
    pub access_token: String,
    /// Unix seconds.
    pub access_token_expires_at: i64,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field("workspace_id", &self.workspace_id)
            .field("access_token", &crate::domain::secret::Redacted)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("refresh_token", &crate::domain::secret::Redacted)
            .finish()
    }
}

/// The whole file: sessions by server URL.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub servers: BTreeMap<String, Entry>,
}

impl Credentials {
    /// The file under `home`; empty when there is none yet.
    pub fn load(home: &Path) -> anyhow::Result<Credentials> {
        let path = path(home);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        warn_if_readable_by_others(&path);
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    /// Writes the file with mode 0600: a new file renamed over the old.
    pub fn save(&self, home: &Path) -> anyhow::Result<()> {
        let dir = create_folder(home)?;
        let path = path(home);
        let tmp = dir.join(format!(".credentials.toml.{}", std::process::id()));
        let text = toml::to_string(self).context("encoding the credentials")?;
        let mut file = private_file(&tmp)?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }
}

fn create_folder(home: &Path) -> anyhow::Result<PathBuf> {
    let dir = folder(home);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A new file only its owner may read and write.
fn private_file(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

/// Warns on stderr when group or others may read `path`.
pub(crate) fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "keyflow: warning: {} is readable by others; run chmod 600 on it",
                path.display()
            );
        }
    }
}

/// An exclusive lock on the credentials, held until dropped: a refresh
/// reads, spends and writes under it.
pub struct Lock(#[allow(dead_code, reason = "held for its lock")] File);

impl Lock {
    pub fn take(home: &Path) -> anyhow::Result<Lock> {
        let dir = create_folder(home)?;
        let file = private_file(&dir.join("credentials.lock"))?;
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor this process owns; the lock
            // goes with the file when it is closed.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(std::io::Error::last_os_error()).context("locking the credentials");
            }
        }
        Ok(Lock(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            email: Some("ann@example.com".into()),
            user_id: Some("usr_1".into()),
            workspace_id: Some("ws_1".into()),
            access_token: "eyJ.secret.token".into(),
            access_token_expires_at: 1_900_000_000,
            refresh_token: Some("rt_secret".into()),
        }
    }

    #[test]
    fn sessions_are_kept_per_server_in_a_private_file() {
        let home = tempfile::tempdir().unwrap();
        assert!(Credentials::load(home.path()).unwrap().servers.is_empty());
        let mut c = Credentials::default();
        c.servers.insert("https://a.example".into(), entry());
        c.servers.insert("http://127.0.0.1:8080".into(), entry());
        c.save(home.path()).unwrap();
        let back = Credentials::load(home.path()).unwrap();
        assert_eq!(back.servers.len(), 2);
        assert_eq!(back.servers["https://a.example"], entry());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path(home.path())), 0o600);
            assert_eq!(mode(&folder(home.path())), 0o700);
        }
        let _lock = Lock::take(home.path()).unwrap();
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let shown = format!("{:?}", entry());
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("ann@example.com"));
    }
}
