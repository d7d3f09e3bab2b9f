// Text that the copies of a release share. A release is copied for every change to it (the
// snapshot it was decided on stays as it was), and an item's title and description, a
// template's words of up to a few hundred bytes, are the same in every copy: shared, a copy
// costs a reference count instead of an allocation and its free.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace relbot::checklist {

class shared_text {
public:
    shared_text() = default;
    shared_text(std::string text)  // NOLINT(google-explicit-constructor): text is text
        : text_(text.empty() ? nullptr : std::make_shared<const std::string>(std::move(text))) {}
    shared_text(const char* text) : shared_text(std::string(text)) {}  // NOLINT

    const std::string& str() const { return text_ ? *text_ : none(); }
    operator const std::string&() const { return str(); }  // NOLINT
    operator std::string_view() const { return str(); }    // NOLINT
    bool empty() const { return !text_; }

    friend bool operator==(const shared_text& a, const shared_text& b) {
        return a.text_ == b.text_ || a.str() == b.str();
    }
    friend bool operator==(const shared_text& a, std::string_view b) { return a.str() == b; }
    friend bool operator==(const shared_text& a, const std::string& b) { return a.str() == b; }
    friend bool operator==(const shared_text& a, const char* b) { return a.str() == b; }

private:
    static const std::string& none() {
        static const std::string empty;
        return empty;
    }
    std::shared_ptr<const std::string> text_;  // null: empty
};

}  // namespace relbot::checklist
