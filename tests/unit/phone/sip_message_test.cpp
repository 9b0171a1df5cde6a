#include <doctest/doctest.h>

#include <string>

#include "sip_message.h"

using namespace labcm::phone;

namespace {

// The restart NOTIFY labcm sends over a phone's TCP connection (sip-wire §6.1 shape).
const std::string kNotify =
    "NOTIFY sip:1001@127.0.0.1:51234;transport=tcp SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK77e1\r\n"
    "From: <sip:127.0.0.1>;tag=48211\r\n"
    "To: <sip:1001@127.0.0.1>\r\n"
    "Call-ID: 5be1c7a0-1@127.0.0.1\r\n"
    "CSeq: 101 NOTIFY\r\n"
    "Max-Forwards: 70\r\n"
    "o: service-control\r\n"
    "Subscription-State: active\r\n"
    "c: text/plain\r\n"
    "l: 64\r\n"
    "\r\n"
    "action=restart\r\n"
    "RegisterCallId={001122aa-bbcc0003-1@127.0.0.1}\r\n";

const std::string kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bK1;received=127.0.0.1\r\n"
    "From: <sip:1001@127.0.0.1>;tag=abc\r\n"
    "To: <sip:1001@127.0.0.1>;tag=srv\r\n"
    "Call-ID: x@127.0.0.1\r\n"
    "CSeq: 102 REGISTER\r\n"
    "Contact: <sip:1001@127.0.0.1:40000;transport=tcp>;expires=120\r\n"
    "Expires: 120\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

} // namespace

TEST_CASE("sip message: a NOTIFY with compact headers is parsed and expanded") {
    REQUIRE(kNotify.size() - kNotify.find("\r\n\r\n") - 4 == 64);
    auto m = parseSipMessage(kNotify);
    CHECK(m.request);
    CHECK(m.method == "NOTIFY");
    CHECK(m.uri == "sip:1001@127.0.0.1:51234;transport=tcp");
    CHECK(m.header("event") == std::optional<std::string_view>("service-control"));
    CHECK(m.header("Content-Type") == std::optional<std::string_view>("text/plain"));
    CHECK(m.cseq() == 101);
    CHECK(m.cseqMethod() == "NOTIFY");
    auto kv = parseKeyValueBody(m.body);
    REQUIRE(kv.size() == 2);
    CHECK(kv[0] == std::pair<std::string, std::string>{"action", "restart"});
    CHECK(kv[1].first == "registercallid");
    CHECK(kv[1].second == "{001122aa-bbcc0003-1@127.0.0.1}");
}

TEST_CASE("sip message: a 200 OK and its parameters") {
    auto m = parseSipMessage(kOk);
    CHECK_FALSE(m.request);
    CHECK(m.status == 200);
    CHECK(m.reason == "OK");
    CHECK(headerParam(*m.header("Contact"), "expires") == std::optional<std::string>("120"));
    CHECK(headerParam(*m.header("To"), "tag") == std::optional<std::string>("srv"));
    CHECK(headerParam(*m.header("Contact"), "transport") == std::nullopt); // a URI parameter, not a header one
    CHECK(headerParam(*m.header("Via"), "received") == std::optional<std::string>("127.0.0.1"));
}

TEST_CASE("sip message: TCP framing by Content-Length, pipelined messages, CRLF pings") {
    std::string stream = "\r\n\r\n" + kOk + kNotify;
    auto first = frameLength(stream);
    REQUIRE(first);
    CHECK(*first == 4); // the keep-alive CRLFs alone
    stream.erase(0, *first);
    CHECK(frameLength(stream) == std::optional<std::size_t>(kOk.size()));
    stream.erase(0, kOk.size());
    CHECK(frameLength(stream) == std::optional<std::size_t>(kNotify.size()));
    // Every prefix of a message needs more bytes; none throws.
    for (std::size_t n = 0; n < kNotify.size(); ++n) {
        CHECK_FALSE(frameLength(std::string_view(kNotify).substr(0, n)));
    }
}

