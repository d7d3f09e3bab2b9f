// Serialized JSON that many holders share without copying: an acknowledgement's payload is
// rendered once (a remembered `status` reply is 8–9 KB with its buttons) and then handed to
// every envelope that asks for it, queued on a socket and written from the same bytes.
// Header-only and pure, like block_kit.hpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace relbot::slack {

class json_text {
public:
    json_text() : text_(empty_text()) {}
    json_text(std::string text)  // NOLINT(google-explicit-constructor): JSON text is text
        : text_(std::make_shared<const std::string>(std::move(text))) {}
    json_text(const char* text) : json_text(std::string(text)) {}  // NOLINT

    const std::string& str() const { return *text_; }
    operator const std::string&() const { return *text_; }  // NOLINT
    bool empty() const { return text_->empty(); }

    // The same bytes, not only equal ones: a copy shares its original's.
    bool shares(const json_text& other) const { return text_ == other.text_; }

    friend bool operator==(const json_text& a, std::string_view b) { return a.str() == b; }
    friend bool operator==(const json_text& a, const char* b) { return a.str() == b; }
    friend bool operator==(const json_text& a, const std::string& b) { return a.str() == b; }
    friend bool operator==(const json_text& a, const json_text& b) {
        return a.shares(b) || a.str() == b.str();
    }

private:
    static const std::shared_ptr<const std::string>& empty_text() {
        static const auto none = std::make_shared<const std::string>();
        return none;
    }
    std::shared_ptr<const std::string> text_;
};

}  // namespace relbot::slack
