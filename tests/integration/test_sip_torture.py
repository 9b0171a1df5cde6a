"""Malformed SIP through a real `labcm serve`, in the spirit of the RFC 4475 torture tests
(the messages are our own constructions of the same faults). Each is sent over UDP; a SIP
answer, when there is one, must be a 4xx, never a 2xx (a non-SIP answer, sofia's STUN error
for STUN-looking bytes, must be smaller than the input); and after every message the server
still answers a valid OPTIONS, so nothing crashed or hung (the ASan build runs this too)."""
import socket
import unittest

from labcm_test import LabcmTestCase


def request(first_line, headers, body=""):
    lines = [first_line] + headers + [f"Content-Length: {len(body.encode())}", "", body]
    return "\r\n".join(lines).encode()


def base_headers(branch, method="OPTIONS", cseq=1):
    return [f"Via: SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bK{branch}", "Max-Forwards: 70",
            "From: <sip:t@127.0.0.1>;tag=1", "To: <sip:t@127.0.0.1>", f"Call-ID: {branch}@127.0.0.1",
            f"CSeq: {cseq} {method}"]


class Torture(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845", "--line", "1001")
        self.start_server()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(1.0)

    def tearDown(self):
        self.sock.close()
        super().tearDown()

    def exchange(self, data, raw=False):
        """Sends one datagram; returns the status line of the answer (or the raw bytes), or None."""
        self.sock.sendto(data, ("127.0.0.1", self.sip_port))
        try:
            reply, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return None
        return reply if raw else reply.split(b"\r\n", 1)[0].decode(errors="replace")

    def alive(self):
        status = self.exchange(request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("alive")))
        self.assertIsNotNone(status, "the server no longer answers")
        self.assertTrue(status.startswith("SIP/2.0 200"), status)

    def test_malformed_messages_get_no_success_and_break_nothing(self):
        reg = base_headers("r1", "REGISTER")
        cases = {
            "negative Content-Length": b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n" + "\r\n".join(
                base_headers("ncl")).encode() + b"\r\nContent-Length: -999\r\n\r\n",
            "Content-Length larger than the datagram": b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n" + "\r\n".join(
                base_headers("clerr")).encode() + b"\r\nContent-Length: 9999\r\n\r\nshort",
            "no Via": request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("novia")[1:]),
            "no CSeq": request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("nocseq")[:-1]),
            "CSeq method mismatch": request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("cseqm")[:-1] +
                                            ["CSeq: 1 INVITE"]),
            "huge CSeq number": request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("bigcseq")[:-1] +
                                        ["CSeq: 36893488147419103232 OPTIONS"]),
            "unknown SIP version": request("OPTIONS sip:127.0.0.1 SIP/7.0", base_headers("ver")),
            "unquoted angle brackets in the Request-URI": request("OPTIONS <sip:127.0.0.1> SIP/2.0", base_headers("lt")),
            "unterminated quote in From": request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("quot")[:2] +
                                                  ['From: "unterminated <sip:t@127.0.0.1>;tag=1'] + base_headers("quot")[3:]),
            "REGISTER with a garbage Contact": request("REGISTER sip:127.0.0.1 SIP/2.0", reg + ["Contact: <<<>>>", "Expires: 60"]),
            "REGISTER with Expires that is not a number": request("REGISTER sip:127.0.0.1 SIP/2.0", reg[:5] + ["CSeq: 2 REGISTER"] + [
                "Contact: <sip:1001@127.0.0.1:5999>;+u.sip!devicename.ccm.cisco.com=\"SEP001122AABBCC\"", "Expires: abc"]),
            "REGISTER with a broken multipart body": request(
                "REGISTER sip:127.0.0.1 SIP/2.0", reg[:5] + ["CSeq: 3 REGISTER",
                "Contact: <sip:1001@127.0.0.1:5999>;+u.sip!devicename.ccm.cisco.com=\"SEP00112233DEAD\"",
                "Content-Type: multipart/mixed; boundary=nowhere", "Expires: 60"], "--elsewhere\r\nnot a part"),
            "NUL bytes in a header": request("OPTIONS sip:127.0.0.1 SIP/2.0", base_headers("nul") + ["X-Bad: a\x00b"]),
            "binary garbage that looks like STUN": bytes(range(256)) * 4,
            "binary garbage": bytes(range(255, -1, -1)) * 4,
            "empty datagram": b"",
            "only CRLFs (a keep-alive ping)": b"\r\n\r\n",
        }
        for name, data in cases.items():
            with self.subTest(name=name):
                reply = self.exchange(data, raw=True)
                if reply is not None and reply.startswith(b"SIP/2.0"):
                    status = reply.split(b"\r\n", 1)[0].decode(errors="replace")
                    self.assertRegex(status, r"^SIP/2\.0 [4]\d\d ", f"{name}: {status}")
                elif reply is not None:
                    # Not SIP (sofia answers STUN-looking input with a STUN error): never
                    # more bytes than were sent, so labcm cannot amplify a spoofed flood.
                    self.assertLess(len(reply), max(len(data), 1), name)
                self.alive()
        # The device with a broken REGISTER body was unknown anyway; the configured one was not
        # registered by any of the broken REGISTERs.
        self.assertIn("registration: never", self.ok("device", "show", "SEP001122AABBCC"))


if __name__ == "__main__":
    unittest.main()
