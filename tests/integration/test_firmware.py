"""Firmware import (issue 20, step 7): `labcm firmware import` takes Cisco's TFTP zip and the
CUCM installer (a signed header, then a gzip tar) into the files folder, refuses bad packages
whole, and a phone fetches what it imported over HTTP 6970. Packages are built here with
Python's zipfile/tarfile the way Cisco lays them out (names from ../shared/reference/
cisco-firmware.md); the importer is the real CLI on a real data dir."""
import io
import json
import os
import re
import struct
import tarfile
import time
import unittest
import urllib.request
import zipfile
import http.client
import socket

from labcm_test import LabcmTestCase
from test_admin_api import Admin

LOAD = "sip8845_65.14-2-1-0001-14"
IMAGES = {f"kern8845.14-2-1-0001-14.sbn": b"K" * 3000, f"rootfs8845.14-2-1-0001-14.sbn": os.urandom(200_000),
          f"sboot8845.14-2-1-0001-14.sbn": b"S" * 10}


def loads_text(load, images, signed=True):
    """A .loads as Cisco ships it: a signed TLV header, then CRLF lines, some with trailing spaces."""
    body = "\r\n".join([load, "#HARDWARE_COMP_1 5", ""] + [i + "  " for i in images]).encode() + b"\r\n"
    if not signed:
        return body
    header = bytes([1, 0, 2, 1, 1, 2, 0, 2]) + struct.pack(">H", 64)
    return header + b"\x0d" * (64 - len(header)) + body


