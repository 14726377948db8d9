-- A result's predictions become one row of three arrays (a test fold's utterances, in the order the trainer returned
-- them) instead of one row per utterance: storing a simulated job's 40 predictions inserted 40 heap rows and 40 index
-- entries (about 150 shared buffers, 1.3 ms of a result's 2-3 ms at hundreds of slots), a real fold's several
-- hundred. `predictions` stays as a view with the same columns (job id, utterance id, true label, predicted), so
-- every reader asks it as before; a filter on job_id reaches the primary key of the stored rows.
-- The rules of the old table hold for the stored row: each prediction needs its result (a foreign key, checked once
-- per result), deleting a result deletes its predictions, an utterance appears once per result, labels are 0-3.
-- PL/pgSQL, not SQL: a check constraint calls its function outside any plan it could be inlined in, and a SQL
-- function's query was planned again for every row inserted (0.11 ms a row against 0.05 ms with the plan cached).
create function utterance_ids_are_distinct(ids text[]) returns boolean
language plpgsql immutable strict parallel safe
as $$
begin
    return (select count(*) = count(distinct u) from unnest(ids) as u);
end $$;

create table prediction_sets (
    job_id         bigint primary key references results (job_id) on delete cascade,
    utterance_ids  text[] not null,
    true_labels    smallint[] not null,
    predicted      smallint[] not null,
    constraint prediction_sets_aligned
        check (cardinality(true_labels) = cardinality(utterance_ids) and cardinality(predicted) = cardinality(utterance_ids)),
    constraint prediction_sets_no_nulls
        check (array_position(utterance_ids, null) is null and array_position(true_labels, null) is null
               and array_position(predicted, null) is null),
    constraint prediction_sets_labels
        check (0 <= all(true_labels) and 3 >= all(true_labels) and 0 <= all(predicted) and 3 >= all(predicted)),
    constraint prediction_sets_distinct_utterances
        check (utterance_ids_are_distinct(utterance_ids))
);

insert into prediction_sets (job_id, utterance_ids, true_labels, predicted)
select job_id, array_agg(utterance_id order by utterance_id), array_agg(true_label order by utterance_id),
       array_agg(predicted order by utterance_id)
from predictions
group by job_id;

drop trigger results_keep_their_job_id on results;
drop trigger results_delete_their_predictions on results;
drop table predictions;
drop function predictions_need_their_result();
drop function results_delete_their_predictions();
drop function results_keep_their_job_id();

create view predictions as
select s.job_id, p.utterance_id, p.true_label, p.predicted
from prediction_sets s
cross join lateral unnest(s.utterance_ids, s.true_labels, s.predicted) as p (utterance_id, true_label, predicted);
