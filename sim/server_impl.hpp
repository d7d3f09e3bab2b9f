// relbot-sim's server state, shared by the files that make up the server: server.cpp
// (accepting, TLS, the HTTP loop and dispatch), socket_mode.cpp (WebSocket sessions),
// web_api.cpp (the Web API method table) and control.cpp (the control-op table).
// Private to sim/: nothing outside those files includes it.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/net.hpp"
#include "sim/server.hpp"

namespace relbot::sim {

namespace ssl = boost::asio::ssl;
namespace websocket = boost::beast::websocket;
using json = nlohmann::json;
using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

namespace detail {

// Compact JSON, invalid UTF-8 replaced rather than thrown on.
std::string dump(const json& j);

// Twelve hex digits from the system's random source, different in every sandbox session.
std::string random_session();

struct injected_failure {
    unsigned status = 200;
    std::string error;
    int retry_after = 1;
    std::string channel;  // only calls for this channel; empty: any
    int delay_ms = 0;     // answer late (with success unless status/error say otherwise)
};

struct ws_connection {
    ws_connection(int id_, ws_stream ws_) : id(id_), ws(std::move(ws_)), wake(ws.get_executor()) {}

    // `envelope_id` (if any) is stamped with the time just before the frame is written.
    void push(std::string text, std::string envelope_id = {}) {
        queue.push_back({std::move(text), std::move(envelope_id)});
        wake.cancel();
    }

    struct outgoing {
        std::string text;
        std::string envelope_id;
    };

    int id;
    ws_stream ws;
    std::deque<outgoing> queue;
    net::steady_timer wake;
    bool closing = false;
    bool silenced = false;  // neither reads (so pings go unanswered) nor writes
};

// "" if Slack would post a message with these blocks; else Slack's error name
// (invalid_blocks_format, invalid_blocks, msg_blocks_too_long) and `why` says what is wrong
// (slack::message_violation). Defined in web_api.cpp.
std::string blocks_error(const nlohmann::json& blocks, std::string& why);

// A trigger_id the sandbox handed out (with a slash command or a click): who it was for, when,
// and whether a view was opened with it (Slack lets each be used once, within 3 s).
struct trigger {
    std::string user;
    std::chrono::steady_clock::time_point issued;
    bool used = false;
};

// A view the sandbox holds: a user's open modal or their Home tab.
struct held_view {
    std::string user;
    nlohmann::json view;  // as Slack answers it: with id, hash, state
    // The last submission's `response_action: errors` ({block_id: message}), shown next to
    // the inputs until the view changes.
    nlohmann::json errors = nlohmann::json::object();
};

// What a response_url the sandbox gave out acts on: a slash command's (new ephemeral
// messages only) or a click's on a message (which it may also replace or delete).
struct hook {
    std::string user;
    std::string channel;
    std::string ts;          // the message clicked ("": a slash command's)
    bool ephemeral = false;  // that message is one of the user's ephemeral messages
    int posts = 0;
    std::chrono::steady_clock::time_point given = std::chrono::steady_clock::now();  // for trim
};

// A file uploaded through files.getUploadURLExternal, its upload_url and
// files.completeUploadExternal.
struct sim_file {
    std::string id;  // "F…"
    std::string name;
    std::size_t length = 0;  // as announced
    std::string alt_txt;
    std::string bytes;
    bool uploaded = false;  // the bytes came
    bool shared = false;    // completed
    std::string title;
    std::string channel;
    std::string ts;         // of the message that shares it
    long long created = 0;  // seconds
};

// A place a person may click: a message (in a channel, their DM, or ephemeral) or a view.
struct place {
    std::string ts;       // for ordering: newest first ("" for a view)
    std::string surface;  // "channel", "dm", "ephemeral", "home", "modal"
    std::string channel;
    const nlohmann::json* message = nullptr;  // the message, or the view
};

// An envelope the sandbox sent that it must follow up: its ack (a slash command's reply is an
// ephemeral message; a view_submission's says whether the modal closes) or its redelivery.
struct interaction {
    std::string kind;  // "slash", "click", "submit"
    std::string user;
    std::string channel;
    std::string view_id;
    nlohmann::json envelope;
    std::chrono::steady_clock::time_point sent = std::chrono::steady_clock::now();  // for trim
};

}  // namespace detail

struct server::impl : std::enable_shared_from_this<impl> {
    using ws_connection = detail::ws_connection;
    using connection_ptr = std::shared_ptr<ws_connection>;

