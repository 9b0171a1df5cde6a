// SIP traces (issue 22, items 2 and 3): each phone's last SIP messages as labcm sent and
// received them (sip::SipTrace, fed by the SIP thread's wire tap), as a list and as a pcap;
// and a server-wide capture into a pcap file under <data-dir>/captures for a bounded time and
// size (labcm capture).
#include <sodium.h>

#include <algorithm>
#include <ctime>
#include <vector>
#include <filesystem>

#include <fmt/format.h>

#include "core/limits.h"
#include "core/mac.h"
#include "sip/sip_trace.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {

namespace {

constexpr std::size_t kReplyBytes = 4 * 1024 * 1024; ///< a trace or pcap reply's messages, bytes
constexpr std::size_t kKeptCaptures = 8;             ///< capture files kept in <data-dir>/captures

sip::SipTrace& traceOf(const Context& ctx) {
    if (!ctx.trace) throw CommandError(503, "not_running", "", "SIP traces are kept by the running server (labcm serve)");
    return *ctx.trace;
}

std::string base64(const std::string& bytes) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1); // its NUL
    return out;
}

/// "20261202-031500": UTC, for file names.
std::string fileStamp() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    return buf;
}

json::object statusJson(const sip::CaptureStatus& s) {
    return {{"name", s.name}, {"path", s.path}, {"done", s.done}, {"packets", s.packets}, {"bytes", s.bytes},
            {"stopped", s.stopped}};
}

} // namespace

/// Keeps the newest kKeptCaptures files of <data-dir>/captures (a capture may be up to 1 GiB).
void pruneCaptures(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".pcap") files.push_back(e.path());
    std::sort(files.begin(), files.end()); // capture-YYYYmmdd-HHMMSS[_n]: by time
    for (std::size_t i = 0; i + kKeptCaptures < files.size(); ++i) std::filesystem::remove(files[i], ec);
}

void addTraceUseCases(Table& t) {
    t.add("device.trace", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto& trace = traceOf(t.ctx);
        bool cut = false;
        json::array out;
        for (const auto& m : trace.newest(mac, kReplyBytes, &cut)) {
            auto firstLine = m.text.substr(0, std::min(m.text.find('\r'), m.text.find('\n')));
            out.push_back({{"seq", m.seq},
                           {"time_us", m.timeUs},
                           {"direction", m.sent ? "out" : "in"},
                           {"transport", m.tcp ? "tcp" : "udp"},
                           {"address", m.address},
                           {"port", m.port},
                           {"first_line", firstLine},
                           {"truncated", m.truncated},
                           {"text", m.text}});
        }
        reply(okReply({{"device", deviceName(mac)}, {"enabled", trace.enabled()}, {"older_left_out", cut},
                       {"messages", std::move(out)}}));
    });

    t.add("device.pcap", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto& trace = traceOf(t.ctx);
        std::size_t count = 0;
        auto bytes = trace.pcap(mac, kReplyBytes, &count); // one copy of the messages, not one to count and one to write
        if (count == 0)
            throw CommandError(404, "not_found", "device",
                               trace.enabled() ? fmt::format("labcm has no SIP message of {} (none since it started)", deviceName(mac))
                                               : std::string("the SIP trace is off (setting sip_trace_messages is 0)"));
        reply(okReply({{"name", fmt::format("{}-{}.pcap", deviceName(mac), fileStamp())},
                       {"messages", count},
                       {"pcap_base64", base64(bytes)}}));
    });

    t.add("capture.start", [&t](const json::object& a, Reply reply) {
        auto& trace = traceOf(t.ctx);
        if (!trace.enabled())
            throw CommandError(409, "trace_off", "", "the SIP trace is off (setting sip_trace_messages is 0): set it and restart labcm to capture");
        auto seconds = optInt(a, "seconds").value_or(60);
        if (seconds < 1 || seconds > limits::kCaptureMaxTime.count())
            badArg("seconds", fmt::format("{} is not from 1 to {}", seconds, limits::kCaptureMaxTime.count()));
        auto maxBytes = optInt(a, "max_bytes").value_or(static_cast<std::int64_t>(100) * 1024 * 1024);
        if (maxBytes < 1024 || static_cast<std::uint64_t>(maxBytes) > limits::kCaptureMaxBytes)
            badArg("max_bytes", fmt::format("{} is not from 1024 to {}", maxBytes, limits::kCaptureMaxBytes));
        auto dir = std::filesystem::path(t.ctx.info.dataDir) / "captures";
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw CommandError(500, "internal", "", fmt::format("cannot create {}: {}", dir.string(), ec.message()));
        pruneCaptures(dir);
        const auto stamp = fileStamp();
        auto name = fmt::format("capture-{}.pcap", stamp);
        for (int n = 2; n < 100 && std::filesystem::exists(dir / name, ec); ++n) name = fmt::format("capture-{}_{}.pcap", stamp, n);
        try {
            auto s = trace.startCapture(name, (dir / name).string(), std::chrono::seconds(seconds), static_cast<std::uint64_t>(maxBytes));
            reply(okReply(statusJson(s)));
        } catch (const sip::CaptureBusy& e) {
            throw CommandError(503, "busy", "", e.what());
        } catch (const std::runtime_error& e) {
            throw CommandError(500, "internal", "", e.what());
        }
    });

    t.add("capture.status", [&t](const json::object& a, Reply reply) {
        auto name = reqString(a, "name");
        auto s = traceOf(t.ctx).capture(name);
        if (!s) throw CommandError(404, "not_found", "name", "no capture '" + name + "'");
        reply(okReply(statusJson(*s)));
    });
}

} // namespace labcm::usecases::detail
