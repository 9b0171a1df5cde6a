// The SIP thread's wire, tapped. What labcm receives: sofia writes every datagram and TCP read
// to its transport dump (TPTAG_DUMP), here a pipe. What labcm sends: sofia's dump keeps only a
// message's first piece (wire_dump.h, LoggedMessage), so sent messages come from its message
// log (TPTAG_LOG) instead, whose su_log calls the SIP thread's log redirect hands to onLog();
// the message, put back together, goes into the same pipe as a record. A thread of its own
// reads the pipe, cuts it into records (WireDumpParser) and files them in the SipTrace. The
// SIP thread pays one write to the pipe per message; the parsing and filing happen beside it.
//
// The pipe is 1 MiB deep; the reader keeps up with it by a wide margin (it only copies), and
// should it fall behind, sofia's write waits: a trace never loses or reorders a message.
#pragma once

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <string>
#include <thread>

#include "sip/wire_dump.h"

namespace labcm::sip {

class SipTrace;

class WireTap {
public:
    explicit WireTap(SipTrace& trace) : trace_(trace) {}
    ~WireTap() { join(); }
    WireTap(const WireTap&) = delete;
    WireTap& operator=(const WireTap&) = delete;

    /// @brief Creates the pipe and starts the reader; returns the file name for TPTAG_DUMP
    /// (/proc/self/fd/N: sofia opens its own descriptor of the pipe; TPTAG_LOG(1) goes with
    /// it). Throws on failure.
    std::string start();
    /// @brief SIP thread, from its su_log redirect: takes the calls of sofia's message log
    /// (tport_log_msg's formats); true when `format` was one of them.
    bool onLog(const char* format, va_list ap);
    /// @brief Closes labcm's write end and waits for the reader (which ends when sofia's
    /// dump is closed too): call after the SIP stack is gone.
    void join();

    std::uint64_t records() const { return records_; }
    std::uint64_t dropped() const { return dropped_; }
    std::uint64_t lost() const { return lost_; }

private:
    void read();
    bool takeLog(const char* format, va_list ap);

    SipTrace& trace_;
    int readFd_ = -1;
    int writeFd_ = -1;
    LoggedMessage logged_;
    bool ignoring_ = false; ///< inside a logged message that is not a sent one (labcm takes those from the dump)
    std::thread thread_;
    std::atomic<std::uint64_t> records_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> lost_{0}; ///< messages not kept for want of memory
};

} // namespace labcm::sip
