//! The pool that runs password hashes, so that logins cannot starve the
//! async workers.

/// Where password hashes are computed: off the async workers, and at
/// most `permits` at a time. Each Argon2id run holds 19 MiB and tens of
/// milliseconds of CPU, so unbounded, a burst of logins would take every
/// core and leave a 19 MiB block in each thread's allocator arena (40
/// parallel logins grew the server to 600 MB). Queued, they cannot.
#[derive(Debug)]
pub struct PasswordChecks {
    permits: tokio::sync::Semaphore,
}

impl PasswordChecks {
    pub fn new(permits: usize) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(permits.max(1)),
        }
    }

    /// One per core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Runs `check` on a blocking thread once a permit is free; `None` if
    /// it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(check).await.ok()
    }
}
