"""The CLI on a database file, with no server running (direct mode)."""
import json
import unittest

from labcm_test import LabcmTestCase


class DirectCli(LabcmTestCase):
    def test_device_lifecycle(self):
        self.assertIn("added SEP001122AABBCC",
                      self.ok("device", "add", "SEP001122AABBCC", "--model", "8845", "--description", "Desk 1",
                              "--line", "1001", "--line", "1002"))
        self.ok("device", "add", "00:11:22:aa:bb:cd", "--model", "CP-7821", "--line", "1001")
        listing = self.ok("device", "list")
        self.assertIn("SEP001122AABBCC  8845", listing)
        self.assertIn("1:1001 2:1002", listing)
        show = self.ok("device", "show", "001122aabbcc")
        self.assertIn("shared with SEP001122AABBCD", show)
        self.ok("device", "edit", "SEP001122AABBCC", "--description", "Front desk", "--load", "sip8845_65.14-2-1-0001-14")
        self.ok("line", "add", "SEP001122AABBCC", "1003", "--label", "Sales", "--auth-name", "u1", "--auth-password", "pw")
        self.ok("line", "rm", "SEP001122AABBCC", "1")
        with self.db() as c:
            row = c.execute("SELECT description, load_override FROM devices WHERE mac='001122AABBCC'").fetchone()
            self.assertEqual(row, ("Front desk", "sip8845_65.14-2-1-0001-14"))
            lines = c.execute("SELECT line_index, dn, label, auth_password FROM lines l JOIN devices d ON d.id=l.device_id "
                              "WHERE d.mac='001122AABBCC' ORDER BY line_index").fetchall()
            self.assertEqual(lines, [(2, "1002", "", ""), (3, "1003", "Sales", "pw")])
        self.ok("device", "rm", "SEP001122AABBCD")
        self.assertNotIn("SEP001122AABBCD", self.ok("device", "list"))
        events = self.ok("events")
        self.assertIn("device_removed", events)
        self.assertIn("device_added", events)

    def test_json_output(self):
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845")
        reply = json.loads(self.ok("--json", "device", "show", "SEP001122AABBCC"))
        self.assertTrue(reply["ok"])
        self.assertEqual(reply["result"]["model"], "8845")
        reply = json.loads(self.labcm("--json", "device", "show", "SEP0000000000FF").stdout)
        self.assertEqual(reply["error"]["status"], 404)

    def test_bad_input_is_one_clear_line_and_changes_nothing(self):
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845", "--line", "1001")
        before = self.dump()
        cases = [
            (("device", "add", "SEP00112233", "--model", "8845"),
             "labcm: error: device: 'SEP00112233' is not a device name (SEP001122AABBCC) or MAC address"),
            (("device", "add", "SEP001122AABBCD", "--model", "9999"),
             "labcm: error: model: unknown model '9999' (see 'labcm model list')"),
            (("device", "add", "SEP001122AABBCC", "--model", "8845"), "labcm: error: device SEP001122AABBCC already exists"),
            (("device", "add", "SEP001122AABBCD", "--model", "8845", "--line", "10 01"), "line1.dn: contains ' '"),
            (("device", "edit", "SEP001122AABBCC", "--load", "x.loads"), "load: give the load name without '.loads'"),
            (("line", "add", "SEP001122AABBCC", "1005", "--index", "1"), "line 1 is already configured on this device"),
            (("line", "rm", "SEP001122AABBCC", "7"), "device SEP001122AABBCC has no line 7"),
            (("device", "rm", "SEP0000000000FF"), "device SEP0000000000FF does not exist"),
            (("setting", "set", "sip_port", "70000"), "sip_port: '70000' is not a port number (1-65535)"),
            (("setting", "set", "auto_reg_dn_first", "3000"), "auto_reg_dn_last: '1999' is before the first DN '3000'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                err = self.fails(*args, message=message)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertEqual(self.dump(), before)

    def test_cli_usage_errors_exit_nonzero(self):
        r = self.labcm("device", "add", "SEP001122AABBCC")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--model is required", r.stderr)
        r = self.labcm("frobnicate")
        self.assertNotEqual(r.returncode, 0)

    def test_help_everywhere(self):
        for args in [(), ("serve",), ("device",), ("device", "add"), ("device", "list"), ("device", "show"),
                     ("device", "edit"), ("device", "rm"), ("line", "add"), ("line", "rm"), ("import",), ("export",),
                     ("migrate",), ("setting",), ("setting", "set"), ("model",), ("events",), ("status",)]:
            with self.subTest(args=args):
                r = self.labcm(*args, "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("Usage", r.stdout + r.stderr)

    def test_settings_and_models(self):
        self.assertIn("timezone = Europe/Berlin", self.ok("setting", "set", "timezone", "Europe/Berlin"))
        listing = self.ok("setting", "list")
        self.assertRegex(listing, r"timezone\s+Europe/Berlin")
        self.assertRegex(listing, r"sip_port\s+5060 .*\(default\)")
        self.ok("model", "set", "8845", "sip8845_65.14-2-1-0001-14")
        self.assertRegex(self.ok("model", "list"), r"8845\s+36224\s+sip8845_65\.\s+sip8845_65\.14-2-1-0001-14")


class ImportExport(LabcmTestCase):
    GOOD = ("mac,model,description,load,line1_dn,line1_display_name,line1_auth_name,line1_auth_password,line2_dn\n"
            "001122AABB01,8845,\"Desk, one\",,1001,Alice,alice,s3cret,1002\n"
            "0011.22aa.bb02,CP-7821,,,1002,,,,\n"
            "SEP001122AABB03,7975,Old phone,SIP75.9-4-2SR4-3S,1003,,,,\n")

    def test_round_trip(self):
        path = self.write_file("good.csv", self.GOOD)
        self.assertIn("imported 3 phones (3 added, 0 updated)", self.ok("import", path))
        exported = self.ok("export")
        self.assertTrue(exported.startswith("mac,model,description,load,transport,line1_dn,line1_display_name,line1_label,"))
        self.assertIn("001122AABB01,8845,\"Desk, one\",,tcp,1001,Alice,,alice,s3cret,,1002", exported)
        # A second database fed with the export holds the same devices and lines.
        out = self.write_file("export.csv", exported)
        self.data = self.data + "-copy"
        self.ok("import", out)
        self.assertEqual(self.ok("export"), exported)

    def test_formula_cells_are_exported_as_text_and_imported_back_whole(self):
        """Issue 19: a description a spreadsheet would run (CSV injection) is exported behind
        a ' and a re-import gives the same value back."""
        evil = "=HYPERLINK(\"http://192.0.2.1/x\",\"click\")"
        self.ok("device", "add", "SEP001122AABB09", "--model", "8845", "--description", evil, "--line", "1009")
        exported = self.ok("export")
        self.assertIn(',"\'=HYPERLINK(', exported)
        self.assertNotIn(',"=HYPERLINK(', exported)
        out = self.write_file("export.csv", exported)
        self.data = self.data + "-copy"
        self.ok("import", out)
        shown = json.loads(self.ok("--json", "device", "show", "SEP001122AABB09"))["result"]
        self.assertEqual(shown["description"], evil)

    def test_export_to_file(self):
        self.ok("import", self.write_file("good.csv", self.GOOD))
        target = f"{self.dir}/out.csv"
        self.ok("export", "-o", target)
        with open(target, encoding="utf-8") as f:
            self.assertEqual(f.read(), self.ok("export"))

    def test_bad_rows_are_all_reported_and_nothing_is_written(self):
        self.ok("device", "add", "SEP001122AABB09", "--model", "8845")
        before = self.dump()
        bad = self.write_file("bad.csv", self.GOOD +
                              "nonsense,8845,,,1004,,,,\n"
                              "001122AABB05,9999,,,1005,,,,\n"
                              "001122AABB06,8845,,,10 06,,,,\n"
                              "001122AABB09,8845,,,,,,,\n")
        for args in (("import", "--dry-run", bad), ("import", bad)):
            with self.subTest(args=args):
                err = self.fails(*args, message="labcm: error: ")
                self.assertIn("row 5: mac: 'nonsense' is not a MAC address", err)
                self.assertIn("row 6: model: unknown model '9999'", err)
                self.assertIn("row 7: line1.dn: contains ' '", err)
                self.assertEqual(self.dump(), before)
        # Syntax and content are fine but row 5 clashes with the database.
        clash = self.write_file("clash.csv", "mac,model\n001122AABB07,8845\n001122AABB09,7821\n")
        err = self.fails("import", "--dry-run", clash)
        self.assertIn("row 3: mac: device SEP001122AABB09 already exists (use --update to replace it)", err)
        self.fails("import", clash)
        self.assertEqual(self.dump(), before)
        self.assertIn("dry run: 2 phones are valid", self.ok("import", "--dry-run", "--update", clash))
        self.assertEqual(self.dump(), before)
        self.assertIn("(1 added, 1 updated)", self.ok("import", "--update", clash))

    def test_malformed_csv_names_the_row(self):
        bad = self.write_file("broken.csv", "mac,model\n001122AABB01,8845\n001122AABB02,\"8845\n")
        self.fails("import", bad, message="row 3: csv: unterminated quoted field")
        self.fails("import", self.write_file("hdr.csv", "mac,colour\n"), message="row 1: colour: unknown column 'colour'")
        self.fails("import", f"{self.dir}/missing.csv", message="cannot read")


if __name__ == "__main__":
    unittest.main()
