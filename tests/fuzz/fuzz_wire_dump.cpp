// sofia's transport dump as the SIP trace reads it (issue 22): any bytes through the dump
// parser in pieces, each record through the trace (TCP splitting, MAC filing, the pcap), and
// the same bytes as the lines of a logged message. Nothing may crash, hang or grow unbounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip/sip_trace.h"
#include "sip/wire_dump.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = 1 + data[0] % 64;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

    labcm::sip::SipTrace trace({4, 64 * 1024});
    trace.setLocal("10.0.0.1", 5060);
    std::string lastMac;
    labcm::sip::WireDumpParser parser(
        [&](const labcm::sip::WireRecord& r) {
            trace.add(r, 1'000'000);
            if (auto mac = labcm::sip::macInMessage(r.bytes)) lastMac = *mac;
            (void)labcm::sip::contentLength(r.bytes);
        },
        4096);
    for (std::size_t i = 0; i < in.size(); i += piece) parser.feed(in.substr(i, piece));
    if (!lastMac.empty()) {
        (void)trace.messages(lastMac);
        (void)trace.pcap(lastMac);
    }

    // The same bytes as a trace journal (a crash may leave any tail).
    std::size_t journalled = 0;
    auto used = labcm::sip::readJournal(in, [&journalled](labcm::sip::TracedMessage, std::string mac) {
        if (mac.size() != 12) std::abort();
        ++journalled;
    });
    if (used > in.size()) std::abort();

    // The same bytes as a logged message: the first line its stamp, the others its lines.
    labcm::sip::LoggedMessage logged;
    auto nl = in.find('\n');
    if (logged.start(in.substr(0, nl))) {
        std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
        while (!rest.empty()) {
            auto end = rest.find('\n');
            logged.piece(rest.substr(0, end));
            if (end == std::string_view::npos) break;
            logged.lineEnd();
            rest.remove_prefix(end + 1);
        }
        labcm::sip::WireDumpParser again([](const labcm::sip::WireRecord&) {});
        again.feed(logged.finish());
    }
    return 0;
}
