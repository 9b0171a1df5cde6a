// Which TFTP requests are served, decided without a socket, over a real file namespace.
#include <doctest/doctest.h>

#include "core/limits.h"
#include "provision/namespace_fixture.h"
#include "tftp/policy.h"

using namespace labcm;
using namespace labcm::tftp;

namespace {
Request rrq(std::string name, std::string mode = "octet") { return Request{Opcode::Rrq, std::move(name), std::move(mode), {}}; }
} // namespace

TEST_CASE("tftp policy: a known phone's SEP file is served, rendered, with its MAC") {
    test::NamespaceFixture f;
    auto a = admit(rrq("SEP001122AABBCC.cnf.xml"), {}, f.files);
    REQUIRE(a.serve);
    CHECK((a.file.kind == provision::FileResult::Kind::Rendered));
    CHECK(a.file.mac == "001122AABBCC");
    CHECK(a.file.body.find("<device") != std::string::npos);
}

TEST_CASE("tftp policy: a firmware file is served from the files directory, in netascii too") {
    test::NamespaceFixture f;
    auto a = admit(rrq(test::NamespaceFixture::kFirmware), {}, f.files);
    REQUIRE(a.serve);
    CHECK((a.file.kind == provision::FileResult::Kind::File));
    CHECK(a.file.file.size == std::string(test::NamespaceFixture::kFirmwareBytes).size());
    CHECK(admit(rrq(test::NamespaceFixture::kFirmware, "netascii"), {}, f.files).serve);
}

TEST_CASE("tftp policy: CTL and ITL of a non-secure cluster are not found, with the reason") {
    test::NamespaceFixture f;
    auto a = admit(rrq("CTLSEP001122AABBCC.tlv"), {}, f.files);
    CHECK_FALSE(a.serve);
    CHECK((a.kind == EventKind::FileNotFound));
    CHECK((a.code == ErrorCode::FileNotFound));
    CHECK(a.file.mac == "001122AABBCC");
    CHECK_FALSE(a.reason.empty());
}

TEST_CASE("tftp policy: writes, odd modes, traversal and a full server are refused with their error") {
    test::NamespaceFixture f;
    auto w = admit(Request{Opcode::Wrq, "SEP001122AABBCC.cnf.xml", "octet", {}}, {}, f.files);
    CHECK_FALSE(w.serve);
    CHECK((w.code == ErrorCode::AccessViolation));
    CHECK(w.reason == "WRQ refused");

    auto mail = admit(rrq("SEP001122AABBCC.cnf.xml", "mail"), {}, f.files);
    CHECK_FALSE(mail.serve);
    CHECK((mail.code == ErrorCode::IllegalOperation));

    auto up = admit(rrq("../ns.db"), {}, f.files);
    CHECK_FALSE(up.serve);
    CHECK((up.kind == EventKind::FileRefused));
    CHECK((up.code == ErrorCode::AccessViolation));

    auto busy = admit(rrq("SEP001122AABBCC.cnf.xml"), {limits::kTftpMaxTransfers, 0}, f.files);
    CHECK_FALSE(busy.serve);
    CHECK(busy.message == "server busy, retry");
    CHECK(admit(rrq("SEP001122AABBCC.cnf.xml"), {limits::kTftpMaxTransfers - 1, 0}, f.files).serve);
    // A full server still answers "not found" at once: that takes no transfer slot.
    auto ctl = admit(rrq("CTLSEP001122AABBCC.tlv"), {limits::kTftpMaxTransfers, 0}, f.files);
    CHECK((ctl.code == ErrorCode::FileNotFound));
    // Issue 19: one address cannot hold every slot.
    auto mine = admit(rrq("SEP001122AABBCC.cnf.xml"), {10, limits::kTftpMaxTransfersPerSource}, f.files);
    CHECK_FALSE(mine.serve);
    CHECK(mine.reason == "8 transfers from this address already running");
    CHECK(admit(rrq("SEP001122AABBCC.cnf.xml"), {10, limits::kTftpMaxTransfersPerSource - 1}, f.files).serve);
}
