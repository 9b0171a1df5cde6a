#include "tftp/codec.h"

#include <cctype>

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "core/limits.h"
#include "core/text.h"

namespace labcm::tftp {
namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

void putString(std::vector<std::uint8_t>& out, std::string_view s) {
    out.insert(out.end(), s.begin(), s.end());
    out.push_back(0);
}

} // namespace

Opcode peekOpcode(std::span<const std::uint8_t> packet) {
    if (packet.size() < 2) throw ParseError(fmt::format("{}-byte datagram has no opcode", packet.size()));
    return static_cast<Opcode>((packet[0] << 8) | packet[1]);
}

Request parseRequest(std::span<const std::uint8_t> packet) {
    try {
        ByteReader r(packet);
        Request req;
        auto op = r.u16("opcode");
        if (op != 1 && op != 2) throw ParseError(fmt::format("opcode {} is not a request", op));
        req.op = static_cast<Opcode>(op);
        req.filename = std::string(r.cstring("file name"));
        if (req.filename.empty()) throw ParseError("empty file name");
        req.mode = text::toLower(r.cstring("mode"));
        if (req.mode.empty()) throw ParseError("empty mode");
        while (!r.empty()) {
            auto name = text::toLower(r.cstring("option name"));
            if (name.empty()) {
                // Some clients pad with NULs after the last option (RFC 2347 allows none): stop.
                break;
            }
            auto value = std::string(r.cstring("option value"));
            if (req.options.size() >= limits::kTftpMaxOptions)
                throw ParseError(fmt::format("more than {} options", limits::kTftpMaxOptions));
            req.options.emplace_back(std::move(name), std::move(value));
        }
        return req;
    } catch (const TruncatedError& e) {
        throw ParseError(e.what());
    }
}

Ack parseAck(std::span<const std::uint8_t> packet) {
    if (packet.size() != 4) throw ParseError(fmt::format("ACK of {} bytes (must be 4)", packet.size()));
    if (peekOpcode(packet) != Opcode::Ack) throw ParseError("not an ACK");
    return {static_cast<std::uint16_t>((packet[2] << 8) | packet[3])};
}

ErrorPacket parseError(std::span<const std::uint8_t> packet) {
    try {
        ByteReader r(packet);
        if (r.u16("opcode") != 5) throw ParseError("not an ERROR");
        ErrorPacket e;
        e.code = static_cast<ErrorCode>(r.u16("error code"));
        // The message should end in NUL; tolerate one that does not.
        auto rest = r.rest();
        std::string msg(reinterpret_cast<const char*>(rest.data()), rest.size());
        if (auto nul = msg.find('\0'); nul != std::string::npos) msg.resize(nul);
        e.message = std::move(msg);
        return e;
    } catch (const TruncatedError& e) {
        throw ParseError(e.what());
    }
}

Data parseData(std::span<const std::uint8_t> packet) {
    if (packet.size() < 4) throw ParseError(fmt::format("DATA of {} bytes (at least 4)", packet.size()));
    if (peekOpcode(packet) != Opcode::Data) throw ParseError("not a DATA");
    if (packet.size() - 4 > 65464) throw ParseError("DATA payload larger than the largest blksize");
    return {static_cast<std::uint16_t>((packet[2] << 8) | packet[3]), packet.subspan(4)};
}

std::vector<std::pair<std::string, std::string>> parseOack(std::span<const std::uint8_t> packet) {
    try {
        ByteReader r(packet);
        if (r.u16("opcode") != 6) throw ParseError("not an OACK");
        std::vector<std::pair<std::string, std::string>> options;
        while (!r.empty()) {
            auto name = text::toLower(r.cstring("option name"));
            if (name.empty()) throw ParseError("empty option name");
            auto value = std::string(r.cstring("option value"));
            if (options.size() >= limits::kTftpMaxOptions)
                throw ParseError(fmt::format("more than {} options", limits::kTftpMaxOptions));
            options.emplace_back(std::move(name), std::move(value));
        }
        return options;
    } catch (const TruncatedError& e) {
        throw ParseError(e.what());
    }
}

std::vector<std::uint8_t> makeData(std::uint16_t block, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out;
    out.reserve(4 + payload.size());
    put16(out, 3);
    put16(out, block);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

std::vector<std::uint8_t> makeError(ErrorCode code, std::string_view message) {
    std::vector<std::uint8_t> out;
    put16(out, 5);
    put16(out, static_cast<std::uint16_t>(code));
    putString(out, message.substr(0, 200));
    return out;
}

std::vector<std::uint8_t> makeOack(const std::vector<std::pair<std::string, std::string>>& options) {
    std::vector<std::uint8_t> out;
    put16(out, 6);
    for (const auto& [k, v] : options) {
        putString(out, k);
        putString(out, v);
    }
    return out;
}

std::vector<std::uint8_t> makeRequest(const Request& r) {
    std::vector<std::uint8_t> out;
    put16(out, static_cast<std::uint16_t>(r.op));
    putString(out, r.filename);
    putString(out, r.mode);
    for (const auto& [k, v] : r.options) {
        putString(out, k);
        putString(out, v);
    }
    return out;
}

std::vector<std::uint8_t> makeAck(std::uint16_t block) {
    std::vector<std::uint8_t> out;
    put16(out, 4);
    put16(out, block);
    return out;
}

} // namespace labcm::tftp
