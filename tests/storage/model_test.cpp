// Model-based test: random /release commands by random people (manager, admin, owners,
// strangers) go through the real router and store (each engine: a SQLite file, a PostgreSQL
// database) and through a small model
// of the rules written here; after every step both must agree, and the invariants must hold:
// a phase is left only when its gate allows or by a recorded force, and every change has its
// audit rows.
#include <catch2/catch.hpp>
#include <random>

#include "commands/apply.hpp"
#include "engines.hpp"

namespace storage_model_test {

using namespace relbot;
using checklist::item_state;

namespace {

constexpr const char* channel = "C1";
const std::vector<std::string> people = {"UMGR", "UADMIN", "UOWN1", "UOWN2", "USTR"};

struct model_item {
    item_state state = item_state::open;
    std::string owner;
    std::optional<std::int64_t> due;
};

// The rules, restated as simply as possible.
struct model {
    bool active = false;
    int phase = 1;
    std::string manager;
    std::vector<std::vector<model_item>> items;  // [phase][item]
    std::vector<std::int64_t> entered;           // per phase, 0 = not yet
    std::vector<std::int64_t> window_min;        // per phase, 0 = no window
    int releases = 0;

    void start(const checklist::checklist_template& t, const std::string& by, std::int64_t now) {
        active = true;
        phase = 1;
        manager = by;
        items.clear();
        entered.assign(t.phases.size(), 0);
        window_min.clear();
        for (const auto& p : t.phases) {
            items.emplace_back(p.items.size());
            window_min.push_back(p.window ? p.window->min.count() : 0);
        }
        entered[0] = now;
        ++releases;
    }
    bool boss(const std::string& u) const { return u == manager || u == "UADMIN"; }
    bool may_item(const std::string& u, int p, int i) const {
        return boss(u) || (!items[p][i].owner.empty() && items[p][i].owner == u);
    }
    bool gate_open(std::int64_t now) const {
        for (const auto& it : items[phase - 1]) {
            if (it.state == item_state::open || it.state == item_state::blocked) {
                return false;
            }
        }
        return now >= entered[phase - 1] + window_min[phase - 1];
    }
    bool last() const { return phase == static_cast<int>(items.size()); }
};

// Timeline rows of the release, through the port.
int audit_rows(storage::engine& e, std::int64_t release_id) {
    return static_cast<int>(e.audit().audit_for(release_id).size());
}

}  // namespace

TEST_CASE("ten thousand random commands: the store and the model agree after every step",
          "[storage]") {
    // Both seeds on SQLite, one on PostgreSQL (a step there is a few round trips).
    auto [kind, seed] = GENERATE(std::pair{test::engine_kind::sqlite, 20261126u},
                                 std::pair{test::engine_kind::sqlite, 7u},
                                 std::pair{test::engine_kind::postgres, 20261126u});
    INFO(test::name_of(kind) << ", seed " << seed);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };

    test::fresh_store db(kind);
    auto connection = db.connect();
    auto& store = connection->engine();
    checklist::template_library templates;
    const auto& tpl = *templates.find("standard");
    std::vector<std::string> admins = {"UADMIN"};
    model m;
    std::int64_t now = 1'795'000'000;
    int forced_moves = 0;
    int gated_moves = 0;
    int changes = 0;

