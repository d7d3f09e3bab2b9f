// The shell: transaction, snapshot, decide, write, redelivery record, commit. The only file of
// commands/ that includes a storage/ header.
#include "commands/apply.hpp"

#include <algorithm>
#include <cassert>
#include <nlohmann/json.hpp>

#include "checklist/checkpoints.hpp"
#include "commands/clicks.hpp"
#include "commands/render.hpp"
#include "commands/router.hpp"
#include "storage/open.hpp"

namespace relbot::commands {

// The lookups a decision may make, answered by the store in the input's transaction.
class store_lookups final : public lookups {
public:
    store_lookups(storage::engine& store,
                  const checklist::template_library& templates,
                  const std::vector<std::string>& admins,
                  const policy_settings* settings)
        : store_(store), templates_(templates), admins_(admins), settings_(settings) {}

    const checklist::template_library& templates() const override { return templates_; }
    bool is_admin(std::string_view user) const override {
        return std::find(admins_.begin(), admins_.end(), user) != admins_.end();
    }
    std::optional<checklist::release> release_by_version(std::string_view channel,
                                                         std::string_view version) const override {
        return store_.releases().release_by_version(channel, version);
    }
    std::optional<checklist::release> latest_release(std::string_view channel) const override {
        return store_.releases().latest_release(channel);
    }
    std::optional<checklist::release> release(std::int64_t id) const override {
        return store_.releases().load_release(id);
    }
    std::vector<checklist::audit_entry> timeline(std::int64_t release_id) const override {
        return store_.audit().audit_for(release_id);
    }
    std::vector<checklist::release_summary> list_releases(std::string_view channel,
                                                          int limit) const override {
        return store_.releases().list_releases(channel, limit);
    }
    std::unordered_map<std::string, std::string> user_names() const override {
        return store_.people().user_names();
    }
    std::optional<int> time_zone_offset(std::string_view user) const override {
        return store_.people().time_zone_offset(user);
    }
    std::map<std::int64_t, checklist::epoch_seconds> first_reminders(
        std::int64_t release_id) const override {
        return store_.reminders().first_reminders(release_id);
    }
    const policy_settings& settings() const override {
        return settings_ != nullptr ? *settings_ : lookups::settings();
    }
    std::optional<std::pair<std::string, std::string>> deploying_elsewhere(
        std::string_view channel) const override {
        return store_.releases().deploying_elsewhere(channel);
    }

private:
    storage::engine& store_;  // the engine's reads are not const (caches, statement leases)
    const checklist::template_library& templates_;
    const std::vector<std::string>& admins_;
    const policy_settings* settings_;  // null: none
};

namespace {

// Writes what `d` decided, in the caller's transaction: the new release (then its timeline
// rows) or the changed state with its rows, then the messages with their keys completed by the
// ids just written. The release to insert gets its ids.
void write(storage::engine& store, decision& d, const input& in) {
    std::int64_t release_id = 0;
    std::int64_t last_audit_id = 0;
    if (d.insert) {
        store.releases().insert_release(*d.insert);  // fills in the ids
        release_id = d.insert->id;
        last_audit_id = store.releases().save(*d.insert, d.log, in.actor, in.now);
    } else if (d.state) {
        release_id = d.state->id;
        last_audit_id = store.releases().save(d.state, d.log, in.actor, in.now);
    }
    for (const auto& m : d.messages) {
        store.outbox().enqueue_in_unit(m.complete(release_id, last_audit_id), in.now);
    }
}

// Whether `r` is in its deployment phase (what one deployment at a time counts).
bool deploying(const checklist::release* r) {
    if (r == nullptr || r->status != checklist::release_status::active) {
        return false;
    }
    auto deploy = checklist::deployment_phase(*r);
    return deploy && static_cast<std::size_t>(r->current_phase) == *deploy + 1;
}

// Loads the snapshot, decides and writes, in the caller's transaction (when it writes).
outcome decide_and_write(storage::engine& store,
                         const lookups& look,
                         const input& in,
                         decide_ref decide) {
    if (in.writes && !in.channel_name.empty()) {
        // A write only when the name is new or changed.
        store.people().remember_channel_name(in.channel, in.channel_name);
    }
    snapshot active;
    if (in.release_id != 0) {
        if (auto r = store.releases().load_release(in.release_id)) {
            active = std::make_shared<const checklist::release>(std::move(*r));
        }
    } else if (in.needs_release) {
        active = store.releases().active_release_view(in.channel);
    }
    auto d = decide(active, look);
    // An input that only reads decides nothing to write.
    assert(in.writes || (!d.insert && !d.state && d.messages.empty()));
    if (in.writes) {
        write(store, d, in);
        // With one deployment at a time, a release entering or leaving its deployment phase
        // changes what the other releases' status messages say ("waiting for …").
        const auto* after = d.insert ? &*d.insert : d.state ? d.state.get() : nullptr;
        if (after && look.settings().one_deploy_at_a_time &&
            deploying(active.get()) != deploying(after)) {
            store.status().statuses_behind(after->id, 0);
        }
    }
    auto out = std::move(d.answer);
    out.queued = in.writes && !d.messages.empty();
    if (out.ack_json.empty()) {
        out.ack_json = ack_payload_json(out.reply, out.in_channel);
        out.ack_of_reply = true;
    }
    return out;
}

input input_of(const command& parsed, const request& req, std::string_view applied_key) {
    return {req.channel,           req.user,         req.now,    may_write(parsed),
            needs_release(parsed), req.channel_name, applied_key};
}

}  // namespace

shell::shell(storage::engine& store,
             const checklist::template_library& templates,
             const std::vector<std::string>& admins,
             const policy_settings* settings)
    : store_(store),
      lookups_(std::make_unique<store_lookups>(store, templates, admins, settings)) {}

shell::~shell() = default;

applied shell::apply(const input& in, decide_ref decide) {
    std::unique_ptr<storage::write_transaction> tx;
    if (in.writes) {
        tx = give_up_at_ ? store_.work().begin_until(*give_up_at_) : store_.work().begin();
    }
    auto out = decide_and_write(store_, *lookups_, in, decide);
    if (auto prior = earlier_reply(in, out)) {
        tx.reset();  // rolls back whatever this second run did
        applied again;
        again.ack_json = std::move(*prior);
        again.name = std::move(out.name);
        again.redelivered = true;
        return again;
    }
    if (tx) {
        tx->commit();
    }
    applied done;
    done.ack_json = std::move(out.ack_json);
    done.name = std::move(out.name);
    done.refused = out.refused;
    done.changed = out.changed;
    done.state_changed = out.changed && store_.work().last_commit_changed_state();
    done.queued = out.queued;
    done.open_view = std::move(out.open_view);
    done.limit_hit = std::move(out.limit_hit);
    return done;
}

std::optional<std::string> shell::earlier_reply(const input& in, const outcome& out) {
    if (in.applied_key.empty() || !in.writes) {
        return std::nullopt;
    }
    // Only an input that changed something (or any, with record_refusals) is recorded with
    // its reply, in its own transaction; recording is also the lookup.
    if (out.changed || in.record_refusals) {
        auto plain =
            out.ack_of_reply ? plain_reply_record(out.reply, out.in_channel) : std::nullopt;
        if (store_.applied().record_applied(in.applied_key, plain ? *plain : out.ack_json.str(),
                                            in.now)) {
            return std::nullopt;
        }
    }
    auto prior = store_.applied().applied_reply(in.applied_key);
    if (!prior) {
        return std::nullopt;
    }
    auto payload = payload_of_record(std::move(*prior));
    if (!nlohmann::json::accept(payload)) {
        return dump_json(to_ack_payload(render_text("Already done.")));
    }
    return payload;
}

applied shell::apply_command(const request& req, std::string_view applied_key) {
    return apply_command(parse_command(req.text), req, applied_key);
}

applied shell::apply_command(const command& parsed,
                             const request& req,
                             std::string_view applied_key) {
    auto decide_command = [&](const snapshot& active, const lookups& look) {
        return decide(parsed, situation{req, active, look, &statuses_});
    };
    return apply(input_of(parsed, req, applied_key), decide_command);
}

deployment_outlook shell::outlook(const checklist::release& r, checklist::epoch_seconds now) {
    return outlook_for(r, *lookups_, now);
}

std::optional<upload_file> shell::make_file(const std::string& body,
                                            std::optional<std::int64_t> release_id,
                                            const std::string& key,
                                            checklist::epoch_seconds now) {
    auto args = nlohmann::json::parse(body, nullptr, false);
    if (!args.is_object()) {
        return std::nullopt;
    }
    auto kind = args.value("file", std::string());
    if (kind == file_trends) {
        auto channel = args.value("channel", std::string());
        auto count = args.value("count", 10);
        auto name = store_.people().channel_name(channel);
        auto trends = checklist::build_trends(finished_histories(*lookups_, channel, count), name);
        if (trends.releases.size() < 2) {
            return std::nullopt;
        }
        return make_trends_file(trends, name, key);
    }
    if (!release_id) {
        return std::nullopt;
    }
    auto r = store_.releases().load_release(*release_id);
    if (!r) {
        return std::nullopt;
    }
    std::vector<checklist::freeze_window> freezes;
    if (const auto* t = lookups_->templates().find(r->template_name)) {
        freezes = t->freezes;
    }
    return make_upload_file(kind, *r, store_.audit().audit_for(r->id), store_.people().user_names(),
                            freezes, store_.people().channel_name(r->channel), now, key);
}

applied shell::apply_click(const click& c,
                           std::string_view envelope_id,
                           checklist::epoch_seconds now) {
    auto key = "envelope:" + std::string(envelope_id);
    auto decide_click_on = [&](const snapshot& target, const lookups& look) {
        auto req = request_of_click(c, target, now, c.channel);
        return decide_click(c, situation{req, target, look, nullptr}, envelope_id);
    };
    input in;
    in.channel = c.channel;
    in.actor = c.user;
    in.now = now;
    in.needs_release = c.target.release_id != 0;
    in.release_id = c.target.release_id;
    in.applied_key = key;
    return apply(in, decide_click_on);
}

applied shell::apply_submission(const submission& sub,
                                std::string_view envelope_id,
                                checklist::epoch_seconds now) {
    auto key = "envelope:" + std::string(envelope_id);
    bool starting = sub.kind == controls::modal::start;
    auto channel = starting ? sub.value(controls::block_channel) : sub.origin.channel;
    auto decide_submitted = [&](const snapshot& target, const lookups& look) {
        auto req = request_of_click({}, target, now, channel);
        req.team = sub.team;
        req.user = sub.user;
        return decide_submission(sub, situation{req, target, look, nullptr}, envelope_id);
    };
    input in;
    in.channel = channel;
    in.actor = sub.user;
    in.now = now;
    in.release_id = starting ? 0 : sub.origin.target.release_id;
    in.needs_release = starting ? !channel.empty() : in.release_id != 0;
    in.applied_key = key;
    return apply(in, decide_submitted);
}

outcome route(const command& parsed, const request& req, context& ctx) {
    store_lookups look(ctx.store, ctx.templates, ctx.admins, ctx.settings);
    auto decide_command = [&](const snapshot& active, const lookups& l) {
        return decide(parsed, situation{req, active, l, ctx.statuses});
    };
    return decide_and_write(ctx.store, look, input_of(parsed, req, {}), decide_command);
}

outcome route(const request& req, context& ctx) {
    return route(parse_command(req.text), req, ctx);
}

}  // namespace relbot::commands
