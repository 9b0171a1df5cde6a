#include "http/admin_auth.h"

#include <sodium.h>

#include <algorithm>

#include <fmt/format.h>

namespace labcm::admin {

std::string randomToken(std::size_t bytes) {
    initCrypto();
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) out += fmt::format("{:02x}", c);
    return out;
}

bool equalTokens(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || a.empty()) return false;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sessions::create(const std::string& user, Clock::time_point now) {
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires <= now; });
    while (sessions_.size() >= max_) {
        auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                       [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
        sessions_.erase(oldest);
    }
    auto token = randomToken();
    sessions_[token] = Session{user, randomToken(), now + idle_};
    return token;
}

std::optional<Session> Sessions::touch(const std::string& token, Clock::time_point now) {
    auto it = sessions_.find(token);
    if (it == sessions_.end()) return std::nullopt;
    if (it->second.expires <= now) {
        sessions_.erase(it);
        return std::nullopt;
    }
    it->second.expires = now + idle_;
    return it->second;
}

Clock::duration LoginLimiter::wait(const std::string& address, Clock::time_point now) {
    auto it = clients_.find(address);
    if (it == clients_.end()) return Clock::duration::zero();
    if (now - it->second.first >= window_) {
        clients_.erase(it);
        return Clock::duration::zero();
    }
    if (it->second.failures < maxFailures_) return Clock::duration::zero();
    return it->second.first + window_ - now;
}

void LoginLimiter::attempted(const std::string& address, Clock::time_point now) {
    if (clients_.size() >= maxClients_) std::erase_if(clients_, [&](const auto& kv) { return now - kv.second.first >= window_; });
    if (clients_.size() >= maxClients_) clients_.erase(clients_.begin()); // still full: forget one
    auto& e = clients_[address];
    if (e.failures == 0 || now - e.first >= window_) e = Entry{0, now};
    ++e.failures;
}

} // namespace labcm::admin
