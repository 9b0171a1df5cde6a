#include "core/net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cerrno>
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