    for (int step = 0; step < 10'000; ++step) {
        now += pick(4) == 0 ? 30 * 3600 : pick(3600);
        const auto& user = people[static_cast<std::size_t>(pick(static_cast<int>(people.size())))];
        // A position: mostly in the current phase, sometimes anywhere, rarely nonsense.
        int p =
            m.active ? (pick(4) == 0 ? pick(static_cast<int>(m.items.size())) : m.phase - 1) : 0;
        int i = m.active ? pick(static_cast<int>(m.items[static_cast<std::size_t>(p)].size())) : 0;
        bool bogus = pick(25) == 0;
        std::string ref = bogus ? "9.9" : std::to_string(p + 1) + "." + std::to_string(i + 1);
        auto owner_pick = pick(2) == 0 ? "UOWN1" : "UOWN2";

        std::string text;
        bool expect_change = false;
        auto item_cmd = [&](const std::string& verb, std::optional<item_state> to) {
            text = verb + " " + ref +
                   (verb == "skip" || verb == "block" || verb == "note" ? " because" : "");
            if (!m.active || bogus || !m.may_item(user, p, i) || !to) {
                return;
            }
            expect_change = true;
        };
        int kind = pick(100);
        model_item nothing;  // stands in for the item when there is none
        auto& cell = m.active && !bogus
                         ? m.items[static_cast<std::size_t>(p)][static_cast<std::size_t>(i)]
                         : nothing;
        std::optional<item_state> to;
        std::optional<std::int64_t> new_due;
        if (kind < 30) {
            to = cell.state == item_state::done ? std::nullopt : std::optional(item_state::done);
            item_cmd("check", to);
        } else if (kind < 37) {
            to = (cell.state == item_state::done || cell.state == item_state::skipped)
                     ? std::optional(item_state::open)
                     : std::nullopt;
            item_cmd("uncheck", to);
        } else if (kind < 45) {
            to = (cell.state == item_state::open || cell.state == item_state::blocked)
                     ? std::optional(item_state::skipped)
                     : std::nullopt;
            item_cmd("skip", to);
        } else if (kind < 52) {
            to = (cell.state == item_state::open || cell.state == item_state::blocked)
                     ? std::optional(item_state::blocked)
                     : std::nullopt;
            item_cmd("block", to);
        } else if (kind < 57) {
            to = cell.state == item_state::blocked ? std::optional(item_state::open) : std::nullopt;
            item_cmd("unblock", to);
        } else if (kind < 60) {
            to = cell.state;
            item_cmd("note", to);
        } else if (kind < 72) {
            bool with_due = pick(2) == 0;
            text = "assign " + ref + " <@" + owner_pick + ">" + (with_due ? " due 2h" : "");
            new_due = with_due ? std::optional<std::int64_t>(now + 7200) : std::nullopt;
            expect_change = m.active && !bogus && m.boss(user) &&
                            (cell.owner != owner_pick || cell.due != new_due);
        } else if (kind < 82) {
            bool force = pick(4) == 0;
            text = force ? "next force because" : "next";
            expect_change = m.active && m.boss(user) && !m.last() && (force || m.gate_open(now));
        } else if (kind < 85) {
            text = "finish";
            expect_change = m.active && m.boss(user) && m.last() && m.gate_open(now);
        } else if (kind < 86) {
            text = pick(2) == 0 ? "finish force done enough" : "abort changed plans";
            expect_change = m.active && m.boss(user);
        } else if (kind < 90) {
            text = "start v" + std::to_string(step);
            expect_change = !m.active;
        } else if (kind < 92) {
            text = "manager <@" + std::string(owner_pick) + ">";
            expect_change = m.active && m.boss(user) && m.manager != owner_pick;
        } else if (kind < 94) {
            text = "rollback too many errors";
            expect_change = m.active && m.boss(user);
        } else if (kind < 95) {
            text = "handoff <@UOWN1> <@UOWN2>";
            expect_change = m.active && m.boss(user);
        } else if (kind < 96) {
            text = "remind";
            expect_change = m.active && m.boss(user);
        } else {
            text = pick(2) == 0 ? "status" : "list";
        }
        INFO("step " << step << ": " << user << " /release " << text);

        auto before = store.releases().active_release(channel);
        int audit_before = before ? audit_rows(store, before->id) : 0;
        commands::outcome out;
        {
            auto tx = store.work().begin();
            commands::context ctx{store, templates, admins};
            out = commands::route({"T1", channel, user, text, now, "", ""}, ctx);
            tx->commit();
        }
        REQUIRE(out.changed == expect_change);
        // Anything that is neither a change nor a read is refused, with a reason.
        bool is_read = text == "status" || text == "list";
        REQUIRE(out.refused == (!expect_change && !(is_read && m.active) && !(text == "list")));
        if (out.refused) {
            REQUIRE_FALSE(out.reply.text.empty());
        }

        // Apply the same to the model.
        if (expect_change) {
            ++changes;
            if (text.starts_with("check") || text.starts_with("uncheck") ||
                text.starts_with("skip") || text.starts_with("block") ||
                text.starts_with("unblock")) {
                cell.state = *to;
            } else if (text.starts_with("assign")) {
                cell.owner = owner_pick;
                cell.due = new_due;
            } else if (text.starts_with("next")) {
                (text == "next" ? gated_moves : forced_moves) += 1;
                m.phase += 1;
                m.entered[static_cast<std::size_t>(m.phase - 1)] = now;
            } else if (text.starts_with("finish") || text.starts_with("abort")) {
                m.active = false;
            } else if (text.starts_with("start")) {
                m.start(tpl, user, now);
            } else if (text.starts_with("manager")) {
                m.manager = owner_pick;
            }
        }

        // Invariants: every change has audit rows; a phase moves only by gate or recorded force.
        if (before && expect_change) {
            auto timeline = store.audit().audit_for(before->id);
            REQUIRE(static_cast<int>(timeline.size()) > audit_before);
            if (text.starts_with("next force")) {
                // Among the rows this step added: the force, with its reason.
                int forced = 0;
                for (auto k = static_cast<std::size_t>(audit_before); k < timeline.size(); ++k) {
                    forced += timeline[k].action == "phase.forced" && timeline[k].note == "because";
                }
                REQUIRE(forced == 1);
            }
        } else if (before) {
            REQUIRE(audit_rows(store, before->id) == audit_before);
        }

        // The store and the model agree.
        auto after = store.releases().active_release(channel);
        REQUIRE(after.has_value() == m.active);
        if (after) {
            REQUIRE(after->current_phase == m.phase);
            REQUIRE(after->manager == m.manager);
            for (std::size_t ph = 0; ph < m.items.size(); ++ph) {
                for (std::size_t it = 0; it < m.items[ph].size(); ++it) {
                    INFO("item " << ph + 1 << "." << it + 1);
                    REQUIRE(after->phases[ph].items[it].state == m.items[ph][it].state);
                    REQUIRE(after->phases[ph].items[it].owner == m.items[ph][it].owner);
                }
            }
        }
    }
    // The walk must actually have exercised the interesting paths.
    CHECK(m.releases >= 5);
    CHECK(gated_moves >= 10);
    CHECK(forced_moves >= 10);
    CHECK(changes >= 1500);
}

}  // namespace storage_model_test
