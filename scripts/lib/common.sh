# Shared helpers for the scripts in scripts/. Source it; do not run it.
# shellcheck shell=bash

FC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FC_CONFIGURATION="${FC_CONFIGURATION:-Debug}"
FC_DLL="$FC_ROOT/src/FoldCluster.Cli/bin/$FC_CONFIGURATION/net10.0/foldcluster.dll"

step() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$1" >&2; exit "${2:-1}"; }

# The built CLI.
fc() { dotnet "$FC_DLL" "$@"; }

have_pg_server() {
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null
}

# Installs the Debian packages the project needs when they are missing: ffmpeg (video decoding and the
# generated corpus) and the PostgreSQL server binaries. Uses apt as root, or sudo when available.
ensure_system_packages() {
  local missing=()
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  have_pg_server || missing+=(postgresql)
  command -v runuser >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" 2
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]}, and apt-get is not available to install them" 2
  step "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2 || die "apt-get update failed; cannot install ${missing[*]}"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "could not install ${missing[*]} with apt-get; install them by hand and run again"
  command -v ffmpeg >/dev/null || die "ffmpeg is still missing after installation"
  have_pg_server || die "PostgreSQL server binaries are still missing after installation"
}

ensure_dotnet() {
  command -v dotnet >/dev/null || die ".NET SDK 10 (dotnet) is required: https://dotnet.microsoft.com/download" 2
}

build_solution() {
  step "building FoldCluster.sln ($FC_CONFIGURATION)"
  dotnet build "$FC_ROOT/FoldCluster.sln" -c "$FC_CONFIGURATION" -nologo -v:minimal -clp:NoSummary >&2 \
    || die "build failed"
}
