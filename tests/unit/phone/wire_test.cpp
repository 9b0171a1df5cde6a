#include <doctest/doctest.h>

#include "profiles.h"
#include "sip/cisco.h"
#include "sip_message.h"
#include "wire.h"

using namespace labcm;
using namespace labcm::phone;

namespace {

RegisterRequest firstRegister(const Profile& p) {
    RegisterRequest r;
    r.server = "10.0.0.10";
    r.localIp = "10.0.0.50";
    r.localPort = 51234;
    r.mac = "001122AABBCC";
    r.line = "1001";
    r.contactUser = "3f2a9c1e-0b7d-4e55-9a10-6c2d8e4f1a00";
    r.callId = ciscoCallId(r.mac, 0x11223344, 0x55667788, r.localIp);
    r.fromTag = "001122aabbcc00021f3e4d5c-6a7b8c9d";
    r.branch = "z9hG4bK1a2b3c4d";
    r.reason = reasonText(p, 23, "SEP001122AABBCC", p.activeLoad, p.inactiveLoad, "reset-restart");
    r.bulkBody = true;
    r.date = rfc1123Date(1704110400);
    r.sessionId = "0123456789abcdef0123456789abcdef";
    return r;
}

} // namespace

TEST_CASE("profiles: every listed model has a profile with its CUCM model id") {
    for (const char* m : {"8845", "8865", "8841", "8851", "8861", "7821", "7841", "7861", "7975", "7970"}) {
        auto p = findProfile(m);
        REQUIRE_MESSAGE(p, m);
        CHECK(p->model == m);
        CHECK(p->typemodel > 0);
        CHECK(p->userAgent.find("Cisco-CP") == 0);
        CHECK(p->vendorClass.find("Cisco Systems, Inc. IP Phone CP-") == 0);
        CHECK_FALSE(p->inferred.empty());
        CHECK_FALSE(p->localeJar.empty());
    }
    CHECK(findProfile("CP-8845")->typemodel == 36224);
    CHECK(findProfile("7821")->typemodel == 621);
    CHECK(findProfile("7975")->typemodel == 437);
    CHECK(findProfile("7970")->typemodel == 30006);
    CHECK_FALSE(findProfile("9999"));
    CHECK_FALSE(findProfile("7960")); // SIP 8.x text-config phones are not simulated
}

TEST_CASE("wire: an 8851's first REGISTER has the captured shape, and labcm's parsers read it") {
    auto p = *findProfile("8851");
    auto text = buildRegister(p, firstRegister(p));
    auto m = parseSipMessage(text);
    CHECK(m.method == "REGISTER");
    CHECK(m.uri == "sip:10.0.0.10");
    CHECK(m.header("Via") == std::optional<std::string_view>("SIP/2.0/TCP 10.0.0.50:51234;branch=z9hG4bK1a2b3c4d"));
    CHECK(m.header("From") == std::optional<std::string_view>("<sip:1001@10.0.0.10>;tag=001122aabbcc00021f3e4d5c-6a7b8c9d"));
    CHECK(m.header("To") == std::optional<std::string_view>("<sip:1001@10.0.0.10>"));
    CHECK(m.header("Call-ID") == std::optional<std::string_view>("001122aa-bbcc0003-11223344-55667788@10.0.0.50"));
    CHECK(m.header("Date") == std::optional<std::string_view>("Mon, 01 Jan 2024 12:00:00 GMT"));
    CHECK(m.header("User-Agent") == std::optional<std::string_view>("Cisco-CP8851/14.2.1"));
    CHECK(m.header("Contact") ==
          std::optional<std::string_view>("<sip:3f2a9c1e-0b7d-4e55-9a10-6c2d8e4f1a00@10.0.0.50:51234;transport=tcp>;"
                                          "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-001122aabbcc>\";"
                                          "+u.sip!devicename.ccm.cisco.com=\"SEP001122AABBCC\";+u.sip!model.ccm.cisco.com=\"684\""));
    CHECK(m.header("Reason") ==
          std::optional<std::string_view>("SIP;cause=200;text=\"cisco-alarm:23 Name=SEP001122AABBCC "
                                          "ActiveLoad=sip88xx.14-2-1-0001-14.loads InactiveLoad=sip88xx.12-8-1-0001-455.loads "
                                          "Last=reset-restart\""));
    CHECK(m.header("Expires") == std::optional<std::string_view>("3600"));
    CHECK(m.header("Content-Type") == std::optional<std::string_view>("multipart/mixed; boundary=uniqueBoundary"));
    CHECK(sip::isBulkRegister(m.body));
    CHECK(m.body.find("<optionsind>") != std::string::npos);

    // The server-side parsers (labcm's registrar) identify the device and its loads.
    auto reason = sip::parseReasonHeader(*m.header("Reason"));
    REQUIRE(reason);
    CHECK(reason->activeLoad == "sip88xx.14-2-1-0001-14");
    CHECK(reason->inactiveLoad == "sip88xx.12-8-1-0001-455");
    CHECK(reason->last == "reset-restart");
    auto contact = *m.header("Contact");
    auto params = sip::parseContactParams(sip::parseContactParamList(contact.substr(contact.find('>') + 2)));
    CHECK(params.model == std::optional<int>(684));
    CHECK(sip::identifyDevice(params, reason) == std::optional<std::string>("001122AABBCC"));
    CHECK(sip::parseCiscoUserAgent(*m.header("User-Agent"))->first == "8851");
}

