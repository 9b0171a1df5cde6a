#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <sodium.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "app/server.h"
#include "cli/cli.h"
#include "core/text.h"
#include "control/control_client.h"
#include "core/limits.h"
#include "sip/source.h"

namespace labcm::cli {
namespace {

// Runs a request on the server if one answers on the control socket, else directly. A
// server that holds the data dir but is not listening yet is waited for, boundedly.
json::object run(const Options& o, json::object request) {
    app::DataDir dir{o.dataDir};
    const auto deadline = std::chrono::steady_clock::now() + limits::kControlStartWait;
    for (;;) {
        if (auto r = control::callServer(dir.socket(), request)) return r->as_object();
        try {
            return app::runDirect(dir, request).as_object();
        } catch (const app::ServerNotAnswering&) {
            if (std::chrono::steady_clock::now() >= deadline) throw;
            std::this_thread::sleep_for(limits::kControlRetryPause);
        }
    }
}

// Prints the reply; returns the exit code.
int finish(const Options& o, const json::object& reply, const Human& human) {
    if (o.json) {
        std::cout << json::serialize(reply) << "\n";
        return reply.at("ok").as_bool() ? 0 : 1;
    }
    if (reply.at("ok").as_bool()) {
        if (human) human(reply.at("result"));
        return 0;
    }
    const auto& err = reply.at("error").as_object();
    std::cerr << "labcm: error: " << text(err.at("message")) << "\n";
    if (auto* details = err.if_contains("details"); details && details->is_array())
        for (const auto& dv : details->as_array()) {
            const auto& d = dv.as_object();
            std::cerr << fmt::format("  row {}: {}: {}\n", d.at("row").to_number<std::int64_t>(), text(d.at("field")),
                                     text(d.at("message")));
        }
    return 1;
}

} // namespace

void Runner::call(json::object request, const Human& human) {
    int code = finish(options, run(options, std::move(request)), human);
    // The human printer may already have set a failing code (firmware check).
    exitCode = std::max(exitCode, code);
}

std::optional<json::value> Runner::result(json::object request) {
    auto reply = run(options, std::move(request));
    if (reply.at("ok").as_bool()) return reply.at("result");
    exitCode = std::max(exitCode, finish(options, reply, {}));
    return std::nullopt;
}

Human printOk(std::string msg) {
    return [msg](const json::value&) { std::cout << msg << "\n"; };
}

std::string isoTime(std::int64_t ms) {
    // fmt 9 formats a system_clock time point in local time: the UTC fields explicitly.
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(ms / 1000)));
}

std::string preciseTime(std::int64_t us) {
    return fmt::format("{:%Y-%m-%d %H:%M:%S}.{:06}", fmt::gmtime(static_cast<std::time_t>(us / 1'000'000)), us % 1'000'000);
}

bool writeBase64File(const std::string& path, std::string_view data) {
    std::string bytes(data.size() / 4 * 3 + 3, '\0');
    std::size_t n = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), data.data(), data.size(), nullptr, &n,
                          nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
        std::cerr << "labcm: the server's answer is not base64\n";
        return false;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(n));
    out.close();
    if (!out) {
        std::cerr << "labcm: cannot write " << path << "\n";
        return false;
    }
    return true;
}

std::string text(const json::value& v) {
    if (v.is_string()) return labcm::text::visible(v.get_string()); // for a terminal: no control characters
    if (v.is_null()) return "";
    return json::serialize(v);
}

void printDevices(const json::array& devices) {
    std::cout << fmt::format("{:<16} {:<6} {:<24} {:<20} {:<12} {:<16} {}\n", "NAME", "MODEL", "DESCRIPTION", "LINES",
                             "STATE", "ADDRESS", "ACTIVE LOAD");
    for (const auto& dv : devices) {
        const auto& d = dv.as_object();
        std::string lines;
        for (const auto& lv : d.at("lines").as_array()) {
            const auto& l = lv.as_object();
            lines += fmt::format("{}{}:{}", lines.empty() ? "" : " ", l.at("index").to_number<std::int64_t>(), text(l.at("dn")));
        }
        const auto& reg = d.at("registration").as_object();
        std::string address;
        if (auto* src = reg.if_contains("source"))
            if (auto s = labcm::sip::Source::parse(text(*src))) address = s->address; // "tcp:10.0.0.50:51234"
        std::cout << fmt::format("{:<16} {:<6} {:<24} {:<20} {:<12} {:<16} {}\n", text(d.at("name")), text(d.at("model")),
                                 text(d.at("description")), lines, text(reg.at("state")), address,
                                 reg.contains("active_load") ? text(reg.at("active_load")) : "");
    }
}

void printDevice(const json::object& d) {
    std::cout << fmt::format("name:        {}\nmac:         {}\nmodel:       {}\ndescription: {}\nload:        {}\n"
                             "transport:   {}\ndigest auth: {}\n",
                             text(d.at("name")), text(d.at("mac")), text(d.at("model")), text(d.at("description")),
                             text(d.at("load")).empty() ? "(model default)" : text(d.at("load")), text(d.at("transport")),
                             d.at("digest_auth").as_bool() ? "on" : "off");
    if (!text(d.at("dhcp_address")).empty()) std::cout << fmt::format("dhcp address: {} (reserved)\n", text(d.at("dhcp_address")));
    for (const auto& lv : d.at("lines").as_array()) {
        const auto& l = lv.as_object();
        std::string shared;
        for (const auto& s : l.at("shared_with").as_array()) shared.append(" ").append(text(s));
        std::cout << fmt::format("line {}:      dn={} display_name=\"{}\" label=\"{}\" auth_name={}{}{}\n",
                                 l.at("index").to_number<std::int64_t>(), text(l.at("dn")), text(l.at("display_name")),
                                 text(l.at("label")), text(l.at("auth_name")),
                                 l.at("auth_password_set").as_bool() ? " (password set)" : "",
                                 shared.empty() ? std::string() : fmt::format(" shared with{}", shared));
    }
    const auto& reg = d.at("registration").as_object();
    std::cout << fmt::format("registration: {}\n", text(reg.at("state")));
    if (reg.contains("source")) {
        std::cout << fmt::format("  from:          {} ({})\n  user agent:    {}\n  active load:   {}\n"
                                 "  inactive load: {}\n  last reason:   {}{}\n  contact:       {}\n",
                                 text(reg.at("source")), text(reg.at("transport")), text(reg.at("user_agent")),
                                 text(reg.at("active_load")), text(reg.at("inactive_load")), text(reg.at("last")),
                                 reg.at("alarm").to_number<std::int64_t>() >= 0
                                     ? fmt::format(" (cisco-alarm {})", reg.at("alarm").to_number<std::int64_t>())
                                     : std::string(),
                                 text(reg.at("contact")));
    }
    for (const auto& kv : d.at("speed_dials").as_array()) {
        const auto& k = kv.as_object();
        std::cout << fmt::format("button {}:    {}speed dial {} label=\"{}\"\n", k.at("button").to_number<std::int64_t>(),
                                 k.at("blf").as_bool() ? "BLF " : "", text(k.at("number")), text(k.at("label")));
    }
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
    in.seekg(0, std::ios::end);
    auto size = static_cast<std::size_t>(in.tellg());
    if (size > limits::kMaxCsvBytes)
        throw std::runtime_error(fmt::format("{} is {} bytes, more than the limit of {}", path, size, limits::kMaxCsvBytes));
    in.seekg(0);
    std::string s(size, '\0');
    in.read(s.data(), static_cast<std::streamsize>(size));
    return s;
}

} // namespace labcm::cli
