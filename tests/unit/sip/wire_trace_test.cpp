// The SIP trace's parts (issue 22): sofia's message log put back together into messages, each
// phone's ring with its bounds, its journal, and the pcap libpcap writes of them.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <limits>
#include <string>
#include <vector>

#include "sip/pcap_file.h"
#include "sip/sip_trace.h"
#include "sip/wire_log.h"
#include "sip/wire_tap.h"

using namespace labcm::sip;

namespace {

const std::string kRegister =
    "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1\r\n"
    "From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 101 REGISTER\r\n"
    "Contact: <sip:x@10.0.0.5:5060>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-001122aabbcc>\"\r\n"
    "Content-Length: 0\r\n\r\n";
const std::string kOk = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1\r\nCSeq: 101 REGISTER\r\nContent-Length: 0\r\n\r\n";

} // namespace

TEST_CASE("a stamp line: direction, transport, peer and time of day") {
    std::size_t size = 0;
    auto r = parseStamp("recv 1861 bytes from tcp/[127.0.0.1]:18089 at 01:56:41.290550:", size);
    REQUIRE(r);
    CHECK(size == 1861);
    CHECK_FALSE(r->sent);
    CHECK(r->tcp);
    CHECK(r->address == "127.0.0.1");
    CHECK(r->port == 18089);
    CHECK(r->secondOfDay == 1 * 3600 + 56 * 60 + 41);
    CHECK(r->micros == 290550);
    r = parseStamp("send 12 bytes to udp/[fd00::5]:5060/7;comp=sigcomp at 23:59:59.000001:", size);
    REQUIRE(r);
    CHECK(r->sent);
    CHECK(r->address == "fd00::5");
    CHECK(size == 12);
    // Not stamps: the banner, another transport, a cut line, a wrong direction word.
    for (const char* line : {"dump started at Wed Dec  2 01:56:41 2026", "recv 5 bytes from tls/[1.2.3.4]:5061 at 01:02:03.000004:",
                             "recv 5 bytes from udp/[1.2.3.4]:5060 at 01:02:03.0000", "recv 5 bytes to udp/[1.2.3.4]:5060 at 01:02:03.000004:",
                             "recv 5 bytes from udp/[1.2.3.4]:99999 at 01:02:03.000004:", "recv x bytes from udp/[1.2.3.4]:5 at 01:02:03.000004:",
                             "recv 5 bytes from udp/[<script>]:5 at 01:02:03.000004:", ""})
        CHECK_MESSAGE(!parseStamp(line, size), line);
}

TEST_CASE("the MAC a message names: +sip.instance or devicename, in the headers only") {
    CHECK(macInMessage(kRegister) == "001122AABBCC");
    CHECK(macInMessage("REGISTER x\r\nContact: <sip:a@b>;+u.sip!devicename.ccm.cisco.com=\"SEP00aa11bb22cc\"\r\n\r\n") == "00AA11BB22CC");
    CHECK_FALSE(macInMessage(kOk));
    CHECK_FALSE(macInMessage("MESSAGE x\r\n\r\nurn:uuid:00000000-0000-0000-0000-001122aabbcc"));
    CHECK_FALSE(macInMessage("X\r\nurn:uuid:00000000-0000-0000-0000-0011"));
}

