// One TFTP read transfer as a pure state machine: it is told about ACKs and timeouts and
// answers with the datagrams to send. No sockets, no clocks (the service owns those).
//
// Blocks are numbered 1..N internally (64-bit), so files of any size work; on the wire the
// number is taken modulo 65536 (block 65535 is followed by block 0, as tftp-hpa, atftp and
// curl expect). The last block is shorter than the block size (0 bytes when the size is a
// multiple of it). With windowsize W (RFC 7440) up to W blocks are in flight; an ACK for
// block n means "all up to n arrived": sending resumes at n+1. Duplicate or stale ACKs are
// ignored (no Sorcerer's Apprentice retransmissions); only a timeout retransmits.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tftp/codec.h"

namespace labcm::tftp {

/// @brief Where the bytes come from.
class Source {
public:
    virtual ~Source() = default;
    virtual std::uint64_t size() const = 0;
    /// @brief Fills `out` from `offset`; returns the bytes read (short only at the end).
    /// @throw std::runtime_error on an I/O error.
    virtual std::size_t read(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
};

class MemorySource final : public Source {
public:
    explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
    std::uint64_t size() const override { return bytes_.size(); }
    std::size_t read(std::uint64_t offset, std::span<std::uint8_t> out) override;

private:
    std::string bytes_;
};

/// @brief Converts to netascii (RFC 764: LF -> CR LF, CR -> CR NUL).
std::string toNetascii(std::string_view bytes);

/// @brief Another source as netascii, converted while it is read: nothing is held but a
/// chunk of the source and where recent reads began (a retransmitted window goes back at most
/// limits::kTftpMaxWindow blocks). Its size takes one pass over the source, at construction.
class NetasciiSource final : public Source {
public:
    explicit NetasciiSource(std::unique_ptr<Source> raw);
    std::uint64_t size() const override { return size_; }
    std::size_t read(std::uint64_t offset, std::span<std::uint8_t> out) override;

private:
    struct Cursor {
        std::uint64_t out = 0;   ///< converted offset
        std::uint64_t in = 0;    ///< source offset of the next byte to convert
        std::uint8_t second = 0; ///< the second byte of a CR pair still to give, when `pending`
        bool pending = false;
    };
    /// @brief Converts from the cursor on: into `dst` (or skips, when null) `want` bytes at most.
    std::size_t produce(std::uint8_t* dst, std::uint64_t want);
    /// @brief The source byte at `in`, through the chunk; false at the end.
    bool byteAt(std::uint64_t in, std::uint8_t& b);

    std::unique_ptr<Source> raw_;
    std::uint64_t size_ = 0;
    Cursor cursor_;
    std::deque<Cursor> marks_; ///< where the latest reads began, oldest first
    std::vector<std::uint8_t> chunk_;
    std::uint64_t chunkAt_ = 0;
    std::size_t chunkLen_ = 0;
};

/// @brief What was agreed for one transfer.
struct Negotiated {
    std::uint16_t blockSize = 512;
    std::uint16_t windowSize = 1;
    int timeoutSeconds = 0; ///< 0 = the server's default
    std::vector<std::pair<std::string, std::string>> oack; ///< options to acknowledge; empty = no OACK
};

/// @brief Accepts, clamps or ignores each requested option (RFC 2347: an option the server
/// does not accept is left out of the OACK). tsize gets the real size.
Negotiated negotiate(const Request& req, std::uint64_t size);

class Transfer {
public:
    struct Step {
        std::vector<std::vector<std::uint8_t>> send;
        bool done = false;   ///< the last block was acknowledged
        bool failed = false; ///< gave up (retries exhausted)
        std::string error;
    };

    Transfer(Negotiated n, Source& source);

    /// @brief The first datagrams: the OACK, or the first window of data.
    Step start();
    Step onAck(std::uint16_t wireBlock);
    Step onTimeout();

    std::uint64_t bytesAcked() const;
    std::uint64_t blocks() const { return total_; }
    const Negotiated& negotiated() const { return n_; }
    int retransmissions() const { return retransmissions_; }

private:
    std::vector<std::uint8_t> block(std::uint64_t n);
    void sendRange(Step& s, std::uint64_t from, std::uint64_t to);

    Negotiated n_;
    Source& source_;
    std::uint64_t total_;        ///< N: number of data blocks
    std::uint64_t acked_ = 0;    ///< highest block acknowledged (0 = none)
    std::uint64_t sent_ = 0;     ///< highest block sent
    bool oackPending_ = false;
    bool heard_ = false; ///< the client acknowledged something (its source is not forged)
    int retries_ = 0;
    int retransmissions_ = 0;
    std::vector<std::uint8_t> buffer_;
};

} // namespace labcm::tftp
