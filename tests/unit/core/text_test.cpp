#include <doctest/doctest.h>

#include <string>

#include "core/text.h"

using labcm::text::cutUtf8;
using labcm::text::visible;

TEST_CASE("text: visible() writes control characters as \\xNN and keeps the rest") {
    CHECK(visible("Cisco-CP8845/14.2.1") == "Cisco-CP8845/14.2.1");
    CHECK(visible("a\x1b]0;pwned\x07z") == "a\\x1b]0;pwned\\x07z");     // a terminal title change
    CHECK(visible("one\nFAKE line\r") == "one\\x0aFAKE line\\x0d");     // a forged line of output
    CHECK(visible("del\x7f") == "del\\x7f");
    CHECK(visible("csi\xc2\x9b" "2J") == "csi\\xc2\\x9b2J");             // C1 CSI as UTF-8
    CHECK(visible("Zürich \xe2\x82\xac") == "Zürich \xe2\x82\xac");      // other UTF-8 untouched
    CHECK(visible(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(visible("end\xc2") == "end\xc2");                               // a truncated sequence: as is
}

TEST_CASE("text: cutUtf8() keeps at most n bytes and never cuts a character") {
    CHECK(cutUtf8("abc", 5) == "abc");
    CHECK(cutUtf8("abcdef", 3) == "abc");
    CHECK(cutUtf8("ab\xC3\xA9", 3) == "ab");     // é is two bytes: left out whole
    CHECK(cutUtf8("ab\xC3\xA9", 4) == "ab\xC3\xA9");
    CHECK(cutUtf8("\xE2\x82\xAC\xE2\x82\xAC", 5) == "\xE2\x82\xAC"); // two euro signs
    CHECK(cutUtf8("", 0).empty());
}
