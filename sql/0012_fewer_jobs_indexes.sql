-- A job's state changes three times (queued, running, succeeded) and each change writes a new entry in every index of
-- jobs (state is indexed, so no update is HOT). Two indexes cost those writes and served no frequent read:
-- jobs_state_idx (state, sweep_id, job_id), whose queued reads jobs_queued_idx serves, and jobs_cell_idx, whose
-- per-sweep reads the unique (sweep_id, job_key) index serves as well. What reads running jobs (lease renewals by
-- job id aside: the primary key) gets an index of only the running rows, a few hundred at most.
drop index jobs_state_idx;
drop index jobs_cell_idx;
create index jobs_running_idx on jobs (sweep_id, job_id) where state = 'running';
