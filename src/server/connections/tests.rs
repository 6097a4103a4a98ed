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
