// Problem reports as labcm keeps them (issue 22): stored under names labcm makes, the newest
// `keep` per phone, listed newest first, found only by a name of the listing.
#include <doctest/doctest.h>

#include "provision/problem_reports.h"

#include <fstream>
#include <random>

using namespace labcm::provision;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path scratch() {
    auto p = fs::temp_directory_path() / ("labcm-prt-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(p);
    return p;
}

fs::path upload(ProblemReports& r, const std::string& text) {
    auto p = r.incoming();
    std::ofstream(p, std::ios::binary) << "HEADERS" << text << "TRAILER";
    return p;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_CASE("problem reports: the form's file part stored under labcm's name, the newest kept") {
    auto root = scratch();
    ProblemReports reports(root / "prt", 2);
    const auto t0 = std::chrono::system_clock::time_point{} + 1'700'000'000s;
    auto in = upload(reports, "first");
    auto r = reports.store("001122334455", in, 7, 5, t0);
    CHECK(r.name == "prt-SEP001122334455-20231114221320.tar.gz");
    CHECK(r.size == 5);
    CHECK_FALSE(fs::exists(in)); // the upload's temp file is gone
    CHECK(read(root / "prt" / "SEP001122334455" / r.name) == "first");
    // Two more in the same second: a name of their own each, and only the newest two stay.
    reports.store("001122334455", upload(reports, "second"), 7, 6, t0);
    reports.store("001122334455", upload(reports, "third"), 7, 5, t0);
    auto list = reports.list("001122334455");
    REQUIRE(list.size() == 2);
    CHECK(list[0].name == "prt-SEP001122334455-20231114221320_3.tar.gz");
    CHECK(list[1].name == "prt-SEP001122334455-20231114221320_2.tar.gz");
    CHECK(read(*reports.find("001122334455", list[0].name)) == "third");
    // Only names of the listing are found: no path from a request.
    CHECK_FALSE(reports.find("001122334455", "../../etc/passwd"));
    CHECK_FALSE(reports.find("001122334455", r.name)); // gone: beyond `keep`
    CHECK_FALSE(reports.find("00112233445F", list[0].name));
    CHECK(reports.list("00112233445F").empty());
    // An upload shorter than its form says is refused and leaves nothing behind.
    auto shortIn = upload(reports, "x");
    CHECK_THROWS(reports.store("001122334455", shortIn, 7, 100, t0 + 1s));
    CHECK(reports.list("001122334455").size() == 2);
    CHECK(std::distance(fs::directory_iterator(root / "prt" / "SEP001122334455"), fs::directory_iterator{}) == 2);
    reports.discard(shortIn);
    CHECK_FALSE(fs::exists(shortIn));
    fs::remove_all(root);
}
