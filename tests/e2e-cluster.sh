#!/usr/bin/env bash
# End to end on a real cluster: the controller runs the zone-failover experiment against
# the example Echo service through Chaos Mesh, then `faultline chaos run --backend kube`
# runs the same file from this host. Exits non-zero unless both runs pass.
#
#   tests/e2e-cluster.sh                 # a new kind cluster (k3d if kind is missing)
#   tests/e2e-cluster.sh --k3d           # a new k3d cluster
#   tests/e2e-cluster.sh --existing      # the cluster of the current kubectl context
#   tests/e2e-cluster.sh --keep          # leave everything up afterwards
#
# Needs docker, kubectl, helm, and kind or k3d (for a new cluster), plus cargo for the
# host's binary. A set KUBECONFIG means --existing. Settings from the environment:
#   CLUSTER_NAME        kind/k3d cluster name (faultline-e2e)
#   IMAGE               image to build and run (ghcr.io/faultline-rs/faultline:0.1.0); with
#                       --existing it is pushed, so name a registry the cluster pulls from
#   NO_BUILD=1          use IMAGE as it is (already in the cluster's reach): no build/load/push
#   CHAOS_MESH_VERSION  the chaos-mesh/chaos-mesh chart version (2.8.2)
#   CHAOS_MESH_SOCKET   containerd socket on the nodes, for --existing
#                       (/run/containerd/containerd.sock)
#   RUN_TIMEOUT         seconds to wait for each run to end (600)
#   FAULTLINE           the host's faultline binary (built with cargo when unset)
#
# The host run needs the pod network routed to this host: the probe calls the pods'
# addresses from the EndpointSlices, as a caller in the cluster does. On Linux as root,
# for a cluster it created, the script adds a route per node's pod CIDR through the node's
# address (removed at teardown). Where the pod addresses stay unreachable (Docker Desktop,
# not root, --existing) the same command runs in a pod under the controller's
# ServiceAccount instead, and the script says so.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

EXPERIMENT=manifests/examples/zone-failover-cluster.yaml
ECHO_SERVICE=manifests/examples/cluster/echo-service.yaml
NAME="zone-failover-cluster"
NAMESPACE=default
SYSTEM=faultline-system
DEFAULT_IMAGE=ghcr.io/faultline-rs/faultline:0.1.0

CLUSTER_NAME=${CLUSTER_NAME:-faultline-e2e}
IMAGE=${IMAGE:-$DEFAULT_IMAGE}
CHAOS_MESH_VERSION=${CHAOS_MESH_VERSION:-2.8.2}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}

keep=0
existing=0
provider=""
if [[ -n "${KUBECONFIG:-}" ]]; then
    existing=1
fi

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep) keep=1 ;;
        --existing) existing=1 ;;
        --kind) provider=kind ;;
        --k3d) provider=k3d ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "unknown argument: $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

log() { printf '\n== %s\n' "$*" >&2; }
die() {
    printf 'e2e-cluster: %s\n' "$*" >&2
    exit 1
}
need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "needs $tool on PATH"
    done
}

need docker kubectl helm
if [[ $existing -eq 0 ]]; then
    if [[ -z "$provider" ]]; then
        if command -v kind >/dev/null 2>&1; then
            provider=kind
        elif command -v k3d >/dev/null 2>&1; then
            provider=k3d
        else
            die "needs kind or k3d to create a cluster (or --existing)"
        fi
    fi
    need "$provider"
fi

scratch=$(mktemp -d)
created_cluster=0
installed_chaos_mesh=0
installed_controller=0
installed_echo=0
routes=()

teardown() {
    local status=$?
    set +e
    if [[ $keep -eq 1 ]]; then
        log "kept (--keep)"
        if [[ $created_cluster -eq 1 ]]; then
            echo "KUBECONFIG=$scratch/kubeconfig; delete with: $(delete_cluster_command)" >&2
        fi
        exit "$status"
    fi
    log "teardown"
    local route
    for route in ${routes[@]+"${routes[@]}"}; do
        # shellcheck disable=SC2086 # a route is several words on purpose
        ip route del $route
    done
    if [[ $created_cluster -eq 1 ]]; then
        eval "$(delete_cluster_command)"
    else
        # Only what this script created: a cluster's own faultline install, Echo service
        # and Chaos Mesh stay.
        kubectl delete pod -n "$SYSTEM" faultline-e2e-host-run --ignore-not-found --wait=false
        kubectl delete configmap -n "$SYSTEM" faultline-e2e-experiment --ignore-not-found
        kubectl delete -f "$EXPERIMENT" --ignore-not-found --timeout=120s
        if [[ $installed_echo -eq 1 ]]; then
            kubectl delete -f "$ECHO_SERVICE" --ignore-not-found
        fi
        if [[ $installed_controller -eq 1 ]]; then
            kubectl delete -k manifests/ --ignore-not-found
        fi
        if [[ $installed_chaos_mesh -eq 1 ]]; then
            helm uninstall chaos-mesh -n chaos-mesh
        fi
    fi
    rm -rf "$scratch"
    exit "$status"
}
trap teardown EXIT

