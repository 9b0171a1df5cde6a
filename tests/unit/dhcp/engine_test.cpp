// The DHCP server's decisions with no socket: datagrams in, replies and commits out, the
// time set by the test.
#include <doctest/doctest.h>

#include "dhcp/engine.h"

using namespace labcm;
using namespace labcm::dhcp;

namespace {

Addr ip(const char* text) { return *parseAddr(text); }
const Addr kServer = 0x0A960001; // 10.150.0.1, the address requests come in on
const std::string kPhoneClass = "Cisco Systems, Inc. IP Phone CP-8845";

struct Fixture {
    EventBus bus{256};
    std::int64_t now = 1'000'000;
    Engine engine{bus, [this] { return now; }, [](Addr a) { return a == 0x7F000001; }};

    Fixture() {
        PoolSpec s;
        s.name = "lab";
        s.subnet = "10.150.0.0/24";
        s.rangeFirst = "10.150.0.100";
        s.rangeLast = "10.150.0.101";
        s.routers = "10.150.0.1";
        s.leaseSeconds = 3600;
        Pool p;
        REQUIRE(!buildPool(s, p));
        engine.setPools({p});
    }

    std::vector<Event> events(EventKind kind) const {
        std::vector<Event> out;
        for (auto& e : bus.recent(0))
            if (e.kind == kind) out.push_back(e);
        return out;
    }

    Decision feed(const Packet& p, Addr local = kServer) {
        auto bytes = serialize(p);
        return engine.onDatagram({bytes, 0, local, 3});
    }
};

Packet request(MessageType type, std::uint8_t last, const std::string& vendorClass = kPhoneClass) {
    Packet p;
    p.xid = 0x1234 + last;
    p.chaddr = {0x00, 0x11, 0x22, 0xAA, 0xBB, last};
    p.set(opt::MessageType, {static_cast<std::uint8_t>(type)});
    if (!vendorClass.empty()) p.set(opt::VendorClass, {vendorClass.begin(), vendorClass.end()});
    return p;
}

void setAddr(Packet& p, std::uint8_t code, Addr a) {
    auto v = toIpv4(a);
    p.set(code, {v[0], v[1], v[2], v[3]});
}

Addr optionAddr(const Packet& p, std::uint8_t code) {
    auto* o = p.find(code);
    REQUIRE(o);
    REQUIRE(o->data.size() >= 4);
    return toAddr(Ipv4{o->data[0], o->data[1], o->data[2], o->data[3]});
}

// DISCOVER then REQUEST of the offer: the commit the engine asks for.
Commit offerAndRequest(Fixture& f, std::uint8_t last) {
    auto offer = f.feed(request(MessageType::Discover, last));
    REQUIRE(offer.send);
    auto req = request(MessageType::Request, last);
    setAddr(req, opt::RequestedIp, toAddr(offer.send->packet.yiaddr));
    setAddr(req, opt::ServerId, kServer);
    auto d = f.feed(req);
    CHECK_FALSE(d.send); // nothing leaves before the commit
    REQUIRE(d.commit);
    return *d.commit;
}

} // namespace

TEST_CASE("dhcp engine: DISCOVER is offered an address of the pool, broadcast with option 150 and the server id") {
    Fixture f;
    auto d = f.feed(request(MessageType::Discover, 1));
    REQUIRE(d.send);
    const auto& s = *d.send;
    CHECK(s.packet.op == 2);
    CHECK(s.packet.xid == 0x1235);
    CHECK((*s.packet.messageType() == MessageType::Offer));
    CHECK(toAddr(s.packet.yiaddr) == ip("10.150.0.100"));
    CHECK(optionAddr(s.packet, opt::ServerId) == kServer);
    CHECK(optionAddr(s.packet, opt::TftpServers) == kServer); // no tftp in the pool: the address it came in on
    CHECK(optionAddr(s.packet, opt::Router) == ip("10.150.0.1"));
    CHECK(s.to == 0xFFFFFFFFu);
    CHECK(s.port == 68);
    CHECK(s.ifindex == 3);
    CHECK(f.engine.counters().offers == 1);
    auto offered = f.events(EventKind::DhcpOffered);
    REQUIRE(offered.size() == 1);
    CHECK(offered[0].detail.find("CP-8845") != std::string::npos);
}

