#!/usr/bin/env bash
# Longer fuzz run of the parsers of outside files (WAV, both Word2Vec formats, IEMOCAP EmoEvaluation and
# transcriptions, MSP-IMPROV labels, sweep specs): random and mutated inputs must give a result or a bad-input
# error. The test run does a few thousand cases per parser; this runs as many as asked.
#   scripts/fuzz.sh [--cases N | --seconds S]     (default: --cases 100000 per parser)
# Prints one line per parser: cases run, how many parsed, how many were bad input, crashes found, time.
# Exits non-zero when any parser crashed (the test output above the summary shows the first input that did).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$FC_ROOT"

cases=100000
seconds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) [ $# -ge 2 ] || die "--cases needs a number" 2; cases="$2"; shift 2 ;;
    --seconds) [ $# -ge 2 ] || die "--seconds needs a number" 2; seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (expected --cases N or --seconds S)" 2 ;;
  esac
done
[[ "$cases" =~ ^[1-9][0-9]*$ ]] || die "--cases '$cases' is not a positive integer" 2
[ -z "$seconds" ] || [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "--seconds '$seconds' is not a positive integer" 2

ensure_dotnet
step "building the parser tests ($FC_CONFIGURATION)"
dotnet build tests/FoldCluster.Features.Tests -c "$FC_CONFIGURATION" -nologo -v:quiet -clp:NoSummary >&2 || die "build failed"

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
export FOLDCLUSTER_FUZZ_REPORT="$report"
if [ -n "$seconds" ]; then
  export FOLDCLUSTER_FUZZ_SECONDS="$seconds"
  step "fuzzing each parser for $seconds s"
else
  export FOLDCLUSTER_FUZZ_ITER="$cases"
  step "fuzzing each parser with $cases cases"
fi
set +e
dotnet test tests/FoldCluster.Features.Tests -c "$FC_CONFIGURATION" --no-build --filter "Category=Fuzz" -v:quiet >&2
status=$?
set -e
echo
sort "$report"
crashes=$(awk '{for (i = 1; i <= NF; i++) if ($i == "crashes,") s += $(i-1)} END {print s+0}' "$report")
parsers=$(wc -l <"$report")
echo "fuzz: $parsers parsers, $crashes crashes"
if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "$parsers" -eq 0 ]; then
  exit 1
fi
