// SPDX-License-Identifier: MIT
// shm/channel_fds: the BUNTIME_CHANNEL text form of a worker's descriptors, and the names
// of the shm errors.
#include <doctest/doctest.h>

#include <string>

#include "buntime/shm/channel.h"

using namespace buntime::shm;

TEST_CASE("error names") {
    CHECK(std::string(toString(Error::PeerDead)) == "PeerDead");
    CHECK(std::string(toString(Error::WouldBlock)) == "WouldBlock");
    CHECK(toString(Failure{Error::BadLength, 0, {}}) == "BadLength");
    CHECK(toString(Failure{Error::System, 0, "eventfd"}) == "System: eventfd");
}

TEST_CASE("fds print as five decimals and parse back") {
    ChannelFds f{3, 4, 5, 6, 7};
    CHECK(f.toString() == "3,4,5,6,7");
    auto p = ChannelFds::parse("3,4,5,6,7");
    REQUIRE(p);
    CHECK(p->segment == 3);
    CHECK(p->to_worker_data == 4);
    CHECK(p->to_worker_space == 5);
    CHECK(p->to_supervisor_data == 6);
    CHECK(p->to_supervisor_space == 7);
    auto big = ChannelFds::parse(ChannelFds{0, 10, 2147483647, 65536, 1}.toString());
    REQUIRE(big);
    CHECK(big->to_worker_space == 2147483647);
    CHECK(big->segment == 0);
}

TEST_CASE("anything but five decimals is refused with BadLength") {
    for (const char* bad : {"", "3,4,5,6", "3,4,5,6,7,8", "3,4,5,6,x", "-3,4,5,6,7", " 3,4,5,6,7", "3,4,5,6,7 ",
                            "3,,5,6,7", "99999999999,4,5,6,7", "2147483648,4,5,6,7", "3;4;5;6;7", "+3,4,5,6,7"}) {
        CAPTURE(bad);
        auto p = ChannelFds::parse(bad);
        REQUIRE_FALSE(p);
        CHECK(p.error().code == Error::BadLength);
        CHECK(p.error().sys_errno == 0);
        CHECK(toString(p.error()) == "BadLength: channel fds are not five decimal numbers");
    }
}
