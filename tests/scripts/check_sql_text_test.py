"""scripts/check-sql-text on small source trees: what it accepts, what it reports, and that the
repository itself passes."""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

CHECK = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../scripts/check-sql-text")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.realpath(CHECK)))


def run(root):
    done = subprocess.run([sys.executable, CHECK, root], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout


class CheckSqlTextTest(unittest.TestCase):
    def tree(self, files, allowlist=None):
        root = tempfile.mkdtemp(prefix="check-sql-text-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", root], check=False))
        for rel, text in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))
        if allowlist is not None:
            os.makedirs(os.path.join(root, "scripts"), exist_ok=True)
            with open(os.path.join(root, "scripts", "sql-allowlist"), "w", encoding="utf-8") as f:
                f.write(allowlist)
        return root

    def test_literals_constants_macros_and_literal_tables_pass(self):
        root = self.tree({
            "tenants/shop/store.cpp": """
                #define CLINICORE_ITEM_COLUMNS "id, name"
                constexpr const char* kSelectItemSql = "SELECT " CLINICORE_ITEM_COLUMNS " FROM items WHERE id = $1";
                constexpr char kCountSql[] = R"(SELECT count(*) FROM items)";
                void Register(Database& database) {
                  const std::pair<const char*, const char*> statements[] = {{kSelectItem, kSelectItemSql}, {kCount, kCountSql}};
                  for (const auto& [name, sql] : statements) database.RegisterStatement(name, sql);
                  database.RegisterStatement("shop.one", "SELECT 1");
                }
                void Run(Transaction& tx) { tx.ExecScript("SET LOCAL lock_timeout = '1s'"); }
                // tx.ExecScript("DROP TABLE " + name);  a comment is not a call
            """,
        })
        code, out = run(root)
        self.assertEqual(code, 0, out)
        self.assertIn("sql text: ok (3 calls, 0 allowlisted)", out)

    def test_sql_built_from_a_variable_is_reported_with_its_place(self):
        root = self.tree({
            "platform/x/x.cpp": """
                void Drop(Transaction& tx, const std::string& name) {
                  tx.ExecScript("DROP TABLE " + name);
                }
                void Lock(pqxx::work& w, const std::string& key) { w.exec("SELECT pg_advisory_lock(" + key + ")"); }
            """,
        })
        code, out = run(root)
        self.assertEqual(code, 1)
        self.assertIn('platform/x/x.cpp:3: ExecScript("DROP TABLE " + name)', out)
        self.assertIn('platform/x/x.cpp:5: exec("SELECT pg_advisory_lock(" + key + ")")', out)

    def test_a_table_with_one_non_literal_entry_is_reported(self):
        root = self.tree({
            "tenants/shop/store.cpp": """
                constexpr const char* kGoodSql = "SELECT 1";
                void Register(Database& database, const std::string& dynamic) {
                  for (const auto& [name, sql] : std::initializer_list<std::pair<const char*, std::string>>{{"a", kGoodSql}, {"b", dynamic}})
                    database.RegisterStatement(name, sql);
                }
            """,
        })
        code, out = run(root)
        self.assertEqual(code, 1)
        self.assertIn("tenants/shop/store.cpp:5: RegisterStatement(sql)", out)

    def test_a_constant_defined_from_a_variable_is_not_a_literal(self):
        root = self.tree({
            "platform/x/x.cpp": """
                const std::string kBuiltSql = "SELECT " + std::string(getenv("X"));
                void Run(Transaction& tx) { tx.ExecScript(kBuiltSql); }
            """,
        })
        code, out = run(root)
        self.assertEqual(code, 1)
        self.assertIn("platform/x/x.cpp:3: ExecScript(kBuiltSql)", out)

    def test_an_allowlisted_call_passes_and_a_stale_entry_fails(self):
        files = {"platform/x/x.cpp": 'void Drop(Transaction& tx) { tx.ExecScript("DROP SCHEMA " + tx.QuoteName(schema)); }\n'}
        entry = 'platform/x/x.cpp :: ExecScript("DROP SCHEMA " + tx.QuoteName(schema)) :: a registry value, quoted\n'
        code, out = run(self.tree(files, "# why\n" + entry))
        self.assertEqual(code, 0, out)
        self.assertIn("sql text: ok (1 calls, 1 allowlisted)", out)
        code, out = run(self.tree(files, entry + 'platform/x/x.cpp :: ExecScript(gone) :: removed since\n'))
        self.assertEqual(code, 1)
        self.assertIn("stale entry (no such call): platform/x/x.cpp :: ExecScript(gone)", out)

    def test_tests_and_fuzzers_are_not_scanned(self):
        root = self.tree({"platform/x/x_test.cpp": 'void T(Transaction& tx, std::string n) { tx.ExecScript("DROP TABLE " + n); }\n'})
        code, out = run(root)
        self.assertEqual(code, 0, out)

    def test_the_repository_passes(self):
        code, out = run(REPOSITORY)
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
