namespace FoldCluster.Storage.Tests;

public class SqlScriptTests
{
    [Fact]
    public void Splits_at_top_level_semicolons_only()
    {
        const string sql = "create table a (x text default 'a;b');\n-- comment; here\ncreate function f() returns int as $body$ select 1; $body$ language sql;\n/* block; */ select \"we;ird\" from a;\n";
        var statements = SqlScript.Split(sql);
        Assert.Equal(3, statements.Count);
        Assert.Equal("create table a (x text default 'a;b')", statements[0].Text);
        Assert.StartsWith("-- comment; here\ncreate function f()", statements[1].Text);
        Assert.EndsWith("language sql", statements[1].Text);
        Assert.StartsWith("/* block; */ select", statements[2].Text);
        Assert.Equal(sql.IndexOf("-- comment", StringComparison.Ordinal), statements[1].Offset);
    }

    [Fact]
    public void Trailing_comment_is_not_a_statement()
    {
        Assert.Single(SqlScript.Split("select 1;\n-- the end\n"));
    }

    [Fact]
    public void Line_and_column_are_one_based()
    {
        Assert.Equal((1, 1), SqlScript.LineAndColumn("ab\ncd", 0));
        Assert.Equal((2, 2), SqlScript.LineAndColumn("ab\ncd", 4));
    }
}