    // What a Web API method's answer is given: the method's name and its arguments.
    struct call_context {
        const std::string& method;
        const json& args;
        // The argument `key` if it is a string, else "".
        std::string str(const char* key) const;
    };
    struct method_entry {
        std::string_view name;
        json (impl::*answer)(const call_context&);
    };
    struct op_entry {
        std::string_view name;
        void (impl::*run)(const json& op);
    };

    impl(net::io_context& ioc_, server_options opts_, event_sink sink_);

    long long now_us() const;
    void emit(json event);
    std::string base_url() const;

    // --- accepting and HTTP (server.cpp) ----------------------------------------------------
    static net::awaitable<void> accept_loop(std::shared_ptr<impl> self);
    static net::awaitable<void> serve(std::shared_ptr<impl> self, tcp::socket socket);
    http_response handle_http(const http_request& req);
    http_response handle_hook(const http_request& req, const std::string& path);
    // "" if the arguments could be read, else the error to answer with.
    static std::string read_args(const http_request& req, json& args);
    // "" if the caller's token may call `method`, else the error to answer with.
    std::string auth_error(const http_request& req, const std::string& method, const json& args);
    http_response answer_with_failure(const http_request& req,
                                      const std::string& method,
                                      const json& args,
                                      std::deque<detail::injected_failure>& armed);
    http_response api_response(const http_request& req,
                               const std::string& method,
                               const json& args,
                               unsigned status,
                               const json& body);
    static http_response text_response(const http_request& req,
                                       http::status status,
                                       const char* content_type,
                                       std::string body);

    // --- Socket Mode (socket_mode.cpp) -------------------------------------------------------
    static net::awaitable<void> serve_websocket(std::shared_ptr<impl> self,
                                                beast::ssl_stream<beast::tcp_stream> stream,
                                                http_request req);
    static net::awaitable<void> reject_websocket(std::shared_ptr<impl> self,
                                                 beast::ssl_stream<beast::tcp_stream>& stream,
                                                 const http_request& req);
    static net::awaitable<bool> send_hello(std::shared_ptr<impl> self, connection_ptr conn);
    // Reads the client's frames until the connection ends; returns why it ended.
    static net::awaitable<std::string> read_frames(std::shared_ptr<impl> self, connection_ptr conn);
    static net::awaitable<void> write_loop(std::shared_ptr<impl> self, connection_ptr conn);
    bool take_ticket(const http_request& req);
    void close_connection(const connection_ptr& conn, const std::string& reason);
    void on_client_frame(int connection,
                         const std::string& text,
                         std::chrono::steady_clock::time_point read_at);
    void observe_ack(std::string_view text, std::chrono::steady_clock::time_point read_at);
    void send_frame(const connection_ptr& conn, std::string text);
    connection_ptr pick_connection(const json& op);
    void deliver(const json& op, std::string text);

    // --- Web API methods (web_api.cpp) -------------------------------------------------------
    static std::span<const method_entry> method_table();
    json call_method(const std::string& method, const json& args);
    json apps_connections_open(const call_context& call);
    json auth_test(const call_context& call);
    json chat_post_message(const call_context& call);
    json chat_update(const call_context& call);
    json chat_get_permalink(const call_context& call);
    json users_info(const call_context& call);
    json pins_add(const call_context& call);
    json pins_remove(const call_context& call);
    json conversations_history(const call_context& call);
    json conversations_open(const call_context& call);
    // --- files (files.cpp) ---
    json files_get_upload_url_external(const call_context& call);
    json files_complete_upload_external(const call_context& call);
    json files_list(const call_context& call);
    // POST /upload/<file id>: the bytes; GET /files/<file id>/<name>: them back.
    http_response handle_upload(const http_request& req, const std::string& path);
    http_response handle_file_get(const http_request& req, const std::string& path);
    // --- views and ephemeral messages (interactions.cpp) ---
    json views_open(const call_context& call);
    json views_update(const call_context& call);
    json views_publish(const call_context& call);
    json chat_post_ephemeral(const call_context& call);
    // A fresh trigger_id for `user`, remembered with the time it was issued.
    std::string issue_trigger(const std::string& user);
    // "" if `id` may open a view now, else Slack's error for it.
    std::string trigger_error(const std::string& id) const;
    // Stores an ephemeral message for `user` in `channel`; its ts.
    std::string store_ephemeral(const std::string& user, const std::string& channel, json body);
    // What an ack says about an envelope the sandbox follows (interactions.cpp).
    void after_ack(const std::string& envelope_id, const json& payload);
    void after_submission_ack(const detail::interaction& sent, const json& payload);
    // A post to a response_url: its HTTP status and body (interactions.cpp).
    std::pair<http::status, std::string> apply_hook(const std::string& path, const json& body);
    // Counts a post to `channel` against its pace; false (and paced_out set) when over it.
    bool within_pace(const std::string& channel);
    std::string next_ts();