TEST_CASE("dhcp engine: REQUEST commits first; the ACK comes from committed(), with lease, T1 and T2") {
    Fixture f;
    auto c = offerAndRequest(f, 1);
    CHECK(c.granted.save.front().mac == "001122AABB01");
    CHECK(c.granted.save.front().model == "8845");
    CHECK(c.recordSighting); // an unknown MAC whose option 60 names a phone
    auto ack = f.engine.committed(c, true);
    REQUIRE(ack);
    CHECK((*ack->packet.messageType() == MessageType::Ack));
    CHECK(toAddr(ack->packet.yiaddr) == ip("10.150.0.100"));
    CHECK(optionAddr(ack->packet, opt::LeaseTime) == 3600);
    CHECK(optionAddr(ack->packet, opt::RenewalTime) == 1800);
    CHECK(optionAddr(ack->packet, opt::RebindingTime) == 3150);
    CHECK(f.engine.counters().acks == 1);
    CHECK(f.events(EventKind::DhcpAcked).size() == 1);
}

TEST_CASE("dhcp engine: a failed commit sends no ACK and frees the address for the next client") {
    Fixture f;
    f.engine.setDevices({}, {"001122AABB01"});
    auto c = offerAndRequest(f, 1);
    CHECK_FALSE(c.recordSighting); // a known device: no sighting to record
    CHECK_FALSE(f.engine.committed(c, false));
    CHECK(f.engine.counters().commitFailures == 1);
    CHECK(f.engine.counters().acks == 0);
    CHECK(f.engine.allocator().find(ip("10.150.0.100")) == nullptr);
}

TEST_CASE("dhcp engine: a relayed DISCOVER is answered to the relay's port 67 with option 82 echoed") {
    Fixture f;
    auto p = request(MessageType::Discover, 2);
    p.giaddr = toIpv4(ip("10.150.0.254"));
    p.set(opt::RelayAgent, {1, 3, 'a', 'b', 'c'});
    auto d = f.feed(p, ip("127.0.0.1"));
    REQUIRE(d.send);
    CHECK(d.send->to == ip("10.150.0.254"));
    CHECK(d.send->port == 67);
    CHECK(d.send->local == ip("127.0.0.1"));
    REQUIRE(d.send->packet.find(opt::RelayAgent));
    CHECK(d.send->packet.options.back().code == opt::RelayAgent);
}

TEST_CASE("dhcp engine: a REQUEST for an address outside the pool is NAKed, broadcast") {
    Fixture f;
    auto p = request(MessageType::Request, 3);
    setAddr(p, opt::RequestedIp, ip("10.150.0.50"));
    auto d = f.feed(p);
    REQUIRE(d.send);
    CHECK((*d.send->packet.messageType() == MessageType::Nak));
    CHECK(d.send->to == 0xFFFFFFFFu);
    CHECK(d.send->packet.find(opt::Message));
    CHECK(f.engine.counters().naks == 1);
}

TEST_CASE("dhcp engine: a REQUEST naming another server drops the offer and is not answered") {
    Fixture f;
    auto offer = f.feed(request(MessageType::Discover, 4));
    REQUIRE(offer.send);
    auto p = request(MessageType::Request, 4);
    setAddr(p, opt::RequestedIp, toAddr(offer.send->packet.yiaddr));
    setAddr(p, opt::ServerId, ip("10.150.0.9"));
    auto d = f.feed(p);
    CHECK_FALSE(d.send);
    CHECK_FALSE(d.commit);
    CHECK(f.engine.allocator().offersHeld() == 0);
    CHECK(f.engine.counters().ignored == 1);
    // A server id that is one of the host's own addresses is ours.
    setAddr(p, opt::ServerId, 0x7F000001);
    auto again = f.feed(request(MessageType::Discover, 4));
    REQUIRE(again.send);
    setAddr(p, opt::RequestedIp, toAddr(again.send->packet.yiaddr));
    CHECK(f.feed(p).commit);
}

