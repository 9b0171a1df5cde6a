// The phone HTTP handler without a socket: a parsed request in, the response's bytes out,
// over a real file namespace.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <boost/asio/buffer.hpp>

#include "http/phone_handler.h"
#include "provision/namespace_fixture.h"

using namespace labcm;
namespace bhttp = boost::beast::http;

namespace {

std::string wire(bhttp::message_generator gen) {
    std::string out;
    boost::beast::error_code ec;
    for (int i = 0; i < 1000 && !gen.is_done(); ++i) {
        auto buffers = gen.prepare(ec);
        REQUIRE_FALSE(ec);
        std::size_t n = 0;
        for (auto b : boost::beast::buffers_range(buffers)) {
            out.append(static_cast<const char*>(b.data()), b.size());
            n += b.size();
        }
        gen.consume(n);
    }
    return out;
}

// The bytes on the wire: the message, then a file's body as sendfile would send it.
std::string ask(test::NamespaceFixture& f, bhttp::verb verb, std::string target, http::Outcome& out) {
    bhttp::request<bhttp::empty_body> req{verb, target, 11};
    auto response = http::respondToPhone(req, f.files, out);
    auto bytes = wire(std::move(response.message));
    if (response.file) {
        std::ifstream in(response.file->path, std::ios::binary);
        bytes.append(std::istreambuf_iterator<char>(in), {});
    }
    return bytes;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("phone http: GET of a known phone's SEP file is 200 text/xml with its MAC in the outcome") {
    test::NamespaceFixture f;
    http::Outcome o;
    auto r = ask(f, bhttp::verb::get, "/SEP001122AABBCC.cnf.xml", o);
    CHECK(r.starts_with("HTTP/1.1 200 OK"));
    CHECK(has(r, "Content-Type: text/xml"));
    CHECK(has(r, "<device"));
    CHECK(o.status == 200);
    CHECK(o.mac == "001122AABBCC");
    CHECK((o.kind == EventKind::FileServed));
    CHECK(o.method == "GET");
    CHECK(o.bytes > 0);
}

TEST_CASE("phone http: a firmware file's headers carry its length; its bytes follow by sendfile; HEAD has none") {
    test::NamespaceFixture f;
    const std::string bytes = test::NamespaceFixture::kFirmwareBytes;
    http::Outcome o;
    auto r = ask(f, bhttp::verb::get, std::string("/") + test::NamespaceFixture::kFirmware + "?x=1", o);
    CHECK(r.starts_with("HTTP/1.1 200 OK"));
    CHECK(r.ends_with("\r\n\r\n" + bytes));
    CHECK(o.bytes == bytes.size());
    bhttp::request<bhttp::empty_body> get{bhttp::verb::get, std::string("/") + test::NamespaceFixture::kFirmware, 11};
    http::Outcome g;
    auto response = http::respondToPhone(get, f.files, g);
    REQUIRE(response.file);
    CHECK(response.file->size == bytes.size());
    http::Outcome h;
    bhttp::request<bhttp::empty_body> headReq{bhttp::verb::head, std::string("/") + test::NamespaceFixture::kFirmware, 11};
    CHECK_FALSE(http::respondToPhone(headReq, f.files, h).file);
    auto head = ask(f, bhttp::verb::head, std::string("/") + test::NamespaceFixture::kFirmware, h);
    CHECK(has(head, "Content-Length: " + std::to_string(bytes.size())));
    CHECK(head.ends_with("\r\n\r\n"));
    CHECK(h.bytes == 0);
}

TEST_CASE("phone http: %-escapes are decoded; a malformed one is 400") {
    test::NamespaceFixture f;
    http::Outcome o;
    CHECK(ask(f, bhttp::verb::get, "/SEP001122AABBCC%2Ecnf.xml", o).starts_with("HTTP/1.1 200"));
    http::Outcome bad;
    CHECK(ask(f, bhttp::verb::get, "/SEP%zz.cnf.xml", bad).starts_with("HTTP/1.1 400"));
    CHECK(bad.reason == "malformed %-escape");
    CHECK((bad.kind == EventKind::FileRefused));
}

TEST_CASE("phone http: not found is 404, traversal 400, other methods 405 with Allow") {
    test::NamespaceFixture f;
    http::Outcome nf;
    CHECK(ask(f, bhttp::verb::get, "/ITLSEP001122AABBCC.tlv", nf).starts_with("HTTP/1.1 404"));
    CHECK((nf.kind == EventKind::FileNotFound));
    CHECK(nf.mac == "001122AABBCC");
    http::Outcome up;
    auto r = ask(f, bhttp::verb::get, "/../ns.db", up);
    CHECK(r.starts_with("HTTP/1.1 400"));
    CHECK(has(r, "refused: "));
    http::Outcome post;
    auto p = ask(f, bhttp::verb::post, "/SEP001122AABBCC.cnf.xml", post);
    CHECK(p.starts_with("HTTP/1.1 405"));
    CHECK(has(p, "Allow: GET, HEAD"));
    CHECK(post.method == "POST");
}

TEST_CASE("phone http: a request that did not parse gets 400 and the connection is closed") {
    auto r = wire(http::malformedRequest());
    CHECK(r.starts_with("HTTP/1.1 400"));
    CHECK(has(r, "Connection: close"));
}

namespace {

// A phone's problem report upload, as its body file and its request head.
struct Upload {
    std::filesystem::path root = std::filesystem::temp_directory_path() /
                                 ("labcm-upload-test-" + std::to_string(::getpid()) + "-" + std::to_string(++count()));
    provision::ProblemReports reports{root / "prt", 3};
    static int& count() {
        static int n = 0;
        return n;
    }
    ~Upload() { std::filesystem::remove_all(root); }
    http::PhoneResponse post(const std::string& contentType, const std::string& body, http::Outcome& out) {
        auto path = reports.incoming();
        std::ofstream(path, std::ios::binary) << body;
        bhttp::request<bhttp::empty_body> req{bhttp::verb::post, "/prt", 11};
        if (!contentType.empty()) req.set(bhttp::field::content_type, contentType);
        auto r = http::receiveReport(req, path, reports, std::chrono::system_clock::time_point{} + std::chrono::seconds(1'700'000'000), out);
        CHECK_FALSE(std::filesystem::exists(path)); // the upload's temp file never stays
        return r;
    }
};

std::string form(const std::string& devicename, bool withFile) {
    std::string b = "--XyZ\r\nContent-Disposition: form-data; name=\"devicename\"\r\n\r\n" + devicename +
                    "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"serialno\"\r\n\r\nFCH12345ABC\r\n";
    if (withFile)
        b += "--XyZ\r\nContent-Disposition: form-data; name=\"prt_file\"; filename=\"probrep-20141021-162840.tar.gz\"\r\n"
             "Content-Type: application/x-gzip\r\n\r\n\x1f\x8b-archive-bytes\r\n";
    return b + "--XyZ--\r\n";
}

} // namespace

TEST_CASE("phone http: a problem report upload is stored for the phone its form names") {
    Upload u;
    http::Outcome out;
    auto bytes = wire(u.post("multipart/form-data; boundary=XyZ", form("\n'SEP001122AABBCC'", true), out).message);
    CHECK(bytes.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(out.status == 200);
    CHECK((out.kind == EventKind::ProblemReport));
    CHECK(out.mac == "001122AABBCC");
    CHECK(out.name == "prt-SEP001122AABBCC-20231114221320.tar.gz");
    CHECK(out.reason == "problem report from SEP001122AABBCC, serial number FCH12345ABC");
    auto stored = u.reports.find("001122AABBCC", out.name);
    REQUIRE(stored);
    std::ifstream in(*stored, std::ios::binary);
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "\x1f\x8b-archive-bytes");
}

TEST_CASE("phone http: a problem report upload that is not one is refused with the reason") {
    Upload u;
    http::Outcome out;
    CHECK(wire(u.post("application/octet-stream", form("SEP001122AABBCC", true), out).message).starts_with("HTTP/1.1 415"));
    CHECK(out.reason == "not a multipart/form-data upload");
    CHECK(wire(u.post("multipart/form-data; boundary=XyZ", "--XyZ\r\ncut", out).message).starts_with("HTTP/1.1 400"));
    CHECK(wire(u.post("multipart/form-data; boundary=XyZ", form("../../etc", true), out).message).starts_with("HTTP/1.1 403"));
    CHECK(out.reason == "devicename '../../etc' is not SEP<MAC>");
    CHECK(wire(u.post("multipart/form-data; boundary=XyZ", form("SEP001122AABBCC", false), out).message).starts_with("HTTP/1.1 400"));
    CHECK(out.reason == "no prt_file part");
    CHECK((out.kind == EventKind::FileRefused));
    CHECK(u.reports.list("001122AABBCC").empty());
}
