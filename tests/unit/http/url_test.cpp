#include <doctest/doctest.h>

#include "http/url.h"

using labcm::http::urlDecode;

TEST_CASE("url: percent escapes decode, in either case of hex digit") {
    CHECK(urlDecode("", false) == "");
    CHECK(urlDecode("SEP001122AABBCC.cnf.xml", false) == "SEP001122AABBCC.cnf.xml");
    CHECK(urlDecode("a%20b", false) == "a b");
    CHECK(urlDecode("%2f%2F", false) == "//");
    CHECK(urlDecode("%41", false) == "A");
    CHECK(urlDecode("x%00y", false) == std::string("x\0y", 3));
    CHECK(urlDecode("%ff", false) == std::string(1, '\xff'));
}

TEST_CASE("url: truncated or malformed escapes are refused") {
    for (bool plus : {false, true}) {
        CAPTURE(plus);
        CHECK(!urlDecode("%", plus));
        CHECK(!urlDecode("%4", plus));
        CHECK(!urlDecode("%zz", plus));
        CHECK(!urlDecode("%4z", plus));
        CHECK(!urlDecode("%z4", plus));
        CHECK(!urlDecode("abc%", plus));
        CHECK(!urlDecode("abc%4", plus));
        CHECK(!urlDecode("%+1", plus));
    }
}

TEST_CASE("url: '+' is a space only in query mode") {
    CHECK(urlDecode("a+b", true) == "a b");
    CHECK(urlDecode("a+b", false) == "a+b");
    CHECK(urlDecode("a%2Bb", true) == "a+b");
    CHECK(urlDecode("a%20b+c", true) == "a b c");
    CHECK(urlDecode("+", true) == " ");
    CHECK(urlDecode("+", false) == "+");
}
