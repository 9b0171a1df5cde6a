#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ipv4.h"
#include "core/net.h"

using namespace labcm;

TEST_CASE("registrar address: the setting, else a specific bind address, else the host's own") {
    CHECK(net::registrarAddress("10.0.0.9", "0.0.0.0", "192.168.1.2") == "10.0.0.9");
    CHECK(net::registrarAddress("10.0.0.9", "10.0.0.1", "192.168.1.2") == "10.0.0.9");
    CHECK(net::registrarAddress("auto", "10.0.0.1", "192.168.1.2") == "10.0.0.1");
    CHECK(net::registrarAddress("auto", "0.0.0.0", "192.168.1.2") == "192.168.1.2");
    CHECK(net::registrarAddress("auto", "::", "192.168.1.2") == "192.168.1.2");
    // The host lookup is made only when the rule needs it, and gives some address.
    CHECK(net::registrarAddress("auto", "127.0.0.1") == "127.0.0.1");
    CHECK_FALSE(net::registrarAddress("auto", "0.0.0.0").empty());
}

TEST_CASE("ipv4: dotted quads in and out; anything else refused") {
    CHECK(parseIpv4("10.0.0.5") == Ipv4{10, 0, 0, 5});
    CHECK(toString(Ipv4{255, 255, 255, 0}) == "255.255.255.0");
    CHECK(parseIpv4("0.0.0.0") == Ipv4{0, 0, 0, 0});
    for (auto bad : {"", "10", "10.0.0", "10.0.0.", "10.0.0.256", "10.0.0.5x", "10.0.0.5 ", "a.b.c.d", "1.2.3.4.5", "-1.0.0.0"})
        CHECK_MESSAGE(!parseIpv4(bad), bad);
}

TEST_CASE("receive buffers: every UDP socket bound to the port gets the size, others are left alone") {
    auto udp = [](std::uint16_t port) {
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        return fd;
    };
    auto rcvbuf = [](int fd) {
        int n = 0;
        socklen_t len = sizeof n;
        ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, &len);
        return n;
    };
    int target = udp(0);
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    ::getsockname(target, reinterpret_cast<sockaddr*>(&bound), &len);
    int other = udp(0);
    const int before = rcvbuf(target);
    const int otherBefore = rcvbuf(other);
    net::setUdpReceiveBuffers(ntohs(bound.sin_port), 4 * 1024 * 1024);
    CHECK(rcvbuf(target) >= before);
    if (::geteuid() == 0) CHECK(rcvbuf(target) >= 4 * 1024 * 1024); // SO_RCVBUFFORCE: root passes rmem_max
    CHECK(rcvbuf(other) == otherBefore);
    ::close(target);
    ::close(other);
}
