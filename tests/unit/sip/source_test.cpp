#include <doctest/doctest.h>

#include "sip/source.h"

using labcm::sip::Source;

TEST_CASE("Source: parses the stored IPv4 form and prints it back") {
    auto s = Source::parse("tcp:10.0.0.50:51234");
    REQUIRE(s);
    CHECK(s->transport == "tcp");
    CHECK(s->address == "10.0.0.50");
    CHECK(s->port == 51234);
    CHECK(s->toString() == "tcp:10.0.0.50:51234");

    auto u = Source::parse("udp:192.168.1.7:5060");
    REQUIRE(u);
    CHECK(u->transport == "udp");
    CHECK(u->port == 5060);
    CHECK(Source{"udp", "10.0.0.5", 0}.toString() == "udp:10.0.0.5:0");
    CHECK(Source::parse("udp:10.0.0.5:65535")->port == 65535);
}

TEST_CASE("Source: IPv6 unbracketed (the stored form) and bracketed") {
    auto s = Source::parse("tcp:::1:5060");
    REQUIRE(s);
    CHECK(s->address == "::1");
    CHECK(s->port == 5060);
    CHECK(s->toString() == "tcp:::1:5060");

    auto full = Source::parse("udp:2001:db8::5:49152");
    REQUIRE(full);
    CHECK(full->address == "2001:db8::5");
    CHECK(full->port == 49152);

    auto b = Source::parse("tcp:[::1]:5060");
    REQUIRE(b);
    CHECK(b->address == "::1");
    CHECK(b->port == 5060);
    CHECK(*b == *s);

    auto scoped = Source::parse("tcp:[fe80::1%eth0]:5061");
    REQUIRE(scoped);
    CHECK(scoped->address == "fe80::1%eth0");
}

TEST_CASE("Source: round trip") {
    for (const char* text : {"tcp:10.0.0.50:51234", "udp:::1:5060", "tcp:2001:db8::5:1", "udp:1.2.3.4:0"}) {
        auto s = Source::parse(text);
        REQUIRE(s);
        CHECK(s->toString() == text);
        CHECK(Source::parse(s->toString()) == s);
    }
}

TEST_CASE("Source: truncations are rejected") {
    for (const char* text : {"", "tcp", "tcp:", "tcp:10.0.0.50", "tcp:10.0.0.50:", "tcp::5060", ":10.0.0.5:5060",
                             "tcp:[::1", "tcp:[::1]", "tcp:[::1]:", "tcp:[::1]5060", "tcp:[]:5060"})
        CHECK_MESSAGE(!Source::parse(text), text);
}

TEST_CASE("Source: garbage is rejected") {
    for (const char* text : {"tcp:10.0.0.5:50a", "tcp:10.0.0.5:99999", "tcp:10.0.0.5:123456", "tcp:10.0.0.5:-1",
                             "tcp:10.0.0.5:+5", "tcp:10.0.0.5: 5060", "t c p:10.0.0.5:5060", "tcp:10.0.0 .5:5060",
                             "tcp:a]b:5060", "tcp:[::1]]:5060", "\x01\x02:\xff:1", "::::", "tcp:[x]:5060x"})
        CHECK_MESSAGE(!Source::parse(text), text);
}
