"""The admin REST API against the real `labcm serve`, with a plain HTTP client: each
endpoint's happy path and its errors, login and its limits, CSRF and unauthenticated writes
refused, security headers, a CSV import with bad rows, the live event stream, /metrics, and
docs/api.md kept equal to the routes the server serves."""
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest

from labcm_test import LabcmTestCase, LABCM

PASSWORD = "lab-admin-pw"
DOCS = os.path.join(os.path.dirname(__file__), "../../docs/api.md")


class Admin:
    """A logged-in (or not) client of the admin port."""

    def __init__(self, port):
        self.port = port
        self.cookie = ""
        self.csrf = ""

    def request(self, method, path, body=None, ctype="application/json", csrf=True, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            h["Content-Type"] = ctype
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read().decode()
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed

    def download(self, path):
        """GET `path` with the session: (status, headers, the raw bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path, headers={"Cookie": self.cookie} if self.cookie else {})
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, raw

    def login(self, password=PASSWORD):
        status, headers, body = self.request("POST", "/api/login", {"password": password})
        if status == 200:
            self.cookie = headers["set-cookie"].split(";")[0]
            self.csrf = body["csrf"]
        return status, headers, body


class AdminApiTest(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        os.environ["LABCM_ADMIN_PASSWORD"] = PASSWORD
        self.addCleanup(os.environ.pop, "LABCM_ADMIN_PASSWORD", None)
        self.server = self.start_server()
        self.admin = Admin(self.admin_port)
        status, _, _ = self.admin.login()
        self.assertEqual(status, 200)

    def call(self, method, path, body=None, ctype="application/json", expect=200):
        status, headers, reply = self.admin.request(method, path, body, ctype)
        self.assertEqual(status, expect, f"{method} {path}: {reply}")
        return reply

    def test_login_sessions_csrf_and_headers(self):
        anon = Admin(self.admin_port)
        # Nothing but the page, health and metrics without a session.
        self.assertEqual(anon.request("GET", "/api/devices")[0], 401)
        self.assertEqual(anon.request("POST", "/api/devices", {"device": "001122AABBCC", "model": "8845"})[0], 401)
        self.assertEqual(anon.request("GET", "/api/health")[2], {"status": "ok", "ready": True})
        status, headers, page = anon.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn('<script src="/app.js"', page)
        for h, v in (("content-security-policy", "default-src 'self'"), ("x-frame-options", "DENY"),
                     ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer")):
            self.assertIn(v, headers[h])
        self.assertEqual(anon.request("GET", "/app.js")[1]["content-type"], "text/javascript; charset=utf-8")
        self.assertEqual(anon.request("GET", "/nothing.js")[0], 404)
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=5)
        conn.request("HEAD", "/")
        head = conn.getresponse()
        head.read()
        conn.close()
        self.assertEqual(int(head.getheader("Content-Length")), len(page.encode()))
        # The cookie is HttpOnly and SameSite.
        fresh = Admin(self.admin_port)
        status, headers, body = fresh.login()
        self.assertRegex(headers["set-cookie"], r"^labcm_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$")
        self.assertEqual(body["user"], "admin")
        # A write without the CSRF token, with a wrong one, or from another origin: refused.
        args = {"device": "001122AABBCC", "model": "8845"}
        self.assertEqual(fresh.request("POST", "/api/devices", args, csrf=False)[0], 403)
        fresh.csrf, good = "0" * 64, fresh.csrf
        self.assertEqual(fresh.request("POST", "/api/devices", args)[0], 403)
        fresh.csrf = good
        self.assertEqual(fresh.request("POST", "/api/devices", args, headers={"Origin": "http://evil.example"})[0], 403)
        self.assertEqual(fresh.request("POST", "/api/devices", args,
                                       headers={"Origin": f"http://127.0.0.1:{self.admin_port}",
                                                "Host": f"127.0.0.1:{self.admin_port}"})[0], 201)
        self.assertEqual(self.ok("device", "list").count("SEP001122AABBCC"), 1)
        # Log out: the session is gone.
        self.assertEqual(fresh.request("POST", "/api/logout")[0], 200)
        self.assertEqual(fresh.request("GET", "/api/session")[0], 401)

    def test_wrong_passwords_are_limited_per_address(self):
        anon = Admin(self.admin_port)
        self.assertEqual(anon.request("POST", "/api/login", "not json")[0], 400)
        for _ in range(5):
            self.assertEqual(anon.login("wrong-password")[0], 401)
        status, headers, body = anon.login(PASSWORD)  # even the right one waits now
        self.assertEqual(status, 429)
        self.assertGreater(int(headers["retry-after"]), 200)
        self.assertIn("too many failed logins", body["error"]["message"])
        self.wait_for(lambda: "admin login refused" in self.ok("events"), "the refused logins as events")

    def test_a_body_without_a_session_is_never_read(self):
        """Issue 19: a 15 MiB import with no session is answered 401 after its header, while
        its body has not been sent; each route has its own body limit."""
        s = socket.create_connection(("127.0.0.1", self.admin_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
                  b"Content-Length: 15728640\r\n\r\n" + b"mac,model\n" * 100)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            self.assertTrue(chunk, "closed without an answer")
            answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 401 "), answer[:200])
        self.assertIn(b"connection: close", answer.lower())
        # A login body larger than a password needs: 413.
        status, _, body = Admin(self.admin_port).request("POST", "/api/login", {"password": "x" * 8192})
        self.assertEqual(status, 413)
        self.assertIn("4096 bytes", body["error"]["message"])
        # With a session, the same route takes its large body (limits per route).
        status, _, _ = self.admin.request("POST", "/api/import", "mac,model\n001122AABB77,8845\n", ctype="text/csv")
        self.assertEqual(status, 200)

    def test_one_address_cannot_hold_every_http_connection(self):
        """Issue 19: idle connections from one address fill only that address's share: past
        32 on the admin port and 16 on HTTP 6970 (setting connections_per_address) a new one
        from it is answered 503 at once, while another address is served on both ports."""
        def connect(port, local):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.addCleanup(c.close)
            c.settimeout(10)
            c.bind((local, 0))
            c.connect(("127.0.0.1", port))
            return c

        def answer(c):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n", 1)[0]

        for port, cap in ((self.admin_port, 32), (self.http_port, 16)):
            idle = [connect(port, "127.0.0.7") for _ in range(cap)]
            extra = connect(port, "127.0.0.7")
            self.assertEqual(answer(extra), b"HTTP/1.1 503 Service Unavailable", port)
            other = connect(port, "127.0.0.8")
            other.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" if port == self.admin_port else
                          b"GET /SEPFFFFFFFFFFFF.cnf.xml HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertRegex(answer(other), rb"^HTTP/1.1 (200|404) ", port)
            for c in idle:
                c.close()
        self.assertEqual(self.admin.request("GET", "/api/session")[0], 200)
        status = json.loads(self.ok("--json", "status"))["result"]
        self.assertEqual(status["http_refused_address"], 1, status)

    def test_unknown_and_repeated_json_keys_are_refused_by_name(self):
        """Issue 19: a misspelt field is a 400 naming it, not silently ignored, and so is a key
        given twice; the device is unchanged."""
        self.call("POST", "/api/devices", {"device": "001122AABB10", "model": "8845", "description": "before"}, expect=201)
        status, _, body = self.admin.request("PATCH", "/api/devices/SEP001122AABB10", {"descripton": "after"})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["field"], "descripton")
        self.assertIn("unknown field 'descripton'", body["error"]["message"])
        status, _, body = self.admin.request("PATCH", "/api/devices/SEP001122AABB10",
                                             '{"description": "one", "description": "two"}')
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["message"], "the key 'description' is given twice")
        self.assertEqual(self.call("GET", "/api/devices/SEP001122AABB10")["result"]["description"], "before")

    def test_dial_patterns_through_the_api(self):
        """Issue 20: the admin's dial patterns: PUT (a # as %23), GET, DELETE, bad input named."""
        reply = self.call("PUT", "/api/dialplan/%2A6%23", {"timeout": 2, "route": "sip:gw.lab"})
        self.assertEqual(reply["result"], {"pattern": "*6#", "timeout": 2, "route": "sip:gw.lab"})
        self.assertEqual(self.call("GET", "/api/dialplan")["result"], [{"pattern": "*6#", "timeout": 2, "route": "sip:gw.lab"}])
        status, _, body = self.admin.request("PUT", "/api/dialplan/9x", {"timeout": 2})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["field"], "pattern")
        status, _, body = self.admin.request("PUT", "/api/dialplan/9", {"timout": 2})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["field"], "timout")
        self.call("DELETE", "/api/dialplan/%2A6%23")
        self.assertEqual(self.call("GET", "/api/dialplan")["result"], [])
        status, _, body = self.admin.request("DELETE", "/api/dialplan/%2A6%23")
        self.assertEqual(status, 404, body)

    def test_mailboxes_through_the_api(self):
        """Issue 21: message waiting: PUT a DN's counts, GET them, DELETE, bad input named."""
        reply = self.call("PUT", "/api/mailboxes/1001", {"new": 2, "old": 5})
        self.assertEqual(reply["result"], {"dn": "1001", "new": 2, "old": 5, "waiting": True})
        self.call("PUT", "/api/mailboxes/1002", {})  # no counts: nothing waiting
        self.assertEqual(self.call("GET", "/api/mailboxes")["result"],
                         [{"dn": "1001", "new": 2, "old": 5, "waiting": True}, {"dn": "1002", "new": 0, "old": 0, "waiting": False}])
        status, _, body = self.admin.request("PUT", "/api/mailboxes/1001", {"new": -1})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["field"], "new")
        status, _, body = self.admin.request("PUT", "/api/mailboxes/10%2001", {"new": 1})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["field"], "dn")
        status, _, body = self.admin.request("PUT", "/api/mailboxes/1001", {"nwe": 1})
        self.assertEqual(status, 400, body)
        self.call("DELETE", "/api/mailboxes/1002")
        status, _, body = self.admin.request("DELETE", "/api/mailboxes/1002")
        self.assertEqual(status, 404, body)
        self.wait_for(lambda: "mailbox 1002 removed" in str(self.call("GET", "/api/events?limit=5")["result"]),
                      "the mailbox_changed event stored")

    def test_phone_settings_through_the_api(self):
        """Issue 20: phone settings per lab, model and device over the API."""
        self.call("POST", "/api/devices", {"device": "001122AABB11", "model": "8845"}, expect=201)
        self.call("PUT", "/api/phone-settings/pc_port", {"value": "false", "model": "8845"})
        self.call("PUT", "/api/phone-settings/pc_port", {"value": "true", "device": "SEP001122AABB11"})
        rows = {r["key"]: r for r in self.call("GET", "/api/phone-settings?device=SEP001122AABB11")["result"]}
        self.assertEqual((rows["pc_port"]["lab"], rows["pc_port"]["model"], rows["pc_port"]["device"], rows["pc_port"]["effective"]),
                         (None, "false", "true", "true"))
        self.call("DELETE", "/api/phone-settings/pc_port?device=SEP001122AABB11")
        rows = {r["key"]: r for r in self.call("GET", "/api/phone-settings?device=SEP001122AABB11")["result"]}
        self.assertEqual(rows["pc_port"]["effective"], "false")
        status, _, body = self.admin.request("PUT", "/api/phone-settings/pc_port", {"value": "sometimes"})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["field"], "pc_port")

    def test_parallel_guesses_cannot_pass_the_login_limit(self):
        """Issue 19: four clients guessing as fast as they are answered: at most five guesses
        are checked (401), then every one is refused before its check (429, or 503 while too
        many are being checked), and the address waits."""
        results = []

        def guess():
            for _ in range(6):
                status = Admin(self.admin_port).login("wrong-password")[0]
                results.append(status)
                if status == 429:
                    return

        threads = [threading.Thread(target=guess) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertLessEqual(results.count(401), 5, results)
        self.assertIn(429, results)
        self.assertEqual(results.count(401) + results.count(429) + results.count(503), len(results), results)
        self.assertEqual(Admin(self.admin_port).login(PASSWORD)[0], 429)  # the address waits now

    def test_a_new_password_ends_every_session(self):
        r = subprocess.run([LABCM, "--data-dir", self.data, "admin", "password", "--stdin"], input="another-pw-1\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_for(lambda: self.admin.request("GET", "/api/session")[0] == 401, "the old session to end")
        self.assertEqual(Admin(self.admin_port).login(PASSWORD)[0], 401)
        self.assertEqual(Admin(self.admin_port).login("another-pw-1")[0], 200)
        r = subprocess.run([LABCM, "--data-dir", self.data, "admin", "password", "--stdin"], input="short\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("at least 8 characters", r.stderr)

    def test_devices_lines_and_their_errors(self):
        d = self.call("POST", "/api/devices", {"device": "SEP001122AABB01", "model": "8845", "description": "Desk 1",
                                               "lines": [{"dn": "1001"}, {"dn": "1002", "label": "Sales"}]}, expect=201)
        self.assertEqual([l["dn"] for l in d["result"]["lines"]], ["1001", "1002"])
        self.call("POST", "/api/devices", {"device": "001122AABB02", "model": "7821", "lines": [{"dn": "1001"}]}, expect=201)
        # Conflicts and validation name the field; nothing is half written.
        before = self.dump()
        err = self.call("POST", "/api/devices", {"device": "001122AABB01", "model": "8845"}, expect=409)["error"]
        self.assertEqual(err["field"], "mac")
        err = self.call("POST", "/api/devices", {"device": "001122AABB03", "model": "9999"}, expect=422)["error"]
        self.assertEqual(err["field"], "model")
        err = self.call("POST", "/api/devices", {"device": "zz", "model": "8845"}, expect=400)["error"]
        self.assertEqual(err["field"], "device")
        err = self.call("POST", "/api/devices", {"device": "001122AABB04", "model": "8845",
                                                 "lines": [{"dn": "1"}, {"index": 1, "dn": "2"}]}, expect=409)["error"]
        self.assertEqual(err["field"], "index")
        self.call("POST", "/api/devices/001122AABB01/lines", {"index": 2, "dn": "3000"}, expect=409)
        self.call("POST", "/api/devices", "{not json", expect=400)
        self.call("POST", "/api/devices", "x", ctype="text/plain", expect=415)
        self.assertEqual(self.dump(), before)
        # The shared DN is shown as such.
        one = self.call("GET", "/api/devices/SEP001122AABB01")["result"]
        self.assertEqual(one["lines"][0]["shared_with"], ["SEP001122AABB02"])
        self.assertEqual(one["registration"]["state"], "never")
        self.call("GET", "/api/devices/001122AABB09", expect=404)
        # Edit, lines, delete.
        e = self.call("PATCH", "/api/devices/001122AABB01", {"description": "Desk 9", "dhcp_address": "10.1.0.9"})["result"]
        self.assertEqual((e["description"], e["dhcp_address"]), ("Desk 9", "10.1.0.9"))
        self.call("PATCH", "/api/devices/001122AABB01", {"transport": "sctp"}, expect=422)
        self.call("PATCH", "/api/devices/001122AABB01", {}, expect=400)
        l = self.call("POST", "/api/devices/001122AABB01/lines", {"dn": "1003"}, expect=201)["result"]
        self.assertEqual([x["index"] for x in l["lines"]], [1, 2, 3])
        e = self.call("PATCH", "/api/devices/001122AABB01/lines/3", {"label": "Support", "dn": "1004"})["result"]
        self.assertEqual((e["lines"][2]["label"], e["lines"][2]["dn"], e["lines"][2]["index"]), ("Support", "1004", 3))
        self.call("PATCH", "/api/devices/001122AABB01/lines/3", {"dn": "10 01"}, expect=422)
        self.call("PATCH", "/api/devices/001122AABB01/lines/9", {"dn": "1"}, expect=404)
        self.call("PATCH", "/api/devices/001122AABB01/lines/3", {}, expect=400)
        self.call("DELETE", "/api/devices/001122AABB01/lines/3")
        self.call("DELETE", "/api/devices/001122AABB01/lines/3", expect=404)
        self.call("POST", "/api/devices/001122AABB01/speeddials", {"number": "1002", "label": "Bob", "blf": True}, expect=201)
        self.call("DELETE", "/api/devices/001122AABB02")
        self.call("DELETE", "/api/devices/001122AABB02", expect=404)
        # Actions need a registered phone.
        err = self.call("POST", "/api/devices/001122AABB01/actions/restart", expect=409)["error"]
        self.assertIn("not registered", err["message"].lower() + err["code"])
        self.call("POST", "/api/devices/001122AABB01/actions/explode", expect=400)
        self.call("PUT", "/api/devices", expect=405)
        self.call("GET", "/api/nothing", expect=404)

    def test_listing_filters_sorts_and_pages(self):
        rows = ["mac,model,description,load,transport,line1_dn"] + [
            f"0011220A{i:04X},{'8845' if i % 2 else '7821'},desk {i},,,{4000 + i}" for i in range(30)]
        self.ok("import", self.write_file("many.csv", "\n".join(rows) + "\n"))
        page = self.call("GET", "/api/devices?limit=10&offset=10")["result"]
        self.assertEqual((page["total"], len(page["items"])), (30, 10))
        self.assertEqual(page["states"], {"registered": 0, "unregistered": 0, "expired": 0, "never": 30})
        self.assertEqual(page["items"][0]["name"], "SEP0011220A000A")
        f = self.call("GET", "/api/devices?filter=7821&limit=100")["result"]
        self.assertEqual(f["total"], 15)
        s = self.call("GET", "/api/devices?sort=-dn&limit=1")["result"]
        self.assertEqual(s["items"][0]["lines"][0]["dn"], "4029")
        s = self.call("GET", "/api/devices?sort=model&limit=30")["result"]
        self.assertEqual([d["model"] for d in s["items"]], sorted(d["model"] for d in s["items"]))
        self.call("GET", "/api/devices?sort=colour", expect=400)
        self.call("GET", "/api/devices?limit=0", expect=400)

    def test_models_settings_dhcp_events_status(self):
        models = self.call("GET", "/api/models")["result"]
        self.assertIn("8845", [m["model"] for m in models])
        self.call("PUT", "/api/models/8845", {"load": "sip8845_65.14-2-1-0001-14"})
        self.call("PUT", "/api/models/8845", {"load": "bad load/name"}, expect=422)
        self.call("PUT", "/api/settings/timezone", {"value": "Europe/Berlin"})
        err = self.call("PUT", "/api/settings/timezone", {"value": "Nowhere"}, expect=422)["error"]
        self.assertEqual(err["field"], "timezone")
        self.call("PUT", "/api/settings/colour", {"value": "red"}, expect=422)
        settings = {s["key"]: s for s in self.call("GET", "/api/settings")["result"]}
        self.assertEqual(settings["timezone"]["value"], "Europe/Berlin")
        self.call("DELETE", "/api/settings/timezone")
        self.call("PUT", "/api/dhcp/pools/lab", {"subnet": "10.77.0.0/24", "range": "10.77.0.10-10.77.0.20"})
        self.call("PUT", "/api/dhcp/pools/bad", {"subnet": "10.78.0.0/24", "range": "10.77.0.10-10.77.0.20"}, expect=422)
        self.assertEqual([p["name"] for p in self.call("GET", "/api/dhcp/pools")["result"]], ["lab"])
        self.assertEqual(self.call("GET", "/api/dhcp/leases")["result"], [])
        self.call("DELETE", "/api/dhcp/leases/10.77.0.10", expect=404)
        self.call("DELETE", "/api/dhcp/pools/lab")
        self.wait_for(lambda: any(e["kind"] == "setting_changed" for e in self.call("GET", "/api/events?limit=50")["result"]),
                      "the stored events")
        self.call("GET", "/api/events?limit=0", expect=400)
        self.assertEqual(self.call("GET", "/api/status")["result"]["mode"], "server")
        self.assertEqual(self.call("GET", "/api/registrations")["result"], [])
        self.assertIn("loads", self.call("GET", "/api/firmware")["result"])

    def test_csv_import_with_bad_rows_and_export(self):
        bad = "mac,model,line1_dn\n001122BB0001,8845,1001\nzz,8845,1002\n001122BB0003,9999,1003\n"
        err = self.call("POST", "/api/import", bad, ctype="text/csv", expect=422)["error"]
        self.assertEqual([(d["row"], d["field"]) for d in err["details"]], [(3, "mac"), (4, "model")])
        self.assertEqual(self.call("GET", "/api/devices")["result"]["total"], 0)
        good = "mac,model,line1_dn\n001122BB0001,8845,1001\n001122BB0002,7821,1002\n"
        dry = self.call("POST", "/api/import?dry_run=true", good, ctype="text/csv")["result"]
        self.assertEqual((dry["dry_run"], dry["devices"]), (True, 2))
        self.assertEqual(self.call("GET", "/api/devices")["result"]["total"], 0)
        done = self.call("POST", "/api/import", good, ctype="text/csv")["result"]
        self.assertEqual(done["added"], 2)
        status, headers, text = self.admin.request("GET", "/api/export")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/csv; charset=utf-8")
        self.assertIn("001122BB0002,7821", text)
        self.assertEqual(text, self.ok("export"))

    def test_metrics_health_and_the_phone_port_shows_no_admin_data(self):
        self.ok("device", "add", "001122CC0001", "--model", "8845", "--line", "1001")
        status, headers, text = Admin(self.admin_port).request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertRegex(text, r"(?m)^labcm_devices 1$")
        self.assertRegex(text, r'(?m)^labcm_registrations\{state="registered"\} 0$')
        self.assertRegex(text, r'(?m)^labcm_events_total\{service="admin",kind="device_added",severity="info"\} 1$')
        self.assertRegex(text, r"(?m)^labcm_tftp_requests_total \d+$")
        for line in text.splitlines():  # every sample line parses as Prometheus text
            if line and not line.startswith("#"):
                self.assertRegex(line, r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')
        phone = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        for path in ("/api/devices", "/api/session", "/metrics", "/", "/app.js"):
            phone.request("GET", path)
            r = phone.getresponse()
            body = r.read()
            self.assertIn(r.status, (400, 404), path)
            self.assertNotIn(b"001122CC0001", body)
        phone.close()

    def test_the_event_stream_delivers_device_rows_and_log_events(self):
        sock = socket.create_connection(("127.0.0.1", self.admin_port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall((f"GET /api/events/stream HTTP/1.1\r\nHost: x\r\nCookie: {self.admin.cookie}\r\n\r\n").encode())
        buf = b""
        deadline = time.monotonic() + 10
        while b"retry:" not in buf and time.monotonic() < deadline:
            buf += sock.recv(4096)
        self.assertIn(b"Content-Type: text/event-stream", buf)
        self.call("POST", "/api/devices", {"device": "001122DD0001", "model": "8845", "lines": [{"dn": "5001"}]}, expect=201)
        while (b"event: device\n" not in buf or b"device_added" not in buf) and time.monotonic() < deadline:
            buf += sock.recv(65536)
        text = buf.decode()
        self.assertIn("event: device\n", text, text)
        device = json.loads(re.search(r"event: device\ndata: (.*)\n", text).group(1))
        self.assertEqual((device["name"], device["lines"][0]["dn"]), ("SEP001122DD0001", "5001"))
        log = json.loads(re.search(r"event: log\nid: \d+\ndata: (.*device_added.*)\n", text).group(1))
        self.assertEqual(log["mac"], "001122DD0001")
        # Without a session: no stream.
        self.assertEqual(Admin(self.admin_port).request("GET", "/api/events/stream")[0], 401)

    def test_docs_api_md_lists_exactly_the_served_routes(self):
        served = {(r["method"], r["path"]) for r in self.call("GET", "/api")["routes"]}
        with open(DOCS, encoding="utf-8") as f:
            documented = set(re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|", f.read(), re.M))
        self.assertEqual(documented, served | {("POST", "/api/login"), ("POST", "/api/logout"), ("GET", "/api/session"),
                                               ("GET", "/api/events/stream"), ("GET", "/api/health"), ("GET", "/metrics"),
                                               ("GET", "/api")})


if __name__ == "__main__":
    unittest.main()
