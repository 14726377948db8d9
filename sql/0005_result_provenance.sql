-- Where and how each result was computed (DESIGN.md section 9): results of one seed differ between machines
-- (libtorch chooses kernels by CPU instruction set), so every result records its runtime beside it.
-- utterance_modalities / utterances / left_out: the sweep's utterance set of the dataset as the worker used it
-- (the utterances having every modality the sweep's modality sets need) and how many were left out, by reason.
create table result_provenance (
    job_id                bigint primary key references results (job_id) on delete cascade,
    code_version          text not null,
    torchsharp_version    text not null,
    libtorch_version      text not null,
    device                text not null,
    device_name           text not null,
    cpu_model             text not null,
    cpu_isa               text not null,
    threads               integer not null check (threads >= 1),
    worker_host           text not null,
    feature_cache_key     text not null,
    utterance_modalities  text not null,
    utterances            integer not null check (utterances >= 0),
    left_out              jsonb not null default '{}'::jsonb
);

-- The utterance set of each dataset of a sweep as `sweep submit` planned it, when the submitting machine could read
-- the corpus: how many utterances have every modality the sweep needs, and how many were left out and why.
create table sweep_utterance_sets (
    sweep_id     bigint not null references sweeps (sweep_id) on delete cascade,
    dataset      text not null,
    extractor    text not null,
    modalities   text not null,
    utterances   integer not null check (utterances >= 0),
    labelled     integer not null check (labelled >= 0),
    left_out     jsonb not null default '{}'::jsonb,
    planned_at   timestamptz not null default now(),
    primary key (sweep_id, dataset, extractor)
);
