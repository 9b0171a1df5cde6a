// The SIP thread's messages, tapped for the SIP trace (issue 22). sofia's message log
// (TPTAG_LOG) writes every message labcm sends or receives through su_log; the SIP thread's
// log redirect hands those calls to onLog(), which puts each message back together
// (LoggedMessage) and queues it. A thread of its own takes the queue every few milliseconds
// and files the messages in the SipTrace (which phone's, its bounds, captures, the journal).
//
// The SIP thread's part: the log's calls, the message put together in a buffer it reuses, one
// copy of it onto the queue (a byte buffer, swapped with the trace thread's: both keep their
// size, so neither allocates once they are as large as a batch) under a lock nobody holds for
// long. No write: a wake-up (a futex call) only when the trace thread sleeps because the lab
// was quiet. The queue is bounded (kMaxQueuedBytes): past it a message is not traced
// (SipTrace::lost()) rather than the SIP thread waiting.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "sip/wire_log.h"

namespace labcm::sip {

class SipTrace;

class WireTap {
public:
    static constexpr std::size_t kMaxQueuedBytes = 16u << 20;

    explicit WireTap(SipTrace& trace) : trace_(trace) {}
    ~WireTap() { join(); }
    WireTap(const WireTap&) = delete;
    WireTap& operator=(const WireTap&) = delete;

    /// @brief Starts the trace's thread; the stack then goes with TPTAG_LOG(1). Throws on failure.
    void start();
    /// @brief SIP thread, from its su_log redirect: takes the calls of sofia's message log
    /// (tport_log_msg's formats); true when `format` was one of them.
    bool onLog(const char* format, va_list ap);
    /// @brief Files what is queued and stops the thread: call after the SIP stack is gone.
    void join();

    std::uint64_t records() const { return records_; } ///< messages filed

private:
    void run();
    bool takeLog(const char* format, va_list ap);
    void push(const WireRecord& r);
    void markTruncated(); ///< the message last queued was cut short by the log
    /// @brief The trace thread: files the messages of `queued` (push()'s encoding).
    void file(std::string_view queued);

    SipTrace& trace_;
    LoggedMessage logged_;         ///< SIP thread only
    bool ignoring_ = false;        ///< SIP thread only: inside a logged message not read (its stamp was not one)
    bool justQueued_ = false;      ///< SIP thread only: the log's last message ended and was queued
    std::mutex mutex_;
    std::condition_variable wake_;
    std::string queue_;             ///< under mutex_: each message as a QueuedHead, its address, its bytes
    static constexpr std::size_t kNone = SIZE_MAX;
    std::size_t lastHead_ = kNone;  ///< under mutex_: where the message last queued starts in queue_
    bool sleeping_ = false;         ///< under mutex_: the thread waits for a message
    bool stopping_ = false;         ///< under mutex_
    std::thread thread_;
    std::atomic<std::uint64_t> records_{0};
};

} // namespace labcm::sip
