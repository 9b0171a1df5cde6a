#include "tftp/transfer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "core/limits.h"

namespace labcm::tftp {
namespace {

std::optional<std::uint64_t> number(const std::string& v) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || v.empty()) return std::nullopt;
    return n;
}

} // namespace

std::size_t MemorySource::read(std::uint64_t offset, std::span<std::uint8_t> out) {
    if (offset >= bytes_.size()) return 0;
    auto n = std::min<std::uint64_t>(out.size(), bytes_.size() - offset);
    std::memcpy(out.data(), bytes_.data() + offset, n);
    return n;
}

std::string toNetascii(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 16);
    for (char c : bytes) {
        if (c == '\n') out += "\r\n";
        else if (c == '\r') out += std::string("\r\0", 2);
        else out.push_back(c);
    }
    return out;
}

NetasciiSource::NetasciiSource(std::unique_ptr<Source> raw) : raw_(std::move(raw)), chunk_(64 * 1024) {
    // The converted size: the source's plus one byte per LF and per CR.
    const auto total = raw_->size();
    for (std::uint64_t at = 0; at < total;) {
        auto n = raw_->read(at, chunk_);
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) size_ += (chunk_[i] == '\n' || chunk_[i] == '\r') ? 2 : 1;
        at += n;
    }
    chunkLen_ = 0;
}

bool NetasciiSource::byteAt(std::uint64_t in, std::uint8_t& b) {
    if (in < chunkAt_ || in >= chunkAt_ + chunkLen_) {
        chunkAt_ = in;
        chunkLen_ = raw_->read(in, chunk_);
        if (chunkLen_ == 0) return false;
    }
    b = chunk_[in - chunkAt_];
    return true;
}

std::size_t NetasciiSource::produce(std::uint8_t* dst, std::uint64_t want) {
    std::size_t done = 0;
    while (done < want) {
        std::uint8_t b;
        if (cursor_.pending) {
            b = cursor_.second;
            cursor_.pending = false;
        } else {
            if (!byteAt(cursor_.in, b)) break;
            ++cursor_.in;
            if (b == '\n' || b == '\r') {
                cursor_.second = b == '\n' ? '\n' : '\0';
                cursor_.pending = true;
                b = '\r';
            }
        }
        if (dst) dst[done] = b;
        ++done;
        ++cursor_.out;
    }
    return done;
}

std::size_t NetasciiSource::read(std::uint64_t offset, std::span<std::uint8_t> out) {
    if (offset >= size_) return 0;
    if (offset < cursor_.out) {
        // Back (a retransmission): from the latest mark at or before it, else from the start.
        Cursor from;
        for (auto it = marks_.rbegin(); it != marks_.rend(); ++it)
            if (it->out <= offset) {
                from = *it;
                break;
            }
        cursor_ = from;
    }
    produce(nullptr, offset - cursor_.out);
    if (marks_.empty() || marks_.back().out != cursor_.out) {
        marks_.push_back(cursor_);
        if (marks_.size() > 2u * limits::kTftpMaxWindow) marks_.pop_front();
    }
    return produce(out.data(), out.size());
}

Negotiated negotiate(const Request& req, std::uint64_t size) {
    Negotiated n;
    for (const auto& [name, value] : req.options) {
        auto v = number(value);
        if (name == "blksize" && v && *v >= limits::kTftpMinBlockSize) {
            n.blockSize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*v, limits::kTftpMaxBlockSize));
            n.oack.emplace_back("blksize", std::to_string(n.blockSize));
        } else if (name == "windowsize" && v && *v >= 1) {
            n.windowSize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*v, limits::kTftpMaxWindow));
            n.oack.emplace_back("windowsize", std::to_string(n.windowSize));
        } else if (name == "timeout" && v && *v >= 1 && *v <= static_cast<std::uint64_t>(limits::kTftpMaxTimeoutSeconds)) {
            n.timeoutSeconds = static_cast<int>(*v);
            n.oack.emplace_back("timeout", value);
        } else if (name == "tsize" && v) {
            n.oack.emplace_back("tsize", std::to_string(size));
        }
        // Anything else (unknown options, out-of-range values) is left out of the OACK.
    }
    return n;
}

Transfer::Transfer(Negotiated n, Source& source)
    : n_(std::move(n)), source_(source), total_(source.size() / n_.blockSize + 1), buffer_(n_.blockSize) {}

std::vector<std::uint8_t> Transfer::block(std::uint64_t n) {
    std::uint64_t offset = (n - 1) * n_.blockSize;
    std::size_t len = 0;
    if (offset < source_.size()) len = source_.read(offset, std::span(buffer_.data(), buffer_.size()));
    return makeData(static_cast<std::uint16_t>(n & 0xFFFF), std::span(buffer_.data(), len));
}

void Transfer::sendRange(Step& s, std::uint64_t from, std::uint64_t to) {
    for (auto b = from; b <= to; ++b) s.send.push_back(block(b));
}

Transfer::Step Transfer::start() {
    Step s;
    if (!n_.oack.empty()) {
        oackPending_ = true;
        s.send.push_back(makeOack(n_.oack));
        return s;
    }
    sent_ = std::min<std::uint64_t>(total_, n_.windowSize);
    sendRange(s, 1, sent_);
    return s;
}

Transfer::Step Transfer::onAck(std::uint16_t wire) {
    Step s;
    if (oackPending_) {
        if (wire != 0) return s; // only ACK 0 confirms the OACK
        oackPending_ = false;
        heard_ = true;
        retries_ = 0;
        sent_ = std::min<std::uint64_t>(total_, n_.windowSize);
        sendRange(s, 1, sent_);
        return s;
    }
    // Which block in flight does this wire number name? At most kTftpMaxWindow are in
    // flight, far fewer than 65536, so the match is unique.
    std::uint64_t acked = 0;
    for (auto b = acked_ + 1; b <= sent_; ++b)
        if ((b & 0xFFFF) == wire) {
            acked = b;
            break;
        }
    if (acked == 0) return s; // duplicate or stale: ignore
    heard_ = true;
    acked_ = acked;
    retries_ = 0;
    if (acked_ == total_) {
        s.done = true;
        return s;
    }
    auto from = acked_ + 1;
    sent_ = std::min<std::uint64_t>(total_, acked_ + n_.windowSize);
    sendRange(s, from, sent_);
    return s;
}

Transfer::Step Transfer::onTimeout() {
    Step s;
    // A client never heard from may be a forged source: fewer answers to it (amplification).
    const int limit = heard_ ? limits::kTftpMaxRetries : limits::kTftpMaxRetriesUnheard;
    if (++retries_ > limit) {
        s.failed = true;
        s.error = fmt::format("no ACK after {} retransmissions (last acknowledged block {} of {})", limit, acked_, total_);
        return s;
    }
    ++retransmissions_;
    if (oackPending_) {
        s.send.push_back(makeOack(n_.oack));
        return s;
    }
    sendRange(s, acked_ + 1, sent_);
    return s;
}

std::uint64_t Transfer::bytesAcked() const {
    if (acked_ == 0) return 0;
    return std::min<std::uint64_t>(source_.size(), acked_ * n_.blockSize);
}

} // namespace labcm::tftp
