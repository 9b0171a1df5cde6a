#include <doctest/doctest.h>

#include "core/mac.h"

using labcm::normalizeMac;

TEST_CASE("mac: accepts the usual spellings and normalises to 12 upper-case digits") {
    for (const char* text : {"001122AABBCC", "001122aabbcc", "00:11:22:aa:bb:cc", "00-11-22-AA-BB-CC", "0011.22aa.bbcc",
                             "SEP001122AABBCC", "sep001122aabbcc"})
        CHECK(normalizeMac(text) == "001122AABBCC");
    CHECK(labcm::deviceName("001122AABBCC") == "SEP001122AABBCC");
}

TEST_CASE("mac: refuses anything that is not exactly one MAC") {
    for (const char* text : {"", "001122AABB", "001122AABBCCDD", "00:11:22-aa:bb:cc", "0:011:22:aa:bb:cc",
                             "00112233445G", "SEP00112233445", "SEX001122AABBCC", "00 11 22 aa bb cc", "0011.22aa.bbc.c",
                             "00:11:22:aa:bb:cc:", "::00:11:22:aa:bb:cc"})
        CHECK_MESSAGE(!normalizeMac(text), text);
}
