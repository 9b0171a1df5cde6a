// TFTP packets, pure (bytes <-> structs; no sockets): RFC 1350, with options (RFC 2347)
// blksize (RFC 2348), timeout and tsize (RFC 2349), windowsize (RFC 7440).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace labcm::tftp {

enum class Opcode : std::uint16_t { Rrq = 1, Wrq = 2, Data = 3, Ack = 4, Error = 5, Oack = 6 };

/// RFC 1350 / 2347 error codes.
enum class ErrorCode : std::uint16_t {
    NotDefined = 0,
    FileNotFound = 1,
    AccessViolation = 2,
    DiskFull = 3,
    IllegalOperation = 4,
    UnknownTid = 5,
    FileExists = 6,
    NoSuchUser = 7,
    OptionRefused = 8,
};

/// @brief A read or write request. Option names are lower-cased; values kept as sent.
struct Request {
    Opcode op = Opcode::Rrq;
    std::string filename;
    std::string mode; ///< lower-cased: "octet", "netascii", "mail"
    std::vector<std::pair<std::string, std::string>> options;
};

struct Ack {
    std::uint16_t block;
};

struct ErrorPacket {
    ErrorCode code;
    std::string message;
};

/// @brief A malformed packet: what was wrong, for the drop log and counter.
class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief The opcode of a datagram. @throw ParseError when shorter than 2 bytes.
Opcode peekOpcode(std::span<const std::uint8_t> packet);

/// @brief Parses an RRQ or WRQ. @throw ParseError (truncated, missing NUL, no mode,
/// option without value, too many options, opcode not 1/2).
Request parseRequest(std::span<const std::uint8_t> packet);
/// @throw ParseError unless exactly 4 bytes with opcode 4.
Ack parseAck(std::span<const std::uint8_t> packet);
/// @throw ParseError
ErrorPacket parseError(std::span<const std::uint8_t> packet);

/// @brief A DATA packet's block number and payload (a view into `packet`).
struct Data {
    std::uint16_t block;
    std::span<const std::uint8_t> payload;
};
/// @throw ParseError unless opcode 3 and at least 4 bytes (client side).
Data parseData(std::span<const std::uint8_t> packet);
/// @brief An OACK's options, names lower-cased. @throw ParseError (client side).
std::vector<std::pair<std::string, std::string>> parseOack(std::span<const std::uint8_t> packet);

std::vector<std::uint8_t> makeData(std::uint16_t block, std::span<const std::uint8_t> payload);
std::vector<std::uint8_t> makeError(ErrorCode code, std::string_view message);
std::vector<std::uint8_t> makeOack(const std::vector<std::pair<std::string, std::string>>& options);
std::vector<std::uint8_t> makeRequest(const Request& r);
std::vector<std::uint8_t> makeAck(std::uint16_t block);

} // namespace labcm::tftp
