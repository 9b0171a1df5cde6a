// The sofia thread's event loop. su_root_run() waits for the next timer in whole milliseconds
// rounded down (su_duration), so for the last fraction of a millisecond before every timer it
// calls epoll_wait with a timeout of 0, again and again: with each call's transactions holding
// timers, that spin was about half the SIP thread's CPU under calls (~100,000 epoll_wait/s at
// 200 calls/s). runRoot() steps the root itself and, when the step says a timer is due within
// the millisecond, waits on sofia's own epoll descriptor for up to that millisecond: any
// socket, message or wake that sofia watches ends the wait at once, so no I/O waits for it.
#pragma once

#include <sofia-sip/su_wait.h>

namespace labcm::sip::sofia {

/// @brief The epoll descriptor of this process that watches `member` (read from
/// /proc/self/fdinfo), or -1 if none does (another su_port kind, or no /proc).
int pollFdWatching(int member);

/// @brief Runs `root` until `running` turns false (set by a callback on this thread). With
/// pollFd < 0 it falls back to su_root_run(), which only su_root_break() ends.
void runRoot(su_root_t* root, int pollFd, const bool& running);

} // namespace labcm::sip::sofia
