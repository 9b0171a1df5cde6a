"""SIP traces and pcaps (issue 22, items 2 and 3) against a real `labcm serve`: scripted phones
over UDP and TCP and sipp register; each phone's messages come back through the CLI
(`labcm device trace`, `labcm device pcap`) and the API, the pcaps are read back by tshark
(Debian tshark), and `labcm capture` records everything for a few seconds."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from labcm_test import LabcmTestCase
from sip_phone import Phone
from test_admin_api import PASSWORD, Admin

HERE = os.path.dirname(os.path.abspath(__file__))
UDP_PHONE = "0011220F0001"  # line 1001
TCP_PHONE = "0011220F0002"  # line 1002
STRANGER = "0011220F00FF"   # never added
KEPT = 6                    # setting sip_trace_messages


class Trace(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        self.ok("device", "add", f"SEP{UDP_PHONE}", "--model", "8845", "--line", "1001")
        self.ok("device", "add", f"SEP{TCP_PHONE}", "--model", "8845", "--line", "1002")
        self.ok("setting", "set", "sip_trace_messages", str(KEPT))
        os.environ["LABCM_ADMIN_PASSWORD"] = PASSWORD
        self.addCleanup(os.environ.pop, "LABCM_ADMIN_PASSWORD", None)
        self.server = self.start_server()
        self.admin = Admin(self.admin_port)
        self.assertEqual(self.admin.login()[0], 200)

    def trace(self, device):
        """The phone's trace through the API; the CLI must list the same first lines."""
        status, _, reply = self.admin.request("GET", f"/api/devices/{device}/trace")
        self.assertEqual(status, 200, reply)
        messages = reply["result"]["messages"]
        text = self.ok("device", "trace", device)
        for m in messages:
            self.assertIn(m["first_line"], text)
        return messages

    def wait_trace(self, device, count):
        """The trace is filed beside the SIP thread: poll until it holds `count` messages."""
        self.wait_for(lambda: len(self.trace(device)) >= count, f"{count} messages in {device}'s trace")
        return self.trace(device)

    def tshark(self, path):
        """(method or status, CSeq) of each SIP message in the pcap, as tshark decodes it."""
        r = subprocess.run(["tshark", "-r", path, "-d", f"udp.port=={self.sip_port},sip", "-d", f"tcp.port=={self.sip_port},sip",
                            "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.seq",
                            "-e", "ip.src", "-e", "udp.srcport", "-e", "tcp.srcport"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = []
        for line in r.stdout.splitlines():
            method, status, cseq, src, udp_port, tcp_port = line.split("\t")
            rows.append((method or status, cseq, src, int(udp_port or tcp_port)))
        return rows

    @unittest.skipUnless(shutil.which("tshark"), "needs tshark (Debian tshark)")
    def test_a_udp_phone_s_trace_and_pcap(self):
        phone = Phone(self, UDP_PHONE, "1001")
        phone.register()
        phone.register(expires=0)
        messages = self.wait_trace(f"SEP{UDP_PHONE}", 4)
        self.assertEqual([(m["direction"], m["first_line"]) for m in messages],
                         [("in", "REGISTER sip:127.0.0.1 SIP/2.0"), ("out", "SIP/2.0 200 OK")] * 2)
        first = messages[0]
        self.assertEqual((first["transport"], first["address"], first["port"]), ("udp", "127.0.0.1", phone.sock.getsockname()[1]))
        self.assertIn(f'devicename.ccm.cisco.com="SEP{UDP_PHONE}"', first["text"])
        self.assertTrue(first["text"].endswith("Content-Length: 0\r\n\r\n"), first["text"])
        self.assertLessEqual(abs(first["time_us"] / 1e6 - time.time()), 60)
        # The same as a pcap, through the CLI, read back by tshark.
        path = os.path.join(self.dir, "phone.pcap")
        self.assertIn("wrote 4 SIP messages", self.ok("device", "pcap", f"SEP{UDP_PHONE}", "-o", path))
        port = phone.sock.getsockname()[1]
        self.assertEqual(self.tshark(path), [("REGISTER", "101", "127.0.0.1", port), ("200", "101", "127.0.0.1", self.sip_port),
                                             ("REGISTER", "102", "127.0.0.1", port), ("200", "102", "127.0.0.1", self.sip_port)])
        # And through the API, as a download.
        status, headers, raw = self.admin.download(f"/api/devices/SEP{UDP_PHONE}/pcap")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/vnd.tcpdump.pcap")
        self.assertIn(f'filename="SEP{UDP_PHONE}-', headers["content-disposition"])
        self.assertEqual(raw[:4], bytes.fromhex("d4c3b2a1"))  # pcap, little-endian, microseconds
        # /metrics counts what the trace holds and what it could not keep.
        status, _, text = self.admin.request("GET", "/metrics")
        self.assertEqual(status, 200)
        metrics = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("labcm_sip_trace_"))
        self.assertEqual(float(metrics["labcm_sip_trace_messages_active"]), 4)
        self.assertGreater(float(metrics["labcm_sip_trace_bytes_active"]), sum(len(m["text"]) for m in messages))
        self.assertEqual(float(metrics["labcm_sip_trace_lost_total"]), 0)

    @unittest.skipUnless(shutil.which("tshark"), "needs tshark (Debian tshark)")
    def test_a_tcp_phone_s_messages_are_whole_however_it_writes_them(self):
        phone = Phone(self, TCP_PHONE, "1002", transport="tcp")
        # Two REGISTERs in one write: labcm reads them at once, the trace still shows two.
        phone.n += 1
        first = phone.register_text(3600)
        phone.n += 1
        second = phone.register_text(3600)
        phone.send(first + second)
        phone.expect(200)
        phone.expect(200)
        messages = self.wait_trace(f"SEP{TCP_PHONE}", 4)
        self.assertEqual(sorted(m["first_line"] for m in messages), ["REGISTER sip:127.0.0.1 SIP/2.0"] * 2 + ["SIP/2.0 200 OK"] * 2)
        self.assertEqual({m["transport"] for m in messages}, {"tcp"})
        self.assertEqual([m["text"] for m in messages if m["direction"] == "in"], [first, second])
        # One REGISTER in two writes, apart: one message, whole.
        phone.n += 1
        third = phone.register_text(3600)
        phone.send(third[:40])
        time.sleep(0.3)
        phone.send(third[40:])
        phone.expect(200)
        messages = self.wait_trace(f"SEP{TCP_PHONE}", 6)
        self.assertEqual(messages[4]["text"], third)
        path = os.path.join(self.dir, "tcp.pcap")
        self.ok("device", "pcap", f"SEP{TCP_PHONE}", "-o", path)
        rows = self.tshark(path)
        self.assertEqual(sorted(r[0] for r in rows), ["200", "200", "200", "REGISTER", "REGISTER", "REGISTER"], rows)
        self.assertEqual({r[3] for r in rows if r[0] == "REGISTER"}, {phone.sock.getsockname()[1]})

    def test_the_trace_keeps_the_newest_messages_up_to_the_setting(self):
        phone = Phone(self, UDP_PHONE, "1001")
        for _ in range(5):
            phone.register()
        self.wait_for(lambda: self.trace(f"SEP{UDP_PHONE}")[-1]["text"].count("CSeq: 105 REGISTER") == 1,
                      "the fifth REGISTER's answer in the trace")
        messages = self.trace(f"SEP{UDP_PHONE}")
        self.assertEqual(len(messages), KEPT)
        self.assertIn("CSeq: 103 REGISTER", messages[0]["text"])  # 101, 102 and their 200s went
        self.assertEqual([m["seq"] for m in messages], sorted(m["seq"] for m in messages))

    @unittest.skipUnless(shutil.which("sipp"), "needs sipp (Debian sip-tester)")
    def test_a_refused_stranger_s_register_is_in_its_trace(self):
        port = self.free_port(socket.SOCK_DGRAM)
        subprocess.run(["sipp", f"127.0.0.1:{self.sip_port}", "-sf", os.path.join(HERE, "sipp", "register_unknown.xml"), "-m", "1",
                        "-t", "u1", "-i", "127.0.0.1", "-p", str(port), "-key", "mac", STRANGER, "-timeout", "20s", "-timeout_error"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60, cwd=self.dir)
        messages = self.wait_trace(f"SEP{STRANGER}", 2)
        self.assertEqual(messages[0]["first_line"], "REGISTER sip:127.0.0.1 SIP/2.0")
        self.assertEqual(messages[0]["port"], port)
        self.assertTrue(messages[1]["first_line"].startswith("SIP/2.0 4"), messages[1]["first_line"])
        self.assertEqual(messages[1]["direction"], "out")

    @unittest.skipUnless(shutil.which("tshark"), "needs tshark (Debian tshark)")
    def test_a_server_wide_capture_for_a_few_seconds(self):
        path = os.path.join(self.dir, "all.pcap")
        result = {}
        capture = threading.Thread(target=lambda: result.update(out=self.ok("capture", "--seconds", "3", "-o", path)))
        capture.start()
        # Once the capture runs, two phones register (one of them unknown to the trace so far).
        self.wait_for(lambda: os.path.isdir(os.path.join(self.data, "captures")) and os.listdir(os.path.join(self.data, "captures")),
                      "the capture file")
        Phone(self, UDP_PHONE, "1001").register()
        Phone(self, TCP_PHONE, "1002", transport="tcp").register()
        capture.join(timeout=60)
        self.assertFalse(capture.is_alive())
        self.assertIn("(ended by time)", result["out"])
        rows = self.tshark(path)
        self.assertEqual(sorted(r[0] for r in rows), ["200", "200", "REGISTER", "REGISTER"], rows)

    def test_the_trace_is_kept_across_a_restart_and_a_kill(self):
        phone = Phone(self, UDP_PHONE, "1001")
        phone.register()
        self.wait_trace(f"SEP{UDP_PHONE}", 2)
        self.assertEqual(self.stop_server(self.server), 0)
        self.server = self.start_server()
        self.assertEqual(self.admin.login()[0], 200)
        self.assertEqual([m["first_line"] for m in self.trace(f"SEP{UDP_PHONE}")][:2],
                         ["REGISTER sip:127.0.0.1 SIP/2.0", "SIP/2.0 200 OK"])
        # Killed: what the journal holds survives, whole (it is written once the lab is quiet
        # for a second, at most every 10 s).
        phone.register(expires=0)
        self.wait_trace(f"SEP{UDP_PHONE}", 4)
        journal = os.path.join(self.data, "trace", "sip-trace.journal")
        self.wait_for(lambda: b"Expires: 0" in pathlib.Path(journal).read_bytes(), "the unregister in the journal", seconds=60)
        self.stop_server(self.server, signal.SIGKILL)
        self.server = self.start_server()
        self.assertEqual(self.admin.login()[0], 200)
        messages = self.trace(f"SEP{UDP_PHONE}")
        self.assertGreaterEqual(len(messages), 4)
        self.assertIn("Expires: 0", [m for m in messages if m["direction"] == "in"][-1]["text"])

    def test_no_trace_for_a_phone_never_heard_and_a_bad_name_is_a_4xx(self):
        self.assertEqual(self.trace(f"SEP{STRANGER}"), [])
        self.assertIn("no SIP messages of", self.ok("device", "trace", STRANGER))
        self.assertIn("no SIP message of", self.fails("device", "pcap", STRANGER, "-o", os.path.join(self.dir, "x.pcap")))
        status, _, body = self.admin.request("GET", "/api/devices/not-a-phone/trace")
        self.assertEqual(status, 400, body)
        status, _, body = self.admin.request("GET", f"/api/devices/SEP{STRANGER}/pcap")
        self.assertEqual(status, 404, body)

    def test_with_the_setting_at_zero_there_is_no_trace(self):
        self.stop_server(self.server)
        self.ok("setting", "set", "sip_trace_messages", "0")
        self.server = self.start_server()
        Phone(self, UDP_PHONE, "1001").register()
        self.assertIn("the SIP trace is off", self.ok("device", "trace", f"SEP{UDP_PHONE}"))
        self.assertIn("the SIP trace is off", self.fails("device", "pcap", f"SEP{UDP_PHONE}", "-o", os.path.join(self.dir, "x.pcap")))
        self.assertIn("the SIP trace is off", self.fails("capture", "--seconds", "1", "-o", os.path.join(self.dir, "all.pcap")))



if __name__ == "__main__":
    unittest.main()
