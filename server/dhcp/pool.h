// A DHCP pool: one subnet, its address range and the options every lease in it carries
// (router, DNS, domain, NTP, and the phone's TFTP servers as option 150 and 66). Pure: the
// text form (what the CLI, the API and the store hold) <-> the checked form the server uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/device.h"
#include "dhcp/codec.h"

namespace labcm::dhcp {

using Addr = std::uint32_t; ///< an IPv4 address in host order

Addr toAddr(const Ipv4& a);
Ipv4 toIpv4(Addr a);
std::string addrText(Addr a);
/// @brief "10.1.2.3" -> address; nullopt when not a dotted quad.
std::optional<Addr> parseAddr(std::string_view text);

/// @brief A pool as text, one field per setting; "" means unset (defaults apply).
struct PoolSpec {
    std::string name;
    std::string subnet;      ///< "10.150.0.0/24"
    std::string rangeFirst;  ///< "10.150.0.100"
    std::string rangeLast;   ///< "10.150.0.199"
    std::string routers;     ///< option 3, comma-separated addresses
    std::string dns;         ///< option 6, comma-separated addresses
    std::string domain;      ///< option 15
    std::string ntp;         ///< option 42, comma-separated addresses
    std::string tftp;        ///< option 150, comma-separated addresses; "" = labcm's own address
    std::string option66;    ///< option 66; "" = the first option-150 address
    std::int64_t leaseSeconds = 86400;
};

struct Pool {
    std::string name;
    Addr network = 0;
    int prefix = 24;
    Addr first = 0, last = 0;
    std::vector<Addr> routers, dns, ntp, tftp;
    std::string domain, option66;
    std::uint32_t leaseSeconds = 86400;

    Addr mask() const { return prefix == 0 ? 0 : ~Addr{0} << (32 - prefix); }
    Addr broadcast() const { return network | ~mask(); }
    bool inSubnet(Addr a) const { return (a & mask()) == network; }
    bool inRange(Addr a) const { return a >= first && a <= last; }
    std::uint64_t size() const { return std::uint64_t{last} - first + 1; }
};

/// @brief Checks a spec and builds the pool: the subnet is a network address with a
/// prefix of 8..30, the range lies inside it and holds neither the network nor the
/// broadcast address, lists are addresses, the lease time is 60 s .. 1 year.
/// @return the pool, or the first problem naming its field ("subnet", "range", ...).
std::optional<FieldError> buildPool(const PoolSpec& spec, Pool& out);

/// @brief A pool spec that cannot be served, and why.
struct PoolProblem {
    std::string pool;
    FieldError error;
};

/// @brief Every valid pool of `specs` (the DHCP server's configuration); the others, with
/// their first problem, in `skipped` (a bad pool never stops the good ones).
std::vector<Pool> buildPools(const std::vector<PoolSpec>& specs, std::vector<PoolProblem>& skipped);

/// @brief Two pools overlap when their subnets do (a request would match both).
bool overlaps(const Pool& a, const Pool& b);

/// @brief "a,b,c" in canonical form (spaces removed), or the field error.
std::optional<FieldError> canonicalAddressList(const std::string& field, std::string& value);

} // namespace labcm::dhcp
