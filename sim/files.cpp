// relbot-sim's file uploads, as Slack's upload flow works: files.getUploadURLExternal hands out
// an upload_url (on the sandbox itself), the bytes are POSTed there, files.completeUploadExternal
// shares the file in a channel (a message carrying it, with the initial comment), and
// files.list finds it again. The sandbox keeps the bytes and serves them back at
// /files/<id>/<name> (the browser sandbox shows images inline and files as downloads).
#include <algorithm>
#include <chrono>

#include "sim/cast.hpp"
#include "sim/server_impl.hpp"

namespace relbot::sim {
namespace {

json error_answer(const std::string& error) {
    return {{"ok", false}, {"error", error}};
}

bool is_png(const std::string& bytes) {
    return bytes.size() > 24 && bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0;
}

std::uint32_t be32(const std::string& b, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

std::string mimetype_of(const detail::sim_file& f) {
    if (is_png(f.bytes)) {
        return "image/png";
    }
    return f.name.ends_with(".md") ? "text/markdown" : "application/octet-stream";
}

}  // namespace

json server::impl::files_get_upload_url_external(const call_context& call) {
    auto name = call.str("filename");
    auto length_text = call.str("length");
    if (name.empty()) {
        return error_answer("invalid_arguments");
    }
    if (length_text.empty() || length_text.find_first_not_of("0123456789") != std::string::npos ||
        length_text.size() > 10) {
        return error_answer("invalid_arguments");
    }
    detail::sim_file f;
    f.id = "F0SIM" + std::to_string(next_file++);
    f.name = name;
    f.length = std::stoul(length_text);
    f.alt_txt = call.str("alt_txt");
    f.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    auto id = f.id;
    auto url = base_url() + "/upload/" + id;
    files[id] = std::move(f);
    return {{"ok", true}, {"upload_url", url}, {"file_id", id}};
}

http_response server::impl::handle_upload(const http_request& req, const std::string& path) {
    auto id = path.substr(std::string("/upload/").size());
    auto it = files.find(id);
    if (it == files.end() || it->second.uploaded) {
        return text_response(req, http::status::not_found, "text/plain", "no such upload");
    }
    auto& f = it->second;
    if (req.body().size() != f.length) {
        emit({{"event", "file_upload_refused"},
              {"file_id", id},
              {"expected", f.length},
              {"got", req.body().size()}});
        return text_response(req, http::status::bad_request, "text/plain", "length does not match");
    }
    f.bytes = req.body();
    f.uploaded = true;
    emit({{"event", "file_uploaded"}, {"file_id", id}, {"size", f.bytes.size()}});
    return text_response(req, http::status::ok, "text/plain",
                         "OK - " + std::to_string(f.bytes.size()));
}

std::optional<server::shared_file> server::file(const std::string& id) const {
    auto it = impl_->files.find(id);
    if (it == impl_->files.end() || !it->second.shared) {
        return std::nullopt;
    }
    return shared_file{it->second.bytes, mimetype_of(it->second)};
}

http_response server::impl::handle_file_get(const http_request& req, const std::string& path) {
    auto rest = path.substr(std::string("/files/").size());
    auto id = rest.substr(0, rest.find('/'));
    auto it = files.find(id);
    if (it == files.end() || !it->second.shared) {
        return text_response(req, http::status::not_found, "text/plain", "no such file");
    }
    auto type = mimetype_of(it->second);
    return text_response(req, http::status::ok, type.c_str(), it->second.bytes);
}

json server::impl::files_complete_upload_external(const call_context& call) {
    json list = call.args.contains("files") ? call.args["files"] : json();
    if (list.is_string()) {
        list = json::parse(list.get<std::string>(), nullptr, false);
    }
    if (!list.is_array() || list.empty()) {
        return error_answer("invalid_arguments");
    }
    auto channel = call.str("channel_id");
    if (channel.starts_with("U") || channel.starts_with("W")) {
        channel = dm_channel_of(channel);
    }
    json shared = json::array();
    json attached = json::array();
    for (const auto& entry : list) {
        auto id = entry.is_object() ? entry.value("id", "") : std::string();
        auto it = files.find(id);
        if (it == files.end()) {
            return error_answer("file_not_found");
        }
        if (!it->second.uploaded) {
            return error_answer("file_upload_not_complete");  // no bytes came to its upload_url
        }
        auto& f = it->second;
        f.title = entry.value("title", f.name);
        f.shared = !channel.empty();
        f.channel = channel;
        json file = {{"id", f.id},
                     {"name", f.name},
                     {"title", f.title},
                     {"mimetype", mimetype_of(f)},
                     {"size", f.bytes.size()},
                     {"url_private", base_url() + "/files/" + f.id + "/" + f.name},
                     {"alt_txt", f.alt_txt}};
        if (is_png(f.bytes)) {
            file["original_w"] = be32(f.bytes, 16);
            file["original_h"] = be32(f.bytes, 20);
        }
        attached.push_back(file);
        shared.push_back({{"id", f.id}, {"title", f.title}});
    }
    if (!channel.empty()) {
        auto ts = next_ts();
        json message = {{"type", "message"},
                        {"subtype", "file_share"},
                        {"ts", ts},
                        {"bot_id", "B0BOT"},
                        {"text", call.str("initial_comment")},
                        {"files", attached}};
        if (auto thread = call.str("thread_ts"); !thread.empty()) {
            message["thread_ts"] = thread;
        }
        messages[channel][ts] = message;
        for (const auto& a : attached) {
            auto& f = files[a.value("id", "")];
            f.ts = ts;
            json event = {{"event", "file_shared"},
                          {"channel", channel},
                          {"ts", ts},
                          {"file", a},
                          {"initial_comment", call.str("initial_comment")}};
            if (a.value("mimetype", "") == "text/markdown") {
                event["text"] = f.bytes;  // the tests read what a report file holds
            }
            emit(std::move(event));
        }
    }
    return {{"ok", true}, {"files", shared}};
}

json server::impl::files_list(const call_context& call) {
    auto channel = call.str("channel");
    long long from = 0;
    if (auto t = call.str("ts_from");
        !t.empty() && t.find_first_not_of("0123456789") == std::string::npos && t.size() < 15) {
        from = std::stoll(t);
    }
    json list = json::array();
    for (const auto& [id, f] : files) {
        if (!f.shared || (!channel.empty() && f.channel != channel) || f.created < from) {
            continue;
        }
        list.push_back({{"id", f.id},
                        {"name", f.name},
                        {"title", f.title},
                        {"created", f.created},
                        {"channels", json::array({f.channel})}});
    }
    return {{"ok", true},
            {"files", list},
            {"paging", {{"count", list.size()}, {"total", list.size()}}}};
}

}  // namespace relbot::sim
