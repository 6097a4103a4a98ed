use super::*;

fn limits(max: usize) -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_connections: max,
    }
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_the_oldest_silent_connection_goes_first() {
    let registry = Registry::new(limits(3));
    let idle = registry.admit().unwrap();
    drop(idle.conn.begin_request());
    tokio::time::advance(Duration::from_secs(1)).await;
    let silent = registry.admit().unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    let busy = registry.admit().unwrap();
    let _request = busy.conn.begin_request();

    // The silent one goes before the older idle one; busy never does.
    let a = registry.admit().unwrap();
    assert!(silent.conn.evicted.load(Ordering::Acquire));
    assert!(!idle.conn.evicted.load(Ordering::Acquire));
    let _a_request = a.conn.begin_request();
    let _b = registry.admit().unwrap();
    assert!(idle.conn.evicted.load(Ordering::Acquire));
    assert!(!busy.conn.evicted.load(Ordering::Acquire));
}

#[tokio::test(start_paused = true)]
async fn when_every_connection_is_busy_the_new_one_is_refused() {
    let registry = Registry::new(limits(1));
    let busy = registry.admit().unwrap();
    let _request = busy.conn.begin_request();
    assert!(registry.admit().is_err());
    drop(busy);
    assert_eq!(registry.len(), 0);
}

#[tokio::test(start_paused = true)]
async fn timeouts_follow_the_phase() {
    let registry = Registry::new(limits(8));
    let lim = *registry.limits();
    let fresh = registry.admit().unwrap();
    let started = Instant::now();
    assert_eq!(fresh.conn.must_close(&lim).await, Closed::HeaderTimeout);
    assert_eq!(started.elapsed(), Duration::from_secs(10));

    let kept = registry.admit().unwrap();
    drop(kept.conn.begin_request());
    let started = Instant::now();
    assert_eq!(kept.conn.must_close(&lim).await, Closed::IdleTimeout);
    assert_eq!(started.elapsed(), Duration::from_secs(60));

    // A busy connection outlives both timeouts; its deadline starts
    // when the request ends.
    let busy = registry.admit().unwrap();
    let request = busy.conn.begin_request();
    let conn = Arc::clone(&busy.conn);
    let closing = tokio::spawn(async move { conn.must_close(&lim).await });
    tokio::time::advance(Duration::from_secs(120)).await;
    assert!(!closing.is_finished());
    drop(request);
    let started = Instant::now();
    assert_eq!(closing.await.unwrap(), Closed::IdleTimeout);
    assert_eq!(started.elapsed(), Duration::from_secs(60));

    // Bytes after idling restart the clock as the header-read timeout.
    busy.conn.on_read();
    assert_eq!(busy.conn.phase(), Phase::Reading);
}

// Phase changes wake nobody, so these check that the lazy timer still
// closes on time whichever phase a connection enters while it sleeps.

#[tokio::test(start_paused = true)]
async fn a_request_started_on_an_idle_connection_gets_the_header_timeout() {
    let registry = Registry::new(limits(8));
    let lim = *registry.limits();
    let kept = registry.admit().unwrap();
    drop(kept.conn.begin_request());
    let conn = Arc::clone(&kept.conn);
    let closing = tokio::spawn(async move { conn.must_close(&lim).await });
    // Five seconds into its idle minute, a slow client sends one byte of
    // its next request and no more.
    tokio::time::advance(Duration::from_secs(5)).await;
    let read_at = Instant::now();
    kept.conn.on_read();
    assert_eq!(closing.await.unwrap(), Closed::HeaderTimeout);
    assert_eq!(read_at.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn an_idle_timeout_shorter_than_the_header_timeout_is_kept() {
    let lim = ConnectionLimits {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(2),
        max_connections: 8,
    };
    let registry = Registry::new(lim);
    let busy = registry.admit().unwrap();
    let request = busy.conn.begin_request();
    let conn = Arc::clone(&busy.conn);
    let closing = tokio::spawn(async move { conn.must_close(&lim).await });
    tokio::time::advance(Duration::from_secs(7)).await;
    drop(request);
    let ended = Instant::now();
    assert_eq!(closing.await.unwrap(), Closed::IdleTimeout);
    assert_eq!(ended.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn eviction_wakes_the_connection_at_once() {
    let registry = Registry::new(limits(1));
    let lim = *registry.limits();
    let idle = registry.admit().unwrap();
    drop(idle.conn.begin_request());
    let conn = Arc::clone(&idle.conn);
    let closing = tokio::spawn(async move { conn.must_close(&lim).await });
    tokio::task::yield_now().await;
    let started = Instant::now();
    let _newcomer = registry.admit().unwrap();
    assert_eq!(closing.await.unwrap(), Closed::Evicted);
    assert_eq!(started.elapsed(), Duration::ZERO);
}
