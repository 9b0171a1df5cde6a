#include <doctest/doctest.h>

#include <string>

#include "provision/packed_text.h"

using namespace labcm::provision;

namespace {

std::string phoneFile(int n) {
    std::string s = "<device><deviceProtocol>SIP</deviceProtocol>";
    for (int i = 0; i < 60; ++i) s += "<vendorConfig><setting" + std::to_string(i) + ">value of setting</setting" + std::to_string(i) + "></vendorConfig>\n";
    return s + "<name>SEP00112233" + std::to_string(1000 + n) + "</name><line>" + std::to_string(2000 + n) + "</line></device>\n";
}

} // namespace

TEST_CASE("packed text: a file packed against a sibling unpacks to the same bytes and is a fraction of its size") {
    auto ref = std::make_shared<const PackReference>(phoneFile(1));
    auto text = phoneFile(2);
    auto p = PackedText::pack(text, ref);
    CHECK(p.unpack() == text);
    CHECK(p.size() == text.size());
    CHECK(p.packedSize() * 20 < text.size());
}

TEST_CASE("packed text: the reference lives as long as a text packed against it") {
    auto text = phoneFile(3);
    PackedText p;
    {
        auto ref = std::make_shared<const PackReference>(phoneFile(1));
        p = PackedText::pack(text, ref);
    } // the cache's references were cleared
    CHECK(p.unpack() == text);
}

TEST_CASE("packed text: without a reference, empty, or incompressible, the text comes back unchanged") {
    auto text = phoneFile(4);
    auto alone = PackedText::pack(text, nullptr);
    CHECK(alone.unpack() == text);
    CHECK(alone.packedSize() < text.size());

    CHECK(PackedText::pack("", nullptr).unpack().empty());
    auto tiny = PackedText::pack("ab", std::make_shared<const PackReference>("xyz"));
    CHECK(tiny.unpack() == "ab");
    CHECK(tiny.packedSize() == 2); // packing would not make it smaller: kept as is

    std::string noise;
    unsigned x = 12345;
    for (int i = 0; i < 4096; ++i) noise += static_cast<char>((x = x * 1103515245 + 12345) >> 16);
    auto n = PackedText::pack(noise, nullptr);
    CHECK(n.unpack() == noise);
    CHECK(n.packedSize() == noise.size());
}
