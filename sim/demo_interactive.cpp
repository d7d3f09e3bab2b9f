// The demo's clicks, modals and App Home (see demo.hpp): `click <label> [<item>]` becomes the
// sandbox's click op; a modal relbot opens for the person is asked input by input on the
// prompt and submitted; `home` opens the App Home tab and draws what relbot publishes there.
#include <iostream>

#include "sim/demo.hpp"
#include "sim/terminal.hpp"

namespace relbot::sim {
namespace {

using json = nlohmann::json;

// How long a clicked `…` control may take to open its modal before typed lines go on.
constexpr auto modal_patience = std::chrono::seconds(3);

}  // namespace

bool demo::holding() const {
    return awaiting_modal_ || (modal_ && modal_->submitted);
}

void demo::send_click(const click_target& target) {
    auto id = srv_->new_envelope_id();
    unanswered_[id] = you_;
    sent_by_[id] = you_;
    if (target.label.ends_with("…")) {
        awaiting_modal_ = true;
        modal_wait_.emplace(ioc_);
        modal_wait_->expires_after(modal_patience);
        modal_wait_->async_wait([this](const boost::system::error_code& ec) {
            if (!ec && awaiting_modal_) {
                awaiting_modal_ = false;
                pump();
            }
        });
    }
    srv_->control({{"op", "click"},
                   {"envelope_id", id},
                   {"user_id", std::string(you_->id)},
                   {"label", target.label},
                   {"match", target.match},
                   {"option", target.option}});
}

void demo::open_home() {
    auto id = srv_->new_envelope_id();
    sent_by_[id] = you_;
    srv_->control({{"op", "home_opened"}, {"envelope_id", id}, {"user_id", std::string(you_->id)}});
    print("(you open relbot's App Home)\n");
}

void demo::start_modal(const json& view) {
    awaiting_modal_ = false;
    modal_ = modal_state{view.value("id", ""), view_inputs(view), {}, json::object(), false};
    for (std::size_t i = 0; i < modal_->inputs.size(); ++i) {
        modal_->to_ask.push_back(i);
    }
    print("\n" + render_view(view, color_) +
          ansi("(answer each field; an empty line skips an optional one; `cancel` closes)", "2",
               color_) +
          "\n");
    ask_next();
}

// Asks the next field, or submits when every field has its answer.
void demo::ask_next() {
    if (!modal_) {
        return;
    }
    if (!modal_->to_ask.empty()) {
        if (!interactive_) {
            const auto& in = modal_->inputs[modal_->to_ask.front()];
            // A label that asks already ("What blocks it?") is not asked twice.
            bool asks = !in.label.empty() && in.label.back() == '?';
            std::cout << "  " << in.label << (in.optional ? " (optional)" : "")
                      << (asks ? "\n" : "?\n");
        }
        prompt();
        pump();
        return;
    }
    modal_->submitted = true;
    srv_->control(
        {{"op", "submit"}, {"user_id", std::string(you_->id)}, {"values", modal_->answers}});
}

void demo::answer_modal(const std::string& line) {
    if (line == "cancel") {
        modal_.reset();
        print("(modal closed, nothing sent)\n");
        pump();
        return;
    }
    const auto& in = modal_->inputs[modal_->to_ask.front()];
    auto answer = read_modal_answer(in, line);
    if (auto* error = std::get_if<typed_error>(&answer)) {
        print("(sandbox) " + error->message + "\n");
        return;
    }
    auto value = std::get<json>(answer);
    if (!value.is_null()) {
        modal_->answers[in.block_id] = value;
    } else {
        modal_->answers.erase(in.block_id);
    }
    modal_->to_ask.erase(modal_->to_ask.begin());
    ask_next();
}

// The sandbox's events about interactions; true when handled here.
bool demo::on_interaction_event(const json& e) {
    auto type = e.value("event", "");
    bool mine = e.value("user_id", "") == you_->id;
    if (type == "view_opened" && mine) {
        start_modal(e["view"]);
    } else if (type == "view_updated" && mine && modal_ &&
               e.value("view_id", "") == modal_->view_id) {
        start_modal(e["view"]);
    } else if (type == "view_errors" && mine && modal_) {
        std::string said;
        modal_->to_ask.clear();
        for (std::size_t i = 0; i < modal_->inputs.size(); ++i) {
            auto& errors = e["errors"];
            if (errors.contains(modal_->inputs[i].block_id)) {
                const auto& why = errors[modal_->inputs[i].block_id];
                said += "  " + modal_->inputs[i].label + ": " +
                        (why.is_string() ? why.get<std::string>() : why.dump()) + "\n";
                modal_->to_ask.push_back(i);
            }
        }
        modal_->submitted = false;
        print(ansi("relbot says the form needs another look:", "1;31", color_) + "\n" + said);
        ask_next();
    } else if (type == "view_closed" && mine) {
        modal_.reset();
        print(ansi("(modal submitted and closed)", "2", color_) + "\n");
        pump();
    } else if (type == "home_published") {
        auto who = person_by_id(e.value("user_id", ""));
        auto name = who ? std::string(who->name) : e.value("user_id", "");
        print("\n" + (mine ? render_view(e["view"], color_)
                           : ansi("relbot updated @" + name + "'s App Home", "2", color_) + "\n"));
    } else if (type == "api_call" && e.value("method", "") == "chat.postEphemeral") {
        awaiting_modal_ = false;
        auto who = person_by_id(e["args"].value("user", ""));
        print("\n" + render_message("relbot → only @" + std::string(who ? who->name : "?"),
                                    e["args"], color_, false));
        pump();
    } else if (type == "message_updated" && e.value("ephemeral", false)) {
        print("\n" +
              render_message("relbot ✎ replaced its reply to you", e["message"], color_, false));
    } else if (type == "error" && e.value("op", "") == "click") {
        awaiting_modal_ = false;
        unanswered_.erase(e.value("envelope_id", ""));
        print("(sandbox) " + e.value("error", "") + "\n");
        pump();
    } else if (type == "error" && e.value("op", "") == "submit" && modal_) {
        modal_->submitted = false;
        print("(sandbox) " + e.value("error", "") + "\n");
    } else {
        return false;
    }
    return true;
}

}  // namespace relbot::sim
