//! The master key: encrypts signing keys at rest and seeds the secret pepper.
//! Every node that shares a database must share this key.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{hkdf, hmac};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::domain::secret::{SecretHasher, random_bytes};

pub const MASTER_KEY_FILE: &str = "master.key";

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("KEYFLOW_MASTER_KEY must be 32 bytes encoded as base64 (standard or URL-safe)")]
    BadEnv,
    #[error("{path}: must hold 32 bytes encoded as base64")]
    BadFile { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("ciphertext does not decrypt under the master key (wrong KEYFLOW_MASTER_KEY?)")]
pub struct DecryptError;

/// Where the key came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    Environment,
    File { path: PathBuf, created: bool },
}

pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .ok()?;
    bytes.try_into().ok()
}

impl MasterKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(key),
        }
    }

    /// `KEYFLOW_MASTER_KEY` when set, otherwise `keys_dir/master.key`,
    /// created (mode 0600, directory 0700) on first start.
    pub fn load_or_create(
        env_value: Option<&str>,
        keys_dir: &Path,
    ) -> Result<(Self, MasterKeySource), MasterKeyError> {
        if let Some(v) = env_value {
            return Ok((Self::from_env(v)?, MasterKeySource::Environment));
        }
        let path = keys_dir.join(MASTER_KEY_FILE);
        create_private_dir(keys_dir).map_err(|source| MasterKeyError::Io {
            path: keys_dir.to_owned(),
            source,
        })?;
        let created =
            match write_new_private_file(&path, STANDARD.encode(random_bytes::<32>()).as_bytes()) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                Err(source) => return Err(MasterKeyError::Io { path, source }),
            };
        let (key, path) = Self::read_file(keys_dir)?.ok_or_else(|| MasterKeyError::Io {
            path: path.clone(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        Ok((key, MasterKeySource::File { path, created }))
    }

    /// `KEYFLOW_MASTER_KEY`'s value, decoded.
    pub fn from_env(value: &str) -> Result<Self, MasterKeyError> {
        decode_key(value)
            .map(Self::from_bytes)
            .ok_or(MasterKeyError::BadEnv)
    }

    /// `keys_dir/master.key` if it exists; never creates it. The directory
    /// and the file lose any group or other access they have.
    pub fn read_file(keys_dir: &Path) -> Result<Option<(Self, PathBuf)>, MasterKeyError> {
        let path = keys_dir.join(MASTER_KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(MasterKeyError::Io { path, source }),
        };
        let key =
            decode_key(&text).ok_or_else(|| MasterKeyError::BadFile { path: path.clone() })?;
        crate::files::restrict(keys_dir, 0o700);
        crate::files::restrict(&path, 0o600);
        Ok(Some((Self::from_bytes(key), path)))
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key[..]).expect("32-byte AES key"))
    }

    /// AES-256-GCM with a random 96-bit nonce: `nonce || ciphertext || tag`.
    /// `aad` binds the ciphertext to its row, so it cannot be moved to another.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .expect("AES-GCM seal cannot fail for in-memory buffers");
        out.extend_from_slice(&body);
        out
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(DecryptError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DecryptError)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .aead()
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| DecryptError)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// The HMAC key that hashes client secrets, derived with HKDF (RFC 5869)
    /// so that the master key itself never touches a secret.
    pub fn secret_hasher(&self) -> SecretHasher {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"keyflow").extract(&self.key[..]);
        let okm = prk
            .expand(&[b"client-secret-pepper-v1"], hmac::HMAC_SHA256)
            .expect("HKDF output length is valid");
        SecretHasher::new(hmac::Key::from(okm))
    }

    /// A fresh key, base64 encoded, for `KEYFLOW_MASTER_KEY`.
    pub fn generate_encoded() -> String {
        STANDARD.encode(random_bytes::<32>())
    }
}

pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Creates `path` with mode 0600; fails with `AlreadyExists` if it is there,
/// so two nodes starting at once agree on one key.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = o.open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    // hard_link fails if `path` exists: an atomic create-if-absent that never
    // exposes a half-written file.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_roundtrips_and_binds_aad() {
        let k = MasterKey::from_bytes([7; 32]);
        let sealed = k.seal(b"kid-1", b"private key");
        assert_eq!(&k.open(b"kid-1", &sealed).unwrap()[..], b"private key");
        assert!(k.open(b"kid-2", &sealed).is_err());
        assert!(
            MasterKey::from_bytes([8; 32])
                .open(b"kid-1", &sealed)
                .is_err()
        );
        assert!(k.open(b"kid-1", &sealed[..10]).is_err());
    }

    #[test]
    fn creates_a_0600_file_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let (a, src) = MasterKey::load_or_create(None, &keys).unwrap();
        assert!(matches!(src, MasterKeySource::File { created: true, .. }));
        let (b, src) = MasterKey::load_or_create(None, &keys).unwrap();
        assert!(matches!(src, MasterKeySource::File { created: false, .. }));
        assert_eq!(a.key, b.key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(keys.join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn environment_key_wins_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let enc = MasterKey::generate_encoded();
        let (_, src) = MasterKey::load_or_create(Some(&enc), dir.path()).unwrap();
        assert_eq!(src, MasterKeySource::Environment);
        assert!(MasterKey::load_or_create(Some("short"), dir.path()).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", MasterKey::from_bytes([1; 32])),
            "MasterKey(<redacted>)"
        );
    }
}
