-- Budgets that mean something (DESIGN.md section 8): max_attempts counts failures of the work (an exception in
-- extraction or training, a hung attempt); losses (lease lost, worker downed or partitioned, shutdown, coordinator
-- moved, database outage) count against the separate, larger max_losses. attempt stays the fencing number.
alter table jobs
    add column failures   integer not null default 0,
    add column losses     integer not null default 0,
    add column max_losses integer not null default 10;

-- Jobs of earlier runs: their counts from the attempts recorded so far.
update jobs j
set failures = (select count(*) from job_attempts a where a.job_id = j.job_id and a.outcome = 'failed'),
    losses   = (select count(*) from job_attempts a where a.job_id = j.job_id and a.outcome = 'lost');

-- Idempotent claims: the claim request's token is recorded with the attempt it produced, so a claim retried after
-- its reply was lost finds that attempt again instead of claiming a second job.
alter table job_attempts add column claim_token uuid;
create unique index job_attempts_claim_token_idx on job_attempts (claim_token) where claim_token is not null;
