#include <doctest/doctest.h>

#include "core/limits.h"
#include "tftp/transfer.h"

using namespace labcm::tftp;

namespace {

// Deterministic bytes of any size without allocating them: byte i = i % 251.
class PatternSource final : public Source {
public:
    explicit PatternSource(std::uint64_t size) : size_(size) {}
    std::uint64_t size() const override { return size_; }
    std::size_t read(std::uint64_t offset, std::span<std::uint8_t> out) override {
        std::size_t n = offset >= size_ ? 0 : static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((offset + i) % 251);
        return n;
    }

private:
    std::uint64_t size_;
};

std::uint16_t blockOf(const std::vector<std::uint8_t>& d) { return static_cast<std::uint16_t>((d[2] << 8) | d[3]); }

Request rrq(std::vector<std::pair<std::string, std::string>> options) {
    return Request{Opcode::Rrq, "f", "octet", std::move(options)};
}

// Plays a perfect client: ACKs the last block of each window. Returns the bytes received.
std::uint64_t runClient(Transfer& t, bool oack) {
    auto step = t.start();
    std::uint64_t received = 0;
    if (oack) {
        REQUIRE(step.send.size() == 1);
        CHECK(step.send[0][1] == 6);
        step = t.onAck(0);
    }
    for (int guard = 0; guard < 1'000'000 && !step.done; ++guard) {
        REQUIRE(!step.send.empty());
        for (const auto& d : step.send) {
            CHECK(d[1] == 3);
            received += d.size() - 4;
        }
        step = t.onAck(blockOf(step.send.back()));
    }
    CHECK(step.done);
    return received;
}

} // namespace

TEST_CASE("transfer: RFC 1350 lock-step, last block short") {
    PatternSource src(1300);
    Transfer t(negotiate(rrq({}), src.size()), src);
    auto s = t.start();
    REQUIRE(s.send.size() == 1);
    CHECK(blockOf(s.send[0]) == 1);
    CHECK(s.send[0].size() == 4 + 512);
    s = t.onAck(1);
    CHECK(blockOf(s.send.at(0)) == 2);
    s = t.onAck(2);
    CHECK(s.send.at(0).size() == 4 + 276);
    s = t.onAck(3);
    CHECK(s.done);
    CHECK(t.bytesAcked() == 1300);
}

TEST_CASE("transfer: a size that is a multiple of the block size ends with an empty block") {
    PatternSource src(1024);
    Transfer t(negotiate(rrq({}), src.size()), src);
    CHECK(t.blocks() == 3);
    CHECK(runClient(t, false) == 1024);
}

