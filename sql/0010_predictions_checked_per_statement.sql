-- A result's predictions (40 rows for a simulated job, a test fold's utterances for a real one) are inserted by one
-- statement in the result's transaction. As a foreign key, predictions -> results checked every row by itself (one
-- lookup and row lock per prediction): the most expensive statement of storing a result, about 0.7-0.9 ms of a
-- short job's result at hundreds of slots. The same rule is now checked once per statement, over all its rows, and
-- the cascade runs once per deleted result (or statement deleting several). Nothing else changes: a prediction
-- still needs its result (the referenced results are locked FOR KEY SHARE, as the foreign key did, so a concurrent
-- delete cannot slip between the check and the commit), deleting a result still deletes its predictions, and a
-- result's job id cannot change while predictions name it.
alter table predictions drop constraint predictions_job_id_fkey;

create function predictions_need_their_result() returns trigger
language plpgsql as $$
declare
    id bigint;
begin
    -- One index lookup per job the statement names (a result's insert names one): no join the planner could turn
    -- into a scan of every result.
    for id in select distinct job_id from new_predictions loop
        perform 1 from results where job_id = id for key share;
        if not found then
            raise exception 'insert or update on table "predictions" violates the rule that a prediction needs its result'
                using errcode = 'foreign_key_violation',
                      detail = format('Key (job_id)=(%s) is not present in table "results".', id);
        end if;
    end loop;
    return null;
end $$;

-- Two triggers, one per event: a trigger with a transition table may name only one event.
create trigger predictions_need_their_result_on_insert
    after insert on predictions referencing new table as new_predictions
    for each statement execute function predictions_need_their_result();

create trigger predictions_need_their_result_on_update
    after update on predictions referencing new table as new_predictions
    for each statement execute function predictions_need_their_result();

create function results_delete_their_predictions() returns trigger
language plpgsql as $$
declare
    id bigint;
begin
    -- Per deleted result, through the primary key's index (a sweep's deletion cascades here result by result).
    for id in select job_id from old_results loop
        delete from predictions where job_id = id;
    end loop;
    return null;
end $$;

create trigger results_delete_their_predictions
    after delete on results referencing old table as old_results
    for each statement execute function results_delete_their_predictions();

create function results_keep_their_job_id() returns trigger
language plpgsql as $$
begin
    if new.job_id <> old.job_id and exists (select 1 from predictions p where p.job_id = old.job_id) then
        raise exception 'update on table "results" would leave predictions of job % without their result', old.job_id
            using errcode = 'foreign_key_violation';
    end if;
    return new;
end $$;

create trigger results_keep_their_job_id
    before update of job_id on results
    for each row execute function results_keep_their_job_id();
