#include "report.h"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/text.h"

namespace labcm::phone {

Percentiles percentiles(std::vector<double> v) {
    Percentiles p;
    p.count = v.size();
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    auto rank = [&](double q) {
        auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
        return v[std::clamp<std::size_t>(idx, 1, v.size()) - 1];
    };
    p.p50 = rank(0.50);
    p.p90 = rank(0.90);
    p.p99 = rank(0.99);
    p.max = v.back();
    return p;
}

std::string genericReason(const std::string& reason, const std::string& mac) {
    if (mac.empty()) return reason;
    std::string out = reason;
    std::string upper = text::toUpper(mac), lower = text::toLower(mac);
    for (const auto& m : {upper, lower}) {
        for (auto pos = out.find(m); pos != std::string::npos; pos = out.find(m, pos + 5)) out.replace(pos, m.size(), "<MAC>");
    }
    return out;
}

Report summarize(const std::vector<PhoneResult>& phones, int boots, double seconds) {
    Report r;
    r.phones = phones.size();
    r.seconds = seconds;
    std::vector<double> b2r;
    std::map<int, std::vector<double>> steps;
    std::vector<double> setup;
    for (const auto& p : phones) {
        bool ok = p.failure.empty() && p.bootsRegistered >= boots;
        if (ok)
            ++r.registered;
        else {
            ++r.failed;
            std::string why = p.failure.empty()
                                  ? fmt::format("step {}: timeout ({})", p.currentStep, stepName(p.currentStep))
                                  : p.failure;
            ++r.failures[genericReason(why, p.mac)];
        }
        for (const auto& w : p.warnings) ++r.warnings[genericReason(w, p.mac)];
        b2r.insert(b2r.end(), p.bootToRegisteredMs.begin(), p.bootToRegisteredMs.end());
        for (const auto& s : p.steps) steps[s.step].push_back(s.ms);
        r.restarts += static_cast<std::size_t>(p.restarts);
        r.reportsUploaded += static_cast<std::size_t>(p.reportsUploaded);
        r.busyRetries += static_cast<std::size_t>(p.busyRetries);
        r.keepalives += static_cast<std::size_t>(p.keepalives);
        r.upgrades += static_cast<std::size_t>(p.upgrades);
        r.reconnects += static_cast<std::size_t>(p.reconnects);
        for (const auto& c : p.calls) {
            if (c.placed) {
                ++r.callsPlaced;
                ++r.callStatus[c.status ? std::to_string(c.status) : "none"];
            }
            if (c.status >= 200 && c.status < 300) {
                ++r.callsAnswered;
                setup.push_back(c.setupMs);
            }
            std::string why = c.failure;
            if (why.empty() && !c.finished) why = "not over when the phone stopped";
            if (why.empty()) {
                ++r.callsCompleted;
            } else {
                ++r.callsFailed;
                ++r.callFailures[why];
            }
        }
        r.callsReceived += static_cast<std::size_t>(p.callsReceived);
        r.callsReceivedAnswered += static_cast<std::size_t>(p.callsAnsweredIn);
    }
    r.callSetup = percentiles(std::move(setup));
    r.bootToRegistered = percentiles(std::move(b2r));
    for (auto& [step, v] : steps) r.perStep[step] = percentiles(std::move(v));
    return r;
}

void addUnplacedCalls(Report& r, std::size_t calls, const std::string& why) {
    if (calls == 0) return;
    r.callsFailed += calls;
    r.callFailures[why] += calls;
}

std::string formatReport(const Report& r) {
    std::string out = fmt::format("labcm-phone: {} phone(s), {} registered, {} failed in {:.1f} s\n", r.phones,
                                  r.registered, r.failed, r.seconds);
    const auto& b = r.bootToRegistered;
    out += fmt::format("boot-to-registered ms: n={} p50={:.1f} p90={:.1f} p99={:.1f} max={:.1f}\n", b.count, b.p50,
                       b.p90, b.p99, b.max);
    out += fmt::format("restarts obeyed {}, keep-alives {}, firmware upgrades {}, registered again after a lost "
                       "connection {}\n",
                       r.restarts, r.keepalives, r.upgrades, r.reconnects);
    if (r.callsPlaced || r.callsReceived || r.callsFailed) {
        out += fmt::format("calls: placed {}, answered {}, completed {}, failed {}; received {}, answered {}\n",
                           r.callsPlaced, r.callsAnswered, r.callsCompleted, r.callsFailed, r.callsReceived,
                           r.callsReceivedAnswered);
        const auto& c = r.callSetup;
        out += fmt::format("call setup ms (INVITE to 2xx): n={} p50={:.1f} p90={:.1f} p99={:.1f} max={:.1f}\n", c.count,
                           c.p50, c.p90, c.p99, c.max);
        std::string statuses;
        for (const auto& [status, n] : r.callStatus) statuses += fmt::format(" {} x{}", status, n);
        if (!statuses.empty()) out += "call answers:" + statuses + "\n";
    }
    out += "step            records     p50 ms     p99 ms     max ms\n";
    for (const auto& [step, p] : r.perStep)
        out += fmt::format("{:>2} {:<12} {:>7} {:>10.1f} {:>10.1f} {:>10.1f}\n", step, stepName(step), p.count, p.p50,
                           p.p99, p.max);
    if (!r.failures.empty()) {
        out += "failures:\n";
        for (const auto& [why, n] : r.failures) out += fmt::format("  {:>6}  {}\n", n, why);
    }
    if (!r.callFailures.empty()) {
        out += "call failures:\n";
        for (const auto& [why, n] : r.callFailures) out += fmt::format("  {:>6}  {}\n", n, why);
    }
    if (!r.warnings.empty()) {
        out += "tolerated (the phone goes on):\n";
        for (const auto& [why, n] : r.warnings) out += fmt::format("  {:>6}  {}\n", n, why);
    }
    return out;
}

std::string reportJson(const Report& r) {
    namespace json = boost::json;
    auto pct = [](const Percentiles& p) {
        return json::object{{"count", p.count}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
    };
    json::object steps;
    for (const auto& [step, p] : r.perStep) steps[std::to_string(step) + " " + std::string(stepName(step))] = pct(p);
    json::object failures, warnings, statuses, callFailures;
    for (const auto& [status, n] : r.callStatus) statuses[status] = n;
    for (const auto& [why, n] : r.callFailures) callFailures[why] = n;
    json::object calls{{"placed", r.callsPlaced},
                       {"answered", r.callsAnswered},
                       {"completed", r.callsCompleted},
                       {"failed", r.callsFailed},
                       {"statuses", statuses},
                       {"failures", callFailures},
                       {"setup_ms", pct(r.callSetup)},
                       {"received", r.callsReceived},
                       {"received_answered", r.callsReceivedAnswered}};
    for (const auto& [why, n] : r.failures) failures[why] = n;
    for (const auto& [why, n] : r.warnings) warnings[why] = n;
    json::object o{{"phones", r.phones},
                   {"registered", r.registered},
                   {"failed", r.failed},
                   {"seconds", r.seconds},
                   {"boot_to_registered_ms", pct(r.bootToRegistered)},
                   {"steps_ms", steps},
                   {"failures", failures},
                   {"warnings", warnings},
                   {"restarts", r.restarts},
                   {"reports_uploaded", r.reportsUploaded},
                   {"keepalives", r.keepalives},
                   {"upgrades", r.upgrades},
                   {"reconnects", r.reconnects},
                   {"busy_retries", r.busyRetries},
                   {"calls", calls}};
    return json::serialize(o);
}

} // namespace labcm::phone
