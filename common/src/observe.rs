//! `/healthz`, `/readyz` and Prometheus `/metrics` on `--http-addr`.
//!
//! Metrics are recorded with the `metrics` facade anywhere in the code and rendered by
//! `metrics-exporter-prometheus`. Every name starts with `tweetpipe_`, but for the standard
//! `process_*` series ([`crate::process_metrics`]), read when scraped.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::metrics_catalog::Component;

/// Says whether the process is ready for work (Kafka joined, database reachable, …).
pub type Readiness = Arc<dyn Fn() -> bool + Send + Sync>;

/// Durations of operations (a batch's write, a flush): a millisecond to half a minute.
const SECONDS_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// A record's age spans milliseconds (live) to days (a replay or a backlog).
const AGE_BUCKETS: &[f64] =
    &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0];
/// Messages per batch: one (a trickle) up to past the largest `--batch-size` worth setting.
const BATCH_SIZE_BUCKETS: &[f64] =
    &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 5000.0, 10000.0];

/// Installs the global Prometheus recorder (once per process) and returns its handle.
pub fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let full = |name: &str| metrics_exporter_prometheus::Matcher::Full(name.into());
    let handle = PrometheusBuilder::new()
        .set_buckets(SECONDS_BUCKETS)
        .context("histogram buckets")?
        .set_buckets_for_metric(full("tweetpipe_record_age_seconds"), AGE_BUCKETS)
        .context("record age buckets")?
        .set_buckets_for_metric(full("tweetpipe_batch_size"), BATCH_SIZE_BUCKETS)
        .context("batch size buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

#[derive(Clone)]
struct AppState {
    metrics: PrometheusHandle,
    ready: Readiness,
}

/// Binds `addr` (port 0 picks a free port) and serves until the process ends, `component`'s
/// series registered before the first scrape can see them missing. Returns the address actually
/// bound, so several processes can run side by side.
pub async fn serve(addr: SocketAddr, ready: Readiness, component: Component) -> anyhow::Result<SocketAddr> {
    let metrics = install_recorder()?;
    crate::metrics_catalog::register(component);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    let app =
        Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route(
                "/metrics",
                get(|State(s): State<AppState>| async move {
                    s.metrics.render() + &crate::process_metrics::render()
                }),
            )
            .with_state(AppState { metrics, ready });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the health and metrics server stopped");
        }
    });
    tracing::info!(addr = %bound, "serving /healthz, /readyz and /metrics");
    Ok(bound)
}

async fn readyz(State(s): State<AppState>) -> (StatusCode, &'static str) {
    if (s.ready)() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}
