#include <doctest/doctest.h>

#include <string>

#include "core/csv.h"
#include "core/limits.h"

using labcm::CsvError;
using labcm::parseCsv;

TEST_CASE("csv: plain, quoted, escaped quotes, embedded newlines, CRLF and BOM") {
    auto rows = parseCsv("\xEF\xBB\xBF"
                         "a,b,c\r\n"
                         "1,\"two, too\",\"say \"\"hi\"\"\"\n"
                         "\n"
                         "x,\"multi\nline\",\n");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].number == 1);
    CHECK(rows[0].fields == std::vector<std::string>{"a", "b", "c"});
    CHECK(rows[1].fields == std::vector<std::string>{"1", "two, too", "say \"hi\""});
    CHECK(rows[2].number == 3); // empty lines do not count as rows
    CHECK(rows[2].fields == std::vector<std::string>{"x", "multi\nline", ""});
}

TEST_CASE("csv: last row without a line end and a trailing empty field") {
    auto rows = parseCsv("a,b\n1,");
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].fields == std::vector<std::string>{"1", ""});
}

TEST_CASE("csv: errors name the row") {
    CHECK_THROWS_WITH_AS(parseCsv("a,b\n1,\"open\n"), "row 2: unterminated quoted field", CsvError);
    CHECK_THROWS_WITH_AS(parseCsv("a,b\n1,2\n3,x\"y\n"), "row 3: quote inside an unquoted field", CsvError);
    CHECK_THROWS_WITH_AS(parseCsv("a\n\"q\"x\n"), "row 2: unexpected character after a closing quote", CsvError);
    CHECK_THROWS_WITH_AS(parseCsv(std::string("a\nb\0c\n", 6)), "row 2: NUL byte in field", CsvError);
}

TEST_CASE("csv: limits on field length and column count") {
    std::string longField(labcm::limits::kMaxCsvField + 1, 'x');
    CHECK_THROWS_AS(parseCsv("a\n" + longField + "\n"), CsvError);
    std::string wide;
    for (std::size_t i = 0; i <= labcm::limits::kMaxCsvColumns; ++i) wide += "x,";
    CHECK_THROWS_WITH_AS(parseCsv(wide), doctest::Contains("columns"), CsvError);
}

TEST_CASE("csv: formatCsvRow quotes only where needed and round-trips") {
    std::vector<std::string> fields{"plain", "with,comma", "with \"quote\"", "line\nbreak", " padded ", ""};
    auto line = labcm::formatCsvRow(fields);
    CHECK(line == "plain,\"with,comma\",\"with \"\"quote\"\"\",\"line\nbreak\",\" padded \",");
    auto rows = parseCsv(line + "\n");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].fields == fields);
}

TEST_CASE("csv: fields a reader would change are quoted (found by fuzzing)") {
    // A BOM at the start of a record must not be taken for the file's BOM.
    auto bom = labcm::formatCsvRow({"\xEF\xBB\xBF"});
    CHECK(bom == "\"\xEF\xBB\xBF\"");
    CHECK(parseCsv(bom + "\n").at(0).fields == std::vector<std::string>{"\xEF\xBB\xBF"});
    // A record of one empty field must not become a skipped empty line.
    CHECK(labcm::formatCsvRow({""}) == "\"\"");
    CHECK(parseCsv("a\n\"\"\n").at(1).fields == std::vector<std::string>{""});
}

TEST_CASE("csv: every prefix of a valid file parses or fails with CsvError, nothing else") {
    const std::string text = "mac,model,description\n\"001122AABBCC\",8845,\"desk, \"\"one\"\"\"\r\n0011.22aa.bbcd,7821,x\n";
    for (std::size_t len = 0; len <= text.size(); ++len) {
        try {
            auto rows = parseCsv(std::string_view(text).substr(0, len));
            CHECK(rows.size() <= 3);
        } catch (const CsvError& e) {
            CHECK(e.row() >= 1);
        }
    }
}

TEST_CASE("csv: cells a spreadsheet would run as formulas are written behind a ' and read back whole") {
    // Issue 19 (OWASP CSV injection): =, +, -, @, tab and CR first.
    std::vector<std::string> fields{"=HYPERLINK(\"http://x\")", "+4930123", "-2+3", "@SUM(A1)", "\tx", "'=already", "'plain", "a=b"};
    auto line = labcm::formatCsvRow(fields);
    CHECK(line == "\"'=HYPERLINK(\"\"http://x\"\")\",'+4930123,'-2+3,'@SUM(A1),'\tx,''=already,'plain,a=b");
    auto rows = parseCsv(line + "\n");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].fields == fields);
    // Typed by hand with the guard a spreadsheet shows: the same value.
    CHECK(parseCsv("'=1\n").at(0).fields == std::vector<std::string>{"=1"});
}
