//! The queries, written once in the SQL both backends speak (`$n`
//! placeholders, `RETURNING`, partial indexes) and expanded into one
//! implementation per backend: `impl_sql_store!` implements [`Store`] and
//! every aggregate's trait for a backend's store type, which supplies
//! `pool`, `begin_write()`, `write_turn()` and its migrator.
//!
//! Each aggregate's queries are a macro of their own in the file named for
//! it. A single generic implementation over `sqlx::Database` was measured
//! against these macros; see `docs/architecture.md` (Storage) for why the
//! macros stayed.
//!
//! [`Store`]: crate::storage::Store

pub(super) mod api_keys;
pub(super) mod audit;
mod auth_rows;
mod claims;
pub(super) mod clients;
pub(super) mod consents;
mod console_rows;
pub(super) mod device_codes;
pub(super) mod grants;
mod helpers;
pub(super) mod invitations;
pub(super) mod links;
pub(super) mod rate_limits;
pub(super) mod revocations;
mod rows;
pub(super) mod sessions;
pub(super) mod signing_keys;
pub(super) mod usage;
pub(super) mod users;
pub(super) mod workspaces;

pub(super) use auth_rows::*;
pub(super) use claims::{Claim, bind_claim};
pub(super) use console_rows::*;
pub(super) use helpers::*;
pub(super) use rows::*;
pub(super) use usage::{ADD_API_KEY_DAY, ADD_CLIENT_DAY};

macro_rules! impl_sql_store {
    ($store:ty, $db:ty, $backend:expr) => {
        $crate::storage::sql::impl_helpers!($store, $db);
        $crate::storage::sql::workspaces::impl_workspaces!($store, $db);
        $crate::storage::sql::clients::impl_clients!($store, $db);
        $crate::storage::sql::signing_keys::impl_signing_keys!($store, $db);
        $crate::storage::sql::revocations::impl_revocations!($store, $db);
        $crate::storage::sql::audit::impl_audit!($store, $db);
        $crate::storage::sql::api_keys::impl_api_keys!($store, $db);
        $crate::storage::sql::rate_limits::impl_rate_limits!($store, $db);
        $crate::storage::sql::users::impl_users!($store, $db);
        $crate::storage::sql::sessions::impl_sessions!($store, $db);
        $crate::storage::sql::consents::impl_consents!($store, $db);
        $crate::storage::sql::grants::impl_grants!($store, $db);
        $crate::storage::sql::device_codes::impl_device_codes!($store, $db);
        $crate::storage::sql::invitations::impl_invitations!($store, $db);
        $crate::storage::sql::links::impl_links!($store, $db);
        $crate::storage::sql::usage::impl_usage!($store, $db);

        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::storage::{Backend, Epochs, Result};

            #[async_trait::async_trait]
            impl $crate::storage::Store for $store {
                fn backend(&self) -> Backend {
                    $backend
                }

                async fn migrate(&self) -> Result<()> {
                    Self::migrator().run(&self.pool).await?;
                    Ok(())
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1").execute(&self.pool).await?;
                    Ok(())
                }

                async fn master_key_check(&self) -> Result<Option<Vec<u8>>> {
                    let row: Option<(Vec<u8>,)> =
                        sqlx::query_as("SELECT sealed FROM master_key_check WHERE id = 1")
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(|(sealed,)| sealed))
                }

                async fn init_master_key_check(
                    &self,
                    sealed: &[u8],
                    now: UnixTime,
                ) -> Result<Vec<u8>> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO master_key_check (id, sealed, created_at) VALUES (1, $1, $2) \
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(sealed)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let (stored,): (Vec<u8>,) =
                        sqlx::query_as("SELECT sealed FROM master_key_check WHERE id = 1")
                            .fetch_one(&mut *tx)
                            .await?;
                    tx.commit().await?;
                    Ok(stored)
                }

                async fn holds_data(&self) -> Result<bool> {
                    // keyflow's own CLI client, which a migration adds, holds no secret.
                    let (any,): (bool,) = sqlx::query_as(
                        "SELECT EXISTS (SELECT 1 FROM clients WHERE client_id <> $1) \
                         OR EXISTS (SELECT 1 FROM signing_keys) OR EXISTS (SELECT 1 FROM users)",
                    )
                    .bind(crate::domain::client::CLI_CLIENT_ID)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(any)
                }

                async fn epochs(&self) -> Result<Epochs> {
                    let (credentials, signing_keys, revocations): (i64, i64, i64) = sqlx::query_as(
                        "SELECT credentials, signing_keys, revocations FROM sync_epochs WHERE id = 1",
                    )
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(Epochs {
                        credentials,
                        signing_keys,
                        revocations,
                    })
                }
            }
        };
    };
}
pub(super) use impl_sql_store;
