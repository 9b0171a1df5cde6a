// multipart/form-data as a Cisco phone posts its problem report (issue 22), and every way a
// body can be cut short or malformed.
#include <doctest/doctest.h>

#include "http/multipart.h"

#include <string>

using namespace labcm::http;

namespace {

const std::string kBoundary = "----PRTboundary7MA4YWxkTrZu0gW";

// What a 78xx/88xx sends (fields as Cisco's admin guides list them; newer firmware puts a
// newline before each value).
std::string phoneBody(const std::string& archive) {
    return "--" + kBoundary + "\r\n"
           "Content-Disposition: form-data; name=\"devicename\"\r\n\r\n"
           "\nSEP001122334455\r\n"
           "--" + kBoundary + "\r\n"
           "Content-Disposition: form-data; name=\"serialno\"\r\n\r\n"
           "FCH12345ABC\r\n"
           "--" + kBoundary + "\r\n"
           "Content-Disposition: form-data; name=\"username\"\r\n\r\n"
           "\r\n"
           "--" + kBoundary + "\r\n"
           "Content-Disposition: form-data; name=\"prt_file\"; filename=\"probrep-20141021-162840.tar.gz\"\r\n"
           "Content-Type: application/x-gzip\r\n\r\n" +
           archive + "\r\n"
           "--" + kBoundary + "--\r\n";
}

} // namespace

TEST_CASE("multipart: the boundary of a form's Content-Type") {
    CHECK(formBoundary("multipart/form-data; boundary=" + kBoundary) == kBoundary);
    CHECK(formBoundary("Multipart/Form-Data;boundary=\"a b\"") == "a b");
    CHECK(formBoundary("multipart/form-data; charset=utf-8; boundary=xyz") == "xyz");
    CHECK_FALSE(formBoundary("multipart/mixed; boundary=xyz"));
    CHECK_FALSE(formBoundary("multipart/form-data"));
    CHECK_FALSE(formBoundary("multipart/form-data; boundary="));
    CHECK_FALSE(formBoundary("multipart/form-data; boundary=\"unclosed"));
    CHECK_FALSE(formBoundary("multipart/form-data; boundary=" + std::string(71, 'x')));
    CHECK_FALSE(formBoundary(""));
}

TEST_CASE("multipart: a phone's problem report, its fields and its archive byte for byte") {
    const std::string archive("\x1f\x8b\x08\x00\r\n--not-the-boundary\r\n\0\xff", 27);
    const auto body = phoneBody(archive);
    auto parts = parseForm(body, kBoundary);
    REQUIRE(parts);
    REQUIRE(parts->size() == 4);
    CHECK((*parts)[0].name == "devicename");
    CHECK(formValue((*parts)[0].content) == "SEP001122334455");
    CHECK(formValue((*parts)[1].content) == "FCH12345ABC");
    CHECK(formValue((*parts)[2].content).empty());
    CHECK((*parts)[3].name == "prt_file");
    CHECK((*parts)[3].filename == "probrep-20141021-162840.tar.gz");
    CHECK((*parts)[3].content == archive);
    // A preamble before the first boundary is skipped.
    CHECK(parseForm("preamble\r\n" + body, kBoundary)->size() == 4);
}

TEST_CASE("multipart: quoted values and whitespace as the phones send them") {
    CHECK(formValue("'SEP001122334455'") == "SEP001122334455");
    CHECK(formValue(" \"SEP001122334455\"\n") == "SEP001122334455");
    CHECK(formValue("\"") == "\"");
    CHECK(formValue("").empty());
}

TEST_CASE("multipart: every truncation of a body and other malformed bodies are refused") {
    const auto body = phoneBody("archive-bytes");
    // Cut anywhere before the closing delimiter's "--": never a whole form.
    const auto closing = body.rfind("--" + kBoundary + "--") + 2 + kBoundary.size();
    for (std::size_t n = 0; n < closing; ++n) CHECK_FALSE(parseForm(std::string_view(body).substr(0, n), kBoundary));
    CHECK_FALSE(parseForm(body, "another-boundary"));
    CHECK_FALSE(parseForm("--b\r\nno blank line after the headers\r\n--b--", "b"));
    // More parts than a phone sends.
    std::string many;
    for (int i = 0; i < 17; ++i) many += "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n";
    CHECK_FALSE(parseForm(many + "--b--", "b"));
    CHECK(parseForm("--b--", "b")->empty());
}
