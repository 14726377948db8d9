#!/usr/bin/env bash
# The main job in one command: a real local sweep end to end on a generated corpus.
#   db up + migrate -> corpus synth (IEMOCAP layout) -> features extract (random ResNet-50, cached)
#   -> three node processes on loopback (coordinator+worker, worker, worker) -> sweep submit --preset smoke --wait
#   -> tables into ./out/ -> Table II on the terminal -> nodes stopped.
# Re-running reuses the corpus, the feature cache and the sweep (it resumes); --clean starts over.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$FC_ROOT"

CLEAN=0
for arg in "$@"; do
  case "$arg" in
    --clean) CLEAN=1 ;;
    -h|--help)
      echo "usage: scripts/demo.sh [--clean]"
      echo "  Runs the smoke sweep on a generated corpus with a local three-node cluster and prints Table II."
      echo "  --clean  forget the generated corpus, the feature cache and the demo sweep, and start over."
      echo "  Environment: FC_DEMO_PORTS (default '4053 4054 4055'), FOLDCLUSTER_PG_PORT (forces the database port; default 54329, or a free one when another program holds it)."
      exit 0 ;;
    *) die "unknown option '$arg' (expected --clean or --help)" 2 ;;
  esac
done

STATE="${FOLDCLUSTER_STATE:-$FC_ROOT/.foldcluster}"
DEMO="$STATE/demo"
DATA="$DEMO/data"
CORPUS="$DATA/generated-corpus"
CACHE="$DEMO/cache"
LOGS="$DEMO/logs"
OUT="$FC_ROOT/out"
SWEEP="smoke"
read -r -a PORTS <<< "${FC_DEMO_PORTS:-4053 4054 4055}"
[ ${#PORTS[@]} -eq 3 ] || die "FC_DEMO_PORTS must name three ports, e.g. '4053 4054 4055'" 2
START=$(date +%s)
NODE_PIDS=()

stop_nodes() {
  [ ${#NODE_PIDS[@]} -eq 0 ] && return 0
  echo "stopping the nodes" >&2
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    local alive=0
    for pid in "${NODE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.5
  done
  for pid in "${NODE_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  NODE_PIDS=()
}
SUBMIT_PID=
on_interrupt() {
  echo >&2
  if [ -n "$SUBMIT_PID" ]; then kill -TERM "$SUBMIT_PID" 2>/dev/null || true; fi
  echo "interrupted: stopping the nodes; run scripts/demo.sh again to continue where it stopped" >&2
  stop_nodes
  exit 130
}
trap stop_nodes EXIT
trap on_interrupt INT TERM

ensure_dotnet
ensure_system_packages
ensure_mnist
build_cli

step "database"
DB="$(fc db up)" || die "the embedded PostgreSQL did not start; see the message above and $STATE/pg/server.log"
export FOLDCLUSTER_DB="$DB"
fc db migrate

if [ $CLEAN -eq 1 ]; then
  step "--clean: forgetting the demo's corpus, cache, sweep and output"
  fc sweep delete --name "$SWEEP" --yes --if-exists
  rm -rf "$DEMO" "$OUT"
fi
mkdir -p "$DATA" "$CACHE" "$LOGS"

step "generated corpus (IEMOCAP layout)"
if [ -f "$CORPUS/.complete" ]; then
  echo "reusing $CORPUS" >&2
else
  rm -rf "$CORPUS"
  fc corpus synth --layout iemocap --out "$CORPUS" --speakers 10 --utterances 300 --seed 1
  touch "$CORPUS/.complete"
fi
fc corpus inspect --layout iemocap --root "$CORPUS"

step "features (log-Mel, Word2Vec, ResNet-50 with random weights at 112 px; cached)"
# The generated corpus names its own video settings (112 px, 2 fps); the smoke preset asks for the same,
# so the workers find every utterance in this cache.
fc features extract --layout iemocap --root "$CORPUS" --cache "$CACHE" --dataset generated \
  --extractor resnet50 --allow-random-weights

step "three node processes on 127.0.0.1 (ports ${PORTS[*]})"
for port in "${PORTS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is already in use (another FoldCluster node?); stop that program or set FC_DEMO_PORTS='p1 p2 p3'" 2
  fi
done
SEEDS="127.0.0.1:${PORTS[0]}"
start_node() { # name port roles
  local name=$1 port=$2 roles=$3
  # dotnet itself in the background (not the fc function), so $! is the node's own process and stop_nodes reaches it.
  # The database comes from $FOLDCLUSTER_DB (exported above), never from the command line.
  FOLDCLUSTER_THREADS_PER_SLOT=1 dotnet "$FC_DLL" node start --node-name "$name" --roles "$roles" --host 127.0.0.1 --port "$port" --seeds "$SEEDS" \
    --slots cpu:1 --cache "$CACHE" --data-root "$DATA" --trainer real \
    >"$LOGS/$name.log" 2>&1 &
  NODE_PIDS+=($!)
  echo "node $name (roles $roles) on port $port, pid $!, log $LOGS/$name.log" >&2
}
start_node node1 "${PORTS[0]}" coordinator,worker
start_node node2 "${PORTS[1]}" worker
start_node node3 "${PORTS[2]}" worker

step "sweep '$SWEEP' (10 folds x Concat, CMHA x A+V, A+T, V+T, A+V+T; tiny profile)"
# In the background with `wait`, so that an interrupt reaches the trap at once (bash runs traps only between commands).
set +e
dotnet "$FC_DLL" sweep submit --preset smoke --name "$SWEEP" --data-root "$DATA" --wait &
SUBMIT_PID=$!
wait "$SUBMIT_PID"
sweep_status=$?
SUBMIT_PID=
set -e
stop_nodes
[ $sweep_status -eq 0 ] || echo "warning: the sweep did not finish cleanly (exit $sweep_status); the tables show what finished" >&2

# Fig. 6: MCWSA with three image channels on MNIST (demo size, about 35 s; a rerun keeps the stored run).
step "Fig. 6: MCWSA on MNIST digits (channels 0-2, 3-5, 6-8; 5 epochs of 1,500 digits per channel)"
fc analysis mnist --epochs 5 --train 1500 --test 300 --seed 1 --reuse

step "tables and figures into $OUT"
fc tables --sweep "$SWEEP" --out "$OUT" --format md,latex,csv --figures --show table2

ELAPSED=$(( $(date +%s) - START ))
cat <<MSG
Done in ${ELAPSED} s. Next:
  scripts/foldcluster results query --sweep $SWEEP --aggregate        # one row per table cell
  scripts/foldcluster results query --sweep $SWEEP --format json      # every job, as JSON
  scripts/foldcluster results compare --sweep $SWEEP --a cmha --b concat --modalities AVT
  ls $OUT                                                             # tables (md, tex, csv) and figures (png)
  xdg-open $OUT/fig4-confusion-generated-cmha-avt.png                 # a Fig. 4-style confusion matrix
  scripts/foldcluster dashboard                                       # the same in a browser: http://127.0.0.1:8080/
MSG
