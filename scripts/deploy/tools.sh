#!/usr/bin/env bash
# Installs what checks the Helm chart, into $TL_HOME/deploy (idempotent: a second run only prints the paths):
#   helm         built from the Go module proxy (helm.sh/helm/v3/cmd/helm)
#   kubeconform  built from the Go module proxy (github.com/yannh/kubeconform/cmd/kubeconform)
#   Kubernetes JSON schemas for kubeconform, from the PyPI package kubernetes-validate (which bundles them)
#   a ServiceMonitor validator, from the npm package @kubernetes-models/prometheus-operator (kubeconform has no
#   schema for that CRD here: its usual source is a GitHub repository, which this machine cannot reach), and
#   the npm package yaml to read rendered manifests
#   compose-check (scripts/deploy/compose-check): loads deploy/compose/compose.yaml with compose-go, the loader
#   of Docker Compose itself, from the Go module proxy
# Prints shell assignments (HELM=…, KUBECONFORM=…, K8S_SCHEMAS_<version>=…, DEPLOY_NODE_MODULES=…,
# COMPOSE_CHECK=…) on stdout.
# Needs Go (PATH or /usr/local/go/bin), python3 with pip, and npm (from scripts/node.sh). Log: .cache/logs/deploy-tools.log
source "$(dirname "$0")/../lib.sh"

HELM_VERSION="${TL_HELM_VERSION:-v3.22.0}"
HELM_K8S_MINOR=37                  # Kubernetes 1.<this> of helm's client-go (v0.37): its default for lint/template
KUBECONFORM_VERSION="${TL_KUBECONFORM_VERSION:-v0.8.0}"
K8S_VALIDATE_VERSION=1.37.0        # PyPI kubernetes-validate: schemas of Kubernetes 1.25 … 1.37
K8S_SCHEMA_VERSIONS="1.25.0 1.37.0" # the oldest the chart supports (Chart.yaml kubeVersion) and the newest bundled
# npm: the ServiceMonitor validator, and a YAML parser for reading rendered manifests
NODE_TOOLS="@kubernetes-models/prometheus-operator@6.0.0 yaml@2.9.1"
NODE_TOOLS_ID=1                    # bump when NODE_TOOLS changes

dir="$TL_HOME/deploy"
log="$TL_LOGS/deploy-tools.log"
mkdir -p "$dir"

go_bin() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  [ -x /usr/local/go/bin/go ] && { echo /usr/local/go/bin/go; return; }
  die "Go is missing: install it (apt-get install -y golang-go; with GOTOOLCHAIN=auto an old go fetches the toolchain helm needs from the Go module proxy)"
}

# go_tool NAME VERSION PACKAGE [LDFLAGS]: builds PACKAGE@VERSION into $dir/NAME-VERSION/NAME unless it is there.
go_tool() {
  local name="$1" version="$2" pkg="$3" ldflags="-s ${4:-}" out="$dir/$1-$2"
  if [ ! -x "$out/$name" ]; then
    say "building $name $version from the Go module proxy (first time only, a few minutes)…"
    local go; go="$(go_bin)"
    mkdir -p "$out"
    # CGO off: static binaries, no C toolchain needed; the Go module and build caches are the machine's own
    # (like Maven's ~/.m2), so another clone builds from them.
    GOBIN="$out" CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
      "$go" install -trimpath -ldflags="$ldflags" "$pkg@$version" >>"$log" 2>&1 \
      || die "building $name $version (go install $pkg@$version) failed" "$log"
  fi
  echo "$out/$name"
}

