#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/connection_caps.h"

using namespace labcm;

namespace {
net::PeerAddress v4(const char* text) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, text, &in.sin_addr) == 1);
    return net::PeerAddress::from(reinterpret_cast<sockaddr*>(&in));
}
} // namespace

TEST_CASE("connection caps: per address and in total, released connections count no more") {
    net::ConnectionCaps caps(5, 2);
    auto a = v4("10.0.0.1"), b = v4("10.0.0.2"), c = v4("10.0.0.3");
    CHECK(caps.admit(a) == net::Admission::Admitted);
    CHECK(caps.admit(a) == net::Admission::Admitted);
    CHECK(caps.admit(a) == net::Admission::AddressFull);
    CHECK(caps.openFrom(a) == 2);
    CHECK(caps.admit(b) == net::Admission::Admitted);
    CHECK(caps.admit(b) == net::Admission::Admitted);
    CHECK(caps.admit(c) == net::Admission::Admitted);
    CHECK(caps.admit(c) == net::Admission::TotalFull);
    CHECK(caps.open() == 5);
    caps.release(a);
    CHECK(caps.admit(c) == net::Admission::Admitted);
    // A release of an address with nothing open changes nothing.
    caps.release(v4("10.9.9.9"));
    CHECK(caps.open() == 5);
    for (int i = 0; i < 2; ++i) caps.release(c);
    caps.release(a);
    for (int i = 0; i < 2; ++i) caps.release(b);
    CHECK(caps.open() == 0);
    CHECK(caps.addresses() == 0); // nothing kept for an address with no connection
}

TEST_CASE("connection caps: 0 means no cap; limits can change") {
    net::ConnectionCaps caps(0, 0);
    auto a = v4("192.0.2.1");
    for (int i = 0; i < 1000; ++i) REQUIRE(caps.admit(a) == net::Admission::Admitted);
    caps.setLimits(0, 1000);
    CHECK(caps.admit(a) == net::Admission::AddressFull);
    caps.setLimits(1000, 0);
    CHECK(caps.admit(a) == net::Admission::TotalFull);
}

TEST_CASE("connection caps: an admitted connection is released once when it goes or is moved") {
    net::ConnectionCaps caps(1, 1);
    auto a = v4("127.0.0.1");
    {
        REQUIRE(caps.admit(a) == net::Admission::Admitted);
        net::AdmittedConnection held(caps, a);
        net::AdmittedConnection moved(std::move(held));
        CHECK(caps.open() == 1);
        held.reset(); // moved from: releases nothing
        CHECK(caps.open() == 1);
    }
    CHECK(caps.open() == 0);
}

TEST_CASE("peer address: IPv4 is kept as IPv4-mapped IPv6 and printed back") {
    CHECK(v4("127.0.0.5").toString() == "127.0.0.5");
    CHECK(net::PeerAddress::fromV4(0x7f000005) == v4("127.0.0.5"));
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    REQUIRE(::inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr) == 1);
    auto six = net::PeerAddress::from(reinterpret_cast<sockaddr*>(&in6));
    CHECK(six.toString() == "2001:db8::1");
    CHECK(!(six == v4("127.0.0.5")));
    CHECK(net::PeerAddress::from(nullptr) == net::PeerAddress{});
}
