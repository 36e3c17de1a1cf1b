"""Rules every render of the chart must keep, beyond the Kubernetes schemas (which know nothing
of KEDA): usage: check_render.py RENDERED.yaml NAME."""
import json
import os
import re
import sys

import yaml

path, name = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)


def fail(msg):
    sys.exit(f"[deploy] {name}: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


(config,) = [c for c in by_kind["ConfigMap"] if c["metadata"]["name"].endswith("-config")]
env = config["data"]
partitions = int(env["TWEETPIPE_PARTITIONS"])
sasl = "KAFKA_SASL_MECHANISM" in env
deployments = {d["metadata"]["name"].rsplit("-", 1)[1]: d for d in by_kind.get("Deployment", [])}
consumer = deployments["consumer"]
consumer_labels = consumer["spec"]["template"]["metadata"]["labels"]

# Scaling: one autoscaler at most, never past the partitions.
scaled = by_kind.get("ScaledObject", []) + by_kind.get("HorizontalPodAutoscaler", [])
check(len(scaled) <= 1, "KEDA and an HPA both scale the consumer")
check(scaled or consumer["spec"].get("replicas", 0) <= partitions, "more fixed replicas than partitions")
check(not scaled or "replicas" not in consumer["spec"], "replicas set while an autoscaler owns them")
KEDA_SPEC = {"scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod",
             "idleReplicaCount", "fallback", "advanced", "triggers", "initialCooldownPeriod"}
for so in by_kind.get("ScaledObject", []):
    spec = so["spec"]
    check(set(spec) <= KEDA_SPEC, f"unknown ScaledObject fields {set(spec) - KEDA_SPEC}")
    check(spec["scaleTargetRef"]["name"] == consumer["metadata"]["name"], "KEDA scales the consumer")
    check(0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions,
          f"KEDA may scale past {partitions} partitions")
    check(1 <= spec["fallback"]["replicas"] <= spec["maxReplicaCount"], "fallback within bounds")
    check(spec["fallback"]["failureThreshold"] >= 1, "fallback threshold")
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    check(behavior["scaleDown"]["stabilizationWindowSeconds"] > 0, "scale-down is stabilised")
    # cooldownPeriod and activation act only between zero and one replica.
    check(("cooldownPeriod" in spec) == (spec["minReplicaCount"] == 0), "cooldownPeriod only with min 0")
    (trigger,) = spec["triggers"]
    meta = trigger["metadata"]
    check(trigger["type"] == "kafka" and meta["allowIdleConsumers"] == "false", "kafka trigger, no idle members")
    check(meta["consumerGroup"] == env["TWEETPIPE_GROUP"] and meta["topic"] == env["TWEETPIPE_TOPIC"],
          "the trigger watches the consumers' group and topic")
    check(meta["bootstrapServers"] == env["KAFKA_BOOTSTRAP_SERVERS"], "the trigger's brokers")
    check(("activationLagThreshold" in meta) == (spec["minReplicaCount"] == 0), "activation only with min 0")
    params = set()
    if "authenticationRef" in trigger:
        (auth,) = [t for t in by_kind.get("TriggerAuthentication", [])
                   if t["metadata"]["name"] == trigger["authenticationRef"]["name"]]
        params = {r["parameter"] for r in auth["spec"]["secretTargetRef"]}
        check(all(r["name"] and r["key"] for r in auth["spec"]["secretTargetRef"]), "secret refs named")
    if sasl:
        check({"username", "password"} <= params and meta.get("sasl", "").startswith(("scram", "plain")),
              "KEDA authenticates with the SASL credentials")
    if env["KAFKA_SECURITY_PROTOCOL"] in ("SSL", "SASL_SSL"):
        check(meta.get("tls") == "enable", "KEDA uses TLS")
        check("KAFKA_SSL_CA_LOCATION" not in env or "ca" in params, "KEDA trusts the same CA")
for hpa in by_kind.get("HorizontalPodAutoscaler", []):
    check(hpa["spec"]["scaleTargetRef"]["name"] == consumer["metadata"]["name"], "the HPA scales the consumer")
    check(1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions,
          f"the HPA may scale past {partitions} partitions")

(pdb,) = by_kind["PodDisruptionBudget"]
check(pdb["spec"]["selector"]["matchLabels"].items() <= consumer_labels.items(), "the PDB covers the consumers")

# Every pod: non-root, read-only, bounded, secrets by reference, mounted what it points at.
SECRETS = {"DATABASE_URL", "X_BEARER_TOKEN", "KAFKA_SASL_PASSWORD", "KAFKA_SASL_USERNAME"}
images = set()
pods = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in docs if d["kind"] in ("Deployment", "Job")]
pods += [(d["metadata"]["name"], d["spec"]) for d in docs if d["kind"] == "Pod"]
for owner, pod in pods:
    check(pod["securityContext"]["runAsNonRoot"] is True, f"{owner} runs as non-root")
    check(pod["terminationGracePeriodSeconds"] > 20, f"{owner}: longer than the consumer's drain deadline")
    volumes = {v["name"] for v in pod.get("volumes", [])}
    for c in pod.get("initContainers", []) + pod["containers"]:
        where = f"{owner}/{c['name']}"
        images.add(c["image"])
        check(c["securityContext"]["readOnlyRootFilesystem"] is True, f"{where} read-only")
        check(c["securityContext"]["allowPrivilegeEscalation"] is False, f"{where} no escalation")
        check("limits" in c.get("resources", {}), f"{where} has limits")
        names = {e["name"]: e for e in c.get("env", [])}
        for e in names.values():
            check(e["name"] not in SECRETS or "value" not in e, f"{where}: {e['name']} inline")
        mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
        check({m["name"] for m in c.get("volumeMounts", [])} <= volumes, f"{where} mounts a missing volume")

        def mounted(file):
            return any(os.path.dirname(file) == m or file == m for m in mounts)

        kafka_client = c["command"][-1] != "migrate"
        if "DATABASE_URL" in names and c["command"][-1] == "migrate":
            check("PGSSLROOTCERT" not in env or any(e["name"] == "PGSSLROOTCERT" for e in c["env"]),
                  f"{where}: the hook Job cannot read the ConfigMap, so it sets the PostgreSQL TLS itself")
        if kafka_client and "KAFKA_SSL_CA_LOCATION" in env:
            check(mounted(env["KAFKA_SSL_CA_LOCATION"]), f"{where} lacks the Kafka CA")
        if "DATABASE_URL" in names and "PGSSLROOTCERT" in env:
            check(mounted(env["PGSSLROOTCERT"]), f"{where} lacks the PostgreSQL CA")
        if kafka_client and sasl:
            check("KAFKA_SASL_USERNAME" in names, f"{where} lacks the SASL username")
            pw = names.get("KAFKA_SASL_PASSWORD_FILE")
            check("KAFKA_SASL_PASSWORD" in names or (pw and mounted(pw["value"])), f"{where} lacks the SASL password")
