-- Golden fixture for the report tests: fixed rows, no randomness.
-- Sweep 'golden' (utterance split, profile 'paper', seed 7) covers both datasets, the four methods, the NP variant,
-- TFN's partial row (MSP-IMPROV has no TFN NP), missing folds (IEMOCAP MulT V+T: 7 of 10; MSP-IMPROV Concat A+V:
-- 1 of 10, whose missing folds failed or are still queued), a second seed (MSP-IMPROV CMHA A+V, seed 8: each fold
-- counts once), VGG-Face CMHA cells for Table III (MSP-IMPROV A+V+T: 4 of 10), jobs that must not count (failed,
-- queued, running, cancelled, succeeded without a result), a speaker-split job, and a single-modality job.
-- Two hand-worked cells: IEMOCAP CMHA A+V+T (pre) UA = 0.85 0.87 0.86 0.88 0.84 0.86 0.87 0.85 0.86 0.86
-- (mean 0.86, sample std sqrt(12e-4 / 9) = 0.011547), and IEMOCAP MulT A+V+T (pre) = CMHA - 0.02 on folds 0-8,
-- CMHA + 0.01 on fold 9.
-- Sweep 'waiting' has only queued and running jobs (no finished job).

insert into sweeps (name, spec, spec_hash, code_version) values
    ('golden', 'name: golden', 'hash-golden', 'test'),
    ('waiting', 'name: waiting', 'hash-waiting', 'test');

-- Row-major [true][predicted] confusion for one IEMOCAP-sized test fold (class totals 110 164 108 171):
-- recall of class t = ua + (0.03, 0.00, 0.06, -0.09)[t], the rest spread 1/2, 1/3, 1/6 over the other classes.
create function pg_temp.confusion(ua double precision) returns integer[] language sql immutable as $$
    select array_agg(v order by t, p)
    from (
        select t, p,
               case
                   when t = p then c
                   when (case when p < t then p else p - 1 end) = 0 then (n - c) / 2
                   when (case when p < t then p else p - 1 end) = 1 then (n - c) / 3
                   else (n - c) - (n - c) / 2 - (n - c) / 3
               end as v
        from (
            select t, p, n, round(n * least(0.98, ua + (array[0.03, 0.0, 0.06, -0.09])[t + 1]))::int as c
            from generate_series(0, 3) as t
            cross join generate_series(0, 3) as p
            cross join lateral (select (array[110, 164, 108, 171])[t + 1] as n) as totals
        ) as cells
    ) as matrix
$$;

create temporary table cell_spec (
    dataset text, method text, modalities text, pretrained boolean, extractor text, seed integer,
    ua_base double precision, f1_base double precision, folds integer
);

