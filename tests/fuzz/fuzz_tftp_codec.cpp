// Fuzz the TFTP codec and the transfer state machine. Properties: a request that parses
// re-serialises to bytes that parse to the same request; negotiated values stay within
// limits; a transfer driven by fuzzed ACKs/timeouts never sends a block larger than the
// block size, never more than one window of blocks at once, and never acknowledges more
// bytes than the file has.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/limits.h"
#include "tftp/codec.h"
#include "tftp/transfer.h"

using namespace labcm::tftp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    try {
        auto req = parseRequest(in);
        auto again = parseRequest(makeRequest(req));
        if (again.filename != req.filename || again.mode != req.mode || again.options != req.options) std::abort();
        auto n = negotiate(req, size * 97);
        if (n.blockSize < labcm::limits::kTftpMinBlockSize || n.blockSize > labcm::limits::kTftpMaxBlockSize) std::abort();
        if (n.windowSize < 1 || n.windowSize > labcm::limits::kTftpMaxWindow) std::abort();
    } catch (const ParseError&) {
    }
    try {
        (void)parseAck(in);
    } catch (const ParseError&) {
    }
    try {
        (void)parseError(in);
    } catch (const ParseError&) {
    }
    try { // client side (labcm-phone): a DATA's payload is what follows its 4-byte head
        auto d = parseData(in);
        if (d.payload.size() != size - 4) std::abort();
    } catch (const ParseError&) {
    }
    try {
        auto opts = parseOack(in);
        if (parseOack(makeOack(opts)) != opts) std::abort();
    } catch (const ParseError&) {
    }

    // Drive a transfer: the first bytes choose options, the rest are ACKs (2 bytes) or,
    // for 0xFFFF, a timeout.
    if (size < 4) return 0;
    Request req{Opcode::Rrq, "f", "octet",
                {{"blksize", std::to_string(8 + data[0] * 7)}, {"windowsize", std::to_string(1 + data[1] % 9)}}};
    MemorySource src(std::string(static_cast<std::size_t>(data[2]) * 40 + data[3], 'x'));
    Transfer t(negotiate(req, src.size()), src);
    auto step = t.start();
    for (std::size_t i = 4; i + 1 < size && !step.done && !step.failed; i += 2) {
        std::uint16_t v = static_cast<std::uint16_t>((data[i] << 8) | data[i + 1]);
        step = v == 0xFFFF ? t.onTimeout() : t.onAck(v);
        std::size_t dataPackets = 0;
        for (const auto& d : step.send) {
            if (d.size() < 4) std::abort();
            if (d[1] == 3) {
                if (d.size() - 4 > t.negotiated().blockSize) std::abort();
                ++dataPackets;
            }
        }
        // One step never puts more than a window of blocks on the wire.
        if (dataPackets > t.negotiated().windowSize) std::abort();
        if (t.bytesAcked() > src.size()) std::abort();
    }
    return 0;
}