TEST_CASE("wire: 7970 8.4 over UDP: Load= form, (null) in Supported, line number as Contact user, no devicename") {
    auto p = *findProfile("7970");
    auto r = firstRegister(p);
    r.transport = Transport::Udp;
    r.contactUser = "1001";
    r.serverPort = 5080;
    auto m = parseSipMessage(buildRegister(p, r));
    CHECK(m.uri == "sip:10.0.0.10:5080");
    CHECK(m.header("Via")->find("SIP/2.0/UDP ") == 0);
    CHECK(m.header("Supported") == std::optional<std::string_view>("(null),X-cisco-xsi-7.0.1"));
    CHECK(m.header("Contact")->find("<sip:1001@10.0.0.50:51234;transport=udp>") == 0);
    CHECK(m.header("Contact")->find("devicename") == std::string_view::npos);
    CHECK_FALSE(m.header("Session-ID"));
    auto reason = sip::parseReasonHeader(*m.header("Reason"));
    REQUIRE(reason);
    CHECK(reason->activeLoad == "SIP70.8-4-2-30S");
    CHECK(reason->inactiveLoad.empty());
    CHECK(m.header("Reason")->find("Load=SIP70.8-4-2-30S Last=") != std::string_view::npos);
}

TEST_CASE("wire: keep-alive and unregister shapes") {
    auto p = *findProfile("8845");
    auto r = firstRegister(p);
    r.reason.reset();
    r.bulkBody = false;
    auto ka = parseSipMessage(buildRegister(p, r));
    CHECK_FALSE(ka.header("Reason"));
    CHECK(ka.body.empty());
    CHECK(ka.header("Content-Length") == std::optional<std::string_view>("0"));
    r.expires = 0;
    r.reason = reasonText(p, 23, "SEP001122AABBCC", "a", "b", "reset-reset");
    auto un = parseSipMessage(buildRegister(p, r));
    CHECK(un.header("Expires") == std::optional<std::string_view>("0"));
    CHECK(sip::parseReasonHeader(*un.header("Reason"))->last == "reset-reset");
}

TEST_CASE("wire: digest challenges") {
    auto ch = parseDigestChallenge("Digest realm=\"ccmsipline\", nonce=\"abc,def\", algorithm=MD5, stale=FALSE");
    CHECK(ch["realm"] == "ccmsipline");
    CHECK(ch["nonce"] == "abc,def");
    CHECK(ch["algorithm"] == "MD5");
    CHECK(ch["stale"] == "FALSE");
    CHECK(parseDigestChallenge("Basic realm=\"x\"").empty());
    CHECK(parseDigestChallenge("").empty());
    CHECK(parseDigestChallenge("Digest realm=\"unterminated").empty());
}

TEST_CASE("wire: a keep-alive to a standby call manager: Expires 0 and ;expires=0;cisco-keep-alive on the Contact") {
    auto p = *findProfile("8851");
    auto r = firstRegister(p);
    r.standbyKeepAlive = true;
    r.bulkBody = false;
    r.reason.reset();
    auto m = parseSipMessage(buildRegister(p, r));
    CHECK(m.header("Expires") == std::optional<std::string_view>("0"));
    REQUIRE(m.header("Contact"));
    CHECK(m.header("Contact")->ends_with(";expires=0;cisco-keep-alive"));
    std::string contact(*m.header("Contact"));
    auto c = sip::parseContactParams(sip::parseContactParamList(contact.substr(contact.find('>') + 2)));
    CHECK(c.keepAlive);
    CHECK(c.expires == std::optional<long>(0));
}

// ---------------------------------------------------------------------------------------
// Calls: the INVITE, the requests inside a call, the SDP.

