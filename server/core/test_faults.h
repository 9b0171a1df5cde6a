// The test seam: faults an integration test switches on with LABCM_TEST_FAULT=<name>[,<name>...]
// in the environment of `labcm serve`. Read once, at the first question; a production run
// never sets it. Each fault names the test that uses it and the question it answers.
#pragma once

#include <chrono>

namespace labcm::test_faults {

enum class Fault {
    /// "dhcp-after-commit": the process exits (86) after a lease commit and before its ACK,
    /// as a crash at the worst moment would (test_dhcp: no acknowledged lease is lost).
    DhcpAfterCommit,
    /// "slow-commits": every store transaction waits kSlowCommit before it begins, as on a
    /// machine busy with other work (test_phone_simulator: what a phone is told never
    /// depends on how fast the database commits).
    SlowCommits,
    /// "dhcp-stall": the DHCP thread's first wake-up waits kDhcpStall before it reads, as a
    /// server far behind a flood would (test_dhcp: stale DISCOVERs are dropped and counted,
    /// REQUESTs still answered, the kernel's drops counted).
    DhcpStall,
};

inline constexpr auto kSlowCommit = std::chrono::milliseconds(300);
inline constexpr auto kDhcpStall = std::chrono::seconds(5);

/// @brief True when LABCM_TEST_FAULT names `f`.
bool active(Fault f);

} // namespace labcm::test_faults
