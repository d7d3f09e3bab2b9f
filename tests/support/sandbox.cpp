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

bool sandbox::wait_until(const std::function<bool()>& check, deadline until) {
    while (!check()) {
        auto line = proc_.read_stdout_line(until);
        if (!line) {
            return check();
        }
        auto event = json::parse(*line, nullptr, false);
        if (!event.is_discarded()) {
            events_.push_back(event);
            matched_.push_back(false);
        }
    }
    return true;
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

std::string sandbox::send_and_wait(json op, const std::string& done) {
    auto name = op.value("op", "");
    if (!op.contains("envelope_id")) {
        op["envelope_id"] = "e2e-" + name + "-" + std::to_string(next_envelope_++);
    }
    auto id = op["envelope_id"].get<std::string>();
    send(op);
    auto answer = wait_for(
        [&](const json& e) {
            auto event = e.value("event", "");
            return (event == done && e.value("envelope_id", "") == id) ||
                   (event == "error" && e.value("op", "") == name);
        },
        after(std::chrono::seconds(5)));
    if (!answer) {
        throw std::runtime_error("relbot-sim did not answer the " + name + " op");
    }
    if ((*answer)["event"] == "error") {
        throw std::runtime_error(name + ": " + answer->value("error", ""));
    }
    return id;
}

std::string sandbox::click(const std::string& user, const std::string& label, const json& where) {
    json op = {{"op", "click"}, {"user_id", user}, {"label", label}};
    op.update(where);
    return send_and_wait(op, "click_sent");
}

void sandbox::redeliver(const std::string& envelope_id, int attempt) {
    send_and_wait({{"op", "click"}, {"envelope_id", envelope_id}, {"retry_attempt", attempt}},
                  "click_sent");
}

std::string sandbox::submit(const std::string& user, const json& values) {
    return send_and_wait({{"op", "submit"}, {"user_id", user}, {"values", values}}, "submit_sent");
}

std::string sandbox::home_opened(const std::string& user) {
    return send_and_wait({{"op", "home_opened"}, {"user_id", user}}, "home_opened");
}

void sandbox::expire_triggers(bool from_now) {
    ask({{"op", "expire_triggers"}, {"from_now", from_now}}, "triggers_expired");
}

std::optional<json> sandbox::wait_view_errors(const std::string& user,
                                              std::chrono::milliseconds within) {
    auto e = wait_for(
        [&](const json& e) {
            return e.value("event", "") == "view_errors" && e.value("user_id", "") == user;
        },
        after(within));
    return e ? std::optional<json>((*e)["errors"]) : std::nullopt;
}

std::optional<json> sandbox::wait_modal(const std::string& user, std::chrono::milliseconds within) {
    auto e = wait_for(
        [&](const json& e) {
            return e.value("event", "") == "view_opened" && e.value("user_id", "") == user;
        },
        after(within));
    return e ? std::optional<json>((*e)["view"]) : std::nullopt;
}

std::optional<json> sandbox::wait_home(const std::string& user, std::chrono::milliseconds within) {
    auto e = wait_for(
        [&](const json& e) {
            return e.value("event", "") == "home_published" && e.value("user_id", "") == user;
        },
        after(within));
    return e ? std::optional<json>((*e)["view"]) : std::nullopt;
}

json sandbox::ask(const json& op, const std::string& answer) {
    send(op);
    auto reply = wait_event(answer, after(std::chrono::seconds(5)));
    if (!reply) {
        throw std::runtime_error("relbot-sim did not answer the " + op.value("op", "") + " op");
    }
    return *reply;
}

json sandbox::open_view(const std::string& user) {
    return ask({{"op", "view_of"}, {"user_id", user}, {"kind", "modal"}}, "view")["view"];
}

json sandbox::home_view(const std::string& user) {
    return ask({{"op", "view_of"}, {"user_id", user}, {"kind", "home"}}, "view")["view"];
}

std::vector<json> sandbox::dm_messages(const std::string& user) {
    return ask({{"op", "messages"}, {"user_id", user}, {"in", "dm"}}, "messages")["messages"]
        .get<std::vector<json>>();
}

std::vector<json> sandbox::ephemeral_messages(const std::string& user) {
    return ask({{"op", "messages"}, {"user_id", user}, {"in", "ephemeral"}}, "messages")["messages"]
        .get<std::vector<json>>();
}

std::optional<json> sandbox::last_ephemeral(const std::string& user) {
    auto all = ephemeral_messages(user);
    return all.empty() ? std::nullopt : std::optional<json>(all.back());
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

std::string run_relbot(const std::vector<std::string>& args,
                       const temp_dir& dir,
                       std::map<std::string, std::string> env,
                       int& status,
                       std::string* err) {
    std::vector<std::string> argv = {RELBOT_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    process p(argv, std::move(env), dir.path());
    p.close_stdin();
    std::string out;
    while (auto line = p.read_stdout_line(after(std::chrono::seconds(30)))) {
        out += *line + "\n";
    }
    auto code = p.wait_exit(after(std::chrono::seconds(30)));
    if (!code) {
        throw std::runtime_error("relbot " + (args.empty() ? std::string() : args[0]) +
                                 " did not exit within 30 s");
    }
    status = *code;
    if (err != nullptr) {
        for (const auto& line : p.stderr_lines()) {
            *err += line + "\n";
        }
    }
    return out;
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