insert into cell_spec values
    ('iemocap', 'concat', 'AV',  true,  'resnet50', 7, 0.720, 0.720, 10),
    ('iemocap', 'concat', 'AT',  true,  'resnet50', 7, 0.690, 0.690, 10),
    ('iemocap', 'concat', 'VT',  true,  'resnet50', 7, 0.740, 0.735, 10),
    ('iemocap', 'concat', 'AVT', false, 'resnet50', 7, 0.810, 0.815, 10),
    ('iemocap', 'concat', 'AVT', true,  'resnet50', 7, 0.830, 0.825, 10),
    ('iemocap', 'tfn',    'AVT', false, 'resnet50', 7, 0.790, 0.795, 10),
    ('iemocap', 'tfn',    'AVT', true,  'resnet50', 7, 0.800, 0.805, 10),
    ('iemocap', 'mult',   'AV',  true,  'resnet50', 7, 0.740, 0.745, 10),
    ('iemocap', 'mult',   'AT',  true,  'resnet50', 7, 0.700, 0.700, 10),
    ('iemocap', 'mult',   'VT',  true,  'resnet50', 7, 0.750, 0.755, 7),
    ('iemocap', 'mult',   'AVT', false, 'resnet50', 7, 0.820, 0.820, 10),
    ('iemocap', 'cmha',   'AV',  true,  'resnet50', 7, 0.780, 0.775, 10),
    ('iemocap', 'cmha',   'AT',  true,  'resnet50', 7, 0.730, 0.735, 10),
    ('iemocap', 'cmha',   'VT',  true,  'resnet50', 7, 0.770, 0.780, 10),
    ('iemocap', 'cmha',   'AVT', false, 'resnet50', 7, 0.845, 0.845, 10),
    ('iemocap', 'cmha',   'AV',  true,  'vggface',  7, 0.750, 0.750, 10),
    ('iemocap', 'cmha',   'AT',  true,  'vggface',  7, 0.720, 0.720, 10),
    ('iemocap', 'cmha',   'VT',  true,  'vggface',  7, 0.760, 0.760, 10),
    ('iemocap', 'cmha',   'AVT', false, 'vggface',  7, 0.830, 0.830, 10),
    ('iemocap', 'cmha',   'AVT', true,  'vggface',  7, 0.835, 0.835, 10),
    ('msp-improv', 'concat', 'AV',  true,  'resnet50', 7, 0.570, 0.560, 1),
    ('msp-improv', 'concat', 'AT',  true,  'resnet50', 7, 0.540, 0.500, 10),
    ('msp-improv', 'concat', 'VT',  true,  'resnet50', 7, 0.580, 0.550, 10),
    ('msp-improv', 'concat', 'AVT', false, 'resnet50', 7, 0.650, 0.645, 10),
    ('msp-improv', 'concat', 'AVT', true,  'resnet50', 7, 0.660, 0.650, 10),
    ('msp-improv', 'tfn',    'AVT', true,  'resnet50', 7, 0.660, 0.655, 10),
    ('msp-improv', 'mult',   'AV',  true,  'resnet50', 7, 0.610, 0.600, 10),
    ('msp-improv', 'mult',   'AT',  true,  'resnet50', 7, 0.580, 0.570, 10),
    ('msp-improv', 'mult',   'VT',  true,  'resnet50', 7, 0.600, 0.590, 10),
    ('msp-improv', 'mult',   'AVT', false, 'resnet50', 7, 0.665, 0.655, 10),
    ('msp-improv', 'mult',   'AVT', true,  'resnet50', 7, 0.675, 0.670, 10),
    ('msp-improv', 'cmha',   'AV',  true,  'resnet50', 7, 0.620, 0.600, 10),
    ('msp-improv', 'cmha',   'AV',  true,  'resnet50', 8, 0.640, 0.620, 10),
    ('msp-improv', 'cmha',   'AT',  true,  'resnet50', 7, 0.590, 0.575, 10),
    ('msp-improv', 'cmha',   'VT',  true,  'resnet50', 7, 0.630, 0.605, 10),
    ('msp-improv', 'cmha',   'AVT', false, 'resnet50', 7, 0.700, 0.680, 10),
    ('msp-improv', 'cmha',   'AVT', true,  'resnet50', 7, 0.710, 0.700, 10),
    ('msp-improv', 'cmha',   'AVT', true,  'vggface',  7, 0.690, 0.680, 4);

-- Finished folds: fold offsets permute 0..9, so a full cell's UA std is 0.002 * std(0..9) = 0.0060553.
create temporary table fold_values as
select c.dataset, c.method, c.modalities, c.pretrained, c.extractor, c.seed, f.fold,
       c.ua_base + 0.002 * (((f.fold * 7) % 10) - 4.5) as ua,
       c.f1_base + 0.003 * (((f.fold * 3) % 10) - 4.5) as f1
from cell_spec c
cross join generate_series(0, 9) as f(fold)
where f.fold < c.folds;

insert into fold_values values
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 0, 0.85, 0.845),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 1, 0.87, 0.865),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 2, 0.86, 0.855),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 3, 0.88, 0.875),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 4, 0.84, 0.835),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 5, 0.86, 0.855),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 6, 0.87, 0.865),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 7, 0.85, 0.845),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 8, 0.86, 0.855),
    ('iemocap', 'cmha', 'AVT', true, 'resnet50', 7, 9, 0.86, 0.855),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 0, 0.83, 0.83),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 1, 0.85, 0.85),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 2, 0.84, 0.84),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 3, 0.86, 0.86),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 4, 0.82, 0.82),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 5, 0.84, 0.84),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 6, 0.85, 0.85),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 7, 0.83, 0.83),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 8, 0.84, 0.84),
    ('iemocap', 'mult', 'AVT', true, 'resnet50', 7, 9, 0.87, 0.87);

insert into jobs (sweep_id, job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, state, attempt)
select s.sweep_id,
       concat_ws('|', v.dataset, 'utterance', v.fold, v.method, v.modalities, case when v.pretrained then 'pre' else 'np' end, v.extractor, v.seed, 'paper'),
       v.dataset, 'utterance', v.fold, v.method, v.modalities, v.pretrained, v.extractor, v.seed, 'paper', 'succeeded', 1
from fold_values v, sweeps s
where s.name = 'golden'
order by v.dataset, v.method, v.modalities, v.pretrained, v.extractor, v.seed, v.fold;

insert into results (job_id, attempt, ua, wa, macro_f1, weighted_f1, confusion, best_epoch, seconds)
select j.job_id, 1, v.ua, v.ua + 0.01, v.f1, v.f1 + 0.004, pg_temp.confusion(v.ua), 20 + v.fold, 100 + v.fold
from fold_values v
join jobs j on j.dataset = v.dataset and j.method = v.method and j.modalities = v.modalities and j.pretrained = v.pretrained
           and j.extractor = v.extractor and j.seed = v.seed and j.fold = v.fold and j.split = 'utterance';

