// Where a SIP request came from: "transport:address:port", the text the registrar stores in a
// registration's `source` column and shows in events ("tcp:10.0.0.50:51234"). Parsed and
// printed here only; pure (no sofia types).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace labcm::sip {

struct Source {
    std::string transport;  ///< "udp" or "tcp" (lower case, as sofia names the tport)
    std::string address;    ///< IPv4 or IPv6 text, without brackets
    std::uint16_t port = 0;

    /// @brief Parses "tcp:10.0.0.5:5060", "tcp:::1:5060" (the stored form: an IPv6 address
    /// keeps its colons, the last colon ends it) or "tcp:[::1]:5060". nullopt when the
    /// transport, the address or the port is missing or the port is not a number up to 65535.
    static std::optional<Source> parse(std::string_view text);

    /// @brief "transport:address:port", the address unbracketed (the form the registrations
    /// table has always held), so parse(toString()) gives the same Source back.
    std::string toString() const;

    bool operator==(const Source&) const = default;
};

/// @brief The address of a "transport:address:port" source (the text itself when it does not
/// parse): two requests from one phone share it whatever their ports.
std::string sourceAddress(std::string_view source);

} // namespace labcm::sip
