// slack/block_kit.hpp: the text Slack counts in blocks, shared by the renderers and the sandbox.
#include "slack/block_kit.hpp"

#include <catch2/catch.hpp>

#include "commands/render/blocks.hpp"

namespace unit_block_kit_test {

using nlohmann::json;
using relbot::slack::block_text_size;
using relbot::slack::blocks_text_size;

TEST_CASE("a block's text is its text object's text plus its elements' texts", "[unit]") {
    json section = {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "abcd"}}}};
    json context = {{"type", "context"},
                    {"elements", json::array({{{"type", "mrkdwn"}, {"text", "12"}},
                                              {{"type", "image"}, {"alt_text", "ignored"}},
                                              "not an object"})}};
    json divider = {{"type", "divider"}};
    CHECK(block_text_size(section) == 4);
    CHECK(block_text_size(context) == 2);
    CHECK(block_text_size(divider) == 0);
    CHECK(blocks_text_size(json::array({section, context, divider})) == 6);
    CHECK(blocks_text_size(json::array()) == 0);
}

TEST_CASE("the renderers count blocks' text as the sandbox does", "[unit]") {
    auto blocks =
        json::array({relbot::commands::header_block("Release 1.2"),
                     relbot::commands::section_block("*one*\ntwo"),
                     relbot::commands::context_block("three"), relbot::commands::divider_block()});
    CHECK(relbot::commands::block_text_size(blocks) == blocks_text_size(blocks));
    CHECK(blocks_text_size(blocks) > 0);
}

TEST_CASE("the shared validator refuses what Slack refuses in messages and views", "[unit]") {
    using nlohmann::json;
    auto button = [](std::string text, std::string id) {
        return json{{"type", "button"},
                    {"text", {{"type", "plain_text"}, {"text", text}}},
                    {"action_id", id},
                    {"value", "r1"}};
    };
    json ok = json::array({{{"type", "actions"}, {"elements", {button("Done", "a:1")}}}});
    CHECK(relbot::slack::message_violation(ok) == "");
    json twice = json::array(
        {{{"type", "actions"}, {"elements", {button("Done", "a:1"), button("Skip…", "a:1")}}}});
    CHECK_FALSE(relbot::slack::message_violation(twice).empty());
    json long_label =
        json::array({{{"type", "actions"}, {"elements", {button(std::string(76, 'x'), "a")}}}});
    CHECK_FALSE(relbot::slack::message_violation(long_label).empty());
    json modal = {{"type", "modal"},
                  {"title", {{"type", "plain_text"}, {"text", "Skip 2.3"}}},
                  {"blocks",
                   {{{"type", "input"},
                     {"block_id", "reason"},
                     {"label", {{"type", "plain_text"}, {"text", "Why?"}}},
                     {"element", {{"type", "plain_text_input"}, {"action_id", "value"}}}}}}};
    CHECK_FALSE(relbot::slack::view_violation(modal).empty());  // an input needs a submit button
    modal["submit"] = {{"type", "plain_text"}, {"text", "Skip"}};
    CHECK(relbot::slack::view_violation(modal).empty());
    modal["title"]["text"] = std::string(25, 't');
    CHECK_FALSE(relbot::slack::view_violation(modal).empty());
}

TEST_CASE("a view's inputs may share an action_id across blocks, a message's controls may not",
          "[unit]") {
    using nlohmann::json;
    auto input = [](std::string block) {
        return json{{"type", "input"},
                    {"block_id", block},
                    {"label", {{"type", "plain_text"}, {"text", block}}},
                    {"element", {{"type", "plain_text_input"}, {"action_id", "value"}}}};
    };
    json modal = {{"type", "modal"},
                  {"title", {{"type", "plain_text"}, {"text", "Assign"}}},
                  {"submit", {{"type", "plain_text"}, {"text", "Assign"}}},
                  {"blocks", {input("owner"), input("due")}}};
    CHECK(relbot::slack::view_violation(modal) == "");
    auto button = [](std::string id) {
        return json{{"type", "button"},
                    {"text", {{"type", "plain_text"}, {"text", "Done"}}},
                    {"action_id", id}};
    };
    json message = json::array({{{"type", "actions"}, {"elements", {button("x")}}},
                                {{"type", "actions"}, {"elements", {button("x")}}}});
    CHECK_FALSE(relbot::slack::message_violation(message).empty());
}

}  // namespace unit_block_kit_test