-- Jobs that must not count in any table: the missing folds of the partial cells, and a cancelled job with a result.
insert into jobs (sweep_id, job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, state, attempt, error)
select s.sweep_id, concat_ws('|', x.dataset, 'utterance', x.fold, x.method, x.modalities, 'pre', x.extractor, 7, 'paper'),
       x.dataset, 'utterance', x.fold, x.method, x.modalities, true, x.extractor, 7, 'paper', x.state, x.attempt, x.error
from sweeps s, (values
    ('iemocap', 7, 'mult', 'VT', 'resnet50', 'failed', 3, 'out of memory'),
    ('iemocap', 8, 'mult', 'VT', 'resnet50', 'running', 1, null),
    ('iemocap', 9, 'mult', 'VT', 'resnet50', 'succeeded', 1, null),
    ('msp-improv', 1, 'concat', 'AV', 'resnet50', 'failed', 3, 'bad input: missing video'),
    ('msp-improv', 2, 'concat', 'AV', 'resnet50', 'queued', 0, null),
    ('msp-improv', 3, 'concat', 'AV', 'resnet50', 'cancelled', 1, null)
) as x(dataset, fold, method, modalities, extractor, state, attempt, error)
where s.name = 'golden';

insert into results (job_id, attempt, ua, wa, macro_f1, weighted_f1, confusion, best_epoch, seconds)
select job_id, 1, 0.01, 0.01, 0.01, 0.01, pg_temp.confusion(0.01), 1, 1
from jobs where job_key = 'msp-improv|utterance|3|concat|AV|pre|resnet50|7|paper';

-- Outside every table cell: a speaker-split job and a single-modality job.
insert into jobs (sweep_id, job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, state, attempt)
select s.sweep_id, x.job_key, 'iemocap', x.split, 0, x.method, x.modalities, true, 'resnet50', 7, 'paper', 'succeeded', 1
from sweeps s, (values
    ('iemocap|speaker|0|cmha|AVT|pre|resnet50|7|paper', 'speaker', 'cmha', 'AVT'),
    ('iemocap|utterance|0|none|A|pre|resnet50|7|paper', 'utterance', 'none', 'A')
) as x(job_key, split, method, modalities)
where s.name = 'golden';

insert into results (job_id, attempt, ua, wa, macro_f1, weighted_f1, confusion, best_epoch, seconds)
select job_id, 1, 0.5, 0.5, 0.5, 0.5, pg_temp.confusion(0.5), 5, 10
from jobs where job_key in ('iemocap|speaker|0|cmha|AVT|pre|resnet50|7|paper', 'iemocap|utterance|0|none|A|pre|resnet50|7|paper');

-- Training curves of IEMOCAP CMHA A+V+T fold 0: attempt 1 was lost (its epochs must not be drawn), attempt 2 finished.
update jobs set attempt = 2 where job_key = 'iemocap|utterance|0|cmha|AVT|pre|resnet50|7|paper';
update results set attempt = 2
where job_id = (select job_id from jobs where job_key = 'iemocap|utterance|0|cmha|AVT|pre|resnet50|7|paper');

insert into epoch_metrics (job_id, attempt, stage, epoch, train_loss, val_loss, val_ua)
select j.job_id, 1, 1, e, 9.0, 9.0, null
from jobs j, generate_series(1, 5) as e
where j.job_key = 'iemocap|utterance|0|cmha|AVT|pre|resnet50|7|paper';

insert into epoch_metrics (job_id, attempt, stage, epoch, train_loss, val_loss, val_ua)
select j.job_id, 2, 1, e, 0.1 + exp(-e / 6.0), 0.12 + 1.05 * exp(-e / 6.0), null
from jobs j, generate_series(1, 20) as e
where j.job_key = 'iemocap|utterance|0|cmha|AVT|pre|resnet50|7|paper';

insert into epoch_metrics (job_id, attempt, stage, epoch, train_loss, val_loss, val_ua)
select j.job_id, 2, 2, e, 0.25 + 1.1 * exp(-e / 8.0), 0.45 + 0.95 * exp(-e / 10.0), 0.85 - 0.5 * exp(-e / 7.0)
from jobs j, generate_series(1, 30) as e
where j.job_key = 'iemocap|utterance|0|cmha|AVT|pre|resnet50|7|paper';

-- The 'waiting' sweep: nothing finished.
insert into jobs (sweep_id, job_key, dataset, split, fold, method, modalities, pretrained, extractor, seed, profile, state, attempt)
select s.sweep_id, 'iemocap|utterance|' || f || '|cmha|AVT|pre|resnet50|7|paper', 'iemocap', 'utterance', f, 'cmha', 'AVT', true,
       'resnet50', 7, 'paper', case when f = 0 then 'running' else 'queued' end, case when f = 0 then 1 else 0 end
from sweeps s, generate_series(0, 9) as f
where s.name = 'waiting';
