#include "sip/wire_tap.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/thread_name.h"
#include "sip/sip_trace.h"

namespace labcm::sip {

namespace {
/// Between two takes of the queue under a load: one wake-up per pause, not one per message.
constexpr auto kBatchPause = std::chrono::milliseconds(5);
constexpr auto kQuiet = std::chrono::seconds(1); ///< nothing came for this long: the lab is quiet

/// A queued message's head; its address and its bytes follow.
struct QueuedHead {
    std::uint32_t bytes;
    std::int32_t secondOfDay;
    std::int32_t micros;
    std::uint16_t port;
    std::uint8_t addressLength;
    std::uint8_t flags; ///< 1 sent, 2 tcp, 4 truncated
};
static_assert(sizeof(QueuedHead) == 16 && std::is_trivially_copyable_v<QueuedHead>);
} // namespace

void WireTap::start() {
    thread_ = std::thread([this] {
        nameThisThread("labcm-siptrace");
        run();
    });
}

// tport_log_msg (sofia 1.12.11, tport_logging.c) logs a message as these su_log calls:
//   "%s   " MSG_SEPARATOR     the stamp first; at the end "\n" or ""
//   "%s%.*s"                  a piece of a line: a prefix ("   " or ""), its length, its text
//   "\n"                      the line ended
//   "   *** message truncated at %zu ***\n"  after the end, when it was cut short (a line over
//                                         2047 bytes, a NUL, over 80 pieces)
bool WireTap::onLog(const char* format, va_list ap) {
    try {
        return takeLog(format, ap);
    } catch (const std::exception&) { // nothing may unwind into sofia's C frames
        logged_ = LoggedMessage();
        ignoring_ = true; // the rest of this message, up to its end separator
        trace_.lose();
        return true;
    }
}

bool WireTap::takeLog(const char* format, va_list ap) {
    static constexpr std::string_view kSeparator =
        "%s   ------------------------------------------------------------------------\n";
    static constexpr std::string_view kTruncated = "   *** message truncated at ";
    const std::string_view f(format);
    if (f == "%s%.*s") {
        if (!logged_.active()) return ignoring_;
        va_list copy;
        va_copy(copy, ap);
        (void)va_arg(copy, const char*);
        const int n = va_arg(copy, int);
        const char* text = va_arg(copy, const char*);
        va_end(copy);
        if (text && n > 0) logged_.piece(std::string_view(text, static_cast<std::size_t>(n)));
        return true;
    }
    if (f == "\n") {
        if (!logged_.active()) return ignoring_;
        logged_.lineEnd();
        return true;
    }
    if (f == kSeparator) {
        va_list copy;
        va_copy(copy, ap);
        const char* arg = va_arg(copy, const char*);
        va_end(copy);
        const std::string_view a(arg ? arg : "");
        if (a.empty() || a == "\n") { // the end of a message
            ignoring_ = false;
            if (const auto* record = logged_.finish()) {
                push(*record);
                justQueued_ = true;
            }
            return true;
        }
        // A stamp: a message starts (one left unended, were there one, is dropped).
        justQueued_ = false;
        ignoring_ = !logged_.start(a);
        if (ignoring_) trace_.lose(); // a stamp labcm does not read (another transport)
        return true;
    }
    if (f.starts_with(kTruncated)) { // after the end of the message it is about
        if (std::exchange(justQueued_, false)) markTruncated();
        return true;
    }
    return false;
}

void WireTap::markTruncated() {
    std::lock_guard lock(mutex_);
    // Already taken by the trace thread (it took the queue between sofia's two calls, which
    // come back to back): the message goes without the mark.
    if (lastHead_ == kNone) return;
    QueuedHead head;
    std::memcpy(&head, queue_.data() + lastHead_, sizeof head);
    head.flags |= 4;
    std::memcpy(queue_.data() + lastHead_, &head, sizeof head);
}

void WireTap::push(const WireRecord& r) {
    const QueuedHead head{static_cast<std::uint32_t>(r.bytes.size()), r.secondOfDay, r.micros, r.port,
                          static_cast<std::uint8_t>(std::min<std::size_t>(r.address.size(), 255)),
                          static_cast<std::uint8_t>((r.sent ? 1 : 0) | (r.tcp ? 2 : 0) | (r.truncated ? 4 : 0))};
    const std::size_t size = sizeof head + head.addressLength + r.bytes.size();
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() + size > kMaxQueuedBytes) {
            trace_.lose();
            return;
        }
        const auto at = queue_.size();
        try {
            queue_.append(reinterpret_cast<const char*>(&head), sizeof head);
            queue_.append(r.address.data(), head.addressLength);
            queue_.append(r.bytes);
        } catch (...) { // no memory: the queue as it was, whole messages only
            queue_.resize(at);
            lastHead_ = kNone;
            throw;
        }
        lastHead_ = at;
        wake = std::exchange(sleeping_, false);
    }
    if (wake) wake_.notify_one();
}

void WireTap::file(std::string_view queued) {
    const auto now = std::chrono::system_clock::now();
    while (queued.size() >= sizeof(QueuedHead)) {
        QueuedHead head;
        std::memcpy(&head, queued.data(), sizeof head);
        queued.remove_prefix(sizeof head);
        WireRecord r;
        r.sent = head.flags & 1;
        r.tcp = head.flags & 2;
        r.truncated = head.flags & 4;
        r.port = head.port;
        r.secondOfDay = head.secondOfDay;
        r.micros = head.micros;
        // The record's parts, taken off the queue first: a failure below loses this one only.
        const auto address = queued.substr(0, head.addressLength);
        queued.remove_prefix(address.size());
        const auto bytes = queued.substr(0, head.bytes);
        queued.remove_prefix(bytes.size());
        try {
            r.address.assign(address);
            r.bytes.assign(bytes);
            const auto at = stampTime(r.secondOfDay, r.micros, now);
            trace_.add(std::move(r), at);
            ++records_;
        } catch (const std::exception& e) { // out of memory: lose this one, go on
            trace_.lose();
            spdlog::warn("sip trace: a message was not kept: {}", e.what());
        }
    }
}

void WireTap::join() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void WireTap::run() {
    std::string batch;
    while (true) {
        bool stop = false;
        {
            std::unique_lock lock(mutex_);
            if (queue_.empty() && !stopping_) {
                sleeping_ = true;
                wake_.wait_for(lock, kQuiet, [this] { return !queue_.empty() || stopping_; });
                sleeping_ = false;
            }
            stop = stopping_;
            batch.swap(queue_); // both keep their size: no allocation on either side
            lastHead_ = kNone;
        }
        if (batch.empty() && !stop) {
            trace_.snapshot(true); // quiet for a while: the journal is written (off this thread)
            continue;
        }
        file(batch);
        batch.clear();
        if (stop) break;
        trace_.snapshot(false); // under a steady load, every SipTrace::kSnapshotEvery
        std::this_thread::sleep_for(kBatchPause); // let the queue gather
    }
    trace_.snapshot(true, true); // the end: written before labcm stops
}

} // namespace labcm::sip