TEST_CASE("sip message: framing errors") {
    CHECK_THROWS_AS(frameLength("SIP/2.0 200 OK\r\nVia: x\r\n\r\n"), SipParseError); // no Content-Length on TCP
    CHECK_THROWS_AS(frameLength("SIP/2.0 200 OK\r\nContent-Length: x1\r\n\r\n"), SipParseError);
    CHECK_THROWS_AS(frameLength("SIP/2.0 200 OK\r\nContent-Length: 99999999\r\n\r\n"), SipParseError);
    CHECK_THROWS_AS(frameLength(std::string(kMaxSipMessage + 1, 'a')), SipParseError);
}

TEST_CASE("sip message: every truncation of a message is refused with a reason, never a crash") {
    for (const auto* full : {&kNotify, &kOk}) {
        int refused = 0;
        for (std::size_t n = 0; n < full->size(); ++n) {
            try {
                (void)parseSipMessage(std::string_view(*full).substr(0, n));
            } catch (const SipParseError& e) {
                CHECK(std::string(e.what()).size() > 0);
                ++refused;
            }
        }
        CHECK(refused == static_cast<int>(full->size())); // a cut body is shorter than Content-Length
    }
}

TEST_CASE("sip message: malformed start lines and headers") {
    auto head = [](const std::string& start, const std::string& extra = "") {
        return start + "\r\nVia: a\r\nFrom: b\r\nTo: c\r\nCall-ID: d\r\nCSeq: 1 X\r\n" + extra + "\r\n";
    };
    CHECK_NOTHROW(parseSipMessage(head("OPTIONS sip:x SIP/2.0")));
    CHECK_THROWS_AS(parseSipMessage(head("OPTIONS sip:x SIP/3.0")), SipParseError);
    CHECK_THROWS_AS(parseSipMessage(head("SIP/2.0 99 Low")), SipParseError);
    CHECK_THROWS_AS(parseSipMessage(head("SIP/2.0 700 High")), SipParseError);
    CHECK_THROWS_AS(parseSipMessage(head("SIP/2.0 2x0 Bad")), SipParseError);
    CHECK_THROWS_AS(parseSipMessage(head("OPTIONS sip:x SIP/2.0", "NoColonHere\r\n")), SipParseError);
    CHECK_THROWS_AS(parseSipMessage(head("OPTIONS sip:x SIP/2.0", "Bad Name: v\r\n")), SipParseError);
    CHECK_THROWS_AS(parseSipMessage("OPTIONS sip:x SIP/2.0\r\nVia: a\r\n\r\n"), SipParseError); // missing From...
    std::string many = "OPTIONS sip:x SIP/2.0\r\n";
    for (std::size_t i = 0; i <= kMaxSipHeaders; ++i) many += "X-H: 1\r\n";
    CHECK_THROWS_WITH_AS(parseSipMessage(many + "\r\n"), "too many headers", SipParseError);
    // A folded header line continues the previous one.
    auto folded = parseSipMessage(head("OPTIONS sip:x SIP/2.0", "Subject: a\r\n  b\r\n"));
    CHECK(folded.header("Subject") == std::optional<std::string_view>("a b"));
    // Found by fuzz_sip_message: a fold after an empty value must not start it with a space,
    // or a response built from the request would carry a different Call-ID.
    auto emptyFirst = parseSipMessage("OPTIONS sip:x SIP/2.0\r\nVia: a\r\nFrom: b\r\nTo: c\r\nCall-ID: \r\n\tid@h\r\n"
                                      "CSeq: 1 OPTIONS\r\n\r\n");
    CHECK(emptyFirst.header("Call-ID") == std::optional<std::string_view>("id@h"));
    CHECK(parseSipMessage(buildResponse(emptyFirst, 200, "OK", "t")).header("Call-ID") == emptyFirst.header("Call-ID"));
}

