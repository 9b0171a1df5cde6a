// doctest's main(): DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN is set for this file by the build,
// because doctest.h is force-included before any line of it (tests/unit/doctest_ext.h).
#include <doctest/doctest.h>
