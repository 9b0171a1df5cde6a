"""A scripted Cisco-like SIP phone for call tests (issue 21): registers a device over UDP or
TCP on 127.0.0.1, sends requests and answers as a test tells it, and hands every message it
receives back parsed, so a test asserts the exact headers labcm sent. Every wait is bounded."""
import re
import socket
import time


class Message:
    def __init__(self, raw, source=None):
        head, _, self.body = raw.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip(), value.strip()))
        self.source = source
        self.raw = raw

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def get(self, name):
        values = self.all(name)
        return values[0] if values else None

    @property
    def method(self):
        return None if self.start.startswith("SIP/2.0") else self.start.split(" ", 1)[0]

    @property
    def status(self):
        return int(self.start.split(" ")[1]) if self.start.startswith("SIP/2.0") else None

    @property
    def uri(self):
        return self.start.split(" ")[1]


def uri_of(header):
    m = re.search(r"<([^>]*)>", header)
    return m.group(1) if m else header.split(";")[0].strip()


class Phone:
    SDP = "v=0\r\no=Cisco-SIPUA 1 0 IN IP4 127.0.0.1\r\ns=SIP Call\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
          "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

    def __init__(self, test, mac, dn, transport="udp"):
        self.test, self.mac, self.dn, self.transport = test, mac, dn, transport
        self.server = ("127.0.0.1", test.sip_port)
        self.n = 0
        self.buffer = b""
        self.answered = {}  # (Call-ID, CSeq, top Via) of each request answered -> its final answer
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
        else:
            self.sock = socket.create_connection(self.server, timeout=10)
        self.sock.settimeout(10)
        test.addCleanup(self.sock.close)
        self.port = self.sock.getsockname()[1]
        self.contact_uri = f"sip:uuid-{mac.lower()}@127.0.0.1:{self.port};transport={transport}"
        self.contact = f'<{self.contact_uri}>;+u.sip!devicename.ccm.cisco.com="SEP{mac}"'

    # --- the wire ----------------------------------------------------------------------
    def send(self, text):
        data = text.encode()
        if self.transport == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def recv(self, seconds=10):
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"SEP{self.mac}: nothing received in {seconds} s")
            self.sock.settimeout(left)
            if self.transport == "udp":
                data, source = self.sock.recvfrom(65536)
                return Message(data.decode(errors="replace"), source)
            # TCP: one message per Content-Length.
            while b"\r\n\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("labcm closed the connection")
                self.buffer += chunk
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            if not head.strip():
                self.buffer = rest  # keep-alive CRLFs
                continue
            length = int(re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head).group(1))
            while len(rest) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("labcm closed the connection")
                rest += chunk
            raw, self.buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
            return Message(raw.decode(errors="replace"), self.server)

    @staticmethod
    def transaction(request):
        return (request.get("Call-ID"), request.get("CSeq"), (request.all("Via") or [""])[0])

    def expect(self, what, seconds=10):
        """The next message that is `what` (a method or a status); others before it are skipped
        (a 100 Trying, a retransmission) but only up to ten. A request this phone answered
        already that comes again (labcm retransmits until the answer arrives: over UDP on a busy
        machine the answer can cross it) gets the same answer again, as a phone's transaction
        layer does, and is skipped."""
        for _ in range(10):
            m = self.recv(seconds)
            if m.method and m.method != "ACK" and self.transaction(m) in self.answered:
                self.send(self.answered[self.transaction(m)])
                continue
            if m.method == what or m.status == what:
                return m
        raise AssertionError(f"SEP{self.mac}: no {what}")

    def via(self, branch):
        proto = "UDP" if self.transport == "udp" else "TCP"
        return f"Via: SIP/2.0/{proto} 127.0.0.1:{self.port};branch=z9hG4bK{branch};rport"

    # --- requests ----------------------------------------------------------------------
    def register_text(self, expires=3600):
        """The REGISTER of the current CSeq (100 + self.n), not sent."""
        return "\r\n".join([
            f"REGISTER sip:127.0.0.1 SIP/2.0", self.via(f"reg{self.mac}{self.n}"),
            f"From: <sip:{self.dn}@127.0.0.1>;tag=r{self.mac}", f"To: <sip:{self.dn}@127.0.0.1>",
            f"Call-ID: reg-{self.mac}@127.0.0.1", f"CSeq: {100 + self.n} REGISTER", "Max-Forwards: 70",
            f"Contact: {self.contact}", "User-Agent: Cisco-CP8845/14.2.1", f"Expires: {expires}", "Content-Length: 0", "", ""])

    def register(self, expires=3600):
        self.n += 1
        self.send(self.register_text(expires))
        reply = self.expect(200)
        return reply

    def invite(self, to, call_id, branch="inv1"):
        self.call = {"call_id": call_id, "from_tag": f"f{self.mac}", "branch": branch, "to": to}
        self.send("\r\n".join([
            f"INVITE sip:{to}@127.0.0.1;user=phone SIP/2.0", self.via(branch),
            f'From: "Desk {self.dn}" <sip:{self.dn}@127.0.0.1>;tag=f{self.mac}', f"To: <sip:{to}@127.0.0.1>",
            f"Call-ID: {call_id}", "CSeq: 101 INVITE", "Max-Forwards: 70", f"Contact: {self.contact}",
            "Content-Type: application/sdp", f"Content-Length: {len(self.SDP)}", "", self.SDP]))

    def cancel(self):
        c = self.call
        self.send("\r\n".join([
            f"CANCEL sip:{c['to']}@127.0.0.1;user=phone SIP/2.0", self.via(c["branch"]),
            f'From: "Desk {self.dn}" <sip:{self.dn}@127.0.0.1>;tag={c["from_tag"]}', f"To: <sip:{c['to']}@127.0.0.1>",
            f"Call-ID: {c['call_id']}", "CSeq: 101 CANCEL", "Max-Forwards: 70", "Content-Length: 0", "", ""]))

    def in_dialog(self, method, request_uri, route, from_hdr, to_hdr, call_id, cseq, branch, extra=()):
        """A request inside a dialog: to the peer's Contact, through the Record-Route (`extra`:
        more header lines)."""
        self.send("\r\n".join([
            f"{method} {request_uri} SIP/2.0", self.via(branch), *(f"Route: {r}" for r in route),
            f"From: {from_hdr}", f"To: {to_hdr}", f"Call-ID: {call_id}", f"CSeq: {cseq} {method}",
            "Max-Forwards: 70", *extra, "Content-Length: 0", "", ""]))

    def answer(self, request, status, phrase, tag=None, sdp=False):
        """A response to `request`, its Via, Record-Route, From, Call-ID and CSeq copied."""
        to = request.get("To") + (f";tag={tag}" if tag and ";tag=" not in request.get("To") else "")
        body = self.SDP if sdp else ""
        lines = [f"SIP/2.0 {status} {phrase}", *(f"Via: {v}" for v in request.all("Via")),
                 *(f"Record-Route: {r}" for r in request.all("Record-Route")),
                 f"From: {request.get('From')}", f"To: {to}", f"Call-ID: {request.get('Call-ID')}",
                 f"CSeq: {request.get('CSeq')}"]
        if request.method == "INVITE" and 200 <= status < 300:
            lines.append(f"Contact: {self.contact}")
        if sdp:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body)}", "", body]
        text = "\r\n".join(lines)
        if status >= 200:
            self.answered[self.transaction(request)] = text
        self.send(text)
