"""The admin page in real headless Chromium (Debian chromium + chromium-driver, driven by
python3-selenium): log in, add a phone with two lines, see it in the list; register it with
sipp and watch its row turn registered with its active and inactive load IDs without a
reload; press Restart and see the outcome, then the row turn unregistered with
Last=reset-restart. A screenshot is kept in tests/artifacts/ (not committed)."""
import os
import re
import shutil
import socket
import subprocess
import unittest

from labcm_test import LabcmTestCase

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(HERE, "..", "artifacts")
PASSWORD = "browser-test-pw"
MAC = "001122AABBCC"  # the sipp scenario's phone is SEP<mac>


@unittest.skipUnless(HAVE_SELENIUM and shutil.which("chromium") and shutil.which("chromedriver") and shutil.which("sipp"),
                     "needs chromium, chromium-driver, python3-selenium (run with /usr/bin/python3) and sipp")
class AdminBrowserTest(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        os.environ["LABCM_ADMIN_PASSWORD"] = PASSWORD
        self.addCleanup(os.environ.pop, "LABCM_ADMIN_PASSWORD", None)
        self.start_server()
        opts = webdriver.ChromeOptions()
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,900",
                  f"--user-data-dir={os.path.join(self.dir, 'chromium')}", "--no-first-run", "--disable-extensions"):
            opts.add_argument(a)
        opts.binary_location = shutil.which("chromium")
        self.browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
        self.addCleanup(self.browser.quit)
        # A live update replaces a row while the test reads it: stale references are retried.
        self.wait = WebDriverWait(self.browser, 20, poll_frequency=0.1,
                                  ignored_exceptions=[StaleElementReferenceException])

    def log_in(self, view=""):
        """Opens the page (at #view) and logs in."""
        b = self.browser
        b.get(f"http://127.0.0.1:{self.admin_port}/{'#' + view if view else ''}")
        self.wait.until(lambda d: d.find_element(By.ID, "login-password").is_displayed())
        b.find_element(By.ID, "login-password").send_keys(PASSWORD)
        b.find_element(By.ID, "login-submit").click()
        return b

    def row(self):
        rows = self.browser.find_elements(By.CSS_SELECTOR, f'#phones tbody tr[data-mac="{MAC}"]')
        return rows[0] if rows else None

    def cell(self, cls):
        """The text of one cell of the phone's row, read again if the row is replaced meanwhile."""
        for _ in range(50):
            try:
                r = self.row()
                return r.find_element(By.CSS_SELECTOR, f"td.{cls}").text if r else None
            except StaleElementReferenceException:
                continue
        self.fail("the row kept changing")

    def state(self):
        for _ in range(50):
            try:
                return self.row().find_element(By.CSS_SELECTOR, ".badge").text
            except StaleElementReferenceException:
                continue
        self.fail("the row kept changing")

    def test_log_in_add_a_phone_watch_it_register_and_restart_it(self):
        b = self.browser
        b.get(f"http://127.0.0.1:{self.admin_port}/")
        self.wait.until(lambda d: d.find_element(By.ID, "login-password").is_displayed())
        b.find_element(By.ID, "login-password").send_keys("wrong-password")
        b.find_element(By.ID, "login-submit").click()
        self.wait.until(lambda d: "wrong password" in d.find_element(By.ID, "login-error").text)
        b.find_element(By.ID, "login-password").clear()
        b.find_element(By.ID, "login-password").send_keys(PASSWORD)
        b.find_element(By.ID, "login-submit").click()
        self.wait.until(lambda d: d.find_element(By.ID, "search").is_displayed())
        self.wait.until(lambda d: d.find_element(By.ID, "live").text == "live")

        # Add a phone with two lines through the form.
        b.find_element(By.ID, "add-toggle").click()
        b.find_element(By.ID, "add-mac").send_keys(f"SEP{MAC}")
        Select(b.find_element(By.ID, "add-model")).select_by_value("8845")
        b.find_element(By.ID, "add-description").send_keys("Browser desk")
        b.find_element(By.ID, "add-lines").send_keys("1001, 1000")
        b.find_element(By.ID, "add-submit").click()
        self.wait.until(lambda d: self.row() is not None)
        self.wait.until(lambda d: "1001, 1000" in self.row().text)
        self.assertEqual(self.state(), "never")
        self.assertIn(f"SEP{MAC}", self.ok("device", "list"))

        # A marker that a reload would wipe: the row must change live.
        b.execute_script("window.__noReload = 42;")
        log = open(os.path.join(self.dir, "sipp.log"), "w")
        self.addCleanup(log.close)
        sipp = subprocess.Popen(
            ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", os.path.join(HERE, "sipp", "register_notify.xml"), "-m", "1",
             "-t", "t1", "-i", "127.0.0.1", "-p", str(self.free_port()), "-key", "mac", MAC,
             "-cid_str", "001122aa-bbcc0003-11223344-55667788@%s", "-aa", "-timeout", "60s", "-timeout_error"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        self.addCleanup(lambda: sipp.poll() is None and (sipp.kill(), sipp.wait(timeout=10)))
        self.wait.until(lambda d: self.cell("active-load") == "sip8845_65.14-2-1-0001-14")
        self.assertEqual(self.cell("inactive-load"), "sip8845_65.12-8-1-0001-455")
        self.assertEqual(self.state(), "registered")
        self.assertEqual(self.cell("ip"), "127.0.0.1")
        self.assertEqual(b.execute_script("return window.__noReload;"), 42)
        os.makedirs(ARTIFACTS, exist_ok=True)
        b.save_screenshot(os.path.join(ARTIFACTS, "admin-phones.png"))

        # Restart from the row: the outcome is shown, and the phone's unregister arrives live.
        # (The scenario takes the NOTIFY in a 5 s pause after its keep-alive: a click that
        # lands during the keep-alive transaction shows its failure and is pressed again.)
        def restarted_from_the_row():
            self.wait.until(lambda d: self.row().find_element(By.CSS_SELECTOR, "button.restart").click() or True)
            self.wait.until(lambda d: "answered" in d.find_element(By.ID, "toast").text or
                            "failed" in d.find_element(By.ID, "toast").text)
            self.assertIn("restart: the phone answered 200 OK", b.find_element(By.ID, "toast").text)
            return True
        self.eventually(restarted_from_the_row, "a Restart press to be answered 200 OK", seconds=30, step=0.2)
        self.wait.until(lambda d: self.cell("last") == "reset-restart" and
                        self.state() == "unregistered")
        self.assertEqual(b.execute_script("return window.__noReload;"), 42)
        self.assertEqual(sipp.wait(timeout=60), 0)
        b.save_screenshot(os.path.join(ARTIFACTS, "admin-phones-restarted.png"))

        # The phone's own page shows the timeline of what happened.
        self.wait.until(lambda d: self.row().find_element(By.CSS_SELECTOR, "td a").click() or True)
        self.wait.until(lambda d: "phone_controlled" in d.find_element(By.ID, "dev-events").text)
        self.assertIn("Browser desk", b.find_element(By.ID, "dev-description").get_attribute("value"))
        # Its SIP trace (issue 22): the REGISTER it sent, the restart NOTIFY labcm sent, each
        # opening to the whole message, and the pcap's link.
        self.wait.until(lambda d: "NOTIFY sip:" in d.find_element(By.ID, "dev-trace").text)
        trace = b.find_element(By.ID, "dev-trace")
        self.assertIn("REGISTER sip:", trace.text)
        notify = [r for r in trace.find_elements(By.CSS_SELECTOR, "tbody tr") if "NOTIFY sip:" in r.text][0]
        self.assertEqual(notify.get_attribute("class"), "sent")
        notify.find_element(By.CSS_SELECTOR, "summary").click()
        self.wait.until(lambda d: "Event: service-control" in notify.find_element(By.CSS_SELECTOR, "pre").text)
        self.assertTrue(b.find_element(By.ID, "dev-pcap").get_attribute("href").endswith(f"/api/devices/{MAC}/pcap"))
        b.save_screenshot(os.path.join(ARTIFACTS, "admin-phone-trace.png"))

    def test_text_from_the_network_is_shown_with_its_control_characters_escaped(self):
        """Issue 19: a User-Agent with a terminal escape and a bell is shown as \\x1b and
        \\x07 in the phones' list, as the CLI shows it."""
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001", "--transport", "udp")
        status, _ = self.udp_register("127.0.0.1", "127.0.0.1", "ua-1@127.0.0.1", mac=MAC,
                                      user_agent="Cisco-CP8845/14.2.1 \x1b]0;pwned\x07")
        self.assertEqual(status, "SIP/2.0 200 OK")
        self.log_in()
        self.wait.until(lambda d: self.cell("ua") and "pwned" in self.cell("ua"))
        shown = self.row().find_element(By.CSS_SELECTOR, "td.ua").get_attribute("textContent")
        self.assertEqual(shown, "Cisco-CP8845/14.2.1 \\x1b]0;pwned\\x07")


    def test_the_models_view_says_which_load_is_withheld_and_why(self):
        """Issue 20: a load in use whose files are missing is shown as not sent to phones."""
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001")
        self.ok("model", "set", "8845", "sip8845_65.14-2-1-0001-14")
        b = self.log_in("models")
        self.wait.until(lambda d: "sip8845_65.14-2-1-0001-14" in d.find_element(By.ID, "firmware").text)
        row = b.find_element(By.CSS_SELECTOR, "#firmware tbody tr").text
        self.assertIn("model 8845", row)
        self.assertIn("sip8845_65.14-2-1-0001-14.loads missing", row)
        self.assertIn("no: phones keep their load", row)

    def test_a_dial_pattern_is_added_and_removed_on_the_settings_view(self):
        """Issue 20: the admin's dial patterns on the page, a # included."""
        b = self.log_in("settings")
        self.wait.until(lambda d: d.find_element(By.ID, "dial-pattern").is_displayed())
        b.find_element(By.ID, "dial-pattern").send_keys("*6#")
        timeout = b.find_element(By.ID, "dial-timeout")
        timeout.clear()
        timeout.send_keys("2")
        b.find_element(By.CSS_SELECTOR, "#dialplan-form button").click()
        self.wait.until(lambda d: "*6#" in d.find_element(By.ID, "dialplan").text)
        self.assertIn("*6#", self.ok("dialplan", "list"))
        # Loaded again on a live update: a row replaced meanwhile is found again.
        self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#dialplan tbody tr button").click() or True)
        self.wait.until(lambda d: "*6#" not in d.find_element(By.ID, "dialplan").text)
        self.assertIn("no dial patterns of your own", self.ok("dialplan", "list"))

    def test_a_phone_setting_is_set_on_the_phones_page(self):
        """Issue 20: a phone's own setting from its page reaches the CLI's view."""
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001")
        self.log_in(f"device/SEP{MAC}")
        self.save_phone_setting("dev-phone-settings", "ssh_access", "true")
        self.wait_for(lambda: re.search(r"ssh_access\s+-\s+-\s+true\s+true", self.ok("phone-setting", "list", "--device", f"SEP{MAC}")),
                      "the phone's own value")

    def save_phone_setting(self, table, key, value):
        """Types `value` into `key`'s row of a phone-settings table and saves it."""
        self.wait.until(lambda d: key in d.find_element(By.ID, table).text)
        row = next(r for r in self.browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr") if r.text.startswith(key))
        row.find_element(By.TAG_NAME, "input").send_keys(value)
        row.find_element(By.TAG_NAME, "button").click()

    def test_a_phone_setting_is_set_for_a_model_on_the_models_view(self):
        """Issue 20: a model's value from the Models view; its phones get it, the lab keeps its own."""
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001")
        b = self.log_in("models")
        select = b.find_element(By.ID, "model-settings-model")
        self.wait.until(lambda d: "8845" in select.text)
        Select(select).select_by_value("8845")
        self.save_phone_setting("model-phone-settings", "web_access", "false")
        self.wait_for(lambda: re.search(r"web_access\s+-\s+false\s+-\s+false", self.ok("phone-setting", "list", "--device", f"SEP{MAC}")),
                      "the model's value reaching its phone")
        self.assertNotIn("false", next(l for l in self.ok("phone-setting", "list").splitlines() if l.startswith("web_access")))

    def test_a_firmware_package_is_imported_from_the_models_view(self):
        """Issue 20: the admin picks Cisco's zip on the page; the load becomes the 8845's default."""
        from test_firmware import LOAD, standard_entries, zip_package
        package = os.path.join(self.dir, f"cmterm-8845_65.{LOAD[11:]}.zip")
        with open(package, "wb") as f:
            f.write(zip_package(standard_entries()))
        b = self.log_in("models")
        self.wait.until(lambda d: d.find_element(By.ID, "firmware-file").is_displayed())
        b.find_element(By.ID, "firmware-file").send_keys(package)
        b.find_element(By.CSS_SELECTOR, "#firmware-form button").click()
        self.wait.until(lambda d: "imported" in d.find_element(By.ID, "firmware-result").text)
        result = b.find_element(By.ID, "firmware-result").text
        self.assertIn(f"loads {LOAD}; 4 files added", result)
        self.assertIn(f"model 8845 default load = {LOAD}", result)
        self.wait.until(lambda d: "complete" in d.find_element(By.ID, "firmware").text or "yes" in d.find_element(By.ID, "firmware").text)
        self.assertIn(f"ok   load {LOAD}: complete", self.ok("firmware", "check"))
    def test_a_locale_package_is_installed_from_the_settings_view(self):
        """Issue 20: a Cisco locale installer picked on the page is installed and made the phones' locale."""
        from test_firmware import locale_cop
        package = os.path.join(self.dir, "po-locale-de_DE-14.0.1.cop.sgn")
        with open(package, "wb") as f:
            f.write(locale_cop([("German_Germany/sl-bev-sip.jar", b"J" * 5000), ("Germany/g3-tones.xml", b"<tones/>")]))
        b = self.log_in("settings")
        self.wait.until(lambda d: d.find_element(By.ID, "locale-file").is_displayed())
        b.find_element(By.ID, "locale-file").send_keys(package)
        b.find_element(By.CSS_SELECTOR, "#locale-form button").click()
        self.wait.until(lambda d: "installed" in d.find_element(By.ID, "locale-result").text)
        result = b.find_element(By.ID, "locale-result").text
        self.assertIn("user locales German_Germany; network locales Germany", result)
        self.assertIn("user_locale = German_Germany", result)
        self.assertRegex(self.ok("setting", "list"), r"network_locale\s+Germany")
    def test_a_phone_that_never_registered_shows_why_on_the_list_and_on_its_page(self):
        """Issue 22: the verdict in the list's column and on top of the phone's page."""
        self.ok("setting", "set", "diagnosis_wait", "1")
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001")
        r = subprocess.run(["curl", "-sS", "--max-time", "30", "-o", os.devnull, "-w", "%{http_code}",
                            f"http://127.0.0.1:{self.http_port}/SEP{MAC}.cnf.xml"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, "200")
        self.wait_for(lambda: "sent no REGISTER" in self.ok("device", "why", f"SEP{MAC}"), "the verdict to say it is stuck")
        b = self.log_in()
        self.wait.until(lambda d: "step 9: it fetched" in (self.cell("why") or ""))
        self.wait.until(lambda d: self.row().find_element(By.CSS_SELECTOR, "td a").click() or True)
        self.wait.until(lambda d: "sent no REGISTER" in d.find_element(By.ID, "dev-why").text)
        why = b.find_element(By.ID, "dev-why")
        self.assertIn("Step 9 (connect to the call manager)", why.text)
        self.assertIn("Next: check the call manager the config names (processNodeName", why.text)
        self.assertIn("problem", why.get_attribute("class"))
        os.makedirs(ARTIFACTS, exist_ok=True)
        b.save_screenshot(os.path.join(ARTIFACTS, "admin-phone-why.png"))

    def test_the_calls_view_shows_a_call_in_progress(self):
        """Issue 21: two phones in a call through labcm appear on the Calls view, and leave it."""
        from sip_phone import Phone
        self.ok("device", "add", "SEP0011220E0001", "--model", "8845", "--line", "1001")
        self.ok("device", "add", "SEP0011220E0002", "--model", "8845", "--line", "1002")
        a, b = Phone(self, "0011220E0001", "1001"), Phone(self, "0011220E0002", "1002")
        a.register()
        b.register()
        a.invite("1002", "browser-call@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 200, "OK", tag="b1", sdp=True)
        ok = a.expect(200)
        br = self.log_in("calls")
        self.wait.until(lambda d: "SEP0011220E0002" in d.find_element(By.ID, "calls").text)
        self.assertIn("1001 (SEP0011220E0001)", br.find_element(By.ID, "calls").text)
        b.in_dialog("BYE", a.contact_uri, invite.all("Record-Route"), invite.get("To") + ";tag=b1", invite.get("From"),
                    ok.get("Call-ID"), 1, "bye1")
        a.answer(a.expect("BYE"), 200, "OK")
        b.expect(200)
        self.wait.until(lambda d: "no calls in progress" in d.find_element(By.ID, "calls").text)

    def test_a_mailbox_set_on_the_calls_view_lights_the_phone_s_lamp(self):
        """Issue 21: message waiting from the page: the phone gets the NOTIFY, Remove turns it off."""
        from sip_phone import Phone
        self.ok("device", "add", "SEP0011220E0003", "--model", "8845", "--line", "1003")
        phone = Phone(self, "0011220E0003", "1003")
        phone.register()
        br = self.log_in("calls")
        self.wait.until(lambda d: d.find_element(By.ID, "mailbox-form").is_displayed())
        br.find_element(By.ID, "mailbox-dn").send_keys("1003")
        count = br.find_element(By.ID, "mailbox-new")
        count.clear()
        count.send_keys("4")
        br.find_element(By.CSS_SELECTOR, "#mailbox-form button").click()
        notify = phone.expect("NOTIFY")
        self.assertIn("Messages-Waiting: yes", notify.body)
        self.assertIn("Voice-Message: 4/0", notify.body)
        phone.answer(notify, 200, "OK")
        self.wait.until(lambda d: "1003" in d.find_element(By.ID, "mailboxes").text)
        # The list is loaded again on each mailbox_changed event: a row replaced meanwhile is found again.
        self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#mailboxes button").click() or True)
        notify = phone.expect("NOTIFY")
        self.assertIn("Messages-Waiting: no", notify.body)
        phone.answer(notify, 200, "OK")
        self.wait.until(lambda d: "1003" not in d.find_element(By.ID, "mailboxes").text)
        self.assertEqual(self.ok("mailbox", "list").strip(), "no mailboxes")

if __name__ == "__main__":
    unittest.main()
