use clap::Parser;

fn main() -> std::process::ExitCode {
    return_large_blocks_to_the_os();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyflow: starting the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let cli = keyflow::cli::Cli::parse();
    match runtime.block_on(keyflow::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyflow: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Each Argon2id check allocates one 19 MiB block. glibc serves the first
/// with mmap and then raises its mmap threshold to that size, so later
/// blocks come from per-thread arenas that keep the memory after it is
/// freed: a burst of logins left the server at hundreds of megabytes. A
/// fixed 16 MiB threshold keeps those blocks (and only blocks that large)
/// on mmap, returned to the system on free; the cost is one mapping per
/// login, far below Argon2's own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    // SAFETY: mallopt only tunes the allocator; it is called before any
    // other thread exists, and an unsupported setting is ignored (returns 0).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 16 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}