TEST_CASE("a trace files a phone's messages by its MAC, then by its address, within its bounds") {
    SipTrace trace({3, 1 << 20});
    auto add = [&trace](bool sent, const std::string& addr, int port, const std::string& text, bool tcp = false) {
        WireRecord r;
        r.sent = sent;
        r.tcp = tcp;
        r.address = addr;
        r.port = static_cast<std::uint16_t>(port);
        r.bytes = text;
        trace.add(r, 1'000'000);
    };
    add(false, "10.0.0.5", 5060, kOk); // nobody's yet: not kept
    CHECK(trace.messagesKept() == 0);
    add(false, "10.0.0.5", 5060, kRegister);
    add(true, "10.0.0.5", 5060, kOk);
    add(true, "10.0.0.6", 5060, kOk); // another address: not this phone's
    auto list = trace.messages("001122AABBCC");
    REQUIRE(list.size() == 2);
    CHECK(list[1].sent);
    CHECK(list[0].seq < list[1].seq);
    add(false, "10.0.0.5", 5060, kRegister);
    add(true, "10.0.0.5", 5060, kOk);
    list = trace.messages("001122AABBCC");
    CHECK(list.size() == 3); // the oldest went
    CHECK(list.front().sent);
    // Over TCP the same address and port on the other transport is another connection.
    add(true, "10.0.0.5", 5060, kOk, true);
    CHECK(trace.messages("001122AABBCC").size() == 3);
    CHECK(trace.messages("001122AABBCC").back().tcp == false);
    // What labcm sends is filed by where it goes, whatever MAC it carries (a forwarded INVITE
    // keeps the caller's Contact): the REGISTER's copy sent to another phone is that phone's.
    add(false, "10.0.0.9", 5060, "REGISTER sip:x SIP/2.0\r\nContact: <sip:b@10.0.0.9>;+u.sip!devicename.ccm.cisco.com=\"SEP00000000BBBB\"\r\n\r\n");
    add(true, "10.0.0.9", 5060, kRegister);
    CHECK(trace.messages("00000000BBBB").size() == 2);
    CHECK(trace.messages("001122AABBCC").size() == 3);
    // Keep-alives and STUN are not messages.
    add(false, "10.0.0.5", 5060, "\r\n\r\n");
    add(false, "10.0.0.5", 5060, std::string("\x00\x01\x00\x00", 4));
    CHECK(trace.messages("001122AABBCC").back().sent);
}

TEST_CASE("a trace's total bound drops the oldest message of any phone") {
    const auto cost = kRegister.size() + 8 + SipTrace::kMessageOverhead;
    SipTrace trace({100, 3 * cost});
    auto regFrom = [&trace](int i) {
        std::string text = kRegister;
        auto at = text.find("001122aabbcc");
        text.replace(at + 10, 2, i < 10 ? "0" + std::to_string(i) : std::to_string(i));
        WireRecord r;
        r.address = "10.0.0." + std::to_string(i);
        r.port = 5060;
        r.bytes = text;
        trace.add(r, 0);
    };
    for (int i = 1; i <= 5; ++i) regFrom(i);
    CHECK(trace.messagesKept() == 3);
    CHECK(trace.messages("001122AABB01").empty());
    CHECK(trace.messages("001122AABB02").empty());
    CHECK(trace.messages("001122AABB05").size() == 1);
    CHECK(trace.bytesKept() <= 3 * cost);
}

TEST_CASE("a trace with no room per phone keeps nothing") {
    SipTrace trace({0, 1 << 20});
    CHECK_FALSE(trace.enabled());
    WireRecord r;
    r.address = "10.0.0.5";
    r.bytes = kRegister;
    trace.add(r, 0);
    CHECK(trace.messages("001122AABBCC").empty());
}

