#include "core/connection_caps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace labcm::net {

PeerAddress PeerAddress::from(const sockaddr* sa) {
    PeerAddress a;
    if (!sa) return a;
    if (sa->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, sa, sizeof in);
        return fromV4(ntohl(in.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, sa, sizeof in6);
        std::memcpy(a.bytes.data(), &in6.sin6_addr, 16);
    }
    return a;
}

PeerAddress PeerAddress::fromV4(std::uint32_t hostOrder) {
    PeerAddress a;
    a.bytes[10] = a.bytes[11] = 0xff;
    a.bytes[12] = static_cast<std::uint8_t>(hostOrder >> 24);
    a.bytes[13] = static_cast<std::uint8_t>(hostOrder >> 16);
    a.bytes[14] = static_cast<std::uint8_t>(hostOrder >> 8);
    a.bytes[15] = static_cast<std::uint8_t>(hostOrder);
    return a;
}

std::string PeerAddress::toString() const {
    char text[INET6_ADDRSTRLEN] = "";
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes.data(), kMapped, sizeof kMapped) == 0) ::inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
    else ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
    return text;
}

std::size_t PeerAddressHash::operator()(const PeerAddress& a) const noexcept {
    std::uint64_t hi, lo;
    std::memcpy(&hi, a.bytes.data(), 8);
    std::memcpy(&lo, a.bytes.data() + 8, 8);
    return static_cast<std::size_t>((hi * 0x9E3779B97F4A7C15ULL) ^ (lo * 0xC2B2AE3D27D4EB4FULL) ^ (lo >> 29));
}

Admission ConnectionCaps::admit(const PeerAddress& a) {
    std::lock_guard lock(mutex_);
    if (total_ && open_ >= total_) return Admission::TotalFull;
    auto& n = byAddress_[a];
    if (perAddress_ && n >= perAddress_) return Admission::AddressFull;
    ++n;
    ++open_;
    return Admission::Admitted;
}

void ConnectionCaps::release(const PeerAddress& a) {
    std::lock_guard lock(mutex_);
    auto it = byAddress_.find(a);
    if (it == byAddress_.end() || it->second == 0) return;
    --open_;
    if (--it->second == 0) byAddress_.erase(it);
}

void ConnectionCaps::setLimits(std::size_t total, std::size_t perAddress) {
    std::lock_guard lock(mutex_);
    total_ = total;
    perAddress_ = perAddress;
}

std::size_t ConnectionCaps::open() const {
    std::lock_guard lock(mutex_);
    return open_;
}

std::size_t ConnectionCaps::openFrom(const PeerAddress& a) const {
    std::lock_guard lock(mutex_);
    auto it = byAddress_.find(a);
    return it == byAddress_.end() ? 0 : it->second;
}

std::size_t ConnectionCaps::addresses() const {
    std::lock_guard lock(mutex_);
    return byAddress_.size();
}

} // namespace labcm::net
