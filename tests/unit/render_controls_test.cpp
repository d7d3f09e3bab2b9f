// The controls relbot draws: buttons and menus on the status message and the DMs (full and
// compact forms, always a message Slack accepts), what a DM becomes after a click, the modals and
// App Home.
#include <catch2/catch.hpp>
#include <set>

#include "checklist/release.hpp"
#include "commands/controls.hpp"
#include "commands/render.hpp"
#include "commands/render/controls.hpp"
#include "commands/render/views.hpp"
#include "slack/block_kit.hpp"

namespace unit_render_controls_test {

using namespace relbot;
using commands::controls::decode;
using commands::controls::target;
using nlohmann::json;

namespace {

constexpr std::int64_t release_id = 7;

// A stored release: the release and its items have ids (items from 100 on).
checklist::release stored(const checklist::checklist_template& t) {
    auto r = checklist::make_release(t, "C1", "v1.0", "U1", 1795669235);
    r.id = release_id;
    std::int64_t id = 100;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    return r;
}

checklist::release standard() {
    checklist::template_library lib;
    return stored(*lib.find("standard"));
}

checklist::release generated(int phases, int items, std::size_t title_len) {
    checklist::checklist_template t{"generated", {}};
    for (int p = 0; p < phases; ++p) {
        checklist::template_phase phase{"Phase " + std::to_string(p + 1), std::nullopt, {}};
        for (int i = 0; i < items; ++i) {
            auto title = "Item " + std::to_string(p + 1) + "." + std::to_string(i + 1) + " ";
            title += std::string(title_len > title.size() ? title_len - title.size() : 0, 'x');
            phase.items.push_back({title, "description"});
        }
        t.phases.push_back(std::move(phase));
    }
    return stored(t);
}

target names(std::int64_t release, std::int64_t item = 0) {
    target t;
    t.release_id = release;
    t.item_id = item;
    return t;
}

// An overdue item of release 7 owned by U2, as reminders find it.
checklist::reminder_candidate candidate(const checklist::item& i) {
    checklist::reminder_candidate c;
    c.release_id = release_id;
    c.item_id = i.id;
    c.channel = "C1";
    c.version = "v1.0";
    c.manager = "U1";
    c.owner = "U2";
    c.ref = i.ref();
    c.title = i.title;
    return c;
}

std::string text_of(const json& block) {
    return block.contains("text") ? block["text"].value("text", "") : std::string();
}

// The index of the section whose text holds "`ref`", or -1.
int section_of(const json& blocks, const std::string& ref) {
    for (std::size_t k = 0; k < blocks.size(); ++k) {
        if (blocks[k]["type"] == "section" &&
            text_of(blocks[k]).find("`" + ref + "`") != std::string::npos) {
            return static_cast<int>(k);
        }
    }
    return -1;
}

// The visible labels of an actions block's elements (a select's placeholder).
std::vector<std::string> labels(const json& actions) {
    std::vector<std::string> out;
    for (const auto& e : actions["elements"]) {
        out.push_back(e["type"] == "static_select" ? e["placeholder"]["text"].get<std::string>()
                                                   : e["text"]["text"].get<std::string>());
    }
    return out;
}

std::vector<std::string> option_labels(const json& menu) {
    std::vector<std::string> out;
    for (const auto& o : menu["options"]) {
        out.push_back(o["text"]["text"].get<std::string>());
    }
    return out;
}

int count_type(const json& blocks, const std::string& type) {
    int n = 0;
    for (const auto& b : blocks) {
        n += b["type"] == type ? 1 : 0;
    }
    return n;
}

bool has_accessory(const json& blocks) {
    for (const auto& b : blocks) {
        if (b.contains("accessory")) {
            return true;
        }
    }
    return false;
}

// Checks the item's full-form controls: an actions block "item:<id>" right after its section,
// with `expected` labels, each value naming the release and the item.
void check_item_actions(const json& blocks,
                        const checklist::item& it,
                        const std::vector<std::string>& expected) {
    INFO("item " << it.ref());
    auto k = section_of(blocks, it.ref());
    REQUIRE(k >= 0);
    REQUIRE(static_cast<std::size_t>(k) + 1 < blocks.size());
    const auto& a = blocks[static_cast<std::size_t>(k) + 1];
    CHECK(a["type"] == "actions");
    CHECK(a["block_id"] == "item:" + std::to_string(it.id));
    CHECK(labels(a) == expected);
    for (const auto& e : a["elements"]) {
        if (e["type"] == "button") {
            CHECK(decode(e["value"].get<std::string>()) == names(release_id, it.id));
        } else {
            for (const auto& o : e["options"]) {
                auto t = decode(o["value"].get<std::string>());
                REQUIRE(t);
                CHECK(t->release_id == release_id);
                CHECK(t->item_id == it.id);
                CHECK(t->snooze != commands::controls::snooze_for::none);
            }
        }
    }
}

const std::vector<std::string> status_labels = {"Done", "Skip…", "Block…", "Assign…", "Note…"};
const std::vector<std::string> owner_labels = {"Done", "Snooze", "Block…"};

// Every item is named in `dump`, or those left out are counted: "…and N more".
void check_named_or_counted(const std::string& dump, const std::vector<checklist::item>& items) {
    std::size_t missing = 0;
    for (const auto& i : items) {
        missing += dump.find("`" + i.ref() + "`") == std::string::npos ? 1 : 0;
    }
    if (missing > 0) {
        CHECK(dump.find("…and " + std::to_string(missing) + " more") != std::string::npos);
    }
}

// The release-wide actions block at the end of the status message.
const json& release_block(const json& blocks) {
    const auto& last = blocks.back();
    REQUIRE(last["type"] == "actions");
    CHECK(last["block_id"] == "release:" + std::to_string(release_id));
    return last;
}

}  // namespace

TEST_CASE("status: each open or blocked item of the current phase has its buttons", "[unit]") {
    auto r = standard();
    auto& items = r.phases[0].items;
    items[0].state = checklist::item_state::done;
    items[1].state = checklist::item_state::blocked;
    items[1].state_note = "scanner down";
    items[2].state = checklist::item_state::skipped;
    auto m = commands::render_status(r);
    CHECK(slack::message_violation(m.blocks).empty());
    CHECK_FALSE(has_accessory(m.blocks));
    check_item_actions(m.blocks, items[1], {"Done", "Skip…", "Unblock", "Assign…", "Note…"});
    for (std::size_t k = 3; k < items.size(); ++k) {
        check_item_actions(m.blocks, items[k], status_labels);
    }
    // Done and skipped items: their line, no controls.
    for (std::size_t k : {0u, 2u}) {
        auto s = section_of(m.blocks, items[k].ref());
        REQUIRE(s >= 0);
        CHECK(m.blocks[static_cast<std::size_t>(s) + 1]["type"] != "actions");
    }
    CHECK(count_type(m.blocks, "actions") == 8);  // 7 open or blocked items, and the release's
    // Later phases' items get none.
    CHECK(section_of(m.blocks, "2.1") == -1);
    const auto& rel = release_block(m.blocks);
    CHECK(labels(rel) == std::vector<std::string>{"Next phase", "Remind owners"});
    // Next phase names the phase it was drawn in (a second click must not move on again).
    auto next = names(release_id);
    next.phase = 1;
    CHECK(decode(rel["elements"][0]["value"].get<std::string>()) == next);
    CHECK(decode(rel["elements"][1]["value"].get<std::string>()) == names(release_id));
}

TEST_CASE("status: Finish in the last phase, and no controls once the release ended", "[unit]") {
    auto r = standard();
    r.current_phase = static_cast<int>(r.phases.size());
    auto last = commands::render_status(r);
    CHECK(slack::message_violation(last.blocks).empty());
    CHECK(labels(release_block(last.blocks)) ==
          std::vector<std::string>{"Finish", "Remind owners"});
    auto finish = decode(release_block(last.blocks)["elements"][0]["value"].get<std::string>());
    REQUIRE(finish);
    CHECK(finish->phase == static_cast<int>(r.phases.size()));

    for (auto status : {checklist::release_status::finished, checklist::release_status::aborted}) {
        r.status = status;
        r.ended_at = 1795669935;
        auto m = commands::render_status(r);
        CHECK(slack::message_violation(m.blocks).empty());
        CHECK(count_type(m.blocks, "actions") == 0);
        CHECK_FALSE(has_accessory(m.blocks));
        CHECK(m.blocks.dump().find("`6.1`") != std::string::npos);  // the items are still listed
    }
}

TEST_CASE("status with many items: the compact form, then text lines, never too big for Slack",
          "[unit]") {
    for (auto [phases, items, title] : {std::tuple{1, 100, 150}, std::tuple{2, 50, 150},
                                        std::tuple{1, 30, 20}, std::tuple{1, 100, 10}}) {
        INFO(phases << " phases of " << items << " items, titles of " << title);
        auto r = generated(phases, items, title);
        r.phases[0].items[0].state = checklist::item_state::blocked;
        r.phases[0].items[1].state = checklist::item_state::done;
        auto m = commands::render_status(r);
        CHECK(slack::message_violation(m.blocks) == "");
        CHECK(commands::block_text_size(m.blocks) <= commands::max_total_block_text);
        // No actions block for items: every control is in an overflow menu.
        CHECK(count_type(m.blocks, "actions") == 1);
        CHECK(labels(release_block(m.blocks)) ==
              std::vector<std::string>{phases == 1 ? "Finish" : "Next phase", "Remind owners"});
        int menus = 0;
        for (const auto& b : m.blocks) {
            if (!b.contains("accessory")) {
                continue;
            }
            ++menus;
            const auto& menu = b["accessory"];
            CHECK(menu["type"] == "overflow");
            auto text = text_of(b);
            bool blocked = text.find("`1.1`") != std::string::npos;
            CHECK(option_labels(menu) == std::vector<std::string>{"Done", "Skip…",
                                                                  blocked ? "Unblock" : "Block…",
                                                                  "Assign…", "Note…"});
            for (const auto& o : menu["options"]) {
                auto v = o["value"].get<std::string>();
                auto bar = v.find('|');
                REQUIRE(bar != std::string::npos);
                auto t = decode(v.substr(bar + 1));
                REQUIRE(t);
                CHECK(t->release_id == release_id);
                CHECK(menu["action_id"] == "item.menu:" + std::to_string(t->item_id));
            }
        }
        CHECK(menus >= 10);
        CHECK(section_of(m.blocks, "1.2") >= 0);  // the done item is still shown
        auto dump = m.blocks.dump();
        check_named_or_counted(dump, r.phases[0].items);
        if (items == 100 && title == 150) {
            CHECK(dump.find("more") != std::string::npos);  // too many to list them all
        }
        if (items == 30) {
            CHECK(menus == 29);  // all fit: every item but the done one has its menu
        }
    }
}

TEST_CASE("DMs: Done, Snooze and Block… on each of the owner's items", "[unit]") {
    auto r = standard();
    auto& it = r.phases[0].items[2];
    auto assignment = commands::render_assignment(r, it, "U1");
    CHECK(slack::message_violation(assignment.blocks).empty());
    check_item_actions(assignment.blocks, it, owner_labels);
    const auto& snooze = assignment.blocks[1]["elements"][1];
    CHECK(snooze["type"] == "static_select");
    CHECK(option_labels(snooze) ==
          std::vector<std::string>{"1 hour", "4 hours", "Tomorrow morning"});

    std::vector<const checklist::item*> mine = {&r.phases[0].items[0], &r.phases[0].items[3]};
    auto phase_start = commands::render_owner_items(r, mine, "*Phase 1 has begun*");
    CHECK(slack::message_violation(phase_start.blocks).empty());
    for (const auto* i : mine) {
        check_item_actions(phase_start.blocks, *i, owner_labels);
    }

    std::vector<checklist::reminder_candidate> overdue;
    for (const auto* i : mine) {
        overdue.push_back(candidate(*i));
    }
    auto reminder = commands::render_reminder(overdue);
    CHECK(slack::message_violation(reminder.blocks).empty());
    for (const auto* i : mine) {
        check_item_actions(reminder.blocks, *i, owner_labels);
    }
    auto escalation = commands::render_escalation(overdue);
    CHECK(slack::message_violation(escalation.blocks).empty());
    for (const auto* i : mine) {
        check_item_actions(escalation.blocks, *i, {"Remind again", "Assign…"});
    }
}

TEST_CASE("DMs of 100 items stay within Slack's limits, compact, every item named", "[unit]") {
    for (auto title : {10, 150}) {
        auto r = generated(1, 100, static_cast<std::size_t>(title));
        std::vector<const checklist::item*> mine;
        std::vector<checklist::reminder_candidate> overdue;
        for (const auto& i : r.phases[0].items) {
            mine.push_back(&i);
            overdue.push_back(candidate(i));
        }
        for (const auto& m :
             {commands::render_owner_items(r, mine, "*Your items*"),
              commands::render_reminder(overdue), commands::render_escalation(overdue)}) {
            INFO(m.text);
            CHECK(slack::message_violation(m.blocks) == "");
            CHECK(count_type(m.blocks, "actions") == 0);
            REQUIRE(m.blocks[1].contains("accessory"));
            auto options = option_labels(m.blocks[1]["accessory"]);
            CHECK((options == std::vector<std::string>{"Done", "1 hour", "4 hours",
                                                       "Tomorrow morning", "Block…"} ||
                   options == std::vector<std::string>{"Remind again", "Assign…"}));
            check_named_or_counted(m.blocks.dump(), r.phases[0].items);
        }
    }
}

TEST_CASE("the on-call engineer's handoff DM has Accept handoff, the channel's briefing not",
          "[unit]") {
    auto r = standard();
    r.oncall = "U77";
    auto briefing = commands::render_handoff(r, {}, "U1");
    CHECK(count_type(briefing.blocks, "actions") == 0);
    auto dm = commands::render_handoff_dm(r, briefing);
    CHECK(slack::message_violation(dm.blocks).empty());
    const auto& accept = release_block(dm.blocks);
    CHECK(labels(accept) == std::vector<std::string>{"Accept handoff"});
    CHECK(accept["elements"][0]["action_id"] == "handoff.accept");
    CHECK(decode(accept["elements"][0]["value"].get<std::string>()) == names(release_id));

    auto big = generated(1, 100, 150);
    big.oncall = "U77";
    auto big_dm = commands::render_handoff_dm(big, commands::render_handoff(big, {}, "U1"));
    CHECK(slack::message_violation(big_dm.blocks).empty());
    CHECK(big_dm.blocks.back()["block_id"] == "release:7");

    auto settled = commands::settle_release_controls(dm.blocks, "✅ Accepted by <@U77>");
    CHECK(count_type(settled, "actions") == 0);
    CHECK(settled.size() == dm.blocks.size());
    CHECK(settled.back()["elements"][0]["text"] == "✅ Accepted by <@U77>");
}

TEST_CASE("after a click, exactly that item's controls become a line saying what happened",
          "[unit]") {
    auto r = standard();
    auto status = commands::render_status(r).blocks;
    const auto& it = r.phases[0].items[3];
    auto settled = commands::settle_item_controls(status, it.id, "✅ Done by <@U1> at 14:02 UTC");
    CHECK(settled.size() == status.size());
    CHECK(count_type(settled, "actions") == count_type(status, "actions") - 1);
    auto k = static_cast<std::size_t>(section_of(settled, it.ref()));
    CHECK(settled[k + 1]["type"] == "context");
    CHECK(settled[k + 1]["elements"][0]["text"] == "✅ Done by <@U1> at 14:02 UTC");
    check_item_actions(settled, r.phases[0].items[4], status_labels);  // the others stay
    CHECK(slack::message_violation(settled).empty());

    // The compact form: the menu leaves the item's section, a line follows it.
    auto big = generated(1, 100, 10);
    auto compact = commands::render_status(big).blocks;
    const auto& first = big.phases[0].items[0];
    auto s = static_cast<std::size_t>(section_of(compact, first.ref()));
    REQUIRE(compact[s].contains("accessory"));
    auto after = commands::settle_item_controls(compact, first.id, "⏭ Skipped");
    CHECK(after.size() == compact.size() + 1);
    CHECK_FALSE(after[s].contains("accessory"));
    CHECK(after[s + 1]["type"] == "context");
    CHECK(after[s + 2].contains("accessory"));  // the next item keeps its menu
    // Blocks it does not know, and another item's id, are kept as they are.
    json odd = json::array({json{{"type", "rich_text"}, {"elements", json::array()}}, 5});
    CHECK(commands::settle_item_controls(odd, 1, "x") == odd);
    CHECK(commands::settle_item_controls(status, 99999, "x") == status);
}

TEST_CASE("every control's action_id is unique in a message, and names its action", "[unit]") {
    auto r = standard();
    auto m = commands::render_status(r);
    std::set<std::string> ids;
    int buttons = 0;
    for (const auto& b : m.blocks) {
        for (const auto& e : b.value("elements", json::array())) {
            if (e.contains("action_id")) {
                CHECK(ids.insert(e["action_id"].get<std::string>()).second);
                CHECK(commands::controls::parse_action_id(e["action_id"].get<std::string>()));
                ++buttons;
            }
        }
    }
    CHECK(buttons == 9 * 5 + 2);
    CHECK(ids.count("item.done:100") == 1);
}

}  // namespace unit_render_controls_test
