-- Nodes page of the dashboard: each worker node upserts one row every few seconds while it runs, so the database
-- knows which workers and slots are alive without asking the cluster. What runs on a slot comes from jobs
-- (state 'running', worker, slot, stage, epoch).
create table worker_heartbeats (
    worker        text primary key,              -- the worker id that jobs.worker and job_attempts.worker carry
    node_name     text not null,
    host          text not null,                 -- the machine's host name
    roles         text not null,                 -- e.g. coordinator,worker
    slots         text[] not null,               -- e.g. {cpu:0,cpu:1}
    started_at    timestamptz not null,
    last_seen_at  timestamptz not null default now()
);

create index worker_heartbeats_seen_idx on worker_heartbeats (last_seen_at);
