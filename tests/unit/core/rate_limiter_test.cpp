#include <doctest/doctest.h>

#include "core/rate_limiter.h"

using namespace labcm;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: a burst per key, then one per interval; keys apart; one bucket over all") {
    KeyedRateLimiter l({3, 1s}, {5, 100ms}, 100);
    auto t = KeyedRateLimiter::Clock::time_point{} + 1h;
    CHECK(l.allow("a", t));
    CHECK(l.allow("a", t));
    CHECK(l.allow("a", t));
    CHECK_FALSE(l.allow("a", t)); // a's burst is used
    CHECK(l.allow("b", t));       // another key has its own
    CHECK(l.allow("b", t));
    CHECK_FALSE(l.allow("c", t)); // all keys together: 5 at once
    CHECK(l.refused() == 2);
    CHECK(l.allow("c", t + 100ms)); // the total refills one per 100 ms
    CHECK_FALSE(l.allow("a", t + 500ms));
    CHECK(l.allow("a", t + 1s)); // a refills one per second
    CHECK_FALSE(l.allow("a", t + 1s));
    CHECK(l.allow("a", t + 10s));
}

TEST_CASE("rate limiter: keys are bounded; a full bucket is forgotten to make room") {
    KeyedRateLimiter l({2, 1s}, {1000, 1ms}, 3);
    auto t = KeyedRateLimiter::Clock::time_point{} + 1h;
    CHECK(l.allow("1", t));
    CHECK(l.allow("2", t));
    CHECK(l.allow("3", t));
    CHECK_FALSE(l.allow("4", t)); // no room, nothing full yet
    CHECK(l.keys() == 3);
    CHECK(l.allow("4", t + 2s)); // the others refilled: forgotten, room again
    CHECK(l.keys() == 1);
}

TEST_CASE("rate limiter: one bucket (auto-registration's creations): a burst, then one per interval") {
    RateLimiter rate({3, 1000ms});
    auto t = std::chrono::steady_clock::time_point{} + 1h;
    CHECK(rate.allow(t));
    CHECK(rate.allow(t));
    CHECK(rate.allow(t));
    CHECK_FALSE(rate.allow(t));            // the burst is spent
    CHECK_FALSE(rate.allow(t + 500ms));    // half a token
    CHECK(rate.allow(t + 1000ms));         // one more after the interval
    CHECK_FALSE(rate.allow(t + 1000ms));
    CHECK(rate.allow(t + 1h));             // refilled, but never above the burst
    CHECK(rate.allow(t + 1h));
    CHECK(rate.allow(t + 1h));
    CHECK_FALSE(rate.allow(t + 1h));
}
