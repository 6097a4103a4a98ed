//! Files that hold secrets (the master key, the SQLite database and its WAL
//! files) are kept readable by their owner alone.

use std::path::Path;

/// Takes away every permission `path` has beyond `mode` (0o600 for files,
/// 0o700 for directories) and logs the change. A missing file is left alone;
/// a file that cannot be changed (not ours) is reported.
pub fn restrict(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let old = meta.permissions().mode() & 0o7777;
        let new = old & mode;
        if old == new {
            return;
        }
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(new)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                "{} was open to group or others (mode {old:04o}); changed it to {new:04o}",
                path.display()
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                "{} is open to group or others (mode {old:04o}) and cannot be changed: {e}; \
                 chmod {mode:o} it",
                path.display()
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn takes_group_and_other_bits_away_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict(&file, 0o600);
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
        restrict(&file, 0o600);
        assert_eq!(mode(&file), 0o400, "never adds a permission");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        restrict(dir.path(), 0o700);
        assert_eq!(mode(dir.path()), 0o700);
        restrict(&dir.path().join("missing"), 0o600);
    }
}