TEST_CASE("sip message: responses copy the dialog headers and add a To tag once") {
    auto req = parseSipMessage(kNotify);
    auto text = buildResponse(req, 200, "OK", "t1", {{"Server", "sim"}});
    auto resp = parseSipMessage(text);
    CHECK(resp.status == 200);
    CHECK(resp.header("Via") == req.header("Via"));
    CHECK(resp.header("Call-ID") == req.header("Call-ID"));
    CHECK(resp.header("CSeq") == std::optional<std::string_view>("101 NOTIFY"));
    CHECK(headerParam(*resp.header("To"), "tag") == std::optional<std::string>("t1"));
    CHECK(resp.header("Server") == std::optional<std::string_view>("sim"));
    // A request that already has a To tag keeps it.
    std::string tagged = text;
    tagged.replace(0, 14, "NOTIFY sip:a SIP/2.0"); // the response's head as a request with a To tag
    auto twice = parseSipMessage(buildResponse(parseSipMessage(tagged), 200, "OK", "t2"));
    CHECK(headerParam(*twice.header("To"), "tag") == std::optional<std::string>("t1"));
}

TEST_CASE("sip message: the user and host of a SIP URI") {
    auto r = parseSipUri("sip:3f2a9c1e@10.0.0.50:51234;transport=tcp");
    REQUIRE(r);
    CHECK(r->user == "3f2a9c1e");
    CHECK(r->host == "10.0.0.50");
    auto c = parseSipUri("<sip:1001@127.0.0.1;transport=udp>;expires=120;x-cisco-newreg");
    REQUIRE(c);
    CHECK(c->user == "1001");
    CHECK(c->host == "127.0.0.1");
    auto nouser = parseSipUri("<sip:10.0.0.10:5060>");
    REQUIRE(nouser);
    CHECK(nouser->user.empty());
    CHECK(nouser->host == "10.0.0.10");
    CHECK_FALSE(parseSipUri("tel:+4930123"));
    CHECK_FALSE(parseSipUri(""));
}

// ---------------------------------------------------------------------------------------
// Calls: the route set, the peer's Contact, lists in one header.

namespace {

// labcm's 200 OK to a caller on TCP whose callee is on UDP: two Record-Route entries
// (RFC 5658), here one header with a comma list and one header of its own.
const std::string kInviteOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:51253;branch=z9hG4bK77aa;received=127.0.0.1\r\n"
    "Record-Route: <sip:127.0.0.1:5060;transport=udp;lr>, <sip:127.0.0.1:5060;transport=tcp;lr>\r\n"
    "From: \"2001\" <sip:2001@127.0.0.1>;tag=a1\r\n"
    "To: <sip:2002@127.0.0.1>;tag=b2\r\n"
    "Call-ID: 0011220e-00010003-1-2@127.0.0.1\r\n"
    "CSeq: 101 INVITE\r\n"
    "Contact: <sip:2002@127.0.0.1:46271;transport=udp>;+u.sip!devicename.ccm.cisco.com=\"SEP0011220E0002\"\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 10\r\n"
    "\r\n"
    "v=0\r\ns=x\r\n";

} // namespace

TEST_CASE("sip message: the UAC's route set is the 2xx's Record-Route reversed, the UAS's as received") {
    auto ok = parseSipMessage(kInviteOk);
    auto uac = routeSet(ok, true);
    REQUIRE(uac.size() == 2);
    CHECK(uac[0] == "<sip:127.0.0.1:5060;transport=tcp;lr>");
    CHECK(uac[1] == "<sip:127.0.0.1:5060;transport=udp;lr>");
    auto uas = routeSet(ok, false);
    REQUIRE(uas.size() == 2);
    CHECK(uas[0] == "<sip:127.0.0.1:5060;transport=udp;lr>");
    // Separate Record-Route headers keep their order too.
    std::string twoHeaders = kInviteOk;
    twoHeaders.replace(twoHeaders.find(", <sip:127.0.0.1:5060;transport=tcp"), 2, "\r\nRecord-Route: ");
    CHECK(routeSet(parseSipMessage(twoHeaders), true) == uac);
    // No Record-Route: an empty route set (the request goes straight to the Contact).
    CHECK(routeSet(parseSipMessage(kOk), true).empty());
    // The Request-URI of the ACK and BYE: the 2xx's Contact URI; the next hop: the first Route.
    CHECK(nameAddrUri(*ok.header("Contact")) == std::optional<std::string>("sip:2002@127.0.0.1:46271;transport=udp"));
    auto hop = parseSipUri(uac.front());
    REQUIRE(hop);
    CHECK(hop->host == "127.0.0.1");
    CHECK(hop->port == 5060);
    CHECK(hop->user.empty());
}

