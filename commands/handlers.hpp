// Private to commands/: the handler of each `/release` subcommand and the helpers they share.
// The handlers live by family in handlers_items.cpp (the item commands), handlers_release.cpp
// (the release's lifecycle) and handlers_read.cpp (help, status, list, report); router.cpp
// dispatches to them and defines the shared helpers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "checklist/item_ref.hpp"
#include "checklist/rules.hpp"
#include "commands/parse.hpp"
#include "commands/router.hpp"

namespace relbot::commands::handlers {

// --- shared helpers (router.cpp) -------------------------------------------------------------

outcome refuse(std::string name, std::string_view text);
outcome done(std::string name, message reply, bool changed = true);
outcome no_active(std::string name);
checklist::actor actor_of(const request& req, const context& ctx);
const checklist::item& item_at(const checklist::release& r, checklist::item_pos p);
// The item `ref` names, or the reply that says why not (with candidates or the closest).
std::variant<checklist::item_pos, outcome> find_item(const checklist::release& r,
                                                     const std::string& ref,
                                                     const std::string& name);
void announce(context& ctx,
              const checklist::release& r,
              const std::string& key,
              const message& m,
              checklist::epoch_seconds now);
std::int64_t save(context& ctx,
                  const request& req,
                  const checklist::release& r,
                  const checklist::change_log& log);
// A sentence about the gate after an item changed: says when the phase can be left.
std::string gate_hint(const checklist::release& r, checklist::epoch_seconds now);
// The open (or blocked) items of the current phase, by owner.
std::map<std::string, std::vector<const checklist::item*>> open_items_by_owner(
    const checklist::release& r);

// --- handlers --------------------------------------------------------------------------------

// handlers_read.cpp
outcome handle(const help_command&, const request&, context&);
outcome handle(const status_command&, const request& req, context& ctx);
outcome handle(const list_command&, const request& req, context& ctx);
outcome handle(const report_command& c, const request& req, context& ctx);

// handlers_items.cpp
outcome handle(const check_command& c, const request& req, context& ctx);
outcome handle(const uncheck_command& c, const request& req, context& ctx);
outcome handle(const skip_command& c, const request& req, context& ctx);
outcome handle(const block_command& c, const request& req, context& ctx);
outcome handle(const unblock_command& c, const request& req, context& ctx);
outcome handle(const note_command& c, const request& req, context& ctx);
outcome handle(const assign_command& c, const request& req, context& ctx);

// handlers_release.cpp
outcome handle(const start_command& c, const request& req, context& ctx);
outcome handle(const next_command& c, const request& req, context& ctx);
outcome handle(const rollback_command& c, const request& req, context& ctx);
outcome handle(const handoff_command& c, const request& req, context& ctx);
outcome handle(const accept_command&, const request& req, context& ctx);
outcome handle(const manager_command& c, const request& req, context& ctx);
outcome handle(const finish_command& c, const request& req, context& ctx);
outcome handle(const abort_command& c, const request& req, context& ctx);
outcome handle(const remind_command&, const request& req, context& ctx);

// router.cpp
outcome handle(const usage_error& e, const request&, context&);

}  // namespace relbot::commands::handlers