    // --- control ops (control.cpp) -----------------------------------------------------------
    static std::span<const op_entry> op_table();
    void control(const json& op);
    void op_error(const json& op, std::string message);
    void op_slash_command(const json& op);
    void op_send(const json& op);
    void op_disconnect(const json& op);
    void op_drop(const json& op);
    void op_silence(const json& op);
    void op_set_user(const json& op);
    void op_delete_message(const json& op);
    void op_spread(const json& op);
    void op_hello_delay(const json& op);
    void op_fail(const json& op);
    void op_calls(const json& op);
    void op_connections(const json& op);
    void op_trim(const json& op);
    // --- clicks, submissions, App Home (control_interactive.cpp) ---
    void op_click(const json& op);
    void op_submit(const json& op);
    void op_home_opened(const json& op);
    void op_expire_triggers(const json& op);
    void op_view_of(const json& op);
    void op_messages(const json& op);
    void op_close_view(const json& op);
    void click_by_id(const json& op);
    void redeliver(const json& op, const std::string& envelope_id);
    json interactive_payload(const std::string& type, const std::string& user);
    json interactive_envelope(const json& op, json payload, bool accepts_response);
    json click_payload(const json& op, const json& action);
    std::vector<detail::place> places_of(const std::string& user,
                                         const std::string& in,
                                         const std::string& channel);
    void send_click(const json& op, const detail::place& p, const json& action);
    std::string next_envelope_id();

    net::io_context& ioc;
    server_options opts;
    event_sink sink;
    test_pki pki;
    ssl::context tls;
    tcp::acceptor acceptor;
    std::set<std::string> tickets;
    std::vector<connection_ptr> connections;
    std::deque<std::string> waiting;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> sent_at;
    std::map<std::string, std::deque<detail::injected_failure>> failures;
    std::map<std::string, std::map<std::string, json>> messages;
    json calls = json::array();
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::map<std::string, int> time_zones;  // user -> tz_offset seconds (users.info)
    bool paced_out = false;                 // set by call_method when a channel's pace was exceeded
    std::chrono::milliseconds response_delay{};  // set by handle_http for the answer at hand
    std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> channel_posts;
    std::set<std::pair<std::string, std::string>> pins;
    std::map<std::string, detail::sim_file> files;  // file id →
    long next_file = 1;
    bool spread = false;  // round-robin envelopes over the open connections
    std::size_t next_spread = 0;
    int hello_delay_ms = 0;  // wait this long before saying hello
    int next_connection = 1;
    long next_envelope = 1;
    long next_ticket = 1;
    long long last_ts_us = 0;
    std::string session = detail::random_session();
    // Interactions (interactions.cpp, control_interactive.cpp).
    bool triggers_born_expired = false;                             // expire_triggers with from_now
    std::map<std::string, detail::trigger> triggers;                // trigger_id →
    std::map<std::string, detail::held_view> views;                 // view_id →
    std::map<std::string, std::string> modal_of;                    // user → view_id
    std::map<std::string, std::string> home_of;                     // user → view_id
    std::map<std::string, std::map<std::string, json>> ephemerals;  // user → ts → message
    std::map<std::string, detail::hook> hooks;                      // response_url path →
    std::map<std::string, detail::interaction> interactions;        // envelope_id →
    std::string last_click;                                         // its envelope_id
    long next_view = 1;
    long next_hook = 1;
    long next_trigger = 1;
    long next_hash = 1;
};

}  // namespace relbot::sim
