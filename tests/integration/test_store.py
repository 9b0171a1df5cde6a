"""Schema migrations and the database file, through the real binary."""
import os
import sqlite3
import unittest

from labcm_test import LabcmTestCase


class Migrations(LabcmTestCase):
    def test_migrate_fresh_then_latest(self):
        self.assertIn("schema migrated from version 0 to", self.ok("migrate"))
        self.assertIn("(latest)", self.ok("migrate"))
        with self.db() as c:
            self.assertEqual(c.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            self.assertGreaterEqual(c.execute("PRAGMA user_version").fetchone()[0], 1)
            self.assertEqual(c.execute("PRAGMA integrity_check").fetchone()[0], "ok")

    def test_newer_schema_is_refused_everywhere_and_left_alone(self):
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845")
        with self.db() as c:
            c.execute("PRAGMA user_version = 999")
        for args in (("migrate",), ("device", "list"), ("serve",)):
            with self.subTest(args=args):
                self.fails(*args, message="has schema version 999, but this labcm")
        with self.db() as c:
            self.assertEqual(c.execute("PRAGMA user_version").fetchone()[0], 999)
            self.assertEqual(c.execute("SELECT count(*) FROM devices").fetchone()[0], 1)

    def test_data_dir_is_private(self):
        self.ok("migrate")
        self.assertEqual(os.stat(self.data).st_mode & 0o777, 0o750)


if __name__ == "__main__":
    unittest.main()