delete_cluster_command() {
    case "$provider" in
        kind) echo "kind delete cluster --name $CLUSTER_NAME" ;;
        k3d) echo "k3d cluster delete $CLUSTER_NAME" ;;
    esac
}

# --- the cluster ----------------------------------------------------------------------

if [[ $existing -eq 0 ]]; then
    # Its own kubeconfig: the user's stays as it is.
    export KUBECONFIG="$scratch/kubeconfig"
    log "creating $provider cluster $CLUSTER_NAME (a control plane and two workers)"
    case "$provider" in
        kind)
            kind create cluster --name "$CLUSTER_NAME" --kubeconfig "$KUBECONFIG" \
                --wait 180s --config - <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
  - role: worker
EOF
            ;;
        k3d)
            k3d cluster create "$CLUSTER_NAME" --agents 2 --wait \
                --kubeconfig-update-default=false --kubeconfig-switch-context=false
            k3d kubeconfig get "$CLUSTER_NAME" >"$KUBECONFIG"
            ;;
    esac
    created_cluster=1
    # The probe takes each instance's zone from its EndpointSlice, which copies the node's
    # topology.kubernetes.io/zone: one worker per zone.
    workers=()
    while read -r node; do
        workers+=("$node")
    done < <(kubectl get nodes -l '!node-role.kubernetes.io/control-plane' \
        -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort)
    [[ ${#workers[@]} -ge 2 ]] || die "expected two worker nodes, found ${#workers[@]}"
    kubectl label node "${workers[0]}" topology.kubernetes.io/zone=az1 --overwrite
    kubectl label node "${workers[1]}" topology.kubernetes.io/zone=az2 --overwrite
else
    log "using the current context: $(kubectl config current-context)"
    if [[ -z "$(kubectl get nodes -o jsonpath='{.items[*].metadata.labels.topology\.kubernetes\.io/zone}')" ]]; then
        echo "warning: no node has a topology.kubernetes.io/zone label: the probe sees no zones" >&2
    fi
fi

# --- Chaos Mesh -----------------------------------------------------------------------

if kubectl get crd podchaos.chaos-mesh.org >/dev/null 2>&1; then
    log "Chaos Mesh is installed already"
else
    case "$provider" in
        k3d) socket=/run/k3s/containerd/containerd.sock ;;
        kind) socket=/run/containerd/containerd.sock ;;
        *) socket=${CHAOS_MESH_SOCKET:-/run/containerd/containerd.sock} ;;
    esac
    log "installing Chaos Mesh $CHAOS_MESH_VERSION (containerd at $socket)"
    helm repo add chaos-mesh https://charts.chaos-mesh.org --force-update >/dev/null
    helm upgrade --install chaos-mesh chaos-mesh/chaos-mesh \
        --namespace chaos-mesh --create-namespace \
        --version "$CHAOS_MESH_VERSION" \
        --set chaosDaemon.runtime=containerd \
        --set chaosDaemon.socketPath="$socket" \
        --set dashboard.create=false \
        --wait --timeout 10m
    installed_chaos_mesh=1
fi

# --- the image and the host's binary --------------------------------------------------

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    log "building $IMAGE"
    docker build -t "$IMAGE" .
    case "$provider" in
        kind) kind load docker-image "$IMAGE" --name "$CLUSTER_NAME" ;;
        k3d) k3d image import "$IMAGE" --cluster "$CLUSTER_NAME" ;;
        *) docker push "$IMAGE" ;;
    esac
fi

if [[ -z "${FAULTLINE:-}" ]]; then
    log "building the host's faultline"
    cargo build --release --locked -p faultline
    FAULTLINE="${CARGO_TARGET_DIR:-target}/release/faultline"
fi
[[ -x "$FAULTLINE" ]] || die "no faultline binary at $FAULTLINE"

# --- the controller and the service under test ----------------------------------------

log "installing the controller (kubectl apply -k manifests/)"
if ! kubectl get crd experiments.faultline.dev >/dev/null 2>&1; then
    installed_controller=1
fi
kubectl apply -k manifests/
kubectl wait --for=condition=Established crd/experiments.faultline.dev --timeout=60s
if [[ "$IMAGE" != "$DEFAULT_IMAGE" ]]; then
    kubectl -n "$SYSTEM" set image deployment/faultline-controller controller="$IMAGE"
fi
kubectl -n "$SYSTEM" rollout status deployment/faultline-controller --timeout=180s

log "deploying the Echo service in az1 and az2"
if ! kubectl -n "$NAMESPACE" get service echo >/dev/null 2>&1; then
    installed_echo=1
fi
kubectl apply -f "$ECHO_SERVICE"
for zone in az1 az2; do
    if [[ "$IMAGE" != "$DEFAULT_IMAGE" ]]; then
        kubectl -n "$NAMESPACE" set image "deployment/echo-$zone" echo="$IMAGE"
    fi
    kubectl -n "$NAMESPACE" rollout status "deployment/echo-$zone" --timeout=180s
done
kubectl -n "$NAMESPACE" get pods -l app=echo -o wide

# --- the controller's run -------------------------------------------------------------