check(len(images) == 1, f"one image reference everywhere, not {images}")

for name_, d in deployments.items():
    if name_ in ("consumer", "producer"):
        (c,) = d["spec"]["template"]["spec"]["containers"]
        check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{name_} readiness on /readyz")
        check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{name_} liveness on /healthz")
if "exporter" in deployments:
    d = deployments["exporter"]
    check(d["spec"]["replicas"] == 1, "one exporter")
    (c,) = d["spec"]["template"]["spec"]["containers"]
    check(c["command"][1:] == ["topic", "exporter"], "the exporter command")
    check(f"--group={env['TWEETPIPE_GROUP']}" in c["args"], "the exporter reports the consumers' group")
if "producer" in deployments:
    d = deployments["producer"]
    check(d["spec"]["replicas"] == 1 and d["spec"]["strategy"]["type"] == "Recreate", "one producer at a time")
    (c,) = d["spec"]["template"]["spec"]["containers"]
    check(any(a.startswith("--source=") for a in c["args"]), "the producer names its source")

def component(obj):
    return obj["metadata"]["labels"]["app.kubernetes.io/name"].removeprefix("tweetpipe-")


jobs = {}
for job in by_kind.get("Job", []):
    jobs.setdefault(component(job), []).append(job)
    check("ttlSecondsAfterFinished" in job["spec"], f"{job['metadata']['name']}: finished Jobs are cleaned up")
