//! Limits on client connections, so that slow or idle sockets cannot take
//! every descriptor (or every slot) from real requests.

use std::time::Duration;

use anyhow::bail;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// Seconds a client has to send a complete request head, from its
    /// connection or its first byte after an idle keep-alive (1 to 300).
    #[arg(long, env = "KEYFLOW_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout: u64,

    /// Seconds a keep-alive connection may sit idle between requests (1 to 3600).
    #[arg(long, env = "KEYFLOW_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout: u64,

    /// Most client connections at once; at the cap the longest-idle one is
    /// closed to make room. Default: the open-file limit less room for the
    /// database pool and log files.
    #[arg(long, env = "KEYFLOW_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
}

/// Validated [`ConnectionArgs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Descriptors kept free for the database pool (16 at most), the
/// listener, log files, epoll and the runtime's own pipes.
const RESERVED_DESCRIPTORS: u64 = 64;
const MIN_CONNECTIONS: usize = 8;

impl ConnectionLimits {
    pub fn from_args(a: &ConnectionArgs) -> anyhow::Result<Self> {
        if !(1..=300).contains(&a.header_read_timeout) {
            bail!(
                "--header-read-timeout / KEYFLOW_HEADER_READ_TIMEOUT must be between 1 and 300 seconds"
            );
        }
        if !(1..=3600).contains(&a.idle_timeout) {
            bail!("--idle-timeout / KEYFLOW_IDLE_TIMEOUT must be between 1 and 3600 seconds");
        }
        let max_connections = match a.max_connections {
            Some(n) if n < 1 => {
                bail!("--max-connections / KEYFLOW_MAX_CONNECTIONS must be at least 1")
            }
            Some(n) => n,
            None => default_max_connections(open_file_limit()),
        };
        Ok(Self {
            header_read_timeout: Duration::from_secs(a.header_read_timeout),
            idle_timeout: Duration::from_secs(a.idle_timeout),
            max_connections,
        })
    }
}

fn default_max_connections(open_files: Option<u64>) -> usize {
    match open_files {
        Some(n) => usize::try_from(n.saturating_sub(RESERVED_DESCRIPTORS))
            .unwrap_or(usize::MAX)
            .max(MIN_CONNECTIONS),
        // No limit known: a generous cap that still bounds memory.
        None => 65_536,
    }
}

/// The soft limit on open files, when the platform has one.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit into the struct we own.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_room_below_the_descriptor_limit() {
        assert_eq!(default_max_connections(Some(1024)), 960);
        assert_eq!(default_max_connections(Some(10)), MIN_CONNECTIONS);
        assert_eq!(default_max_connections(None), 65_536);
        let here = ConnectionLimits::from_args(&ConnectionArgs {
            header_read_timeout: 10,
            idle_timeout: 60,
            max_connections: None,
        })
        .unwrap();
        if let Some(n) = open_file_limit() {
            assert!((here.max_connections as u64) < n.max(MIN_CONNECTIONS as u64 + 1));
        }
    }

    #[test]
    fn out_of_range_limits_name_the_setting() {
        for (h, i, m, needle) in [
            (0, 60, None, "KEYFLOW_HEADER_READ_TIMEOUT"),
            (10, 0, None, "KEYFLOW_IDLE_TIMEOUT"),
            (10, 60, Some(0), "KEYFLOW_MAX_CONNECTIONS"),
        ] {
            let args = ConnectionArgs {
                header_read_timeout: h,
                idle_timeout: i,
                max_connections: m,
            };
            let err = ConnectionLimits::from_args(&args).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
