#!/usr/bin/env bash
# Offline checks of the deployment files (deploy/test.sh runs it; about 15 s):
#   1. every overlay of deploy/k8s renders (kubectl kustomize);
#   2. every rendered object is valid: Kubernetes kinds against the API schemas of
#      Kubernetes 1.30 and 1.37 (kubernetes-validate --strict), the operators' kinds
#      against deploy/schemas (check-jsonschema); a kind with neither fails;
#   3. what schemas cannot say (deploy/check_deploy.py policy): Pod Security
#      "restricted", probes, the drain's grace period against the service's settings,
#      references between objects, labels, no Secret shipped, the config the service loads;
#   4. the alert rules: metric names the service exports, promtool check and test rules;
#   5. the repository around them: the config copy, deploy/constraints.txt, .dockerignore;
#   6. the Dockerfile (hadolint), the compose file (compose-spec schema; `docker compose
#      config` and an image build too when a Docker engine answers).
# Every check runs; the script exits 1 if any failed. Nothing is fetched but promtool,
# once, from Debian's promtool or prometheus package (apt-get download), when it is not
# installed.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
start=$SECONDS

step() { printf '==> %s\n' "$*"; }
# run NAME CMD...: runs CMD; when it fails, records NAME and returns 1 (callers go on
# with `|| true`, so every check runs).
run() {
  local name=$1
  shift
  "$@" && return 0
  failed+=("$name")
  printf '!!! %s FAILED\n' "$name" >&2
  return 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || {
    echo "deploy/check.sh: $1 not found ($2)" >&2
    exit 1
  }
}
need kubectl "it renders the kustomizations"
for tool in kubernetes-validate check-jsonschema hadolint ruff mypy; do
  need "$BIN/$tool" "pip install -e .[test], or bash deploy/setup.sh --test"
done

# kubernetes-validate passes a kind it has no schema for with a WARN line: fail on it.
validate_k8s() {  # version files...
  local version=$1 out
  shift
  out=$("$BIN/kubernetes-validate" --strict --quiet -k "$version" "$@" 2>&1) || {
    echo "$out"
    return 1
  }
  if [ -n "$out" ]; then
    echo "$out"
    return 1
  fi
  echo "kubernetes-validate $version: ok, $# objects"
}

# promtool: on PATH, in the cache, or extracted from Debian's package into the cache:
# Debian 13 has it in a package of its own, Debian 12 in prometheus.
promtool_deb() {
  apt-get download promtool >/dev/null 2>&1 || apt-get download prometheus >/dev/null 2>&1
}
promtool_bin() {
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/ticket-router"
  if command -v promtool >/dev/null 2>&1; then
    command -v promtool
    return
  fi
  if [ ! -x "$cache/promtool" ]; then
    mkdir -p "$cache" "$work/deb"
    (cd "$work/deb" && { promtool_deb \
      || { [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1 && promtool_deb; }; }) || {
      echo "deploy/check.sh: cannot get promtool (apt-get download promtool, prometheus failed)" >&2
      return 1
    }
    dpkg-deb --fsys-tarfile "$(ls "$work"/deb/*.deb | head -n 1)" | tar -x -C "$work/deb" ./usr/bin/promtool
    mv "$work/deb/usr/bin/promtool" "$cache/promtool"
  fi
  echo "$cache/promtool"
}

docker_engine() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

step "render the overlays (kubectl kustomize)"
rendered=()
for dir in deploy/k8s/overlays/*/; do
  name=$(basename "$dir")
  if kubectl kustomize "$dir" >"$work/$name.yaml"; then
    echo "$dir: $(grep -c '^kind:' "$work/$name.yaml") objects"
    rendered+=("$work/$name.yaml")
  else
    failed+=("render $dir")
    printf '!!! render %s FAILED\n' "$dir" >&2
  fi
done

step "validate the rendered objects (kubernetes-validate, check-jsonschema)"
for file in "${rendered[@]}"; do
  name=$(basename "$file" .yaml)
  split="$work/split-$name"
  if run "split $name" "$BIN/python" deploy/check_deploy.py split "$file" "$split"; then
    for version in 1.30.0 1.37.0; do
      run "kubernetes-validate $version $name" validate_k8s "$version" "$split"/k8s/*.yaml || true
    done
    for kind in "$split"/crd/*/; do
      [ -d "$kind" ] || continue
      schema="deploy/schemas/$(basename "$kind").json"
      printf 'check-jsonschema %s: ' "$(basename "$kind")"
      run "check-jsonschema $(basename "$kind") $name" \
        "$BIN/check-jsonschema" --schemafile "$schema" "$kind"*.yaml || true
    done
  fi
done

step "policy: Pod Security restricted, probes, grace period, references, labels"
run policy "$BIN/python" deploy/check_deploy.py policy "${rendered[@]}" || true

step "alert rules: metric names, promtool check rules, promtool test rules"
run "rules" "$BIN/python" deploy/check_deploy.py rules "$work/rules" "${rendered[@]}" || true
if [ -f "$work/rules/rules.yaml" ]; then
  cp deploy/k8s/components/monitoring/alerts.test.yaml "$work/rules/"
  if promtool=$(promtool_bin); then
    run "promtool check rules" "$promtool" check rules "$work/rules/rules.yaml" || true
    run "promtool test rules" "$promtool" test rules "$work/rules/alerts.test.yaml" || true
  else
    failed+=("promtool")
  fi
fi

step "lint the checks themselves (ruff, mypy --strict)"
run "ruff" "$BIN/ruff" check --quiet deploy/check_deploy.py && echo "ruff check: ok" || true
run "ruff format" "$BIN/ruff" format --check --quiet deploy/check_deploy.py && echo "ruff format: ok" || true
# Only this file's errors: the service's own modules are type-checked by deploy/test.sh.
run "mypy" "$BIN/mypy" --strict --follow-imports=silent --no-error-summary deploy/check_deploy.py \
  && echo "mypy --strict: ok" || true

step "config copy, constraints, Docker build context"
run repo "$BIN/python" deploy/check_deploy.py repo || true

step "Dockerfile (hadolint)"
run hadolint "$BIN/hadolint" --failure-threshold info Dockerfile && echo "hadolint: ok" || true

step "compose file"
printf 'check-jsonschema compose-spec: '
run "compose-spec schema" "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec \
  deploy/docker-compose.yml || true
if docker_engine && docker compose version >/dev/null 2>&1; then
  run "docker compose config" docker compose -f deploy/docker-compose.yml config --quiet \
    && echo "docker compose config: ok" || true
else
  echo "docker compose config: skipped: no Docker engine"
fi

step "image build"
if docker_engine; then
  run "docker build" docker build --quiet -t ticket-router:check . || true
else
  echo "docker build: skipped: no Docker engine"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf 'deploy/check.sh: FAILED (%s) in %ss\n' "$(IFS=,; echo "${failed[*]}")" "$((SECONDS - start))" >&2
  exit 1
fi
echo "deploy/check.sh: all checks passed in $((SECONDS - start))s"
