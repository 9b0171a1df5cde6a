#include "core/net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h> // struct tcp_info with tcpi_bytes_received (glibc's lacks it)
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace labcm::net {

std::string primaryIPv4() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return "127.0.0.1";
    std::string out = "127.0.0.1";
    for (auto* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        char buf[INET_ADDRSTRLEN];
        auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) {
            out = buf;
            break;
        }
    }
    ::freeifaddrs(list);
    return out;
}

std::string registrarAddress(const std::string& setting, const std::string& bindAddress, const std::string& primary) {
    if (setting != "auto") return setting;
    if (bindAddress != "0.0.0.0" && bindAddress != "::") return bindAddress;
    return primary;
}

std::string registrarAddress(const std::string& setting, const std::string& bindAddress) {
    if (setting != "auto" || (bindAddress != "0.0.0.0" && bindAddress != "::")) return registrarAddress(setting, bindAddress, "");
    return registrarAddress(setting, bindAddress, primaryIPv4());
}

void setReceiveBuffer(int fd, std::size_t bytes) {
    int n = static_cast<int>(bytes);
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof n) != 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
}

std::vector<int> socketsBoundTo(int wanted, std::uint16_t port) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = std::atoi(entry.path().filename().c_str());
        int type = 0;
        socklen_t typeLen = sizeof type;
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLen) != 0 || type != wanted) continue;
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) continue;
        std::uint16_t bound = a.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port)
                              : a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                                        : 0;
        if (bound == port) out.push_back(fd);
    }
    return out;
}

SilentConnectionReaper::SilentConnectionReaper() : spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

SilentConnectionReaper::~SilentConnectionReaper() {
    if (spare_ >= 0) ::close(spare_);
}

std::size_t SilentConnectionReaper::reap(std::uint16_t port, std::chrono::milliseconds silent) {
    // When every descriptor is taken (the case this is for), listing /proc/self/fd needs one:
    // the spare is given back for the scan, then taken again.
    if (spare_ >= 0) ::close(spare_);
    auto fds = socketsBoundTo(SOCK_STREAM, port);
    spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    std::size_t closed = 0;
    for (int fd : fds) {
        tcp_info info{};
        socklen_t len = sizeof info;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
            len < offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
            continue;
        // A connection that never received data: its last receive is its handshake.
        if (info.tcpi_state != 1 /* TCP_ESTABLISHED */ || info.tcpi_bytes_received != 0 ||
            info.tcpi_last_data_recv < static_cast<std::uint64_t>(silent.count()))
            continue;
        if (::shutdown(fd, SHUT_RDWR) == 0) ++closed;
    }
    return closed;
}

void setReceiveBuffers(const std::vector<int>& fds, std::size_t bytes) {
    for (int fd : fds) setReceiveBuffer(fd, bytes);
}

std::uint64_t receiveDrops(int fd) {
    std::uint32_t info[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) != 0 || len <= SK_MEMINFO_DROPS * sizeof info[0]) return 0;
    return info[SK_MEMINFO_DROPS];
}

} // namespace labcm::net
