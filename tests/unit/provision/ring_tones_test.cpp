// Ring tones: the formats' limits, the menu names, and labcm's own tones (which must pass the
// same checks as an admin's files).
#include <doctest/doctest.h>

#include "provision/ring_tones.h"

using namespace labcm::provision;

TEST_CASE("ring tones: sizes and names each format allows") {
    CHECK(ringFileProblem("Chirp1.raw", 240).empty());
    CHECK(ringFileProblem("Chirp1.raw", 16'080).empty());
    CHECK_FALSE(ringFileProblem("Chirp1.raw", 16'320).empty()); // too long
    CHECK_FALSE(ringFileProblem("Chirp1.raw", 1'000).empty());  // not a multiple of 240
    CHECK_FALSE(ringFileProblem("Chirp1.raw", 0).empty());
    CHECK(ringFileProblem("Piano.RWB", 480).empty());
    CHECK(ringFileProblem("Piano.rwb", 321'600).empty());
    CHECK_FALSE(ringFileProblem("Piano.rwb", 321'602).empty());
    CHECK_FALSE(ringFileProblem("Piano.rwb", 481).empty()); // half a sample
    CHECK_FALSE(ringFileProblem("Piano.rwb", 478).empty());
    CHECK_FALSE(ringFileProblem("a-name-longer-than-25-chars.raw", 240).empty());
    CHECK_FALSE(ringFileProblem("song.mp3", 240).empty());
    CHECK(ringBandOf("x.RAW") == RingBand::Narrow);
    CHECK(ringBandOf("x.rwb") == RingBand::Wide);
    CHECK_FALSE(ringBandOf("x.wav"));
    CHECK(ringDisplayName("Old_Phone.raw") == "Old Phone");
    CHECK(ringDisplayName("noextension") == "noextension");
}

TEST_CASE("ring tones: labcm's own tones are valid ring files, made the same every time") {
    REQUIRE(builtInToneNames().size() == 6);
    for (const auto& name : builtInToneNames()) {
        CAPTURE(name);
        auto bytes = builtInTone(name);
        REQUIRE(bytes);
        CHECK(ringFileProblem(name, bytes->size()).empty());
        CHECK(*builtInTone(name) == *bytes);
        CHECK(bytes->find_first_not_of(bytes->front()) != std::string::npos); // not silence
    }
    CHECK(builtInTone("LABCM-CLASSIC.RAW") == builtInTone("labcm-Classic.raw"));
    CHECK(builtInTone("labcm-Classic.raw")->size() == 15'840);
    CHECK(builtInTone("labcm-Classic.rwb")->size() == 63'360);
    CHECK_FALSE(builtInTone("labcm-Classic.wav"));
    CHECK_FALSE(builtInTone("other.raw"));
    // mu-law: silence is 0xFF (positive zero), the first sample of the Classic ring.
    CHECK(static_cast<unsigned char>(builtInTone("labcm-Classic.raw")->front()) == 0xff);
}
