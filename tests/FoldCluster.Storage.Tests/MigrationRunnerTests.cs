using Dapper;
using FoldCluster.Storage;
using FoldCluster.Tests.Shared;

namespace FoldCluster.Storage.Tests;

public class MigrationRunnerTests
{
    private static Migration M(string file, string sql) => MigrationRunner.Parse(file, sql);

    [Fact]
    public void Shipped_migrations_are_numbered_from_0001_in_increasing_order()
    {
        // Numbers need not be consecutive (a later number may ship before an earlier one); the runner applies in number
        // order and needs only unique, increasing numbers.
        var migrations = MigrationRunner.Embedded();
        Assert.NotEmpty(migrations);
        var versions = migrations.Select(m => m.Version).ToList();
        Assert.Equal(versions.Order().Distinct(), versions);
        Assert.Equal("0001_initial_schema.sql", migrations[0].FileName);
    }

    [Fact]
    public async Task Schema_has_the_tables_of_the_result_database()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var tables = (await connection.QueryAsync<string>(
            "select table_name from information_schema.tables where table_schema = 'public' order by 1")).ToList();
        foreach (var expected in new[] { "epoch_metrics", "job_attempts", "jobs", "predictions", "results", "schema_version", "sweeps" })
        {
            Assert.Contains(expected, tables);
        }
        var jobColumns = (await connection.QueryAsync<string>(
            "select column_name from information_schema.columns where table_name = 'jobs'")).ToHashSet();
        Assert.Superset(new HashSet<string> { "state", "attempt", "lease_expires_at", "worker", "error", "max_attempts" }, jobColumns);
    }

    [Fact]
    public async Task Second_run_applies_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var all = MigrationRunner.Embedded();
        var first = await MigrationRunner.MigrateAsync(db.DataSource, all);
        var second = await MigrationRunner.MigrateAsync(db.DataSource, all);
        Assert.Equal(all.Count, first.Applied.Count);
        Assert.Empty(second.Applied);
        Assert.Equal(all.Count, second.AlreadyApplied);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(all.Count, await connection.ExecuteScalarAsync<int>("select count(*) from schema_version"));
    }

    [Fact]
    public async Task Migrations_apply_in_version_order_whatever_order_they_are_given()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var dir = Directory.CreateTempSubdirectory("fc-migrations-");
        try
        {
            // 0010 depends on 0002, which depends on 0001: applying in any other order fails.
            File.WriteAllText(Path.Combine(dir.FullName, "0010_add_column.sql"), "alter table t add column c int; insert into log (name) values ('0010');");
            File.WriteAllText(Path.Combine(dir.FullName, "0001_create_log.sql"), "create table log (id serial, name text); insert into log (name) values ('0001');");
            File.WriteAllText(Path.Combine(dir.FullName, "0002_create_t.sql"), "create table t (a int); insert into log (name) values ('0002');");
            var migrations = MigrationRunner.FromDirectory(dir.FullName);
            Assert.Equal([1, 2, 10], migrations.Select(m => m.Version));

            var report = await MigrationRunner.MigrateAsync(db.DataSource, migrations);
            Assert.Equal(["0001_create_log.sql", "0002_create_t.sql", "0010_add_column.sql"], report.Applied.Select(m => m.FileName));
            await using var connection = await db.DataSource.OpenConnectionAsync();
            Assert.Equal(["0001", "0002", "0010"], (await connection.QueryAsync<string>("select name from log order by id")).ToList());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Applied_order_is_recorded_in_sequence()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        Migration[] shuffled =
        [
            M("0003_third.sql", "insert into log (name) values ('0003');"),
            M("0001_first.sql", "create table log (id serial primary key, name text); insert into log (name) values ('0001');"),
            M("0002_second.sql", "insert into log (name) values ('0002');"),
        ];
        var ordered = shuffled.OrderBy(m => m.Version).ToList();
        var report = await MigrationRunner.MigrateAsync(db.DataSource, ordered);
        Assert.Equal(["0001_first.sql", "0002_second.sql", "0003_third.sql"], report.Applied.Select(m => m.FileName));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var log = (await connection.QueryAsync<string>("select name from log order by id")).ToList();
        Assert.Equal(["0001", "0002", "0003"], log);
    }

    [Fact]
    public async Task Failing_migration_is_rolled_back_and_named_with_its_position()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        Migration[] migrations =
        [
            M("0001_ok.sql", "create table a (x int);"),
            M("0002_broken.sql", "create table b (x int);\ninsert into b values (1);\ninsert into no_such_table values (2);\n"),
        ];
        var error = await Assert.ThrowsAsync<MigrationFailedException>(() => MigrationRunner.MigrateAsync(db.DataSource, migrations));
        Assert.Contains("0002_broken.sql", error.Message);
        Assert.Contains("line 3, column 13", error.Message);
        Assert.Contains("no_such_table", error.Message);

        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from schema_version"));
        Assert.Null(await connection.ExecuteScalarAsync<string?>("select to_regclass('public.b')::text"));
        Assert.Equal("a", await connection.ExecuteScalarAsync<string?>("select to_regclass('public.a')::text"));
    }

    [Fact]
    public async Task Edited_applied_migration_is_refused()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        await MigrationRunner.MigrateAsync(db.DataSource, [M("0001_a.sql", "create table a (x int);")]);
        var error = await Assert.ThrowsAsync<MigrationFailedException>(
            () => MigrationRunner.MigrateAsync(db.DataSource, [M("0001_a.sql", "create table a (x bigint);")]));
        Assert.Contains("changed after it was applied", error.Message);
    }

    [Fact]
    public async Task Concurrent_runners_apply_each_migration_once()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        Migration[] migrations =
        [
            M("0001_counter.sql", "create table counter (n int); insert into counter values (1); select pg_sleep(0.3);"),
            M("0002_bump.sql", "update counter set n = n + 1; select pg_sleep(0.3);"),
        ];
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => MigrationRunner.MigrateAsync(db.DataSource, migrations))));
        Assert.Equal(2, runs.Sum(r => r.Applied.Count));
        await using var connection = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("select n from counter"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<int>("select count(*) from schema_version"));
    }

    [Theory]
    [InlineData("1_short.sql")]
    [InlineData("0001-dash.sql")]
    [InlineData("0001_name.txt")]
    public void Badly_named_migration_is_refused(string fileName)
    {
        var error = Assert.Throws<Core.BadInputException>(() => MigrationRunner.Parse(fileName, "select 1"));
        Assert.Contains(fileName, error.Message);
    }

    [Fact]
    public void Duplicate_versions_are_refused()
    {
        var dir = Directory.CreateTempSubdirectory("fc-migrations-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "0001_a.sql"), "select 1");
            File.WriteAllText(Path.Combine(dir.FullName, "0001_b.sql"), "select 2");
            var error = Assert.Throws<Core.BadInputException>(() => MigrationRunner.FromDirectory(dir.FullName));
            Assert.Contains("0001", error.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Predictions_stored_one_row_per_utterance_are_kept_when_they_become_one_row_per_result()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var all = MigrationRunner.Embedded();
        await MigrationRunner.MigrateAsync(db.DataSource, [.. all.Where(m => m.Version < 11)]);
        await new FoldCluster.Storage.Sweeps.SweepStore(db.DataSource).SubmitAsync(TestSpecs.Small(folds: 2), "test");
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var ids = (await connection.QueryAsync<long>("select job_id from jobs order by job_id")).ToList();
        foreach (var id in ids)
        {
            await connection.ExecuteAsync("""
                insert into results (job_id, attempt, ua, wa, macro_f1, weighted_f1, confusion, best_epoch, seconds)
                values (@id, 0, 0.5, 0.5, 0.5, 0.5, array_fill(0, array[16]), 1, 1.0)
                """, new { id });
        }
        await connection.ExecuteAsync("""
            insert into predictions (job_id, utterance_id, true_label, predicted)
            values (@a, 'u2', 1, 2), (@a, 'u1', 0, 0), (@a, 'u3', 3, 1), (@b, 'x', 2, 2)
            """, new { a = ids[0], b = ids[1] });

        await MigrationRunner.MigrateAsync(db.DataSource, all);

        Assert.Equal(2L, await connection.ExecuteScalarAsync<long>("select count(*) from prediction_sets"));
        var rows = (await connection.QueryAsync<(long JobId, string Utterance, short True, short Predicted)>(
            "select job_id, utterance_id, true_label, predicted from predictions")).ToList();
        Assert.Equal([(ids[0], "u1", (short)0, (short)0), (ids[0], "u2", (short)1, (short)2), (ids[0], "u3", (short)3, (short)1), (ids[1], "x", (short)2, (short)2)],
            rows.OrderBy(r => r.JobId).ThenBy(r => r.Utterance, StringComparer.Ordinal).ToList());
        // The view lists a result's predictions in stored order, which the migration made utterance order.
        Assert.Equal(["u1", "u2", "u3"], (await connection.QueryAsync<string>(
            "select utterance_id from predictions where job_id = @id", new { id = ids[0] })).ToList());
    }
}
