#include <doctest/doctest.h>

#include <algorithm>

#include "dhcp/codec.h"

using namespace labcm::dhcp;

namespace {

// A DISCOVER as a Cisco 8845 sends it: broadcast flag, option 60 with the vendor class,
// a parameter request list asking for 150 and 66, a client id (type 1 + MAC).
std::vector<std::uint8_t> discover8845() {
    std::vector<std::uint8_t> b(236, 0);
    b[0] = 1; b[1] = 1; b[2] = 6;
    b[4] = 0x12; b[5] = 0x34; b[6] = 0x56; b[7] = 0x78;      // xid
    b[10] = 0x80;                                             // broadcast
    const std::uint8_t mac[6] = {0x00, 0x11, 0x22, 0xAA, 0xBB, 0xCC};
    std::copy(mac, mac + 6, b.begin() + 28);
    for (std::uint8_t c : {99, 130, 83, 99}) b.push_back(c);
    auto put = [&](std::uint8_t code, std::vector<std::uint8_t> data) {
        b.push_back(code);
        b.push_back(static_cast<std::uint8_t>(data.size()));
        b.insert(b.end(), data.begin(), data.end());
    };
    put(53, {1});
    put(61, {1, 0x00, 0x11, 0x22, 0xAA, 0xBB, 0xCC});
    std::string vc = "Cisco Systems, Inc. IP Phone CP-8845";
    put(60, {vc.begin(), vc.end()});
    put(55, {1, 66, 6, 3, 15, 150, 35, 42});
    b.push_back(255);
    return b;
}

} // namespace

TEST_CASE("dhcp codec: a Cisco 8845 DISCOVER from bytes") {
    auto p = parse(discover8845());
    CHECK(p.op == 1);
    CHECK(p.xid == 0x12345678u);
    CHECK(p.flags == 0x8000);
    CHECK(p.mac() == "001122AABBCC");
    CHECK((p.messageType() == MessageType::Discover));
    auto* vc = p.find(opt::VendorClass);
    REQUIRE(vc);
    CHECK(modelFromVendorClass(std::string(vc->data.begin(), vc->data.end())) == std::optional<std::string>("8845"));
    auto* prl = p.find(opt::ParameterList);
    REQUIRE(prl);
    CHECK(std::find(prl->data.begin(), prl->data.end(), 150) != prl->data.end());
    CHECK(std::find(prl->data.begin(), prl->data.end(), 66) != prl->data.end());
}

TEST_CASE("dhcp codec: an OFFER with option 150 (two servers) and 66 round-trips, padded to 300") {
    Packet p;
    p.op = 2;
    p.xid = 7;
    p.yiaddr = *parseIpv4("10.0.0.50");
    p.chaddr[0] = 0x00;
    p.chaddr[5] = 0xCC;
    p.set(opt::MessageType, {2});
    p.set(opt::ServerId, {10, 0, 0, 1});
    p.set(opt::TftpServers, ipv4ListData({*parseIpv4("10.0.0.1"), *parseIpv4("10.0.0.2")}));
    std::string name = "10.0.0.1";
    p.set(opt::TftpServerName, {name.begin(), name.end()});
    auto bytes = serialize(p);
    CHECK(bytes.size() == 300);
    // Option 150 on the wire exactly as RFC 5859 shows it.
    const std::vector<std::uint8_t> o150{150, 8, 10, 0, 0, 1, 10, 0, 0, 2};
    CHECK(std::search(bytes.begin(), bytes.end(), o150.begin(), o150.end()) != bytes.end());
    auto q = parse(bytes);
    CHECK((q.messageType() == MessageType::Offer));
    CHECK(toString(q.yiaddr) == "10.0.0.50");
    auto list = ipv4List(q.find(opt::TftpServers)->data);
    REQUIRE(list.size() == 2);
    CHECK(toString(list[1]) == "10.0.0.2");
    CHECK(std::string(q.find(opt::TftpServerName)->data.begin(), q.find(opt::TftpServerName)->data.end()) == "10.0.0.1");
}

