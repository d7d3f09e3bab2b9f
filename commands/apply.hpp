// The shell around the decisions, and the one file of commands/ that sees storage: for any
// input (a slash command today; clicks, timers and CI signals later) it picks a write or a read
// transaction, loads the channel's release, calls the input's decide function, writes the
// decision (state, timeline rows, outbox rows) and the record of the applied input in that one
// transaction, commits, and returns the acknowledgement. Decides nothing itself.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "checklist/template.hpp"
#include "commands/decision.hpp"
#include "commands/interaction.hpp"
#include "commands/parse.hpp"
#include "commands/render/files.hpp"

namespace relbot::storage {
class engine;
using lock_deadline = std::chrono::steady_clock::time_point;
}  // namespace relbot::storage

namespace relbot::commands {

// What the shell needs to know of an input besides its decide function. Views: the caller's
// strings outlive the call.
struct input {
    std::string_view channel;  // the snapshot is this channel's active release
    std::string_view actor;    // who the timeline rows name
    checklist::epoch_seconds now = 0;
    // May write: runs in one write transaction (BEGIN IMMEDIATE, so a locked database is found
    // before anything is done). Otherwise no transaction: the database strand is the only writer,
    // so reads agree, and most come from the store's cache of committed releases.
    bool writes = true;
    bool needs_release = true;      // load the channel's active release as the snapshot
    std::string_view channel_name;  // remembered in the write transaction when not empty
    // The record that makes a redelivery harmless ("envelope:<id>"); empty: none.
    std::string_view applied_key;
    // Whether a refusal is recorded under `applied_key` too (a signal: a repeated id gets its
    // first answer, whatever it was). Otherwise only a change is, and a refused command sent
    // again is decided again.
    bool record_refusals = false;
    // Not 0: the snapshot is this release, whatever its state, and not the channel's active
    // release (a click names the release it acts on).
    std::int64_t release_id = 0;
};

// A non-owning reference to a decide function, `decision(const snapshot&, const lookups&)`:
// the callable must outlive the call it is passed to.
class decide_ref {
public:
    template <typename F>
    requires std::is_invocable_r_v<decision, const F&, const snapshot&, const lookups&> decide_ref(
        const F& f)  // NOLINT: implicit by design, like std::function_ref
        : object_(&f), call_([](const void* o, const snapshot& active, const lookups& look) {
              return (*static_cast<const F*>(o))(active, look);
          }) {}

    decision operator()(const snapshot& active, const lookups& look) const {
        return call_(object_, active, look);
    }

private:
    const void* object_;
    decision (*call_)(const void*, const snapshot&, const lookups&);
};

// What one input came to.
struct applied {
    slack::json_text ack_json;  // the acknowledgement's payload (JSON text)
    std::string name;           // the decision's name ("check", "bad_input")
    bool refused = false;
    bool changed = false;  // the decision wrote something, and it is committed
    // The commit wrote more than the timeline and the redelivery record: the notifier or the
    // scheduler may have something to do (storage::unit_of_work::last_commit_changed_state).
    bool state_changed = false;
    // The input was applied before: `ack_json` is the first reply and nothing was written.
    bool redelivered = false;
    // Messages were queued (the notifier has something to send).
    bool queued = false;
    // A modal to open now with the input's trigger_id; null: none.
    nlohmann::json open_view;
    std::string limit_hit;  // outcome::limit_hit
};

class store_lookups;

// One per storage engine, on the loop thread. May throw what the store throws (storage::busy_error
// when the database stays locked): the transaction then rolls back and nothing is written.
class shell {
public:
    // None is owned; all must outlive the shell. `settings` null: no RELBOT_FREEZE windows,
    // not one deployment at a time.
    shell(storage::engine& store,
          const checklist::template_library& templates,
          const std::vector<std::string>& admins,
          const policy_settings* settings = nullptr);
    ~shell();
    shell(const shell&) = delete;
    shell& operator=(const shell&) = delete;

    // Any input: load, `decide`, write, record, commit. Inside a unit of work the caller
    // holds (group commit), the input gets a savepoint of its own instead: a failure rolls
    // back this input alone, and its commit is the caller's.
    applied apply(const input& in, decide_ref decide);
    // A `/release` command as Slack delivered it; `applied_key` is its redelivery record.
    applied apply_command(const request& req, std::string_view applied_key);
    // The same, for a command already parsed from req.text.
    applied apply_command(const command& parsed, const request& req, std::string_view applied_key);
    // From now on, a write that must begin its own transaction waits for the write lock
    // until `give_up_at` at most (storage::busy_error then); nullopt: the store's default.
    void give_up_at(std::optional<storage::lock_deadline> give_up_at) { give_up_at_ = give_up_at; }
    // A click on one of relbot's controls, or a modal submitted, at `now`; `envelope_id` names
    // it (its redelivery record is "envelope:<id>").
    applied apply_click(const click& c, std::string_view envelope_id, checklist::epoch_seconds now);
    applied apply_submission(const submission& sub,
                             std::string_view envelope_id,
                             checklist::epoch_seconds now);
    // What keeps `r` out of its deployment phase at `now` (a freeze window, another release
    // deploying), read from the store: what the living status message shows besides the
    // release. Reads only.
    deployment_outlook outlook(const checklist::release& r, checklist::epoch_seconds now);
    // The file a file row names (`body`, its release, its outbox key `key`), made now from the
    // store: the release's timeline PNG or full report, or the channel's trends. nullopt when
    // what it names is not there. Reads only.
    std::optional<upload_file> make_file(const std::string& body,
                                         std::optional<std::int64_t> release_id,
                                         const std::string& key,
                                         checklist::epoch_seconds now);

private:
    // The first reply if the input was applied before (then nothing must be committed);
    // otherwise records this one when it changed something.
    std::optional<std::string> earlier_reply(const input& in, const outcome& out);

    storage::engine& store_;
    std::unique_ptr<store_lookups> lookups_;
    status_memo statuses_;
    std::optional<storage::lock_deadline> give_up_at_;
};

// What runs one command inside a transaction the caller holds (tests, tools): the store, and
// what the lookups answer besides it. Not owned.
struct context {
    storage::engine& store;
    const checklist::template_library& templates;
    const std::vector<std::string>& admins;
    status_memo* statuses = nullptr;            // optional: renders every status when absent
    const policy_settings* settings = nullptr;  // optional: none when absent
};

// Loads, decides and writes one command in the caller's transaction (no redelivery record);
// `ack_json` of the result is set. May throw what the store throws.
outcome route(const request& req, context& ctx);
// The same, for a command already parsed from req.text.
outcome route(const command& parsed, const request& req, context& ctx);

}  // namespace relbot::commands
