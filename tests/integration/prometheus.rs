//! A real Prometheus scraping a running consumer and the lag exporter, loading the real alert
//! rules (`deploy/helm/tweetpipe/files/prometheus-alerts.yaml`, unchanged) and answering the real
//! dashboard's queries.
//!
//! The rules are evaluated every second. An alert is *pending* from the first evaluation where
//! its expression holds, whatever its `for:`; so the producer-absent alert is checked for
//! pending (or firing) with the production rule file as it is, not a copy with shorter `for:`
//! durations. The `for:` arithmetic itself is covered by the promtool unit tests
//! (`deploy/observability/tests/`, run by `deploy/check.sh`).
//!
//! Skips, with a message, only when `prometheus` is not installed; `deploy/local/test.sh`
//! installs it, so CI always runs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tweetpipe_tests::faults::{sigterm, Logged};
use tweetpipe_tests::{summary, wait_output, wait_until, TestContext};

const LIMIT: Duration = Duration::from_secs(120);

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn installed(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(program)).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// A Prometheus of the test's own: temp dir, free port, 1 s scrapes and rule evaluations, one
/// file-discovered job per process, named as in production.
struct Prometheus {
    child: Child,
    dir: PathBuf,
    url: String,
    http: reqwest::Client,
}

impl Prometheus {
    fn start(binary: &Path, name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tweetpipe-prometheus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("prometheus dir");
        let mut jobs = String::new();
        for job in ["tweetpipe-producer", "tweetpipe-consumer", "tweetpipe-exporter"] {
            let targets = dir.join(format!("{job}.json"));
            std::fs::write(&targets, "[]").expect("targets file");
            jobs.push_str(&format!(
                "  - job_name: {job}\n    file_sd_configs: [{{files: ['{}']}}]\n",
                targets.display()
            ));
        }
        let rules = repo_file("deploy/helm/tweetpipe/files/prometheus-alerts.yaml");
        let config = format!(
            "global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}\n\
             rule_files: ['{}']\nscrape_configs:\n{jobs}",
            rules.display()
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("prometheus.yml");
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn prometheus");
        Self { child, dir, url: format!("http://{addr}"), http: reqwest::Client::new() }
    }

    /// Points `job` at `addr` (file discovery notices the rename).
    fn target(&self, job: &str, addr: &str) {
        let tmp = self.dir.join(format!("{job}.json.tmp"));
        std::fs::write(&tmp, format!("[{{\"targets\": [\"{addr}\"]}}]")).expect("targets");
        std::fs::rename(&tmp, self.dir.join(format!("{job}.json"))).expect("targets rename");
    }

    async fn api(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Value> {
        let body: Value =
            self.http.get(format!("{}{path}", self.url)).query(query).send().await?.json().await?;
        anyhow::ensure!(body["status"] == "success", "{path} {query:?}: {body}");
        Ok(body["data"].clone())
    }

    /// The instant vector `promql` evaluates to now.
    async fn query(&self, promql: &str) -> anyhow::Result<Vec<Value>> {
        let data = self.api("/api/v1/query", &[("query", promql)]).await?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// The sum of the values `promql` evaluates to; `None` for an empty result.
    async fn sum(&self, promql: &str) -> Option<f64> {
        let result = self.query(promql).await.ok()?;
        (!result.is_empty())
            .then(|| result.iter().filter_map(|s| s["value"][1].as_str()?.parse::<f64>().ok()).sum())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Kills the processes a failing test leaves behind (a passing one stops them with SIGTERM).
struct KillOnPanic(Vec<u32>);

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for pid in &self.0 {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
        }
    }
}

/// The alert names of the rule file, in order.
fn alert_names() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file("deploy/helm/tweetpipe/files/prometheus-alerts.yaml"))
        .expect("rules");
    text.lines().filter_map(|l| l.trim().strip_prefix("- alert:")).map(|n| n.trim().to_owned()).collect()
}

/// Every PromQL query of the dashboard's panels, with Grafana's variables filled in.
fn dashboard_queries(group: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_file("deploy/helm/tweetpipe/files/grafana-dashboard.json"))
        .expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard JSON");
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a PromQL expr");
            let expr = expr
                .replace("${group}", group)
                .replace("$group", group)
                .replace("$namespace", ".*")
                .replace("$job", ".*")
                .replace("$__rate_interval", "1m")
                .replace("$__interval", "15s")
                .replace("$__range", "1h");
            assert!(!expr.contains('$'), "a Grafana variable the test does not know: {expr}");
            out.push(expr);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_exporter_and_a_consumer_and_the_rules_and_dashboard_work() {
    let Some(binary) = installed("prometheus") else {
        eprintln!(
            "SKIPPED: `prometheus` is not installed (apt-get install prometheus; deploy/local/test.sh installs it)"
        );
        return;
    };
    let ctx = TestContext::new("prometheus").await.expect("context");
    summary(&tweetpipe_tests::run(
        ctx.producer().args(["--source", "synthetic", "--count", "2000", "--seed", "81"]),
        LIMIT,
    ));

    // The exporter, watching the test's group, which no consumer has joined yet.
    let mut cmd = ctx.producer();
    cmd.args(["topic", "exporter", "--group", &ctx.group, "--interval", "1s", "--http-addr", "127.0.0.1:0"])
        .env("RUST_LOG", "info");
    let exporter = Logged::spawn(cmd, "prometheus-exporter");
    let mut children = KillOnPanic(vec![exporter.child.id()]);
    let exporter_addr = exporter.served_addr(LIMIT).await;

    let prometheus = Prometheus::start(&binary, &ctx.group);
    prometheus.target("tweetpipe-exporter", &exporter_addr);

    // Every rule loads and evaluates without error.
    let names = alert_names();
    assert!(names.len() >= 8, "alert names read from the rule file: {names:?}");
    wait_until(LIMIT, "every alert rule loaded and evaluated (health ok)", || async {
        let Ok(data) = prometheus.api("/api/v1/rules", &[]).await else { return false };
        let rules: Vec<&Value> = data["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .collect();
        names.iter().all(|n| rules.iter().any(|r| r["name"] == n.as_str() && r["health"] == "ok"))
    })
    .await;

    // No producer is scraped: the absence alert goes pending at once (firing after its `for:`).
    wait_until(LIMIT, "TweetpipeProducerDown pending or firing", || async {
        let Ok(data) = prometheus.api("/api/v1/alerts", &[]).await else { return false };
        data["alerts"].as_array().into_iter().flatten().any(|a| {
            a["labels"]["alertname"] == "TweetpipeProducerDown"
                && (a["state"] == "pending" || a["state"] == "firing")
        })
    })
    .await;

    // Group lag, from the brokers, with no consumer running: the whole topic, then growing.
    let lag = format!("sum(tweetpipe_group_lag{{group=\"{}\"}})", ctx.group);
    wait_until(LIMIT, "the group's lag (2000) scraped from the exporter", || async {
        prometheus.sum(&lag).await == Some(2000.0)
    })
    .await;
    summary(&tweetpipe_tests::run(
        ctx.producer().args(["--source", "synthetic", "--count", "500", "--seed", "82"]),
        LIMIT,
    ));
    wait_until(LIMIT, "the group's lag to grow to 2500 with no consumer", || async {
        prometheus.sum(&lag).await == Some(2500.0)
    })
    .await;

    // A consumer joins: scraped, and the group's lag (read from the brokers) drains to zero.
    let mut cmd = ctx.consumer();
    cmd.args(["--http-addr", "127.0.0.1:0"]);
    let consumer = Logged::spawn(cmd, "prometheus-consumer");
    children.0.push(consumer.child.id());
    prometheus.target("tweetpipe-consumer", &consumer.served_addr(LIMIT).await);
    wait_until(LIMIT, "the consumer scraped, not paused, with its build_info", || async {
        prometheus.sum(r#"up{job="tweetpipe-consumer"}"#).await == Some(1.0)
            && prometheus.sum(r#"tweetpipe_consumer_paused{job="tweetpipe-consumer"}"#).await == Some(0.0)
            && prometheus.sum(r#"tweetpipe_build_info{job="tweetpipe-consumer"}"#).await == Some(1.0)
    })
    .await;
    wait_until(LIMIT, "the group's lag to drain to 0 once the consumer commits", || async {
        prometheus.sum(&lag).await == Some(0.0)
    })
    .await;
    wait_until(LIMIT, "the consumer's database commit latency observed", || async {
        prometheus
            .sum(r#"tweetpipe_db_commit_seconds_count{job="tweetpipe-consumer"}"#)
            .await
            .is_some_and(|n| n > 0.0)
    })
    .await;

    // Every dashboard query is accepted; the group-lag panels have data.
    for expr in dashboard_queries(&ctx.group) {
        let result = prometheus.query(&expr).await;
        assert!(result.is_ok(), "the dashboard query {expr} was refused: {result:?}\n{}", prometheus.log());
        if expr.contains("tweetpipe_group_lag") {
            assert!(result.is_ok_and(|r| !r.is_empty()), "no group lag for the dashboard: {expr}");
        }
    }

    // Every tweetpipe series Prometheus scraped came with HELP text.
    let metadata = prometheus.api("/api/v1/metadata", &[]).await.expect("metadata");
    let ours: Vec<(&String, &Value)> = metadata
        .as_object()
        .expect("metadata map")
        .iter()
        .filter(|(n, _)| n.starts_with("tweetpipe_"))
        .collect();
    assert!(ours.iter().any(|(n, _)| *n == "tweetpipe_group_lag"), "scraped metadata: {metadata}");
    for (name, entries) in ours {
        let help = entries[0]["help"].as_str().unwrap_or_default();
        assert!(!help.is_empty(), "{name} has no HELP text");
    }

    // Both stop cleanly on SIGTERM.
    sigterm(&consumer.child);
    sigterm(&exporter.child);
    assert!(wait_output(consumer.child, LIMIT).status.success(), "consumer exit");
    let out = wait_output(exporter.child, LIMIT);
    assert!(
        out.status.success(),
        "exporter exit: {}",
        std::fs::read_to_string(&exporter.log).unwrap_or_default()
    );
    drop(prometheus);
    ctx.cleanup().await;
}
