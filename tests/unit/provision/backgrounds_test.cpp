// Background images: the folder names phones ask for, PNG sizes, and which images are offered.
#include <doctest/doctest.h>

#include <vector>

#include "provision/backgrounds.h"

using namespace labcm::provision;

namespace {
std::vector<std::uint8_t> png(unsigned w, unsigned h) {
    std::vector<std::uint8_t> b{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (unsigned v : {w, h})
        for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
    return b;
}
} // namespace

TEST_CASE("backgrounds: folder names, PNG sizes, and the rules an offered image meets") {
    auto r = backgroundResolution("800x480x24");
    REQUIRE(r);
    CHECK(r->width == 800);
    CHECK(r->height == 480);
    CHECK(r->depth == 24);
    for (const char* bad : {"", "800x480", "800x480x", "x480x24", "800x480x24x1", "80a0x480x24", "0x480x24", "99999x1x1"}) {
        CAPTURE(bad);
        CHECK_FALSE(backgroundResolution(bad));
    }
    CHECK(pngSize(png(800, 480)) == std::optional<std::pair<unsigned, unsigned>>({800, 480}));
    auto cut = png(800, 480);
    cut.resize(20);
    CHECK_FALSE(pngSize(cut));
    auto notPng = png(1, 1);
    notPng[1] = 'J';
    CHECK_FALSE(pngSize(notPng));
    CHECK_FALSE(pngSize(png(0, 480))); // an empty image is not a PNG
    CHECK_FALSE(pngSize(png(800, 0)));

    using Size = std::optional<std::pair<unsigned, unsigned>>;
    CHECK(backgroundProblem(*r, Size({800, 480}), std::optional<Size>(Size({139, 109}))).empty());
    CHECK_FALSE(backgroundProblem(*r, Size({640, 480}), std::optional<Size>(Size({139, 109}))).empty()); // wrong size
    CHECK_FALSE(backgroundProblem(*r, std::nullopt, std::optional<Size>(Size({139, 109}))).empty());    // not a PNG
    CHECK_FALSE(backgroundProblem(*r, Size({800, 480}), std::nullopt).empty());                        // no thumbnail
    CHECK_FALSE(backgroundProblem(*r, Size({800, 480}), std::optional<Size>(std::nullopt)).empty());   // bad thumbnail
    CHECK_FALSE(backgroundProblem(*r, Size({800, 480}), std::optional<Size>(Size({800, 480}))).empty()); // too big
}