# Both replicas' logs (only the leader's say anything about runs).
controller_logs() {
    kubectl -n "$SYSTEM" logs -l app.kubernetes.io/component=controller \
        --prefix --tail=200 >&2 || true
}

log "applying $EXPERIMENT: the controller runs it"
kubectl delete -f "$EXPERIMENT" --ignore-not-found --wait=true --timeout=120s
kubectl apply -f "$EXPERIMENT"

# `kubectl wait --for=jsonpath=` waits for one value, and a run ends in one of three, so
# the phase is polled until it is one of them or the time is up.
phase=""
deadline=$((SECONDS + RUN_TIMEOUT))
while true; do
    phase=$(kubectl -n "$NAMESPACE" get experiment "$NAME" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    case "$phase" in
        Passed | Failed | Aborted) break ;;
    esac
    if [[ $SECONDS -ge $deadline ]]; then
        controller_logs
        die "experiment $NAME still ${phase:-without a phase} after ${RUN_TIMEOUT}s"
    fi
    sleep 5
done

log "experiment $NAME: $phase"
kubectl -n "$NAMESPACE" get experiment "$NAME" -o yaml | sed -n '/^status:/,$p'

# The controller keeps the report in a ConfigMap next to the Experiment.
report="faultline-report-$NAME"
if kubectl -n "$NAMESPACE" get configmap "$report" >/dev/null 2>&1; then
    log "report ConfigMap $NAMESPACE/$report"
    # Every key but the HTML page, which is for a browser.
    # shellcheck disable=SC2016 # a Go template, not shell
    kubectl -n "$NAMESPACE" get configmap "$report" \
        -o go-template='{{range $key, $value := .data}}--- {{$key}}{{"\n"}}{{$value}}{{"\n"}}{{end}}' |
        awk '/^--- .*\.html$/ { skip = 1; print; next } /^--- / { skip = 0 } !skip'
else
    echo "no ConfigMap $report in $NAMESPACE" >&2
fi
if [[ "$phase" != Passed ]]; then
    controller_logs
fi

# --- the host's run -------------------------------------------------------------------

# Whether this host reaches the pods' addresses, as the probe will (bash's /dev/tcp).
reachable() {
    local ip=$1
    command -v timeout >/dev/null 2>&1 || return 1
    timeout 3 bash -c "exec 3<>/dev/tcp/$ip/9000" 2>/dev/null
}

echo_ip=$(kubectl -n "$NAMESPACE" get pods -l app=echo -o jsonpath='{.items[0].status.podIP}')
if ! reachable "$echo_ip" && [[ $created_cluster -eq 1 && $EUID -eq 0 && "$(uname -s)" == Linux ]]; then
    log "routing the pod network through the nodes"
    while read -r cidr address; do
        [[ -n "$cidr" && -n "$address" ]] || continue
        ip route replace "$cidr" via "$address"
        routes+=("$cidr via $address")
    done < <(kubectl get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
fi

host_status=0
if reachable "$echo_ip"; then
    log "faultline chaos run $EXPERIMENT --backend kube (from this host)"
    "$FAULTLINE" chaos run "$EXPERIMENT" --backend kube --report-dir "$scratch/host-report" ||
        host_status=$?
else
    log "faultline chaos run $EXPERIMENT --backend kube (in a pod: this host does not reach the pod network at $echo_ip)"
    kubectl -n "$SYSTEM" delete configmap faultline-e2e-experiment --ignore-not-found
    kubectl -n "$SYSTEM" create configmap faultline-e2e-experiment --from-file="$NAME.yaml=$EXPERIMENT"
    kubectl -n "$SYSTEM" delete pod faultline-e2e-host-run --ignore-not-found --wait=true
    kubectl apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: faultline-e2e-host-run
  namespace: $SYSTEM
spec:
  serviceAccountName: faultline-controller
  restartPolicy: Never
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: run
      image: $IMAGE
      imagePullPolicy: IfNotPresent
      args: [chaos, run, /experiment/$NAME.yaml, --backend, kube, --report-dir, /tmp/report]
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL]}
      volumeMounts:
        - {name: experiment, mountPath: /experiment, readOnly: true}
        - {name: tmp, mountPath: /tmp}
  volumes:
    - {name: experiment, configMap: {name: faultline-e2e-experiment}}
    - {name: tmp, emptyDir: {}}
EOF
    deadline=$((SECONDS + RUN_TIMEOUT))
    pod_phase=""
    while true; do
        pod_phase=$(kubectl -n "$SYSTEM" get pod faultline-e2e-host-run -o jsonpath='{.status.phase}')
        case "$pod_phase" in
            Succeeded | Failed) break ;;
        esac
        [[ $SECONDS -lt $deadline ]] || die "the run's pod is still ${pod_phase} after ${RUN_TIMEOUT}s"
        sleep 5
    done
    kubectl -n "$SYSTEM" logs faultline-e2e-host-run
    host_status=$(kubectl -n "$SYSTEM" get pod faultline-e2e-host-run \
        -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')
fi

log "controller run: $phase; chaos run --backend kube: exit $host_status"
[[ "$phase" == Passed && "$host_status" -eq 0 ]]
