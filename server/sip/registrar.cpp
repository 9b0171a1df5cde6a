#include "sip/registrar.h"

#include <algorithm>

#include <fmt/format.h>

#include "sip/source.h"

namespace labcm::sip {

namespace {
// Below 20 s (after the phone subtracts its 5 s delta) the phone treats the 200 as a failure.
constexpr int kMinGranted = 25;
} // namespace

std::string DeviceView::displayName(std::string_view dn) const {
    for (std::size_t i = 0; i < dns.size() && i < displayNames.size(); ++i)
        if (dns[i] == dn) return displayNames[i];
    return {};
}

std::string_view toString(RegisterOutcome o) {
    switch (o) {
    case RegisterOutcome::NewRegistration: return "registered";
    case RegisterOutcome::Refresh: return "refreshed";
    case RegisterOutcome::BackupKeepAlive: return "backup keep-alive";
    case RegisterOutcome::Unregistered: return "unregistered";
    case RegisterOutcome::UnknownDevice: return "unknown device";
    case RegisterOutcome::Refused: return "refused";
    case RegisterOutcome::Unidentified: return "unidentified";
    }
    return "?";
}

void applyRequest(Binding& b, const RegisterRequest& r) {
    b.mac = r.mac;
    b.callId = r.callId;
    b.contact = r.contact;
    b.source = r.source;
    b.transport = r.transport;
    // Reason (with the loads) comes only on the first REGISTER of a cycle: keep the last.
    if (r.reason) {
        b.activeLoad = r.reason->activeLoad;
        b.inactiveLoad = r.reason->inactiveLoad;
        b.lastReason = r.reason->last;
        b.alarm = r.reason->alarm;
    }
}

Registrar::Registrar(int grantedSeconds, std::chrono::seconds grace)
    : granted_(std::max(kMinGranted, grantedSeconds)), grace_(grace) {}

void Registrar::setGrantedSeconds(int seconds) { granted_ = std::max(kMinGranted, seconds); }

namespace {
// Adds (or removes) `mac` under each of `dns` in `index`, its MAC lists kept sorted.
void indexBy(std::map<std::string, std::vector<std::string>, std::less<>>& index, const std::vector<std::string>& dns,
             const std::string& mac, bool add) {
    for (const auto& dn : dns) {
        auto& macs = index[dn];
        auto at = std::lower_bound(macs.begin(), macs.end(), mac);
        if (add && (at == macs.end() || *at != mac)) macs.insert(at, mac);
        if (!add && at != macs.end() && *at == mac) macs.erase(at);
        if (macs.empty()) index.erase(dn);
    }
}
} // namespace

void Registrar::indexLines(const DeviceView& d, bool add) {
    indexBy(macsByDn_, d.dns, d.mac, add);
    indexBy(watchersByDn_, d.blfTargets, d.mac, add);
}

const std::vector<std::string>* Registrar::watchersOf(std::string_view dn) const {
    auto it = watchersByDn_.find(dn);
    return it == watchersByDn_.end() ? nullptr : &it->second;
}

const std::vector<std::string>* Registrar::devicesOnDn(std::string_view dn) const {
    auto it = macsByDn_.find(dn);
    return it == macsByDn_.end() ? nullptr : &it->second;
}

bool Registrar::beginsSomeDn(std::string_view digits) const {
    auto it = macsByDn_.lower_bound(digits);
    if (it != macsByDn_.end() && it->first == digits) ++it;
    return it != macsByDn_.end() && it->first.size() > digits.size() && std::string_view(it->first).starts_with(digits);
}

void Registrar::setDevices(std::vector<DeviceView> devices) {
    devices_.clear();
    macsByDn_.clear();
    watchersByDn_.clear();
    for (auto& d : devices) {
        indexLines(d, true);
        devices_.emplace(d.mac, std::move(d));
    }
    // Lines of live bindings follow the configuration at once.
    for (auto& [mac, b] : bindings_)
        if (auto it = devices_.find(mac); it != devices_.end()) b.dns = it->second.dns;
}

void Registrar::upsertDevice(DeviceView device) {
    if (auto it = bindings_.find(device.mac); it != bindings_.end()) it->second.dns = device.dns;
    if (auto old = devices_.find(device.mac); old != devices_.end()) indexLines(old->second, false);
    indexLines(device, true);
    auto mac = device.mac;
    devices_.insert_or_assign(std::move(mac), std::move(device));
}

bool Registrar::removeDevice(const std::string& mac) {
    if (auto it = devices_.find(mac); it != devices_.end()) {
        indexLines(it->second, false);
        devices_.erase(it);
    }
    auto it = bindings_.find(mac);
    if (it == bindings_.end()) return false;
    bindings_.erase(it);
    return true;
}

const DeviceView* Registrar::device(const std::string& mac) const {
    auto it = devices_.find(mac);
    return it == devices_.end() ? nullptr : &it->second;
}

const Binding* Registrar::binding(const std::string& mac) const {
    auto it = bindings_.find(mac);
    return it == bindings_.end() ? nullptr : &it->second;
}

void Registrar::restore(Binding b) {
    b.live = false;
    auto mac = b.mac;
    bindings_[mac] = std::move(b);
}

std::vector<std::string> Registrar::pruneUnknown() {
    std::vector<std::string> gone;
    for (auto it = bindings_.begin(); it != bindings_.end();) {
        if (!devices_.contains(it->first)) {
            gone.push_back(it->first);
            it = bindings_.erase(it);
        } else {
            ++it;
        }
    }
    return gone;
}

RegisterDecision Registrar::onRegister(const RegisterRequest& r, Clock::time_point now,
                                       std::chrono::system_clock::time_point wallNow) {
    RegisterDecision d;
    if (r.mac.empty()) {
        d.outcome = RegisterOutcome::Unidentified;
        d.status = 404;
        d.detail = "REGISTER names no device (no +u.sip!devicename, Reason Name= or +sip.instance)";
        return d;
    }
    const auto* dev = device(r.mac);
    if (!dev) {
        d.outcome = RegisterOutcome::UnknownDevice;
        d.status = 404;
        d.detail = fmt::format("SEP{} is not configured (labcm device add SEP{} --model ...)", r.mac, r.mac);
        return d;
    }
    auto it = bindings_.find(r.mac);
    if (auto why = refusal(r, it == bindings_.end() ? nullptr : &it->second, now); !why.empty()) {
        d.outcome = RegisterOutcome::Refused;
        d.status = 403;
        d.detail = std::move(why);
        return d;
    }

    if (r.expires == 0) {
        if (r.contactParams.keepAlive) {
            // A keep-alive to a backup call manager: not an unregister.
            d.outcome = RegisterOutcome::BackupKeepAlive;
            d.detail = "keep-alive (Expires 0, cisco-keep-alive): binding kept";
            return d;
        }
        d.outcome = RegisterOutcome::Unregistered;
        d.detail = fmt::format("unregistered{}", r.reason && !r.reason->last.empty() ? " (Last=" + r.reason->last + ")" : "");
        if (it != bindings_.end()) bindings_.erase(it);
        return d;
    }

    const bool hadLive = it != bindings_.end() && it->second.live;
    if (hadLive && it->second.callId == r.callId && r.cseq != 0 && r.cseq <= it->second.cseq) {
        // A retransmission (answered without a transaction, so it reaches us), or an older
        // REGISTER overtaken by a newer one (RFC 3261 10.3 step 7): the answer it had, no change.
        const Binding& b = it->second;
        d.outcome = b.newreg ? RegisterOutcome::NewRegistration : RegisterOutcome::Refresh;
        d.expires = b.grantedSeconds;
        d.newreg = d.optionsInd = b.newreg;
        d.retransmission = true;
        d.detail = fmt::format("retransmitted REGISTER (CSeq {}): answered again", r.cseq);
        return d;
    }
    const int grant = static_cast<int>(std::clamp<long>(r.expires, kMinGranted, granted_));
    const bool newCycle = !hadLive || r.bulk || it->second.callId != r.callId;
    Binding& b = bindings_[r.mac]; // a restored binding keeps its loads until a Reason says otherwise
    applyRequest(b, r);
    if (!r.userAgent.empty()) b.userAgent = r.userAgent;
    if (r.contactParams.model) b.modelId = r.contactParams.model;
    b.grantedSeconds = grant;
    b.cseq = r.cseq;
    b.newreg = newCycle;
    b.expiresAt = now + std::chrono::seconds(grant);
    if (newCycle) b.registeredAt = wallNow;
    b.live = true;
    b.dns = dev->dns;

    d.expires = grant;
    if (newCycle) {
        d.outcome = RegisterOutcome::NewRegistration;
        d.newreg = true;
        d.optionsInd = true;
        d.detail = fmt::format("registered {} line(s) over {} from {} for {} s{}{}", b.dns.size(), r.transport, r.source,
                               grant, b.activeLoad.empty() ? "" : ", active load " + b.activeLoad,
                               !r.bulk && !hadLive ? " (keep-alive for a binding labcm did not have: all lines re-created)" : "");
    } else {
        d.outcome = RegisterOutcome::Refresh;
        d.detail = fmt::format("refreshed for {} s", grant);
    }
    return d;
}

std::string Registrar::refusal(const RegisterRequest& r, const Binding* bound, Clock::time_point now) const {
    if (r.expires == 0 && r.contactParams.keepAlive) return {}; // a backup's keep-alive changes nothing
    const auto from = sourceAddress(r.source);
    if (contactMustBeSource_ && !r.contactHost.empty() && r.contactHost != from)
        return fmt::format("the Contact host {} is not the REGISTER's source {} (phones behind NAT: labcm setting set "
                           "sip_nat true)", r.contactHost, from);
    if (contactMustBeSource_ && !r.leasedAddress.empty() && r.leasedAddress != from)
        return fmt::format("registration from {} refused: labcm's DHCP leased SEP{} the address {} (a phone registers "
                           "from the address it was leased)", from, r.mac, r.leasedAddress);
    if (bound && bound->live && now <= bound->expiresAt + grace_ && !r.boundConnectionClosed) {
        const auto owner = sourceAddress(bound->source);
        if (owner != from)
            return fmt::format("registration from {} refused: SEP{} is registered from {} (until it unregisters, its "
                               "connection closes or its registration lapses)", from, r.mac, owner);
    }
    return {};
}

std::vector<Binding> Registrar::sweep(Clock::time_point now) {
    std::vector<Binding> gone;
    for (auto it = bindings_.begin(); it != bindings_.end();) {
        if (now > it->second.expiresAt + grace_) {
            gone.push_back(std::move(it->second));
            it = bindings_.erase(it);
        } else {
            ++it;
        }
    }
    return gone;
}

} // namespace labcm::sip
