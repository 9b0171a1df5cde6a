#include <doctest/doctest.h>

#include <vector>

#include "core/byte_reader.h"

using labcm::ByteReader;
using labcm::TruncatedError;

TEST_CASE("byte_reader: reads big-endian integers, bytes and C strings in order") {
    const std::vector<std::uint8_t> data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 'a', 'b', 0, 0xAA, 0xBB};
    ByteReader r(data);
    CHECK(r.u8() == 0x01);
    CHECK(r.u16() == 0x0203);
    CHECK(r.u32() == 0x04050607u);
    CHECK(r.cstring() == "ab");
    auto b = r.bytes(1);
    CHECK(b.size() == 1);
    CHECK(b[0] == 0xAA);
    CHECK(r.remaining() == 1);
    CHECK(r.rest().size() == 1);
    CHECK(r.empty());
}

TEST_CASE("byte_reader: every read past the end throws TruncatedError naming the field and offset") {
    const std::vector<std::uint8_t> data{0x01, 0x02, 0x03};
    ByteReader r(data);
    r.u8();
    CHECK_THROWS_WITH_AS(r.u32("opcode"), "truncated opcode at offset 1: needs 4 bytes, 2 left", TruncatedError);
    // A failed read consumes nothing.
    CHECK(r.offset() == 1);
    CHECK(r.u16() == 0x0203);
    CHECK_THROWS_AS(r.u8(), TruncatedError);
    CHECK_THROWS_AS(r.bytes(1), TruncatedError);
    CHECK(r.bytes(0).empty());
}

TEST_CASE("byte_reader: a length off the wire larger than the input is refused, not wrapped") {
    const std::vector<std::uint8_t> data{0x00, 0x10};
    ByteReader r(data);
    CHECK_THROWS_AS(r.bytes(SIZE_MAX), TruncatedError);
    CHECK_THROWS_AS(r.skip(SIZE_MAX - 1), TruncatedError);
    CHECK(r.remaining() == 2);
}

TEST_CASE("byte_reader: cstring without a NUL is truncated at every prefix") {
    const std::vector<std::uint8_t> full{'n', 'a', 'm', 'e', 0};
    for (std::size_t len = 0; len < full.size(); ++len) {
        ByteReader r(std::span(full.data(), len));
        CHECK_THROWS_AS(r.cstring("filename"), TruncatedError);
    }
    ByteReader r(full);
    CHECK(r.cstring() == "name");
}
