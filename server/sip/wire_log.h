// The SIP messages labcm sent and received, read back from sofia's message log (TPTAG_LOG):
// tport_log_msg (sofia 1.12.11, tport_logging.c) writes every message it sends or receives
// through su_log as a stamp line
//
//   recv 925 bytes from udp/[10.0.0.5]:5060 at 01:56:41.290550:
//
// (or "send ... to"), then each line of the message in pieces with its end of line dropped,
// then a separator. LoggedMessage puts one message back together from those calls. The log
// holds whole messages in both directions (a TCP read's half message is not logged until it is
// whole); sofia's transport dump (TPTAG_DUMP) is no use: 1.12.11's tport_dump_iovec writes a
// message's first piece only (`fwrite(..., len, 1, f) != len`), and it costs the SIP thread a
// write to a file per message. Pure: no sofia, no threads; fuzzed (fuzz_wire_log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace labcm::sip {

/// @brief One message as labcm sent or received it.
struct WireRecord {
    bool sent = false;        ///< "send ... to" (labcm → phone); false: "recv ... from"
    bool truncated = false;   ///< not whole: the log cut it short (a line over 2047 bytes, a NUL,
                              ///< over 80 pieces), or its ends of line were not found again
    bool tcp = false;         ///< the stamp's transport: "tcp" (true) or "udp"; others are dropped
    std::string address;      ///< the peer's address as written in the stamp (IPv4 or IPv6 text)
    std::uint16_t port = 0;   ///< the peer's port
    int secondOfDay = 0;      ///< the stamp's time of day (UTC), seconds (0-86399)
    int micros = 0;           ///< and its microseconds
    std::string bytes;        ///< the message
};

/// @brief Parses a stamp line without its newline, e.g.
/// `send 512 bytes to udp/[10.0.0.5]:5060 at 01:02:03.000004:`; nullopt when it is not one.
/// On success `size` is the declared byte count.
std::optional<WireRecord> parseStamp(std::string_view line, std::size_t& size);

/// @brief One message put back together from the log's calls: the stamp, each line in pieces,
/// each end of line, the separator. The log loses which ends of line were CRLF: headers get
/// CRLF (RFC 3261), the body CRLF or LF, whichever makes the size the stamp declared.
class LoggedMessage {
public:
    /// @brief Starts a message at its stamp line; false (and nothing kept) when it is not one.
    bool start(std::string_view stamp);
    void piece(std::string_view text); ///< part of the current line
    void lineEnd();                    ///< the current line ended
    /// @brief The message, valid until the next start(); nullptr when none was started. Ends
    /// it. Its buffer is used again by the next message (no allocation per message).
    const WireRecord* finish();
    bool active() const { return active_; }

private:
    bool active_ = false;
    WireRecord record_;
    std::size_t declared_ = 0;
    std::size_t bodyAt_ = 0;     ///< where the body starts in record_.bytes (0: no empty line yet)
    std::size_t lineStart_ = 0;  ///< where the current line starts in record_.bytes
    std::size_t bodyLines_ = 0;  ///< ends of line in the body
    std::size_t lines_ = 0;      ///< ends of line in all
};

} // namespace labcm::sip
