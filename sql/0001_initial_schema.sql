-- FoldCluster result database (DESIGN.md section 9).
-- Labels are stored as smallint in the fixed class order 0 angry, 1 happy, 2 sad, 3 neutral.
-- All timestamps are timestamptz in UTC.

create table sweeps (
    sweep_id      bigserial primary key,
    name          text not null unique,
    spec          text not null,                 -- the normalised spec (YAML) as submitted
    spec_hash     text not null,                 -- sha256 of the normalised spec: same name + other hash is refused
    state         text not null default 'active' check (state in ('active', 'cancelled')),
    code_version  text not null,
    created_at    timestamptz not null default now()
);

create table jobs (
    job_id           bigserial primary key,
    sweep_id         bigint not null references sweeps (sweep_id) on delete cascade,
    job_key          text not null,             -- JobKey.Canonical
    dataset          text not null,
    split            text not null check (split in ('utterance', 'speaker')),
    fold             integer not null check (fold between 0 and 9),
    method           text not null,
    modalities       text not null check (modalities in ('A', 'V', 'T', 'AV', 'AT', 'VT', 'AVT')),
    pretrained       boolean not null,
    extractor        text not null,
    seed             integer not null,
    profile          text not null,
    state            text not null default 'queued'
                     check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempt          integer not null default 0,    -- fencing number: bumped each time the job is handed out
    max_attempts     integer not null default 3,    -- retry budget
    worker           text,                          -- node address of the current / last attempt
    slot             text,                          -- e.g. cpu:0, cuda:1
    lease_expires_at timestamptz,                   -- renewed by progress heartbeats while running
    stage            smallint,                      -- last reported stage (1 or 2) of the running attempt
    epoch            integer,                       -- last reported epoch of the running attempt
    error            text,
    created_at       timestamptz not null default now(),
    started_at       timestamptz,                   -- start of the current / last attempt
    finished_at      timestamptz,
    unique (sweep_id, job_key)
);

create index jobs_state_idx on jobs (state, sweep_id, job_id);
create index jobs_cell_idx on jobs (sweep_id, dataset, method, modalities, pretrained, extractor);

-- Every hand-out of a job; lets anyone check that no attempt ran or was stored twice.
create table job_attempts (
    job_id      bigint not null references jobs (job_id) on delete cascade,
    attempt     integer not null,
    worker      text not null,
    slot        text not null,
    started_at  timestamptz not null default now(),
    ended_at    timestamptz,
    outcome     text check (outcome in ('succeeded', 'failed', 'lost', 'cancelled', 'rejected')),
    error       text,
    primary key (job_id, attempt)
);

create table epoch_metrics (
    job_id         bigint not null references jobs (job_id) on delete cascade,
    attempt        integer not null,
    stage          smallint not null check (stage in (1, 2)),
    epoch          integer not null,
    train_loss     double precision not null,
    val_loss       double precision,
    val_ua         double precision,
    recorded_at    timestamptz not null default now(),
    primary key (job_id, attempt, stage, epoch)
);

-- One row per job at most: the result of the attempt that was current when it was stored.
create table results (
    job_id        bigint primary key references jobs (job_id) on delete cascade,
    attempt       integer not null,
    ua            double precision not null check (ua between 0 and 1),
    wa            double precision not null check (wa between 0 and 1),
    macro_f1      double precision not null check (macro_f1 between 0 and 1),
    weighted_f1   double precision not null check (weighted_f1 between 0 and 1),
    confusion     integer[] not null check (cardinality(confusion) = 16),  -- row-major [true][predicted]
    best_epoch    integer not null,
    seconds       double precision not null,
    stored_at     timestamptz not null default now()
);

create table predictions (
    job_id        bigint not null references results (job_id) on delete cascade,
    utterance_id  text not null,
    true_label    smallint not null check (true_label between 0 and 3),
    predicted     smallint not null check (predicted between 0 and 3),
    primary key (job_id, utterance_id)
);
