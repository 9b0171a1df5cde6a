"""Calls through a real `labcm serve` (issue 21): scripted phones (sip_phone.py) register over
UDP and TCP and call each other by directory number. Each test asserts what the called phone
receives (its registered Contact as the Request-URI, labcm's Record-Route, labcm as the
source, Max-Forwards less one, the caller's SDP untouched) and what the caller gets back."""
import os
import re
import shutil
import socket
import subprocess
import unittest
import urllib.request

from labcm_test import LabcmTestCase
from sip_phone import Message, Phone, uri_of

HERE = os.path.dirname(os.path.abspath(__file__))
A, B, C = "0011220D0001", "0011220D0002", "0011220D0003"
D = "0011220D0004"  # SippCalls: a BLF key on 1002


class Calls(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        self.ok("device", "add", f"SEP{A}", "--model", "8845", "--line", "1001")
        self.ok("line", "edit", f"SEP{A}", "1", "--display-name", 'Ann "Lab" A')
        self.ok("device", "add", f"SEP{B}", "--model", "8845", "--line", "1002", "--line", "1500")
        self.ok("device", "add", f"SEP{C}", "--model", "8845", "--line", "1003", "--line", "1500")
        self.server = self.start_server()

    def phones(self, a="udp", b="udp"):
        pa, pb = Phone(self, A, "1001", a), Phone(self, B, "1002", b)
        pa.register()
        pb.register()
        return pa, pb

    def assert_forwarded_invite(self, invite, callee, caller_transport):
        self.assertEqual(invite.uri, callee.contact_uri)  # the registered Contact, verbatim
        self.assertEqual(invite.source, ("127.0.0.1", self.sip_port))  # from labcm, the phone's call manager
        rr = invite.all("Record-Route")
        self.assertEqual(rr[-1], f"<sip:127.0.0.1:{self.sip_port};transport={caller_transport};lr>")
        if callee.transport != caller_transport:  # one entry per side (RFC 5658)
            self.assertEqual(rr[0], f"<sip:127.0.0.1:{self.sip_port};transport={callee.transport};lr>")
        vias = invite.all("Via")
        self.assertEqual(len(vias), 2)
        self.assertIn(f"127.0.0.1:{self.sip_port}", vias[0])
        self.assertEqual(invite.get("Max-Forwards"), "69")
        self.assertEqual(invite.body, Phone.SDP)
        # Caller identity from the calling line as stored (the phone said "Desk 1001").
        self.assertEqual(invite.get("From"), f'"Ann \\"Lab\\" A" <sip:1001@127.0.0.1>;tag=f{A}')
        self.assertEqual(invite.all("Remote-Party-ID"),
                         ['"Ann \\"Lab\\" A" <sip:1001@127.0.0.1;x-cisco-callback-number=1001>;party=calling;screen=yes;privacy=off'])

    def basic_call(self, a_transport, b_transport):
        a, b = self.phones(a_transport, b_transport)
        a.invite("1002", f"call-{a_transport}-{b_transport}@127.0.0.1")
        self.assertEqual(a.expect(100).status, 100)
        invite = b.expect("INVITE")
        self.assert_forwarded_invite(invite, b, a_transport)
        b.answer(invite, 180, "Ringing", tag="b1")
        ringing = a.expect(180)
        self.assertEqual(len(ringing.all("Via")), 1)  # labcm's own Via taken off
        b.answer(invite, 200, "OK", tag="b1", sdp=True)
        ok = a.expect(200)
        self.assertEqual(ok.get("CSeq"), "101 INVITE")
        self.assertIn("tag=b1", ok.get("To"))
        self.assertEqual(uri_of(ok.get("Contact")), b.contact_uri)
        route = list(reversed(ok.all("Record-Route")))  # the caller uses the Record-Route in reverse
        self.assertTrue(route)
        # ACK and BYE inside the dialog go through labcm to the other phone.
        call_id = ok.get("Call-ID")
        a.in_dialog("ACK", b.contact_uri, route, ok.get("From"), ok.get("To"), call_id, 101, "ack1")
        ack = b.expect("ACK")
        self.assertEqual(ack.uri, b.contact_uri)
        self.assertRegex(self.ok("calls"), rf"^1001 \(SEP{A}\) -> 1002 \(SEP{B}\) for \d+ s")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn("labcm_sip_calls_active 1", metrics)
        self.assertIn("labcm_sip_calls_answered_total 1", metrics)
        self.assertEqual(ack.source, ("127.0.0.1", self.sip_port))
        self.assertFalse([r for r in ack.all("Route") if str(self.sip_port) in r], "labcm's own Route is popped")
        # The callee hangs up: it routes by the Record-Route as it received it.
        b.in_dialog("BYE", a.contact_uri, invite.all("Record-Route"), invite.get("To") + ";tag=b1", invite.get("From"),
                    call_id, 1, "bye1")
        bye = a.expect("BYE")
        self.assertEqual(bye.uri, a.contact_uri)
        self.assertEqual(bye.source, ("127.0.0.1", self.sip_port))
        a.answer(bye, 200, "OK")
        self.assertEqual(b.expect(200).get("CSeq"), "1 BYE")
        # The call is over: its dialog is gone, a late BYE is refused.
        b.in_dialog("BYE", a.contact_uri, invite.all("Record-Route"), invite.get("To") + ";tag=b1", invite.get("From"),
                    call_id, 2, "bye2")
        self.assertEqual(b.expect(481).get("CSeq"), "2 BYE")
        self.assertEqual(self.ok("calls").strip(), "no calls in progress")
        self.wait_for_log(self.server, f"call 1001 -> 1002 (SEP{B}) ended after")
        self.wait_for_log(self.server, f"call_attempt mac={A} ip=127.0.0.1: 1001 (SEP{A}) calls 1002: ringing SEP{B}: "
                                       f"answered 200 by SEP{B}")

    def test_a_call_over_udp_is_answered_and_hung_up_by_the_callee(self):
        self.basic_call("udp", "udp")

    def test_a_call_over_tcp_is_answered_and_hung_up_by_the_callee(self):
        self.basic_call("tcp", "tcp")

    def test_a_call_from_tcp_to_udp_records_a_route_for_each_side(self):
        self.basic_call("tcp", "udp")

    def test_hold_and_resume_re_invites_go_through_labcm(self):
        a, b = self.phones()
        a.invite("1002", "call-hold@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 200, "OK", tag="b5", sdp=True)
        ok = a.expect(200)
        route = list(reversed(ok.all("Record-Route")))
        a.in_dialog("ACK", b.contact_uri, route, ok.get("From"), ok.get("To"), ok.get("Call-ID"), 101, "ack5")
        b.expect("ACK")
        for cseq, direction in ((102, "sendonly"), (103, "sendrecv")):  # hold, then resume
            sdp = Phone.SDP + f"a={direction}\r\n"
            a.send("\r\n".join([
                f"INVITE {b.contact_uri} SIP/2.0", a.via(f"re{cseq}"), *(f"Route: {r}" for r in route),
                f"From: {ok.get('From')}", f"To: {ok.get('To')}", f"Call-ID: {ok.get('Call-ID')}", f"CSeq: {cseq} INVITE",
                "Max-Forwards: 70", f"Contact: {a.contact}", "Content-Type: application/sdp", f"Content-Length: {len(sdp)}",
                "", sdp]))
            reinvite = b.expect("INVITE")
            self.assertEqual(reinvite.uri, b.contact_uri)
            self.assertIn(f"a={direction}", reinvite.body)
            b.answer(reinvite, 200, "OK", sdp=True)
            self.assertEqual(a.expect(200).get("CSeq"), f"{cseq} INVITE")
            a.in_dialog("ACK", b.contact_uri, route, ok.get("From"), ok.get("To"), ok.get("Call-ID"), cseq, f"ack{cseq}")
            self.assertEqual(b.expect("ACK").get("CSeq"), f"{cseq} ACK")

    def test_a_transfer_refer_and_its_notify_go_through_labcm_and_the_transferee_calls_the_target(self):
        """Blind transfer the way a phone does it inside the call: B REFERs A to 1003; labcm
        carries the REFER and A's NOTIFY; A's INVITE to 1003 is an ordinary call."""
        a, b = self.phones()
        c = Phone(self, C, "1003")
        c.register()
        a.invite("1002", "call-xfer@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 200, "OK", tag="b7", sdp=True)
        ok = a.expect(200)
        route = list(reversed(ok.all("Record-Route")))
        a.in_dialog("ACK", b.contact_uri, route, ok.get("From"), ok.get("To"), ok.get("Call-ID"), 101, "ack7")
        b.expect("ACK")
        # B (the transferor) REFERs A along the route it got in the INVITE.
        b.in_dialog("REFER", a.contact_uri, invite.all("Record-Route"), invite.get("To") + ";tag=b7", invite.get("From"),
                    "call-xfer@127.0.0.1", 2, "refer7",
                    extra=("Refer-To: <sip:1003@127.0.0.1>", f"Referred-By: <sip:1002@127.0.0.1>", f"Contact: {b.contact}"))
        refer = a.expect("REFER")
        self.assertEqual(refer.uri, a.contact_uri)
        self.assertEqual(refer.source, ("127.0.0.1", self.sip_port))
        self.assertEqual(refer.get("Refer-To"), "<sip:1003@127.0.0.1>")
        a.answer(refer, 202, "Accepted")
        self.assertEqual(b.expect(202).get("CSeq"), "2 REFER")
        a.in_dialog("NOTIFY", b.contact_uri, route, ok.get("From"), ok.get("To"), "call-xfer@127.0.0.1", 102, "notify7",
                    extra=("Event: refer", "Subscription-State: active;expires=60"))
        sipfrag = b.expect("NOTIFY")
        self.assertEqual(sipfrag.get("Event"), "refer")
        b.answer(sipfrag, 200, "OK")
        self.assertEqual(a.expect(200).get("CSeq"), "102 NOTIFY")
        # A calls the target: an ordinary call through labcm.
        a.invite("1003", "call-xfer-2@127.0.0.1", branch="inv7")
        target = c.expect("INVITE")
        self.assertEqual(target.uri, c.contact_uri)
        self.assertIn("1001@127.0.0.1", target.get("From"))

    def test_the_caller_cancels_before_the_answer(self):
        a, b = self.phones()
        a.invite("1002", "call-cancel@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 180, "Ringing", tag="b2")
        a.expect(180)
        a.cancel()
        self.assertEqual(a.expect(200).get("CSeq"), "101 CANCEL")
        self.assertEqual(a.expect(487).get("CSeq"), "101 INVITE")
        cancel = b.expect("CANCEL")
        self.assertEqual(cancel.uri, b.contact_uri)
        b.answer(cancel, 200, "OK")
        b.answer(invite, 487, "Request Terminated", tag="b2")
        self.assertEqual(b.expect("ACK").get("CSeq"), "101 ACK")  # labcm acknowledges the 487 hop by hop
        self.wait_for_log(self.server, "cancelled by the caller")

    def test_an_answer_that_crosses_the_cancel_still_reaches_the_caller(self):
        self.answer_crossing_the_cancel("udp")

    def test_an_answer_that_crosses_the_cancel_over_tcp_still_reaches_the_caller(self):
        # Over TCP sofia ends the INVITE's transaction once the CANCEL is out: the 200 comes
        # with none (cancelBranch, finishCancelled).
        self.answer_crossing_the_cancel("tcp")

    def answer_crossing_the_cancel(self, transport):
        a, b = self.phones(transport, transport)
        a.invite("1002", "call-crossed@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 180, "Ringing", tag="b6")  # a CANCEL follows a provisional answer only
        a.expect(180)
        a.cancel()
        self.assertEqual(a.expect(487).get("CSeq"), "101 INVITE")
        cancel = b.expect("CANCEL")
        b.answer(invite, 200, "OK", tag="b6", sdp=True)  # answered before it saw the CANCEL
        b.answer(cancel, 200, "OK")
        ok = a.expect(200)
        self.assertEqual(ok.get("CSeq"), "101 INVITE")  # RFC 3261 16.7: every 2xx is forwarded
        route = list(reversed(ok.all("Record-Route")))
        a.in_dialog("ACK", b.contact_uri, route, ok.get("From"), ok.get("To"), ok.get("Call-ID"), 101, "ack6")
        self.assertEqual(b.expect("ACK").get("CSeq"), "101 ACK")
        a.in_dialog("BYE", b.contact_uri, route, ok.get("From"), ok.get("To"), ok.get("Call-ID"), 102, "bye6")
        bye = b.expect("BYE")
        b.answer(bye, 200, "OK")
        self.assertEqual(a.expect(200).get("CSeq"), "102 BYE")

    def test_a_busy_phone_s_486_reaches_the_caller(self):
        a, b = self.phones()
        a.invite("1002", "call-busy@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 486, "Busy Here", tag="b3")
        self.assertEqual(b.expect("ACK").get("CSeq"), "101 ACK")
        busy = a.expect(486)
        self.assertEqual(len(busy.all("Via")), 1)
        self.wait_for_log(self.server, f"calls 1002: ringing SEP{B}: answered 486")

    def test_a_shared_line_rings_every_phone_and_the_answer_cancels_the_others(self):
        a, b = self.phones()
        c = Phone(self, C, "1003")
        c.register()
        a.invite("1500", "call-shared@127.0.0.1")
        at_b, at_c = b.expect("INVITE"), c.expect("INVITE")
        self.assertEqual(at_b.uri, b.contact_uri)
        self.assertEqual(at_c.uri, c.contact_uri)
        b.answer(at_b, 180, "Ringing", tag="b4")
        c.answer(at_c, 180, "Ringing", tag="c4")
        c.answer(at_c, 200, "OK", tag="c4", sdp=True)
        self.assertIn("tag=c4", a.expect(200).get("To"))
        cancel = b.expect("CANCEL")
        self.assertIn("Call completed elsewhere", cancel.get("Reason"))
        b.answer(cancel, 200, "OK")
        b.answer(at_b, 487, "Request Terminated", tag="b4")
        self.assertEqual(b.expect("ACK").get("CSeq"), "101 ACK")
        self.wait_for_log(self.server, f"answered 200 by SEP{C}")

    def test_a_second_answer_of_a_shared_line_does_not_take_the_call_from_the_first(self):
        # Over TCP, where the second phone's 200 crosses labcm's CANCEL with no transaction left.
        a, b = self.phones("tcp", "tcp")
        c = Phone(self, C, "1003", "tcp")
        c.register()
        a.invite("1500", "call-twice@127.0.0.1")
        at_b, at_c = b.expect("INVITE"), c.expect("INVITE")
        b.answer(at_b, 180, "Ringing", tag="b7")
        c.answer(at_c, 180, "Ringing", tag="c7")
        b.answer(at_b, 200, "OK", tag="b7", sdp=True)
        first = a.expect(200)
        self.assertIn("tag=b7", first.get("To"))
        cancel = c.expect("CANCEL")
        c.answer(at_c, 200, "OK", tag="c7", sdp=True)  # answered before it saw the CANCEL
        c.answer(cancel, 200, "OK")
        self.assertIn("tag=c7", a.expect(200).get("To"))  # every 2xx reaches the caller (RFC 3261 16.7)
        self.assertRegex(self.ok("calls"), rf"^1001 \(SEP{A}\) -> 1500 \(SEP{B}\)")  # still B's call
        route = list(reversed(first.all("Record-Route")))
        a.in_dialog("ACK", b.contact_uri, route, first.get("From"), first.get("To"), "call-twice@127.0.0.1", 101, "ack7")
        b.expect("ACK")
        a.in_dialog("BYE", b.contact_uri, route, first.get("From"), first.get("To"), "call-twice@127.0.0.1", 102, "bye7")
        b.answer(b.expect("BYE"), 200, "OK")
        self.assertEqual(a.expect(200).get("CSeq"), "102 BYE")
        self.wait_for_log(self.server, f"call 1001 -> 1500 (SEP{B}) ended after")

    def expect_mwi(self, phone, uri, waiting, counts):
        notify = phone.expect("NOTIFY")
        self.assertEqual(notify.uri, uri)  # the line's name picks the line on the phone
        self.assertEqual(notify.source, ("127.0.0.1", self.sip_port))
        self.assertEqual(notify.get("Event"), "message-summary")
        self.assertIn(";tag=", notify.get("From"))
        self.assertEqual(notify.get("Content-Type"), "application/simple-message-summary")
        self.assertIn(f"Messages-Waiting: {waiting}\r\n", notify.body)
        self.assertIn(f"Voice-Message: {counts}\r\n", notify.body)
        phone.answer(notify, 200, "OK")
        return notify

    def test_message_waiting_follows_each_line_s_mailbox(self):
        self.ok("mailbox", "set", "1500", "3", "--old", "1")  # before the phone registers
        b = Phone(self, B, "1002")
        b.register()
        # At registration: the line with a mailbox (line 2, so its DN at the phone's address).
        self.expect_mwi(b, f"sip:1500@127.0.0.1:{b.port};transport=udp", "yes", "3/1")
        # A change: line 1 gets it at the registered Contact.
        self.ok("mailbox", "set", "1002", "2")
        self.expect_mwi(b, b.contact_uri, "yes", "2/0")
        self.wait_for_log(self.server, f"message_waiting mac={B} ip=-: message waiting on 1002 (2 new, 0 old): NOTIFY answered 200 OK")
        self.assertIn("1002", self.ok("mailbox", "list"))
        # Removed: the lamp goes off.
        self.ok("mailbox", "rm", "1500")
        self.expect_mwi(b, f"sip:1500@127.0.0.1:{b.port};transport=udp", "no", "0/0")
        self.assertIn("9999", self.fails("mailbox", "set", "1002", "10000"))
        self.assertIn("does not exist", self.fails("mailbox", "rm", "1500"))

    def expect_lamp(self, watcher, state):
        """The next presence NOTIFY for 1002 on the watcher's BLF key, answered; its state."""
        notify = watcher.expect("NOTIFY")
        self.assertEqual(notify.uri, watcher.contact_uri)
        self.assertEqual(notify.source, ("127.0.0.1", self.sip_port))
        self.assertEqual(notify.get("Event"), "presence")
        self.assertEqual(notify.get("Content-Type"), "application/pidf+xml")
        self.assertIn('entity="sip:1002@127.0.0.1"', notify.body)
        basic = "closed" if state == "unregistered" else "open"
        self.assertIn(f"<tuple id=\"1002\"><status><basic>{basic}</basic></status></tuple>", notify.body)
        activities = {"unregistered": "", "idle": "", "ringing": "<ce:alerting/>", "busy": "<e:on-the-phone/><e:busy/>"}[state]
        self.assertIn(f"<e:activities>{activities}</e:activities>", notify.body)
        watcher.answer(notify, 200, "OK")
        return notify

    def test_a_blf_lamp_follows_the_watched_number(self):
        self.ok("speeddial", "add", f"SEP{A}", "1002", "--label", "Bob", "--blf")
        a = Phone(self, A, "1001")
        a.register()
        first = self.expect_lamp(a, "unregistered")  # B has not registered yet
        b = Phone(self, B, "1002")
        b.register()
        self.expect_lamp(a, "idle")
        c = Phone(self, C, "1003")
        c.register()
        c.invite("1002", "blf-call@127.0.0.1")
        invite = b.expect("INVITE")
        self.expect_lamp(a, "ringing")
        b.answer(invite, 200, "OK", tag="b1", sdp=True)
        ok = c.expect(200)
        self.expect_lamp(a, "busy")
        route = list(reversed(ok.all("Record-Route")))
        c.in_dialog("ACK", b.contact_uri, route, ok.get("From"), ok.get("To"), "blf-call@127.0.0.1", 101, "ack1")
        b.expect("ACK")
        c.in_dialog("BYE", b.contact_uri, route, ok.get("From"), ok.get("To"), "blf-call@127.0.0.1", 102, "bye1")
        bye = b.expect("BYE")
        b.answer(bye, 200, "OK")
        c.expect(200)
        last = self.expect_lamp(a, "idle")
        # One Call-ID per lamp, the CSeq rising (CUCM's shape).
        self.assertEqual(last.get("Call-ID"), first.get("Call-ID"))
        self.assertEqual(last.get("CSeq"), "5 NOTIFY")

    def subscribe(self, phone, target, cseq, expires=600, event="presence", call_id="sub-1@127.0.0.1"):
        phone.send("\r\n".join([
            f"SUBSCRIBE sip:{target}@127.0.0.1 SIP/2.0", phone.via(f"sub{cseq}"),
            f"From: <sip:{phone.dn}@127.0.0.1>;tag=s{phone.mac}", f"To: <sip:{target}@127.0.0.1>",
            f"Call-ID: {call_id}", f"CSeq: {cseq} SUBSCRIBE", "Max-Forwards: 70", f"Contact: {phone.contact}",
            f"Event: {event}", "Accept: application/pidf+xml", f"Expires: {expires}", "Content-Length: 0", "", ""]))

    def test_a_phone_that_subscribes_gets_the_number_s_state_in_its_subscription(self):
        c = Phone(self, C, "1003")  # no BLF key of its own: it asks
        c.register()
        self.subscribe(c, "1002", 1)
        ok = c.expect(200)
        self.assertEqual(ok.get("Expires"), "600")
        tag = re.search(r"tag=([^;>\s]+)", ok.get("To")).group(1)
        notify = c.expect("NOTIFY")
        self.assertEqual(notify.uri, c.contact_uri)
        self.assertEqual(notify.get("Call-ID"), "sub-1@127.0.0.1")  # inside the subscription's dialog
        self.assertIn(f"tag={tag}", notify.get("From"))
        self.assertIn(f"tag=s{C}", notify.get("To"))
        self.assertRegex(notify.get("Subscription-State"), r"^active;expires=(600|59\d)$")
        self.assertIn("<basic>closed</basic>", notify.body)  # 1002 is not registered
        c.answer(notify, 200, "OK")
        Phone(self, B, "1002").register()
        notify = c.expect("NOTIFY")
        self.assertEqual(notify.get("Call-ID"), "sub-1@127.0.0.1")
        self.assertIn("<basic>open</basic>", notify.body)
        c.answer(notify, 200, "OK")
        # Unsubscribe: 200, a last NOTIFY that says so.
        self.subscribe(c, "1002", 2, expires=0)
        self.assertEqual(c.expect(200).get("Expires"), "0")
        notify = c.expect("NOTIFY")
        self.assertTrue(notify.get("Subscription-State").startswith("terminated"))
        c.answer(notify, 200, "OK")
        # What is refused: another event, a number no phone has, a phone that is not registered.
        self.subscribe(c, "1002", 3, event="dialog", call_id="sub-2@127.0.0.1")
        self.assertEqual(c.expect(489).get("CSeq"), "3 SUBSCRIBE")
        self.subscribe(c, "4444", 4, call_id="sub-3@127.0.0.1")
        self.assertEqual(c.expect(404).get("CSeq"), "4 SUBSCRIBE")
        stranger = Phone(self, A, "1001")  # configured, never registered
        self.subscribe(stranger, "1002", 5, call_id="sub-4@127.0.0.1")
        self.assertEqual(stranger.expect(403).get("CSeq"), "5 SUBSCRIBE")
        # Nor does it learn which numbers exist: 403 before any 404.
        self.subscribe(stranger, "4444", 6, call_id="sub-5@127.0.0.1")
        self.assertEqual(stranger.expect(403).get("CSeq"), "6 SUBSCRIBE")

    def assert_nothing_more(self, phone):
        """Nothing else arrives (the NOTIFYs labcm would send went out with the one just seen)."""
        with self.assertRaises(TimeoutError):
            extra = phone.recv(0.5)
            self.fail(f"unexpected: {extra.raw.splitlines()[0]}")

    def test_a_notify_answered_481_ends_the_subscription(self):
        self.ok("speeddial", "add", f"SEP{A}", "1002", "--blf")  # A watches too: when its lamp arrives, C's would have
        a = Phone(self, A, "1001")
        a.register()
        self.expect_lamp(a, "unregistered")
        c = Phone(self, C, "1003")  # no BLF key: it asks
        c.register()
        self.subscribe(c, "1002", 1)
        c.expect(200)
        c.answer(c.expect("NOTIFY"), 481, "Call/Transaction Does Not Exist")
        self.wait_for_log(self.server, "the BLF lamp NOTIFY for 1002 was answered 481")
        Phone(self, B, "1002").register()
        self.expect_lamp(a, "idle")
        self.assert_nothing_more(c)

    def test_lamps_follow_devices_added_changed_and_deleted(self):
        a = Phone(self, A, "1001")
        a.register()
        b = Phone(self, B, "1002")
        b.register()
        self.ok("speeddial", "add", f"SEP{A}", "1002", "--blf")  # a new BLF key lights at once
        self.expect_lamp(a, "idle")
        self.ok("device", "rm", f"SEP{B}")  # its number is gone with it
        self.expect_lamp(a, "unregistered")

    def test_a_phone_cannot_subscribe_to_more_numbers_than_the_cap(self):
        rows = ["mac,model,description,load,transport,line1_dn"] + [
            f"0011220F{i:04X},8845,,,udp,{5000 + i}" for i in range(257)]
        self.ok("import", self.write_file("many.csv", "\n".join(rows) + "\n"))
        c = Phone(self, C, "1003")
        c.register()
        for i in range(256):  # the cap (limits::kSipMaxSubscriptionsPerPhone)
            self.subscribe(c, str(5000 + i), i + 1, call_id=f"cap-{i}@127.0.0.1")
            self.assertEqual(c.expect(200).get("CSeq"), f"{i + 1} SUBSCRIBE")
            c.answer(c.expect("NOTIFY"), 200, "OK")
        self.subscribe(c, "5256", 300, call_id="cap-256@127.0.0.1")
        refused = c.expect(403)
        self.assertEqual(refused.get("CSeq"), "300 SUBSCRIBE")
        self.wait_for_log(self.server, "SUBSCRIBE to 5256 refused: 256 subscriptions already")
        self.subscribe(c, "5000", 301, call_id="cap-0@127.0.0.1")  # renewing one it holds is fine
        self.assertEqual(c.expect(200).get("CSeq"), "301 SUBSCRIBE")

    def test_a_blf_lamp_stops_ringing_when_the_caller_cancels(self):
        self.ok("speeddial", "add", f"SEP{A}", "1002", "--blf")
        a = Phone(self, A, "1001")
        a.register()
        self.expect_lamp(a, "unregistered")
        b = Phone(self, B, "1002")
        b.register()
        self.expect_lamp(a, "idle")
        c = Phone(self, C, "1003")
        c.register()
        c.invite("1002", "blf-cancel@127.0.0.1")
        b.expect("INVITE")
        self.expect_lamp(a, "ringing")
        c.cancel()
        self.expect_lamp(a, "idle")

    def test_a_request_inside_a_call_never_reaches_a_phone_outside_it(self):
        a, b = self.phones()
        c = Phone(self, C, "1003")
        c.register()
        a.invite("1002", "call-outside@127.0.0.1")
        invite = b.expect("INVITE")
        b.answer(invite, 200, "OK", tag="b9", sdp=True)
        ok = a.expect(200)
        route = list(reversed(ok.all("Record-Route")))
        # A knows its own Call-ID; aimed at C's Contact, its request is refused, C gets nothing.
        a.in_dialog("INFO", c.contact_uri, route, ok.get("From"), ok.get("To"), "call-outside@127.0.0.1", 102, "info9")
        self.assertEqual(a.expect(404).get("CSeq"), "102 INFO")
        with self.assertRaises(TimeoutError):
            c.recv(1)

    def test_a_softkey_labcm_does_not_carry_is_declined_at_once(self):
        a, _ = self.phones()
        body = ("<x-cisco-remotecc-request><softkeyeventmsg><softkeyevent>Conference</softkeyevent>"
                "<dialogid><callid>c1@127.0.0.1</callid><localtag>l</localtag><remotetag>r</remotetag></dialogid>"
                "</softkeyeventmsg></x-cisco-remotecc-request>")
        a.send("\r\n".join([
            "REFER sip:127.0.0.1 SIP/2.0", a.via("refer1"), "From: <sip:1001@127.0.0.1>;tag=rf", "To: <sip:127.0.0.1>",
            "Call-ID: refer-conf@127.0.0.1", "CSeq: 1000 REFER", "Max-Forwards: 70", f"Contact: {a.contact}",
            "Refer-To: cid:1234@127.0.0.1", "Content-Type: application/x-cisco-remotecc-request+xml",
            f"Content-Length: {len(body)}", "", body]))
        self.assertEqual(a.expect(603).get("CSeq"), "1000 REFER")
        self.wait_for_log(self.server, f"call_attempt mac={A} ip=-: softkey Conference refused (603): labcm does not carry it")

    def test_a_request_in_a_dialog_labcm_did_not_set_up_is_refused_and_not_carried(self):
        a, b = self.phones()
        # A stranger's BYE through labcm to a registered phone: 481, the phone gets nothing.
        a.in_dialog("BYE", b.contact_uri, [f"<sip:127.0.0.1:{self.sip_port};lr>"],
                    "<sip:1001@127.0.0.1>;tag=x", "<sip:1002@127.0.0.1>;tag=y", "stray@127.0.0.1", 5, "stray1")
        self.assertEqual(a.expect(481).get("CSeq"), "5 BYE")
        with self.assertRaises(TimeoutError):
            b.recv(seconds=0.5)



def listening(port, proto):
    """Whether a local socket is bound to `port` (UDP) or listens on it (TCP), from /proc/net."""
    with open(f"/proc/net/{proto}") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    # local_address is hex "0100007F:PORT"; a TCP listener's state is 0A.
    return any(r[1].endswith(f":{port:04X}") and (proto == "udp" or r[3] == "0A") for r in rows)


class TrunkCalls(LabcmTestCase):
    """Setting sip_trunk: a number no phone has goes to a SIP URI (here a scripted PBX)."""

    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        self.ok("device", "add", f"SEP{A}", "--model", "8845", "--line", "1001")
        self.pbx = Phone(self, "0011220DFFFF", "9000")  # never registers: the trunk's far end
        self.ok("setting", "set", "sip_trunk", f"sip:127.0.0.1:{self.pbx.port}")
        self.server = self.start_server()

    def test_a_number_no_phone_has_goes_to_the_trunk_and_the_call_goes_on_through_labcm(self):
        a = Phone(self, A, "1001")
        a.register()
        a.invite("9123", "trunk-call@127.0.0.1")
        invite = self.pbx.expect("INVITE")
        self.assertEqual(invite.uri, f"sip:9123@127.0.0.1:{self.pbx.port}")
        self.assertEqual(invite.source, ("127.0.0.1", self.sip_port))
        self.assertEqual(invite.all("Record-Route"), [f"<sip:127.0.0.1:{self.sip_port};transport=udp;lr>"])
        self.pbx.answer(invite, 200, "OK", tag="pbx1", sdp=True)
        ok = a.expect(200)
        self.assertEqual(uri_of(ok.get("Contact")), self.pbx.contact_uri)
        self.assertRegex(self.ok("calls"), r"^1001 \(SEP0011220D0001\) -> 9123 \(trunk\)")
        route = list(reversed(ok.all("Record-Route")))
        a.in_dialog("ACK", self.pbx.contact_uri, route, ok.get("From"), ok.get("To"), "trunk-call@127.0.0.1", 101, "ack1")
        self.assertEqual(self.pbx.expect("ACK").source, ("127.0.0.1", self.sip_port))
        # Whatever the Request-URI names, a request of the call goes to the trunk's address.
        a.in_dialog("INFO", "sip:someone@127.0.0.2:5060", route, ok.get("From"), ok.get("To"), "trunk-call@127.0.0.1", 102, "info1")
        info = self.pbx.expect("INFO")
        self.assertEqual(info.uri, "sip:someone@127.0.0.2:5060")
        self.pbx.answer(info, 200, "OK")
        self.assertEqual(a.expect(200).get("CSeq"), "102 INFO")
        a.in_dialog("BYE", self.pbx.contact_uri, route, ok.get("From"), ok.get("To"), "trunk-call@127.0.0.1", 103, "bye1")
        bye = self.pbx.expect("BYE")
        self.assertEqual(bye.uri, self.pbx.contact_uri)
        self.pbx.answer(bye, 200, "OK")
        self.assertEqual(a.expect(200).get("CSeq"), "103 BYE")
        self.wait_for_log(self.server, "call 1001 -> 9123 (the trunk) ended after")
        self.assertIn("is not sip:host", self.fails("setting", "set", "sip_trunk", "pbx.lab"))


SIPP_TRANSPORT = {"u1": "udp", "t1": "tcp"}  # sipp's -t: the transport labcm names


def sipp_trace(path):
    """The SIP messages of a sipp message trace (-trace_msg), in order: ("sent" or "received", Message)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as f:  # the messages' CRLFs kept
        text = f.read()
    out = []
    for entry in re.split(r"(?m)^-{47} .*\n", text)[1:]:
        m = re.match(r"(?:UDP|TCP) message (sent|received)[^\n]*\n\n", entry)
        if not m:
            continue  # one of sipp's own notes
        head, _, rest = entry[m.end():].partition("\r\n\r\n")
        length = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        out.append((m.group(1), Message(head + "\r\n\r\n" + rest[:int(length.group(1)) if length else 0])))
    return out


@unittest.skipUnless(shutil.which("sipp"), "needs sipp (Debian sip-tester)")
class SippCalls(LabcmTestCase):
    """The calls of class Calls with sipp (Debian sip-tester) as the phones, over UDP (u1) and
    TCP (t1): a second, independent client that follows labcm's Record-Route by itself
    ([routes], [next_url]). Each scenario (sipp/*.xml) checks on the wire what it can (ereg
    check_it: a failed check fails sipp); the test then reads what each sipp received from its
    message trace and asserts the exact Request-URI, Via and Record-Route labcm sent. The trace
    does not name a message's sender: a request is from labcm by labcm's Via on top and, at a
    phone whose scenario starts by receiving, by its answers reaching labcm's transaction
    (sipp sends them where the request came from: over UDP its source address, over TCP the
    connection labcm opened).

    A phone that answers runs a scenario that starts by receiving, so it registers first: over
    UDP sipp itself (call_register.xml) on the port its answering scenario then takes; over TCP
    a sipp that listens cannot, so a scripted phone registers sipp's Contact and closes its
    connection, and labcm connects to the Contact."""

    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        self.ok("device", "add", f"SEP{A}", "--model", "8845", "--line", "1001")
        self.ok("line", "edit", f"SEP{A}", "1", "--display-name", 'Ann "Lab" A')
        self.ok("device", "add", f"SEP{B}", "--model", "8845", "--line", "1002", "--line", "1500")
        self.ok("device", "add", f"SEP{C}", "--model", "8845", "--line", "1003", "--line", "1500")
        self.ok("device", "add", f"SEP{D}", "--model", "8845", "--line", "1004")
        self.ok("speeddial", "add", f"SEP{D}", "1002", "--label", "Bob", "--blf")  # registers in the BLF tests only
        self.server = self.start_server()
        self.sipp_runs = 0

    # --- sipp as a phone -----------------------------------------------------------------
    def sipp(self, scenario, transport, port, mac, dn, *extra, calls=1):
        """Starts sipp as the phone SEP<mac> (line dn) on 127.0.0.1:port for `calls` calls."""
        n = self.sipp_runs
        self.sipp_runs += 1
        err, msg = (os.path.join(self.dir, f"sipp-{n}-{scenario[:-4]}.{x}") for x in ("err", "msg"))
        args = ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", os.path.join(HERE, "sipp", scenario), "-m", str(calls),
                "-t", transport, "-i", "127.0.0.1", "-p", str(port), "-key", "mac", mac, "-key", "dn", dn, *extra,
                "-timeout", "30s", "-timeout_error", "-trace_err", "-error_file", err, "-trace_msg", "-message_file", msg]
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=self.dir)
        p.scenario, p.transport, p.port, p.mac, p.dn, p.files = scenario, transport, port, mac, dn, (err, msg)
        # The Contact the phone registers and puts in its messages (sipp's [transport] is upper case).
        p.contact = f"sip:uuid-{mac}@127.0.0.1:{port};transport={SIPP_TRANSPORT[transport].upper()}"
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait(timeout=10)))
        return p

    def finish(self, p):
        """Waits until sipp ends, which must be a pass (every call, every check); reads its
        message trace into p.trace. Returns p."""
        rc = p.wait(timeout=60)
        errors = ""
        if os.path.exists(p.files[0]):
            with open(p.files[0], errors="replace") as f:
                errors = f.read()
        self.assertEqual(rc, 0, f"sipp {p.scenario} failed (exit {rc}):\n{errors[-3000:]}")
        p.trace = sipp_trace(p.files[1])
        return p

    def sipp_port(self, transport):
        return self.free_port(socket.SOCK_DGRAM if transport == "u1" else socket.SOCK_STREAM)

    def caller(self, scenario, transport, mac, dn, to, *extra):
        """A calling phone: its scenario registers it over its own socket, then calls `to`."""
        return self.sipp(scenario, transport, self.sipp_port(transport), mac, dn, "-key", "to", to, *extra)

    def listen(self, scenario, transport, port, mac, dn, *extra, calls=1):
        """sipp running a scenario that starts by receiving, once it listens (what labcm sends
        before that is lost: over UDP an ICMP unreachable)."""
        p = self.sipp(scenario, transport, port, mac, dn, *extra, calls=calls)
        self.wait_for(lambda: listening(port, SIPP_TRANSPORT[transport]), f"sipp {scenario} to listen on {port}")
        return p

    def answering(self, scenario, transport, mac, dn, *extra, calls=1):
        """A phone that answers: registered, its scenario listening at its Contact."""
        port = self.sipp_port(transport)
        if transport == "u1":
            self.finish(self.sipp("call_register.xml", transport, port, mac, dn))
            return self.listen(scenario, transport, port, mac, dn, *extra, calls=calls)
        p = self.listen(scenario, transport, port, mac, dn, *extra, calls=calls)
        self.close_registration(self.register_contact(p))
        return p

    def register_contact(self, p):
        """A scripted phone registers p's device with p's Contact (sipp's listening port) from a
        socket of its own, over p's transport. Returns that phone: over TCP, what labcm sends
        the device at once (a lamp) comes over this phone's connection."""
        phone = Phone(self, p.mac, p.dn, SIPP_TRANSPORT[p.transport])
        phone.contact_uri = p.contact
        phone.contact = f'<{p.contact}>;+u.sip!devicename.ccm.cisco.com="SEP{p.mac}"'
        phone.register()
        return phone

    def close_registration(self, phone):
        """Closes the scripted phone's TCP connection and waits until labcm has closed its end:
        from then on labcm reaches the device at its Contact, over a connection of its own."""
        phone.sock.shutdown(socket.SHUT_WR)
        phone.sock.settimeout(10)
        try:
            rest = phone.sock.recv(65536)
        except ConnectionResetError:
            rest = b""
        except TimeoutError:
            self.fail("labcm did not close its end of a connection the phone closed, in 10 s")
        self.assertEqual(rest, b"", "labcm sent more over the registering connection")
        phone.sock.close()

    # --- what a sipp received ------------------------------------------------------------
    def received(self, p, what, method=None):
        """The messages sipp p received that are `what` (a method or a status; `method`: of a
        response, its CSeq method), in order, retransmissions left out."""
        out, seen = [], set()
        for direction, m in p.trace:
            if direction != "received" or (m.method != what and m.status != what):
                continue
            if method and not (m.get("CSeq") or "").endswith(f" {method}"):
                continue
            key = (m.start, m.get("CSeq"), m.get("Via"), m.get("Call-ID"))
            if key not in seen:
                seen.add(key)
                out.append(m)
        self.assertTrue(out, f"sipp {p.scenario} received no {what} {method or ''}")
        return out

    def final_answers(self, p):
        """The statuses of the final answers the caller p got to its INVITE."""
        return sorted({m.status for d, m in p.trace
                       if d == "received" and m.status and m.status >= 200 and m.get("CSeq") == "101 INVITE"})

    def assert_487_acknowledged(self, callee):
        """labcm ACKs the 487 of a branch it cancelled, hop by hop (RFC 3261 17.1.1.3), over TCP
        too, where sofia ends the INVITE's transaction once the CANCEL is out (cancelBranch)."""
        acks = self.received(callee, "ACK")
        self.assertTrue(acks, f"no ACK for the 487 over {callee.transport}")
        ack = acks[0]
        self.assert_from_labcm(ack, callee, hops=1)
        self.assertEqual(ack.get("CSeq"), "101 ACK")

    def labcm_rr(self, transport):
        return f"<sip:127.0.0.1:{self.sip_port};transport={SIPP_TRANSPORT[transport]};lr>"

    def assert_from_labcm(self, request, p, hops=2):
        """A request labcm sent phone p (relayed, or its own when hops is 1): at p's Contact,
        labcm's Via on top (over p's transport) of hops - 1 others, labcm's own Route taken off."""
        self.assertEqual(request.uri, p.contact)
        vias = [v.strip() for h in request.all("Via") for v in h.split(",")]
        self.assertEqual(len(vias), hops, vias)
        self.assertTrue(vias[0].startswith(f"SIP/2.0/{SIPP_TRANSPORT[p.transport].upper()} 127.0.0.1:{self.sip_port};branch="),
                        vias[0])
        self.assertFalse([r for r in request.all("Route") if f":{self.sip_port};" in r], "labcm's own Route is popped")

    def assert_call_invite(self, invite, callee, transport):
        """The INVITE of A's call as the called phone got it: from labcm at its Contact, labcm's
        one Record-Route, Max-Forwards one less, A's line as stored (not sipp's "Desk 1001")."""
        self.assert_from_labcm(invite, callee)
        self.assertEqual(invite.all("Record-Route"), [self.labcm_rr(transport)])
        self.assertEqual(invite.get("Max-Forwards"), "69")
        self.assertEqual(invite.get("CSeq"), "101 INVITE")
        self.assertTrue(invite.get("From").startswith('"Ann \\"Lab\\" A" <sip:1001@127.0.0.1>;tag='), invite.get("From"))

    def assert_answer(self, ok, callee, transport):
        """The 200 to the INVITE as the caller got it: labcm's Via off, the callee's Contact,
        labcm's Record-Route."""
        self.assertEqual(len(ok.all("Via")), 1)
        self.assertEqual(uri_of(ok.get("Contact")), callee.contact)
        self.assertEqual(ok.all("Record-Route"), [self.labcm_rr(transport)])

    # --- the calls -------------------------------------------------------------------------
    def call(self, transport):
        """The caller hangs up."""
        b = self.answering("call_answer.xml", transport, B, "1002")
        a = self.finish(self.caller("call_place.xml", transport, A, "1001", "1002"))
        self.finish(b)
        self.assert_call_invite(self.received(b, "INVITE")[0], b, transport)
        self.assert_answer(self.received(a, 200, "INVITE")[0], b, transport)
        self.assertEqual(self.received(b, "ACK")[0].get("CSeq"), "101 ACK")
        self.assert_from_labcm(self.received(b, "ACK")[0], b)
        self.assert_from_labcm(self.received(b, "BYE")[0], b)
        self.assertEqual(self.received(a, 200, "BYE")[0].get("CSeq"), "102 BYE")
        self.wait_for_log(self.server, f"1001 (SEP{A}) calls 1002: ringing SEP{B}: answered 200 by SEP{B}")
        self.wait_for_log(self.server, f"call 1001 -> 1002 (SEP{B}) ended after")
        self.assertEqual(self.ok("calls").strip(), "no calls in progress")

    def test_sipp_phones_call_over_udp(self):
        self.call("u1")

    def test_sipp_phones_call_over_tcp(self):
        self.call("t1")

    def callee_hangs_up(self, transport):
        b = self.answering("call_answer_hang_up.xml", transport, B, "1002")
        a = self.finish(self.caller("call_place_hung_up.xml", transport, A, "1001", "1002"))
        self.finish(b)
        self.assert_call_invite(self.received(b, "INVITE")[0], b, transport)
        self.assert_answer(self.received(a, 200, "INVITE")[0], b, transport)
        self.assert_from_labcm(self.received(b, "ACK")[0], b)
        bye = self.received(a, "BYE")[0]  # the callee's, along the Record-Route
        self.assert_from_labcm(bye, a)
        self.assertEqual(bye.get("CSeq"), "1 BYE")
        self.assertEqual(self.received(b, 200, "BYE")[0].get("CSeq"), "1 BYE")
        self.wait_for_log(self.server, f"call 1001 -> 1002 (SEP{B}) ended after")
        self.assertEqual(self.ok("calls").strip(), "no calls in progress")

    def test_sipp_callee_hangs_up_over_udp(self):
        self.callee_hangs_up("u1")

    def test_sipp_callee_hangs_up_over_tcp(self):
        self.callee_hangs_up("t1")

    def caller_cancels(self, transport):
        b = self.answering("call_ring_cancelled.xml", transport, B, "1002")
        a = self.finish(self.caller("call_cancel.xml", transport, A, "1001", "1002"))
        self.finish(b)
        invite = self.received(b, "INVITE")[0]
        self.assert_call_invite(invite, b, transport)
        cancel = self.received(b, "CANCEL")[0]  # labcm's own, of its branch: its one Via, the INVITE's branch
        self.assert_from_labcm(cancel, b, hops=1)
        self.assertEqual(cancel.get("Via"), invite.all("Via")[0])
        self.assertEqual(cancel.get("CSeq"), "101 CANCEL")
        self.assertIsNone(cancel.get("Reason"))  # not "completed elsewhere": nobody answered
        self.assertEqual(self.received(a, 200, "CANCEL")[0].get("CSeq"), "101 CANCEL")
        self.assertEqual(self.final_answers(a), [487])
        self.wait_for_log(self.server, f"1001 (SEP{A}) calls 1002: ringing SEP{B}: cancelled by the caller")
        self.assertEqual(self.ok("calls").strip(), "no calls in progress")
        self.assert_487_acknowledged(b)

    def test_sipp_caller_cancels_before_the_answer_over_udp(self):
        self.caller_cancels("u1")

    def test_sipp_caller_cancels_before_the_answer_over_tcp(self):
        self.caller_cancels("t1")

    def busy(self, transport):
        b = self.answering("call_busy.xml", transport, B, "1002")
        a = self.finish(self.caller("call_refused.xml", transport, A, "1001", "1002"))
        self.finish(b)
        self.assert_call_invite(self.received(b, "INVITE")[0], b, transport)
        ack = self.received(b, "ACK")[0]
        self.assert_from_labcm(ack, b, hops=1)
        self.assertEqual(ack.get("CSeq"), "101 ACK")
        self.assertEqual(self.final_answers(a), [486])
        busy = self.received(a, 486)[0]
        self.assertEqual(len(busy.all("Via")), 1)  # labcm's own Via taken off
        self.assertIn(f"tag={b.pid}ans1", busy.get("To"))  # the callee's answer, relayed
        self.wait_for_log(self.server, f"1001 (SEP{A}) calls 1002: ringing SEP{B}: answered 486")

    def test_sipp_busy_callee_s_486_reaches_the_caller_over_udp(self):
        self.busy("u1")

    def test_sipp_busy_callee_s_486_reaches_the_caller_over_tcp(self):
        self.busy("t1")

    def unreachable(self, transport):
        # 1003 is SEP C's, which has not registered: 480. Nobody has 4444 (and no trunk): 404.
        for number, status in (("1003", 480), ("4444", 404)):
            a = self.finish(self.caller("call_refused.xml", transport, A, "1001", number))
            self.assertEqual(self.final_answers(a), [status], number)
            self.assertEqual(len(self.received(a, status)[0].all("Via")), 1)
        self.wait_for_log(self.server, f"mac={A} ip=127.0.0.1: INVITE answered 480")
        self.wait_for_log(self.server, f"mac={A} ip=127.0.0.1: INVITE answered 404")

    def test_sipp_unregistered_and_unknown_numbers_are_refused_over_udp(self):
        self.unreachable("u1")

    def test_sipp_unregistered_and_unknown_numbers_are_refused_over_tcp(self):
        self.unreachable("t1")

    def shared_line(self, transport):
        b = self.answering("call_ring_cancelled.xml", transport, B, "1002")
        c = self.answering("call_answer.xml", transport, C, "1003")
        a = self.finish(self.caller("call_place.xml", transport, A, "1001", "1500"))
        self.finish(b)
        self.finish(c)
        for phone in (b, c):
            self.assert_call_invite(self.received(phone, "INVITE")[0], phone, transport)
        self.assert_answer(self.received(a, 200, "INVITE")[0], c, transport)
        cancel = self.received(b, "CANCEL")[0]
        self.assert_from_labcm(cancel, b, hops=1)
        self.assertEqual(cancel.get("Reason"), 'SIP;cause=200;text="Call completed elsewhere"')
        self.assert_from_labcm(self.received(c, "ACK")[0], c)
        self.assert_from_labcm(self.received(c, "BYE")[0], c)
        self.wait_for_log(self.server, f"1001 (SEP{A}) calls 1500: ringing SEP{B}, SEP{C}: answered 200 by SEP{C}")
        self.wait_for_log(self.server, f"call 1001 -> 1500 (SEP{C}) ended after")
        self.assert_487_acknowledged(b)

    def test_sipp_shared_line_rings_both_phones_and_cancels_the_other_over_udp(self):
        self.shared_line("u1")

    def test_sipp_shared_line_rings_both_phones_and_cancels_the_other_over_tcp(self):
        self.shared_line("t1")

    def hold(self, transport):
        b = self.answering("call_answer_hold.xml", transport, B, "1002")
        a = self.finish(self.caller("call_hold.xml", transport, A, "1001", "1002"))
        self.finish(b)
        invites = self.received(b, "INVITE")
        self.assertEqual([i.get("CSeq") for i in invites], ["101 INVITE", "102 INVITE", "103 INVITE"])
        self.assert_call_invite(invites[0], b, transport)
        for reinvite, direction in zip(invites[1:], ("sendonly", "sendrecv")):
            self.assert_from_labcm(reinvite, b)
            self.assertEqual(reinvite.all("Record-Route"), [])  # the route set is the first INVITE's
            self.assertIn(f"a={direction}\r\n", reinvite.body)
        answers = self.received(a, 200, "INVITE")
        self.assertEqual([ok.get("CSeq") for ok in answers], ["101 INVITE", "102 INVITE", "103 INVITE"])
        self.assertIn("a=recvonly\r\n", answers[1].body)
        self.assertIn("a=sendrecv\r\n", answers[2].body)
        acks = self.received(b, "ACK")
        self.assertEqual([ack.get("CSeq") for ack in acks], ["101 ACK", "102 ACK", "103 ACK"])
        for ack in acks:
            self.assert_from_labcm(ack, b)
        self.wait_for_log(self.server, f"call 1001 -> 1002 (SEP{B}) ended after")

    def test_sipp_hold_and_resume_re_invites_go_through_labcm_over_udp(self):
        self.hold("u1")

    def test_sipp_hold_and_resume_re_invites_go_through_labcm_over_tcp(self):
        self.hold("t1")

    def transfer(self, transport):
        b = self.answering("call_transferor.xml", transport, B, "1002", "-key", "target", "1003")
        a = self.finish(self.caller("call_transferee.xml", transport, A, "1001", "1002"))
        self.finish(b)
        self.assert_call_invite(self.received(b, "INVITE")[0], b, transport)
        refer = self.received(a, "REFER")[0]
        self.assert_from_labcm(refer, a)
        self.assertEqual(refer.get("Refer-To"), "<sip:1003@127.0.0.1>")
        self.assertEqual(refer.get("Referred-By"), "<sip:1002@127.0.0.1>")
        self.assertEqual(len(self.received(b, 202, "REFER")[0].all("Via")), 1)
        notify = self.received(b, "NOTIFY")[0]
        self.assert_from_labcm(notify, b)
        self.assertEqual(notify.get("Event"), "refer")
        self.assertEqual(notify.get("Content-Type"), "message/sipfrag")
        self.assertTrue(notify.body.startswith("SIP/2.0 200 OK"), notify.body)
        self.assertEqual(self.received(a, 200, "NOTIFY")[0].get("CSeq"), "102 NOTIFY")
        self.assert_from_labcm(self.received(a, "BYE")[0], a)  # the transferor hangs up
        self.wait_for_log(self.server, f"call 1001 -> 1002 (SEP{B}) ended after")

    def test_sipp_transfer_refer_and_its_notify_go_through_labcm_over_udp(self):
        self.transfer("u1")

    def test_sipp_transfer_refer_and_its_notify_go_through_labcm_over_tcp(self):
        self.transfer("t1")

    def blf(self, transport):
        b = self.answering("call_answer.xml", transport, B, "1002")  # 1002 registered: D's lamp starts idle
        port = self.sipp_port(transport)
        # D registers (a scripted phone naming sipp's port, so that sipp listens before labcm
        # sends the lamp it sends at once); that first lamp: over UDP at the Contact (a sipp of its
        # own), over TCP over the registering connection.
        if transport == "u1":
            first = self.listen("notify_answer.xml", transport, port, D, "1004")
            self.register_contact(first)
            registered = self.received(self.finish(first), "NOTIFY")[0]
            lamps = self.listen("blf_lamps.xml", transport, port, D, "1004")
        else:
            lamps = self.listen("blf_lamps.xml", transport, port, D, "1004")
            phone = self.register_contact(lamps)
            registered = phone.expect("NOTIFY")
            phone.answer(registered, 200, "OK", tag="d1")
            self.close_registration(phone)
        self.assert_from_labcm(registered, lamps, hops=1)
        self.assertEqual(registered.get("Event"), "presence")
        self.assertEqual(registered.get("CSeq"), "1 NOTIFY")
        self.assertIn('<tuple id="1002"><status><basic>open</basic></status></tuple>', registered.body)
        self.assertIn("<e:activities></e:activities>", registered.body)
        a = self.finish(self.caller("call_place.xml", transport, A, "1001", "1002"))
        self.finish(b)
        self.finish(lamps)
        notifies = self.received(lamps, "NOTIFY")
        self.assertEqual([n.get("CSeq") for n in notifies], ["2 NOTIFY", "3 NOTIFY", "4 NOTIFY"])
        for n, activities in zip(notifies, ("<ce:alerting/>", "<e:on-the-phone/><e:busy/>", "")):  # ringing, busy, idle
            self.assert_from_labcm(n, lamps, hops=1)
            self.assertEqual(n.get("Call-ID"), registered.get("Call-ID"))  # one Call-ID per lamp
            self.assertIn(f"<e:activities>{activities}</e:activities>", n.body)
        self.assertEqual(self.final_answers(a), [200])

    def test_sipp_blf_lamp_follows_a_call_over_udp(self):
        self.blf("u1")

    def test_sipp_blf_lamp_follows_a_call_over_tcp(self):
        self.blf("t1")

    def message_waiting(self, transport):
        b = self.answering("message_waiting.xml", transport, B, "1002", calls=2)
        self.ok("mailbox", "set", "1002", "2", "--old", "1")
        self.wait_for_log(self.server, f"message_waiting mac={B} ip=-: message waiting on 1002 (2 new, 1 old): NOTIFY answered 200 OK")
        self.ok("mailbox", "rm", "1002")
        self.finish(b)
        self.wait_for_log(self.server, f"message_waiting mac={B} ip=-: message waiting on 1002 (0 new, 0 old): NOTIFY answered 200 OK")
        on, off = self.received(b, "NOTIFY")
        for notify in (on, off):
            self.assert_from_labcm(notify, b, hops=1)  # line 1: the registered Contact
            self.assertEqual(notify.get("Event"), "message-summary")
            self.assertEqual(notify.get("From"), f"<sip:1002@127.0.0.1>;tag=mwi{B}")
        self.assertIn("Messages-Waiting: yes\r\n", on.body)
        self.assertIn("Voice-Message: 2/1\r\n", on.body)
        self.assertIn("Messages-Waiting: no\r\n", off.body)
        self.assertIn("Voice-Message: 0/0\r\n", off.body)

    def test_sipp_message_waiting_goes_on_and_off_over_udp(self):
        self.message_waiting("u1")

    def test_sipp_message_waiting_goes_on_and_off_over_tcp(self):
        self.message_waiting("t1")


if __name__ == "__main__":
    unittest.main()