TEST_CASE("sip message: header lists split on commas outside <> and quotes") {
    CHECK(splitHeaderList("<sip:a;lr>, <sip:b;lr>") == std::vector<std::string>{"<sip:a;lr>", "<sip:b;lr>"});
    CHECK(splitHeaderList("\"Doe, J\" <sip:a@b>,sip:c") == std::vector<std::string>{"\"Doe, J\" <sip:a@b>", "sip:c"});
    CHECK(splitHeaderList("<sip:a?x=1,2>") == std::vector<std::string>{"<sip:a?x=1,2>"});
    CHECK(splitHeaderList(" , ,").empty());
    CHECK(splitHeaderList("").empty());
    std::string many;
    for (std::size_t i = 0; i < kMaxSipHeaders + 10; ++i) many += "<sip:x>,";
    CHECK(splitHeaderList(many).size() == kMaxSipHeaders);
}

TEST_CASE("sip message: the URI of a name-addr or addr-spec") {
    CHECK(nameAddrUri("\"Desk 1001\" <sip:1001@127.0.0.1>;tag=x") == std::optional<std::string>("sip:1001@127.0.0.1"));
    CHECK(nameAddrUri("sip:1001@127.0.0.1;tag=x") == std::optional<std::string>("sip:1001@127.0.0.1"));
    CHECK(nameAddrUri("<SIPS:a@b>") == std::optional<std::string>("SIPS:a@b"));
    CHECK_FALSE(nameAddrUri("<tel:+4930123>"));
    CHECK_FALSE(nameAddrUri("<sip:1001@127.0.0.1"));
    CHECK_FALSE(nameAddrUri("<>"));
    CHECK_FALSE(nameAddrUri("sip:"));
    CHECK_FALSE(nameAddrUri(""));
    // Ports: absent, malformed or out of range read as 0.
    CHECK(parseSipUri("sip:a@h")->port == 0);
    CHECK(parseSipUri("sip:a@h:5061;transport=tcp")->port == 5061);
    CHECK(parseSipUri("sip:a@h:99999")->port == 0);
    CHECK(parseSipUri("sip:a@h:12x")->port == 0);
    CHECK(parseSipUri("sip:a@h:")->port == 0);
}

TEST_CASE("sip message: every truncation of a Contact, Record-Route or URI is read without a crash") {
    const std::string values[] = {
        "\"Desk, 1001\" <sip:2002@127.0.0.1:46271;transport=udp>;+u.sip!devicename.ccm.cisco.com=\"SEP0011220E0002\"",
        "<sip:127.0.0.1:5060;transport=udp;lr>, <sip:127.0.0.1:5060;transport=tcp;lr>",
        "sip:2002@127.0.0.1:5060;user=phone"};
    for (const auto& full : values) {
        for (std::size_t n = 0; n <= full.size(); ++n) {
            std::string_view cut = std::string_view(full).substr(0, n);
            auto uri = nameAddrUri(cut);
            if (uri) CHECK(uri->size() <= cut.size());
            for (const auto& item : splitHeaderList(cut)) CHECK(item.size() <= cut.size());
            if (auto u = parseSipUri(cut)) CHECK(u->port <= 65535);
        }
        CHECK(nameAddrUri(full)); // and the whole value is read
    }
    // A cut 200 OK is refused (shorter than its Content-Length), as every message is.
    for (std::size_t n = 0; n < kInviteOk.size(); ++n)
        CHECK_THROWS_AS(parseSipMessage(std::string_view(kInviteOk).substr(0, n)), SipParseError);
}
