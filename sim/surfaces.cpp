// What one person sees in the sandbox, for the web page (see server::surfaces_of).
#include <algorithm>

#include "sim/cast.hpp"
#include "sim/server_impl.hpp"

namespace relbot::sim {
namespace {

json row(const std::string& channel,
         const std::string& ts,
         const json& message,
         bool ephemeral,
         bool pinned) {
    return {{"channel", channel},     {"ts", ts},         {"message", message},
            {"ephemeral", ephemeral}, {"pinned", pinned}, {"edited", message.contains("edited")}};
}

bool older(const json& a, const json& b) {
    return a.value("ts", "") < b.value("ts", "");
}

}  // namespace

json server::surfaces_of(const std::string& user, const std::string& channel) const {
    const auto& s = *impl_;
    json out = {{"channel", json::array()},
                {"dm", json::array()},
                {"home", nullptr},
                {"modal", nullptr},
                {"modal_errors", json::object()}};
    auto list = [&](const std::string& id, json& into) {
        if (auto ch = s.messages.find(id); ch != s.messages.end()) {
            for (const auto& [ts, m] : ch->second) {
                into.push_back(row(id, ts, m, false, s.pins.contains({id, ts})));
            }
        }
    };
    list(channel, out["channel"]);
    if (auto mine = s.ephemerals.find(user); mine != s.ephemerals.end()) {
        for (const auto& [ts, m] : mine->second) {
            if (m.value("channel", "") == channel) {
                out["channel"].push_back(row(channel, ts, m, true, false));
            }
        }
    }
    std::sort(out["channel"].begin(), out["channel"].end(), older);
    auto dm = dm_channel_of(user);
    list(dm, out["dm"]);
    // A click in the DM is answered through its response_url: only they see it, in the DM.
    if (auto mine = s.ephemerals.find(user); mine != s.ephemerals.end()) {
        for (const auto& [ts, m] : mine->second) {
            if (m.value("channel", "") == dm) {
                out["dm"].push_back(row(dm, ts, m, true, false));
            }
        }
    }
    std::sort(out["dm"].begin(), out["dm"].end(), older);
    if (auto h = s.home_of.find(user); h != s.home_of.end()) {
        if (auto v = s.views.find(h->second); v != s.views.end()) {
            out["home"] = v->second.view;
        }
    }
    if (auto m = s.modal_of.find(user); m != s.modal_of.end()) {
        if (auto v = s.views.find(m->second); v != s.views.end()) {
            out["modal"] = v->second.view;
            out["modal_errors"] = v->second.errors;
        }
    }
    return out;
}

}  // namespace relbot::sim