for job in jobs.get("backfill", []):
    pod = job["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    check(pod["restartPolicy"] == "Never", "podFailurePolicy needs restartPolicy Never")
    check("--exit-at-end" in c["args"] and any(a.startswith("--from=") for a in c["args"]), "a bounded backfill")
    check(f"--group={env['TWEETPIPE_GROUP']}" not in c["args"], "the backfill has its own group")
    rules = job["spec"]["podFailurePolicy"]["rules"]
    fail_fast = {v for r in rules if r["action"] == "FailJob" for v in r.get("onExitCodes", {}).get("values", [])}
    check(78 in fail_fast and 69 not in fail_fast, "78 fails the Job at once, 69 is retried")

# Migrations: a hook Job before install and upgrade, and consumers that leave the schema alone.
run_args = consumer["spec"]["template"]["spec"]["containers"][0].get("args", [])
migrate = jobs.get("migrate", [])
if migrate:
    (job,) = migrate
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    check(hooks == {"pre-install", "pre-upgrade"}, f"migrations run before install and upgrade, not {hooks}")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    check(c["command"][-1] == "migrate", "the hook Job migrates")
    check("envFrom" not in c, "the hook Job runs before the ConfigMap exists")
    check(env.get("TWEETPIPE_MIGRATE") == "false" and "--no-migrate" in run_args, "consumers do not migrate")
else:
    check("TWEETPIPE_MIGRATE" not in env and "--no-migrate" not in run_args, "without the hook, consumers migrate")

# Every pod runs as the release's ServiceAccount (when it makes one), with no API token.
accounts = {a["metadata"]["name"] for a in by_kind.get("ServiceAccount", [])}
for owner, pod in pods:
    check(pod.get("automountServiceAccountToken") is False, f"{owner}: no API token")
    if accounts and not owner.endswith("-migrate"):
        check(pod["serviceAccountName"] in accounts, f"{owner} runs as the release's ServiceAccount")

# Prometheus Operator: jobs named as the alert rules expect; the rules and dashboard are the
# repository's files, unchanged.
chart = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tweetpipe")
alerts = yaml.safe_load(open(os.path.join(chart, "files/prometheus-alerts.yaml")))
for pm in by_kind.get("PodMonitor", []):
    check(pm["spec"]["jobLabel"] == "app.kubernetes.io/name", "the PodMonitor names jobs after app.kubernetes.io/name")
    names = {d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] for d in by_kind["Deployment"]}
    wanted = set(re.findall(r'job="(tweetpipe-[a-z]+)"', json.dumps(alerts)))
    check(wanted <= names, f"the rules' jobs {wanted} are the pods' app.kubernetes.io/name values {names}")
for rule in by_kind.get("PrometheusRule", []):
    check(rule["spec"] == alerts, "the PrometheusRule is files/prometheus-alerts.yaml")
    for r in (r for g in rule["spec"]["groups"] for r in g["rules"]):
        check("/docs/operations.md#" + r["alert"].lower() in r["annotations"]["runbook_url"], f"{r['alert']} runbook")
dashboards = [c for c in docs if c["kind"] == "ConfigMap" and c["metadata"]["labels"].get("grafana_dashboard") == "1"]
for cm in dashboards:
    (text,) = cm["data"].values()
    check(json.loads(text) == json.load(open(os.path.join(chart, "files/grafana-dashboard.json"))), "the dashboard file")

# helm test: a pod running check.
for pod in by_kind.get("Pod", []):
    check(pod["metadata"]["annotations"]["helm.sh/hook"] == "test", "test pods are helm test hooks")
    check(pod["spec"]["containers"][0]["command"][-1] == "check", "helm test runs check")

# x-search: its query, and its checkpoint on a writable volume (the root is read-only).
if "producer" in deployments:
    pod = deployments["producer"]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    if "--source=x-search" in c["args"]:
        check(any(a.startswith("--query=") and len(a) > 8 for a in c["args"]), "x-search has a query")
        (cp,) = [a.removeprefix("--checkpoint-file=") for a in c["args"] if a.startswith("--checkpoint-file=")]
        (mount,) = [m for m in c["volumeMounts"] if cp.startswith(m["mountPath"] + "/")]
        (vol,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        claim = vol["persistentVolumeClaim"]["claimName"]
        check(not mount.get("readOnly") and pod["securityContext"].get("fsGroup"), "the checkpoint is writable")
        check(claim in {p["metadata"]["name"] for p in by_kind.get("PersistentVolumeClaim", [])} or name == "x-search-claim",
              "the checkpoint's claim is rendered")

print(f"[deploy] chart render {name}: {len(docs)} objects valid")
