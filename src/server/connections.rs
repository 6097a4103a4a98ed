//! Every client connection is registered with what it is doing, so that
//! keyflow can time out silent and idle ones and, at the connection cap,
//! close the one that has waited longest instead of refusing a real request.
//!
//! A connection is `Fresh` until it has sent a complete request head,
//! `Busy` while a request is being answered, `Idle` between keep-alive
//! requests, and `Reading` once the next request's first byte arrived. The
//! header-read timeout runs in `Fresh` (from accept) and `Reading` (from the
//! first byte), the idle timeout in `Idle`; `Busy` connections are never
//! closed by these rules.
//!
//! A phase change only stores the phase and the time: it wakes nobody, so a
//! keep-alive request arms no timer and costs its connection task no extra
//! poll. The timer is lazy instead: it never sleeps longer than the shorter
//! of the two timeouts, so a connection that starts reading while idle is
//! still closed on time, and it sleeps again when it wakes early. Only
//! eviction wakes the connection at once.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::ConnectionLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    Fresh = 0,
    Reading = 1,
    Idle = 2,
    Busy = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Phase::Fresh,
            1 => Phase::Reading,
            2 => Phase::Idle,
            _ => Phase::Busy,
        }
    }
}

/// Why keyflow closed a connection, as the metrics label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    HeaderTimeout,
    IdleTimeout,
    Evicted,
}

impl Closed {
    pub fn label(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header_timeout",
            Closed::IdleTimeout => "idle_timeout",
            Closed::Evicted => "evicted",
        }
    }
}

/// One connection's state, shared by its task, its I/O and its requests.
#[derive(Debug)]
pub struct Conn {
    epoch: Instant,
    phase: AtomicU8,
    /// Milliseconds since `epoch` when the phase began.
    since_ms: AtomicU64,
    in_flight: AtomicU32,
    evicted: AtomicBool,
    /// Wakes the close timer: on eviction only (see the module's comment).
    wake: Notify,
}

impl Conn {
    fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            phase: AtomicU8::new(Phase::Fresh as u8),
            since_ms: AtomicU64::new(ms_since(epoch)),
            in_flight: AtomicU32::new(0),
            evicted: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    fn enter(&self, phase: Phase) {
        self.since_ms.store(ms_since(self.epoch), Ordering::Release);
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// Bytes arrived: an idle connection starts reading its next request.
    fn on_read(&self) {
        if self.phase() == Phase::Idle {
            self.enter(Phase::Reading);
        }
    }

    /// A complete request head arrived and is being answered.
    pub fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.phase.store(Phase::Busy as u8, Ordering::Release);
        RequestGuard(Arc::clone(self))
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// When this connection is due to be closed, if it ever is in its
    /// present phase.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Closed)> {
        if !self.idle() {
            return None;
        }
        let since = self.epoch + Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        match self.phase() {
            Phase::Fresh | Phase::Reading => {
                Some((since + limits.header_read_timeout, Closed::HeaderTimeout))
            }
            Phase::Idle => Some((since + limits.idle_timeout, Closed::IdleTimeout)),
            Phase::Busy => None,
        }
    }

    /// Resolves when the connection must go: its timeout passed in the
    /// phase it is in, or it was evicted to make room.
    pub async fn must_close(&self, limits: &ConnectionLimits) -> Closed {
        loop {
            if self.evicted.load(Ordering::Acquire) {
                return Closed::Evicted;
            }
            let now = Instant::now();
            let due = self.deadline(limits);
            if let Some((at, why)) = due
                && at <= now
            {
                return why;
            }
            // Phase changes wake nobody (see the module's comment): any
            // phase entered while the timer sleeps is due at least the
            // shorter timeout after it began, so the timer never sleeps
            // longer than that and looks again when it wakes.
            let soonest = now + limits.header_read_timeout.min(limits.idle_timeout);
            let at = due.map_or(soonest, |(at, _)| at.min(soonest));
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Rank for eviction: lower goes first. Connections that never sent a
    /// complete request come before idle keep-alive ones; among each, the
    /// one waiting longest.
    fn eviction_rank(&self) -> Option<(u8, u64)> {
        if !self.idle() || self.evicted.load(Ordering::Acquire) {
            return None;
        }
        let class = match self.phase() {
            Phase::Fresh | Phase::Reading => 0,
            Phase::Idle => 1,
            Phase::Busy => return None,
        };
        Some((class, self.since_ms.load(Ordering::Acquire)))
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

fn ms_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Marks the end of a request, however its future ends.
#[derive(Debug)]
pub struct RequestGuard(Arc<Conn>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The idle deadline is later than any the timer sleeps to now.
            self.0.enter(Phase::Idle);
        }
    }
}

/// The open connections of one listener.
#[derive(Debug)]
pub struct Registry {
    epoch: Instant,
    limits: ConnectionLimits,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Woken whenever a connection goes.
    released: Notify,
}

impl Registry {
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            epoch: Instant::now(),
            limits,
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            released: Notify::new(),
        })
    }

    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Registers a new connection. At the cap the longest-waiting
    /// connection that is not answering a request is closed to make room;
    /// `Err` when every connection is busy, and the new one must be refused.
    pub fn admit(self: &Arc<Self>) -> Result<Admitted, ()> {
        let mut open = self.lock();
        let live = open
            .values()
            .filter(|c| !c.evicted.load(Ordering::Acquire))
            .count();
        if live >= self.limits.max_connections {
            let victim = open
                .values()
                .filter_map(|c| c.eviction_rank().map(|r| (r, c)))
                .min_by_key(|(r, _)| *r)
                .map(|(_, c)| Arc::clone(c));
            match victim {
                Some(v) => v.evict(),
                None => return Err(()),
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(self.epoch));
        open.insert(id, Arc::clone(&conn));
        Ok(Admitted {
            registry: Arc::clone(self),
            id,
            conn,
        })
    }

    /// Resolves once at most `n` connections are open.
    async fn wait_until_at_most(&self, n: usize) {
        loop {
            let notified = self.released.notified();
            if self.len() <= n {
                return;
            }
            notified.await;
        }
    }

    /// Resolves once there is room for one more connection: evicted
    /// connections still hold their descriptors until their tasks have
    /// dropped them, so a burst of accepts waits for those to go.
    pub async fn wait_for_room(&self) {
        self.wait_until_at_most(self.limits.max_connections).await;
    }

    /// Resolves once no connection is open.
    pub async fn wait_until_empty(&self) {
        self.wait_until_at_most(0).await;
    }
}

/// A registered connection; dropping it unregisters it.
#[derive(Debug)]
pub struct Admitted {
    registry: Arc<Registry>,
    id: u64,
    pub conn: Arc<Conn>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
        self.registry.released.notify_waiters();
    }
}

/// A socket that tells its connection when bytes arrive.
#[derive(Debug)]
pub struct TrackedIo<T> {
    inner: T,
    conn: Arc<Conn>,
}

impl<T> TrackedIo<T> {
    pub fn new(inner: T, conn: Arc<Conn>) -> Self {
        Self { inner, conn }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.on_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
