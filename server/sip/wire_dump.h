// The SIP bytes labcm sent and received, read back from sofia's transport dump (TPTAG_DUMP):
// sofia writes every datagram and every TCP read or write it makes, each after a stamp line
//
//   recv 1861 bytes from tcp/[127.0.0.1]:18089 at 01:56:41.290550:
//   <the 1861 bytes>\v\n
//
// (tport_logging.c tport_stamp/tport_dump_iovec; "sent ... to" for what it sent). The dump
// goes into a pipe; WireDumpParser cuts that stream back into records, and SipStreamSplitter
// cuts a TCP connection's records into SIP messages (a read may hold half a message, or two).
// Both are pure: no sofia, no threads; fuzzed (fuzz_wire_dump).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labcm::sip {

/// @brief One stamp's worth of the dump: what sofia sent or received in one go.
struct WireRecord {
    bool sent = false;        ///< "sent ... to" / "send ... to" (labcm → phone); false: "recv ... from"
    bool logged = false;      ///< "send": a whole message from the message log (LoggedMessage), not the dump
    bool truncated = false;   ///< sofia wrote less than it declared (its dump keeps a read's first piece)
    bool tcp = false;         ///< the stamp's transport: "tcp" (true) or "udp"; others are dropped
    std::string address;      ///< the peer's address as written in the stamp (IPv4 or IPv6 text)
    std::uint16_t port = 0;   ///< the peer's port
    int secondOfDay = 0;      ///< the stamp's local time of day, seconds (0-86399)
    int micros = 0;           ///< and its microseconds
    std::string_view bytes;   ///< the data; valid during the callback only
};

/// @brief Parses a stamp line without its newline, e.g.
/// `sent 512 bytes to udp/[10.0.0.5]:5060 at 01:02:03.000004:`; nullopt when it is not one.
/// On success `size` is the declared byte count.
std::optional<WireRecord> parseStamp(std::string_view line, std::size_t& size);

/// @brief Incremental parser of the dump stream. Anything that is not a stamp (the "dump
/// started" banner, a record cut off, garbage) is skipped up to the next line and counted.
class WireDumpParser {
public:
    using Sink = std::function<void(const WireRecord&)>;
    /// @param maxRecord a stamp that declares more bytes is dropped (counted in `dropped`); its
    /// data is then read as lines, none of them a stamp.
    explicit WireDumpParser(Sink sink, std::size_t maxRecord = 1 << 20) : sink_(std::move(sink)), maxRecord_(maxRecord) {}

    /// @brief Feeds the next bytes of the stream; calls the sink for each whole record.
    void feed(std::string_view data);

    std::uint64_t records() const { return records_; }
    std::uint64_t dropped() const { return dropped_; } ///< lines or records that were not a record

private:
    bool step(); ///< consumes one record or one skipped line from buf_; false: needs more bytes

    Sink sink_;
    std::size_t maxRecord_;
    std::string buf_;
    std::size_t pos_ = 0;        ///< parse position in buf_
    std::uint64_t records_ = 0;
    std::uint64_t dropped_ = 0;
};

/// @brief One sent message put back together from sofia's message log (TPTAG_LOG), which
/// tport_log_msg writes through su_log: the stamp ("send 925 bytes to udp/[..]:5060 at ...:"),
/// each line in pieces with its end of line dropped, then a separator. The dump cannot serve
/// for sent messages: sofia 1.12.11's tport_dump_iovec stops after the first piece of a message
/// (`fwrite(..., len, 1, f) != len`), so a body kept apart from the headers never reaches it.
/// The log loses which ends of line were CRLF: headers get CRLF (RFC 3261), the body CRLF or
/// LF, whichever makes the size the stamp declared.
class LoggedMessage {
public:
    /// @brief Starts a message at its stamp line; false (and nothing kept) when the stamp is
    /// not a "send" one.
    bool start(std::string_view stamp);
    void piece(std::string_view text); ///< part of the current line
    void lineEnd();                    ///< the current line ended
    /// @brief The message as a dump record ("send N bytes to ...:\n" + bytes + "\v\n"),
    /// ready for WireDumpParser; empty when no message was started.
    std::string finish();
    bool active() const { return active_; }

private:
    bool active_ = false;
    std::string stamp_;
    std::size_t declared_ = 0;
    std::vector<std::string> lines_;
    std::string current_;
};

/// @brief Cuts one TCP direction's byte stream into SIP messages by their headers' end and
/// Content-Length (RFC 3261 §18.3); the CRLFs of keep-alives between messages are skipped. A
/// message without a usable Content-Length, or one over `maxMessage`, ends the stream's
/// framing: what is buffered is given as one piece and the splitter starts over.
class SipStreamSplitter {
public:
    explicit SipStreamSplitter(std::size_t maxMessage = 64 * 1024) : max_(maxMessage) {}
    /// @brief Appends `data` and calls `sink` for every whole message.
    void feed(std::string_view data, const std::function<void(std::string_view)>& sink);
    bool empty() const { return buf_.empty(); }
    std::size_t buffered() const { return buf_.size(); }

private:
    void giveUp(const std::function<void(std::string_view)>& sink);

    std::string buf_;
    std::size_t max_;
    std::size_t start_ = 0;   ///< where the current message starts in buf_
    std::size_t scanned_ = 0; ///< buf_ searched up to here for the header end, without one
    std::size_t bodyAt_ = 0;  ///< the current message's body in buf_ (0: its header end not found yet)
    std::size_t length_ = 0;  ///< its Content-Length
};

/// @brief The Content-Length of a SIP message's header block (`Content-Length` or compact
/// `l`, any case); nullopt when absent or not a number.
std::optional<std::size_t> contentLength(std::string_view headers);

} // namespace labcm::sip