def zip_package(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return out.getvalue()


def tar_package(entries, mode="w:gz"):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as t:
        for name, data in entries:
            if isinstance(data, tarfile.TarInfo):
                t.addfile(data)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def cop(tgz, header_length=512, declared=None):
    """A COP: signed TLV header (tag 1 version, tag 2 header length), then the gzip tar."""
    header = bytes([1, 0, 2, 1, 1, 2, 0, 2]) + struct.pack(">H", declared if declared is not None else header_length)
    return header + b"\x0d" * (header_length - len(header)) + tgz


def standard_entries(folder=""):
    return [(folder + f"{LOAD}.loads", loads_text(LOAD, list(IMAGES)))] + [(folder + n, d) for n, d in IMAGES.items()]


class PackageTestCase(LabcmTestCase):
    """A data dir with one 8845, and packages written into the test's folder."""

    def setUp(self):
        super().setUp()
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845", "--line", "1001")
        self.files = os.path.join(self.data, "files")

    def package(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


class FirmwareImport(PackageTestCase):
    def files_now(self):
        return sorted(os.listdir(self.files)) if os.path.isdir(self.files) else []

    def assert_imported(self):
        for name, data in IMAGES.items():
            with open(os.path.join(self.files, name), "rb") as f:
                self.assertEqual(f.read(), data, name)  # byte for byte
        with open(os.path.join(self.files, f"{LOAD}.loads"), "rb") as f:
            self.assertEqual(f.read(), loads_text(LOAD, list(IMAGES)))
        self.assertFalse([n for n in self.files_now() if n.startswith(".")], "the staging folder is gone")

    def refused(self, name, data, message):
        before = self.files_now()
        r = self.labcm("firmware", "import", self.package(name, data))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("firmware import refused, nothing imported", r.stderr)
        self.assertIn(message, r.stderr)
        self.assertEqual(self.files_now(), before, "a refused package leaves the files folder as it was")

    def test_the_tftp_zip_is_imported_and_set_as_the_models_default(self):
        path = self.package(f"cmterm-8845_65.{LOAD[11:]}.zip", zip_package(standard_entries()))
        out = self.ok("firmware", "import", path, "--set-default")
        self.assertIn("4 files added, 0 replaced, 0 unchanged, 0 ignored (not named by a .loads); loads: " + LOAD, out)
        self.assertIn(f"model 8845 default load = {LOAD}", out)
        self.assertIn(f"ok   load {LOAD}: complete (3 image files)", self.ok("firmware", "check"))
        self.assertIn(LOAD, self.ok("model", "list"))
        # Again: nothing changes, every file is reported unchanged.
        self.assertIn("0 files added, 0 replaced, 4 unchanged", self.ok("firmware", "import", path))
        # A running server serves them byte for byte, and tells the phone to move to the load.
        self.start_server()
        http = f"http://127.0.0.1:{self.http_port}"
        for name, data in IMAGES.items():
            with urllib.request.urlopen(f"{http}/{name}", timeout=30) as resp:
                self.assertEqual(resp.read(), data)
        with urllib.request.urlopen(f"{http}/SEP001122AABBCC.cnf.xml", timeout=30) as resp:
            self.assertIn(f"<loadInformation>{LOAD}</loadInformation>", resp.read().decode())

    def test_a_cop_with_a_folder_tree_and_a_nested_tar_is_imported_whatever_its_header_says(self):
        inner = tar_package(standard_entries("ciscocm/firmware/")[1:], mode="w")  # the images, in a .tar
        folder = tarfile.TarInfo("ciscocm")
        folder.type = tarfile.DIRTYPE
        tgz = tar_package([("ciscocm", folder),
                           (f"ciscocm/{LOAD}.loads", loads_text(LOAD, list(IMAGES))),
                           ("ciscocm/images.tar", inner)])
        # The header's length is wrong on purpose: the gzip stream is found, not trusted.
        path = self.package(f"cmterm-8845_65-sip.{LOAD[11:]}.k3.cop.sgn", cop(tgz, header_length=700, declared=512))
        out = self.ok("firmware", "import", path)
        self.assertIn("4 files added", out)
        self.assert_imported()

    def test_only_the_loads_and_the_images_they_name_are_taken(self):
        extras = [("install.sh", b"#!/bin/sh\nrm -rf /\n"), ("Ringlist-wb.xml", b"<x/>"), ("docs/read me.txt", b"hi"),
                  ("other.sbn", b"not named")]
        tgz = tar_package(standard_entries("fw/") + extras)
        out = self.ok("firmware", "import", self.package("p.cop.sha512", cop(tgz)))
        self.assertIn("4 files added", out)
        self.assert_imported()
        self.assertEqual(sorted(self.files_now()), sorted([f"{LOAD}.loads"] + list(IMAGES)))
        r = self.labcm("--json", "firmware", "import", self.package("p.cop.sha512", cop(tgz)))
        self.assertIn('"ignored":["Ringlist-wb.xml","docs/read me.txt","install.sh","other.sbn"]', r.stdout)

    def test_a_replaced_file_is_reported_and_the_rest_is_kept(self):
        self.ok("firmware", "import", self.package("a.zip", zip_package(standard_entries())))
        entries = standard_entries()
        entries[0] = (f"{LOAD}.loads", loads_text(LOAD, list(IMAGES), signed=False))  # another signature
        out = self.ok("firmware", "import", self.package("b.zip", zip_package(entries)))
        self.assertIn("0 files added, 1 replaced, 3 unchanged", out)
        self.assertIn(f"replaced {LOAD}.loads", out)

    def test_an_image_already_in_the_folder_completes_a_package(self):
        os.makedirs(self.files, exist_ok=True)
        name, data = next(iter(IMAGES.items()))
        with open(os.path.join(self.files, name), "wb") as f:
            f.write(data)
        entries = [e for e in standard_entries() if e[0] != name]
        self.assertIn("3 files added", self.ok("firmware", "import", self.package("p.zip", zip_package(entries))))

    def test_bad_packages_are_refused_whole_with_the_reason(self):
        good = zip_package(standard_entries())
        self.refused("cut.zip", good[:len(good) // 2], "truncated or damaged")
        tgz = tar_package(standard_entries())
        self.refused("cut.cop.sgn", cop(tgz[:len(tgz) - 5000]), "truncated or damaged")
        self.refused("up.zip", zip_package(standard_entries() + [("../../etc/evil.sbn", b"x")]), "leaves the folder")
        self.refused("abs.tar.gz", tar_package(standard_entries() + [("/etc/evil.sbn", b"x")]), "absolute path")
        link = tarfile.TarInfo("fw/link.sbn")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        self.refused("link.tar.gz", tar_package(standard_entries() + [("fw/link.sbn", link)]), "is a link")
        hard = tarfile.TarInfo("fw/hard.sbn")
        hard.type, hard.linkname = tarfile.LNKTYPE, f"{LOAD}.loads"
        self.refused("hard.tar.gz", tar_package(standard_entries() + [("fw/hard.sbn", hard)]), "is a link")
        dev = tarfile.TarInfo("fw/dev.sbn")
        dev.type = tarfile.CHRTYPE
        self.refused("dev.tar.gz", tar_package(standard_entries() + [("fw/dev.sbn", dev)]), "not a plain file")
        self.refused("none.zip", zip_package(list(IMAGES.items())), "no .loads file")
        missing = [e for e in standard_entries() if not e[0].startswith("rootfs")]
        self.refused("missing.zip", zip_package(missing), f"names rootfs8845.14-2-1-0001-14.sbn, which is neither")
        self.refused("twice.zip", zip_package(standard_entries() + [("other/kern8845.14-2-1-0001-14.sbn", b"?")]),
                     "two different files named kern8845")
        self.refused("text.cop.sgn", b"not a package at all", "not a firmware package")
        # A size past the limits, as the tar header says it (the bytes are not even there).
        big = bytearray(tar_package(standard_entries(), mode="w"))
        size_field = slice(124, 136)
        big[size_field] = b"77777777777\0"
        big[148:156] = b"        "
        big[148:156] = ("%06o\0 " % sum(big[0:512])).encode()
        self.refused("big.tar", bytes(big), "a firmware file is at most")
        self.assertEqual(self.ok("firmware", "check").strip(), "no firmware loads in use (set one with 'labcm model set')")

    def test_a_missing_package_or_folder_is_an_error_not_a_crash(self):
        r = self.labcm("firmware", "import", os.path.join(self.dir, "nope.zip"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not a file", r.stderr)
        r = self.labcm("firmware", "import", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not a file", r.stderr)



def locale_cop(files, outer_extra=()):
    """A Cisco locale installer: signed header, gzip tar, a tar inside it with
    usr/local/cm/tftp/<Locale>/... (two untar steps, as Cisco ships them)."""
    inner = tar_package([(f"usr/local/cm/tftp/{name}", data) for name, data in files], mode="w")
    return cop(tar_package([("po-locale-de_DE.tar", inner), ("readme.txt", b"install notes")] + list(outer_extra)))


class LocaleInstall(PackageTestCase):
    JAR = os.urandom(30_000)
    TONES = b"<tones/>"

    def sep(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/SEP001122AABBCC.cnf.xml", timeout=30) as r:
            return r.read().decode()

    def test_a_cisco_locale_installer_is_installed_set_and_served(self):
        cop_bytes = locale_cop([("German_Germany/sl-bev-sip.jar", self.JAR), ("German_Germany/8845-dictionary.xml", b"<d/>"),
                                ("Germany/g3-tones.xml", self.TONES)])
        path = self.package("po-locale-de_DE-k3-14.0.1.1000-1.cop.sgn", cop_bytes)
        r = self.labcm("setting", "set", "user_locale", "German_Germany")
        self.assertEqual(r.returncode, 1)
        self.assertIn("'German_Germany' is not installed", r.stderr)  # before the install: refused
        out = self.ok("locale", "install", path, "--set")
        self.assertIn("user locales German_Germany; network locales Germany; 1 entries ignored", out)
        self.assertIn("user_locale = German_Germany", out)
        self.assertIn("network_locale = Germany", out)
        self.assertEqual(sorted(os.listdir(self.files)), ["German_Germany", "Germany"])  # no staging left
        self.start_server()
        sep = self.sep()
        self.assertRegex(sep, r"<userLocale>\s*<name>German_Germany</name>\s*<uid>1</uid>\s*<langCode>de_DE</langCode>\s*"
                              r"<version>1\.0\.0\.0-\d+</version>")
        self.assertRegex(sep, r"<networkLocaleInfo>\s*<name>Germany</name>\s*<version>1\.0\.0\.0-\d+</version>")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/German_Germany/sl-bev-sip.jar", timeout=30) as r:
            self.assertEqual(r.read(), self.JAR)
        # Installed again: the folder is replaced and its version moves, so phones fetch it again.
        version = re.search(r"<langCode>de_DE</langCode>\s*<version>([^<]+)</version>", sep).group(1)
        time.sleep(1.1)
        self.ok("locale", "install", path)
        self.wait_for(lambda: re.search(r"<langCode>de_DE</langCode>\s*<version>([^<]+)</version>", self.sep()).group(1)
                      != version, "a new locale version")
        # A locale that is not installed is refused with the installed ones listed.
        r = self.labcm("setting", "set", "user_locale", "French_France")
        self.assertEqual(r.returncode, 1)
        self.assertIn("'French_France' is not installed", r.stderr)
        self.assertIn("installed: German_Germany", r.stderr)

    def test_a_locale_folder_is_installed_as_it_is(self):
        folder = os.path.join(self.dir, "Dutch_Netherlands")
        os.makedirs(os.path.join(folder, "fonts"))
        with open(os.path.join(folder, "sp-sip.jar"), "wb") as f:
            f.write(self.JAR)
        with open(os.path.join(folder, "fonts", "f.xml"), "wb") as f:
            f.write(b"<f/>")
        self.assertIn("user locales Dutch_Netherlands", self.ok("locale", "install", folder))
        with open(os.path.join(self.files, "Dutch_Netherlands", "fonts", "f.xml"), "rb") as f:
            self.assertEqual(f.read(), b"<f/>")
        self.ok("setting", "set", "user_locale", "dutch_netherlands")  # case ignored, as phones' names are

    def test_bad_locale_packages_are_refused_whole(self):
        self.ok("locale", "install", self.package("ok.cop.sgn", locale_cop([("German_Germany/sl-bev-sip.jar", self.JAR)])))
        before = sorted(os.listdir(self.files))
        for name, data, message in [
            ("up.cop.sgn", cop(tar_package([("usr/local/cm/tftp/../../../etc/x.jar", b"x")])), "leaves the folder"),
            ("none.cop.sgn", cop(tar_package([("readme.txt", b"x")])), "holds no locale folder"),
            ("cut.cop.sgn", locale_cop([("German_Germany/sl-bev-sip.jar", os.urandom(100_000))])[:60_000],
             "truncated or damaged"),
        ]:
            with self.subTest(name=name):
                r = self.labcm("locale", "install", self.package(name, data))
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn("locale install refused, nothing installed", r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(sorted(os.listdir(self.files)), before)
        with open(os.path.join(self.files, "German_Germany", "sl-bev-sip.jar"), "rb") as f:
            self.assertEqual(f.read(), self.JAR)  # the installed locale is untouched


class PackageUpload(PackageTestCase):
    """The same imports from the admin page's API: the package as the request body, streamed
    to a hidden file of the files folder, read off the io thread, the file removed after."""
    PASSWORD = "upload-test-pw"

    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        os.environ["LABCM_ADMIN_PASSWORD"] = self.PASSWORD
        self.addCleanup(os.environ.pop, "LABCM_ADMIN_PASSWORD", None)
        os.makedirs(self.files, exist_ok=True)
        # What a killed server left: removed at start (no process has that pid).
        os.makedirs(os.path.join(self.files, ".labcm-import-999999999-00000001"))
        with open(os.path.join(self.files, ".labcm-upload-999999999-00000002"), "wb") as f:
            f.write(b"half an upload")
        self.server = self.start_server()
        self.admin = Admin(self.admin_port)
        self.assertEqual(self.admin.login(self.PASSWORD)[0], 200)

    def upload(self, path, data, csrf=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=60)
        headers = {"Cookie": self.admin.cookie, "Content-Type": "application/octet-stream"}
        if csrf:
            headers["X-CSRF-Token"] = self.admin.csrf
        conn.request("POST", path, body=data, headers=headers)
        r = conn.getresponse()
        body = json.loads(r.read().decode())
        conn.close()
        return r.status, body

    def hidden(self):
        return [n for n in os.listdir(self.files) if n.startswith(".")]

    def test_a_firmware_package_is_uploaded_imported_and_set_as_the_default(self):
        self.assertEqual(self.hidden(), [], "the dead process's leftovers are gone")
        name = f"cmterm-8845_65.{LOAD[11:]}.zip"
        status, body = self.upload(f"/api/firmware/import?name={name}&set_default=true", zip_package(standard_entries()))
        self.assertEqual(status, 200, body)
        result = body["result"]
        self.assertEqual(result["package"], name)
        self.assertEqual(result["loads"], [LOAD])
        self.assertEqual(sorted(result["added"]), sorted([f"{LOAD}.loads"] + list(IMAGES)))
        self.assertEqual(result["defaults"], [{"model": "8845", "load": LOAD}, {"model": "8865", "load": LOAD}])
        for n, data in IMAGES.items():
            with open(os.path.join(self.files, n), "rb") as f:
                self.assertEqual(f.read(), data, n)
        self.assertEqual(self.hidden(), [], "no upload or staging file is left")
        self.assertIn(f"ok   load {LOAD}: complete (3 image files)", self.ok("firmware", "check"))
        self.wait_for_log(self.server, f"files_imported: firmware {name} imported: loads {LOAD}")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/SEP001122AABBCC.cnf.xml", timeout=30) as resp:
            self.assertIn(f"<loadInformation>{LOAD}</loadInformation>", resp.read().decode())

    def test_a_bad_upload_is_refused_with_the_reason_and_leaves_nothing(self):
        missing = [e for e in standard_entries() if not e[0].startswith("rootfs")]
        status, body = self.upload("/api/firmware/import?name=missing.zip", zip_package(missing))
        self.assertEqual(status, 422, body)
        self.assertIn(f"firmware package refused, nothing changed: {LOAD}.loads names rootfs8845", body["error"]["message"])
        self.assertEqual(os.listdir(self.files), [], "nothing imported, no upload file left")
        self.wait_for_log(self.server, "files_imported: firmware package refused, nothing changed")
        # A write without the CSRF token, or without a session, is answered before the body is read.
        status, body = self.upload("/api/firmware/import", zip_package(standard_entries()), csrf=False)
        self.assertEqual(status, 403, body)
        anon = Admin(self.admin_port)
        self.assertEqual(anon.request("POST", "/api/firmware/import", "x", "application/octet-stream")[0], 401)
        # A package declared past the limit: 413 from its header alone.
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=30)
        conn.putrequest("POST", "/api/firmware/import")
        for k, v in (("Cookie", self.admin.cookie), ("X-CSRF-Token", self.admin.csrf), ("Content-Length", str(3 << 30))):
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        self.assertEqual(r.status, 413)
        self.assertIn(f"the body is over {2 << 30} bytes", r.read().decode())
        conn.close()
        self.assertEqual(os.listdir(self.files), [])

    def test_one_upload_at_a_time_and_a_broken_one_is_removed(self):
        # An upload that stops half-way holds the slot: a second is told busy at once.
        first = socket.create_connection(("127.0.0.1", self.admin_port), timeout=10)
        self.addCleanup(first.close)
        first.sendall((f"POST /api/firmware/import HTTP/1.1\r\nHost: x\r\nCookie: {self.admin.cookie}\r\n"
                       f"X-CSRF-Token: {self.admin.csrf}\r\nContent-Length: 1000000\r\n\r\n").encode() + b"P" * 5000)
        self.wait_for(lambda: self.hidden(), "the upload file")
        status, body = self.upload("/api/firmware/import", zip_package(standard_entries()))
        self.assertEqual(status, 503, body)
        self.assertIn("another package is being uploaded", body["error"]["message"])
        first.close()
        self.wait_for(lambda: not self.hidden(), "the broken upload's file removed")
        status, body = self.upload("/api/firmware/import", zip_package(standard_entries()))
        self.assertEqual(status, 200, body)

    def test_a_locale_package_is_uploaded_installed_and_set(self):
        jar = os.urandom(20_000)
        data = locale_cop([("German_Germany/sl-bev-sip.jar", jar), ("Germany/g3-tones.xml", b"<tones/>")])
        status, body = self.upload("/api/locales/install?name=po-locale-de_DE.cop.sgn&set=true", data)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["result"]["user"], ["German_Germany"])
        self.assertEqual(body["result"]["settings"], [{"key": "user_locale", "value": "German_Germany"},
                                                      {"key": "network_locale", "value": "Germany"}])
        self.assertRegex(self.ok("setting", "list"), r"user_locale\s+German_Germany")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/German_Germany/sl-bev-sip.jar", timeout=30) as r:
            self.assertEqual(r.read(), jar)
        self.assertEqual(self.hidden(), [])


if __name__ == "__main__":
    unittest.main()
