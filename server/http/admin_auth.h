// The admin login: random session and CSRF tokens, sessions in memory (a restart logs
// everyone out), and a per-address limit on failed logins. No sockets here: the admin HTTP
// server uses it. The password hashes and policy live in the use-case layer
// (usecases/passwords.h); they are named here too for the login's callers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "usecases/passwords.h"

namespace labcm::admin {

using Clock = std::chrono::steady_clock;

using usecases::hashPassword;
using usecases::initCrypto;
using usecases::isPasswordHash;
using usecases::passwordProblem;
using usecases::randomPassword;
using usecases::verifyPassword;

/// @brief `bytes` random bytes as lower-case hex.
std::string randomToken(std::size_t bytes = 32);
/// @brief Compares in time independent of where the first difference is.
bool equalTokens(std::string_view a, std::string_view b);

struct Session {
    std::string user;
    std::string csrf;
    Clock::time_point expires;
};

/// @brief Logged-in sessions by token; idle ones expire, the oldest go when the table is full.
class Sessions {
public:
    Sessions(Clock::duration idle, std::size_t max) : idle_(idle), max_(max) {}
    /// @brief A new session; returns its token.
    std::string create(const std::string& user, Clock::time_point now);
    /// @brief The live session of a token (its idle time restarts), else nullopt.
    std::optional<Session> touch(const std::string& token, Clock::time_point now);
    void remove(const std::string& token) { sessions_.erase(token); }
    void clear() { sessions_.clear(); }
    std::size_t size() const { return sessions_.size(); }

private:
    Clock::duration idle_;
    std::size_t max_;
    std::map<std::string, Session> sessions_;
};

/// @brief Login attempts per client address: after `maxFailures` within `window` the
/// address waits until the window has passed since its first attempt. An attempt counts
/// before its password is checked (so guesses sent in parallel cannot pass the limit while
/// they are being verified) and a success forgets the address's count.
class LoginLimiter {
public:
    LoginLimiter(int maxFailures, Clock::duration window, std::size_t maxClients)
        : maxFailures_(maxFailures), window_(window), maxClients_(maxClients) {}
    /// @brief How long this address must wait; zero when it may try now.
    Clock::duration wait(const std::string& address, Clock::time_point now);
    void attempted(const std::string& address, Clock::time_point now);
    void succeeded(const std::string& address) { clients_.erase(address); }

private:
    struct Entry {
        int failures = 0;
        Clock::time_point first;
    };
    int maxFailures_;
    Clock::duration window_;
    std::size_t maxClients_;
    std::map<std::string, Entry> clients_;
};

} // namespace labcm::admin
