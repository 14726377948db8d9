-- Time-pooled feature vectors of a job's test utterances, for the analysis figures (Fig. 5, 7, 8, 9).
-- Kinds: fused.stage1, fused.stage2, input.<modality>, encoded.<modality> (docs/sweep-spec.md, "Stored features").
-- They belong to the stored result: written in its transaction (so fenced like it) and deleted with it.
create table feature_vectors (
    job_id        bigint not null references results (job_id) on delete cascade,
    utterance_id  text not null,
    kind          text not null check (kind ~ '^(fused\.stage[12]|(input|encoded)\.(audio|video|text))$'),
    vec           real[] not null check (cardinality(vec) > 0),
    primary key (job_id, kind, utterance_id)
);
