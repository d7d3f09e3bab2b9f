// Where a decided message goes and what kind it is: typed values that the outbox stores as
// text and reads back unchanged, including rows written before the types existed.
#include "checklist/outbound.hpp"

#include <catch2/catch.hpp>

namespace unit_outbound_test {

using namespace relbot::checklist;

TEST_CASE("a destination is stored as the outbox has always stored it and read back the same",
          "[unit]") {
    for (const auto& d : {destination::channel("C0123"), destination::direct("U0456"),
                          destination::reply("https://hooks.slack.com/commands/T1/2/abc")}) {
        CHECK(parse_destination(d.stored()) == d);
    }
    // The text rows written by earlier versions hold.
    CHECK(destination::direct("U0456").stored() == "@U0456");
    CHECK(parse_destination("@U0456").to == destination::type::direct);
    CHECK(parse_destination("C0123").to == destination::type::channel);
    CHECK(parse_destination("https://hooks.slack.com/x").to == destination::type::response_url);
}

TEST_CASE("every message kind is stored under the name earlier rows use, and read back", "[unit]") {
    CHECK(to_string(message_kind::announcement).empty());
    CHECK(to_string(message_kind::briefing_dm) == "briefing-dm");
    for (auto k :
         {message_kind::announcement, message_kind::status, message_kind::pin, message_kind::dm,
          message_kind::briefing, message_kind::briefing_dm, message_kind::reply_page}) {
        CHECK(parse_message_kind(to_string(k)) == k);
    }
    CHECK(parse_message_kind("something-newer") == message_kind::announcement);
}

}  // namespace unit_outbound_test
