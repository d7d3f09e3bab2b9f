// relbot-sim and relbot as child processes for the end-to-end tests.
#include "support/sandbox.hpp"

#include <signal.h>

#include <stdexcept>

namespace relbot::test {

sandbox::sandbox(const temp_dir& dir, std::vector<std::string> extra_args)
    : proc_(
          [&] {
              std::vector<std::string> argv = {RELBOT_SIM_BIN, "--ca-file", dir.file("sim-ca.pem")};
              argv.insert(argv.end(), extra_args.begin(), extra_args.end());
              return argv;
          }(),
          current_environment(),
          dir.path()) {
    auto ready = wait_event("ready", after(std::chrono::seconds(10)));
    if (!ready) {
        throw std::runtime_error("relbot-sim did not report ready");
    }
    api_url_ = (*ready)["api_url"].get<std::string>();
    ca_file_ = (*ready)["ca_file"].get<std::string>();
}

void sandbox::send(const json& op) {
    proc_.write_line(op.dump());
}

std::optional<json> sandbox::wait_for(const std::function<bool(const json&)>& match,
                                      deadline until) {
    for (std::size_t i = 0; i < events_.size(); ++i) {
        if (!matched_[i] && match(events_[i])) {
            matched_[i] = true;
            return events_[i];
        }
    }
    while (auto line = proc_.read_stdout_line(until)) {
        auto event = json::parse(*line, nullptr, false);
        if (event.is_discarded()) {
            continue;
        }
        events_.push_back(event);
        matched_.push_back(match(event));
        if (matched_.back()) {
            return event;
        }
    }
    return std::nullopt;
}

std::optional<json> sandbox::wait_event(const std::string& name, deadline until) {
    return wait_for([&](const json& e) { return e.value("event", "") == name; }, until);
}

std::string sandbox::slash_command(const std::string& text,
                                   const std::string& channel,
                                   const std::string& user,
                                   const json& extra) {
    json op = {{"op", "slash_command"}, {"text", text}, {"channel_id", channel}, {"user_id", user}};
    op.update(extra);
    if (!op.contains("envelope_id")) {
        op["envelope_id"] = "e2e-env-" + std::to_string(next_envelope_++);
    }
    send(op);
    return op["envelope_id"].get<std::string>();
}

std::optional<json> sandbox::wait_ack(const std::string& envelope_id,
                                      std::chrono::milliseconds within) {
    return wait_for(
        [&](const json& e) {
            return e.value("event", "") == "ack" && e.value("envelope_id", "") == envelope_id;
        },
        after(within));
}

std::vector<json> sandbox::calls(const std::string& method) {
    send({{"op", "calls"}, {"method", method}});
    auto reply = wait_event("calls", after(std::chrono::seconds(5)));
    if (!reply) {
        throw std::runtime_error("relbot-sim did not answer the calls op");
    }
    return (*reply)["calls"].get<std::vector<json>>();
}

std::string outbox_key(const json& call) {
    return call["args"]
        .value("metadata", json::object())
        .value("event_payload", json::object())
        .value("key", "");
}

std::vector<json> sandbox::announcements() {
    std::vector<json> out;
    for (auto& call : calls("chat.postMessage")) {
        auto key = outbox_key(call);
        if (!key.starts_with("status")) {
            out.push_back(std::move(call));
        }
    }
    return out;
}

std::map<std::string, std::string> bot_environment(const temp_dir& dir, const sandbox& sim) {
    auto env = current_environment();
    std::erase_if(env, [](const auto& kv) {
        return kv.first.starts_with("SLACK_") || kv.first.starts_with("RELBOT_") ||
               kv.first.starts_with("SSL_CERT_");
    });
    env["SLACK_APP_TOKEN"] = app_token;
    env["SLACK_BOT_TOKEN"] = bot_token;
    env["SLACK_API_URL"] = sim.api_url();
    env["SSL_CERT_FILE"] = sim.ca_file();
    env["RELBOT_DB"] = dir.file("relbot.db");
    env["RELBOT_LOG_LEVEL"] = "debug";
    return env;
}

bot::bot(const temp_dir& dir, const sandbox& sim, std::map<std::string, std::string> overrides)
    : proc_(
          {RELBOT_BIN},
          [&] {
              auto env = bot_environment(dir, sim);
              for (auto& [k, v] : overrides) {
                  if (v.empty()) {
                      env.erase(k);
                  } else {
                      env[k] = v;
                  }
              }
              return env;
          }(),
          dir.path()) {}

std::optional<int> bot::stop() {
    proc_.signal(SIGTERM);
    return proc_.wait_exit(after(std::chrono::seconds(10)));
}

std::string message_text(const json& body) {
    std::string out = body.value("text", "");
    if (auto blocks = body.find("blocks"); blocks != body.end() && blocks->is_array()) {
        for (const auto& b : *blocks) {
            if (b.contains("text") && b["text"].is_object()) {
                out += "\n" + b["text"].value("text", "");
            }
            for (const auto& e : b.value("elements", json::array())) {
                auto t = e.is_object() ? e.find("text") : e.end();
                if (t != e.end() && t->is_string()) {
                    out += "\n" + t->get<std::string>();  // a context element
                } else if (t != e.end() && t->is_object()) {
                    out += "\n" + t->value("text", "");  // a button's label
                }
            }
        }
    }
    return out;
}

}  // namespace relbot::test
