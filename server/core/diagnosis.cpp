#include "core/diagnosis.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

#include <fmt/format.h>

namespace labcm::diagnosis {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// The file a TFTP or HTTP event is about: the word after its method ("RRQ name -> ...",
/// "GET /path/name -> 404 ..."), without its directories.
std::string fileOf(std::string_view detail) {
    auto space = detail.find(' ');
    if (space == std::string_view::npos) return "";
    auto rest = detail.substr(space + 1);
    auto name = rest.substr(0, rest.find(' '));
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    return std::string(name);
}

bool endsWith(std::string_view s, std::string_view tail) { return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail; }

enum class FileKind { Other, TrustList, Signed, OwnConfig, DefaultConfig, Firmware };

FileKind classify(const std::string& name) {
    if (endsWith(name, ".tlv")) return FileKind::TrustList;
    if (endsWith(name, ".xml.sgn")) return FileKind::Signed;
    if (name == "xmldefault.cnf.xml") return FileKind::DefaultConfig;
    if (name.size() == 23 && name.starts_with("sep") && endsWith(name, ".cnf.xml")) return FileKind::OwnConfig;
    for (auto ext : {".loads", ".sbn", ".sgn", ".zz", ".bin", ".img"})
        if (endsWith(name, ext)) return FileKind::Firmware;
    return FileKind::Other;
}

void observeFile(Trail& t, const Event& e) {
    const std::string name = lower(fileOf(e.detail));
    const bool served = e.kind == EventKind::FileServed;
    switch (classify(name)) {
    case FileKind::TrustList:
        t.trustAsked = e.time;
        t.mostTrustAsks = std::max(t.mostTrustAsks, ++t.trustAsks[name]);
        break;
    case FileKind::Signed:
        t.signedAsked = e.time;
        t.signedName = fileOf(e.detail);
        break;
    case FileKind::OwnConfig:
        if (served) {
            t.ownConfig = e.time;
            t.trustAsks.clear();
            t.mostTrustAsks = 0;
        } else if (e.kind == EventKind::FileNotFound) {
            t.ownConfigMissing = e.time;
        } else {
            t.ownConfigFailed = e.time;
            t.configFailure = e.detail;
        }
        break;
    case FileKind::DefaultConfig:
        if (served) t.defaultConfig = e.time;
        break;
    case FileKind::Firmware:
        // One image after another: the load's last file decides (a failure sticks until the
        // phone asks again for the file that failed or moves on).
        t.firmwareAsked = e.time;
        t.firmwareName = fileOf(e.detail);
        t.firmwareMissing = e.kind == EventKind::FileNotFound;
        t.firmwareFailed = e.kind == EventKind::FileFailed || e.kind == EventKind::FileRefused;
        break;
    case FileKind::Other: break;
    }
}

Time latest(std::initializer_list<Time> times) { return std::max(times); }

/// The wait an expiry event names: "no REGISTER refresh within 120 s + 15 s grace" -> 135 s
/// (0 when it names none).
std::chrono::seconds expiryWait(std::string_view detail) {
    long total = 0;
    for (auto at = detail.find(" s"); at != std::string_view::npos; at = detail.find(" s", at + 2)) {
        auto start = at;
        while (start > 0 && std::isdigit(static_cast<unsigned char>(detail[start - 1]))) --start;
        if (start == at || at - start > 6) continue;
        total += std::stol(std::string(detail.substr(start, at - start)));
    }
    return std::chrono::seconds(total);
}

} // namespace

std::string_view stepName(Step s) {
    switch (s) {
    case Step::Nothing: return "power, flash, voice VLAN";
    case Step::Dhcp: return "DHCP";
    case Step::TrustList: return "CTL/ITL";
    case Step::Config: return "config file";
    case Step::Firmware: return "firmware";
    case Step::Connect: return "connect to the call manager";
    case Step::Register: return "REGISTER";
    case Step::Registered: return "registered";
    }
    return "?";
}

void observe(Trail& t, const Event& e) {
    // Only what the phone itself did counts as seeing it (not an admin editing its device).
    if (e.service == Service::Dhcp || e.service == Service::Tftp || e.service == Service::Http || e.service == Service::Sip)
        t.seen = std::max(t.seen, e.time);
    switch (e.kind) {
    case EventKind::DhcpAcked:
        t.leased = e.time;
        t.address = e.ip;
        break;
    case EventKind::FileServed:
    case EventKind::FileNotFound:
    case EventKind::FileFailed:
    case EventKind::FileRefused: observeFile(t, e); break;
    case EventKind::PhoneRegistered: t.registered = e.time; break;
    case EventKind::PhoneUnregistered: t.unregistered = e.time; break;
    case EventKind::PhoneExpired:
        t.expired = e.time;
        t.lastRefresh = e.time - expiryWait(e.detail);
        break;
    case EventKind::RegisterRejected:
        t.refused = e.time;
        t.refusal = e.detail;
        break;
    default: break;
    }
}

