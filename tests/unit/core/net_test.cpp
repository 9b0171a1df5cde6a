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

TEST_CASE("receive buffers: every socket of the type bound to the port gets the size, others are left alone") {
    auto bound = [](int type, std::uint16_t port) {
        int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        return fd;
    };
    auto portOf = [](int fd) {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        return ntohs(a.sin_port);
    };
    auto rcvbuf = [](int fd) {
        int n = 0;
        socklen_t len = sizeof n;
        ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, &len);
        return n;
    };
    SUBCASE("UDP: raised") {
        int target = bound(SOCK_DGRAM, 0);
        int other = bound(SOCK_DGRAM, 0);
        const int before = rcvbuf(target);
        const int otherBefore = rcvbuf(other);
        REQUIRE(net::socketsBoundTo(SOCK_DGRAM, portOf(target)) == std::vector<int>{target});
        net::setReceiveBuffers(net::socketsBoundTo(SOCK_DGRAM, portOf(target)), 4 * 1024 * 1024);
        CHECK(rcvbuf(target) >= before);
        if (::geteuid() == 0) CHECK(rcvbuf(target) >= 4 * 1024 * 1024); // SO_RCVBUFFORCE: root passes rmem_max
        CHECK(rcvbuf(other) == otherBefore);
        ::close(target);
        ::close(other);
    }
    SUBCASE("TCP: a listener's size goes to the connections it accepts; a UDP socket on the port is left alone") {
        int listener = bound(SOCK_STREAM, 0);
        REQUIRE(::listen(listener, 4) == 0);
        int udp = bound(SOCK_DGRAM, portOf(listener));
        const int udpBefore = rcvbuf(udp);
        REQUIRE(net::socketsBoundTo(SOCK_STREAM, portOf(listener)) == std::vector<int>{listener});
        net::setReceiveBuffers(net::socketsBoundTo(SOCK_STREAM, portOf(listener)), 32 * 1024);
        CHECK(rcvbuf(listener) == 64 * 1024); // the kernel doubles it
        CHECK(rcvbuf(udp) == udpBefore);
        int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(portOf(listener));
        REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        int accepted = ::accept(listener, nullptr, nullptr);
        REQUIRE(accepted >= 0);
        CHECK(rcvbuf(accepted) == 64 * 1024);
        for (int fd : {accepted, client, udp, listener}) ::close(fd);
    }
}

TEST_CASE("receive drops: datagrams the kernel dropped on a full socket are counted") {
    int receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(receiver >= 0);
    REQUIRE(sender >= 0);
    int tiny = 1; // the kernel's minimum: a few datagrams
    ::setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(receiver, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(receiver, reinterpret_cast<sockaddr*>(&a), &len);
    CHECK(net::receiveDrops(receiver) == 0);
    char datagram[1000] = {};
    for (int i = 0; i < 50; ++i) ::sendto(sender, datagram, sizeof datagram, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    const auto drops = net::receiveDrops(receiver); // loopback delivers (or drops) within sendto
    CHECK(drops > 0);
    CHECK(drops < 50);
    CHECK(net::receiveDrops(-1) == 0);
    ::close(sender);
    ::close(receiver);
}
