#include <doctest/doctest.h>

#include <string>

#include "tftp/codec.h"

using namespace labcm::tftp;

namespace {

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

// An RRQ as atftp sends it: octet, blksize, tsize, windowsize.
const std::string kRrq = std::string("\x00\x01", 2) + "SEP001122AABBCC.cnf.xml" + std::string("\0", 1) + "OCTET" +
                         std::string("\0", 1) + "blksize" + std::string("\0", 1) + "1428" + std::string("\0", 1) +
                         "TSIZE" + std::string("\0", 1) + "0" + std::string("\0", 1) + "windowsize" +
                         std::string("\0", 1) + "8" + std::string("\0", 1);

} // namespace

TEST_CASE("tftp codec: an RRQ with options; names and mode lower-cased, values kept") {
    auto r = parseRequest(bytes(kRrq));
    CHECK(r.op == Opcode::Rrq);
    CHECK(r.filename == "SEP001122AABBCC.cnf.xml");
    CHECK(r.mode == "octet");
    REQUIRE(r.options.size() == 3);
    CHECK(r.options[0] == std::pair<std::string, std::string>{"blksize", "1428"});
    CHECK(r.options[1].first == "tsize");
    CHECK(r.options[2] == std::pair<std::string, std::string>{"windowsize", "8"});
    CHECK(makeRequest(r) == bytes(std::string("\x00\x01", 2) + "SEP001122AABBCC.cnf.xml" + std::string("\0", 1) +
                                  "octet" + std::string("\0", 1) + "blksize" + std::string("\0", 1) + "1428" +
                                  std::string("\0", 1) + "tsize" + std::string("\0", 1) + "0" + std::string("\0", 1) +
                                  "windowsize" + std::string("\0", 1) + "8" + std::string("\0", 1)));
}

TEST_CASE("tftp codec: every prefix of a valid RRQ fails cleanly") {
    auto full = bytes(kRrq);
    // Cut points that leave a complete request (after the mode, or after a value) parse.
    int parsed = 0, refused = 0;
    for (std::size_t n = 0; n < full.size(); ++n) {
        try {
            auto r = parseRequest(std::span(full.data(), n));
            CHECK(!r.filename.empty());
            ++parsed;
        } catch (const ParseError&) {
            ++refused;
        }
    }
    CHECK(parsed == 3); // ends of mode, blksize value, tsize value
    CHECK(refused == static_cast<int>(full.size()) - 3);
}

TEST_CASE("tftp codec: malformed requests") {
    CHECK_THROWS_AS(peekOpcode(bytes("\x00")), ParseError);
    CHECK_THROWS_WITH_AS(parseRequest(bytes(std::string("\x00\x04\x00\x01", 4))), "opcode 4 is not a request", ParseError);
    CHECK_THROWS_WITH_AS(parseRequest(bytes(std::string("\x00\x01\x00octet\x00", 9))), "empty file name", ParseError);
    CHECK_THROWS_WITH_AS(parseRequest(bytes(std::string("\x00\x01" "f\x00\x00", 5))), "empty mode", ParseError);
    // An option name without a value is truncated.
    CHECK_THROWS_AS(parseRequest(bytes(std::string("\x00\x01" "f\x00octet\x00" "blksize\x00", 18))), ParseError);
    std::string many = std::string("\x00\x01" "f\x00octet\x00", 10);
    for (int i = 0; i < 17; ++i) many += "o" + std::to_string(i) + std::string("\0", 1) + "1" + std::string("\0", 1);
    CHECK_THROWS_WITH_AS(parseRequest(bytes(many)), "more than 16 options", ParseError);
    // Trailing NUL padding after the last option is tolerated.
    auto padded = parseRequest(bytes(std::string("\x00\x01" "f\x00octet\x00\x00\x00", 12)));
    CHECK(padded.options.empty());
}

TEST_CASE("tftp codec: ACK, ERROR, DATA, OACK") {
    CHECK(parseAck(makeAck(65535)).block == 65535);
    CHECK_THROWS_AS(parseAck(bytes(std::string("\x00\x04\x00", 3))), ParseError);
    CHECK_THROWS_AS(parseAck(bytes(std::string("\x00\x03\x00\x01", 4))), ParseError);
    auto e = parseError(makeError(ErrorCode::FileNotFound, "File not found"));
    CHECK(e.code == ErrorCode::FileNotFound);
    CHECK(e.message == "File not found");
    CHECK(parseError(bytes(std::string("\x00\x05\x00\x02" "no nul", 10))).message == "no nul");
    std::vector<std::uint8_t> payload{1, 2, 3};
    CHECK(makeData(0x1234, payload) == std::vector<std::uint8_t>{0, 3, 0x12, 0x34, 1, 2, 3});
    CHECK(makeOack({{"blksize", "1428"}}) == bytes(std::string("\x00\x06" "blksize\x00" "1428\x00", 15)));
}

TEST_CASE("tftp codec: DATA and OACK as a client reads them, and their truncations") {
    std::vector<std::uint8_t> payload{1, 2, 3};
    const auto packet = makeData(7, payload); // the payload is a view into the packet
    auto d = parseData(packet);
    CHECK(d.block == 7);
    CHECK(std::vector<std::uint8_t>(d.payload.begin(), d.payload.end()) == payload);
    CHECK(parseData(makeData(65535, {})).payload.empty()); // the empty last block
    CHECK_THROWS_AS(parseData(makeAck(1)), ParseError);
    auto oack = makeOack({{"blksize", "1428"}, {"tsize", "12345"}});
    auto opts = parseOack(oack);
    REQUIRE(opts.size() == 2);
    CHECK(opts[1] == std::pair<std::string, std::string>{"tsize", "12345"});
    CHECK_THROWS_AS(parseOack(makeAck(0)), ParseError);
    // Every cut of the OACK inside a name or value is refused; cuts after a value parse.
    int parsed = 0;
    for (std::size_t n = 0; n < oack.size(); ++n) {
        try {
            parseOack(std::span(oack).first(n));
            ++parsed;
        } catch (const ParseError&) {
        }
    }
    CHECK(parsed == 2); // "\0\6" alone (no options) and after "1428\0"
    const auto data = makeData(1, payload);
    for (std::size_t n = 0; n < 4; ++n) CHECK_THROWS_AS(parseData(std::span(data).first(n)), ParseError);
}