Verdict judge(const Trail& t, std::string_view name, Time now, bool registered, std::chrono::seconds patience) {
    const Time never{};
    if (registered) return {Step::Registered, true, "registered", "", t.registered};
    if (t.seen == never)
        return {Step::Nothing, false, "labcm has seen nothing from this phone",
                "check its power and switch port (the voice VLAN from CDP/LLDP), and that its DHCP requests reach labcm "
                "(or, with a static address, that its TFTP server is labcm)",
                never};

    const Time config = std::max(t.ownConfig, t.defaultConfig);
    // An expiry counts from the phone's last refresh: a phone pulled from power that boots
    // again is judged by its new boot, even when the expiry comes after it.
    const Time expiredFrom = t.expired == never ? never : t.lastRefresh;
    const Time registerOutcome = latest({t.registered, t.unregistered, expiredFrom, t.refused});

    // The REGISTER side, when the phone has not been through its boot files since (a lease
    // alone may be a renewal: it does not start a new story).
    const Time bootFiles = latest({config, t.firmwareAsked, t.trustAsked, t.signedAsked, t.ownConfigMissing, t.ownConfigFailed});
    if (registerOutcome != never && registerOutcome >= bootFiles) {
        if (registerOutcome == t.refused)
            return {Step::Register, false, "its REGISTER was refused: " + t.refusal,
                    t.refusal.find("digest") != std::string::npos
                        ? "check the line's --auth-name and --auth-password against the phone's (labcm line edit)"
                        : fmt::format("check that {} is in labcm (labcm device show {}) and registers from its own address", name, name),
                    t.refused};
        if (registerOutcome == expiredFrom && t.expired != never)
            return {Step::Register, false, "it was registered, then its keep-alives (REGISTER refreshes) stopped",
                    "check the phone's power and network path to labcm since that time (switch port, VLAN, a firewall's "
                    "UDP timeout), then its status messages",
                    t.expired};
        if (registerOutcome == t.unregistered)
            return {Step::Register, false, "it unregistered (REGISTER with Expires 0: a restart or a shutdown) and has not registered since",
                    "wait for it to boot again; if it does not come back, look at its screen or console log", t.unregistered};
        return {Step::Register, false, "it was registered before labcm last started and has not registered since",
                "a phone re-registers within its expiry (120 s by default): check that it still reaches labcm", t.registered};
    }

    // Firmware: the config named another load and the phone went for it.
    if (t.firmwareAsked != never && t.firmwareAsked >= config) {
        if (t.firmwareMissing)
            return {Step::Firmware, false, fmt::format("it asked for firmware file {}, which labcm does not have", t.firmwareName),
                    "import the firmware package of that load (labcm firmware import FILE), or set the device's load to one "
                    "labcm has (labcm firmware list)",
                    t.firmwareAsked};
        if (t.firmwareFailed)
            return {Step::Firmware, false, fmt::format("its download of {} broke off", t.firmwareName),
                    "the phone retries by itself; if it keeps failing, look at the TFTP/HTTP events for the reason and the "
                    "network path (MTU, a slow link)",
                    t.firmwareAsked};
        if (now - t.firmwareAsked > kFirmwarePatience)
            return {Step::Firmware, false,
                    fmt::format("it started downloading firmware ({}) and has not come back since", t.firmwareName),
                    "an upgrade takes a few minutes: if it still has not registered, look at its screen; a phone that "
                    "rejects the image boots its old load and asks again",
                    t.firmwareAsked};
        return {Step::Firmware, false, fmt::format("it is downloading firmware ({})", t.firmwareName),
                "wait: it registers after the upgrade and a reboot", t.firmwareAsked};
    }

    // A trust list from another CUCM: signed files, or the .tlv files again and again.
    if (t.signedAsked != never && t.signedAsked >= config)
        return {Step::TrustList, false,
                fmt::format("it asks for signed files ({}): it holds a trust list (CTL/ITL) from another CUCM and "
                            "accepts only files signed by that cluster",
                            t.signedName),
                "erase its trust list (Settings > Security > Trust List, or Admin Settings > Reset Settings > Security "
                "settings), or factory-reset it",
                t.signedAsked};
    if (t.mostTrustAsks >= 3 && t.trustAsked > config)
        return {Step::TrustList, false,
                fmt::format("it asked for the same CTL/ITL file {} times without going on to its config: it may hold a "
                            "trust list from another CUCM",
                            t.mostTrustAsks),
                "erase its trust list (Settings > Security > Trust List), or factory-reset it", t.trustAsked};

    if (t.defaultConfig != never && t.defaultConfig >= t.ownConfig)
        return {Step::Config, false, fmt::format("it fetched XMLDefault.cnf.xml, not {}.cnf.xml: it is not in labcm's database", name),
                fmt::format("add it (labcm device add {} --model MODEL --line DN) or turn on auto-registration", name),
                t.defaultConfig};
    if (t.ownConfig != never) {
        if (now - t.ownConfig <= patience)
            return {Step::Config, false, fmt::format("it fetched {}.cnf.xml; its REGISTER has not come yet", name),
                    "wait a moment", t.ownConfig};
        return {Step::Connect, false, fmt::format("it fetched {}.cnf.xml but sent no REGISTER", name),
                "check the call manager the config names (processNodeName = labcm's address, sipPort = its SIP port, "
                "the transport) against where labcm listens, and any firewall between the phone and labcm",
                t.ownConfig};
    }
    if (t.ownConfigFailed != never && t.ownConfigFailed >= std::max(t.ownConfigMissing, t.trustAsked))
        return {Step::Config, false, "its config file did not arrive: " + t.configFailure,
                "look at the network path for TFTP/HTTP between the phone and labcm (a firewall that passes port 69 "
                "but not the transfer's other ports, the MTU); a busy server answers again when the phone retries",
                t.ownConfigFailed};
    if (t.ownConfigMissing != never)
        return {Step::Config, false, fmt::format("it asked for {}.cnf.xml, which labcm does not serve", name),
                fmt::format("add it (labcm device add {} --model MODEL --line DN) or turn on auto-registration", name),
                t.ownConfigMissing};
    if (t.trustAsked != never)
        return {Step::TrustList, false, "it asked for its CTL/ITL files and has not asked for its config yet",
                "wait a moment; if it stays here, erase its trust list", t.trustAsked};
    if (t.leased != never) {
        if (now - t.leased <= patience)
            return {Step::Dhcp, false, fmt::format("it got {} from labcm's DHCP; it has not asked for its config yet", t.address),
                    "wait a moment", t.leased};
        return {Step::Dhcp, false, fmt::format("it got {} from labcm's DHCP but never asked labcm for its config", t.address),
                "check DHCP options 150/66 (the TFTP server the phone is told) and whether the phone has an alternate "
                "TFTP server set (Settings > Network > Alternate TFTP)",
                t.leased};
    }
    return {Step::Nothing, false, "labcm has seen it, but no DHCP lease, file request or REGISTER",
            "look at its events below", t.seen};
}

