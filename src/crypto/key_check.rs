//! Which master key a database belongs to. A value sealed under the master
//! key is stored with the first key; every process checks it with one
//! decryption before it writes anything, so that a CLI run with another
//! keys directory fails instead of minting secrets the server cannot check.

use std::path::Path;

use crate::clock::UnixTime;
use crate::crypto::master_key::{MasterKey, MasterKeyError, MasterKeySource};
use crate::storage::{StorageError, Store};

/// Binds the check value to its purpose: no other sealed value opens as it.
const AAD: &[u8] = b"keyflow master key check v1";
const PLAINTEXT: &[u8] = b"keyflow";

/// Whether this command may make a new master key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generate {
    /// `serve` and `migrate`: when the database is empty.
    OnEmptyDatabase,
    /// Every other command.
    Never,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "{source_name} is not the master key database {database} was set up with: anything \
         written with it would be unusable. Use the server's key: point --keys-dir / \
         KEYFLOW_KEYS_DIR at the server's keys directory, or set KEYFLOW_MASTER_KEY as the server does"
    )]
    WrongKey {
        source_name: String,
        database: String,
    },
    #[error(
        "no master key at {path}, and database {database} already holds data sealed under one. \
         Point --keys-dir / KEYFLOW_KEYS_DIR at the server's keys directory, or set \
         KEYFLOW_MASTER_KEY as the server does"
    )]
    MissingForData { path: String, database: String },
    #[error(
        "no master key at {path}. `keyflow migrate` or `keyflow serve` creates one with a new \
         database; otherwise point --keys-dir / KEYFLOW_KEYS_DIR at the server's keys directory, \
         or set KEYFLOW_MASTER_KEY as the server does"
    )]
    Missing { path: String },
    #[error(transparent)]
    Key(#[from] MasterKeyError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Loads the master key (`KEYFLOW_MASTER_KEY`, else `keys_dir/master.key`)
/// and proves it is the database's: by the stored check value, or, in a
/// database from before check values, by a signing key, after which the
/// check value is written. A key file is created only as `generate` allows.
pub async fn unlock(
    store: &dyn Store,
    database: &str,
    env: Option<&str>,
    keys_dir: &Path,
    generate: Generate,
    now: UnixTime,
) -> Result<(MasterKey, MasterKeySource), KeyCheckError> {
    let stored = store.master_key_check().await?;
    let (master, source) = match env {
        Some(value) => (MasterKey::from_env(value)?, MasterKeySource::Environment),
        None => match MasterKey::read_file(keys_dir)? {
            Some((key, path)) => (
                key,
                MasterKeySource::File {
                    path,
                    created: false,
                },
            ),
            None => {
                let path = keys_dir.join(crate::crypto::master_key::MASTER_KEY_FILE);
                let path = path.display().to_string();
                let has_data = stored.is_some() || store.holds_data().await?;
                if has_data {
                    return Err(KeyCheckError::MissingForData {
                        path,
                        database: database.to_owned(),
                    });
                }
                if generate == Generate::Never {
                    return Err(KeyCheckError::Missing { path });
                }
                MasterKey::load_or_create(None, keys_dir)?
            }
        },
    };
    let wrong = || KeyCheckError::WrongKey {
        source_name: describe(&source),
        database: database.to_owned(),
    };
    let check = match stored {
        Some(check) => check,
        None => {
            if !opens_a_signing_key(store, &master).await? {
                return Err(wrong());
            }
            // Of two processes setting up one database, the first write
            // wins and both check against it.
            store
                .init_master_key_check(&master.seal(AAD, PLAINTEXT), now)
                .await?
        }
    };
    match master.open(AAD, &check) {
        Ok(plain) if plain.as_slice() == PLAINTEXT => Ok((master, source)),
        _ => Err(wrong()),
    }
}

/// True when the database has no signing key yet, or its first one opens.
async fn opens_a_signing_key(store: &dyn Store, master: &MasterKey) -> Result<bool, StorageError> {
    Ok(match store.list_signing_keys().await?.first() {
        Some(k) => master.open(k.kid.as_bytes(), &k.sealed_private_key).is_ok(),
        None => true,
    })
}

fn describe(source: &MasterKeySource) -> String {
    match source {
        MasterKeySource::Environment => "KEYFLOW_MASTER_KEY".to_owned(),
        MasterKeySource::File { path, .. } => format!("the master key in {}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    async fn unlock_in(
        db: &TestDb,
        dir: &Path,
        env: Option<&str>,
        generate: Generate,
    ) -> Result<MasterKeySource, KeyCheckError> {
        let store = db.store().await;
        unlock(store.as_ref(), &db.url, env, dir, generate, 1_000)
            .await
            .map(|(_, source)| source)
    }

    #[tokio::test]
    async fn the_first_key_is_the_databases_and_no_other_is_accepted() {
        for db in TestDb::all().await {
            let dir = tempfile::tempdir().unwrap();
            let keys = dir.path().join("keys");
            let elsewhere = dir.path().join("elsewhere");

            // A management command on an empty database makes no key.
            let err = unlock_in(&db, &keys, None, Generate::Never).await;
            assert!(matches!(err, Err(KeyCheckError::Missing { .. })), "{err:?}");
            assert!(!keys.exists());

            let made = unlock_in(&db, &keys, None, Generate::OnEmptyDatabase)
                .await
                .unwrap();
            assert!(matches!(made, MasterKeySource::File { created: true, .. }));
            let again = unlock_in(&db, &keys, None, Generate::Never).await.unwrap();
            assert!(matches!(
                again,
                MasterKeySource::File { created: false, .. }
            ));

            // Another directory: not even serve may make a second key now.
            for generate in [Generate::Never, Generate::OnEmptyDatabase] {
                let err = unlock_in(&db, &elsewhere, None, generate).await;
                assert!(
                    matches!(err, Err(KeyCheckError::MissingForData { .. })),
                    "{err:?}"
                );
            }
            assert!(!elsewhere.exists());

            // A key that exists but is not the database's.
            let other = MasterKey::generate_encoded();
            let err = unlock_in(&db, &keys, Some(&other), Generate::Never).await;
            assert!(
                matches!(err, Err(KeyCheckError::WrongKey { .. })),
                "{err:?}"
            );
            let text = std::fs::read_to_string(keys.join("master.key")).unwrap();
            let env = unlock_in(&db, &elsewhere, Some(text.trim()), Generate::Never)
                .await
                .unwrap();
            assert_eq!(env, MasterKeySource::Environment);
        }
    }

    #[tokio::test]
    async fn a_database_from_before_check_values_is_checked_by_its_signing_keys() {
        for db in TestDb::all().await {
            let store = db.store().await;
            let master = MasterKey::from_bytes([3; 32]);
            crate::crypto::keyring::create_key(
                store.as_ref(),
                &master,
                crate::crypto::signing::Algorithm::ES256,
                1_000,
                false,
                &crate::domain::audit::AuditContext::cli(),
            )
            .await
            .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let wrong = base64_of([4; 32]);
            let err = unlock_in(&db, dir.path(), Some(&wrong), Generate::OnEmptyDatabase).await;
            assert!(
                matches!(err, Err(KeyCheckError::WrongKey { .. })),
                "{err:?}"
            );
            assert_eq!(store.master_key_check().await.unwrap(), None);

            let right = base64_of([3; 32]);
            unlock_in(&db, dir.path(), Some(&right), Generate::Never)
                .await
                .unwrap();
            assert!(store.master_key_check().await.unwrap().is_some());
            let err = unlock_in(&db, dir.path(), Some(&wrong), Generate::Never).await;
            assert!(
                matches!(err, Err(KeyCheckError::WrongKey { .. })),
                "{err:?}"
            );
        }
    }

    fn base64_of(key: [u8; 32]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(key)
    }
}
