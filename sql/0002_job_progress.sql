-- Progress display: how many epochs the running stage plans, beside the epoch it reached (jobs.stage, jobs.epoch).
alter table jobs add column epochs_planned integer;