std::string_view outcomeName(Outcome o) {
    switch (o) {
    case Outcome::Applied: return "applied";
    case Outcome::Waiting: return "waiting";
    case Outcome::Failed: return "failed";
    case Outcome::NoAnswer: return "no answer";
    }
    return "waiting";
}

Confirmation confirm(const Trail& t, std::string_view name, std::string_view action, Time sent, Time now,
                     std::chrono::seconds timeout, std::chrono::seconds patience) {
    const Time never{};
    auto secondsAfter = [](Time from, Time to) { return std::chrono::duration_cast<std::chrono::seconds>(to - from).count(); };
    Confirmation c;
    c.verdict = judge(t, name, now, false, patience);
    const bool reboots = action != "apply-config";
    if (t.ownConfig != never && (!reboots || (t.registered != never && t.registered >= t.ownConfig))) {
        c.outcome = Outcome::Applied;
        c.what = reboots ? fmt::format("applied: it fetched {}.cnf.xml {} s after the {} and registered again {} s later", name,
                                       secondsAfter(sent, t.ownConfig), action, secondsAfter(t.ownConfig, t.registered))
                         : fmt::format("applied: it fetched {}.cnf.xml {} s after the apply-config", name, secondsAfter(sent, t.ownConfig));
        return c;
    }
    const auto& v = c.verdict;
    auto after = [&](Time x, Time y) { return x != never && x > y; };
    // A dead end, at once: its own file not found, XMLDefault, signed files, a firmware file
    // labcm lacks; each only when nothing better came after it.
    const bool deadEnd = after(t.ownConfigMissing, t.ownConfig) || (t.defaultConfig != never && t.defaultConfig >= t.ownConfig) ||
                         after(t.signedAsked, t.ownConfig) || (t.firmwareMissing && after(t.firmwareAsked, t.registered));
    // What a phone retries by itself (a busy or broken transfer, a refused REGISTER): failed
    // only when `patience` passed without it getting further.
    const Time retried = latest({after(t.ownConfigFailed, t.ownConfig) ? t.ownConfigFailed : never,
                                 after(t.refused, t.registered) ? t.refused : never,
                                 t.firmwareFailed && after(t.firmwareAsked, t.registered) ? t.firmwareAsked : never});
    const bool failed = deadEnd || (retried != never && now - retried >= patience) || v.step == Step::Connect;
    if (failed) {
        c.outcome = Outcome::Failed;
        c.what = fmt::format("failed at step {} ({}): {}", static_cast<int>(v.step), stepName(v.step), v.what);
        return c;
    }
    const auto waited = secondsAfter(sent, now);
    if (now - sent >= timeout) {
        c.outcome = Outcome::NoAnswer;
        c.what = t.seen == never ? fmt::format("no answer: labcm has seen nothing from the phone in the {} s since the {}", waited, action)
                                 : fmt::format("no answer: in the {} s since the {} it got as far as step {} ({}): {}", waited, action,
                                               static_cast<int>(v.step), stepName(v.step), v.what);
        return c;
    }
    c.outcome = Outcome::Waiting;
    c.what = t.seen == never ? fmt::format("waiting: nothing from the phone yet ({} s)", waited)
                             : fmt::format("waiting: step {} ({}) so far: {}", static_cast<int>(v.step), stepName(v.step), v.what);
    return c;
}

} // namespace labcm::diagnosis