# k8s_schemas: kubeconform schema directories, one per Kubernetes version in K8S_SCHEMA_VERSIONS.
# kubernetes-validate's files refer to "/api/_definitions.json" under an https://kubernetes.io $id, which a
# validator would fetch from the network; here each file's $id is dropped and the reference made relative to
# the file, so kubeconform reads _definitions.json beside it.
k8s_schemas() {
  local root="$dir/k8s-schemas-$K8S_VALIDATE_VERSION"
  if [ ! -f "$root/.complete" ]; then
    need python3 "python3 is missing: apt-get install -y python3 python3-pip"
    say "fetching Kubernetes JSON schemas (PyPI kubernetes-validate $K8S_VALIDATE_VERSION)…"
    rm -rf "$root" && mkdir -p "$root/wheel"
    local pip=(python3 -m pip)
    if ! python3 -m pip --version >/dev/null 2>&1; then   # a python3 without pip: a venv brings its own
      python3 -m venv "$dir/venv" >>"$log" 2>&1 || die "python3 has no pip and cannot create a venv (apt-get install -y python3-venv)" "$log"
      pip=("$dir/venv/bin/python" -m pip)
    fi
    "${pip[@]}" download --no-deps --disable-pip-version-check -q -d "$root/wheel" "kubernetes-validate==$K8S_VALIDATE_VERSION" >>"$log" 2>&1 \
      || die "download of kubernetes-validate $K8S_VALIDATE_VERSION from PyPI failed" "$log"
    python3 - "$root" $K8S_SCHEMA_VERSIONS >>"$log" 2>&1 <<'PY' || die "unpacking the Kubernetes schemas failed" "$log"
import glob, json, os, sys, zipfile
root, versions = sys.argv[1], sys.argv[2:]
wheel = zipfile.ZipFile(glob.glob(os.path.join(root, 'wheel', '*.whl'))[0])
for v in versions:
    prefix = f'kubernetes_validate/kubernetes-json-schema/v{v}-local-strict/'
    out = os.path.join(root, f'v{v}-strict')
    os.makedirs(out, exist_ok=True)
    names = [n for n in wheel.namelist() if n.startswith(prefix) and n.endswith('.json')]
    if not names:
        sys.exit(f'no schemas for Kubernetes {v} in the wheel')
    for name in names:
        schema = json.loads(wheel.read(name))
        schema.pop('$id', None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(os.path.join(out, name[len(prefix):]), 'w') as f:
            f.write(text)
    print(f'Kubernetes {v}: {len(names)} schemas')
PY
    rm -rf "$root/wheel"
    touch "$root/.complete"
  fi
  for v in $K8S_SCHEMA_VERSIONS; do echo "K8S_SCHEMAS_${v//./_}=$root/v$v-strict"; done
}

# node_tools: npm packages the chart test uses, in their own prefix (not the project's dependencies).
node_tools() {
  local root="$dir/node-tools-$NODE_TOOLS_ID"
  if [ ! -f "$root/.complete" ]; then
    need npm "npm is missing (run through scripts/node.sh's PATH)"
    say "installing the chart test's npm packages ($NODE_TOOLS)…"
    mkdir -p "$root"
    # shellcheck disable=SC2086
    npm install --prefix "$root" --no-save --no-audit --no-fund --loglevel=error $NODE_TOOLS >>"$log" 2>&1 \
      || die "npm install of $NODE_TOOLS failed" "$log"
    touch "$root/.complete"
  fi
  echo "DEPLOY_NODE_MODULES=$root/node_modules"
}

# compose_check: our own small Go program; rebuilt when its sources change.
compose_check() {
  local src="$TL_ROOT/scripts/deploy/compose-check" id out
  id="$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go | sha256sum | cut -c1-12)"
  out="$dir/compose-check-$id/compose-check"
  if [ ! -x "$out" ]; then
    say "building compose-check (compose-go from the Go module proxy)…"
    local go; go="$(go_bin)"
    mkdir -p "$(dirname "$out")"
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" "$go" build -trimpath -ldflags=-s -o "$out" .) >>"$log" 2>&1 \
      || die "building scripts/deploy/compose-check failed" "$log"
  fi
  echo "COMPOSE_CHECK=$out"
}

helm="$(go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR")"
kubeconform="$(go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform)"
echo "HELM=$helm"
echo "KUBECONFORM=$kubeconform"
k8s_schemas
node_tools
compose_check
