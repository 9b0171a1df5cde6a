// SIP messages as the simulated phone sees them, pure (text <-> struct; no sockets):
// framing of a TCP byte stream by Content-Length (RFC 3261 §18.3), parsing of a request or
// response with its headers (compact forms expanded), and building requests/responses as
// text so every byte a simulated phone sends is under the profile's control.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labcm::phone {

/// Largest SIP message the simulator accepts, bytes (a REGISTER 200 OK with the optionsind
/// body is ~1.5 KiB; a NOTIFY far less). Bounds the TCP reassembly buffer.
inline constexpr std::size_t kMaxSipMessage = 64 * 1024;
/// Most headers in one message; more is treated as malformed.
inline constexpr std::size_t kMaxSipHeaders = 128;

class SipParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SipMessage {
    bool request = false;
    std::string method;   ///< requests: REGISTER, NOTIFY, ... (as sent)
    std::string uri;      ///< requests: Request-URI
    int status = 0;       ///< responses: 100..699
    std::string reason;   ///< responses: reason phrase
    std::vector<std::pair<std::string, std::string>> headers; ///< names in full form, as sent
    std::string body;

    /// @brief First value of a header, name case-insensitive (compact forms were expanded).
    std::optional<std::string_view> header(std::string_view name) const;
    /// @brief Every value of a header (repeated headers and comma lists are not split).
    std::vector<std::string_view> headersNamed(std::string_view name) const;
    /// @brief CSeq number, or -1 when absent/malformed.
    long cseq() const;
    /// @brief CSeq method ("REGISTER"), empty when absent.
    std::string cseqMethod() const;
};

/// @brief Size of the first complete message at the start of a TCP stream buffer, or
/// nullopt when more bytes are needed. Leading CRLFs (keep-alive pings) count as a message
/// of their own length with no content. @throw SipParseError when the head is longer than
/// kMaxSipMessage, Content-Length is missing/malformed or the total exceeds the limit.
std::optional<std::size_t> frameLength(std::string_view stream);

/// @brief Parses one whole message (a UDP datagram or a framed TCP message).
/// @throw SipParseError naming what is wrong (start line, header line, Content-Length
/// mismatch, too many headers, size).
SipMessage parseSipMessage(std::string_view text);

/// @brief A parameter of a header value: `tag` of `<sip:a@b>;tag=x`, `expires` of a Contact,
/// `branch` of a Via. Quotes stripped. nullopt when absent.
std::optional<std::string> headerParam(std::string_view value, std::string_view name);

/// @brief The user and host of the first `sip:` URI in a value (a Request-URI, or a
/// Contact/To with `<...>`); user is "" when the URI has none. nullopt without a sip: URI.
struct SipUri {
    std::string user;
    std::string host;
    int port = 0; ///< 0 when the URI names none (or a malformed one)
};
std::optional<SipUri> parseSipUri(std::string_view value);

/// @brief The values of a header that may carry a comma-separated list (Route, Record-Route,
/// Via): commas inside `<...>` or quotes do not split. Trimmed, empty entries dropped; at
/// most kMaxSipHeaders entries.
std::vector<std::string> splitHeaderList(std::string_view value);

/// @brief The route set of a dialog from the Record-Route of the request or 2xx that made it
/// (RFC 3261 12.1): every entry of every Record-Route header in order for the UAS, reversed
/// for the UAC (`reverse`).
std::vector<std::string> routeSet(const SipMessage& m, bool reverse);

/// @brief The URI of a name-addr or addr-spec value: `"Desk" <sip:a@b;transport=tcp>;tag=1`
/// -> `sip:a@b;transport=tcp`; `sip:a@b;tag=1` -> `sip:a@b`. nullopt without a sip:/sips:
/// URI or with an unclosed `<`.
std::optional<std::string> nameAddrUri(std::string_view value);

/// @brief Builds a response to `req`: Via, From, To (with `toTag` added when non-empty and
/// the To has none), Call-ID, CSeq copied, then `extra` headers, then the body.
std::string buildResponse(const SipMessage& req, int status, std::string_view reason, std::string_view toTag,
                          const std::vector<std::pair<std::string, std::string>>& extra = {},
                          std::string_view body = {});

/// @brief Serialises a request: start line, headers in order, Content-Length, body.
std::string buildRequest(std::string_view method, std::string_view uri,
                         const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body);

/// @brief The key=value lines of a service-control NOTIFY body; keys lower-cased, braces
/// kept in values as sent.
std::vector<std::pair<std::string, std::string>> parseKeyValueBody(std::string_view body);

} // namespace labcm::phone
