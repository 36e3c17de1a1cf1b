//! The schedules: growth up to the cap, jitter's spread, and a wait that shutdown interrupts.

use super::*;

#[test]
fn doubles_up_to_the_cap_without_jitter() {
    let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).without_jitter();
    let got: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
    assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
    b.reset();
    assert_eq!(b.next_delay(), Duration::from_millis(100));
}

#[test]
fn jitter_stays_within_half_and_full() {
    let mut b = Backoff::new(Duration::from_millis(1000), Duration::from_millis(1000));
    let delays: Vec<Duration> = (0..200).map(|_| b.next_delay()).collect();
    assert!(delays.iter().all(|d| *d >= Duration::from_millis(500) && *d <= Duration::from_millis(1000)));
    let distinct: std::collections::HashSet<_> = delays.iter().collect();
    assert!(distinct.len() > 100, "jitter should spread the delays");
}

#[test]
fn a_factor_of_one_is_constant() {
    let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(16)).factor(1).without_jitter();
    assert!((0..5).all(|_| b.next_delay() == Duration::from_millis(250)));
    assert_eq!(b.attempts(), 5);
}

#[test]
fn linear_grows_by_the_first_delay_up_to_the_cap() {
    let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(1)).linear().without_jitter();
    let got: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
    assert_eq!(got, [250, 500, 750, 1000, 1000, 1000]);
}

#[test]
fn scaling_shrinks_first_and_cap_alike() {
    let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(20)).without_jitter().scaled(0.01);
    let got: Vec<u128> = (0..4).map(|_| b.next_delay().as_millis()).collect();
    assert_eq!(got, [50, 100, 200, 200]);
    let mut linear = Backoff::x_network().scaled(0.5);
    assert_eq!(linear.next_delay(), Duration::from_millis(125));
    assert_eq!(linear.next_delay(), Duration::from_millis(250), "still linear, still exact");
}

#[tokio::test]
async fn shutdown_interrupts_the_wait() {
    let shutdown = Shutdown::new();
    shutdown.cancel();
    let mut b = Backoff::new(Duration::from_secs(3600), Duration::from_secs(3600));
    assert!(!b.wait(&shutdown).await);
}
