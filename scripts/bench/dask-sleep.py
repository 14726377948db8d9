#!/usr/bin/env python3
"""Optional comparison for `foldcluster bench cluster`: the same sleep jobs on dask.distributed.

Runs JOBS tasks that each sleep SECONDS on a LocalCluster of NODES worker processes with SLOTS threads each
(the same shape as `bench cluster --nodes NODES --slots SLOTS`), and prints the makespan against the nominal ideal
(jobs x seconds / slots). Dask keeps its queue in the scheduler's memory: nothing is durable, nothing is fenced.
Not a FoldCluster dependency; on Debian: apt-get install python3-distributed.

usage: dask-sleep.py [--jobs 440] [--seconds 2] [--nodes 4] [--slots 2] [--json]
"""
import argparse
import json
import os
import sys
import time


def sleep_job(seconds, index):
    time.sleep(seconds)
    return index


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=440)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    args = parser.parse_args()
    if args.jobs < 1 or args.seconds <= 0 or args.nodes < 1 or args.slots < 1:
        print("dask-sleep: --jobs, --nodes and --slots must be at least 1 and --seconds positive", file=sys.stderr)
        return 2
    try:
        from dask.distributed import Client, LocalCluster, wait
    except ImportError:
        print("dask-sleep: dask.distributed is not installed (Debian: apt-get install python3-distributed)", file=sys.stderr)
        return 2

    with LocalCluster(n_workers=args.nodes, threads_per_worker=args.slots, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(args.nodes)
        started = time.monotonic()
        futures = client.map(sleep_job, [args.seconds] * args.jobs, range(args.jobs), pure=False)
        wait(futures)
        makespan = time.monotonic() - started
    slots = args.nodes * args.slots
    ideal = args.jobs * args.seconds / slots
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"dask: {args.jobs} jobs x {args.seconds} s on {slots} threads in {args.nodes} processes: "
          f"makespan {makespan:.2f} s, nominal ideal {ideal:.2f} s, ratio {makespan / ideal:.4f} (load average {load})",
          file=sys.stderr)
    if args.json:
        print(json.dumps({"makespan_s": round(makespan, 3), "nominal_ideal_s": round(ideal, 3),
                          "nominal_ratio": round(makespan / ideal, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
