// sofia's message log as the SIP trace reads it (issue 22): the first line a stamp, the others
// the lines of one message (a '\n' ends a line, a '\f' cuts a line into two pieces), put back
// together and filed in a trace (MAC filing, bounds, the pcap); the same bytes as su_log calls
// through the tap and its queue ('\v' an end separator, '\t' a stamp from the rest of the
// line, '\a' the log's truncation notice); and as a trace journal. Nothing may crash, hang or
// grow unbounded, and nothing comes out of the queue but what went in.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip/sip_trace.h"
#include "sip/wire_log.h"
#include "sip/wire_tap.h"

namespace {

constexpr const char* kSeparator = "%s   ------------------------------------------------------------------------\n";

bool logCall(labcm::sip::WireTap& tap, const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    const bool taken = tap.onLog(format, ap);
    va_end(ap);
    return taken;
}

} // namespace

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
        if (!record || record->bytes.size() > (1u << 20)) std::abort();
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

    // The same bytes as the log's calls through the tap (its thread started after, so the
    // queue is taken whole).
    {
        labcm::sip::SipTrace tapped({8, 256 * 1024});
        labcm::sip::WireTap tap(tapped);
        std::size_t ends = 0;
        std::string_view rest = in;
        while (!rest.empty()) {
            const auto cut = rest.find_first_of("\n\f\v\t\a");
            const std::string piece(rest.substr(0, cut));
            if (!piece.empty()) logCall(tap, "%s%.*s", "", static_cast<int>(piece.size()), piece.c_str());
            if (cut == std::string_view::npos) break;
            const char c = rest[cut];
            rest.remove_prefix(cut + 1);
            if (c == '\n') {
                logCall(tap, "\n");
            } else if (c == '\v') {
                logCall(tap, kSeparator, "");
                ++ends;
            } else if (c == '\t') {
                const auto eol = rest.find('\n');
                const std::string stamp(rest.substr(0, eol));
                logCall(tap, kSeparator, stamp.c_str());
                if (stamp.c_str()[0] == 0) ++ends; // an empty argument (as a C string) is an end separator
                rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
            } else if (c == '\a') {
                logCall(tap, "   *** message truncated at %zu ***\n", std::size_t{1});
            }
        }
        tap.start();
        tap.join();
        if (tap.records() > ends) std::abort();
    }

    // The same bytes as a trace journal (a crash may leave any tail).
    auto used = labcm::sip::readJournal(in, [](labcm::sip::TracedMessage, std::string mac) {
        if (mac.size() != 12) std::abort();
    });
    if (used > in.size()) std::abort();
    return 0;
}
