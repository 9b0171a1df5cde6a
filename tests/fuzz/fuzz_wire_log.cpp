// sofia's message log as the SIP trace reads it (issue 22): the first line a stamp, the others
// the lines of one message (a '\n' ends a line, a '\f' cuts a line into two pieces), put back
// together and filed in a trace (MAC filing, bounds, the pcap); the same bytes as a trace
// journal. Nothing may crash, hang or grow unbounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip/sip_trace.h"
#include "sip/wire_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    labcm::sip::SipTrace trace({4, 64 * 1024});
    trace.setLocal("10.0.0.1", 5060);
    labcm::sip::LoggedMessage logged;
    auto nl = in.find('\n');
    if (logged.start(in.substr(0, nl))) {
        std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
        while (!rest.empty()) {
            auto end = rest.find_first_of("\n\f");
            logged.piece(rest.substr(0, end));
            if (end == std::string_view::npos) break;
            if (rest[end] == '\n') logged.lineEnd();
            rest.remove_prefix(end + 1);
        }
        const auto* record = logged.finish();
        if (!record) std::abort();
        auto mac = labcm::sip::macInMessage(record->bytes);
        auto reply = *record;
        reply.sent = !reply.sent;
        trace.add(*record, 1'000'000);
        trace.add(std::move(reply), 2'000'000);
        if (mac) {
            (void)trace.messages(*mac);
            (void)trace.pcap(*mac);
        }
    }

    // The same bytes as a trace journal (a crash may leave any tail).
    auto used = labcm::sip::readJournal(in, [](labcm::sip::TracedMessage, std::string mac) {
        if (mac.size() != 12) std::abort();
    });
    if (used > in.size()) std::abort();
    return 0;
}