TEST_CASE("dhcp codec: options over 255 bytes are split and joined again (RFC 3396)") {
    Packet p;
    p.set(opt::MessageType, {5});
    std::vector<std::uint8_t> big(600, 7);
    p.set(opt::DomainName, big);
    auto q = parse(serialize(p));
    CHECK(q.find(opt::DomainName)->data == big);
}

TEST_CASE("dhcp codec: option overload reads options from file and sname") {
    auto b = discover8845();
    b.pop_back(); // drop End
    for (std::uint8_t c : {52, 1, 3}) b.push_back(c);
    b.push_back(255);
    // file (offset 108) carries option 66, sname (offset 44) carries option 42.
    const std::uint8_t inFile[] = {66, 3, 'a', 'b', 'c', 255};
    std::copy(std::begin(inFile), std::end(inFile), b.begin() + 108);
    const std::uint8_t inSname[] = {42, 4, 10, 0, 0, 9, 255};
    std::copy(std::begin(inSname), std::end(inSname), b.begin() + 44);
    auto p = parse(b);
    CHECK(p.find(66)->data == std::vector<std::uint8_t>{'a', 'b', 'c'});
    CHECK(p.find(42)->data == std::vector<std::uint8_t>{10, 0, 0, 9});
    CHECK(p.file.empty());
    CHECK(p.sname.empty());
    CHECK_FALSE(p.find(52));
}

TEST_CASE("dhcp codec: every truncation of a DISCOVER is refused or parses without reading past the end") {
    auto full = discover8845();
    int refused = 0;
    for (std::size_t n = 0; n < full.size(); ++n) {
        try {
            (void)parse(std::span(full).first(n));
        } catch (const ParseError& e) {
            CHECK(std::string(e.what()).size() > 0);
            ++refused;
        }
    }
    // Short of header + cookie: refused. Inside an option: refused. Between options: parses
    // (a missing End is tolerated in the main area).
    CHECK(refused >= 240);
    CHECK(refused < static_cast<int>(full.size()));
}

TEST_CASE("dhcp codec: malformed packets name the problem") {
    auto b = discover8845();
    auto bad = b;
    bad[236] = 0; // cookie
    CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("cookie"), ParseError);
    bad = b;
    bad[0] = 3;
    CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("op 3"), ParseError);
    bad = b;
    bad[2] = 17;
    CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("hlen 17"), ParseError);
    bad = b;
    bad[242] = 9; // message type 9
    CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("message type"), ParseError);
    bad = b;
    bad.insert(bad.end() - 1, {52, 1, 7});
    CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("overload"), ParseError);
    bad = b;
    bad.back() = 77; // an option code where End was, with no length
    CHECK_THROWS_WITH_AS(parse(bad), doctest::Contains("no length"), ParseError);
    CHECK_THROWS_AS(ipv4List({1, 2, 3}), ParseError);
    CHECK_THROWS_AS(ipv4List({}), ParseError);
}

TEST_CASE("dhcp codec: models from option 60 vendor classes") {
    CHECK(modelFromVendorClass(std::string("Cisco Systems, Inc. IP Phone CP-7941G\0", 38)) == std::optional<std::string>("7941"));
    CHECK(modelFromVendorClass("Cisco Systems, Inc. IP Phone CP-7961G-GE") == std::optional<std::string>("7961"));
    CHECK(modelFromVendorClass("Cisco Systems, Inc. IP Phone CP-8841-3PCC") == std::optional<std::string>("8841"));
    CHECK(modelFromVendorClass("Cisco Systems, Inc. IP Phone CP-7821") == std::optional<std::string>("7821"));
    CHECK(modelFromVendorClass("Cisco Systems Inc. Wireless Phone 7921") == std::optional<std::string>("7921"));
    CHECK(modelFromVendorClass("Cisco Systems, Inc. IP Phone") == std::nullopt);
    CHECK(modelFromVendorClass("MSFT 5.0") == std::nullopt);
    CHECK(modelFromVendorClass("") == std::nullopt);
    CHECK(parseIpv4("10.0.0.256") == std::nullopt);
    CHECK(parseIpv4("10.0.0.1x") == std::nullopt);
}
