use super::*;

#[tokio::test]
async fn allows_exactly_the_burst_then_refuses_with_retry_after() {
    let limiter = RateLimiter::in_memory();
    let now = 1_000_000_000;
    for i in 0..10 {
        let d = limiter.check("k", Category::Read, 10, now).await.unwrap();
        assert!(d.allowed, "request {i}");
        assert_eq!(d.remaining, 9 - i);
    }
    let refused = limiter.check("k", Category::Read, 10, now).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.reset, 6, "one emission interval of 6 s");
    // Another category has its own budget; time refills this one.
    assert!(
        limiter
            .check("k", Category::Write, 10, now)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        limiter
            .check("k", Category::Read, 10, now + 6_000_000)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        !limiter
            .check("k", Category::Read, 10, now + 6_000_000)
            .await
            .unwrap()
            .allowed
    );
}

#[tokio::test]
async fn peeking_spends_nothing_and_sees_what_was_spent() {
    let limiter = RateLimiter::in_memory();
    let now = 1_000_000_000;
    let fresh = limiter.peek("k", Category::Read, 10, now).await.unwrap();
    assert_eq!((fresh.remaining, fresh.reset, fresh.allowed), (10, 0, true));
    for _ in 0..4 {
        limiter.check("k", Category::Read, 10, now).await.unwrap();
    }
    let seen = limiter.peek("k", Category::Read, 10, now).await.unwrap();
    assert_eq!((seen.remaining, seen.reset), (6, 24));
    let again = limiter.peek("k", Category::Read, 10, now).await.unwrap();
    assert_eq!(again, seen, "a peek spends nothing");
    assert_eq!(
        limiter
            .peek("k", Category::Write, 10, now)
            .await
            .unwrap()
            .remaining,
        10
    );
    let later = limiter
        .peek("k", Category::Read, 10, now + 12_000_000)
        .await
        .unwrap();
    assert_eq!(later.remaining, 8);
}

#[tokio::test]
async fn huge_limits_never_divide_by_zero() {
    let limiter = RateLimiter::in_memory();
    let d = limiter
        .check("k", Category::Token, u32::MAX, 5)
        .await
        .unwrap();
    assert!(d.allowed);
    assert!(d.remaining > 0);
}

#[test]
fn headers_follow_the_draft() {
    let d = Decision {
        allowed: false,
        limit: 100,
        remaining: 0,
        reset: 3,
        category: Category::Write,
    };
    let mut h = HeaderMap::new();
    d.write_headers(&mut h);
    assert_eq!(h["ratelimit-policy"], "\"write\";q=100;w=60");
    assert_eq!(h["ratelimit"], "\"write\";r=0;t=3");
    assert_eq!(h["retry-after"], "3");
}

#[test]
fn overrides_apply_per_category_and_are_bounded() {
    let base = Limits {
        read: 10,
        write: 5,
        token: 1,
    };
    let o = Overrides {
        write: Some(50),
        ..Default::default()
    };
    assert_eq!(o.apply(base).write, 50);
    assert_eq!(o.apply(base).read, 10);
    assert!(
        Overrides {
            read: Some(0),
            ..Default::default()
        }
        .validate()
        .is_err()
    );
}
