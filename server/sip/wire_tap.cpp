#include "sip/wire_tap.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/thread_name.h"
#include "sip/sip_trace.h"
#include "sip/wire_dump.h"

namespace labcm::sip {

namespace {
constexpr int kPipeBytes = 1 << 20;
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr auto kBatchPause = std::chrono::milliseconds(2);
constexpr auto kQuiet = std::chrono::seconds(1); ///< nothing read for this long: the lab is quiet
} // namespace

std::string WireTap::start() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe for the SIP trace: {}", std::strerror(errno)));
    readFd_ = fds[0];
    writeFd_ = fds[1];
    ::fcntl(writeFd_, F_SETPIPE_SZ, kPipeBytes); // best effort: the default (64 KiB) works, only shallower
    thread_ = std::thread([this] {
        nameThisThread("labcm-siptrace");
        read();
    });
    return fmt::format("/proc/self/fd/{}", writeFd_);
}

// tport_log_msg (sofia 1.12.11, tport_logging.c) logs a message as these su_log calls:
//   "%s   " MSG_SEPARATOR     the stamp first; at the end "\n" or ""
//   "%s%.*s"                  a piece of a line: a prefix ("   " or ""), its length, its text
//   "\n"                      the line ended
//   "   *** message truncated at %zu ***\n"  after the end, when a line was over 2047 bytes
bool WireTap::onLog(const char* format, va_list ap) {
    try {
        return takeLog(format, ap);
    } catch (const std::exception&) { // nothing may unwind into sofia's C frames
        logged_ = LoggedMessage();
        ignoring_ = false;
        ++lost_;
        return true;
    }
}

bool WireTap::takeLog(const char* format, va_list ap) {
    static constexpr std::string_view kSeparator =
        "%s   ------------------------------------------------------------------------\n";
    static constexpr std::string_view kTruncated = "   *** message truncated at ";
    const std::string_view f(format);
    if (f == kSeparator) {
        va_list copy;
        va_copy(copy, ap);
        const char* arg = va_arg(copy, const char*);
        va_end(copy);
        if (logged_.active()) { // the end of a sent message
            auto record = logged_.finish();
            for (std::size_t at = 0; at < record.size();) {
                auto n = ::write(writeFd_, record.data() + at, record.size() - at);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                at += static_cast<std::size_t>(n);
            }
            return true;
        }
        if (ignoring_) {
            ignoring_ = false;
            return true;
        }
        if (!logged_.start(arg ? arg : "")) ignoring_ = true; // a received one (the dump has it raw)
        return true;
    }
    if (f == "%s%.*s") {
        if (!logged_.active() && !ignoring_) return false;
        va_list copy;
        va_copy(copy, ap);
        (void)va_arg(copy, const char*);
        const int n = va_arg(copy, int);
        const char* text = va_arg(copy, const char*);
        va_end(copy);
        if (logged_.active() && text && n > 0) logged_.piece(std::string_view(text, static_cast<std::size_t>(n)));
        return true;
    }
    if (f == "\n") {
        if (!logged_.active() && !ignoring_) return false;
        if (logged_.active()) logged_.lineEnd();
        return true;
    }
    return f.starts_with(kTruncated);
}

void WireTap::join() {
    if (writeFd_ >= 0) ::close(writeFd_), writeFd_ = -1;
    if (thread_.joinable()) thread_.join();
    if (readFd_ >= 0) ::close(readFd_), readFd_ = -1;
}

void WireTap::read() {
    WireDumpParser parser([this](const WireRecord& r) {
        try {
            trace_.add(r, stampTime(r.secondOfDay, r.micros, std::chrono::system_clock::now()));
        } catch (const std::exception& e) { // out of memory: lose this record, keep draining the pipe
            ++lost_;
            spdlog::warn("sip trace: a message was not kept: {}", e.what());
        }
    });
    std::vector<char> buf(kReadChunk);
    while (true) {
        // Quiet for a while: the journal is written (a snapshot of memory, off this thread).
        pollfd p{readFd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kQuiet).count()));
        if (ready == 0) {
            trace_.snapshot(true);
            continue;
        }
        auto n = ::read(readFd_, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; // end: sofia closed the dump with its stack
        try {
            parser.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        } catch (const std::exception& e) {
            ++lost_;
            spdlog::warn("sip trace: a read of the dump was not parsed: {}", e.what());
        }
        records_ = parser.records();
        dropped_ = parser.dropped();
        // Less than a full read: let the dump gather before the next one. One wake-up per
        // kBatchPause instead of one per message (the pipe holds ~40 ms of a 20,000/s load).
        if (static_cast<std::size_t>(n) < buf.size()) std::this_thread::sleep_for(kBatchPause);
        trace_.snapshot(false); // under a steady load, every SipTrace::kSnapshotEvery
    }
    trace_.snapshot(true, true); // the end: written before labcm stops
}

} // namespace labcm::sip
