#!/usr/bin/env bash
# Starts a Docker-compatible engine for the Docker-runtime suites: Podman from Debian serving the
# Docker Engine API on a socket (no Docker daemon, no registry here), and builds the local base
# image from Debian's own packages once. Prints the DOCKER_HOST to use. Idempotent.
set -euo pipefail
dir="${XDG_CACHE_HOME:-$HOME/.cache}/outboxctl-ci/podman"
mkdir -p "$dir"
missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# Name resolution on user-defined networks (CNI backend): without it containers cannot reach each other by name.
dpkg -s golang-github-containernetworking-plugin-dnsname >/dev/null 2>&1 || missing+=(golang-github-containernetworking-plugin-dnsname)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$dir/apt.log" 2>&1 || { cat "$dir/apt.log" >&2; exit 1; }
fi
# Without both ulimits every container fails: "error setting rlimit type 7: operation not permitted".
cat > "$dir/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$dir/containers.conf"
sock="$dir/podman.sock"
if ! curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then
  rm -f "$sock"
  nohup podman system service --time=0 "unix://$sock" >"$dir/service.log" 2>&1 &
  echo $! >"$dir/podman.pid"
  for _ in $(seq 1 100); do
    curl -fsS --max-time 1 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null
suite=$(. /etc/os-release; echo "$VERSION_CODENAME")
if ! podman image exists "localhost/outboxctl-base:$suite"; then
  # The mirror and release come from this machine, never from the project.
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  rootfs=$(mktemp -d)
  echo "building localhost/outboxctl-base:$suite with debootstrap (about 45 s, once)" >&2
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  cp /etc/apt/sources.list.d/debian.sources "$rootfs"/etc/apt/sources.list.d/ && rm -f "$rootfs"/etc/apt/sources.list
  tar -C "$rootfs" -c . | podman import - "localhost/outboxctl-base:$suite" >&2
  rm -rf "$rootfs"
fi
echo "unix://$sock"