TEST_CASE("dhcp engine: cisco-only ignores a PC, with one event a minute per client") {
    Fixture f;
    f.engine.setPolicy({67, true, ""});
    auto pc = request(MessageType::Discover, 5, "MSFT 5.0");
    CHECK_FALSE(f.feed(pc).send);
    CHECK_FALSE(f.feed(pc).send);
    CHECK(f.engine.counters().ignored == 2);
    CHECK(f.events(EventKind::DhcpIgnored).size() == 1);
    f.now += 61'000;
    CHECK_FALSE(f.feed(pc).send);
    CHECK(f.events(EventKind::DhcpIgnored).size() == 2);
    // A phone is answered.
    CHECK(f.feed(request(MessageType::Discover, 6)).send);
}

TEST_CASE("dhcp engine: the pool's exhaustion is an event, not a reply") {
    Fixture f;
    offerAndRequest(f, 1);
    offerAndRequest(f, 2);
    auto d = f.feed(request(MessageType::Discover, 3));
    CHECK_FALSE(d.send);
    CHECK(f.engine.counters().exhausted == 1);
    CHECK(f.events(EventKind::DhcpExhausted).size() == 1);
}

TEST_CASE("dhcp engine: RELEASE and DECLINE are saved behind, with no reply") {
    Fixture f;
    auto c = offerAndRequest(f, 1);
    REQUIRE(f.engine.committed(c, true));
    auto rel = request(MessageType::Release, 1);
    rel.ciaddr = toIpv4(ip("10.150.0.100"));
    auto d = f.feed(rel);
    CHECK_FALSE(d.send);
    REQUIRE(d.saveBehind);
    CHECK((d.saveBehind->state == LeaseState::Released));

    auto c2 = offerAndRequest(f, 2);
    REQUIRE(f.engine.committed(c2, true));
    auto dec = request(MessageType::Decline, 2);
    setAddr(dec, opt::RequestedIp, c2.granted.save.front().address);
    auto dd = f.feed(dec);
    REQUIRE(dd.saveBehind);
    CHECK((dd.saveBehind->state == LeaseState::Declined));
    CHECK(f.engine.counters().declines == 1);
}

TEST_CASE("dhcp engine: malformed or foreign datagrams are dropped and counted, whatever their length") {
    Fixture f;
    // Header and cookie (240), option 53 (3 bytes), option 60: every cut but the one between
    // two options (a missing End is tolerated) is dropped.
    auto good = serialize(request(MessageType::Discover, 7));
    const std::size_t vendorEnd = 243 + 2 + kPhoneClass.size();
    for (std::size_t n = 0; n < vendorEnd; ++n) {
        if (n == 243) continue;
        std::span<const std::uint8_t> cut(good.data(), n);
        auto d = f.engine.onDatagram({cut, 0, kServer, 3});
        CHECK_FALSE(d.send);
    }
    CHECK(f.engine.counters().dropped == vendorEnd - 1);
    auto reply = request(MessageType::Offer, 7);
    reply.op = 2;
    CHECK_FALSE(f.feed(reply).send);
    auto bootp = request(MessageType::Discover, 7);
    bootp.options.clear();
    CHECK_FALSE(f.feed(bootp).send);
    CHECK(f.engine.counters().dropped > 2);
    CHECK(f.engine.counters().offers == 0);
}

TEST_CASE("dhcp engine: no pool for the network the request came in on: ignored with the reason") {
    Fixture f;
    CHECK_FALSE(f.feed(request(MessageType::Discover, 8), ip("192.168.9.1")).send);
    auto ignored = f.events(EventKind::DhcpIgnored);
    REQUIRE(ignored.size() == 1);
    CHECK(ignored[0].detail.find("no pool for the network of 192.168.9.1") != std::string::npos);
}

TEST_CASE("dhcp engine: the sweep marks ended leases expired, counts them and says so per client") {
    Fixture f;
    auto c = offerAndRequest(f, 1);
    REQUIRE(f.engine.committed(c, true));
    CHECK(f.engine.sweep(100).empty()); // still bound
    f.now += 3'600'000 * 24;           // past any lease time
    auto ended = f.engine.sweep(100);
    REQUIRE(ended.size() == 1);
    CHECK((ended[0].state == LeaseState::Expired));
    CHECK(f.engine.counters().expired == 1);
    auto ev = f.events(EventKind::DhcpExpired);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].mac == ended[0].mac);
    CHECK(ev[0].detail.find("ended without a renewal") != std::string::npos);
    CHECK(f.engine.sweep(100).empty());
}
