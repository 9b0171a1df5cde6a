#include "core/net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

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

} // namespace labcm::net