TEST_CASE("a pcap of a phone's messages: libpcap's header, one IPv4/UDP packet each with its checksums") {
    SipTrace trace({10, 1 << 20});
    trace.setLocal("10.0.0.1", 5060);
    WireRecord r;
    r.address = "10.0.0.5";
    r.port = 5070;
    r.bytes = kRegister;
    trace.add(r, 1'700'000'000'000'123);
    auto pcap = trace.pcap("001122AABBCC");
    REQUIRE(pcap.size() == 24 + 16 + 20 + 8 + kRegister.size());
    const auto* b = reinterpret_cast<const unsigned char*>(pcap.data());
    CHECK(std::memcmp(b, "\xd4\xc3\xb2\xa1", 4) == 0); // magic, microseconds
    CHECK(b[20] == 101);                                // LINKTYPE_RAW
    std::uint32_t sec = 0, usec = 0;
    std::memcpy(&sec, b + 24, 4);
    std::memcpy(&usec, b + 28, 4);
    CHECK(sec == 1'700'000'000u);
    CHECK(usec == 123u);
    const auto* ip = b + 40;
    CHECK(ip[0] == 0x45);
    CHECK(ip[9] == 17);
    CHECK(std::memcmp(ip + 12, "\x0a\x00\x00\x05", 4) == 0); // from the phone
    CHECK(std::memcmp(ip + 16, "\x0a\x00\x00\x01", 4) == 0); // to labcm
    auto sum = [](const unsigned char* p, std::size_t n, std::uint32_t s = 0) {
        for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
        if (n % 2) s += static_cast<std::uint32_t>(p[n - 1] << 8);
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        return s;
    };
    CHECK(sum(ip, 20) == 0xffff); // the IP header checksum verifies
    const auto* udp = ip + 20;
    CHECK((udp[0] << 8 | udp[1]) == 5070);
    CHECK((udp[2] << 8 | udp[3]) == 5060);
    std::uint32_t pseudo = sum(ip + 12, 8, 17 + 8 + static_cast<std::uint32_t>(kRegister.size()));
    CHECK(sum(udp, 8 + kRegister.size(), pseudo) == 0xffff); // and the UDP one
    CHECK(std::string(reinterpret_cast<const char*>(udp + 8), kRegister.size()) == kRegister);
}

TEST_CASE("a pcap's TCP segments number each direction's bytes; IPv6 and mixed families") {
    auto file = PcapFile::memory();
    PcapPacket p;
    p.tcp = true;
    p.srcAddress = "fd00::5";
    p.srcPort = 40000;
    p.dstAddress = "fd00::1";
    p.dstPort = 5060;
    p.payload = kRegister;
    CHECK(file->write(p));
    CHECK(file->write(p));
    p.srcAddress = "10.0.0.5"; // families differ: skipped
    CHECK_FALSE(file->write(p));
    CHECK(file->packets() == 2);
    auto bytes = file->finish();
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto second = 24 + 16 + 40 + 20 + kRegister.size();
    auto seqAt = [b](std::size_t packet) {
        const auto* tcp = b + packet + 16 + 40;
        return static_cast<std::uint32_t>(tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7]);
    };
    CHECK((b[24 + 16] >> 4) == 6);
    CHECK(seqAt(24) == 1);
    CHECK(seqAt(second) == 1 + kRegister.size());
}

TEST_CASE("a stamp's time of day (UTC) on today's date, or yesterday's just after midnight") {
    using namespace std::chrono;
    // 2026-12-02 01:56:41 UTC.
    const auto now = system_clock::time_point(seconds(1'796'176'601));
    CHECK(stampTime(1 * 3600 + 56 * 60 + 41, 5, now) == 1'796'176'601'000'005);
    CHECK(stampTime(1 * 3600 + 56 * 60 + 40, 0, now) == 1'796'176'600'000'000);
    // 23:59:59 read at 01:56:41: the day before.
    CHECK(stampTime(86399, 0, now) == (1'796'176'601LL - (1 * 3600 + 56 * 60 + 41) - 1) * 1'000'000);
}

TEST_CASE("a message put back together from sofia's message log") {
    // The calls tport_log_msg makes for a 200 OK with an XML body (CRLF headers, LF body).
    const std::string body = "<a>\n<b/>\n</a>\n";
    const std::string message = "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    LoggedMessage m;
    CHECK_FALSE(m.start("recv 10 bytes from tls/[10.0.0.5]:5061 at 01:02:03.000004:\n")); // not a transport labcm reads
    CHECK_FALSE(m.finish());
    REQUIRE(m.start("send " + std::to_string(message.size()) + " bytes to udp/[10.0.0.5]:5060 at 01:02:03.000004:\n"));
    for (std::string_view line : {"SIP/2.0 200 OK", "CSeq: 1 REGISTER"}) {
        m.piece(line);
        m.lineEnd();
    }
    m.piece("Content-Length: ");
    m.piece(std::to_string(body.size())); // a line may come in pieces
    m.lineEnd();
    m.piece("");
    m.lineEnd();
    for (std::string_view line : {"<a>", "<b/>", "</a>"}) {
        m.piece(line);
        m.lineEnd();
    }
    const auto* record = m.finish();
    REQUIRE(record);
    CHECK(record->bytes == message);
    CHECK(record->sent);
    CHECK_FALSE(record->truncated);
    CHECK(record->port == 5060);
    CHECK(record->micros == 4);
    CHECK_FALSE(m.active());
    // Received, with a CRLF body and no end of line after its last line.
    const std::string sdp = "v=0\r\ns=x";
    const std::string invite = "INVITE sip:a@b SIP/2.0\r\nContent-Length: 8\r\n\r\n" + sdp;
    REQUIRE(m.start("recv " + std::to_string(invite.size()) + " bytes from tcp/[fd00::5]:40000 at 01:02:03.000004:"));
    for (std::string_view line : {"INVITE sip:a@b SIP/2.0", "Content-Length: 8", "", "v=0"}) {
        m.piece(line);
        m.lineEnd();
    }
    m.piece("s=x");
    record = m.finish();
    REQUIRE(record);
    CHECK(record->bytes == invite);
    CHECK(record->tcp);
    CHECK_FALSE(record->sent);
    CHECK(record->address == "fd00::5");
    // A phone that ends every line with LF alone.
    const std::string bare = "OPTIONS sip:a SIP/2.0\nContent-Length: 0\n\n";
    REQUIRE(m.start("recv " + std::to_string(bare.size()) + " bytes from udp/[10.0.0.5]:5060 at 01:02:03.000004:"));
    for (std::string_view line : {"OPTIONS sip:a SIP/2.0", "Content-Length: 0", ""}) {
        m.piece(line);
        m.lineEnd();
    }
    CHECK(m.finish()->bytes == bare);
    // Cut short by the log (a line over 2047 bytes): kept as far as it goes, marked.
    REQUIRE(m.start("recv 5000 bytes from udp/[10.0.0.5]:5060 at 01:02:03.000004:"));
    m.piece(std::string(2047, 'x'));
    record = m.finish();
    REQUIRE(record);
    CHECK(record->truncated);
    CHECK(record->bytes.size() == 2047);
}

TEST_CASE("the trace's journal: kept across a restart within the bounds, a cut tail ignored, old messages dropped") {
    namespace fs = std::filesystem;
    const auto dir = fs::temp_directory_path() / ("labcm-trace-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    const auto path = dir / "trace" / "sip-trace.journal";
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto reg = [](int i) {
        WireRecord r;
        r.address = "10.0.0.5";
        r.port = static_cast<std::uint16_t>(5000 + i);
        r.bytes = kRegister;
        return r;
    };
    {
        SipTrace trace({3, 1 << 20});
        CHECK(trace.persistTo(path, std::chrono::hours(24)) == 0);
        for (int i = 0; i < 4; ++i) trace.add(reg(i), now - 1000 + i);
        WireRecord old = reg(9);
        trace.add(old, now - std::int64_t{48} * 3600 * 1'000'000); // two days old
        trace.snapshot(true, true);
    }
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    CHECK(bytes.starts_with("M "));
    {
        SipTrace again({2, 1 << 20});
        CHECK(again.persistTo(path, std::chrono::hours(24)) == 2); // the first kept 3; the old one is not loaded; this one keeps 2
        auto list = again.messages("001122AABBCC");
        REQUIRE(list.size() == 2);
        CHECK(list.back().port == 5003);
        CHECK(list.back().text == kRegister);
    }
    // Every cut of the journal loads the whole records before the cut, nothing else.
    std::size_t records = 0;
    readJournal(bytes, [&records](TracedMessage, std::string) { ++records; });
    for (std::size_t cut = 0; cut < bytes.size(); cut += 7) {
        std::size_t n = 0;
        auto used = readJournal(std::string_view(bytes).substr(0, cut), [&n](TracedMessage m, std::string mac) {
            CHECK(mac == "001122AABBCC");
            CHECK(m.text == kRegister);
            ++n;
        });
        CHECK(used <= cut);
        CHECK(n <= records);
    }
    std::size_t junk = 0;
    CHECK(readJournal("M 1 2 xx 001122AABBCC 10.0.0.5 5060 3\nabc\n", [&junk](TracedMessage, std::string) { ++junk; }) == 0);
    CHECK(readJournal("M 1 2 rt 001122AABBCC 10.0.0.5 5060 99999999\nabc\n", [&junk](TracedMessage, std::string) { ++junk; }) == 0);
    CHECK(readJournal("M 1 2 rty 001122AABBCC 10.0.0.5 5060 3\nabc\n", [&junk](TracedMessage, std::string) { ++junk; }) == 0);
    CHECK(junk == 0);
    // A message that was not whole keeps its mark across a restart.
    bool marked = false;
    CHECK(readJournal("M 1 2 rux 001122AABBCC 10.0.0.5 5060 3\nabc\n", [&marked](TracedMessage m, std::string) { marked = m.truncated; }) > 0);
    CHECK(marked);
    fs::remove_all(dir);
}

namespace {
/// One su_log call as sofia makes it, handed to the tap the way labcm's log redirect does.
bool logCall(WireTap& tap, const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    const bool taken = tap.onLog(format, ap);
    va_end(ap);
    return taken;
}

constexpr const char* kSeparatorFormat = "%s   ------------------------------------------------------------------------\n";

/// The calls tport_log_msg makes for `message` (its lines without their CRLF); the end
/// separator's argument is "\n" when the last line had no end of line.
void logMessage(WireTap& tap, const std::string& stamp, const std::string& message) {
    CHECK(logCall(tap, kSeparatorFormat, stamp.c_str()));
    std::size_t at = 0;
    while (at < message.size()) {
        auto eol = message.find("\r\n", at);
        if (eol == std::string::npos) eol = message.size();
        const std::string line = message.substr(at, eol - at);
        CHECK(logCall(tap, "%s%.*s", "   ", static_cast<int>(line.size()), line.c_str()));
        at = eol;
        if (at == message.size()) break;
        CHECK(logCall(tap, "\n"));
        at += 2;
    }
    CHECK(logCall(tap, kSeparatorFormat, message.ends_with("\r\n") ? "" : "\n"));
}
} // namespace

TEST_CASE("the tap takes the message log's calls, queues the messages and files them on its thread") {
    SipTrace trace({10, 1 << 20});
    WireTap tap(trace);
    // The thread starts after the calls: it takes the queue whole (a notice that came after
    // the thread took its message would mark nothing; sofia makes the two calls back to back).
    CHECK_FALSE(logCall(tap, "nta: %s\n", "another log line")); // not the message log: labcm's log has it
    logMessage(tap, "recv " + std::to_string(kRegister.size()) + " bytes from udp/[10.0.0.5]:5060 at 01:02:03.000004:\n", kRegister);
    logMessage(tap, "send " + std::to_string(kOk.size()) + " bytes to udp/[10.0.0.5]:5060 at 01:02:03.000009:\n", kOk);
    // Another transport: its lines are swallowed (not labcm's log), the message not kept, and
    // the notice after it marks nothing.
    logMessage(tap, "recv " + std::to_string(kOk.size()) + " bytes from tls/[10.0.0.5]:5061 at 01:02:03.000010:\n", kOk);
    CHECK(logCall(tap, "   *** message truncated at %zu ***\n", std::size_t{10}));
    // A message whose last line has no end of line ("\n" as the end separator's argument), then
    // the log's notice that it was cut short: it is marked.
    const std::string cut = "MESSAGE sip:a SIP/2.0\r\nContent-Length: 4\r\n\r\nabcd";
    logMessage(tap, "recv " + std::to_string(cut.size()) + " bytes from udp/[10.0.0.5]:5060 at 01:02:03.000011:\n", cut);
    CHECK(logCall(tap, "   *** message truncated at %zu ***\n", std::size_t{cut.size()}));
    // A stamp while a message is unended (its end was lost): the new one starts, whole.
    CHECK(logCall(tap, kSeparatorFormat, "recv 999 bytes from udp/[10.0.0.5]:5060 at 01:02:03.000012:\n"));
    CHECK(logCall(tap, "%s%.*s", "   ", 3, "abc"));
    logMessage(tap, "send " + std::to_string(kOk.size()) + " bytes to udp/[10.0.0.5]:5060 at 01:02:03.000013:\n", kOk);
    tap.start();
    tap.join();
    CHECK(tap.records() == 4);
    CHECK(trace.lost() == 1);
    auto list = trace.messages("001122AABBCC");
    REQUIRE(list.size() == 4);
    CHECK(list[0].text == kRegister);
    CHECK_FALSE(list[0].sent);
    CHECK(list[1].text == kOk);
    CHECK(list[1].sent);
    CHECK_FALSE(list[1].truncated);
    CHECK(list[1].timeUs % 1'000'000 == 9);
    CHECK(list[2].text == cut);
    CHECK(list[2].truncated);
    CHECK(list[3].text == kOk);
    CHECK_FALSE(list[3].truncated);
}
