// Problem reports (issue 22): the archives phones uploaded (provision::ProblemReports under
// <data-dir>/prt), listed per phone and handed out by name. The admin page and the API
// download one; `labcm device reports NAME` lists them.
#include <filesystem>

#include "core/limits.h"
#include "core/mac.h"
#include "provision/problem_reports.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {

namespace {

provision::ProblemReports reportsOf(const Context& ctx) {
    auto s = ctx.settings.get();
    return provision::ProblemReports(std::filesystem::path(ctx.info.dataDir) / "prt", static_cast<std::size_t>(s->prtKept),
                                     std::chrono::hours(24 * s->prtMaxDays));
}

} // namespace

void addReportUseCases(Table& t) {
    t.add("prt.list", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        json::array out;
        for (const auto& r : reportsOf(t.ctx).list(mac))
            out.push_back({{"name", r.name}, {"size", r.size}, {"time_ms", r.timeMs}});
        reply(okReply(std::move(out)));
    });

    t.add("prt.get", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto name = reqString(a, "name");
        auto path = reportsOf(t.ctx).find(mac, name);
        if (!path) throw CommandError(404, "not_found", "name", "no problem report '" + name + "' for " + deviceName(mac));
        reply(okReply({{"name", name}, {"path", path->string()}}));
    });
}

} // namespace labcm::usecases::detail
