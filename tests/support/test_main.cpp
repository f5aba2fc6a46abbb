// main() for every zerobuffer test binary: registers the leak check over /dev/shm and /tmp/zerobuffer.
#include <gtest/gtest.h>

#include "test_support.h"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new zerobuffer::test::LeakCheckEnvironment);
    return RUN_ALL_TESTS();
}