TEST_CASE("wire: an 8845's INVITE carries its REGISTER's Contact, its line in From and an SDP offer") {
    auto p = *findProfile("8845");
    InviteRequest r;
    r.server = "127.0.0.1";
    r.serverPort = 5070;
    r.transport = Transport::Udp;
    r.localIp = "127.0.0.1";
    r.localPort = 40001;
    r.mac = "0011220E0001";
    r.line = "2001";
    r.contactUser = "2001";
    r.callee = "2002";
    r.callId = ciscoCallId(r.mac, 1, 2, r.localIp);
    r.fromTag = "f1";
    r.branch = "z9hG4bKinv";
    r.date = rfc1123Date(1704110400);
    r.sdp = sdpBody("127.0.0.1", 16384, "42", true);
    auto m = parseSipMessage(buildInvite(p, r));
    CHECK(m.method == "INVITE");
    CHECK(m.uri == "sip:2002@127.0.0.1:5070;user=phone");
    CHECK(m.header("Via") == std::optional<std::string_view>("SIP/2.0/UDP 127.0.0.1:40001;branch=z9hG4bKinv"));
    CHECK(m.header("From") == std::optional<std::string_view>("\"2001\" <sip:2001@127.0.0.1>;tag=f1"));
    CHECK(m.header("To") == std::optional<std::string_view>("<sip:2002@127.0.0.1>"));
    CHECK(m.cseq() == 101);
    CHECK(m.cseqMethod() == "INVITE");
    CHECK(m.header("Content-Type") == std::optional<std::string_view>("application/sdp"));
    CHECK(m.body == r.sdp);
    CHECK(m.body.find("m=audio 16384 RTP/AVP 0 8 101\r\n") != std::string::npos);
    // The Contact is the REGISTER's, so labcm finds the calling device by it.
    RegisterRequest reg;
    reg.server = r.server;
    reg.serverPort = r.serverPort;
    reg.transport = r.transport;
    reg.localIp = r.localIp;
    reg.localPort = r.localPort;
    reg.mac = r.mac;
    reg.line = r.line;
    reg.contactUser = r.contactUser;
    reg.callId = r.callId;
    auto registered = parseSipMessage(buildRegister(p, reg));
    CHECK(m.header("Contact") == registered.header("Contact"));
    auto contact = *m.header("Contact");
    auto params = sip::parseContactParams(sip::parseContactParamList(contact.substr(contact.find('>') + 2)));
    CHECK(sip::identifyDevice(params, std::nullopt) == std::optional<std::string>("0011220E0001"));
    // labcm's router reads the From user and the dialled number.
    CHECK(parseSipUri(*m.header("From"))->user == "2001");
    CHECK(parseSipUri(m.uri)->user == "2002");
}

TEST_CASE("wire: ACK, BYE and CANCEL inside a call: Route set in order, peer's Contact as Request-URI") {
    DialogRequest d;
    d.method = "BYE";
    d.requestUri = "sip:2002@127.0.0.1:46271;transport=udp";
    d.routes = {"<sip:127.0.0.1:5060;transport=tcp;lr>", "<sip:127.0.0.1:5060;transport=udp;lr>"};
    d.from = "\"2001\" <sip:2001@127.0.0.1>;tag=f1";
    d.to = "<sip:2002@127.0.0.1>;tag=t2";
    d.callId = "c@127.0.0.1";
    d.cseq = 102;
    d.transport = Transport::Tcp;
    d.localIp = "127.0.0.1";
    d.localPort = 51253;
    d.branch = "z9hG4bKbye";
    d.userAgent = "Cisco-CP8845/14.2.1";
    auto m = parseSipMessage(buildDialogRequest(d));
    CHECK(m.method == "BYE");
    CHECK(m.uri == d.requestUri);
    CHECK(m.headersNamed("Route") == std::vector<std::string_view>{d.routes[0], d.routes[1]});
    CHECK(m.header("Via") == std::optional<std::string_view>("SIP/2.0/TCP 127.0.0.1:51253;branch=z9hG4bKbye"));
    CHECK(m.header("From") == std::optional<std::string_view>(d.from));
    CHECK(m.header("To") == std::optional<std::string_view>(d.to));
    CHECK(m.header("CSeq") == std::optional<std::string_view>("102 BYE"));
    CHECK(m.header("Max-Forwards") == std::optional<std::string_view>("70"));
    CHECK(m.header("Content-Length") == std::optional<std::string_view>("0"));
    CHECK(m.body.empty());
    d.method = "CANCEL";
    d.routes.clear();
    auto cancel = parseSipMessage(buildDialogRequest(d));
    CHECK(cancel.headersNamed("Route").empty());
    CHECK(cancel.header("CSeq") == std::optional<std::string_view>("102 CANCEL"));
}

TEST_CASE("wire: an SDP answer names one codec, an offer three") {
    auto offer = sdpBody("10.0.0.50", 16384, "7", true);
    auto answer = sdpBody("10.0.0.50", 16386, "7", false);
    CHECK(offer.rfind("v=0\r\no=Cisco-SIPUA 7 0 IN IP4 10.0.0.50\r\n", 0) == 0);
    CHECK(offer.find("c=IN IP4 10.0.0.50\r\n") != std::string::npos);
    CHECK(offer.find("a=rtpmap:101 telephone-event/8000\r\n") != std::string::npos);
    CHECK(answer.find("m=audio 16386 RTP/AVP 0\r\n") != std::string::npos);
    CHECK(answer.find("PCMA") == std::string::npos);
    CHECK(answer.substr(answer.size() - 12) == "a=sendrecv\r\n");
}