TEST_CASE("transfer: block numbers roll over from 65535 to 0") {
    PatternSource src(70'000ull * 512 + 10);
    Transfer t(negotiate(rrq({}), src.size()), src);
    auto s = t.start();
    std::uint64_t n = 1;
    bool sawZeroAfterMax = false;
    std::uint16_t prev = 0;
    while (!s.done) {
        REQUIRE(s.send.size() == 1);
        auto b = blockOf(s.send[0]);
        CHECK(b == static_cast<std::uint16_t>(n & 0xFFFF));
        if (prev == 65535 && b == 0) sawZeroAfterMax = true;
        prev = b;
        s = t.onAck(b);
        ++n;
    }
    CHECK(sawZeroAfterMax);
    CHECK(t.bytesAcked() == src.size());
}

TEST_CASE("transfer: options are negotiated, clamped or left out") {
    auto n = negotiate(rrq({{"blksize", "100000"}, {"windowsize", "1000"}, {"tsize", "0"}, {"timeout", "3"},
                            {"multicast", ""}, {"blksize2", "9"}}),
                       4242);
    CHECK(n.blockSize == labcm::limits::kTftpMaxBlockSize);
    CHECK(n.windowSize == labcm::limits::kTftpMaxWindow);
    CHECK(n.timeoutSeconds == 3);
    std::vector<std::pair<std::string, std::string>> expect{
        {"blksize", "65464"}, {"windowsize", "64"}, {"tsize", "4242"}, {"timeout", "3"}};
    CHECK(n.oack == expect);
    auto bad = negotiate(rrq({{"blksize", "7"}, {"blksize", "x"}, {"timeout", "0"}, {"timeout", "256"}, {"timeout", "11"}, {"windowsize", "0"}}), 1);
    CHECK(bad.oack.empty());
    CHECK(bad.blockSize == 512);
}

TEST_CASE("transfer: OACK first, then windows of blocks; the client's ACK moves the window") {
    PatternSource src(10 * 1428 + 1);
    Transfer t(negotiate(rrq({{"blksize", "1428"}, {"windowsize", "4"}}), src.size()), src);
    auto s = t.start();
    CHECK(s.send.size() == 1);
    CHECK(t.onAck(5).send.empty()); // anything but ACK 0 is ignored before the OACK is confirmed
    s = t.onAck(0);
    REQUIRE(s.send.size() == 4);
    CHECK(blockOf(s.send[0]) == 1);
    CHECK(blockOf(s.send[3]) == 4);
    // The client saw 1..2 only: it ACKs 2, and 3.. are sent again.
    s = t.onAck(2);
    REQUIRE(s.send.size() == 4);
    CHECK(blockOf(s.send[0]) == 3);
    CHECK(blockOf(s.send[3]) == 6);
    // A duplicate ACK retransmits nothing (no Sorcerer's Apprentice).
    CHECK(t.onAck(2).send.empty());
    s = t.onAck(6);
    CHECK(blockOf(s.send.back()) == 10);
    s = t.onAck(10);
    REQUIRE(s.send.size() == 1); // block 11 holds the last byte
    CHECK(s.send[0].size() == 5);
    CHECK(t.onAck(11).done);
}

TEST_CASE("transfer: whole files at many block and window sizes arrive complete") {
    for (std::uint64_t size : {0ull, 1ull, 511ull, 512ull, 513ull, 100'000ull}) {
        for (auto [blk, win] : {std::pair{"512", "1"}, {"1428", "8"}, {"8", "3"}, {"65464", "2"}}) {
            CAPTURE(size);
            CAPTURE(blk);
            PatternSource src(size);
            Transfer t(negotiate(rrq({{"blksize", blk}, {"windowsize", win}}), size), src);
            CHECK(runClient(t, true) == size);
        }
    }
}

TEST_CASE("transfer: timeouts retransmit the unacknowledged window, then give up") {
    PatternSource src(5000);
    Transfer t(negotiate(rrq({{"windowsize", "2"}}), src.size()), src);
    t.start();
    auto s = t.onTimeout(); // OACK lost
    REQUIRE(s.send.size() == 1);
    CHECK(s.send[0][1] == 6);
    s = t.onAck(0);
    CHECK(s.send.size() == 2);
    for (int i = 0; i < labcm::limits::kTftpMaxRetries - 1; ++i) {
        s = t.onTimeout();
        REQUIRE(s.send.size() == 2);
        CHECK(blockOf(s.send[0]) == 1);
    }
    s = t.onTimeout();
    CHECK(!s.failed); // the OACK retry was reset by ACK 0: this is retry 5 of 5
    s = t.onTimeout();
    CHECK(s.failed);
    CHECK(s.error == "no ACK after 5 retransmissions (last acknowledged block 0 of 10)");
}

TEST_CASE("transfer: a client that acknowledges nothing gets one retransmission, not five") {
    // Issue 19: a forged RRQ (no ACK ever comes) is answered twice, then given up.
    PatternSource src(5000);
    Transfer plain(negotiate(rrq({}), src.size()), src);
    REQUIRE(plain.start().send.size() == 1);
    CHECK(plain.onTimeout().send.size() == 1);
    auto s = plain.onTimeout();
    CHECK(s.failed);
    CHECK(s.error == "no ACK after 1 retransmissions (last acknowledged block 0 of 10)");
    // With options: the OACK once more, then given up.
    Transfer oack(negotiate(rrq({{"blksize", "1024"}}), src.size()), src);
    oack.start();
    CHECK(oack.onTimeout().send.size() == 1);
    CHECK(oack.onTimeout().failed);
}

TEST_CASE("transfer: netascii conversion") {
    CHECK(toNetascii("a\nb\rc") == std::string("a\r\nb\r\0c", 7));
    MemorySource m("hello");
    std::vector<std::uint8_t> out(10);
    CHECK(m.read(0, out) == 5);
    CHECK(m.read(5, out) == 0);
}

TEST_CASE("transfer: netascii converted while streaming reads as the whole conversion (issue 19)") {
    // Text with LF, CR, CR LF and CR at chunk edges, longer than the 64 KiB chunk.
    std::string text;
    std::uint32_t x = 12345;
    for (int i = 0; i < 200'000; ++i) {
        x = x * 1103515245u + 12345u;
        auto r = (x >> 16) % 20;
        text.push_back(r == 0 ? '\n' : r == 1 ? '\r' : static_cast<char>('a' + r));
    }
    text[65535] = '\r';
    text[65536] = '\n';
    const std::string want = toNetascii(text);
    NetasciiSource src(std::make_unique<MemorySource>(text));
    REQUIRE(src.size() == want.size());
    auto at = [&](std::uint64_t offset, std::size_t n) {
        std::vector<std::uint8_t> out(n);
        out.resize(src.read(offset, out));
        return std::string(out.begin(), out.end());
    };
    // In order, as blocks are sent, with a window retransmitted now and then (backwards).
    for (std::uint64_t off = 0; off < want.size(); off += 1428) {
        REQUIRE(at(off, 1428) == want.substr(off, 1428));
        if (off % (1428 * 20) == 0 && off >= 1428 * 8) {
            auto back = off - 1428 * 8;
            REQUIRE(at(back, 1428) == want.substr(back, 1428));
        }
    }
    // Anywhere at all (from the start again when no mark is near), and past the end.
    CHECK(at(3, 5) == want.substr(3, 5));
    CHECK(at(want.size() - 2, 10) == want.substr(want.size() - 2));
    CHECK(at(want.size(), 10).empty());
    // A block that ends between the two bytes of a pair.
    auto cr = want.find('\r');
    CHECK(at(cr, 1) == "\r");
    CHECK(at(cr + 1, 1) == want.substr(cr + 1, 1));
    // Through a whole transfer.
    NetasciiSource again(std::make_unique<MemorySource>("line 1\nline 2\r\n"));
    Transfer t(negotiate(rrq({}), again.size()), again);
    auto s = t.start();
    REQUIRE(s.send.size() == 1);
    CHECK(std::string(s.send[0].begin() + 4, s.send[0].end()) == std::string("line 1\r\nline 2\r\0\r\n", 18));
}
